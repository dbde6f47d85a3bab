//! Protocol 1.1 (PROTOCOL.md §14, §14.1): the minor written, the 1.0 mode, and the FAST_CHECKSUM
//! feature with its WCH64X4 vectors from testdata/vectors.json.

mod common;

use common::{small, TmpPath};
use serde_json::Value;
use std::os::unix::fs::FileExt;
use warmcache::hash::{wch64, wch64x4, VALUE_SEED};
use warmcache::layout::{FEATURE_FAST_CHECKSUM, HDR_FEATURES_INCOMPAT, HDR_VERSION, HEADER_SIZE, REC_CHECKSUM, SLOT_STATE};
use warmcache::protocol::FUTURE_UNKNOWN_BIT;
use warmcache::layout::HDR_FEATURES_COMPAT;
use warmcache::{Cache, CreateOptions, FutureImage, OpenErrorKind, OpenOptions, Protocol, PutOptions};

fn word(path: &std::path::Path, off: u64) -> u64 {
    let mut b = [0u8; 8];
    std::fs::File::open(path).unwrap().read_exact_at(&mut b, off).unwrap();
    u64::from_le_bytes(b)
}

fn set_word(path: &std::path::Path, off: u64, v: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(&v.to_le_bytes(), off).unwrap();
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn wch64x4_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/vectors.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let list = v["wch64x4"]["vectors"].as_array().expect("vectors.json: wch64x4.vectors");
    assert!(list.len() >= 10);
    for t in list {
        let input = hex(t["input_hex"].as_str().unwrap());
        let want = u64::from_str_radix(t["value_checksum"].as_str().unwrap(), 16).unwrap();
        assert_eq!(wch64x4(&input, VALUE_SEED), want, "WCH64X4 of {} bytes", input.len());
        assert_ne!(wch64x4(&input, VALUE_SEED), wch64(&input, VALUE_SEED));
    }
}

fn create(p: &TmpPath, protocol: Protocol, fast_checksum: bool) -> Result<Cache, warmcache::OpenError> {
    Cache::create(p.path(), small(), CreateOptions { protocol, fast_checksum, ..Default::default() })
}

#[test]
fn minor_written_by_each_protocol() {
    for (protocol, minor) in [(Protocol::V1_1, 1u64), (Protocol::V1_0, 0)] {
        let p = TmpPath::new("minor");
        let c = create(&p, protocol, false).unwrap();
        c.put(b"k", b"v", PutOptions::default()).unwrap();
        assert_eq!(word(p.path(), HDR_VERSION), 1 | (minor << 16) | (HEADER_SIZE << 32), "{protocol}");
        let r = Cache::open(p.path(), OpenOptions::default()).unwrap();
        let hit = r.get(b"k").hit().cloned().expect("a 1.1 reader reads it");
        assert_eq!((hit.info.provenance.protocol_major, hit.info.provenance.protocol_minor as u64), (1, minor));
        let parts = r.participants();
        assert_eq!(parts[0].protocol_minor as u64, minor);
        assert_eq!(parts[1].protocol_minor, 1);
    }
}

#[test]
fn fast_checksum_segment() {
    let p = TmpPath::new("fast");
    let c = create(&p, Protocol::V1_1, true).unwrap();
    assert_eq!(word(p.path(), HDR_FEATURES_INCOMPAT), FEATURE_FAST_CHECKSUM);
    let value: Vec<u8> = (0..203u32).map(|i| (i * 7) as u8).collect();
    c.put(b"big", &value, PutOptions::default()).unwrap();
    let r = Cache::open(p.path(), OpenOptions::default()).unwrap();
    let hit = r.get(b"big").hit().cloned().expect("hit");
    assert_eq!(hit.value, value);
    let d = r.dump();
    assert!(d.problems.is_empty() && d.entries.len() == 1, "{:?}", d.problems);
    let l = r.layout();
    let so = l.slot_offset(hit.info.shard, hit.info.slot);
    let a = (word(p.path(), so + SLOT_STATE) >> 8) & 1;
    let sum_at = l.record_offset(so, a as u32) + REC_CHECKSUM;
    assert_eq!(word(p.path(), sum_at), wch64x4(&value, VALUE_SEED));
    // A 1.0 reader refuses the segment; a 1.0 handle cannot create one.
    let e = Cache::open(p.path(), OpenOptions { protocol: Protocol::V1_0, ..Default::default() }).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::UnsupportedFeatures);
    let q = TmpPath::new("fast10");
    assert_eq!(create(&q, Protocol::V1_0, true).unwrap_err().kind, OpenErrorKind::UnsupportedFeatures);
    assert!(!q.path().exists());
    // A WCH64 sum on a FAST_CHECKSUM segment is corruption, never a hit.
    set_word(p.path(), sum_at, wch64(&value, VALUE_SEED));
    assert!(r.get(b"big").hit().is_none());
    assert_eq!(r.corrupt_count(), 1);
    assert!(Protocol::parse("1.2").is_err());
}

/// The future-version images (§14): this reader reads the minor one and refuses the others with
/// exactly the code the spec names.
#[test]
fn future_images() {
    for (f, refusal) in [
        (FutureImage::Minor, None),
        (FutureImage::Incompat, Some(OpenErrorKind::UnsupportedFeatures)),
        (FutureImage::Major, Some(OpenErrorKind::UnsupportedMajor)),
    ] {
        let p = TmpPath::new("future");
        let c = Cache::create(p.path(), small(), CreateOptions { future: Some(f), ..Default::default() }).unwrap();
        c.put(b"k", b"v", PutOptions::default()).unwrap();
        match (Cache::open(p.path(), OpenOptions::default()), refusal) {
            (Ok(r), None) => {
                assert_eq!(r.get(b"k").hit().map(|h| h.value.clone()), Some(b"v".to_vec()));
                assert_eq!((word(p.path(), HDR_VERSION) >> 16) & 0xFFFF, 9);
                assert_eq!(word(p.path(), HDR_FEATURES_COMPAT), FUTURE_UNKNOWN_BIT);
            }
            (Err(e), Some(k)) => assert_eq!(e.kind, k, "{f:?}"),
            (r, want) => panic!("{f:?}: open {:?}, want {want:?}", r.map(|_| ())),
        }
    }
}
