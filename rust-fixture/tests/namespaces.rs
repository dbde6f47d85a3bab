//! Versioned namespaces (PROTOCOL.md §18): stage, flip, read, pin, rollback and reclaim between
//! handles on one segment, every failure code of §18.5, dead stagers and pinners, the two fault
//! switches, and the driver operations of the fixture.

mod common;
use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use warmcache::namespace::{nskey, NS_KEY_MAGIC, NS_TABLE_OFFSET};
use warmcache::{Cache, Fault, Faults, OpErrorKind, OpenOptions, PausePoint};

fn value(c: &Cache, ns: u32, k: &[u8]) -> Option<Vec<u8>> {
    c.ns_get(ns, k).unwrap().hit.map(|h| h.0)
}

fn publish(c: &Cache, ns: u32, entries: &[(&[u8], &[u8])]) -> u64 {
    let v = c.ns_stage(ns).unwrap().version;
    for (k, val) in entries {
        assert_eq!(c.ns_put(ns, k, val).unwrap().1, v);
    }
    assert_eq!(c.ns_flip(ns).unwrap().0, v);
    v
}

#[test]
fn a_staged_version_is_invisible_until_its_flip_then_whole() {
    let p = TmpPath::new("ns-flip");
    let producer = create(&p, small());
    let reader = open(&p);
    assert_eq!(reader.ns_get(0, b"a").unwrap().version, 0, "no version yet");
    let s = producer.ns_stage(0).unwrap();
    assert_eq!((s.version, s.took_over), (1, false));
    producer.ns_put(0, b"a", b"a1").unwrap();
    producer.ns_put(0, b"b", b"b1").unwrap();
    assert_eq!(value(&reader, 0, b"a"), None, "staged entries are not read before the flip");
    assert_eq!(producer.ns_flip(0).unwrap(), (1, 0));
    assert_eq!(value(&reader, 0, b"a"), Some(b"a1".to_vec()));
    assert_eq!(value(&reader, 0, b"b"), Some(b"b1".to_vec()));
    // Version 2 is staged while readers keep reading 1.
    producer.ns_stage(0).unwrap();
    producer.ns_put(0, b"a", b"a2").unwrap();
    assert_eq!(value(&reader, 0, b"a"), Some(b"a1".to_vec()));
    assert_eq!(producer.ns_flip(0).unwrap(), (2, 1));
    let r = reader.ns_get(0, b"a").unwrap();
    assert_eq!((r.version, r.pinned, r.hit.map(|h| h.0)), (2, false, Some(b"a2".to_vec())));
    assert_eq!(value(&reader, 0, b"b"), None, "version 2 has no b: no mix of versions");
    // Namespaces are independent, and a namespace key is an ordinary key under its prefix.
    assert_eq!(reader.ns_get(1, b"a").unwrap().version, 0);
    assert_eq!(reader.get(&nskey(0, 1, b"b")).hit().map(|h| h.value.clone()), Some(b"b1".to_vec()));
    let st = reader.ns_state(0).unwrap();
    assert_eq!((st.current, st.previous, st.last, st.stager, st.pins.len()), (2, 1, 2, 0, 0));
}

#[test]
fn rollback_returns_to_the_previous_version_once() {
    let p = TmpPath::new("ns-rollback");
    let c = create(&p, small());
    assert_eq!(c.ns_rollback(0).unwrap_err().kind, OpErrorKind::NoPrevious);
    publish(&c, 0, &[(b"k", b"v1")]);
    assert_eq!(c.ns_rollback(0).unwrap_err().kind, OpErrorKind::NoPrevious, "a first version has no previous");
    publish(&c, 0, &[(b"k", b"v2")]);
    assert_eq!(c.ns_rollback(0).unwrap(), (1, 2));
    assert_eq!(value(&c, 0, b"k"), Some(b"v1".to_vec()));
    assert_eq!(c.ns_rollback(0).unwrap_err().kind, OpErrorKind::NoPrevious, "N5 leaves no previous");
    // The retired version 2 never comes back: the next stage is 3.
    assert_eq!(publish(&c, 0, &[(b"k", b"v3")]), 3);
    assert_eq!(c.ns_state(0).unwrap().previous, 1);
}

#[test]
fn a_pin_keeps_its_version_through_flips_and_reclaims() {
    let p = TmpPath::new("ns-pin");
    let producer = create(&p, small());
    let reader = open(&p);
    publish(&producer, 0, &[(b"a", b"a1"), (b"b", b"b1")]);
    assert_eq!(reader.ns_pin(0).unwrap(), 1);
    assert_eq!(reader.ns_pin(0).unwrap_err().kind, OpErrorKind::Pinned);
    publish(&producer, 0, &[(b"a", b"a2")]);
    publish(&producer, 0, &[(b"a", b"a3")]);
    // Version 1 is neither current (3) nor previous (2), but pinned: kept, and read.
    let r = producer.ns_reclaim(0).unwrap();
    assert_eq!((r.removed, r.kept.clone()), (0, vec![1, 2, 3]));
    let got = reader.ns_get(0, b"b").unwrap();
    assert_eq!((got.version, got.pinned, got.hit.map(|h| h.0)), (1, true, Some(b"b1".to_vec())));
    assert_eq!(producer.ns_state(0).unwrap().pins, vec![(reader.participant_id(), 1)]);
    assert_eq!(reader.ns_unpin(), (0, 1));
    assert_eq!(reader.ns_unpin(), (0, 0), "no pin left");
    let r = producer.ns_reclaim(0).unwrap();
    assert_eq!((r.removed, r.kept), (2, vec![2, 3]), "both entries of version 1 go");
    assert_eq!(producer.get(&nskey(0, 1, b"a")).hit(), None);
    assert_eq!(value(&reader, 0, b"a"), Some(b"a3".to_vec()));
    assert_eq!(producer.ns_reclaim(0).unwrap().removed, 0, "nothing twice");
}

#[test]
fn reclaim_keeps_a_live_stage_and_spares_other_keys() {
    let p = TmpPath::new("ns-reclaim-keep");
    let producer = create(&p, small());
    let other = open(&p);
    publish(&producer, 0, &[(b"a", b"1")]);
    publish(&producer, 0, &[(b"a", b"2")]);
    publish(&producer, 0, &[(b"a", b"3")]);
    publish(&producer, 1, &[(b"a", b"x")]);
    producer.put(b"plain", b"p", Default::default()).unwrap();
    producer.ns_stage(0).unwrap(); // version 4, live stager
    producer.ns_put(0, b"a", b"4").unwrap();
    let r = other.ns_reclaim(0).unwrap();
    assert_eq!((r.removed, r.kept), (1, vec![2, 3, 4]));
    assert!(producer.get(b"plain").is_hit(), "plain keys are never touched");
    assert_eq!(value(&other, 1, b"a"), Some(b"x".to_vec()), "other namespaces are never touched");
    assert!(producer.get(&nskey(0, 4, b"a")).is_hit(), "the open stage's entries stay");
}

#[test]
fn dead_stagers_and_pinners_hold_nothing() {
    let p = TmpPath::new("ns-dead");
    let survivor = create(&p, small());
    publish(&survivor, 0, &[(b"a", b"1")]);
    let pinner = open(&p);
    let index = pinner.participant_id();
    pinner.ns_pin(0).unwrap();
    assert_eq!(survivor.ns_state(0).unwrap().pins.len(), 1);
    drop(pinner); // its lock goes with the handle
    assert!(survivor.ns_state(0).unwrap().pins.is_empty(), "a dead pinner's pin is not live");
    assert_ne!(peek(p.path(), survivor.layout().participant_offset(index as u32 - 1) + 56), 0, "the word itself stays");
    // A successor at the dead pinner's index clears the leftover pin on registration (§5 step 3).
    let again = open(&p);
    assert_eq!(again.participant_id(), index);
    assert_eq!(again.ns_unpin(), (0, 0));
    drop(again);
    {
        let stager = open(&p);
        stager.ns_stage(0).unwrap();
        assert_eq!(survivor.ns_stage(0).unwrap_err().kind, OpErrorKind::Busy, "one open stage per namespace");
    }
    let s = survivor.ns_stage(0).unwrap();
    assert_eq!((s.version, s.took_over), (3, true), "N2: version 2 is abandoned");
}

#[test]
fn every_failure_code() {
    let p = TmpPath::new("ns-errors");
    let c = create(&p, small());
    let kind = |r: Result<(), warmcache::OpError>| r.unwrap_err().kind;
    assert_eq!(kind(c.ns_stage(8).map(|_| ())), OpErrorKind::BadNamespace);
    assert_eq!(kind(c.ns_get(9, b"k").map(|_| ())), OpErrorKind::BadNamespace);
    assert_eq!(kind(c.ns_put(0, b"k", b"v").map(|_| ())), OpErrorKind::NotStaging);
    assert_eq!(kind(c.ns_flip(0).map(|_| ())), OpErrorKind::NotStaging);
    assert_eq!(kind(c.ns_pin(0).map(|_| ())), OpErrorKind::NotFound, "nothing current to pin");
    c.ns_stage(0).unwrap();
    assert_eq!(kind(c.ns_stage(0).map(|_| ())), OpErrorKind::Busy, "our own stage is a live one");
    assert_eq!(kind(c.ns_put(0, b"", b"v").map(|_| ())), OpErrorKind::TooLarge);
    assert_eq!(kind(c.ns_put(0, &[7; 17], b"v").map(|_| ())), OpErrorKind::TooLarge, "16 + 17 > key_capacity 32");
    c.ns_put(0, &[7; 16], b"v").unwrap();
    // An ill-formed table word (§13: untrusted) is refused and changes nothing.
    poke(p.path(), NS_TABLE_OFFSET + 16 * 3, 5 | 9 << 32); // ns 3: previous 9 ≥ current 5
    assert_eq!(kind(c.ns_get(3, b"k").map(|_| ())), OpErrorKind::BadNamespace);
    assert_eq!(kind(c.ns_rollback(3).map(|_| ())), OpErrorKind::BadNamespace);
    assert_eq!(peek(p.path(), NS_TABLE_OFFSET + 16 * 3), 5 | 9 << 32);
    poke(p.path(), NS_TABLE_OFFSET + 16 * 4 + 8, 1 << 48); // ns 4: ns_stage bits 48..63 set
    assert_eq!(kind(c.ns_stage(4).map(|_| ())), OpErrorKind::BadNamespace);
    assert_eq!(nskey(2, 5, b"k")[..8], (NS_KEY_MAGIC | 2 << 48).to_le_bytes());
}

fn faulty(p: &TmpPath, fault: Fault, hook: Option<warmcache::PauseHook>) -> Cache {
    Cache::open(p.path(), OpenOptions { faults: Faults::NONE.with(fault), pause_hook: hook, ..quick() }).unwrap()
}

#[test]
fn fault_ns_reclaim_ignores_pins_removes_a_pinned_version() {
    let p = TmpPath::new("ns-fault-pins");
    let producer = create(&p, small());
    let reader = open(&p);
    publish(&producer, 0, &[(b"a", b"1")]);
    reader.ns_pin(0).unwrap();
    publish(&producer, 0, &[(b"a", b"2")]);
    publish(&producer, 0, &[(b"a", b"3")]);
    assert_eq!(faulty(&p, Fault::NsReclaimIgnoresPins, None).ns_reclaim(0).unwrap().removed, 1);
    assert_eq!(value(&reader, 0, b"a"), None, "the pinned read misses: the bug the fault plants");
}

/// Without the fault a reader between the stage's puts still reads the old version whole; with
/// `ns_flip_before_entries` the staged version is current at once, half written.
#[test]
fn the_flip_is_atomic_unless_the_fault_flips_at_the_stage() {
    for fault in [None, Some(Fault::NsFlipBeforeEntries)] {
        let p = TmpPath::new("ns-fault-flip");
        let reader = create(&p, small());
        let stager = match fault {
            None => open(&p),
            Some(f) => faulty(&p, f, None),
        };
        publish(&stager, 0, &[(b"a", b"a1"), (b"b", b"b1")]);
        stager.ns_stage(0).unwrap();
        stager.ns_put(0, b"a", b"a2").unwrap();
        let (a, b) = (value(&reader, 0, b"a"), value(&reader, 0, b"b"));
        if fault.is_none() {
            assert_eq!((a, b), (Some(b"a1".to_vec()), Some(b"b1".to_vec())), "version 1 whole while 2 is staged");
        } else {
            assert_eq!((a, b), (Some(b"a2".to_vec()), None), "the fault shows version 2 half written");
        }
        stager.ns_put(0, b"b", b"b2").unwrap();
        assert_eq!(stager.ns_flip(0).unwrap(), (2, 1), "{fault:?}");
        assert_eq!(value(&reader, 0, b"b"), Some(b"b2".to_vec()), "{fault:?}");
        assert_eq!(stager.ns_state(0).unwrap().stager, 0, "{fault:?}: the stage is closed");
    }
}

#[test]
fn the_fixture_speaks_the_driver_operations() {
    let p = TmpPath::new("ns-fixture");
    let path = p.path().to_str().unwrap();
    let g = json!({"shard_count": 4, "slots_per_shard": 16, "key_capacity": 32, "value_capacity": 256, "probe_window": 4, "participant_capacity": 16});
    let out = run_fixture(&[
        json!({"id": 1, "op": "hello"}),
        json!({"id": 2, "op": "create", "args": {"path": path, "geometry": g}}),
        json!({"id": 3, "op": "ns_stage", "args": {"ns": 2}}),
        json!({"id": 4, "op": "ns_put", "args": {"ns": 2, "key_hex": "6b", "value_hex": "76"}}),
        json!({"id": 5, "op": "ns_flip", "args": {"ns": 2}}),
        json!({"id": 6, "op": "ns_pin", "args": {"ns": 2}}),
        json!({"id": 7, "op": "ns_get", "args": {"ns": 2, "key_hex": "6b"}}),
        json!({"id": 8, "op": "ns_state", "args": {"ns": 2}}),
        json!({"id": 9, "op": "ns_unpin"}),
        json!({"id": 10, "op": "ns_reclaim", "args": {"ns": 2}}),
        json!({"id": 11, "op": "ns_rollback", "args": {"ns": 2}}),
        json!({"id": 12, "op": "ns_stage", "args": {"ns": 8}}),
        json!({"id": 13, "op": "ns_stage", "args": {"ns": "x"}}),
        json!({"id": 14, "op": "open", "args": {"path": path, "protocol": "1.0"}}),
        json!({"id": 15, "op": "ns_get", "args": {"ns": 2, "key_hex": "6b"}}),
    ]);
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ops = lines[0]["result"]["operations"].as_array().unwrap();
    assert!(ops.iter().any(|o| o == "ns_reclaim") && ops.iter().any(|o| o == "ns_state"));
    assert_eq!(lines[2]["result"], json!({"version": 1, "took_over": false}));
    assert_eq!(lines[3]["result"]["ns_version"], 1);
    assert_eq!(lines[4]["result"], json!({"version": 1, "previous": 0}));
    assert_eq!(lines[5]["result"], json!({"version": 1}));
    assert_eq!((&lines[6]["result"]["hit"], &lines[6]["result"]["value_hex"], &lines[6]["result"]["pinned"]), (&json!(true), &json!("76"), &json!(true)));
    assert_eq!(lines[7]["result"], json!({"current": 1, "previous": 0, "last": 1, "stager": 0, "pins": [{"participant": 1, "version": 1}]}));
    assert_eq!(lines[8]["result"], json!({"ns": 2, "version": 1}));
    assert_eq!(lines[9]["result"], json!({"removed": 0, "kept": [1]}));
    assert_eq!((&lines[10]["outcome"], &lines[10]["reason"]), (&json!("fail"), &json!("no_previous")));
    assert_eq!(lines[11]["reason"], "bad_namespace");
    assert_eq!(lines[12]["error"]["kind"], "bad_request");
    assert_eq!(lines[14]["error"]["kind"], "unsupported", "a handle speaking 1.0 has no namespaces");
}

#[test]
fn namespace_entries_are_plain_entries_to_a_1_0_handle() {
    let p = TmpPath::new("ns-old-reader");
    let c = create(&p, small());
    publish(&c, 0, &[(b"a", b"1")]);
    c.put(b"plain", b"p", Default::default()).unwrap();
    let old = Cache::open(p.path(), OpenOptions { protocol: warmcache::Protocol::V1_0, ..quick() }).unwrap();
    assert!(old.get(b"plain").is_hit(), "plain keys answer as before");
    assert_eq!(old.get(&nskey(0, 1, b"a")).hit().map(|h| h.value.clone()), Some(b"1".to_vec()));
}

/// `ns_pin.before_store`: a reclaimer retires and removes the version the pinner saw before its
/// pin is stored; the second head load notices, and the pin moves to the current version.
#[test]
fn a_pin_that_lost_its_version_before_the_store_pins_the_current_one() {
    let p = TmpPath::new("ns-pin-race");
    let producer = Arc::new(create(&p, small()));
    publish(&producer, 0, &[(b"a", b"1")]);
    let (prod, fired) = (producer.clone(), Arc::new(Mutex::new(false)));
    let f2 = fired.clone();
    let hook: warmcache::PauseHook = Arc::new(move |pt| {
        let mut once = f2.lock().unwrap();
        if pt == PausePoint::NsPinBeforeStore && !*once {
            *once = true;
            publish(&prod, 0, &[(b"a", b"2")]);
            publish(&prod, 0, &[(b"a", b"3")]);
            assert_eq!(prod.ns_reclaim(0).unwrap().removed, 1, "version 1 is unprotected: its pin is not stored yet");
        }
    });
    let reader = Cache::open(p.path(), OpenOptions { pause_hook: Some(hook), ..quick() }).unwrap();
    assert_eq!(reader.ns_pin(0).unwrap(), 3);
    assert!(*fired.lock().unwrap());
    assert_eq!(value(&reader, 0, b"a"), Some(b"3".to_vec()));
}
