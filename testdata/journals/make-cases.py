#!/usr/bin/env python3
"""Writes testdata/journal-cases.json: edge cases of PERSISTENCE.md §9 built from the base
journals (go.wcj, rust.wcj: real files written by the Go and Rust fixtures, see generate.py),
each decoded through the C ABI's wc_decode_journal of both libraries (docs/ABI.md "Journals").
It refuses to write the file unless both libraries give the same answer for every case, and
records that answer. Go's own test (go-fixture/warmcache: TestJournalCases), the Rust crate's
(tests/durable.rs: journal_cases) and every `warmcheck fuzz --journals` run check it.

    scripts/build-abi.sh && python3 testdata/journals/make-cases.py   # then review and commit
"""
import ctypes, json, os, struct, sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBS = {"go": f"{root}/.build/abi/libwarmcache_go_abi.so", "rust": f"{root}/rust-fixture/abi/target/release/libwarmcache_abi.so"}
CODES = ["ok", "not_a_journal", "unsupported_format", "bad_header_checksum", "other_geometry",
         "torn_record", "bad_record", "bad_checksum", "seq_gap", "no_end"]
SEED = 0x574A524E4C534544
libs = {}
for name, path in LIBS.items():
    l = ctypes.CDLL(path)
    l.wc_decode_journal.restype = ctypes.c_int32
    l.wc_decode_journal.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]
    l.wc_wch64.restype = ctypes.c_uint64
    l.wc_wch64.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.c_uint64]
    libs[name] = l

def wch64(b, seed): return libs["rust"].wc_wch64(bytes(b), len(b), seed)
def u64(b, o): return struct.unpack_from("<Q", b, o)[0]
def put64(b, o, v): struct.pack_into("<Q", b, o, v & (2**64 - 1))
def seal_header(b): put64(b, 88, wch64(b[:88], SEED))
def seal(b, off, seed=SEED):
    n = struct.unpack_from("<I", b, off)[0]
    put64(b, off + n - 8, wch64(b[off:off + n - 8], seed))
def records(b):
    out, off = [], 96
    while off + 8 <= len(b):
        n = struct.unpack_from("<I", b, off)[0]
        if n < 88 or off + n > len(b): break
        out.append((off, n)); off += n
    return out

base = {n: bytearray(open(f"{root}/testdata/journals/{n}.wcj", "rb").read()) for n in ("go", "rust")}
geometry = [u64(base["go"], 16), u64(base["go"], 24), u64(base["go"], 32)]
cases = []
def case(name, image, any_geometry=False):
    cases.append((name, bytes(image), any_geometry))

for n in ("go", "rust"):
    case(f"{n} journal as written: every record accepted, two tombstones", base[n])
g = base["go"]; recs = records(g)
case("95 bytes: shorter than the header", g[:95])
b = bytearray(g); put64(b, 0, 0x4C4E524A4D524156); seal_header(b); case("magic off by one bit, header resealed", b)
b = bytearray(g); put64(b, 8, 2 | 96 << 32); seal_header(b); case("format major 2", b)
b = bytearray(g); put64(b, 8, 1 | 88 << 32); seal_header(b); case("header size 88", b)
b = bytearray(g); put64(b, 8, 1 | 1 << 16 | 96 << 32); seal_header(b); case("format minor 1: read as 1.0", b)
b = bytearray(g); b[70] ^= 1; case("participant word flipped, header not resealed", b)
b = bytearray(g); put64(b, 16, u64(b, 16) + 1); seal_header(b); case("another valid geometry (3 shards) than the restoring one", b)
case("another valid geometry, decoded against none", b, True)
b = bytearray(g); put64(b, 16, 0); seal_header(b); case("invalid geometry (0 shards), decoded against none", b, True)
case("cut inside the last record: a torn tail", g[:len(g) - 9])
case("7 bytes of a record: fewer than its first word", g[:recs[3][0] + 7])
case("8 zero bytes at the end: an extended, unwritten tail", g + bytes(8))
b = bytearray(g); struct.pack_into("<I", b, recs[2][0], 87); case("record_len 87 in the third record", b)
b = bytearray(g); struct.pack_into("<I", b, recs[2][0], 0xFFFFFFF8); case("record_len far past the end of the file", b)
b = bytearray(g); b[recs[3][0] + 90] ^= 0x10; case("a key byte flipped in the fourth record", b)
b = bytearray(g); seal(b, recs[3][0], 0); case("the fourth record checksummed with seed 0", b)
tomb = next(o for o, n in recs if b[o + 4] == 2)
b = bytearray(g); b[tomb + 16] ^= 1; case("a tombstone's order flipped, checksum not resealed", b)
b = bytearray(g); o, n = recs[4]; b = b[:o] + b[o + n:]; case("the fifth record dropped: seq gap", b)
b = bytearray(g); o, n = recs[4]; b = b[:o + n] + b[o:o + n] + b[o + n:]; case("the fifth record written twice", b)
b = bytearray(g); o, n = recs[5]; b[o + 4] = 3; seal(b, o); case("kind end in a journal", b)
b = bytearray(g); o, n = recs[5]; b[o + 4] = 9; seal(b, o); case("kind 9", b)
b = bytearray(g); o, n = recs[5]; b[o + 5] = 1; seal(b, o); case("flags 1", b)
b = bytearray(g); o, n = recs[5]; struct.pack_into("<H", b, o + 6, 0); seal(b, o); case("key_len 0", b)
b = bytearray(g); o, n = recs[5]; struct.pack_into("<H", b, o + 6, 17); seal(b, o); case("key_len 17 over key_capacity 16", b)
b = bytearray(g); o, n = recs[5]; struct.pack_into("<I", b, o + 32, 65); seal(b, o); case("value length 65 over value_capacity 64", b)
b = bytearray(g); o, n = recs[6]; struct.pack_into("<I", b, o + 32, 3); seal(b, o); case("value length not the formula's", b)
b = bytearray(g); o, n = recs[6]; put64(b, o + 24, 2**64 - 1); seal(b, o); case("version 2^64 - 1 resealed: accepted", b)
rg = base["rust"]; rr = records(rg)
case("go's first five records, then rust's from the sixth: seq continues, accepted", g[:recs[5][0]] + rg[rr[5][0]:])
b = bytearray(g); put64(b, 0, 0x50414E534D524157); seal_header(b); snap = bytes(b); case("snapshot magic without an end record", snap)
end = bytearray(88); struct.pack_into("<I", end, 0, 88); end[4] = 3; put64(end, 8, len(recs) + 1); put64(end, 16, 77); put64(end, 24, 2**64 - 2); seal(end, 0)
case("snapshot with its end record", snap + end)
case("snapshot with bytes after its end record", snap + end + bytes(8))
e2 = bytearray(end); put64(e2, 8, len(recs) + 2); seal(e2, 0); case("snapshot end record with a seq gap", snap + e2)

out = []
for name, image, anyg in cases:
    want = [0, 0, 0] if anyg else geometry
    answers = {}
    for lib, l in libs.items():
        o = (ctypes.c_uint64 * 8)()
        r = l.wc_decode_journal(image, len(image), *want, o)
        answers[lib] = [r] + list(o)
    if answers["go"] != answers["rust"]:
        sys.exit(f"make-cases: the libraries disagree on {name!r}: {answers}")
    a = answers["go"]
    out.append({"name": name, "any_geometry": anyg, "image_hex": image.hex(),
                "expect": {"code": CODES[a[0]], "offset": a[1], "records": a[2], "tombstones": a[3], "digest": str(a[4]),
                           "kind": a[5], "complete": a[6], "end_order": str(a[7]), "end_version": str(a[8])}})
doc = {"about": "PERSISTENCE.md §9 edge cases with the answer the Go and Rust decoders agreed on through wc_decode_journal "
       "(docs/ABI.md \"Journals\"; written by testdata/journals/make-cases.py). geometry: the restoring geometry's header "
       "words 48, 56, 64; a case with any_geometry is decoded against none. digest, end_order and end_version are decimal strings.",
       "geometry": [str(w) for w in geometry], "cases": out}
with open(f"{root}/testdata/journal-cases.json", "w") as f:
    json.dump(doc, f, indent=1); f.write("\n")
from collections import Counter
print(f"journal-cases.json: {len(out)} cases, codes {dict(Counter(c['expect']['code'] for c in out))}")
