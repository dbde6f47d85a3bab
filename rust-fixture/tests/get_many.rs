//! `Cache::get_many_into` against N calls of `get_into` (docs/using/rust.md "Batched gets"): the
//! same batch on two identical segments gives the same results, values, counters and slot states.

mod common;
use common::*;
use std::time::Duration;
use warmcache::{Cache, HitInfo, PutOptions, Staged, MAX_GET_BATCH};

/// One segment holding every case a batched get must answer as N gets do: fresh hits, a stale
/// entry (TTL passed, grace not: the first get makes T7), one expired past its grace, a key mid-
/// insert (WRITING, staged and not published: not readable) and one mid-refresh (REFRESHING:
/// still serves its active record); the batch also asks absent, empty and over-long keys, and
/// the stale key twice so that only the first may request the refresh. The staged writes are
/// returned so that they stay unpublished while the batch runs.
fn segment(p: &TmpPath) -> (Cache, Cache, Vec<Vec<u8>>, Vec<Staged>) {
    let a = create_sim(p, small(), 1_000);
    let r = open(p);
    for i in 0..8 {
        a.put(format!("hit{i}").as_bytes(), format!("value-{i}").as_bytes(), PutOptions::default()).unwrap();
    }
    let ttl = |t, g| PutOptions { ttl: Duration::from_nanos(t), grace: Duration::from_nanos(g), ..Default::default() };
    a.put(b"stale", b"old", ttl(100, 500)).unwrap();
    a.put(b"expired", b"gone", ttl(10, 1)).unwrap();
    a.put(b"refreshing", b"served", PutOptions::default()).unwrap();
    let staged = vec![
        a.put_staged(b"writing", b"half", PutOptions::default()).unwrap(),
        a.put_staged(b"refreshing", b"not yet", PutOptions::default()).unwrap(),
    ];
    a.set_sim_clock(1_200).unwrap();
    let keys: Vec<Vec<u8>> = [
        &b"hit0"[..], b"stale", b"absent", b"writing", b"hit5", b"expired", b"stale", b"refreshing", b"", &[b'x'; 33], b"hit7", b"hit0",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    (a, r, keys, staged)
}

#[test]
fn get_many_into_is_n_gets() {
    let (p1, p2) = (TmpPath::new("getmany-one"), TmpPath::new("getmany-many"));
    let (a1, one, keys, _s1) = segment(&p1);
    let (a2, many, _, _s2) = segment(&p2);
    let n = keys.len();
    let mut want_v = vec![Vec::new(); n];
    let want: Vec<Option<HitInfo>> = keys.iter().zip(want_v.iter_mut()).map(|(k, v)| one.get_into(k, v)).collect();
    // Buffers that held something before: a miss must leave its buffer empty, as get_into does.
    let mut got_v = vec![b"leftover".to_vec(); n];
    let mut got = vec![None; n];
    many.get_many_into(&keys, &mut got_v, &mut got);
    assert_eq!(got, want);
    assert_eq!(got_v, want_v);
    // Pin the cases, so that the comparison cannot pass on two equally wrong answers.
    let hit = |i: usize| got[i].is_some();
    assert!(hit(0) && hit(1) && hit(6) && hit(7) && hit(10) && hit(11));
    assert!(!hit(2) && !hit(3) && !hit(5) && !hit(8) && !hit(9));
    assert!(got[1].unwrap().stale && got[1].unwrap().refresh_requested && !got[6].unwrap().refresh_requested);
    assert_eq!(got_v[7], b"served");
    assert_eq!(format!("{:?}", one.stats().totals), format!("{:?}", many.stats().totals));
    let states = |c: &Cache| c.dump().entries.iter().map(|e| (e.shard, e.slot, e.state, e.seq)).collect::<Vec<_>>();
    assert_eq!(states(&a1), states(&a2));
}

#[test]
fn get_many_into_serves_long_batches_in_chunks() {
    let p = TmpPath::new("getmany-chunks");
    let c = create(&p, warmcache::Geometry { shard_count: 8, slots_per_shard: 128, probe_window: 16, ..small() });
    let n = 2 * MAX_GET_BATCH + 3;
    let keys: Vec<String> = (0..n).map(|i| format!("key{i}")).collect();
    for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
        c.put(k.as_bytes(), format!("v{i}").as_bytes(), PutOptions::default()).unwrap();
    }
    let mut values = vec![Vec::new(); n];
    let mut results = vec![None; n];
    c.get_many_into(&keys, &mut values, &mut results);
    for i in 0..n {
        assert_eq!(results[i].is_some(), i % 3 != 0, "key {i}");
        if i % 3 != 0 {
            assert_eq!(values[i], format!("v{i}").as_bytes());
        }
    }
}

#[test]
#[should_panic(expected = "as long as keys")]
fn get_many_into_refuses_short_outputs() {
    let p = TmpPath::new("getmany-short");
    let c = create(&p, small());
    c.get_many_into(&[b"a", b"b"], &mut [Vec::new()], &mut [None, None]);
}
