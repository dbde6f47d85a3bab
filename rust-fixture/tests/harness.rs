//! Pause points (PROTOCOL.md §17), `crash_at` in the fixture, and the fault switches
//! (DRIVER.md): the harness hooks work, and each fault really breaks what it claims to.

mod common;
use common::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warmcache::{Cache, CreateOptions, Fault, Faults, OpErrorKind, OpenOptions, PausePoint, PutOptions};

fn with_faults(p: &TmpPath, faults: Faults) -> Cache {
    Cache::open(p.path(), OpenOptions { faults, ..quick() }).unwrap()
}

#[test]
fn pause_points_fire_in_order() {
    let p = TmpPath::new("points");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let c = Cache::create(
        p.path(),
        small(),
        CreateOptions { pause_hook: Some(Arc::new(move |pt| s2.lock().unwrap().push(pt))), ..Default::default() },
    )
    .unwrap();
    c.put(b"k", b"1", PutOptions::default()).unwrap();
    c.put(b"k", b"2", PutOptions::default()).unwrap();
    c.get(b"k");
    c.invalidate(b"k").unwrap();
    use PausePoint::*;
    assert_eq!(
        *seen.lock().unwrap(),
        [
            // The create steps of §4.1 come first: the hook is the creating handle's from the start.
            CreateBeforeFlock,
            CreateAfterOpenTemp,
            CreateAfterSize,
            CreateAfterHeader,
            CreateBeforeLink,
            CreateAfterLink,
            PutBeforeLock,
            LockAfterAcquire,
            PutBeforeClaim,
            PutAfterClaim,
            PutAfterKey,
            PutAfterPayload,
            RefreshBeforeClaim,
            RefreshAfterClaim,
            RefreshAfterPayload,
            GetAfterKeyMatch,
            GetBetweenSeqReads,
            InvalidateBeforeClaim,
            InvalidateAfterClaim
        ]
    );
    for p in PausePoint::ALL {
        assert_eq!(PausePoint::from_name(p.name()), Some(p));
    }
}

#[test]
fn reader_retries_when_a_refresh_lands_between_its_state_loads() {
    let p = TmpPath::new("between");
    let mut reader = create(&p, small());
    let writer = Arc::new(open(&p));
    writer.put(b"k", b"old", PutOptions::default()).unwrap();
    let fired = Arc::new(AtomicU32::new(0));
    let (w, f) = (writer.clone(), fired.clone());
    // The first time the reader has copied the record, two refreshes land: the second one
    // overwrites the very record the reader copied. The reader must notice and retry.
    reader.set_pause_hook(Some(Arc::new(move |pt| {
        if pt == PausePoint::GetBetweenSeqReads && f.fetch_add(1, Ordering::SeqCst) == 0 {
            w.put(b"k", b"mid", PutOptions::default()).unwrap();
            w.put(b"k", b"new", PutOptions::default()).unwrap();
        }
    })));
    let h = reader.get(b"k");
    let h = h.hit().unwrap();
    assert_eq!(h.value, b"new");
    assert_eq!(h.info.version, 3);
    assert_eq!(fired.load(Ordering::SeqCst), 2, "one retry");
}

#[test]
fn reader_keeps_its_snapshot_across_a_single_refresh() {
    // One refresh (T4 + T5) between the loads: seq advanced by 2, so the snapshot is not
    // accepted by `snapshot_ok` and the reader retries, returning the new value.
    let p = TmpPath::new("single");
    let mut reader = create(&p, small());
    let writer = Arc::new(open(&p));
    writer.put(b"k", b"old", PutOptions::default()).unwrap();
    let fired = Arc::new(AtomicU32::new(0));
    let (w, f) = (writer.clone(), fired.clone());
    reader.set_pause_hook(Some(Arc::new(move |pt| {
        if pt == PausePoint::GetBetweenSeqReads && f.fetch_add(1, Ordering::SeqCst) == 0 {
            w.put(b"k", b"new", PutOptions::default()).unwrap();
        }
    })));
    assert_eq!(reader.get(b"k").hit().unwrap().value, b"new");
}

#[test]
fn crash_at_kills_the_fixture_and_the_claim_is_reclaimed() {
    let p = TmpPath::new("crash");
    let path = p.path().to_str().unwrap().to_string();
    let geometry = serde_json::json!({"shard_count": 4, "slots_per_shard": 16, "key_capacity": 32,
        "value_capacity": 256, "probe_window": 4, "participant_capacity": 16});
    let out = run_fixture(&[
        serde_json::json!({"id": 1, "op": "hello"}),
        serde_json::json!({"id": 2, "op": "create", "args": {"path": path, "geometry": geometry}}),
        serde_json::json!({"id": 3, "op": "put", "args": {"key_hex": "6b", "value_hex": "01"}}),
        serde_json::json!({"id": 4, "op": "put", "args": {"key_hex": "6b", "value_hex": "02", "crash_at": "refresh.after_payload"}}),
        serde_json::json!({"id": 5, "op": "put", "args": {"key_hex": "6c", "value_hex": "03", "crash_at": "put.after_key"}}),
    ]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGKILL));
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), 3, "no response for the crashed request: {lines:?}");
    let hello: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let names: Vec<&str> = hello["result"]["pause_points"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "lock.after_acquire",
            "put.after_claim",
            "put.after_key",
            "put.after_payload",
            "refresh.after_claim",
            "refresh.after_payload",
            "get.after_key_match",
            "get.between_seq_reads",
            "invalidate.after_claim",
            "evict.after_victim",
            "reclaim.before_cas",
            "wait.before_park",
            "put.before_lock",
            "put.before_claim",
            "refresh.before_claim",
            "invalidate.before_claim",
            "get.before_mark_stale",
            "journal.before_append",
            "journal.after_append",
            "journal.after_sync",
            "restore.before_publish",
            "ns_flip.after_cas",
            "ns_pin.after_store",
            "ns_get.after_head",
            "ns_reclaim.after_scan",
            "ns_pin.before_store",
            "snapshot.after_write",
            "snapshot.before_rename",
            "snapshot.before_remove",
            "snapshot.after_remove",
            "create.after_open_temp",
            "create.after_size",
            "create.after_header",
            "create.before_link",
            "create.after_link",
            "repair.before_cas",
            "create.before_flock",
        ],
        "§17 order"
    );
    assert_eq!(hello["result"]["faults"].as_array().unwrap().len(), 14);

    // The dead process left k REFRESHING: the old value is still served; a writer reclaims.
    let c = open(&p);
    assert_eq!(c.get(b"k").hit().unwrap().value, [1]);
    // The crashed refresh had already taken version 2 from version_clock: versions never go back.
    assert_eq!(c.put(b"k", b"\x04", PutOptions::default()).unwrap().version, 3);
    assert_eq!(c.get(b"k").hit().unwrap().value, [4]);
    assert_eq!(c.stats().totals.counters.reclaims, 1);
}

#[test]
fn crash_holding_the_insert_lock() {
    let p = TmpPath::new("crashlock");
    drop(create(&p, small()));
    run_fixture(&[
        serde_json::json!({"id": 1, "op": "open", "args": {"path": p.path()}}),
        serde_json::json!({"id": 2, "op": "put", "args": {"key_hex": "6c", "value_hex": "03", "crash_at": "put.after_key"}}),
    ]);
    let c = open(&p);
    // The dead process held the shard lock and a WRITING claim on l: both are reclaimed.
    assert!(!c.get(b"l").is_hit());
    c.put(b"l", b"x", PutOptions::default()).unwrap();
    assert_eq!(c.get(b"l").hit().unwrap().value, b"x");
    assert!(c.dump().problems.is_empty());
}

#[test]
fn faults_break_what_they_claim() {
    let p = TmpPath::new("faults");
    let good = create_sim(&p, small(), 1_000);

    // no_version_bump: a refresh keeps the old version.
    let f = with_faults(&p, Faults::NONE.with(Fault::NoVersionBump));
    let v = good.put(b"a", b"1", PutOptions::default()).unwrap().version;
    assert_eq!(f.put(b"a", b"2", PutOptions::default()).unwrap().version, v);

    // wrong_hash: keys written land where nobody else looks; dump sees a bad key hash.
    let f = with_faults(&p, Faults::NONE.with(Fault::WrongHash));
    f.put(b"b", b"1", PutOptions::default()).unwrap();
    assert!(!good.get(b"b").is_hit());
    assert!(!good.dump().problems.is_empty());
    assert!(f.invalidate(b"b").unwrap());

    // stale_forever: expired entries are still served (as stale).
    good.put(b"c", b"1", PutOptions { ttl: Duration::from_nanos(10), ..Default::default() }).unwrap();
    good.set_sim_clock(2_000).unwrap();
    assert!(!good.get(b"c").is_hit());
    let f = with_faults(&p, Faults::NONE.with(Fault::StaleForever));
    assert!(f.get(b"c").hit().unwrap().info.stale);

    // no_generation_bump: a publish leaves the generation alone.
    let f = with_faults(&p, Faults::NONE.with(Fault::NoGenerationBump));
    let g = good.generation();
    f.put(b"d", b"1", PutOptions::default()).unwrap();
    assert_eq!(good.generation(), g);

    // ignore_checksum: a corrupted value is returned.
    let out = good.put(b"e", b"12345678", PutOptions::default()).unwrap();
    let l = *good.layout();
    let slot = l.slot_offset(out.shard, out.slot);
    let rec = l.record_offset(slot, ((peek(p.path(), slot) >> 8) & 1) as u32);
    poke(p.path(), rec + warmcache::layout::REC_VALUE, 0x4141414141414141);
    assert!(!good.get(b"e").is_hit());
    let f = with_faults(&p, Faults::NONE.with(Fault::IgnoreChecksum));
    assert_eq!(f.get(b"e").hit().unwrap().value, b"AAAAAAAA");

    // steal_live_claim / never_reclaim: a live writer's claim is stolen; a dead one is kept.
    let holder = open(&p);
    let _st = holder.put_staged(b"g", b"1", PutOptions::default()).unwrap();
    let f = with_faults(&p, Faults::NONE.with(Fault::StealLiveClaim));
    f.put(b"g", b"2", PutOptions::default()).unwrap();
    assert_eq!(good.get(b"g").hit().unwrap().value, b"2");
    let _st = holder.put_staged(b"h", b"1", PutOptions::default()).unwrap();
    // Registered before the holder dies (else it would take the holder's index and, never
    // sweeping, make the dead claim look live).
    let f = with_faults(&p, Faults::NONE.with(Fault::NeverReclaim));
    drop(holder);
    assert_eq!(f.put(b"h", b"2", PutOptions::default()).unwrap_err().kind, OpErrorKind::Busy);
    good.put(b"h", b"3", PutOptions::default()).unwrap();

    // skip_insert_lock, publish_before_payload, evict_writing_slot, private_futex need races or
    // other processes to show; they are listed and switchable.
    for f in Fault::ALL {
        assert_eq!(Fault::from_name(f.name()), Some(f));
    }
}
