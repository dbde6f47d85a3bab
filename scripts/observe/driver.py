"""A reference fixture driven over the JSON-lines driver contract (docs/DRIVER.md), to put a
known workload into a segment for the observing commands' checks (check-observe.py) and demos.
The fixture is an independent implementation: its own `stats` and `dump` answers are what
warmcheck's live readings are compared with."""
import json, random, subprocess

GEOMETRY = dict(shard_count=4, slots_per_shard=16, key_capacity=32, value_capacity=64,
                probe_window=8, participant_capacity=8)


class Fixture:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv + ["serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.n = 0
        self.call("hello", trace=False)

    @property
    def pid(self):
        return self.p.pid

    def call(self, op, **args):
        self.n += 1
        self.p.stdin.write(json.dumps({"id": self.n, "op": op, "args": args}) + "\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"fixture exited during {op}")
            r = json.loads(line)
            if r.get("id") == self.n:
                return r

    def create(self, path, **geometry):
        r = self.call("create", path=path, geometry=dict(GEOMETRY, **geometry))
        if r.get("outcome") != "ok":
            raise RuntimeError(f"create {path}: {r}")

    def workload(self, ops, seed=1, keys=40):
        """Mixed puts (origin tags 7 and 9, a third with a 1 h TTL), gets and invalidates."""
        rng = random.Random(seed)
        names = [f"key-{i}".encode().hex() for i in range(keys)]
        for i in range(ops):
            k, x = rng.choice(names), rng.random()
            if x < 0.4:
                self.call("put", key_hex=k, value_hex=("%02x" % (i % 256)) * 8, origin_tag=7 if i % 2 else 9,
                          ttl_ns=0 if i % 3 else 3_600_000_000_000)
            elif x < 0.95:
                self.call("get", key_hex=k)
            else:
                self.call("invalidate", key_hex=k)
        return names

    def stats(self):
        return self.call("stats")["result"]

    def dump(self):
        return self.call("dump")["result"]["entries"]

    def close(self):
        self.p.kill()
        self.p.wait()
