//! Restore (docs/PERSISTENCE.md §7): a segment that is missing or unusable is rebuilt from the
//! newest valid snapshot and every journal, through the never-half-built create path of
//! PROTOCOL.md §4.1, filled before `ready`.

use super::format::{decode, Record, StoreFile, StoreProblem, HDR_DURABLE_ORDER, KIND_DELETE};
use super::journal::StoreOptions;
use crate::cache::Cache;
use crate::clock::realtime_ns;
use crate::error::{OpenError, OpenErrorKind};
use crate::hash::{chunk, wch64, words, KEY_SEED, VALUE_SEED};
use crate::layout::*;
use crate::pause::PausePoint;
use crate::segment::{CreateOptions, OpenOptions};
use crate::shm::Shm;
use crate::state::{State, Word};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

/// What a restore did.
#[derive(Clone, Debug, Default)]
pub struct RestoreReport {
    /// This call rebuilt the segment from the store (false: the file was usable).
    pub restored: bool,
    /// The snapshot read, empty if none.
    pub snapshot: String,
    /// Store files read.
    pub files: u64,
    /// Records read.
    pub records: u64,
    /// Entries installed into the new segment.
    pub installed: u64,
    /// Keys whose winning record is a tombstone.
    pub tombstones: u64,
    /// Winners dropped because they are expired at the new segment's `now`.
    pub expired: u64,
    /// Winners that found no `EMPTY` slot in their window and gave theirs up.
    pub evicted: u64,
    /// Highest version of every record read; stored as `version_clock`.
    pub version_floor: u64,
    /// Highest order of every record read; stored as `durable_order`.
    pub order_floor: u64,
    /// Every problem met reading the store (PERSISTENCE.md §9).
    pub problems: Vec<StoreProblem>,
}

/// §7 step 2: after these the file is rebuilt; any other error is returned (a file of a newer
/// version or another user is never replaced). A file over the reader's size bound
/// (`bad_geometry` rule 9) is healthy, only too large for this reader: never replaced either.
fn unusable(e: &OpenError) -> bool {
    use OpenErrorKind::*;
    match e.kind {
        BadGeometry => !e.message.contains(": rule 9 "),
        k => matches!(k, NotFound | TooShort | BadMagic | NotReady | BadHeaderChecksum | Truncated | Sparse),
    }
}

fn io(path: &Path, e: std::io::Error) -> OpenError {
    OpenError::io("restore", &path.display().to_string(), e.raw_os_error().unwrap_or(libc::EIO))
}

impl Cache {
    /// Opens `path`, or rebuilds it from the store when it is missing or unusable (§7). The
    /// handle journals into the store with its policy.
    pub fn open_or_restore(
        path: impl AsRef<Path>,
        geometry: Geometry,
        store: StoreOptions,
        create: CreateOptions,
        open: OpenOptions,
    ) -> Result<(Cache, RestoreReport), OpenError> {
        let path = path.as_ref();
        std::fs::create_dir_all(&store.dir).map_err(|e| io(&store.dir, e))?;
        let attach = |mut c: Cache, rep: RestoreReport| -> Result<(Cache, RestoreReport), OpenError> {
            c.attach_store(store.clone()).map_err(|e| io(&store.dir, e))?;
            Ok((c, rep))
        };
        match Cache::open(path, open.clone()) {
            Ok(c) => return attach(c, RestoreReport::default()),
            Err(e) if !unusable(&e) => return Err(e),
            Err(_) => {}
        }
        // Step 3: one restorer at a time; a starter that waited finds the segment restored.
        let _lock = lock_store(&store.dir, "restore")?;
        let no_poll = OpenOptions { ready_timeout: Duration::ZERO, ..open.clone() };
        let kind = match Cache::open(path, no_poll) {
            Ok(c) => return attach(c, RestoreReport::default()),
            Err(e) if !unusable(&e) => return Err(e),
            Err(e) => e.kind,
        };
        let now = create.hooks().sim_clock_ns.unwrap_or_else(realtime_ns);
        let mut rep = RestoreReport::default();
        let survivors = read_store(&store.dir, geometry, now, &mut rep);
        let shared = Mutex::new(rep);
        let pause = create.hooks().pause_hook;
        let fill = |shm: &Shm, layout: &Layout| {
            install(shm, layout, &survivors, &mut shared.lock().unwrap());
            if let Some(p) = &pause {
                p(PausePoint::RestoreBeforePublish);
            }
        };
        let restoring = crate::segment::Restoring { fill: &fill, replace: kind != OpenErrorKind::NotFound };
        let c = match Cache::create_restoring(path, geometry, create, restoring) {
            Ok(c) => c,
            // A plain creator linked first (§7 step 7): use its segment.
            Err(e) if e.kind == OpenErrorKind::Exists => return attach(Cache::open(path, open)?, RestoreReport::default()),
            Err(e) => return Err(e),
        };
        let mut rep = shared.into_inner().unwrap();
        rep.restored = true;
        attach(c, rep)
    }
}

/// Takes `DIR/restore.lock` exclusively (§7 step 3, §8 step 1); released when the file is dropped.
pub(crate) fn lock_store(dir: &Path, what: &str) -> Result<std::fs::File, OpenError> {
    let lock_path = dir.join("restore.lock");
    let fail = |e: std::io::Error| OpenError::io(what, &lock_path.display().to_string(), e.raw_os_error().unwrap_or(libc::EIO));
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(&lock_path)
        .map_err(fail)?;
    // SAFETY: a valid descriptor; released when `lock` is dropped.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(fail(std::io::Error::last_os_error()));
    }
    Ok(lock)
}

/// §7 steps 4–5: the newest valid snapshot and every journal of `g`, merged by highest order.
fn read_store(dir: &Path, g: Geometry, now: u64, rep: &mut RestoreReport) -> Vec<Record> {
    let mut m = Merge::default();
    let (snaps, journals) = list_store(dir, &mut m.problems);
    rep.snapshot = m.take_newest_snapshot(dir, &snaps, g);
    for name in &journals {
        let f = read_file(dir, name, g, &mut m.problems);
        m.take(f);
    }
    rep.files = m.files;
    rep.records = m.records;
    rep.version_floor = m.version_floor;
    rep.order_floor = m.order_floor;
    rep.problems = std::mem::take(&mut m.problems);
    let mut out: Vec<Record> = Vec::with_capacity(m.winners.len());
    for r in m.into_winners() {
        if r.kind == KIND_DELETE {
            rep.tombstones += 1;
        } else if expired_at(&r, now) {
            rep.expired += 1;
        } else {
            out.push(r);
        }
    }
    out.sort_by_key(|r| r.order);
    out
}

fn io_problem(file: String, e: std::io::Error) -> StoreProblem {
    StoreProblem { file, offset: 0, code: "io", detail: e.to_string(), not_applied_bytes: 0 }
}

/// The snapshot and journal names of `dir` (§2), each sorted: the fixed widths make name order
/// numeric order.
pub(crate) fn list_store(dir: &Path, problems: &mut Vec<StoreProblem>) -> (Vec<String>, Vec<String>) {
    let mut snaps = Vec::new();
    let mut journals = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with("snapshot-") && name.ends_with(".wcs") {
                    snaps.push(name);
                } else if name.starts_with("journal-") && name.ends_with(".wcj") {
                    journals.push(name);
                }
            }
        }
        Err(e) => problems.push(io_problem(dir.display().to_string(), e)),
    }
    snaps.sort();
    journals.sort();
    (snaps, journals)
}

/// Reads and decodes one file of the store (§9); an unreadable file is an `io` problem.
pub(crate) fn read_file(dir: &Path, name: &str, g: Geometry, problems: &mut Vec<StoreProblem>) -> StoreFile {
    let p = dir.join(name);
    match std::fs::read(&p) {
        Ok(data) => decode(&p.display().to_string(), &data, Some(g)),
        Err(e) => {
            problems.push(io_problem(p.display().to_string(), e));
            StoreFile::default()
        }
    }
}

/// §7 step 5's merge, shared by restore and compaction (§8 step 3): per key the record of the
/// highest order, and the floors over every record read.
///
/// A winner is stored with its key moved out into the map's key (its `key` field is empty until
/// [`Merge::into_winners`] puts it back): cloning every record's key for the map was one of the
/// three allocations per record a restore made.
#[derive(Default)]
pub(crate) struct Merge {
    winners: HashMap<Vec<u8>, Record>,
    pub(crate) files: u64,
    pub(crate) records: u64,
    pub(crate) version_floor: u64,
    pub(crate) order_floor: u64,
    pub(crate) problems: Vec<StoreProblem>,
}

impl Merge {
    /// Merges the applied prefix of `f` (nothing of a file whose header failed).
    pub(crate) fn take(&mut self, f: StoreFile) {
        self.problems.extend(f.problems);
        if f.header.is_none() {
            return;
        }
        self.files += 1;
        if self.winners.is_empty() {
            // The first file read (the snapshot, or the oldest journal) sizes the map once.
            self.winners.reserve(f.records.len());
        }
        for mut r in f.records {
            self.records += 1;
            self.raise(r.version, r.order);
            // Two records of one order are one write read twice (a snapshot and a journal it
            // covered): keeping the first is keeping either.
            match self.winners.entry(std::mem::take(&mut r.key)) {
                Entry::Occupied(mut w) => {
                    if w.get().order < r.order {
                        w.insert(r);
                    }
                }
                Entry::Vacant(v) => {
                    v.insert(r);
                }
            }
        }
    }

    /// Every key's winning record, its key put back.
    pub(crate) fn into_winners(&mut self) -> impl Iterator<Item = Record> + '_ {
        self.winners.drain().map(|(k, mut r)| {
            r.key = k;
            r
        })
    }

    fn raise(&mut self, version: u64, order: u64) {
        self.version_floor = self.version_floor.max(version);
        self.order_floor = self.order_floor.max(order);
    }

    /// Merges the newest valid snapshot of `snaps` (sorted) and returns its name ("" if none);
    /// an incomplete or unreadable one is reported and the next older one used (§8, §9).
    pub(crate) fn take_newest_snapshot(&mut self, dir: &Path, snaps: &[String], g: Geometry) -> String {
        for name in snaps.iter().rev() {
            let f = read_file(dir, name, g, &mut self.problems);
            if let (Some(_), Some(end)) = (f.header, f.end.clone()) {
                self.take(f);
                self.raise(end.version, end.order);
                return name.clone();
            }
            self.problems.extend(f.problems);
        }
        String::new()
    }
}

/// PROTOCOL.md §12's miss rule applied to a record.
fn expired_at(r: &Record, now: u64) -> bool {
    if r.expires_at_ns == 0 {
        false
    } else if r.stale_until_ns == 0 {
        now >= r.expires_at_ns
    } else {
        now >= r.stale_until_ns
    }
}

/// §7 step 6: install the survivors into the private, not yet ready segment. Nobody else can
/// see the file, so relaxed stores suffice; the release store of `ready` publishes them.
fn install(shm: &Shm, layout: &Layout, rs: &[Record], rep: &mut RestoreReport) {
    let g = layout.geometry;
    // The order of the record each slot holds, flat by shard then slot: a map keyed by
    // (shard, slot) cost a hash and a probe per window slot looked at.
    let per = g.slots_per_shard as usize;
    let mut held: Vec<Option<u64>> = vec![None; g.shard_count as usize * per];
    let st = |off: u64, v: u64| shm.word(off).store(v, Ordering::Relaxed);
    for r in rs {
        let h = wch64(&r.key, KEY_SEED);
        let shard = ((h >> 32) as u32) % g.shard_count;
        let home = (h as u32) % g.slots_per_shard;
        let mut slot = None;
        let mut lowest = (u64::MAX, 0u32);
        for k in 0..g.probe_window {
            let j = (home + k) % g.slots_per_shard;
            match held[shard as usize * per + j as usize] {
                None => {
                    slot = Some(j);
                    break;
                }
                Some(o) if o < lowest.0 => lowest = (o, j),
                Some(_) => {}
            }
        }
        let j = slot.unwrap_or_else(|| {
            rep.evicted += 1;
            rep.installed -= 1;
            lowest.1
        });
        held[shard as usize * per + j as usize] = Some(r.order);
        let so = layout.slot_offset(shard, j);
        st(so + SLOT_KEY_HASH, h);
        st(so + SLOT_KEY_LEN, r.key.len() as u64);
        for i in 0..words(r.key.len()) {
            st(so + SLOT_KEY + 8 * i as u64, chunk(&r.key, i));
        }
        st(so + SLOT_REFERENCED, 0);
        let ro = layout.record_offset(so, 1);
        st(ro + REC_VERSION, r.version);
        st(ro + REC_VALUE_INFO, r.value.len() as u64 | (r.origin_tag as u64) << 32);
        st(ro + REC_CHECKSUM, wch64(&r.value, VALUE_SEED));
        st(ro + REC_EXPIRES_AT_NS, r.expires_at_ns);
        st(ro + REC_STALE_UNTIL_NS, r.stale_until_ns);
        st(ro + REC_WRITTEN_AT_NS, r.written_at_ns);
        st(ro + REC_WRITER, r.writer);
        st(ro + REC_WRITER_START_TIME, r.writer_start_time);
        for i in 0..words(r.value.len()) {
            st(ro + REC_VALUE + 8 * i as u64, chunk(&r.value, i));
        }
        // READY, A = 1, owner 0, seq 2: as if claimed and published.
        st(so + SLOT_STATE, Word::make(State::Ready, 1, 0, 2).0);
        rep.installed += 1;
    }
    st(HDR_VERSION_CLOCK, rep.version_floor);
    st(HDR_DURABLE_ORDER, rep.order_floor);
}
