#!/usr/bin/env python3
"""Drives a reference fixture over the JSON-lines driver (docs/DRIVER.md) to put a known workload
in a segment, for the observing commands' tests and demos. Usage:
  drive.py FIXTURE SEGMENT [--ops N] [--hold SECONDS] [--seed S]
Creates SEGMENT (4 shards x 16 slots), runs N mixed puts/gets/invalidates, prints the fixture's
own `stats` answer as one JSON line, then holds the segment open (alive participant) for
--hold seconds, doing more gets, and exits. The fixture process is killed on exit."""
import json, random, subprocess, sys, time

def main():
    args = sys.argv[1:]
    fixture, seg = args[0], args[1]
    opts = dict(zip(args[2::2], args[3::2]))
    ops, hold, seed = int(opts.get("--ops", 300)), float(opts.get("--hold", 0)), int(opts.get("--seed", 1))
    rng = random.Random(seed)
    p = subprocess.Popen([fixture, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    n = [0]
    def call(op, **a):
        n[0] += 1
        p.stdin.write(json.dumps({"id": n[0], "op": op, "args": a}) + "\n"); p.stdin.flush()
        while True:
            line = p.stdout.readline()
            if not line: raise SystemExit(f"fixture exited during {op}")
            r = json.loads(line)
            if r.get("id") == n[0]: return r
    try:
        call("hello", trace=False)
        r = call("create", path=seg, geometry=dict(shard_count=4, slots_per_shard=16, key_capacity=32,
                 value_capacity=64, probe_window=8, participant_capacity=8))
        assert r.get("outcome") == "ok", r
        keys = [f"key-{i}".encode().hex() for i in range(40)]
        for i in range(ops):
            k = rng.choice(keys); x = rng.random()
            if x < 0.4: call("put", key_hex=k, value_hex=("%02x" % (i % 256)) * 8, origin_tag=7 if i % 2 else 9, ttl_ns=0 if i % 3 else 3_600_000_000_000)
            elif x < 0.95: call("get", key_hex=k)
            else: call("invalidate", key_hex=k)
        print(json.dumps(call("stats")), flush=True)
        end = time.time() + hold
        while time.time() < end:
            call("get", key_hex=rng.choice(keys)); time.sleep(0.01)
    finally:
        p.kill(); p.wait()

main()
