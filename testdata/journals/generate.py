import json, subprocess, sys, os, shutil
lang, binary = sys.argv[1], sys.argv[2]
store = f"/tmp/closeout/store-{lang}"; shutil.rmtree(store, ignore_errors=True)
seg = f"/dev/shm/closeout-journal-{lang}"
if os.path.exists(seg): os.remove(seg)
geo = {"shard_count": 2, "slots_per_shard": 8, "key_capacity": 16, "value_capacity": 64, "probe_window": 4, "participant_capacity": 8}
reqs = [("hello", {}), ("restore", {"path": seg, "geometry": geo, "store_dir": store, "fsync": "none", "sim_clock_ns": 1000000000000})]
for i in range(6):
    reqs.append(("put", {"key_hex": (b"key%d" % i).hex(), "value_hex": (b"value-%d-" % i * (i + 1)).hex(), "ttl_ns": 5000000000 * (i % 3), "grace_ns": 1000000000 * (i % 2), "origin_tag": i, "durable": True}))
reqs.append(("invalidate", {"key_hex": b"key1".hex(), "durable": True}))
reqs.append(("put", {"key_hex": b"key2".hex(), "value_hex": b"again".hex(), "version": 18446744073709551000, "durable": True}))
reqs.append(("refresh", {"key_hex": b"key3".hex(), "value_hex": b"refreshed".hex(), "durable": True}))
reqs.append(("evict", {"key_hex": b"key4".hex(), "durable": True}))
reqs.append(("put", {"key_hex": b"k".hex(), "value_hex": "", "durable": True}))
reqs.append(("journal_state", {}))
reqs.append(("close", {}))
p = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
out = []
for i, (op, a) in enumerate(reqs):
    p.stdin.write(json.dumps({"id": i + 1, "op": op, "args": a}) + "\n"); p.stdin.flush()
    line = p.stdout.readline(); out.append(line.strip())
    if '"outcome":"ok"' not in line.replace(" ", ""): print(op, line.strip()[:300])
p.stdin.close(); p.wait()
print(out[-2][:300])
os.remove(seg)
print(os.listdir(store))
