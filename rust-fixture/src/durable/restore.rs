//! Restore (docs/PERSISTENCE.md §7): a segment that is missing or unusable is rebuilt from the
//! newest valid snapshot and every journal, through the never-half-built create path of
//! PROTOCOL.md §4.1, filled before `ready`.

use super::format::{decode, Record, StoreProblem, HDR_DURABLE_ORDER, KIND_DELETE};
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
    pub restored: bool,
    pub snapshot: String,
    pub files: u64,
    pub records: u64,
    pub installed: u64,
    pub tombstones: u64,
    pub expired: u64,
    pub evicted: u64,
    pub version_floor: u64,
    pub order_floor: u64,
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
        let lock_path = store.dir.join("restore.lock");
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        // SAFETY: a valid descriptor; released when `lock` is dropped at the end of this call.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(&lock_path, std::io::Error::last_os_error()));
        }
        let no_poll = OpenOptions { ready_timeout: Duration::ZERO, ..open.clone() };
        let kind = match Cache::open(path, no_poll) {
            Ok(c) => return attach(c, RestoreReport::default()),
            Err(e) if !unusable(&e) => return Err(e),
            Err(e) => e.kind,
        };
        let now = create.sim_clock_ns.unwrap_or_else(realtime_ns);
        let mut rep = RestoreReport::default();
        let survivors = read_store(&store.dir, geometry, now, &mut rep);
        let shared = Mutex::new(rep);
        let pause = create.pause_hook.clone();
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

/// §7 steps 4–5: the newest valid snapshot and every journal of `g`, merged by highest order.
fn read_store(dir: &Path, g: Geometry, now: u64, rep: &mut RestoreReport) -> Vec<Record> {
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
        Err(e) => rep.problems.push(StoreProblem {
            file: dir.display().to_string(),
            offset: 0,
            code: "io",
            detail: e.to_string(),
            not_applied_bytes: 0,
        }),
    }
    snaps.sort();
    journals.sort();
    let mut winners: HashMap<Vec<u8>, Record> = HashMap::new();
    let read = |name: &str, rep: &mut RestoreReport| {
        let p = dir.join(name);
        match std::fs::read(&p) {
            Ok(data) => decode(&p.display().to_string(), &data, Some(g)),
            Err(e) => {
                rep.problems.push(StoreProblem {
                    file: p.display().to_string(),
                    offset: 0,
                    code: "io",
                    detail: e.to_string(),
                    not_applied_bytes: 0,
                });
                Default::default()
            }
        }
    };
    let take = |f: super::format::StoreFile, rep: &mut RestoreReport, winners: &mut HashMap<Vec<u8>, Record>| {
        rep.problems.extend(f.problems);
        if f.header.is_none() {
            return;
        }
        rep.files += 1;
        for r in f.records {
            rep.records += 1;
            rep.version_floor = rep.version_floor.max(r.version);
            rep.order_floor = rep.order_floor.max(r.order);
            match winners.get(&r.key) {
                Some(w) if w.order >= r.order => {}
                _ => {
                    winners.insert(r.key.clone(), r);
                }
            }
        }
    };
    for name in snaps.iter().rev() {
        let f = read(name, rep);
        if f.header.is_some() && f.end.is_some() {
            let end = f.end.clone().expect("end");
            take(f, rep, &mut winners);
            rep.version_floor = rep.version_floor.max(end.version);
            rep.order_floor = rep.order_floor.max(end.order);
            rep.snapshot = name.clone();
            break;
        }
        rep.problems.extend(f.problems);
    }
    for name in &journals {
        let f = read(name, rep);
        take(f, rep, &mut winners);
    }
    let mut out: Vec<Record> = Vec::with_capacity(winners.len());
    for (_, r) in winners {
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
    let mut held: HashMap<(u32, u32), u64> = HashMap::new();
    let st = |off: u64, v: u64| shm.word(off).store(v, Ordering::Relaxed);
    for r in rs {
        let h = wch64(&r.key, KEY_SEED);
        let shard = ((h >> 32) as u32) % g.shard_count;
        let home = (h as u32) % g.slots_per_shard;
        let mut slot = None;
        let mut lowest = (u64::MAX, 0u32);
        for k in 0..g.probe_window {
            let j = (home + k) % g.slots_per_shard;
            match held.get(&(shard, j)) {
                None => {
                    slot = Some(j);
                    break;
                }
                Some(&o) if o < lowest.0 => lowest = (o, j),
                Some(_) => {}
            }
        }
        let j = slot.unwrap_or_else(|| {
            rep.evicted += 1;
            rep.installed -= 1;
            lowest.1
        });
        held.insert((shard, j), r.order);
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
