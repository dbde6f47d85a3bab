//! One writer's journal (docs/PERSISTENCE.md §6). One file per writer: no lock between
//! processes, and a crash can only tear this file's last record. The mutex serialises the
//! handle's threads so that seq order is append order is answer order.

use super::format::{encode_header, encode_record, Record, StoreHeader, JOURNAL_MAGIC};
use crate::cache::Cache;
use crate::clock::realtime_ns;
use crate::layout::{HDR_CREATED_AT_NS, PART_EPOCH};
use crate::pause::PausePoint;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// When journal bytes are made durable (PERSISTENCE.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` before answering.
    Always,
    /// A timer `fdatasync`s every interval.
    Interval(Duration),
    /// The kernel writes back when it will.
    None,
}

impl FsyncPolicy {
    /// The policy named `always`, `interval` (every `interval`; [`Duration::ZERO`] = 1 s) or
    /// `none`; `None` for any other name.
    pub fn parse(name: &str, interval: Duration) -> Option<FsyncPolicy> {
        match name {
            "always" => Some(FsyncPolicy::Always),
            "interval" => Some(FsyncPolicy::Interval(if interval.is_zero() { Duration::from_secs(1) } else { interval })),
            "none" => Some(FsyncPolicy::None),
            _ => None,
        }
    }
}

/// A store directory and its policy.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// The store directory (PERSISTENCE.md §3).
    pub dir: PathBuf,
    /// When journal bytes are made durable.
    pub policy: FsyncPolicy,
}

/// What a harness needs to simulate a power cut: the file, how many bytes `write` returned for
/// and how many the last `fdatasync` covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JournalState {
    /// The journal file.
    pub path: String,
    /// Bytes `write` returned for.
    pub written: u64,
    /// Bytes the last `fdatasync` covered.
    pub synced: u64,
    /// The last record's `seq`.
    pub seq: u64,
}

struct Inner {
    file: Option<File>,
    path: PathBuf,
    part: u32,
    seq: u64,
    written: u64,
    synced: u64,
    /// A new file's directory entry is not yet fsynced.
    dir_dirty: bool,
    stopping: bool,
}

pub(crate) struct Journal {
    pub(crate) opts: StoreOptions,
    inner: Mutex<Inner>,
    wake: Condvar,
    timer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Journal {
    pub(crate) fn new(opts: StoreOptions) -> std::io::Result<Arc<Journal>> {
        std::fs::create_dir_all(&opts.dir)?;
        let j = Arc::new(Journal {
            opts,
            inner: Mutex::new(Inner {
                file: None,
                path: PathBuf::new(),
                part: 0,
                seq: 0,
                written: 0,
                synced: 0,
                dir_dirty: false,
                stopping: false,
            }),
            wake: Condvar::new(),
            timer: Mutex::new(None),
        });
        if let FsyncPolicy::Interval(every) = j.opts.policy {
            let t = j.clone();
            let h = std::thread::spawn(move || t.sync_loop(every));
            *j.timer.lock().unwrap() = Some(h);
        }
        Ok(j)
    }

    pub(crate) fn state(&self) -> JournalState {
        let g = self.inner.lock().unwrap();
        JournalState { path: g.path.display().to_string(), written: g.written, synced: g.synced, seq: g.seq }
    }

    /// Stops the timer and makes everything written durable (policies other than `none`).
    pub(crate) fn shutdown(&self) {
        {
            let mut g = self.inner.lock().unwrap();
            g.stopping = true;
            self.wake.notify_all();
        }
        if let Some(h) = self.timer.lock().unwrap().take() {
            let _ = h.join();
        }
        let mut g = self.inner.lock().unwrap();
        if g.file.is_some() && self.opts.policy != FsyncPolicy::None {
            let _ = self.sync(&mut g);
        }
        g.file = None;
    }

    fn sync(&self, g: &mut Inner) -> std::io::Result<()> {
        let upto = g.written;
        let f = g.file.as_ref().expect("open journal");
        // SAFETY: a valid descriptor we own.
        if unsafe { libc::fdatasync(f.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if g.dir_dirty {
            File::open(&self.opts.dir)?.sync_all()?;
            g.dir_dirty = false;
        }
        g.synced = upto;
        Ok(())
    }

    /// Closes the current file (releasing its flock) so that a compactor can cover it (§8 step
    /// 1); the next durable operation starts part + 1. The sync is not needed for safety (the
    /// snapshot is fsynced before the file is removed) but keeps `synced` honest.
    pub(crate) fn end_current_part(&self) {
        let mut g = self.inner.lock().unwrap();
        if g.file.is_some() {
            if self.opts.policy != FsyncPolicy::None {
                let _ = self.sync(&mut g);
            }
            Journal::end_part(&mut g);
        }
    }

    /// After an error: a failed fsync is never retried (the kernel may have dropped the dirty
    /// pages); the next durable operation starts part + 1.
    fn end_part(g: &mut Inner) {
        g.file = None;
        g.part += 1;
    }

    fn sync_loop(&self, every: Duration) {
        let mut g = self.inner.lock().unwrap();
        loop {
            let (ng, _) = self.wake.wait_timeout(g, every).unwrap();
            g = ng;
            if g.stopping {
                return;
            }
            if g.file.is_some() && g.synced < g.written {
                if let Err(e) = self.sync(&mut g) {
                    eprintln!("warmcache: journal {}: fdatasync: {e}", g.path.display());
                    Journal::end_part(&mut g);
                }
            }
        }
    }
}

impl Cache {
    /// Makes this handle journal its durable operations into `opts.dir`.
    pub fn attach_store(&mut self, opts: StoreOptions) -> std::io::Result<()> {
        self.journal = Some(Journal::new(opts)?);
        Ok(())
    }

    /// The current journal file (empty before the first durable operation).
    pub fn journal_state(&self) -> JournalState {
        self.journal.as_ref().map(|j| j.state()).unwrap_or_default()
    }

    /// §3's order, taken while the caller holds the slot's claim (0 when not journaling).
    pub(crate) fn take_order(&self, durable: bool) -> u64 {
        if !durable || self.journal.is_none() {
            return 0;
        }
        // SeqCst, as the spec names; only atomicity and the claim's ordering matter.
        self.seg.shm.word(super::format::HDR_DURABLE_ORDER).fetch_add(1, Ordering::SeqCst) + 1
    }

    /// §6 step 2 and 3: append `r`, then apply the policy. False after any error.
    pub(crate) fn journal_append(&self, mut r: Record) -> bool {
        let Some(j) = self.journal.as_ref() else { return false };
        self.pause_at(PausePoint::JournalBeforeAppend);
        let mut g = j.inner.lock().unwrap();
        if g.file.is_none() {
            if let Err(e) = self.start_journal(j, &mut g) {
                eprintln!("warmcache: journal: {e}");
                return false;
            }
        }
        r.seq = g.seq + 1;
        let b = encode_record(&r);
        // write_all continues short writes; an error ends the file.
        if let Err(e) = g.file.as_mut().expect("open journal").write_all(&b) {
            eprintln!("warmcache: journal {}: write: {e}", g.path.display());
            Journal::end_part(&mut g);
            return false;
        }
        g.seq += 1;
        g.written += b.len() as u64;
        self.pause_at(PausePoint::JournalAfterAppend);
        if j.opts.policy == FsyncPolicy::Always {
            if let Err(e) = j.sync(&mut g) {
                eprintln!("warmcache: journal {}: fdatasync: {e}", g.path.display());
                Journal::end_part(&mut g);
                return false;
            }
            self.pause_at(PausePoint::JournalAfterSync);
        }
        true
    }

    fn start_journal(&self, j: &Journal, g: &mut Inner) -> std::io::Result<()> {
        let shm = &self.seg.shm;
        let layout = &self.seg.layout;
        // Relaxed: our own participant entry, changed only by our registration.
        let epoch = shm.word(layout.participants_offset + (self.id as u64 - 1) * 64 + PART_EPOCH).load(Ordering::Relaxed);
        let created = shm.word(HDR_CREATED_AT_NS).load(Ordering::Relaxed);
        let name = format!("journal-{created:016x}-{:04x}-{epoch:016x}-{:04x}.wcj", self.id, g.part);
        let path = j.opts.dir.join(name);
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_CLOEXEC).open(&path)?;
        // From here the name is taken: a failure ends this part like an append's error (§6),
        // or every later start would meet EEXIST on it (an ENOSPC in the header did that).
        // The flock tells a compactor the file is live (§8 step 2).
        // SAFETY: a valid descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            g.part += 1;
            return Err(std::io::Error::last_os_error());
        }
        let hdr = encode_header(&StoreHeader {
            magic: JOURNAL_MAGIC,
            geometry: layout.geometry,
            segment_created_at_ns: created,
            writer: self.writer_word,
            writer_start_time: self.start_time,
            participant: self.id,
            epoch,
            created_at_ns: realtime_ns(),
        });
        if let Err(e) = f.write_all(&hdr) {
            g.part += 1;
            return Err(e);
        }
        g.file = Some(f);
        g.path = path;
        g.seq = 0;
        g.written = hdr.len() as u64;
        g.synced = 0;
        g.dir_dirty = true;
        if j.opts.policy != FsyncPolicy::None {
            // The header and the name are durable before any record is acknowledged.
            if let Err(e) = j.sync(g) {
                Journal::end_part(g);
                return Err(e);
            }
        }
        Ok(())
    }
}
