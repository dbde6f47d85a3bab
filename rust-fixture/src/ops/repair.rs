//! Repair (PROTOCOL.md §9.9): acting on what the health probe finds, with transitions any
//! participant may make. Each change is one CAS from the exact word judged, so a repair is
//! safe while other processes use the segment: a slot that moved on in between is left alone.

use super::inspect::SlotScan;
use crate::cache::Cache;
use crate::layout::*;
use crate::pause::PausePoint;
use crate::state::{State, Word};
use std::sync::atomic::Ordering;

/// Header word 768 (line 12): slots quarantined by repairs since creation (§9.9). A relaxed
/// counter, never a decision; 1.0 readers never read it.
pub const HDR_QUARANTINED: u64 = 768;

/// One thing a repair did or could not do (for an insert lock `slot` is 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairAction {
    /// The shard acted on.
    pub shard: u32,
    /// The slot within the shard (0 for an insert lock).
    pub slot: u32,
    /// What was found and done, for people.
    pub detail: String,
}

/// What [`Cache::repair`] did, each list in shard/slot order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Insert locks a dead participant held, released.
    pub locks_freed: Vec<RepairAction>,
    /// Claims of dead owners reclaimed through §9.8.
    pub reclaimed: Vec<RepairAction>,
    /// Corrupt readable slots cleared (T8, T9): they miss from now on.
    pub quarantined: Vec<RepairAction>,
    /// Impossible state words: no transition leaves one, only a rebuild (PERSISTENCE.md §7).
    pub unrepairable: Vec<RepairAction>,
    /// Header word 768 after this repair.
    pub quarantined_total: u64,
}

impl Cache {
    /// §9.9 over the whole segment through this handle.
    pub fn repair(&self) -> RepairReport {
        let layout = self.seg.layout;
        let g = layout.geometry;
        let shm = &self.seg.shm;
        let mut rep = RepairReport::default();
        // Insert locks first, so that the T14 reclaims below can take them.
        for shard in 0..g.shard_count {
            let lock = shm.word(layout.shard_offset(shard) + SH_INSERT_LOCK);
            let h = lock.load(Ordering::Acquire);
            if h == 0 || (h <= g.participant_capacity as u64 && self.alive(h as u16)) {
                continue;
            }
            self.pause_at(PausePoint::RepairBeforeCas);
            // AcqRel like a reclaim: we take over the dead holder's lock and release it.
            if lock.compare_exchange(h, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                self.count(shard, SH_RECLAIMS);
                rep.locks_freed.push(RepairAction { shard, slot: 0, detail: format!("insert lock of dead participant {h}") });
            }
        }
        let now = self.now();
        for shard in 0..g.shard_count {
            for slot in 0..g.slots_per_shard {
                let off = layout.slot_offset(shard, slot);
                let word = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
                let Some(dec) = word.decode(g.participant_capacity) else {
                    rep.unrepairable.push(RepairAction { shard, slot, detail: format!("impossible state word {:#018x}", word.0) });
                    continue;
                };
                if dec.state.is_owned() {
                    if !self.alive(dec.owner) && self.reclaim(shard, slot, off, word) {
                        let detail = format!("{} of dead participant {}", dec.state.name(), dec.owner);
                        rep.reclaimed.push(RepairAction { shard, slot, detail });
                    }
                } else if dec.state.is_readable() {
                    // Judged on a snapshot taken after `word` was loaded: if the slot moved on,
                    // the CAS from `word` fails and the new record is left alone.
                    if let SlotScan::Problem(detail) = self.dump_slot(shard, slot, now) {
                        self.pause_at(PausePoint::RepairBeforeCas);
                        if self.quarantine(shard, slot, off, word) {
                            rep.quarantined.push(RepairAction { shard, slot, detail });
                        }
                    }
                }
            }
        }
        rep.quarantined_total = shm.word(HDR_QUARANTINED).load(Ordering::Relaxed);
        rep
    }

    /// T8 from exactly `word`, `key_hash = 0`, T9: the corrupt slot becomes EMPTY as an
    /// invalidate leaves it; counted in the shard's invalidations (counters balance) and in
    /// `quarantined`.
    fn quarantine(&self, shard: u32, slot: u32, off: u64, word: Word) -> bool {
        let shm = &self.seg.shm;
        let Some(dec) = word.decode(self.cap()) else { return false };
        let state = shm.word(off + SLOT_STATE);
        let claimed = word.next(State::Invalidated, dec.active, self.id);
        if state.compare_exchange(word.0, claimed.0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return false;
        }
        self.tracer.record(shm, "invalidate_claim", shard, slot, dec.state, State::Invalidated, claimed.seq(), self.id);
        shm.word(off + SLOT_KEY_HASH).store(0, Ordering::Relaxed); // we own the slot
        let empty = claimed.next(State::Empty, dec.active, 0);
        if state.compare_exchange(claimed.0, empty.0, Ordering::Release, Ordering::Relaxed).is_err() {
            return false; // only a reclaimer that wrongly judged us dead; it ends EMPTY too
        }
        self.tracer.record(shm, "clear", shard, slot, State::Invalidated, State::Empty, empty.seq(), self.id);
        self.count(shard, SH_INVALIDATIONS);
        shm.word(HDR_QUARANTINED).fetch_add(1, Ordering::Relaxed);
        self.notify();
        true
    }
}
