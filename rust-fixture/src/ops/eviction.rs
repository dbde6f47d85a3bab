//! CLOCK eviction inside the insert path (PROTOCOL.md §9.6).

use super::{Found, KeyLoc};
use crate::cache::Cache;
use crate::faults::Fault;
use crate::layout::*;
use crate::state::{State, Word};
use std::sync::atomic::Ordering;

impl Cache {
    /// Sweeps the window from the shard's hand, giving every referenced READY/STALE slot a
    /// second chance; returns the first unreferenced one, or `None` after two rounds.
    pub(crate) fn clock_victim(&self, loc: KeyLoc) -> Option<Found> {
        let layout = &self.seg.layout;
        let shm = &self.seg.shm;
        let window = layout.geometry.probe_window as u64;
        // Relaxed: the hand only spreads evictions; it never decides correctness.
        let start = shm.word(layout.shard_offset(loc.shard) + SH_CLOCK_HAND).fetch_add(1, Ordering::Relaxed);
        for k in 0..2 * window {
            let slot = self.window_slot(loc.home, (start.wrapping_add(k) % window) as u32);
            let off = layout.slot_offset(loc.shard, slot);
            // Acquire: our claim CAS compares against this exact word.
            let word = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
            let Some(dec) = word.decode(self.cap()) else { continue };
            let candidate = match dec.state {
                State::Ready | State::Stale => true,
                // FAULT evict_writing_slot: steals a slot a live writer holds.
                State::Writing | State::Refreshing => self.faults.has(Fault::EvictWritingSlot),
                _ => false,
            };
            if !candidate {
                continue;
            }
            let referenced = shm.word(off + SLOT_REFERENCED);
            // Relaxed: the CLOCK bit is advisory.
            if referenced.load(Ordering::Relaxed) == 1 {
                referenced.store(0, Ordering::Relaxed);
                continue;
            }
            return Some(Found { slot, off, word, dec });
        }
        None
    }
}
