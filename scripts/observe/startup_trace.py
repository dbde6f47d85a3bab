"""The startup traces of the bench consumers (issue 12 §2, docs/OBSERVING.md "Startup tracing"):
each consumer, started with `--trace FILE --exec-ns T`, writes the phases of its start as Chrome
trace JSON. Checked as the Trace Event Format's viewers (chrome://tracing, Perfetto's UI) read it:
a JSON object with a `traceEvents` array of complete ("X") events, each with a name, integer pid
and tid, and `ts`/`dur` in microseconds; here, besides, the phases of one start, in order, back to
back, the first starting at the exec time given."""
import json, os, subprocess, time

PHASES = ["exec → main", "open (map + register)", "registered → first hit", "first hit → 99 % served"]


def problems(doc, exec_ns):
    """What is wrong with one trace file's content (empty when it is right)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["not an object with a traceEvents array"]
    out = []
    ev = doc["traceEvents"]
    if doc.get("displayTimeUnit") not in (None, "ms", "ns"):
        out.append(f"displayTimeUnit {doc.get('displayTimeUnit')!r} is neither ms nor ns")
    for e in ev:
        if not (isinstance(e, dict) and isinstance(e.get("name"), str) and e.get("ph") == "X"
                and isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int)
                and all(isinstance(e.get(k), (int, float)) and not isinstance(e.get(k), bool) for k in ("ts", "dur"))):
            out.append(f"not a complete event with name, pid, tid, ts, dur: {e}")
        elif e["dur"] < 0:
            out.append(f"negative duration: {e}")
    if out:
        return out
    if [e["name"] for e in ev] != PHASES:
        out.append(f"phases {[e['name'] for e in ev]}, expected {PHASES}")
    for a, b in zip(ev, ev[1:]):
        if abs(a["ts"] + a["dur"] - b["ts"]) > 1:  # µs; ts ~1.8e15 µs is exact in a double to ~0.25 µs
            out.append(f"{a['name']!r} ends at {a['ts'] + a['dur']} but {b['name']!r} starts at {b['ts']}")
    if ev and abs(ev[0]["ts"] - exec_ns / 1e3) > 1:
        out.append(f"the first phase starts at {ev[0]['ts']} µs, not at the exec time {exec_ns / 1e3}")
    if len({(e["pid"], e["tid"]) for e in ev}) > 1:
        out.append("the phases of one start are on more than one pid/tid")
    return out


def check_startup_traces(root, check, seg_path, children):
    consumers = {"go": os.path.join(root, ".build/fixtures/warmcache-go-consumer"),
                 "rust": os.path.join(root, "rust-fixture/target/release/warmcache-consumer")}
    n = 2000
    for lang, binary in consumers.items():
        seg, trace = seg_path(f"trace-{lang}"), seg_path(f"trace-{lang}.json")
        producer = subprocess.Popen([binary, "produce", seg, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        children.append(producer)
        ready = producer.stdout.readline().strip()
        check(f"{lang} consumer: the producer is ready", ready == "ready", ready)
        exec_ns = time.time_ns()
        r = subprocess.run([binary, "warm", seg, str(n), "--trace", trace, "--exec-ns", str(exec_ns)],
                           capture_output=True, text=True, timeout=60)
        producer.stdin.close()
        producer.wait(timeout=30)
        check(f"{lang} consumer: warm start with --trace exits 0", r.returncode == 0, r.stderr)
        try:
            with open(trace) as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as e:
            check(f"{lang} consumer: the trace is a JSON file", False, e)
            continue
        bad = problems(doc, exec_ns)
        check(f"{lang} consumer: the trace is Chrome trace JSON of the four phases of the start", not bad, bad)
    # The checker itself rejects what a viewer would not show: shown once, on a broken copy.
    check("trace check: an event without ph \"X\" is refused",
          problems({"traceEvents": [{"name": PHASES[0], "ph": "B", "pid": 1, "tid": 1, "ts": 0, "dur": 1}]}, 0) != [])
