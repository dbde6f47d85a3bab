//! Later additions to PROTOCOL.md: the insert path reuses a dead owner's keyless claim (§9.4),
//! the `get.after_key_match` pause point (§17), and tests that each remaining fault switch
//! (DRIVER.md) really breaks what it claims to.

mod common;
use common::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warmcache::layout::REC_VALUE;
use warmcache::{Cache, CreateOptions, Fault, Faults, Geometry, OpErrorKind, OpenOptions, PausePoint, PutOptions, State};

/// One shard whose window is the whole shard: every key competes for the same `n` slots.
fn one_window(n: u32) -> Geometry {
    Geometry {
        shard_count: 1,
        slots_per_shard: n,
        key_capacity: 32,
        value_capacity: 256,
        probe_window: n,
        participant_capacity: 16,
    }
}

fn with_faults(p: &TmpPath, faults: Faults) -> Cache {
    Cache::open(p.path(), OpenOptions { faults, ..quick() }).unwrap()
}

fn po() -> PutOptions {
    PutOptions::default()
}

/// Byte offset of the first value word of `key`'s active record (the key must be READY).
fn active_value_offset(c: &Cache, p: &TmpPath, key: &[u8]) -> u64 {
    let h = c.get(key);
    let info = h.hit().unwrap().info;
    let l = *c.layout();
    let slot = l.slot_offset(info.shard, info.slot);
    l.record_offset(slot, ((peek(p.path(), slot) >> 8) & 1) as u32) + REC_VALUE
}

#[test]
fn insert_reuses_a_dead_writers_keyless_claim() {
    use std::os::unix::process::ExitStatusExt;
    let p = TmpPath::new("victim");
    let c = Cache::create(p.path(), one_window(4), CreateOptions { trace: true, ..Default::default() }).unwrap();
    for k in [b"a", b"b", b"c"] {
        c.put(k, b"v", po()).unwrap();
    }
    // A second process claims the last EMPTY slot for "d" and dies right after the claim: a
    // WRITING slot with no key, which find() can never reach.
    let out = run_fixture(&[
        serde_json::json!({"id": 1, "op": "open", "args": {"path": p.path()}}),
        serde_json::json!({"id": 2, "op": "put", "args": {"key_hex": "64", "value_hex": "01", "crash_at": "put.after_claim"}}),
    ]);
    assert_eq!(out.status.signal(), Some(libc::SIGKILL));
    let s = c.stats().totals;
    assert_eq!((s.occupancy.get(State::Ready), s.occupancy.get(State::Writing), s.occupancy.get(State::Empty)), (3, 1, 0));
    let _ = c.take_events();

    // No EMPTY slot in the window: the insert reclaims the dead claim and reuses it, instead of
    // evicting a live entry.
    let out = c.put(b"e", b"new", po()).unwrap();
    assert!(out.created);
    let ev = c.take_events();
    let names: Vec<&str> = ev.iter().map(|e| e.event).collect();
    assert_eq!(names, ["reclaim", "claim", "publish"]);
    assert_eq!((ev[0].from, ev[0].to, ev[0].owner), (State::Writing, State::Empty, 2), "T12, the dead owner");
    assert_eq!((ev[1].from, ev[1].to, ev[1].owner), (State::Empty, State::Writing, c.participant_id()));
    assert!(ev.iter().all(|e| e.slot == out.slot));
    assert_eq!(ev[1].seq, ev[0].seq + 1);
    // Two reclaims: the dead process also held the shard's insert lock (§9.3), then the slot.
    let s = c.stats().totals;
    assert_eq!(s.counters.reclaims, 2);
    assert_eq!(s.counters.evictions, 0);
    assert_eq!(s.counters.expirations, 0);
    for k in [&b"a"[..], b"b", b"c"] {
        assert!(c.get(k).is_hit(), "no live entry was evicted");
    }
    assert_eq!(c.get(b"e").hit().unwrap().value, b"new");
    assert!(c.dump().problems.is_empty());
}

#[test]
fn insert_does_not_reclaim_a_live_writers_claim() {
    let p = TmpPath::new("victimlive");
    let c = create(&p, one_window(2));
    let holder = open(&p);
    let st = holder.put_staged(b"w", b"1", po()).unwrap();
    c.put(b"r", b"1", po()).unwrap();
    // Window full: one live WRITING, one READY. CLOCK evicts the READY one; the claim stays.
    c.put(b"n", b"1", po()).unwrap();
    let s = c.stats().totals.counters;
    assert_eq!((s.reclaims, s.evictions), (0, 1));
    holder.publish_staged(st).unwrap();
    assert!(c.get(b"w").is_hit());
}

#[test]
fn get_after_key_match_is_before_the_record_copy() {
    let p = TmpPath::new("keymatch");
    let mut r = create(&p, small());
    r.put(b"k", b"12345678", po()).unwrap();
    let off = active_value_offset(&r, &p, b"k");
    let orig = peek(p.path(), off);
    let path: PathBuf = p.path().to_path_buf();
    let seen = Arc::new(Mutex::new(Vec::new()));
    // Corrupt the value at `at`: if the copy comes after the point, the reader sees it.
    let arm = |r: &mut Cache, at: PausePoint| {
        let (path, seen) = (path.clone(), seen.clone());
        r.set_pause_hook(Some(Arc::new(move |pt| {
            seen.lock().unwrap().push(pt);
            if pt == at {
                poke(&path, off, 0x4141414141414141);
            }
        })));
    };

    // At get.after_key_match the record is not copied yet: the copy sees the corruption (a
    // consistent snapshot with a bad checksum: corrupt → miss).
    arm(&mut r, PausePoint::GetAfterKeyMatch);
    assert!(!r.get(b"k").is_hit());
    assert_eq!(r.corrupt_count(), 1);
    assert_eq!(*seen.lock().unwrap(), [PausePoint::GetAfterKeyMatch, PausePoint::GetBetweenSeqReads]);

    // At get.between_seq_reads the copy is done: the reader returns the intact value.
    poke(p.path(), off, orig);
    seen.lock().unwrap().clear();
    arm(&mut r, PausePoint::GetBetweenSeqReads);
    assert_eq!(r.get(b"k").hit().unwrap().value, b"12345678");
    assert_eq!(r.corrupt_count(), 1);

    // Not reached when no readable slot holds the key.
    poke(p.path(), off, orig);
    r.set_pause_hook(None);
    r.put(b"x", b"1", po()).unwrap();
    r.invalidate(b"x").unwrap();
    seen.lock().unwrap().clear();
    arm(&mut r, PausePoint::GetAfterKeyMatch);
    assert!(!r.get(b"absent").is_hit());
    assert!(!r.get(b"x").is_hit());
    assert!(!seen.lock().unwrap().contains(&PausePoint::GetAfterKeyMatch));
    r.set_pause_hook(None);
    assert_eq!(r.get(b"k").hit().unwrap().value, b"12345678");
}

#[test]
fn fault_skip_second_seq_check_returns_an_unpublished_value() {
    let p = TmpPath::new("skipseq");
    let writer = Arc::new(create(&p, small()));
    writer.put(b"k", b"old", po()).unwrap();
    // While the reader sits at get.after_key_match (s1 read, nothing copied), the writer
    // publishes "mid" (T4, T5) and then claims again and writes the next value into the very
    // record the reader will copy, without publishing it.
    let run = |faults: Faults, mid: &'static [u8], new: &'static [u8]| {
        let mut reader = with_faults(&p, faults);
        let staged = Arc::new(Mutex::new(None));
        let fired = Arc::new(AtomicU32::new(0));
        let (w, s, f) = (writer.clone(), staged.clone(), fired.clone());
        reader.set_pause_hook(Some(Arc::new(move |pt| {
            if pt == PausePoint::GetAfterKeyMatch && f.fetch_add(1, Ordering::SeqCst) == 0 {
                w.put(b"k", mid, PutOptions::default()).unwrap();
                *s.lock().unwrap() = Some(w.put_staged(b"k", new, PutOptions::default()).unwrap());
            }
        })));
        let got = reader.get(b"k").hit().unwrap().value.clone();
        // What any correct reader sees right now: the published value.
        let published = open(&p).get(b"k").hit().unwrap().value.clone();
        writer.publish_staged(staged.lock().unwrap().take().unwrap()).unwrap();
        (got, published)
    };
    let (got, published) = run(Faults::NONE, b"mid1", b"new1");
    assert_eq!((&got[..], &published[..]), (&b"mid1"[..], &b"mid1"[..]), "the correct reader retries");
    let (got, published) = run(Faults::NONE.with(Fault::SkipSecondSeqCheck), b"mid2", b"new2");
    assert_eq!(published, b"mid2");
    assert_eq!(got, b"new2", "FAULT: returned a value that was not published");
}

#[test]
fn fault_evict_writing_slot_steals_a_live_claim() {
    let run = |faults: Faults| -> Result<(), OpErrorKind> {
        let p = TmpPath::new("evictw");
        let c = create(&p, one_window(2));
        let inserter = with_faults(&p, faults);
        let holder = open(&p);
        let st = holder.put_staged(b"w", b"1", po()).unwrap();
        c.put(b"r", b"1", po()).unwrap();
        // Two inserts into the full window: CLOCK's hand visits both slots.
        inserter.put(b"n1", b"1", po()).unwrap();
        inserter.put(b"n2", b"1", po()).unwrap();
        holder.publish_staged(st).map(|_| ()).map_err(|e| e.kind)
    };
    assert_eq!(run(Faults::NONE), Ok(()), "a live writer's claim is never evicted");
    assert_eq!(run(Faults::NONE.with(Fault::EvictWritingSlot)), Err(OpErrorKind::Busy), "FAULT: claim stolen");
}

#[test]
fn fault_skip_insert_lock_duplicates_a_key() {
    let run = |faults: Faults| -> (usize, Option<OpErrorKind>) {
        let p = TmpPath::new("skiplock");
        drop(create(&p, small()));
        let second = Arc::new(with_faults(&p, faults));
        let outcome = Arc::new(Mutex::new(None));
        let (s, o) = (second.clone(), outcome.clone());
        let fired = Arc::new(AtomicBool::new(false));
        let first = Cache::open(
            p.path(),
            OpenOptions {
                faults,
                pause_hook: Some(Arc::new(move |pt| {
                    // The first inserter has claimed a slot (no key yet): a second one inserts.
                    if pt == PausePoint::PutAfterClaim && !fired.swap(true, Ordering::SeqCst) {
                        *o.lock().unwrap() = Some(s.put(b"k", b"2", PutOptions::default()).err().map(|e| e.kind));
                    }
                })),
                ..quick()
            },
        )
        .unwrap();
        first.put(b"k", b"1", po()).unwrap();
        let d = first.dump();
        // Only the copy a get finds is an entry; the other is a problem (PROTOCOL.md §13.1).
        let copies = d.entries.iter().filter(|e| e.key == b"k").count()
            + d.problems.iter().filter(|p| p.contains("invariant 1")).count();
        let second_err = outcome.lock().unwrap().unwrap();
        (copies, second_err)
    };
    assert_eq!(run(Faults::NONE), (1, Some(OpErrorKind::Busy)), "the lock holds the second inserter off");
    assert_eq!(run(Faults::NONE.with(Fault::SkipInsertLock)), (2, None), "FAULT: two slots hold k");
}

#[test]
fn fault_private_futex_loses_the_wakeup() {
    // The waiter and the publisher map the segment at different addresses (two handles), so a
    // private futex key never matches across them — as across processes.
    let run = |faults: Faults| -> (Duration, u32, u32) {
        let p = TmpPath::new("futex");
        let publisher = Arc::new(create(&p, small()));
        let pb = Arc::new(with_faults(&p, faults));
        let fired = Arc::new(AtomicBool::new(false));
        let f = fired.clone();
        let waiter = Cache::open(
            p.path(),
            OpenOptions {
                faults,
                pause_hook: Some(Arc::new(move |pt| {
                    // Registered in `waiters`, about to park: publish 100 ms from now.
                    if pt == PausePoint::WaitBeforePark && !f.swap(true, Ordering::SeqCst) {
                        let pb = pb.clone();
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_millis(100));
                            pb.put(b"k", b"1", PutOptions::default()).unwrap();
                        });
                    }
                })),
                ..quick()
            },
        )
        .unwrap();
        let seen = publisher.generation();
        let t = Instant::now();
        let (g, _) = waiter.wait_for_change(seen, Duration::from_millis(1500));
        (t.elapsed(), seen, g)
    };
    let (elapsed, seen, g) = run(Faults::NONE);
    assert_ne!(g, seen);
    assert!(elapsed < Duration::from_millis(1000), "woken by the publish: {elapsed:?}");
    let (elapsed, seen, g) = run(Faults::NONE.with(Fault::PrivateFutex));
    assert_ne!(g, seen, "the generation did change");
    assert!(elapsed >= Duration::from_millis(1400), "FAULT: slept to the timeout: {elapsed:?}");
}

#[test]
fn fault_publish_before_payload_lets_readers_see_unwritten_records() {
    // A racing reader and refresher: under the fault a reader can copy the record between the
    // publish and the payload write, seeing a torn value (checksum mismatch: corrupt) or the
    // record of two refreshes ago (its version goes back). Correct code never shows either.
    let run = |faults: Faults, limit: Duration| -> bool {
        let p = TmpPath::new("pubfirst");
        let reader = create(&p, small());
        let writer = with_faults(&p, faults);
        writer.put(b"k", &[0u8; 256], po()).unwrap();
        let stop = AtomicBool::new(false);
        let anomaly = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let deadline = Instant::now() + limit;
                let mut i = 0u8;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    i = i.wrapping_add(1);
                    writer.put(b"k", &[i; 256], PutOptions::default()).unwrap();
                }
                stop.store(true, Ordering::Relaxed);
            });
            let mut last = 0;
            let mut buf = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(info) = reader.get_into(b"k", &mut buf) {
                    if info.version < last {
                        anomaly.store(true, Ordering::Relaxed);
                    }
                    last = info.version;
                }
                if reader.corrupt_count() > 0 || anomaly.load(Ordering::Relaxed) {
                    anomaly.store(true, Ordering::Relaxed);
                    stop.store(true, Ordering::Relaxed);
                }
            }
        });
        anomaly.load(Ordering::Relaxed)
    };
    assert!(!run(Faults::NONE, Duration::from_millis(300)), "correct writer: no anomaly");
    assert!(run(Faults::NONE.with(Fault::PublishBeforePayload), Duration::from_secs(20)), "FAULT observed");
}

/// The creator passes §4.1's points (§17 `create.*`) in the order of its steps; before the link
/// the final path does not exist, after it the path is the segment.
#[test]
fn create_pause_points_follow_the_steps() {
    let p = TmpPath::new("create-points");
    let seen: Arc<Mutex<Vec<(PausePoint, bool)>>> = Arc::default();
    let (s, path) = (seen.clone(), p.path().to_path_buf());
    let hook: warmcache::PauseHook = Arc::new(move |pt| s.lock().unwrap().push((pt, path.exists())));
    let c = Cache::create(p.path(), small(), CreateOptions { pause_hook: Some(hook), ..Default::default() }).unwrap();
    drop(c);
    use PausePoint::*;
    let got = seen.lock().unwrap().clone();
    assert_eq!(
        got,
        vec![(CreateBeforeFlock, false), (CreateAfterOpenTemp, false), (CreateAfterSize, false), (CreateAfterHeader, false), (CreateBeforeLink, false), (CreateAfterLink, true)]
    );
}
