//! Compaction (docs/PERSISTENCE.md §8): the journals no process appends to any more, and the
//! newest valid snapshot, are folded into a new snapshot; only once that snapshot's name is
//! durable are the files it covers removed. The order is what makes a crash or a power cut at
//! any point lose nothing:
//!
//! ```text
//!  lock restore.lock ─ lock covered journals ─ write .tmp ─ [snapshot.after_write] ─ fsync .tmp
//!  ─ [snapshot.before_rename] ─ rename ─ fsync(DIR) ─ [snapshot.before_remove]
//!  ─ unlink each covered file [snapshot.after_remove] ─ fsync(DIR) ─ unlock
//! ```
//!
//! Before the rename only a `.tmp` exists, which nobody reads; after `fsync(DIR)` the snapshot
//! holds every record of the files it covers, so removing them (or a power cut bringing some
//! back, an unlink being durable only at the next `fsync(DIR)`) changes nothing a restore reads:
//! a record read twice merges into itself (§7 step 5).

use super::format::{encode_header, encode_record, Record, StoreHeader, StoreProblem, KIND_DELETE, KIND_END, SNAPSHOT_MAGIC};
use super::restore::{list_store, lock_store, read_file, Merge};
use crate::cache::Cache;
use crate::clock::realtime_ns;
use crate::error::{OpenError, OpenErrorKind};
use crate::layout::Geometry;
use crate::pause::{PauseHook, PausePoint};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// What a compaction did (§8).
#[derive(Clone, Debug, Default)]
pub struct CompactReport {
    /// The snapshot written; empty when no journal could be covered.
    pub snapshot: String,
    /// The older snapshot folded in; empty if none.
    pub base: String,
    /// Journals folded in (and removed).
    pub covered: u64,
    /// Journals left because a writer still holds them.
    pub live: u64,
    /// Records in the new snapshot, tombstones included.
    pub records: u64,
    /// Of which invalidations.
    pub tombstones: u64,
    /// Files removed: covered journals, older snapshots, dead `.tmp` files.
    pub removed: u64,
    /// The end record's version.
    pub version_floor: u64,
    /// The end record's order.
    pub order_floor: u64,
    /// What reading the files met (§9).
    pub problems: Vec<StoreProblem>,
}

fn io(path: &Path, e: std::io::Error) -> OpenError {
    OpenError::io("compact", &path.display().to_string(), e.raw_os_error().unwrap_or(libc::EIO))
}

fn flock(f: &File, how: i32) -> bool {
    // SAFETY: a valid descriptor we own; released when `f` is dropped.
    unsafe { libc::flock(f.as_raw_fd(), how) == 0 }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Folds the journals of geometry `g` in `dir` that no writer holds into a new snapshot and
/// removes what it covers (§8). Needs no handle; a handle's own live journal is not covered
/// (`Cache::compact` ends it first).
pub fn compact(dir: &Path, g: Geometry) -> Result<CompactReport, OpenError> {
    compact_paused(dir, g, None)
}

/// [`compact`] with a pause hook at the `snapshot.*` points (PROTOCOL.md §17): harness-only,
/// like every hook (the `harness` feature).
#[cfg(feature = "harness")]
pub fn compact_with_pause(dir: &Path, g: Geometry, pause: PauseHook) -> Result<CompactReport, OpenError> {
    compact_paused(dir, g, Some(pause))
}

pub(crate) fn compact_paused(dir: &Path, g: Geometry, pause: Option<PauseHook>) -> Result<CompactReport, OpenError> {
    g.check_limits().map_err(|m| OpenError::new(OpenErrorKind::BadGeometry, m))?;
    let at = |p: PausePoint| {
        if let Some(h) = &pause {
            if crate::pause::PAUSE_POINTS_COMPILED {
                h(p);
            }
        }
    };
    let mut rep = CompactReport::default();
    // Step 1: restorers and other compactors wait; writers do not.
    let lock = lock_store(dir, "compact")?;
    let mut m = Merge::default();
    let (snaps, journals) = list_store(dir, &mut m.problems);
    // Step 2: covered = its flock can be taken (the writer closed it or died) and its header is
    // valid and of `g`. The lock comes before the read: a writer flocks a new file before it
    // writes the header, so a file read under our lock is finished or has no valid header yet.
    let mut held: Vec<(File, String)> = Vec::new();
    for name in &journals {
        let p = dir.join(name);
        let f = match File::open(&p) {
            Ok(f) => f,
            Err(e) => {
                m.problems.push(StoreProblem { file: p.display().to_string(), offset: 0, code: "io", detail: e.to_string(), not_applied_bytes: 0 });
                continue;
            }
        };
        if !flock(&f, libc::LOCK_EX | libc::LOCK_NB) {
            rep.live += 1;
            continue;
        }
        let sf = read_file(dir, name, g, &mut m.problems);
        if sf.header.is_none() {
            // Another geometry, or not (yet) a journal: reported, never removed.
            m.problems.extend(sf.problems);
            continue;
        }
        m.take(sf);
        held.push((f, name.clone()));
    }
    if held.is_empty() {
        rep.problems = m.problems;
        return Ok(rep);
    }
    // Step 3: the base snapshot (order decides, not reading order).
    rep.base = m.take_newest_snapshot(dir, &snaps, g);
    let mut recs: Vec<Record> = m.into_winners().collect();
    recs.sort_by_key(|r| r.order);
    rep.tombstones = recs.iter().filter(|r| r.kind == KIND_DELETE).count() as u64;
    rep.records = recs.len() as u64;
    rep.version_floor = m.version_floor;
    rep.order_floor = m.order_floor;
    rep.problems = std::mem::take(&mut m.problems);
    let final_name = format!("snapshot-{:016x}.wcs", next_snapshot_number(dir));
    let final_path = dir.join(&final_name);
    let tmp = dir.join(format!("{final_name}.tmp.{}", std::process::id()));
    let hdr = StoreHeader {
        magic: SNAPSHOT_MAGIC,
        geometry: g,
        segment_created_at_ns: 0,
        writer: 0,
        writer_start_time: 0,
        participant: 0,
        epoch: 0,
        created_at_ns: realtime_ns(),
    };
    if let Err(e) = write_snapshot(&tmp, &hdr, &mut recs, rep.order_floor, rep.version_floor, &at) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&tmp, e));
    }
    // Step 4.
    at(PausePoint::SnapshotBeforeRename);
    if let Err(e) = std::fs::rename(&tmp, &final_path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&final_path, e));
    }
    sync_dir(dir).map_err(|e| io(dir, e))?;
    rep.snapshot = final_name;
    at(PausePoint::SnapshotBeforeRemove);
    // Step 5: only now is anything removed. Every snapshot listed is older than the new one.
    let mut doomed: Vec<String> = held.iter().map(|(_, n)| n.clone()).collect();
    doomed.extend(snaps.iter().cloned());
    doomed.extend(dead_temporaries(dir));
    for name in doomed {
        let p = dir.join(&name);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                rep.problems.push(StoreProblem { file: p.display().to_string(), offset: 0, code: "io", detail: e.to_string(), not_applied_bytes: 0 });
                continue;
            }
        }
        rep.removed += 1;
        at(PausePoint::SnapshotAfterRemove);
    }
    rep.covered = held.len() as u64;
    sync_dir(dir).map_err(|e| io(dir, e))?;
    drop(held);
    drop(lock);
    Ok(rep)
}

/// Writes `hdr`, `recs` with seq 1, 2, … and the end record to `path`, then fsyncs it.
fn write_snapshot(
    path: &Path,
    hdr: &StoreHeader,
    recs: &mut [Record],
    order_floor: u64,
    version_floor: u64,
    at: &dyn Fn(PausePoint),
) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_CLOEXEC).open(path)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, &f);
    w.write_all(&encode_header(hdr))?;
    for (i, r) in recs.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
        w.write_all(&encode_record(r))?;
    }
    let end = Record { kind: KIND_END, seq: recs.len() as u64 + 1, order: order_floor, version: version_floor, ..Default::default() };
    w.write_all(&encode_record(&end))?;
    w.flush()?;
    drop(w);
    at(PausePoint::SnapshotAfterWrite);
    f.sync_all()
}

/// One more than the highest snapshot number in `dir`, `.tmp` names included (so that a crashed
/// compactor's leftover never shares a final name).
fn next_snapshot_number(dir: &Path) -> u64 {
    let mut next = 1u64;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(hex) = name.strip_prefix("snapshot-").and_then(|r| r.get(..16)) {
                if let Ok(v) = u64::from_str_radix(hex, 16) {
                    next = next.max(v.saturating_add(1));
                }
            }
        }
    }
    next
}

/// The `.tmp` files of compactors that are no longer running (§8 allows removing them).
fn dead_temporaries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let me = std::process::id() as i32;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with("snapshot-") {
                continue;
            }
            let Some(pid) = name.rsplit_once(".tmp.").and_then(|(_, p)| p.parse::<i32>().ok()) else { continue };
            // SAFETY: kill with signal 0 only probes whether the pid exists.
            if pid > 0 && pid != me && unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
                out.push(name);
            }
        }
    }
    out
}

impl Cache {
    /// Ends this handle's current journal part (so that its file can be covered, §8 step 1) and
    /// compacts its store.
    pub fn compact(&self) -> Result<CompactReport, OpenError> {
        let Some(j) = self.journal.as_ref() else {
            return Err(OpenError::new(OpenErrorKind::Io, "compact: the handle has no store"));
        };
        j.end_current_part();
        compact_paused(&j.opts.dir, self.seg.layout.geometry, self.pause.clone())
    }

    /// The directory this handle journals into, if it has a store.
    pub fn store_dir(&self) -> Option<&Path> {
        self.journal.as_ref().map(|j| j.opts.dir.as_path())
    }
}
