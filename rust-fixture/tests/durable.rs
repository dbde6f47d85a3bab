//! The durable store (docs/PERSISTENCE.md): restore after the segment is gone, merge across
//! writers by order, power cuts at every fsync boundary, and bad input reported, never applied.

mod common;

use common::{small, TmpPath};
use warmcache::durable::format::{decode, encode_header, encode_record, Record, StoreHeader, JOURNAL_MAGIC, JOURNAL_SEED, KIND_PUT};
use warmcache::durable::{FsyncPolicy, StoreOptions};
use warmcache::hash::wch64;
use warmcache::{Cache, CreateOptions, OpenOptions, PutOptions};

fn restore(p: &TmpPath, dir: &std::path::Path, policy: FsyncPolicy) -> (Cache, warmcache::durable::RestoreReport) {
    let store = StoreOptions { dir: dir.to_path_buf(), policy };
    Cache::open_or_restore(p.path(), small(), store, CreateOptions::default(), OpenOptions::default()).expect("restore")
}

fn durable() -> PutOptions {
    PutOptions { durable: true, ..Default::default() }
}

fn store_dir(p: &TmpPath) -> std::path::PathBuf {
    let mut d = p.path().as_os_str().to_owned();
    d.push(".store");
    d.into()
}

#[test]
fn restore_after_the_segment_is_gone_keeps_versions_and_provenance() {
    let p = TmpPath::new("durable-restore");
    let dir = store_dir(&p);
    let (c, rep) = restore(&p, &dir, FsyncPolicy::Always);
    assert!(rep.restored && rep.installed == 0, "{rep:?}");
    for i in 0..20u32 {
        let o = c.put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes(), PutOptions { origin_tag: i, ..durable() }).unwrap();
        assert!(o.durable);
    }
    c.put(b"k3", b"v3b", durable()).unwrap();
    c.put(b"volatile", b"x", PutOptions::default()).unwrap();
    assert_eq!(c.invalidate_durable(b"k5", true).unwrap(), (true, true));
    let top = c.put(b"k7", b"v7b", durable()).unwrap().version;
    drop(c);
    std::fs::remove_file(p.path()).unwrap();
    let (c, rep) = restore(&p, &dir, FsyncPolicy::Always);
    assert!(rep.restored && rep.installed == 19 && rep.tombstones == 1 && rep.problems.is_empty(), "{rep:?}");
    assert_eq!(c.get(b"k3").hit().unwrap().value, b"v3b");
    let h = c.get(b"k1");
    let h = h.hit().unwrap();
    assert_eq!((h.info.origin_tag, h.info.provenance.pid), (1, std::process::id()));
    assert!(!c.get(b"k5").is_hit() && !c.get(b"volatile").is_hit());
    assert!(c.put(b"new", b"n", PutOptions::default()).unwrap().version > top, "versions went back");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn merge_across_writers_takes_the_highest_order_not_the_highest_version() {
    let p = TmpPath::new("durable-merge");
    let dir = store_dir(&p);
    let (a, _) = restore(&p, &dir, FsyncPolicy::Always);
    let (b, rep) = restore(&p, &dir, FsyncPolicy::Always);
    assert!(!rep.restored);
    a.put(b"key", b"a9", PutOptions { version: 9, ..durable() }).unwrap();
    b.invalidate_durable(b"key", true).unwrap();
    a.put(b"key", b"a2", PutOptions { version: 2, ..durable() }).unwrap();
    drop(a);
    drop(b);
    std::fs::remove_file(p.path()).unwrap();
    let (c, rep) = restore(&p, &dir, FsyncPolicy::Always);
    let h = c.get(b"key");
    let h = h.hit().expect("key restored");
    assert_eq!((h.value.as_slice(), h.info.version), (&b"a2"[..], 2), "{rep:?}");
    assert!(rep.files == 2 && rep.version_floor >= 9, "{rep:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_power_cut_keeps_every_acknowledged_always_write_and_a_prefix() {
    let p = TmpPath::new("durable-cut");
    let dir = store_dir(&p);
    let (c, _) = restore(&p, &dir, FsyncPolicy::Always);
    let mut synced = Vec::new();
    for i in 0..200 {
        c.put(format!("k{i}").as_bytes(), b"v", durable()).unwrap();
        synced.push(c.journal_state().synced);
    }
    let js = c.journal_state();
    let data = std::fs::read(&js.path).unwrap();
    let mut x = 0x9E37_79B9u64;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let acked = (x % 200) as usize;
        let keep = synced[acked] as usize + (x >> 20) as usize % (data.len() - synced[acked] as usize + 1);
        let f = decode("cut", &data[..keep], Some(small()));
        assert!(f.records.len() > acked, "lost acknowledged writes: {} of {}", f.records.len(), acked + 1);
        for (i, r) in f.records.iter().enumerate() {
            assert_eq!(r.key, format!("k{i}").as_bytes(), "a hole");
        }
    }
    drop(c);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_reported_and_never_applied() {
    let g = small();
    let hdr = encode_header(&StoreHeader {
        magic: JOURNAL_MAGIC,
        geometry: g,
        segment_created_at_ns: 0,
        writer: 0,
        writer_start_time: 0,
        participant: 1,
        epoch: 1,
        created_at_ns: 0,
    });
    let rec = |seq: u64, key: &str| {
        encode_record(&Record { kind: KIND_PUT, seq, order: seq, version: seq, key: key.into(), value: b"v".to_vec(), ..Default::default() })
    };
    let good: Vec<u8> = [hdr.clone(), rec(1, "a"), rec(2, "b")].concat();
    let flip = |b: &[u8], at: usize| {
        let mut c = b.to_vec();
        c[at] ^= 0x40;
        c
    };
    let mut version = hdr.clone();
    version[8..16].copy_from_slice(&(2u64 | 96 << 32).to_le_bytes());
    let sum = wch64(&version[..88], JOURNAL_SEED);
    version[88..96].copy_from_slice(&sum.to_le_bytes());
    let mut other = g;
    other.slots_per_shard = 32;
    let other_hdr = encode_header(&StoreHeader { geometry: other, ..warmcache::durable::format::decode("h", &hdr, None).header.unwrap() });
    let mut long = good.clone();
    let at = 96 + rec(1, "a").len();
    long[at..at + 4].copy_from_slice(&(1u32 << 20).to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &str, usize)> = vec![
        ("not a journal", vec![b'x'; 200], "not_a_journal", 0),
        ("too short", hdr[..40].to_vec(), "not_a_journal", 0),
        ("unknown version", [version, rec(1, "a")].concat(), "unsupported_format", 0),
        ("header checksum", flip(&good, 20), "bad_header_checksum", 0),
        ("other geometry", [other_hdr, rec(1, "a")].concat(), "other_geometry", 0),
        ("record longer than the file", long, "torn_record", 1),
        ("checksum mismatch in the middle", flip(&good, 96 + 85), "bad_checksum", 0),
        ("seq gap", [hdr.clone(), rec(1, "a"), rec(3, "c")].concat(), "seq_gap", 1),
        ("zeros", [good.clone(), vec![0; 64]].concat(), "bad_record", 2),
    ];
    for (name, data, code, applied) in cases {
        let f = decode(name, &data, Some(g));
        assert_eq!(f.problems.len(), 1, "{name}: {:?}", f.problems);
        assert_eq!((f.problems[0].code, f.records.len()), (code, applied), "{name}: {:?}", f.problems);
    }
    let mut x = 7u64;
    for _ in 0..20000 {
        let mut b = good.clone();
        for _ in 0..=(x % 4) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let i = (x >> 33) as usize % b.len();
            b[i] = (x >> 24) as u8;
        }
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        b.truncate((x >> 33) as usize % (b.len() + 1));
        for r in decode("fuzz", &b, Some(g)).records {
            assert_eq!(r.value, b"v", "applied a corrupt record {r:?}");
        }
    }
}
