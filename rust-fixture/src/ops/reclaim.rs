//! Reclaiming a dead owner's claim (PROTOCOL.md §9.8) and the registration sweep (§5 step 2).

use super::hint::SweepScope;
use crate::cache::Cache;
use crate::faults::Fault;
use crate::pause::PausePoint;
use crate::layout::*;
use crate::state::{State, Word};
use std::sync::atomic::Ordering;

impl Cache {
    /// Undoes the claim in `word` (an owned state whose owner is dead): WRITING → EMPTY (T12),
    /// REFRESHING → READY same A (T13), INVALIDATED → EMPTY (T14). One CAS from the exact word:
    /// if it fails, someone else already moved the slot on, which is fine. Returns success.
    ///
    /// A reclaimer does not touch `key_hash` (§9.8): after its CAS the slot may already belong
    /// to a new claimer, and nothing reads `key_hash` in `EMPTY`.
    pub(crate) fn reclaim(&self, shard: u32, slot: u32, off: u64, word: Word) -> bool {
        if self.faults.has(Fault::NeverReclaim) {
            return false; // FAULT never_reclaim
        }
        let Some(dec) = word.decode(self.cap()) else { return false };
        let to = match dec.state {
            State::Writing | State::Invalidated => word.next(State::Empty, dec.active, 0),
            State::Refreshing => word.next(State::Ready, dec.active, 0),
            _ => return false,
        };
        let shm = &self.seg.shm;
        self.pause_at(PausePoint::ReclaimBeforeCas);
        // Acquire-release: like a claim, we take over whatever the dead owner left.
        if shm.word(off + SLOT_STATE).compare_exchange(word.0, to.0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return false;
        }
        let to_state = if dec.state == State::Refreshing { State::Ready } else { State::Empty };
        self.tracer.record(shm, "reclaim", shard, slot, dec.state, to_state, to.seq(), dec.owner);
        self.count(shard, SH_RECLAIMS);
        self.notify();
        true
    }

    /// §5 step 2: before making any claim, reclaim every slot naming our new id and free every
    /// insert lock holding it, within the scope the predecessor's claim hint allows (§5.1).
    /// They can only belong to a dead predecessor at our index, since we hold its lock now.
    pub(crate) fn sweep(&self, scope: SweepScope) {
        let g = self.seg.layout.geometry;
        match scope {
            SweepScope::Nothing => {}
            SweepScope::Window { shard, home } => {
                self.sweep_lock(shard);
                for k in 0..g.probe_window {
                    self.sweep_slot(shard, self.window_slot(home, k));
                }
            }
            SweepScope::Everything => {
                for shard in 0..g.shard_count {
                    self.sweep_lock(shard);
                    for slot in 0..g.slots_per_shard {
                        self.sweep_slot(shard, slot);
                    }
                }
            }
        }
    }

    fn sweep_lock(&self, shard: u32) {
        let lock = self.seg.shm.word(self.seg.layout.shard_offset(shard) + SH_INSERT_LOCK);
        // AcqRel like a reclaim: we take over the dead holder's lock and release it.
        if !self.faults.has(Fault::NeverReclaim)
            && lock.compare_exchange(self.id as u64, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            self.count(shard, SH_RECLAIMS);
        }
    }

    fn sweep_slot(&self, shard: u32, slot: u32) {
        let off = self.seg.layout.slot_offset(shard, slot);
        let word = Word(self.seg.shm.word(off + SLOT_STATE).load(Ordering::Acquire));
        if let Some(dec) = word.decode(self.cap()) {
            if dec.state.is_owned() && dec.owner == self.id {
                self.reclaim(shard, slot, off, word);
            }
        }
    }
}
