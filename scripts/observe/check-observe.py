#!/usr/bin/env python3
"""End-to-end checks of `warmcheck stats`, `exporter` and `entries` (docs/OBSERVING.md) against
live segments written by the Go and Rust reference fixtures. Every number warmcheck reads from the
mapping is compared with the fixture's own `stats`/`dump` answer (another implementation's
reading); the exporter is scraped over HTTP and parsed by prometheus_client's parser (and, when
installed, `promtool check metrics`). Prints one line per check and `observe: N passed, M failed`
(scripts/count-tests.sh `line:observe`). Leaves no process and no segment behind.

Usage: scripts/observe/check-observe.py [WARMCHECK]   (default .build/debug/warmcheck)"""
import json, os, shutil, subprocess, sys, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Fixture  # noqa: E402
from startup_trace import check_startup_traces  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WARMCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/warmcheck"))
FIXTURES = {"go": [os.path.join(ROOT, ".build/fixtures/warmcache-go-fixture")],
            "rust": [os.path.join(ROOT, "rust-fixture/target/release/warmcache-fixture")]}
COUNTERS = ["hits", "misses", "stale_hits", "inserts", "refreshes", "evictions", "invalidations", "expirations", "reclaims"]
WORK = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
TAG = f"observe-check-{os.getpid()}"

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # scripts/setup.sh installs Debian's python3-prometheus-client, which a python3 other than
    # Debian's (pyenv) does not see on its path.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

passed, failed = 0, 0
children = []


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def warmcheck(*args, timeout=30):
    return subprocess.run([WARMCHECK, *args], capture_output=True, text=True, timeout=timeout)


def seg_path(name):
    return os.path.join(WORK, f"{TAG}-{name}.seg")


def wait_exit(p, seconds):
    """The exit status within `seconds`, else None (and the process is killed, so that its pipes
    can be read to the end)."""
    try:
        return p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def start_exporter(*segments, listen="127.0.0.1:0"):
    p = subprocess.Popen([WARMCHECK, "exporter", "--listen", listen, *segments], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    children.append(p)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        return p, None
    return p, line[len("listening on "):]


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} from a scrape, via the real parser."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def total(metrics, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in metrics.items() if n == name and want <= set(ls))


def main():
    fixtures = {}
    try:
        for lang, argv in FIXTURES.items():
            f = Fixture(argv)
            fixtures[lang] = f
            f.create(seg_path(lang))
            f.workload(300, seed={"go": 1, "rust": 2}[lang])

        go, rust = fixtures["go"], fixtures["rust"]
        gstats = go.stats()

        # stats --json against the fixture's own counters and occupancy (idle fixture: exact).
        r = warmcheck("stats", seg_path("go"), "--json")
        check("stats --json exits 0", r.returncode == 0, r.stderr)
        js = json.loads(r.stdout)
        check("stats totals equal the go fixture's stats", all(js["totals"][c] == gstats["totals"][c] for c in COUNTERS),
              f"{js['totals']} vs {gstats['totals']}")
        check("stats per-shard counters equal the fixture's",
              all(js["shards"][i]["counters"][c] == gstats["shards"][i][c] for i in range(4) for c in COUNTERS))
        occ = gstats["totals"]["occupancy"]
        check("stats occupancy equals the fixture's", all(js["occupancy"][k] == v for k, v in occ.items()), f"{js['occupancy']} vs {occ}")
        live = [p for p in js["participants"] if p["alive"]]
        check("the fixture is the one alive participant, language go",
              len(live) == 1 and live[0]["pid"] == go.pid and live[0]["language"] == "go", js["participants"])

        # One Prometheus scrape from the command line, parsed.
        r = warmcheck("stats", seg_path("go"), "--prometheus")
        m = samples(r.stdout)
        check("--prometheus gets_total{result=hit|stale|miss} equal hits, stale_hits, misses",
              total(m, "warmcache_gets_total", result="hit") == gstats["totals"]["hits"]
              and total(m, "warmcache_gets_total", result="stale") == gstats["totals"]["stale_hits"]
              and total(m, "warmcache_gets_total", result="miss") == gstats["totals"]["misses"])
        check("--prometheus entries{state=ready} equals READY", total(m, "warmcache_entries", state="ready") == occ["READY"])
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=r.stdout, capture_output=True, text=True)
            # promtool parses and lints (names, units, _total on counters): silent and 0 when clean.
            check("promtool check metrics: parsed, no lint finding", p.returncode == 0 and not (p.stdout + p.stderr).strip(),
                  p.stdout + p.stderr)

        # stats --watch, piped: one line per interval, rates from the second on; gets in between show up.
        w = subprocess.Popen([WARMCHECK, "stats", seg_path("go"), "--watch", "--interval", "0.3", "--count", "3", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children.append(w)
        for _ in range(20):
            go.call("get", key_hex="key-1".encode().hex())
        out, err = w.communicate(timeout=30)
        lines = [json.loads(x) for x in out.splitlines()]
        check("--watch piped writes one JSON line per interval", len(lines) == 3 and w.returncode == 0, out + err)
        check("--watch rates appear from the second reading", "rates" not in lines[0] and "rates" in lines[1])
        check("--watch sees the gets made meanwhile", sum(lines[-1]["totals"][c] for c in ("hits", "misses", "stale_hits"))
              >= sum(gstats["totals"][c] for c in ("hits", "misses", "stale_hits")) + 20)

        # The dashboard, drawn from the --watch lines just recorded.
        rec = seg_path("watch.jsonl")
        with open(rec, "w") as fh:
            fh.write(out)
        page = seg_path("dash.html")
        r = warmcheck("dashboard", "--from", rec, "--out", page)
        html = open(page).read() if r.returncode == 0 else ""
        check("dashboard --from: a page with three charts and no script or fetched resource",
              html.count("<svg") == 3 and "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", ""),
              r.stderr)
        with open(rec, "a") as fh:
            fh.write("{\"oops\": 1}\n")
        r = warmcheck("dashboard", "--from", rec, "--out", page)
        check("dashboard --from a line that is no reading: exit 2 naming the line", r.returncode == 2 and ":4:" in r.stderr, r.stderr)

        # entries against the fixture's dump.
        dump = {e["key_hex"]: e for e in go.dump()}
        r = warmcheck("entries", seg_path("go"), "--json", "--limit", "0")
        ej = json.loads(r.stdout)
        keys = {e["key_hex"]: e for e in ej["entries"]}
        check("entries lists the keys dump lists", set(keys) == set(dump), f"{sorted(keys)} vs {sorted(dump)}")
        check("entries versions, origins and writers equal dump's",
              all(keys[k]["version"] == d["version"] and keys[k]["origin_tag"] == d["origin_tag"]
                  and keys[k]["writer"]["pid"] == d["writer"]["pid"] and keys[k]["writer"]["language_code"] == d["writer"]["language"]
                  and keys[k]["writer"]["start_time"] == d["writer"]["start_time"] for k, d in dump.items() if k in keys))
        r = warmcheck("entries", seg_path("go"), "--json", "--limit", "0", "--origin", "7", "--language", "go")
        fj = json.loads(r.stdout)
        want7 = sum(1 for d in dump.values() if d["origin_tag"] == 7)
        check("entries --origin 7 --language go keeps exactly dump's origin-7 entries",
              fj["matched"] == want7 and all(e["origin_tag"] == 7 for e in fj["entries"]), f"{fj['matched']} vs {want7}")
        check("entries summary: one writer, the go fixture, with every matched entry",
              len(ej["writers"]) == 1 and ej["writers"][0]["writer"]["pid"] == go.pid and ej["writers"][0]["entries"] == len(dump))

        # The exporter, two segments of two implementations, scraped over HTTP.
        rstats = rust.stats()
        exp, base = start_exporter(seg_path("go"), seg_path("rust"))
        check("exporter starts and prints its address", base is not None)
        if base:
            status, ctype, text = scrape(base)
            m = samples(text)
            ok = status == 200 and ctype.startswith("text/plain; version=0.0.4")
            for lang, st in (("go", go.stats()), ("rust", rstats)):
                for c, (name, labels) in {"hits": ("warmcache_gets_total", {"result": "hit"}),
                                          "misses": ("warmcache_gets_total", {"result": "miss"}),
                                          "inserts": ("warmcache_inserts_total", {}),
                                          "invalidations": ("warmcache_invalidations_total", {})}.items():
                    ok = ok and total(m, name, segment=seg_path(lang), **labels) == st["totals"][c]
            check("exporter /metrics: both segments' counters equal their fixtures' stats", ok, text[:400])
            check("exporter: participants{state=alive} is 1 per segment",
                  all(total(m, "warmcache_participants", segment=seg_path(l), state="alive") == 1 for l in ("go", "rust")))
            try:
                scrape(base.replace("/metrics", "/other"))
                check("exporter answers 404 elsewhere", False, "got 200")
            except urllib.error.HTTPError as e:
                check("exporter answers 404 elsewhere", e.code == 404, str(e))

            # Port in use: a second exporter on the same address.
            second = subprocess.run([WARMCHECK, "exporter", "--listen", base.split("/")[2], seg_path("go")],
                                    capture_output=True, text=True, timeout=20)
            check("a port in use: exit 2 and a message saying so", second.returncode == 2 and "in use" in second.stderr,
                  f"{second.returncode} {second.stderr}")

            # A segment deleted while exported: exit 1 within a few seconds, naming it.
            os.unlink(seg_path("rust"))
            code = wait_exit(exp, 10)
            err = exp.stderr.read()
            check("a segment deleted while exported: exit 1 naming it", code == 1 and seg_path("rust") in err and "deleted" in err,
                  f"{code} {err}")

        # A segment deleted while watched.
        w = subprocess.Popen([WARMCHECK, "stats", seg_path("go"), "--watch", "--interval", "0.2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children.append(w)
        time.sleep(1.0)
        os.unlink(seg_path("go"))
        code = wait_exit(w, 10)
        err = w.stderr.read()
        check("a segment deleted while watched: exit 1 naming it", code == 1 and "deleted" in err, f"{code} {err}")

        # After the fixture dies its entry shows as gone (the liveness lock is released by the kernel).
        fixtures.pop("go").close()
        go2 = Fixture(FIXTURES["go"])
        fixtures["go2"] = go2
        go2.create(seg_path("go2"))
        go2.close()
        fixtures.pop("go2")
        js = json.loads(warmcheck("stats", seg_path("go2"), "--json").stdout)
        check("a dead participant shows as gone", [p["alive"] for p in js["participants"]] == [False], js["participants"])

        # Not a segment.
        junk = seg_path("junk")
        with open(junk, "wb") as fh:
            fh.write(b"x" * 8192)
        r = warmcheck("stats", junk)
        check("not a segment: exit 2 with the refusal code", r.returncode == 2 and "bad_magic" in r.stderr, r.stderr)
        r = warmcheck("exporter", "--listen", "127.0.0.1:0", junk)
        check("exporter refuses a file that is not a segment: exit 2", r.returncode == 2 and "bad_magic" in r.stderr, r.stderr)
        r = warmcheck("exporter", "--listen", "localhost:x", junk)
        check("exporter: a bad --listen is a usage error", r.returncode == 2 and "--listen" in r.stderr, r.stderr)

        # The bench consumers' startup traces (Chrome trace JSON).
        check_startup_traces(ROOT, check, seg_path, children)
    finally:
        for f in fixtures.values():
            f.close()
        for p in children:
            if p.poll() is None:
                p.kill()
                p.wait()
        for name in os.listdir(WORK):
            if name.startswith(TAG):
                os.unlink(os.path.join(WORK, name))
    print(f"observe: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    if text_string_to_metric_families is None:
        print("observe: 0 passed, 1 failed\nprometheus_client is missing (scripts/setup.sh installs python3-prometheus-client)")
        sys.exit(1)
    sys.exit(main())
