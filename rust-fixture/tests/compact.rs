//! Compaction (docs/PERSISTENCE.md §8): what a snapshot covers, what it leaves to live writers,
//! a crash at every snapshot point, and snapshots that must never be applied.

mod common;

use common::{small, TmpPath};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use warmcache::durable::format::JOURNAL_SEED;
use warmcache::durable::{compact, compact_with_pause, FsyncPolicy, RestoreReport, StoreOptions};
use warmcache::hash::wch64;
use warmcache::{Cache, CreateOptions, OpenOptions, PausePoint, PutOptions};

fn restore(p: &TmpPath, dir: &Path) -> (Cache, RestoreReport) {
    let store = StoreOptions { dir: dir.to_path_buf(), policy: FsyncPolicy::Always };
    Cache::open_or_restore(p.path(), small(), store, CreateOptions::default(), OpenOptions::default()).expect("restore")
}

fn durable() -> PutOptions {
    PutOptions { durable: true, ..Default::default() }
}

fn store_dir(p: &TmpPath) -> PathBuf {
    let mut d = p.path().as_os_str().to_owned();
    d.push(".store");
    d.into()
}

fn names(dir: &Path, prefix: &str, suffix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// `n` durable puts k0.., k1 invalidated durably, the handle closed: what a restore must give.
fn fill(p: &TmpPath, dir: &Path, n: usize) -> HashMap<String, String> {
    let (c, _) = restore(p, dir);
    let mut want = HashMap::new();
    for i in 0..n {
        c.put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes(), durable()).unwrap();
        want.insert(format!("k{i}"), format!("v{i}"));
    }
    c.invalidate_durable(b"k1", true).unwrap();
    want.remove("k1");
    want
}

fn check(p: &TmpPath, dir: &Path, want: &HashMap<String, String>) -> RestoreReport {
    let _ = std::fs::remove_file(p.path());
    let (c, rep) = restore(p, dir);
    assert!(rep.restored, "{rep:?}");
    for (k, v) in want {
        let l = c.get(k.as_bytes());
        assert_eq!(l.hit().map(|h| h.value.clone()), Some(v.as_bytes().to_vec()), "{k}: {rep:?}");
    }
    assert!(!c.get(b"k1").is_hit(), "the invalidated k1 came back");
    assert_eq!(rep.installed as usize, want.len(), "{rep:?}");
    rep
}

#[test]
fn compaction_folds_closed_journals_into_a_snapshot_and_restore_reads_it() {
    let p = TmpPath::new("compact-fold");
    let dir = store_dir(&p);
    let mut want = fill(&p, &dir, 10);
    let rep = compact(&dir, small()).unwrap();
    assert!(!rep.snapshot.is_empty() && rep.covered == 1 && rep.records == 10 && rep.tombstones == 1 && rep.removed == 1, "{rep:?}");
    assert_eq!(names(&dir, "snapshot-", ".wcs"), vec![rep.snapshot.clone()]);
    assert!(names(&dir, "journal-", ".wcj").is_empty());
    let r = check(&p, &dir, &want);
    assert_eq!((r.snapshot.as_str(), r.order_floor, r.version_floor), (rep.snapshot.as_str(), rep.order_floor, rep.version_floor));
    // A journal tail over the snapshot, then a second compaction over the first.
    let (c, _) = restore(&p, &dir);
    c.put(b"k0", b"v0b", durable()).unwrap();
    drop(c);
    want.insert("k0".into(), "v0b".into());
    let rep2 = compact(&dir, small()).unwrap();
    assert!(rep2.base == rep.snapshot && rep2.snapshot > rep.snapshot && rep2.removed == 2, "{rep2:?}");
    check(&p, &dir, &want);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_live_journal_is_left_and_cache_compact_ends_its_own() {
    let p = TmpPath::new("compact-live");
    let dir = store_dir(&p);
    let (c, _) = restore(&p, &dir);
    c.put(b"a", b"1", durable()).unwrap();
    let rep = compact(&dir, small()).unwrap();
    assert!(rep.snapshot.is_empty() && rep.live == 1 && rep.covered == 0, "{rep:?}");
    let rep = c.compact().unwrap();
    assert!(rep.covered == 1 && rep.live == 0, "{rep:?}");
    assert!(c.put(b"b", b"2", durable()).unwrap().durable);
    assert!(c.journal_state().path.ends_with("-0001.wcj"), "{:?}", c.journal_state());
    drop(c);
    let _ = std::fs::remove_file(p.path());
    let (c, r) = restore(&p, &dir);
    assert!(c.get(b"a").is_hit() && c.get(b"b").is_hit() && !r.snapshot.is_empty(), "{r:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A crash at every snapshot point (the hook panics there; unwinding closes the descriptors as
/// a kill would): restore still gives every acknowledged write, and the next compaction finishes.
#[test]
fn a_crash_at_every_snapshot_point_loses_nothing() {
    for point in [PausePoint::SnapshotAfterWrite, PausePoint::SnapshotBeforeRename, PausePoint::SnapshotBeforeRemove, PausePoint::SnapshotAfterRemove] {
        let p = TmpPath::new("compact-crash");
        let dir = store_dir(&p);
        let mut want = fill(&p, &dir, 8);
        let (c, _) = restore(&p, &dir);
        c.put(b"k2", b"v2b", durable()).unwrap(); // a second journal: after_remove falls between two
        drop(c);
        want.insert("k2".into(), "v2b".into());
        let reached = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r2 = reached.clone();
        let hook: warmcache::PauseHook = Arc::new(move |q| {
            if q == point {
                r2.store(true, std::sync::atomic::Ordering::SeqCst);
                panic!("crash at {}", q.name());
            }
        });
        let d2 = dir.clone();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || compact_with_pause(&d2, small(), hook)));
        assert!(reached.load(std::sync::atomic::Ordering::SeqCst), "{} not reached", point.name());
        check(&p, &dir, &want);
        let rep = compact(&dir, small()).unwrap();
        assert!(!rep.snapshot.is_empty(), "{}: {rep:?}", point.name());
        assert_eq!(names(&dir, "snapshot-", ".wcs").len(), 1, "{}", point.name());
        assert!(names(&dir, "journal-", ".wcj").is_empty(), "{}", point.name());
        check(&p, &dir, &want);
        std::fs::remove_dir_all(&dir).ok();
    }
}

fn reseal(b: &mut [u8]) {
    let sum = wch64(&b[..88], JOURNAL_SEED);
    b[88..96].copy_from_slice(&sum.to_le_bytes());
}

/// A truncated newest snapshot falls back to the older one; one of another geometry or of an
/// unknown format is skipped and reported; a compactor never removes a file of another geometry.
#[test]
fn bad_snapshots_are_reported_and_never_applied() {
    let p = TmpPath::new("compact-bad");
    let dir = store_dir(&p);
    let want = fill(&p, &dir, 6);
    let rep = compact(&dir, small()).unwrap();
    let good = std::fs::read(dir.join(&rep.snapshot)).unwrap();
    let has = |r: &RestoreReport, file: &str, code: &str| r.problems.iter().any(|q| q.file.ends_with(file) && q.code == code);
    let plant = |n: u64, data: &[u8]| {
        let name = format!("snapshot-{n:016x}.wcs");
        std::fs::write(dir.join(&name), data).unwrap();
        name
    };
    let t = plant(10, &good[..good.len() - 40]);
    let r = check(&p, &dir, &want);
    assert!(r.snapshot == rep.snapshot && has(&r, &t, "torn_record"), "{r:?}");
    std::fs::remove_file(dir.join(&t)).unwrap();
    let mut other = good.clone();
    other[24] ^= 1; // geometry_sizes: another key capacity
    reseal(&mut other);
    let o = plant(11, &other);
    let r = check(&p, &dir, &want);
    assert!(r.snapshot == rep.snapshot && has(&r, &o, "other_geometry"), "{r:?}");
    std::fs::remove_file(dir.join(&o)).unwrap();
    let mut future = good.clone();
    future[8] = 2; // major 2
    reseal(&mut future);
    let f = plant(12, &future);
    let r = check(&p, &dir, &want);
    assert!(r.snapshot == rep.snapshot && has(&r, &f, "unsupported_format"), "{r:?}");
    std::fs::remove_file(dir.join(&f)).unwrap();
    let stray = "journal-0000000000000000-0001-0000000000000001-0000.wcj";
    std::fs::write(dir.join(stray), &other).unwrap();
    let rc = compact(&dir, small()).unwrap();
    assert!(rc.covered == 0 && rc.problems.iter().any(|q| q.file.ends_with(stray) && q.code == "other_geometry"), "{rc:?}");
    assert!(dir.join(stray).exists(), "a journal of another geometry was removed");
    std::fs::remove_dir_all(&dir).ok();
}
