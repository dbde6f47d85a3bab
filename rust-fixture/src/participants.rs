//! Participant registration and liveness (PROTOCOL.md §5).
//!
//! Entry `i` is owned by whoever holds an open-file-description write lock on byte
//! `participants_offset + i*64` of the segment file. The kernel drops the lock when the owner
//! closes the file or dies, so the lock — not the pid — is the identity.

use crate::clock::{process_start_time, realtime_ns};
use crate::error::{OpenError, OpenErrorKind};
use crate::layout::*;
use crate::segment::Segment;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::Ordering;

/// One participant table entry as read from the segment (advisory, for people).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantInfo {
    /// Entry index (0-based); the participant id is `index + 1`.
    pub index: u32,
    /// Incremented at each registration of the entry.
    pub epoch: u64,
    /// Process id of the holder.
    pub pid: u64,
    /// Start time of the holder's process (clock ticks since boot).
    pub start_time: u64,
    /// Language code (§7.3).
    pub language: u8,
    /// Protocol major the holder speaks.
    pub protocol_major: u8,
    /// Protocol minor the holder speaks.
    pub protocol_minor: u8,
    /// User id of the holder.
    pub uid: u32,
    /// `CLOCK_REALTIME` at registration, in nanoseconds.
    pub registered_at_ns: u64,
    /// Someone holds the entry's lock now (always true for this handle's own entry).
    pub alive: bool,
}

fn lock_request(l_type: libc::c_int, start: u64) -> libc::flock {
    // SAFETY: all-zero is a valid `flock`; l_pid must be 0 for OFD locks.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = l_type as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start as libc::off_t;
    fl.l_len = 1;
    fl
}

/// Tries to take entry `index`'s lock. `Ok(false)` if someone else holds it.
fn try_lock(seg: &Segment, index: u32) -> Result<bool, i32> {
    // An image has no file and so no participant entries to take.
    let Some(file) = &seg.file else { return Err(libc::EBADF) };
    let mut fl = lock_request(libc::F_WRLCK, seg.layout.participant_offset(index));
    // SAFETY: valid descriptor and flock struct.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) };
    if rc == 0 {
        return Ok(true);
    }
    match std::io::Error::last_os_error().raw_os_error().unwrap_or(0) {
        libc::EAGAIN | libc::EACCES => Ok(false),
        e => Err(e),
    }
}

/// Is the participant with id `owner` (1-based) alive? `F_OFD_GETLK` on its byte: `F_UNLCK`
/// means nobody holds it (dead). Any error answers "alive", the safe answer: a live claim is
/// never reclaimed; at worst a dead one waits for the next registration at that index.
/// The caller never asks about its own id (our own lock would not conflict with us).
pub(crate) fn is_alive(seg: &Segment, owner: u16) -> bool {
    if owner == 0 || owner as u32 > seg.layout.geometry.participant_capacity {
        return true;
    }
    // An image has no locks to ask: "alive", the safe answer (nothing is reclaimed).
    let Some(file) = &seg.file else { return true };
    let mut fl = lock_request(libc::F_WRLCK, seg.layout.participant_offset(owner as u32 - 1));
    // SAFETY: valid descriptor and flock struct.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    rc != 0 || fl.l_type != libc::F_UNLCK as libc::c_short
}

/// Registers this handle (§5 step 1): takes the first free entry's lock and fills the entry.
/// Returns the id and the predecessor's epoch (what the fetch-add returned). The sweep (step 2)
/// and the hint adoption (step 3) are done by the caller before it makes any claim.
pub(crate) fn register(seg: &Segment) -> Result<(u16, u64), OpenError> {
    let cap = seg.layout.geometry.participant_capacity;
    for index in 0..cap {
        match try_lock(seg, index) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => return Err(OpenError::io("fcntl(F_OFD_SETLK)", &seg.path.display().to_string(), e)),
        }
        let base = seg.layout.participant_offset(index);
        // SeqCst: the predecessor's epoch decides whether its claim hint is trusted (§5.1),
        // and this must be ordered before our sweep. The rest is advisory (people read it).
        let prev = seg.shm.word(base + PART_EPOCH).fetch_add(1, Ordering::SeqCst);
        seg.shm.word(base + PART_PID).store(std::process::id() as u64, Ordering::Relaxed);
        seg.shm.word(base + PART_START_TIME).store(process_start_time(), Ordering::Relaxed);
        // SAFETY: geteuid cannot fail.
        let uid = unsafe { libc::geteuid() } as u64;
        let info = LANGUAGE_RUST | (PROTOCOL_MAJOR << 8) | (seg.speaks.minor() << 16) | (uid << 32);
        seg.shm.word(base + PART_INFO).store(info, Ordering::Relaxed);
        seg.shm.word(base + PART_REGISTERED_AT_NS).store(realtime_ns(), Ordering::Relaxed);
        return Ok(((index + 1) as u16, prev));
    }
    Err(OpenError::new(
        OpenErrorKind::ParticipantsFull,
        format!("{}: all {cap} participant entries are held by live processes", seg.path.display()),
    ))
}

/// Every entry that was ever registered (epoch > 0), with its liveness.
pub(crate) fn list(seg: &Segment, own_id: u16) -> Vec<ParticipantInfo> {
    let mut out = Vec::new();
    for index in 0..seg.layout.geometry.participant_capacity {
        let base = seg.layout.participant_offset(index);
        let w = |off| seg.shm.word(base + off).load(Ordering::Relaxed);
        let epoch = w(PART_EPOCH);
        if epoch == 0 {
            continue;
        }
        let info = w(PART_INFO);
        let id = (index + 1) as u16;
        out.push(ParticipantInfo {
            index,
            epoch,
            pid: w(PART_PID),
            start_time: w(PART_START_TIME),
            language: info as u8,
            protocol_major: (info >> 8) as u8,
            protocol_minor: (info >> 16) as u8,
            uid: (info >> 32) as u32,
            registered_at_ns: w(PART_REGISTERED_AT_NS),
            alive: id == own_id || is_alive(seg, id),
        });
    }
    out
}
