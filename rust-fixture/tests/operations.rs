//! Operations of PROTOCOL.md §9 on real segments in /dev/shm. No test depends on timing:
//! time is simulated (SIM_CLOCK) and concurrency tests assert only outcomes.

mod common;
use common::*;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use warmcache::{Cache, CreateOptions, Geometry, OpErrorKind, OpenErrorKind, OpenOptions, PutOptions, State};

fn val(c: &Cache, key: &[u8]) -> Option<Vec<u8>> {
    c.get(key).hit().map(|h| h.value.clone())
}

#[test]
fn create_open_round_trip() {
    let p = TmpPath::new("roundtrip");
    let a = create(&p, small());
    assert_eq!(a.participant_id(), 1);
    let meta = std::fs::metadata(p.path()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), small().validate_for_create().unwrap().total_len);
    let out = a.put(b"user:42", b"hello world", PutOptions { origin_tag: 7, ..Default::default() }).unwrap();
    assert!(out.created);
    assert_eq!(out.version, 1);

    let b = open(&p);
    assert_eq!(b.participant_id(), 2);
    assert_eq!(b.geometry(), small());
    let hit = b.get(b"user:42");
    let hit = hit.hit().expect("hit");
    assert_eq!(hit.value, b"hello world");
    assert_eq!(hit.info.origin_tag, 7);
    assert_eq!(hit.info.version, 1);
    assert!(!hit.info.stale && !hit.info.refresh_requested);
    assert_eq!(hit.info.provenance.pid, std::process::id());
    assert_eq!(hit.info.provenance.language, 2);
    assert_eq!(hit.info.provenance.participant, 1);
    assert_eq!(hit.info.provenance.protocol_major, 1);
    assert_eq!(b.header_info().creator_language, 2);
    assert!(!b.get(b"absent").is_hit());

    // A second create of the same path: `exists`; open_or_create opens it.
    let e = Cache::create(p.path(), small(), CreateOptions::default()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::Exists);
    let (c, created) = Cache::open_or_create(p.path(), small(), CreateOptions::default(), quick()).unwrap();
    assert!(!created);
    assert_eq!(val(&c, b"user:42").unwrap(), b"hello world");
    // No leftover private files.
    let dir = std::fs::read_dir("/dev/shm").unwrap();
    let prefix = format!("{}.init.", p.path().file_name().unwrap().to_str().unwrap());
    assert!(dir.filter_map(|e| e.ok()).all(|e| !e.file_name().to_str().unwrap().starts_with(&prefix)));
}

/// PROTOCOL.md §4.1 step 2's sweep: a dead creator's private file (its flock free) is removed, a
/// live creator's (flock held) and other segments' files are left, even one whose name begins
/// with the same bytes (the private file of a segment named B.init.7).
#[test]
fn create_sweeps_dead_init() {
    use std::os::unix::io::AsRawFd;
    let p = TmpPath::new("sweep");
    let s = p.path().to_str().unwrap().to_string();
    let (dead, live) = (format!("{s}.init.4194305.ab12"), format!("{s}.init.4194306.cd34"));
    let others = [format!("{s}.init.7.init.4194305.ab12"), format!("{s}x.init.4194305.ab12")];
    let all: Vec<&String> = [&dead, &live].into_iter().chain(others.iter()).collect();
    for f in &all {
        std::fs::write(f, b"x").unwrap();
    }
    let held = std::fs::File::open(&live).unwrap();
    // SAFETY: valid descriptor.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let c = create(&p, small());
    let gone = !std::path::Path::new(&dead).exists();
    let left: Vec<bool> = all[1..].iter().map(|f| std::path::Path::new(f).exists()).collect();
    drop(c);
    for f in &all {
        let _ = std::fs::remove_file(f);
    }
    assert!(gone, "the dead creator's {dead} is still there");
    assert_eq!(left, vec![true; 3], "the live creator's and other segments' files must be left");
}

/// PROTOCOL.md §4.1 step 1's cut: at most 191 bytes of the last component, never inside a UTF-8
/// sequence.
#[test]
fn init_prefix_cut() {
    use std::os::unix::ffi::OsStrExt;
    let cut = |name: &str| warmcache::segment::init_prefix(std::path::Path::new(name)).as_bytes().len() - ".init.".len();
    for (n, want) in [(190, 190), (191, 191), (192, 191), (255, 191)] {
        assert_eq!(cut(&"n".repeat(n)), want, "{n} bytes");
    }
    assert_eq!(cut(&("n".repeat(190) + "é")), 190, "a 2-byte character across byte 191 goes whole");
    assert_eq!(cut(&("n".repeat(191) + "é")), 191, "a lead byte at 191 is not part of the cut");
}

#[test]
fn racing_creators_share_one_segment() {
    let p = Arc::new(TmpPath::new("race"));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || {
                let (c, created) = Cache::open_or_create(
                    p.path(),
                    small(),
                    CreateOptions::default(),
                    OpenOptions::default(),
                )
                .unwrap();
                (c.participant_id(), created)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.1).count(), 1, "{results:?}");
}

#[test]
fn empty_value_and_capacity_limits() {
    let p = TmpPath::new("limits");
    let c = create(&p, small());
    c.put(b"k", b"", PutOptions::default()).unwrap();
    assert_eq!(val(&c, b"k").unwrap(), b"");
    let full = vec![0xAB; 256];
    c.put(&[b'x'; 32], &full, PutOptions::default()).unwrap();
    assert_eq!(val(&c, &[b'x'; 32]).unwrap(), full);
    assert_eq!(c.put(b"k", &[0; 257], PutOptions::default()).unwrap_err().kind, OpErrorKind::TooLarge);
    assert_eq!(c.put(&[1; 33], b"v", PutOptions::default()).unwrap_err().kind, OpErrorKind::TooLarge);
    assert_eq!(c.put(b"", b"v", PutOptions::default()).unwrap_err().kind, OpErrorKind::TooLarge);
    assert!(!c.get(b"").is_hit());
    assert!(!c.get(&[1; 33]).is_hit());
}

#[test]
fn refresh_keeps_old_value_visible_until_publish() {
    let p = TmpPath::new("refresh");
    let a = create(&p, small());
    let b = open(&p);
    let v1 = a.put(b"key", b"old", PutOptions::default()).unwrap();
    // b claims (T4) and writes record[1-A], but does not publish yet.
    let staged = b.put_staged(b"key", b"new", PutOptions::default()).unwrap();
    assert!(!staged.created);
    let h = a.get(b"key");
    let h = h.hit().expect("old value still readable while REFRESHING");
    assert_eq!(h.value, b"old");
    assert_eq!(h.info.version, v1.version);
    let d = a.dump();
    assert_eq!(d.entries.len(), 1);
    assert_eq!(d.entries[0].state, State::Refreshing);
    let out = b.publish_staged(staged).unwrap();
    assert!(out.version > v1.version);
    assert_eq!(val(&a, b"key").unwrap(), b"new");
    // refresh() of an absent key: not_found; of a present key: ok, created false.
    assert_eq!(a.refresh(b"nokey", b"x", PutOptions::default()).unwrap_err().kind, OpErrorKind::NotFound);
    let r = a.refresh(b"key", b"newer", PutOptions::default()).unwrap();
    assert!(!r.created);
    assert_eq!(val(&b, b"key").unwrap(), b"newer");
    let s = a.stats().totals.counters;
    assert_eq!((s.inserts, s.refreshes), (1, 2));
}

#[test]
fn new_key_is_invisible_until_publish() {
    let p = TmpPath::new("insert");
    let a = create(&p, small());
    let staged = a.put_staged(b"fresh", b"v", PutOptions::default()).unwrap();
    assert!(staged.created);
    assert!(!a.get(b"fresh").is_hit());
    assert_eq!(a.stats().totals.occupancy.get(State::Writing), 1);
    a.publish_staged(staged).unwrap();
    assert_eq!(val(&a, b"fresh").unwrap(), b"v");
}

#[test]
fn invalidate_and_evict() {
    let p = TmpPath::new("remove");
    let c = create(&p, small());
    c.put(b"a", b"1", PutOptions::default()).unwrap();
    c.put(b"b", b"2", PutOptions::default()).unwrap();
    assert!(c.invalidate(b"a").unwrap());
    assert!(!c.invalidate(b"a").unwrap());
    assert!(!c.get(b"a").is_hit());
    assert!(c.evict(b"b").unwrap());
    assert!(!c.evict(b"b").unwrap());
    assert!(!c.get(b"b").is_hit());
    let s = c.stats().totals;
    assert_eq!((s.counters.invalidations, s.counters.evictions), (1, 1));
    assert_eq!(s.occupancy.get(State::Empty), 64);
    // The key can come back.
    c.put(b"a", b"3", PutOptions::default()).unwrap();
    assert_eq!(val(&c, b"a").unwrap(), b"3");
}

#[test]
fn clock_eviction_under_pressure() {
    // One shard, 4 slots, window 4: every key competes for the same 4 slots.
    let g = Geometry { shard_count: 1, slots_per_shard: 4, key_capacity: 16, value_capacity: 16, probe_window: 4, participant_capacity: 4 };
    let p = TmpPath::new("clock");
    let c = create(&p, g);
    let keys: Vec<Vec<u8>> = (0..20).map(|i| format!("key{i}").into_bytes()).collect();
    for (i, k) in keys.iter().enumerate() {
        let out = c.put(k, &[i as u8], PutOptions::default()).unwrap();
        assert!(out.created);
        // The newest key is always present right after its put.
        assert_eq!(val(&c, k).unwrap(), vec![i as u8]);
    }
    let d = c.dump();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(d.entries.len(), 4);
    let distinct: HashSet<_> = d.entries.iter().map(|e| e.key.clone()).collect();
    assert_eq!(distinct.len(), 4);
    let s = c.stats().totals.counters;
    assert_eq!((s.inserts, s.evictions), (20, 16));

    // With every slot held by a live writer's claim the window is full.
    let g2 = Geometry { shard_count: 1, slots_per_shard: 2, key_capacity: 8, value_capacity: 8, probe_window: 2, participant_capacity: 4 };
    let p2 = TmpPath::new("full");
    let a = create(&p2, g2);
    let b = open(&p2);
    let _s1 = b.put_staged(b"w1", b"x", PutOptions::default()).unwrap();
    let _s2 = b.put_staged(b"w2", b"x", PutOptions::default()).unwrap();
    assert_eq!(a.put(b"w3", b"x", PutOptions::default()).unwrap_err().kind, OpErrorKind::Full);
}

#[test]
fn second_chance_protects_referenced_entries() {
    let g = Geometry { shard_count: 1, slots_per_shard: 2, key_capacity: 8, value_capacity: 8, probe_window: 2, participant_capacity: 4 };
    let p = TmpPath::new("second");
    let c = create(&p, g);
    c.put(b"a", b"1", PutOptions::default()).unwrap();
    c.put(b"b", b"2", PutOptions::default()).unwrap();
    // Both referenced (set at publish). The next insert clears both bits in round one, then
    // evicts the slot at the hand in round two.
    c.put(b"c", b"3", PutOptions::default()).unwrap();
    let left: Vec<Vec<u8>> = c.dump().entries.into_iter().map(|e| e.key).collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&b"c".to_vec()));
    let other = left.into_iter().find(|k| k != b"c").unwrap();
    // Now `c` is referenced (set at its publish) and `other` is not (the hand cleared it):
    // whatever the hand's position, the next insert must evict `other`, never `c`.
    c.put(b"d", b"4", PutOptions::default()).unwrap();
    let keys: HashSet<Vec<u8>> = c.dump().entries.into_iter().map(|e| e.key).collect();
    assert!(keys.contains(b"d".as_slice()));
    assert!(keys.contains(b"c".as_slice()), "a referenced entry was evicted before an unreferenced one");
    assert!(!keys.contains(&other));
    assert_eq!(c.stats().totals.counters.evictions, 2);
}

#[test]
fn expiry_with_sim_clock() {
    let p = TmpPath::new("expiry");
    let a = create_sim(&p, small(), 1_000);
    let b = open(&p);
    assert!(a.has_sim_clock() && b.has_sim_clock());
    let out = a.put(b"k", b"v", PutOptions { ttl: Duration::from_nanos(100), grace: Duration::from_nanos(50), ..Default::default() }).unwrap();
    let h = b.get(b"k");
    let h = h.hit().unwrap();
    assert_eq!((h.info.expires_at_ns, h.info.stale_until_ns, h.info.written_at_ns), (1_100, 1_150, 1_000));
    assert!(!h.info.stale);
    a.set_sim_clock(1_099).unwrap();
    assert!(!b.get(b"k").hit().unwrap().info.stale);
    a.set_sim_clock(1_100).unwrap();
    // Exactly one reader is asked to refresh; everyone gets the stale value.
    let mut requested = 0;
    for c in [&a, &b, &a, &b] {
        let h = c.get(b"k");
        let h = h.hit().expect("stale hit");
        assert!(h.info.stale);
        assert_eq!(h.value, b"v");
        assert_eq!(h.info.version, out.version);
        requested += h.info.refresh_requested as u32;
    }
    assert_eq!(requested, 1);
    assert_eq!(a.stats().totals.occupancy.get(State::Stale), 1);
    a.set_sim_clock(1_150).unwrap();
    assert!(!a.get(b"k").is_hit());
    let s = a.stats().totals.counters;
    assert_eq!((s.hits, s.stale_hits, s.misses), (2, 4, 1));

    // A refresh of a STALE entry makes it fresh again.
    a.set_sim_clock(1_120).unwrap();
    a.put(b"k", b"v2", PutOptions { ttl: Duration::from_nanos(100), ..Default::default() }).unwrap();
    let h = b.get(b"k");
    assert!(!h.hit().unwrap().info.stale);
    // ttl 0 never expires.
    a.put(b"forever", b"x", PutOptions::default()).unwrap();
    a.set_sim_clock(u64::MAX / 2).unwrap();
    assert!(a.get(b"forever").is_hit());
    assert!(!a.get(b"k").is_hit());
    // set_sim_clock on a realtime segment is refused.
    let p2 = TmpPath::new("realtime");
    assert!(create(&p2, small()).set_sim_clock(5).is_err());
}

#[test]
fn expired_slot_is_reused_by_insert() {
    let g = Geometry { shard_count: 1, slots_per_shard: 1, key_capacity: 8, value_capacity: 8, probe_window: 1, participant_capacity: 4 };
    let p = TmpPath::new("expire");
    let c = create_sim(&p, g, 10);
    c.put(b"a", b"1", PutOptions { ttl: Duration::from_nanos(5), ..Default::default() }).unwrap();
    c.set_sim_clock(15).unwrap();
    c.put(b"b", b"2", PutOptions::default()).unwrap();
    let s = c.stats().totals.counters;
    assert_eq!((s.expirations, s.evictions), (1, 0));
    assert_eq!(val(&c, b"b").unwrap(), b"2");
}

#[test]
fn versions_are_monotonic() {
    let p = TmpPath::new("versions");
    let c = create(&p, small());
    let mut last = 0;
    for i in 0..10u8 {
        let v = c.put(b"k", &[i], PutOptions::default()).unwrap().version;
        assert!(v > last);
        last = v;
    }
    // Explicit versions must be newer than the stored one.
    let e = c.put(b"k", b"x", PutOptions { version: last, ..Default::default() }).unwrap_err();
    assert_eq!(e.kind, OpErrorKind::VersionNotNewer);
    assert_eq!(val(&c, b"k").unwrap(), vec![9]); // T6 kept the old value
    assert_eq!(c.put(b"k", b"y", PutOptions { version: 1_000, ..Default::default() }).unwrap().version, 1_000);
    // Automatic versions continue above explicit ones.
    assert_eq!(c.put(b"k", b"z", PutOptions::default()).unwrap().version, 1_001);
    assert_eq!(c.get(b"k").hit().unwrap().info.version, 1_001);
    // After invalidation an explicit version may restart.
    c.invalidate(b"k").unwrap();
    assert_eq!(c.put(b"k", b"w", PutOptions { version: 3, ..Default::default() }).unwrap().version, 3);
    assert!(c.dump().problems.is_empty());
}

#[test]
fn concurrent_puts_of_one_key() {
    let p = TmpPath::new("concurrent");
    let a = Arc::new(create(&p, small()));
    let b = Arc::new(open(&p));
    let written: Vec<Vec<u8>> = (0..4).flat_map(|t| (0..200).map(move |i| format!("t{t}-{i}").into_bytes())).collect();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                let mut ok = 0;
                let mut last = 0;
                for i in 0..200 {
                    match c.put(b"shared", format!("t{t}-{i}").as_bytes(), PutOptions::default()) {
                        Ok(o) => {
                            ok += 1;
                            last = last.max(o.version);
                        }
                        Err(e) => assert_eq!(e.kind, OpErrorKind::Busy, "{e}"),
                    }
                    // Readers never see a torn or foreign value.
                    if let Some(h) = c.get(b"shared").hit() {
                        assert!(String::from_utf8(h.value.clone()).unwrap().starts_with('t'));
                    }
                }
                (ok, last)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().map(|r| r.0).sum::<u32>() > 0);
    let d = a.dump();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let holders: Vec<_> = d.entries.iter().filter(|e| e.key == b"shared").collect();
    assert_eq!(holders.len(), 1, "duplicate key in shard");
    let final_value = val(&a, b"shared").unwrap();
    assert!(written.contains(&final_value));
    // The final version is the largest any put returned.
    let max = results.iter().map(|r| r.1).max().unwrap();
    assert_eq!(a.get(b"shared").hit().unwrap().info.version, max);
}

#[test]
fn concurrent_inserts_of_distinct_keys() {
    let p = TmpPath::new("inserts");
    let c = Arc::new(create(&p, Geometry::default()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    let k = format!("k{t}-{i}");
                    loop {
                        match c.put(k.as_bytes(), k.as_bytes(), PutOptions::default()) {
                            Ok(_) => break,
                            Err(e) if e.kind == OpErrorKind::Busy => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let d = c.dump();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let keys: HashSet<_> = d.entries.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys.len(), d.entries.len(), "a key is held twice");
    for e in &d.entries {
        assert_eq!(e.key, e.value);
    }
}

#[test]
fn dead_writer_claim_is_reclaimed() {
    let p = TmpPath::new("dead");
    let a = create(&p, small());
    let b = open(&p);
    assert_eq!(b.participant_id(), 2);
    let staged = b.put_staged(b"k", b"never published", PutOptions::default()).unwrap();
    drop(b); // closes the descriptor: the kernel drops b's participant lock ("crash")
    let _ = staged;
    assert!(!a.get(b"k").is_hit());
    assert!(!a.participants().iter().find(|p| p.index == 1).unwrap().alive);
    // a's put finds WRITING(2), sees 2 dead, reclaims (T12), then inserts.
    let out = a.put(b"k", b"v", PutOptions::default()).unwrap();
    assert!(out.created);
    assert_eq!(val(&a, b"k").unwrap(), b"v");
    assert_eq!(a.stats().totals.counters.reclaims, 1);

    // A dead refresher (T13): the old value stays, and the slot becomes READY again.
    let c = open(&p);
    let _st = c.put_staged(b"k", b"half", PutOptions::default()).unwrap();
    drop(c);
    assert_eq!(val(&a, b"k").unwrap(), b"v"); // REFRESHING: old value readable
    assert!(a.invalidate(b"k").unwrap()); // reclaims (T13) then invalidates
    assert_eq!(a.stats().totals.counters.reclaims, 2);
    assert!(a.dump().problems.is_empty());
}

#[test]
fn registration_sweeps_a_dead_predecessor() {
    let p = TmpPath::new("sweep");
    let a = create(&p, small());
    let b = open(&p);
    let _st = b.put_staged(b"orphan", b"x", PutOptions::default()).unwrap();
    drop(b);
    let gen = a.generation();
    // The next opener takes index 1 (id 2) and sweeps its predecessor's claim before any claim.
    let c = open(&p);
    assert_eq!(c.participant_id(), 2);
    let s = a.stats().totals;
    assert_eq!(s.counters.reclaims, 1);
    assert_eq!(s.occupancy.get(State::Writing), 0);
    assert!(a.generation() != gen, "a reclaim bumps the generation");
    let parts = a.participants();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1].epoch, 2);
    assert!(parts.iter().all(|p| p.alive));
}

#[test]
fn dead_insert_lock_is_freed() {
    let p = TmpPath::new("lock");
    let a = create(&p, small());
    let b = open(&p);
    let loc_shard = a.put(b"probe", b"x", PutOptions::default()).unwrap().shard;
    // Plant b's id in that shard's insert lock, then let b die.
    let lock_off = a.layout().shard_offset(loc_shard);
    poke(p.path(), lock_off, b.participant_id() as u64);
    drop(b);
    a.invalidate(b"probe").unwrap();
    a.put(b"probe", b"y", PutOptions::default()).unwrap();
    assert_eq!(peek(p.path(), lock_off), 0);
    assert_eq!(a.stats().shards[loc_shard as usize].counters.reclaims, 1);
}

#[test]
fn participants_registration_and_liveness() {
    let p = TmpPath::new("participants");
    let a = create(&p, Geometry { participant_capacity: 2, ..small() });
    let b = open(&p);
    let e = Cache::open(p.path(), quick()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::ParticipantsFull);
    let list = a.participants();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|x| x.alive && x.language == 2 && x.pid == std::process::id() as u64));
    assert_eq!(list[0].protocol_major, 1);
    drop(b);
    let list = a.participants();
    assert!(list[0].alive && !list[1].alive);
    let c = open(&p);
    assert_eq!(c.participant_id(), 2);
}

#[test]
fn wait_for_change_wakes_and_times_out() {
    let p = TmpPath::new("wait");
    let a = Arc::new(create(&p, small()));
    let b = open(&p);
    let seen = a.generation();
    // Timeout: nobody publishes.
    let (g, timed_out) = a.wait_for_change(seen, Duration::from_millis(20));
    assert!(timed_out);
    assert_eq!(g, seen);
    // Woken by a put from another handle on another thread. The timeout is only a safety net.
    let waiter = {
        let a = a.clone();
        std::thread::spawn(move || a.wait_for_change(seen, Duration::from_secs(60)))
    };
    b.put(b"k", b"v", PutOptions::default()).unwrap();
    let (g, timed_out) = waiter.join().unwrap();
    assert!(!timed_out);
    assert_ne!(g, seen);
    // Already changed: returns at once.
    assert_eq!(a.wait_for_change(seen, Duration::from_secs(60)), (a.generation(), false));
}

#[test]
fn tracing_records_transitions() {
    let p = TmpPath::new("trace");
    let c = Cache::create(p.path(), small(), CreateOptions { trace: true, ..Default::default() }).unwrap();
    c.put(b"k", b"1", PutOptions::default()).unwrap();
    c.put(b"k", b"2", PutOptions::default()).unwrap();
    c.invalidate(b"k").unwrap();
    let ev = c.take_events();
    let names: Vec<_> = ev.iter().map(|e| e.event).collect();
    assert_eq!(names, ["claim", "publish", "refresh_claim", "refresh_publish", "invalidate_claim", "clear"]);
    assert_eq!(ev[0].gseq, 0, "gseq is the value before the fetch-add; the first event is 0");
    assert_eq!((ev[0].owner, ev[1].owner), (c.participant_id(), c.participant_id()));
    for w in ev.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1);
        assert!(w[1].gseq > w[0].gseq);
        assert_eq!(w[1].from, w[0].to);
    }
    assert!(c.take_events().is_empty());
}

#[test]
fn mixed_stress_keeps_invariants() {
    // Tiny window so that inserts evict, several handles (distinct participants) and threads.
    let g = Geometry { shard_count: 2, slots_per_shard: 8, key_capacity: 16, value_capacity: 64, probe_window: 4, participant_capacity: 8 };
    let p = TmpPath::new("stress");
    let handles: Vec<Arc<Cache>> = {
        let first = Arc::new(create(&p, g));
        let mut v = vec![first];
        v.push(Arc::new(open(&p)));
        v.push(Arc::new(open(&p)));
        v
    };
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let c = handles[t % handles.len()].clone();
            std::thread::spawn(move || {
                let mut seen_version = std::collections::HashMap::new();
                let mut x: u64 = 0x1234_5678 + t as u64;
                for _ in 0..5000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = format!("k{}", x % 24).into_bytes();
                    match x % 10 {
                        0 => {
                            let _ = c.invalidate(&k);
                        }
                        1 => {
                            let _ = c.evict(&k);
                        }
                        2..=4 => {
                            let mut v = k.clone();
                            v.extend_from_slice(&x.to_le_bytes()[..(x % 8) as usize]);
                            match c.put(&k, &v, PutOptions::default()) {
                                Ok(o) => {
                                    let e = seen_version.entry(k.clone()).or_insert(0u64);
                                    assert!(o.version > *e, "put version went back");
                                    *e = o.version;
                                }
                                Err(e) => assert!(matches!(e.kind, OpErrorKind::Busy | OpErrorKind::Full), "{e}"),
                            }
                        }
                        _ => {
                            if let Some(h) = c.get(&k).hit() {
                                assert!(h.value.starts_with(&k), "value of another key returned");
                                let e = seen_version.entry(k.clone()).or_insert(0u64);
                                assert!(h.info.version >= *e, "read version went back");
                                *e = h.info.version;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let d = handles[0].dump();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let keys: HashSet<_> = d.entries.iter().map(|e| (e.shard, e.key.clone())).collect();
    assert_eq!(keys.len(), d.entries.len(), "a key is held twice");
    let s = handles[0].stats().totals;
    assert_eq!(s.occupancy.impossible, 0);
    assert_eq!(s.occupancy.get(State::Writing) + s.occupancy.get(State::Refreshing) + s.occupancy.get(State::Invalidated), 0);
    assert_eq!(handles.iter().map(|h| h.corrupt_count()).sum::<u64>(), 0);
}

#[test]
fn huge_timeouts_do_not_panic() {
    let p = TmpPath::new("hugetimeout");
    let a = Arc::new(create(&p, small()));
    let seen = a.generation();
    let waiter = {
        let a = a.clone();
        std::thread::spawn(move || a.wait_for_change(seen, Duration::MAX))
    };
    a.put(b"k", b"v", PutOptions::default()).unwrap();
    assert!(!waiter.join().unwrap().1);
    let opts = OpenOptions { ready_timeout: Duration::MAX, ..Default::default() };
    assert!(Cache::open(p.path(), opts).is_ok());
}
