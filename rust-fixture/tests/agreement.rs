//! The "agreement" cases of testdata/vectors.json (PROTOCOL.md §13.1): odd segments that every
//! implementation must answer the same way. The Go and Swift tests run the same cases.

mod common;
use common::TmpPath;
use serde_json::Value;
use std::os::unix::fs::FileExt;
use std::time::Duration;
use warmcache::{Cache, CreateOptions, Geometry, Lookup, PutOptions};

fn n(v: &Value) -> u64 {
    v.as_str().map_or(0, |s| s.parse().expect("decimal string"))
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap_or("");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn agreement_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/vectors.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let a = &v["agreement"];
    let g = &a["geometry"];
    let dim = |k: &str| g[k].as_u64().unwrap() as u32;
    let geo = Geometry {
        shard_count: dim("shard_count"),
        slots_per_shard: dim("slots_per_shard"),
        key_capacity: dim("key_capacity"),
        value_capacity: dim("value_capacity"),
        probe_window: dim("probe_window"),
        participant_capacity: dim("participant_capacity"),
    };
    let cases = a["cases"].as_array().unwrap();
    assert!(cases.len() >= 9, "only {} agreement cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let p = TmpPath::new("agree");
        let c = Cache::create(p.path(), geo, CreateOptions { sim_clock_ns: Some(n(&a["sim_clock_ns"])), ..Default::default() })
            .unwrap();
        let file = std::fs::OpenOptions::new().read(true).write(true).open(p.path()).unwrap();
        for (i, st) in case["steps"].as_array().unwrap().iter().enumerate() {
            run_step(&c, &file, &format!("{name} step {i}"), st);
        }
    }
}

/// One step; raw writes go through the file, which shares its pages with the mapping.
fn run_step(c: &Cache, file: &std::fs::File, at: &str, st: &Value) {
    let ex = &st["expect"];
    let off = st["offset"].as_u64().unwrap_or(0);
    let word = |o: u64| {
        let mut w = [0u8; 8];
        file.read_exact_at(&mut w, o).unwrap();
        u64::from_le_bytes(w)
    };
    let set_word = |o: u64, v: u64| file.write_all_at(&v.to_le_bytes(), o).unwrap();
    match st["op"].as_str().unwrap() {
        "set_word" => set_word(off, n(&st["value"])),
        "or_word" => set_word(off, word(off) | n(&st["bits"])),
        "copy" => {
            let mut buf = vec![0u8; st["len"].as_u64().unwrap() as usize];
            file.read_exact_at(&mut buf, st["from"].as_u64().unwrap()).unwrap();
            file.write_all_at(&buf, st["to"].as_u64().unwrap()).unwrap();
        }
        "set_clock" => c.set_sim_clock(n(&st["now_ns"])).unwrap(),
        "put" => {
            let o = PutOptions { ttl: Duration::from_nanos(n(&st["ttl_ns"])), grace: Duration::from_nanos(n(&st["grace_ns"])), version: n(&st["version"]), origin_tag: 0, durable: false };
            let r = c.put(&hex(&st["key_hex"]), &hex(&st["value_hex"]), o);
            match ex["fail"].as_str() {
                Some(code) => assert_eq!(r.map_err(|e| e.kind.code()).err(), Some(code), "{at}"),
                None => assert_eq!(r.unwrap().version.to_string(), ex["version"].as_str().unwrap(), "{at}"),
            }
        }
        "get" => {
            let got = match c.get(&hex(&st["key_hex"])) {
                Lookup::Miss => serde_json::json!({"hit": false}),
                Lookup::Hit(h) => serde_json::json!({
                    "hit": true, "value_hex": to_hex(&h.value), "version": h.info.version.to_string(),
                    "stale": h.info.stale, "refresh_requested": h.info.refresh_requested,
                    "expires_at_ns": h.info.expires_at_ns.to_string(), "stale_until_ns": h.info.stale_until_ns.to_string(),
                }),
            };
            for (k, want) in ex.as_object().unwrap() {
                assert_eq!(&got[k], want, "{at}: get field {k} ({got})");
            }
        }
        "dump" => {
            let d = c.dump();
            let slots: Vec<u64> = d.entries.iter().map(|e| e.slot as u64).collect();
            let want: Vec<u64> = ex["slots"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
            assert_eq!(slots, want, "{at}: dump entries (problems {:?})", d.problems);
            assert_eq!(!d.problems.is_empty(), ex["problems"].as_bool().unwrap(), "{at}: {:?}", d.problems);
        }
        op => panic!("{at}: unknown op {op}"),
    }
}
