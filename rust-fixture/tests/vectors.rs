//! Hash and geometry figures from testdata/vectors.json and PROTOCOL.md §16.

use serde_json::Value;
use warmcache::hash::{wch64, HEADER_SEED, KEY_SEED, VALUE_SEED};
use warmcache::layout::{Geometry, LAYOUT_FINGERPRINT};

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read vectors.json")).expect("parse vectors.json")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn h64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn seeds_match_the_file() {
    let v = vectors();
    assert_eq!(h64(&v["seeds"]["KEY_SEED"]), KEY_SEED);
    assert_eq!(h64(&v["seeds"]["VALUE_SEED"]), VALUE_SEED);
    assert_eq!(h64(&v["seeds"]["HEADER_SEED"]), HEADER_SEED);
    assert_eq!(h64(&v["layout_fingerprint"]), LAYOUT_FINGERPRINT);
}

#[test]
fn wch64_vectors() {
    let v = vectors();
    let list = v["vectors"].as_array().unwrap();
    assert!(list.len() >= 8);
    let g = Geometry::default();
    for t in list {
        let input = hex(t["input_hex"].as_str().unwrap());
        let kh = wch64(&input, KEY_SEED);
        assert_eq!(kh, h64(&t["key_hash"]), "key hash of {input:?}");
        assert_eq!(wch64(&input, VALUE_SEED), h64(&t["value_checksum"]), "value checksum of {input:?}");
        assert_eq!(wch64(&input, HEADER_SEED), h64(&t["header_seed"]), "header seed of {input:?}");
        assert_eq!((kh >> 32) % g.shard_count as u64, t["default_shard"].as_u64().unwrap());
        assert_eq!((kh & 0xFFFF_FFFF) % g.slots_per_shard as u64, t["default_home"].as_u64().unwrap());
    }
}

#[test]
fn spec_table_vectors() {
    let table: &[(&[u8], u64, u64)] = &[
        (b"", 0x301652d7fcec3de2, 0xcbe611a334b2e95d),
        (b"a", 0x5607a72562eea71e, 0x77ff97f179d0887f),
        (b"abc", 0xda5e996e39a5adb7, 0x81d2222f4e83647f),
        (b"warmcache", 0xda9e22e7a1f781f4, 0xd0a0e1ea3a69b896),
        (b"user:42", 0x07050fb03c851e65, 0x1e46b54675908d55),
        (b"0123456789abcdef", 0x7c8a042fc9452832, 0xa8b2f174b9d474e6),
        (b"The quick brown fox jumps over the lazy dog", 0x0692ef57d6e9d8a2, 0x1b00fd35a0c1ca99),
    ];
    for (input, k, v) in table {
        assert_eq!(wch64(input, KEY_SEED), *k);
        assert_eq!(wch64(input, VALUE_SEED), *v);
    }
}

#[test]
fn geometry_figures() {
    let v = vectors();
    for g in v["geometry"].as_array().unwrap() {
        let n = |k: &str| g[k].as_u64().unwrap();
        let geo = Geometry {
            shard_count: n("shard_count") as u32,
            slots_per_shard: n("slots_per_shard") as u32,
            key_capacity: n("key_capacity") as u32,
            value_capacity: n("value_capacity") as u32,
            probe_window: n("probe_window") as u32,
            participant_capacity: n("participant_capacity") as u32,
        };
        let l = geo.validate_for_create().unwrap();
        assert_eq!(l.slot_size, n("slot_size"));
        assert_eq!(l.participants_offset, n("participants_offset"));
        assert_eq!(l.shards_offset, n("shards_offset"));
        assert_eq!(l.shard_size, n("shard_size"));
        assert_eq!(l.total_len, n("total_len"));
    }
    let d = Geometry::default().validate_for_create().unwrap();
    assert_eq!((d.record_size, d.slot_size), (1088, 2304));
    assert_eq!((d.shards_offset, d.shard_size, d.total_len), (8192, 147712, 2371584));
}

#[test]
fn geometry_rules_in_order() {
    let bad = |f: fn(&mut Geometry)| {
        let mut g = Geometry::default();
        f(&mut g);
        g.validate_for_create().unwrap_err()
    };
    let e = bad(|g| {
        g.shard_count = 0;
        g.probe_window = 0;
    });
    assert_eq!(e.code(), "bad_geometry");
    assert!(e.message.contains("rule 1"), "{}", e.message);
    assert!(bad(|g| g.slots_per_shard = 65537).message.contains("rule 2"));
    assert!(bad(|g| g.key_capacity = 12).message.contains("rule 3"));
    assert!(bad(|g| g.value_capacity = 0).message.contains("rule 4"));
    assert!(bad(|g| g.probe_window = 65).message.contains("rule 5"));
    assert!(bad(|g| g.participant_capacity = 4097).message.contains("rule 6"));
    let e = bad(|g| {
        g.shard_count = 65536;
        g.slots_per_shard = 65536;
        g.value_capacity = 1 << 20;
    });
    assert!(e.message.contains("rule 8"), "{}", e.message);
}

#[test]
fn keys_land_in_their_vector_window() {
    use warmcache::{Cache, CreateOptions, PutOptions};
    let path = format!("/dev/shm/wc-test-{}-vectors-window", std::process::id());
    let _ = std::fs::remove_file(&path);
    let c = Cache::create(&path, Geometry::default(), CreateOptions::default()).unwrap();
    let v = vectors();
    for t in v["vectors"].as_array().unwrap() {
        let key = hex(t["input_hex"].as_str().unwrap());
        if key.is_empty() || key.len() > 64 {
            continue;
        }
        let out = c.put(&key, b"v", PutOptions::default()).unwrap();
        assert_eq!(out.shard as u64, t["default_shard"].as_u64().unwrap());
        let home = t["default_home"].as_u64().unwrap() as u32;
        assert!((out.slot + 64 - home) % 64 < 8, "slot {} outside window of home {home}", out.slot);
    }
    drop(c);
    std::fs::remove_file(&path).unwrap();
}
