//! The Rust implementation's names and numbers against spec/vocabulary.json, the protocol's one
//! machine-readable vocabulary (a renamed pause point or a moved offset fails here).

use serde_json::Value;
use std::collections::BTreeSet;
use warmcache::error::{OpErrorKind, OpenErrorKind};
use warmcache::layout::*;
use warmcache::{hash, Fault, PausePoint, State};

fn vocabulary() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vocabulary.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("spec/vocabulary.json")).expect("valid JSON")
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().unwrap_or_else(|| panic!("{key} is a list")).iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn constant(v: &Value, name: &str) -> u64 {
    match &v["constants"][name] {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        other => panic!("constant {name}: {other}"),
    }
}

fn offset(v: &Value, table: &str, field: &str) -> u64 {
    v["layout"][table][field].as_u64().unwrap_or_else(|| panic!("layout.{table}.{field}"))
}

#[test]
fn pause_points_are_exactly_the_vocabularys() {
    let v = vocabulary();
    let ours: Vec<String> = PausePoint::ALL.iter().map(|p| p.name().to_string()).collect();
    assert_eq!(ours, names(&v, "pause_points"), "PausePoint::ALL vs spec/vocabulary.json (same order as §17)");
}

#[test]
fn states_codes_and_flags_match() {
    let v = vocabulary();
    let states = v["states"].as_array().unwrap();
    assert_eq!(states.len(), State::ALL.len());
    for s in states {
        let code = s["code"].as_u64().unwrap();
        let st = State::from_code(code).unwrap_or_else(|| panic!("no state with code {code}"));
        assert_eq!(st.name(), s["name"].as_str().unwrap());
        assert_eq!(st.is_owned(), s["owned"].as_bool().unwrap(), "{}", st.name());
        assert_eq!(st.is_readable(), s["readable"].as_bool().unwrap(), "{}", st.name());
    }
}

#[test]
fn error_codes_and_faults_match() {
    use OpenErrorKind::*;
    let v = vocabulary();
    let open: Vec<String> = [NotFound, Symlink, NotRegularFile, ForeignOwner, TooShort, BadMagic, UnsupportedMajor, NotReady,
        BadHeaderChecksum, UnsupportedFeatures, LayoutMismatch, BadGeometry, Truncated, NoSpace, Exists, ParticipantsFull, Io,
        Sparse]
        .iter().map(|k| k.code().to_string()).collect();
    assert_eq!(open, names(&v, "open_errors"));
    let ops: Vec<String> = [OpErrorKind::TooLarge, OpErrorKind::NotFound, OpErrorKind::Full, OpErrorKind::VersionNotNewer, OpErrorKind::Busy,
        OpErrorKind::NotStaging, OpErrorKind::NoPrevious, OpErrorKind::Pinned, OpErrorKind::BadNamespace]
        .iter().map(|k| k.code().to_string())
        // `closed` (PROTOCOL.md §15) has no OpErrorKind: Cache is closed by dropping it, so no
        // operation can reach a closed handle; the fixture answers it (DRIVER.md "After close").
        .chain(["closed".to_string()])
        .collect();
    assert_eq!(ops, names(&v, "operation_errors"));
    let faults: Vec<String> = Fault::ALL.iter().map(|f| f.name().to_string()).collect();
    assert_eq!(faults, names(&v, "faults"));
}

/// Every literal event of a `tracer.record` call is a vocabulary event.
#[test]
fn traced_events_are_vocabulary_events() {
    let v = vocabulary();
    let known: BTreeSet<String> = names(&v, "events").into_iter().collect();
    let mut checked = 0;
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p); continue; }
            let text = std::fs::read_to_string(&p).unwrap();
            // A literal event argument must be a vocabulary event.
            for part in text.split("tracer.record(shm, \"").skip(1) {
                let lit = part.split('"').next().unwrap();
                assert!(known.contains(lit), "{}: event {lit:?} is not in spec/vocabulary.json", p.display());
            }
            checked += text.matches("tracer.record(shm, \"").count();
        }
    }
    // T3 (abort) is never made by this implementation (sizes are checked before the claim), so
    // not every vocabulary event need appear; but the scan must have found the call sites.
    assert!(checked >= 5, "found only {checked} tracer.record calls with a literal event");
}

#[test]
fn constants_and_offsets_match() {
    let v = vocabulary();
    assert_eq!(v["protocol"]["major"].as_u64().unwrap(), PROTOCOL_MAJOR);
    assert_eq!(v["protocol"]["minor"].as_u64().unwrap(), PROTOCOL_MINOR);
    for (name, ours) in [("magic", MAGIC), ("ready", READY), ("layout_fingerprint", LAYOUT_FINGERPRINT),
        ("feature_sim_clock", FEATURE_SIM_CLOCK), ("feature_fast_checksum", FEATURE_FAST_CHECKSUM), ("wch64x4_l1", hash::LANE_START_1),
        ("wch64x4_l2", hash::LANE_START_2), ("wch64x4_l3", hash::LANE_START_3), ("wch64_p1", hash::P1), ("wch64_p2", hash::P2), ("key_seed", hash::KEY_SEED),
        ("value_seed", hash::VALUE_SEED), ("header_seed", hash::HEADER_SEED), ("cache_line", CACHE_LINE),
        ("header_size", HEADER_SIZE), ("header_checksum_len", HDR_CHECKSUMMED_LEN), ("participant_size", PARTICIPANT_SIZE),
        ("shard_header_size", SHARD_HEADER_SIZE), ("slot_header_size", SLOT_HEADER_SIZE), ("record_header_size", RECORD_HEADER_SIZE)] {
        assert_eq!(constant(&v, name), ours, "constant {name}");
    }
    use warmcache::namespace::{NS_HEAD, NS_STAGE};
    let tables: [(&str, &[(&str, u64)]); 6] = [
        ("header", &[("magic", HDR_MAGIC), ("version", HDR_VERSION), ("features_incompat", HDR_FEATURES_INCOMPAT),
            ("features_compat", HDR_FEATURES_COMPAT), ("layout_fingerprint", HDR_LAYOUT_FINGERPRINT), ("total_len", HDR_TOTAL_LEN),
            ("geometry_shards", HDR_GEOMETRY_SHARDS), ("geometry_sizes", HDR_GEOMETRY_SIZES), ("geometry_limits", HDR_GEOMETRY_LIMITS),
            ("slot_size", HDR_SLOT_SIZE), ("participants_offset", HDR_PARTICIPANTS_OFFSET), ("shards_offset", HDR_SHARDS_OFFSET),
            ("shard_size", HDR_SHARD_SIZE), ("creator_pid", HDR_CREATOR_PID), ("creator_start_time", HDR_CREATOR_START_TIME),
            ("creator_info", HDR_CREATOR_INFO), ("created_at_ns", HDR_CREATED_AT_NS), ("header_checksum", HDR_HEADER_CHECKSUM),
            ("ready", HDR_READY), ("generation", HDR_GENERATION), ("waiters", HDR_WAITERS), ("event_seq", HDR_EVENT_SEQ),
            ("version_clock", HDR_VERSION_CLOCK), ("sim_clock_ns", HDR_SIM_CLOCK_NS)]),
        ("participant", &[("epoch", PART_EPOCH), ("pid", PART_PID), ("start_time", PART_START_TIME), ("info", PART_INFO),
            ("registered_at_ns", PART_REGISTERED_AT_NS), ("claim_hint", PART_CLAIM_HINT), ("hint_epoch", PART_HINT_EPOCH),
            ("ns_pin", PART_NS_PIN)]),
        ("namespace", &[("ns_head", NS_HEAD), ("ns_stage", NS_STAGE)]),
        ("shard", &[("insert_lock", SH_INSERT_LOCK), ("clock_hand", SH_CLOCK_HAND), ("hits", SH_HITS), ("misses", SH_MISSES),
            ("stale_hits", SH_STALE_HITS), ("inserts", SH_INSERTS), ("refreshes", SH_REFRESHES), ("evictions", SH_EVICTIONS),
            ("invalidations", SH_INVALIDATIONS), ("expirations", SH_EXPIRATIONS), ("reclaims", SH_RECLAIMS)]),
        ("slot", &[("state", SLOT_STATE), ("referenced", SLOT_REFERENCED), ("key_hash", SLOT_KEY_HASH), ("key_len", SLOT_KEY_LEN),
            ("claimed_at_ns", SLOT_CLAIMED_AT_NS), ("key", SLOT_KEY)]),
        ("record", &[("version", REC_VERSION), ("value_info", REC_VALUE_INFO), ("checksum", REC_CHECKSUM),
            ("expires_at_ns", REC_EXPIRES_AT_NS), ("stale_until_ns", REC_STALE_UNTIL_NS), ("written_at_ns", REC_WRITTEN_AT_NS),
            ("writer", REC_WRITER), ("writer_start_time", REC_WRITER_START_TIME), ("value", REC_VALUE)]),
    ];
    for (table, fields) in tables {
        assert_eq!(v["layout"][table].as_object().unwrap().len(), fields.len(), "layout.{table}: every field is checked");
        for (field, ours) in fields {
            assert_eq!(offset(&v, table, field), *ours, "layout.{table}.{field}");
        }
    }
    let langs: Vec<(u64, String)> = v["languages"].as_array().unwrap().iter()
        .map(|l| (l["code"].as_u64().unwrap(), l["name"].as_str().unwrap().to_string())).collect();
    assert_eq!(langs, vec![(LANGUAGE_UNKNOWN, "unknown".into()), (LANGUAGE_GO, "go".into()), (LANGUAGE_RUST, "rust".into()), (LANGUAGE_SWIFT, "swift".into())]);
}

/// The namespace block (PROTOCOL.md §18): constants and the driver operations, which the
/// fixture lists in `hello.operations`.
#[test]
fn namespace_constants_match() {
    use warmcache::namespace::*;
    let v = vocabulary();
    let n = &v["namespaces"];
    let num = |name: &str| match &n[name] {
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        x => x.as_u64().unwrap_or_else(|| panic!("namespaces.{name}")),
    };
    assert_eq!(num("count"), NS_COUNT as u64);
    assert_eq!(num("table_offset"), NS_TABLE_OFFSET);
    assert_eq!(num("entry_size"), NS_ENTRY_SIZE);
    assert_eq!(num("key_magic"), NS_KEY_MAGIC);
    assert_eq!(num("key_prefix_len"), NS_KEY_PREFIX_LEN as u64);
    assert_eq!(num("version_max"), NS_VERSION_MAX);
    assert_eq!(num("pin_epoch_mask"), PIN_EPOCH_MASK);
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin/warmcache-fixture.rs")).unwrap();
    for op in n["operations"].as_array().unwrap() {
        assert!(src.contains(&format!("\"{}\",", op.as_str().unwrap())), "fixture OPERATIONS lacks {op}");
    }
}
