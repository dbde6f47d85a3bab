//! Writing: the shard insert lock (PROTOCOL.md §9.3), `put` and `refresh` (§9.4).

use super::{backoff, classify, Accept, Found, Freshness, KeyLoc, LOCK_SPINS, WAIT_SPINS};
use crate::cache::{Cache, PutOptions, PutOutcome};
use crate::error::{OpError, OpErrorKind};
use crate::hash::value_checksum;
use crate::faults::Fault;
use crate::layout::*;
use crate::pause::PausePoint;
use crate::state::{State, Word};
use std::sync::atomic::Ordering;

/// A write stopped just before its publish CAS (test and diagnostic hook): the slot is claimed
/// (`WRITING` or `REFRESHING`) and the new record is fully written but not yet visible.
/// Publish it with `Cache::publish_staged`, or drop the handle to simulate a crash.
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct Staged {
    /// Shard of the claimed slot.
    pub shard: u32,
    /// Slot index within the shard.
    pub slot: u32,
    /// The version the write will publish.
    pub version: u64,
    /// A new entry (T2) rather than a refresh (T5).
    pub created: bool,
    off: u64,
    claimed: Word,
    publish_to: Word,
    /// PERSISTENCE.md §3's order (0 when not journaled) and the record's private copies for
    /// the journal: the shared record may be rewritten as soon as we publish.
    order: u64,
    origin_tag: u32,
    expires_at_ns: u64,
    stale_until_ns: u64,
    written_at_ns: u64,
}

enum Step {
    Done(Result<PutOutcome, OpError>),
    /// Only `put_staged` (feature `harness`) takes the write apart here.
    #[cfg_attr(not(feature = "harness"), allow(dead_code))]
    Staged(Staged),
    /// Lost a race (CAS failed, key appeared under the lock, dead claim reclaimed): look again.
    Again,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Put,
    RefreshOnly,
}

impl Cache {
    /// Publishes `value` for `key`: refreshes it in place if present (T4, T5), else inserts it
    /// (T1/T10/T11, T2). Fails with `too_large`, `full`, `version_not_newer` or `busy`.
    ///
    /// A value fresh for a minute, then served stale for ten more seconds while someone
    /// recomputes it (§12):
    ///
    /// ```
    /// use std::time::Duration;
    /// use warmcache::{Cache, CreateOptions, Geometry, PutOptions};
    /// let path = format!("/dev/shm/warmcache-doc-put-{}.wc", std::process::id());
    /// let cache = Cache::create(&path, Geometry::default(), CreateOptions::default())?;
    /// let opts = PutOptions { ttl: Duration::from_secs(60), grace: Duration::from_secs(10), ..Default::default() };
    /// let out = cache.put(b"sku-42", b"19.99", opts).expect("put");
    /// assert!(out.created);
    /// let hit = cache.get(b"sku-42");
    /// let info = hit.hit().expect("just written").info;
    /// assert_eq!(info.version, out.version);
    /// assert_eq!(info.expires_at_ns - info.written_at_ns, 60_000_000_000);
    /// assert_eq!(info.stale_until_ns - info.expires_at_ns, 10_000_000_000);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), warmcache::OpenError>(())
    /// ```
    pub fn put(&self, key: &[u8], value: &[u8], opts: PutOptions) -> Result<PutOutcome, OpError> {
        match self.write(key, value, opts, Mode::Put, false)? {
            Step::Done(r) => r,
            _ => unreachable!("unstaged write returned early"),
        }
    }

    /// The refresh path only: `not_found` if the key is not present.
    pub fn refresh(&self, key: &[u8], value: &[u8], opts: PutOptions) -> Result<PutOutcome, OpError> {
        match self.write(key, value, opts, Mode::RefreshOnly, false)? {
            Step::Done(r) => r,
            _ => unreachable!("unstaged write returned early"),
        }
    }

    /// Test hook: a `put` that stops after writing its record, before the publish CAS.
    #[doc(hidden)]
    #[cfg(feature = "harness")]
    pub fn put_staged(&self, key: &[u8], value: &[u8], opts: PutOptions) -> Result<Staged, OpError> {
        match self.write(key, value, opts, Mode::Put, true)? {
            Step::Staged(s) => Ok(s),
            Step::Done(Err(e)) => Err(e),
            _ => unreachable!("staged write published"),
        }
    }

    /// Test hook: finishes a [`Staged`] write with its publish CAS (T2 or T5).
    #[doc(hidden)]
    #[cfg(feature = "harness")]
    pub fn publish_staged(&self, st: Staged) -> Result<PutOutcome, OpError> {
        let r = self.publish(st, None);
        self.leave_hint();
        r
    }

    fn write(&self, key: &[u8], value: &[u8], opts: PutOptions, mode: Mode, stage: bool) -> Result<Step, OpError> {
        let g = self.seg.layout.geometry;
        if key.is_empty() || key.len() > g.key_capacity as usize || value.len() > g.value_capacity as usize {
            return Err(OpError::new(
                OpErrorKind::TooLarge,
                format!(
                    "key of {} bytes (allowed 1..={}) / value of {} bytes (allowed 0..={})",
                    key.len(),
                    g.key_capacity,
                    value.len(),
                    g.value_capacity
                ),
            ));
        }
        let loc = self.locate(key);
        // §5.1: the claim hint covers every lock and claim of the loop. A staged write keeps
        // its claim (and so the hint) until `publish_staged`, or for ever if it is dropped, as
        // a dead process would.
        self.enter_hint(loc);
        let r = self.write_loop(loc, key, value, opts, mode, stage);
        if !matches!(r, Ok(Step::Staged(_))) {
            self.leave_hint();
        }
        r
    }

    fn write_loop(&self, loc: KeyLoc, key: &[u8], value: &[u8], opts: PutOptions, mode: Mode, stage: bool) -> Result<Step, OpError> {
        let checksum = value_checksum(value, self.seg.fast_checksum());
        for i in 0..WAIT_SPINS {
            let step = match self.find(loc, key, Accept::PUT) {
                Some(f) if matches!(f.dec.state, State::Ready | State::Stale) => {
                    self.refresh_path(loc, f, key, value, checksum, opts, stage)
                }
                Some(f) => {
                    // WRITING / REFRESHING / INVALIDATED held by f.dec.owner.
                    if !self.alive(f.dec.owner) {
                        self.reclaim(loc.shard, f.slot, f.off, f.word);
                        continue;
                    }
                    Step::Again
                }
                None if mode == Mode::RefreshOnly => {
                    return Err(OpError::new(
                        OpErrorKind::NotFound,
                        format!("refresh: key not present in shard {} (home slot {})", loc.shard, loc.home),
                    ))
                }
                None => self.insert_path(loc, key, value, checksum, opts, stage),
            };
            match step {
                Step::Again => backoff(i),
                done => return Ok(done),
            }
        }
        Err(OpError::new(
            OpErrorKind::Busy,
            format!("key's slot in shard {} stayed claimed by a live writer for {WAIT_SPINS} waits", loc.shard),
        ))
    }

    /// `v = max(fetch_add(version_clock, 1) + 1, current + 1)` for automatic versions (§9.4).
    fn auto_version(&self, current: u64) -> u64 {
        // Relaxed: the version clock only needs atomicity; ordering between writers of one key
        // comes from their claims.
        let before = self.seg.shm.word(HDR_VERSION_CLOCK).fetch_add(1, Ordering::Relaxed);
        choose_auto_version(before, current)
    }

    fn expiry(&self, opts: PutOptions, now: u64) -> (u64, u64) {
        if opts.ttl.is_zero() {
            (0, 0)
        } else {
            let e = now.saturating_add(saturating_ns(opts.ttl));
            (e, e.saturating_add(saturating_ns(opts.grace)))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn refresh_path(&self, loc: KeyLoc, f: Found, key: &[u8], value: &[u8], checksum: u64, opts: PutOptions, stage: bool) -> Step {
        let shm = &self.seg.shm;
        let state = shm.word(f.off + SLOT_STATE);
        let a = f.dec.active;
        let claimed = f.word.next(State::Refreshing, a, self.id);
        self.pause_at(PausePoint::RefreshBeforeClaim);
        // T4, acquire-release: we see the previous owner's writes to record[1-A] before we
        // overwrite them, and our record stores cannot move above the claim.
        if state.compare_exchange(f.word.0, claimed.0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return Step::Again;
        }
        self.tracer.record(shm, "refresh_claim", loc.shard, f.slot, f.dec.state, State::Refreshing, claimed.seq(), self.id);
        self.pause_at(PausePoint::RefreshAfterClaim);
        // Diagnostics only; relaxed (we own the slot, and readers never read it).
        shm.word(f.off + SLOT_CLAIMED_AT_NS).store(self.now(), Ordering::Relaxed);
        let rec_a = self.seg.layout.record_offset(f.off, a);
        // Relaxed: we own the slot; record[A] cannot change while it is REFRESHING(us).
        let current = shm.word(rec_a + REC_VERSION).load(Ordering::Relaxed);
        let version = if opts.version == 0 && current != u64::MAX {
            if self.faults.has(Fault::NoVersionBump) {
                current // FAULT no_version_bump
            } else {
                self.auto_version(current)
            }
        } else if opts.version <= current {
            // An explicit version that is not newer, or an automatic one with no newer version
            // left (current = 2^64-1, §13.1).
            // T6 refresh_abort. Release: nothing was written, but it keeps the pattern of
            // every owner-to-unowned transition.
            let back = claimed.next(State::Ready, a, 0);
            if state.compare_exchange(claimed.0, back.0, Ordering::Release, Ordering::Relaxed).is_ok() {
                self.tracer.record(shm, "refresh_abort", loc.shard, f.slot, State::Refreshing, State::Ready, back.seq(), self.id);
            }
            return Step::Done(Err(OpError::new(
                OpErrorKind::VersionNotNewer,
                format!(
                    "explicit version {} is not newer than the stored version {current} (shard {}, slot {})",
                    opts.version, loc.shard, f.slot
                ),
            )));
        } else {
            opts.version
        };
        let now = self.now();
        let (e, g) = self.expiry(opts, now);
        let b = 1 - a;
        let st = Staged {
            shard: loc.shard,
            slot: f.slot,
            version,
            created: false,
            off: f.off,
            claimed,
            publish_to: claimed.next(State::Ready, b, 0),
            order: self.take_order(opts.durable), // inside the claim (PERSISTENCE.md §3)
            origin_tag: opts.origin_tag,
            expires_at_ns: e,
            stale_until_ns: g,
            written_at_ns: now,
        };
        let rec_b = self.seg.layout.record_offset(f.off, b);
        if self.faults.has(Fault::PublishBeforePayload) {
            // FAULT publish_before_payload: readers may see record[1-A] before it is written.
            let r = self.publish(st, opts.durable.then_some((key, value)));
            self.write_record(rec_b, value, checksum, version, opts.origin_tag, e, g, now);
            return Step::Done(r);
        }
        self.write_record(rec_b, value, checksum, version, opts.origin_tag, e, g, now);
        self.pause_at(PausePoint::RefreshAfterPayload);
        if stage {
            return Step::Staged(st);
        }
        Step::Done(self.publish(st, opts.durable.then_some((key, value))))
    }

    /// T2 or T5: the release CAS that makes the new record visible, then `referenced`,
    /// counters and notification.
    fn publish(&self, st: Staged, durable: Option<(&[u8], &[u8])>) -> Result<PutOutcome, OpError> {
        let shm = &self.seg.shm;
        // Release: every key and record store made under the claim is visible to a reader that
        // acquires this state.
        if shm
            .word(st.off + SLOT_STATE)
            .compare_exchange(st.claimed.0, st.publish_to.0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            // Only a reclaimer that believed us dead could have moved our claim.
            return Err(OpError::new(
                OpErrorKind::Busy,
                format!("lost the claim on shard {} slot {} before publishing", st.shard, st.slot),
            ));
        }
        let (event, from, counter) = if st.created {
            ("publish", State::Writing, SH_INSERTS)
        } else {
            ("refresh_publish", State::Refreshing, SH_REFRESHES)
        };
        self.tracer.record(shm, event, st.shard, st.slot, from, State::Ready, st.publish_to.seq(), self.id);
        if !st.created {
            // §9.4 refresh path: `referenced = 1` after T5 (the insert path sets it before T2).
            // Relaxed: advisory CLOCK bit.
            shm.word(st.off + SLOT_REFERENCED).store(1, Ordering::Relaxed);
        }
        self.count(st.shard, counter);
        self.notify();
        // PERSISTENCE.md §6 step 2: the record after the publish.
        let durable = durable.is_some_and(|(key, value)| {
            self.journal_append(crate::durable::format::Record {
                kind: crate::durable::format::KIND_PUT,
                order: st.order,
                version: st.version,
                origin_tag: st.origin_tag,
                expires_at_ns: st.expires_at_ns,
                stale_until_ns: st.stale_until_ns,
                written_at_ns: st.written_at_ns,
                writer: self.writer_word,
                writer_start_time: self.start_time,
                key: key.to_vec(),
                value: value.to_vec(),
                ..Default::default()
            })
        });
        Ok(PutOutcome { version: st.version, created: st.created, shard: st.shard, slot: st.slot, durable })
    }

    /// §9.3 acquire. `Err(())` = busy.
    fn lock_shard(&self, shard: u32) -> Result<(), ()> {
        let lock = self.seg.shm.word(self.seg.layout.shard_offset(shard) + SH_INSERT_LOCK);
        let cap = self.cap() as u64;
        for i in 0..LOCK_SPINS {
            // Acquire: key bytes written by the previous holder are visible once we hold it.
            let v = lock.load(Ordering::Acquire);
            if v == 0 {
                if lock.compare_exchange(0, self.id as u64, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    self.pause_at(PausePoint::LockAfterAcquire);
                    return Ok(());
                }
            } else if (v > cap || !self.alive(v as u16)) && !self.faults.has(Fault::NeverReclaim) {
                // A dead holder (or a value naming no participant, §13) never releases it.
                if lock.compare_exchange(v, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                    self.count(shard, SH_RECLAIMS);
                }
                continue;
            }
            backoff(i);
        }
        Err(())
    }

    fn unlock_shard(&self, shard: u32) {
        // Release: the key written under the lock is seen by the next holder.
        self.seg.shm.word(self.seg.layout.shard_offset(shard) + SH_INSERT_LOCK).store(0, Ordering::Release);
    }

    fn insert_path(&self, loc: KeyLoc, key: &[u8], value: &[u8], checksum: u64, opts: PutOptions, stage: bool) -> Step {
        // FAULT skip_insert_lock: two inserters of one key can both claim (duplicate keys).
        let locked = !self.faults.has(Fault::SkipInsertLock);
        let unlock = || {
            if locked {
                self.unlock_shard(loc.shard)
            }
        };
        self.pause_at(PausePoint::PutBeforeLock);
        if locked && self.lock_shard(loc.shard).is_err() {
            return Step::Done(Err(OpError::new(
                OpErrorKind::Busy,
                format!("insert lock of shard {} stayed held by a live participant", loc.shard),
            )));
        }
        // Under the lock no one else can insert this key, so a second look is conclusive.
        if self.find(loc, key, Accept::PUT).is_some() {
            unlock();
            return Step::Again;
        }
        let now = self.now();
        let Some((victim, kind)) = self.pick_victim(loc, now) else {
            unlock();
            return Step::Done(Err(OpError::new(
                OpErrorKind::Full,
                format!(
                    "no free, expired or evictable slot in the window of shard {} (home {}, window {})",
                    loc.shard, loc.home, self.seg.layout.geometry.probe_window
                ),
            )));
        };
        self.pause_at(if kind == Victim::Evicted { PausePoint::EvictAfterVictim } else { PausePoint::PutBeforeClaim });
        let shm = &self.seg.shm;
        let a = victim.dec.active;
        let claimed = victim.word.next(State::Writing, a, self.id);
        // T1/T10/T11, acquire-release: we see the previous occupant's writes before reusing
        // the slot, and our stores cannot move above the claim.
        if shm
            .word(victim.off + SLOT_STATE)
            .compare_exchange(victim.word.0, claimed.0, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            unlock();
            return Step::Again;
        }
        let event = match kind {
            Victim::Empty => "claim",
            Victim::Expired => {
                self.count(loc.shard, SH_EXPIRATIONS);
                "expire"
            }
            Victim::Evicted => {
                self.count(loc.shard, SH_EVICTIONS);
                "evict"
            }
        };
        self.tracer.record(shm, event, loc.shard, victim.slot, victim.dec.state, State::Writing, claimed.seq(), self.id);
        self.pause_at(PausePoint::PutAfterClaim);
        self.write_key(victim.off, loc, key, now);
        self.pause_at(PausePoint::PutAfterKey);
        unlock();
        let version = if opts.version == 0 { self.auto_version(0) } else { opts.version };
        let (e, g) = self.expiry(opts, now);
        // Any record is fine (the slot is unreadable since the claim); use the inactive one.
        let b = 1 - a;
        let st = Staged {
            shard: loc.shard,
            slot: victim.slot,
            version,
            created: true,
            off: victim.off,
            claimed,
            publish_to: claimed.next(State::Ready, b, 0),
            order: self.take_order(opts.durable), // inside the claim (PERSISTENCE.md §3)
            origin_tag: opts.origin_tag,
            expires_at_ns: e,
            stale_until_ns: g,
            written_at_ns: now,
        };
        let rec_b = self.seg.layout.record_offset(victim.off, b);
        // §9.4 insert path: `referenced = 1` before T2, so that a CLOCK sweep right after the
        // publish gives the new entry its second chance. Relaxed: advisory.
        shm.word(victim.off + SLOT_REFERENCED).store(1, Ordering::Relaxed);
        if self.faults.has(Fault::PublishBeforePayload) {
            // FAULT publish_before_payload: readers may see record[A'] before it is written.
            let r = self.publish(st, opts.durable.then_some((key, value)));
            self.write_record(rec_b, value, checksum, version, opts.origin_tag, e, g, now);
            return Step::Done(r);
        }
        self.write_record(rec_b, value, checksum, version, opts.origin_tag, e, g, now);
        self.pause_at(PausePoint::PutAfterPayload);
        if stage {
            return Step::Staged(st);
        }
        Step::Done(self.publish(st, opts.durable.then_some((key, value))))
    }
}

/// Why a slot was chosen for an insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Victim {
    Empty,
    Expired,
    Evicted,
}

impl Cache {
    /// Victim choice of §9.4: first EMPTY slot; else the first WRITING or INVALIDATED slot whose
    /// owner is dead, reclaimed (§9.8) and then used as EMPTY (a writer killed right after its
    /// claim leaves a keyless WRITING slot that `find` can never reach); else the first
    /// READY/STALE slot whose record is past `stale_until_ns`; else CLOCK (§9.6).
    ///
    /// Liveness is a syscall, so owners are only checked when the window has no EMPTY slot.
    fn pick_victim(&self, loc: KeyLoc, now: u64) -> Option<(Found, Victim)> {
        let layout = &self.seg.layout;
        let shm = &self.seg.shm;
        let window = layout.geometry.probe_window;
        let mut expired = None;
        // Claimed (WRITING / INVALIDATED) slots in window order; at most probe_window ≤ 64.
        let mut claimed: [Option<Found>; 64] = [None; 64];
        let mut n_claimed = 0;
        for k in 0..window {
            let slot = self.window_slot(loc.home, k);
            let off = layout.slot_offset(loc.shard, slot);
            // Acquire: the record we classify below belongs to this state (it is published).
            let word = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
            let Some(dec) = word.decode(self.cap()) else { continue };
            let found = Found { slot, off, word, dec };
            match dec.state {
                State::Empty => return Some((found, Victim::Empty)),
                State::Writing | State::Invalidated => {
                    claimed[n_claimed] = Some(found);
                    n_claimed += 1;
                }
                State::Ready | State::Stale if expired.is_none() => {
                    let rec = layout.record_offset(off, dec.active);
                    // Relaxed: record[A] of a READY/STALE slot is immutable until the next
                    // claim, which our CAS from `word` would detect.
                    let e = shm.word(rec + REC_EXPIRES_AT_NS).load(Ordering::Relaxed);
                    let g = shm.word(rec + REC_STALE_UNTIL_NS).load(Ordering::Relaxed);
                    if classify(e, g, now) == Freshness::Expired {
                        expired = Some(found);
                    }
                }
                _ => {}
            }
        }
        for f in claimed[..n_claimed].iter().flatten() {
            if self.alive(f.dec.owner) {
                continue;
            }
            if self.reclaim(loc.shard, f.slot, f.off, f.word) {
                // T12/T14 left exactly this word (EMPTY, same A, seq+1): claim from it.
                let word = f.word.next(State::Empty, f.dec.active, 0);
                if let Some(dec) = word.decode(self.cap()) {
                    return Some((Found { word, dec, ..*f }, Victim::Empty));
                }
            } else {
                // Someone else moved the slot on; if it is EMPTY now, it is still ours to take.
                // Acquire: as above.
                let word = Word(shm.word(f.off + SLOT_STATE).load(Ordering::Acquire));
                if let Some(dec) = word.decode(self.cap()) {
                    if dec.state == State::Empty {
                        return Some((Found { word, dec, ..*f }, Victim::Empty));
                    }
                }
            }
        }
        if let Some(f) = expired {
            return Some((f, Victim::Expired));
        }
        self.clock_victim(loc).map(|f| (f, Victim::Evicted))
    }
}

/// The pure part of the automatic version (§9.4): `before` is what the fetch-add of
/// `version_clock` returned, `current` the record's version (0 on insert). Public for the C ABI
/// (rust-fixture/abi, docs/ABI.md), which lets other implementations be compared with this one.
pub fn choose_auto_version(before: u64, current: u64) -> u64 {
    before.wrapping_add(1).max(current.wrapping_add(1))
}

/// Nanoseconds of a duration for a §7.2 time word; beyond `u64::MAX` ns (~584 years) saturates,
/// as the addition to `now` does.
fn saturating_ns(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
