//! Removing: `invalidate(key)` and `evict(key)` (PROTOCOL.md §9.5).

use super::{backoff, Accept, KeyLoc, WAIT_SPINS};
use crate::cache::Cache;
use crate::error::{OpError, OpErrorKind};
use crate::layout::*;
use crate::pause::PausePoint;
use crate::state::State;
use std::sync::atomic::Ordering;

impl Cache {
    /// Removes `key`. `Ok(true)` removed, `Ok(false)` absent, `busy` if a live writer held the
    /// slot for the whole wait. An invalidation is never silently lost.
    pub fn invalidate(&self, key: &[u8]) -> Result<bool, OpError> {
        self.remove(key, SH_INVALIDATIONS, false).map(|r| r.0)
    }

    /// [`Cache::invalidate`] that, with `durable`, journals a tombstone when it removed an
    /// entry (PERSISTENCE.md §6). Returns (removed, durable).
    pub fn invalidate_durable(&self, key: &[u8], durable: bool) -> Result<(bool, bool), OpError> {
        self.remove(key, SH_INVALIDATIONS, durable)
    }

    /// [`Cache::evict`] with `invalidate_durable`'s option.
    pub fn evict_durable(&self, key: &[u8], durable: bool) -> Result<(bool, bool), OpError> {
        self.remove(key, SH_EVICTIONS, durable)
    }

    /// Like [`Cache::invalidate`] but counted as an eviction.
    pub fn evict(&self, key: &[u8]) -> Result<bool, OpError> {
        self.remove(key, SH_EVICTIONS, false).map(|r| r.0)
    }

    fn remove(&self, key: &[u8], counter: u64, durable: bool) -> Result<(bool, bool), OpError> {
        if key.is_empty() || key.len() > self.seg.layout.geometry.key_capacity as usize {
            return Ok((false, false)); // no slot can hold such a key
        }
        let loc = self.locate(key);
        self.enter_hint(loc); // §5.1
        let r = self.remove_loop(loc, key, counter, durable);
        self.leave_hint();
        r
    }

    fn remove_loop(&self, loc: KeyLoc, key: &[u8], counter: u64, durable: bool) -> Result<(bool, bool), OpError> {
        let shm = &self.seg.shm;
        for i in 0..WAIT_SPINS {
            let Some(f) = self.find(loc, key, Accept::REMOVE) else { return Ok((false, false)) };
            match f.dec.state {
                State::Ready | State::Stale => {
                    let state = shm.word(f.off + SLOT_STATE);
                    let claimed = f.word.next(State::Invalidated, f.dec.active, self.id);
                    self.pause_at(PausePoint::InvalidateBeforeClaim);
                    // T8, acquire-release like every claim.
                    if state.compare_exchange(f.word.0, claimed.0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
                        backoff(i);
                        continue;
                    }
                    self.tracer.record(shm, "invalidate_claim", loc.shard, f.slot, f.dec.state, State::Invalidated, claimed.seq(), self.id);
                    self.pause_at(PausePoint::InvalidateAfterClaim);
                    let order = self.take_order(durable); // inside the claim (PERSISTENCE.md §3)
                    // Relaxed: we own the slot; published by the release CAS below.
                    shm.word(f.off + SLOT_CLAIMED_AT_NS).store(self.now(), Ordering::Relaxed);
                    shm.word(f.off + SLOT_KEY_HASH).store(0, Ordering::Relaxed);
                    let empty = claimed.next(State::Empty, f.dec.active, 0);
                    // T9, release: the zeroed key hash is visible with EMPTY.
                    if state.compare_exchange(claimed.0, empty.0, Ordering::Release, Ordering::Relaxed).is_ok() {
                        self.tracer.record(shm, "clear", loc.shard, f.slot, State::Invalidated, State::Empty, empty.seq(), self.id);
                    }
                    self.count(loc.shard, counter);
                    self.notify();
                    let journaled = durable
                        && self.journal_append(crate::durable::format::Record {
                            kind: crate::durable::format::KIND_DELETE,
                            order,
                            written_at_ns: self.now(),
                            writer: self.writer_word,
                            writer_start_time: self.start_time,
                            key: key.to_vec(),
                            ..Default::default()
                        });
                    return Ok((true, journaled));
                }
                _ => {
                    // WRITING / REFRESHING owned by someone.
                    if !self.alive(f.dec.owner) {
                        self.reclaim(loc.shard, f.slot, f.off, f.word);
                        continue;
                    }
                    backoff(i);
                }
            }
        }
        Err(OpError::new(
            OpErrorKind::Busy,
            format!("key's slot in shard {} stayed claimed by a live writer for {WAIT_SPINS} waits", loc.shard),
        ))
    }
}
