//! testdata/journal-cases.json: PERSISTENCE.md §9 edge cases with the answer the Go and Rust
//! decoders agreed on through the C ABI (docs/ABI.md "Journals"). The crate's own reader must
//! still give it: the code, where reading stopped, the records accepted and their tombstones,
//! the file's kind and a snapshot's end record. (The ABI's digest of the records is checked by
//! `warmcheck fuzz --journals`.)

use warmcache::durable::format::{decode, KIND_DELETE, SNAPSHOT_MAGIC};
use warmcache::layout::Geometry;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

#[test]
fn journal_cases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/journal-cases.json");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let w: Vec<u64> = doc["geometry"].as_array().expect("geometry").iter().map(|v| v.as_str().unwrap().parse().unwrap()).collect();
    let restoring = Geometry::unpack(w[0], w[1], w[2]);
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30, "{} cases, expected the 30 or more make-cases.py writes", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let image = hex(c["image_hex"].as_str().unwrap());
        let want = if c["any_geometry"].as_bool().unwrap() { None } else { Some(restoring) };
        let f = decode("case", &image, want);
        let (code, offset) = match f.problems.first() {
            Some(p) => (p.code, if f.header.is_some() { p.offset } else { 0 }),
            None => ("ok", image.len() as u64),
        };
        let tombstones = f.records.iter().filter(|r| r.kind == KIND_DELETE).count() as u64;
        let kind = f.header.map_or(0, |h| if h.magic == SNAPSHOT_MAGIC { 2 } else { 1 });
        let (complete, end_order, end_version) = f.end.as_ref().map_or((0, 0, 0), |e| (1, e.order, e.version));
        let e = &c["expect"];
        let got = (code, offset, f.records.len() as u64, tombstones, kind, complete, end_order.to_string(), end_version.to_string());
        let agreed = (
            e["code"].as_str().unwrap(), e["offset"].as_u64().unwrap(), e["records"].as_u64().unwrap(),
            e["tombstones"].as_u64().unwrap(), e["kind"].as_u64().unwrap(), e["complete"].as_u64().unwrap(),
            e["end_order"].as_str().unwrap().to_string(), e["end_version"].as_str().unwrap().to_string(),
        );
        if got != agreed {
            failures.push(format!("{name}: got {got:?}, agreed {agreed:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
