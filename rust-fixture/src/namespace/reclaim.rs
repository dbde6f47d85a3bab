//! Reclaiming the entries of namespace versions nobody can read any more (PROTOCOL.md §18.7, N8).

use super::{namespace_of, NS_KEY_PREFIX_LEN};
use crate::cache::Cache;
use crate::error::OpError;
use crate::faults::Fault;
use crate::hash::words;
use crate::layout::*;
use crate::ops::tail_mask;
use crate::pause::PausePoint;
use crate::state::{State, Word};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

/// `ns_reclaim`'s result: entries removed, and the versions kept (ascending).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reclaimed {
    /// Entries removed.
    pub removed: u64,
    /// The versions kept, ascending.
    pub kept: Vec<u64>,
}

impl Cache {
    /// `ns_reclaim(ns)`: removes every `READY`/`STALE` entry of a version of `ns` that is
    /// reclaimable — at most `last`, and neither current, previous, the open stage of a live
    /// stager, nor pinned by a live participant. It scans the whole segment; call it off the
    /// hot path.
    ///
    /// The order of the loads is the proof (§18.7): `ns_stage` first (a stage closed before it
    /// was flipped before it, so the head load after it sees that version), then `ns_head`,
    /// then every pin. A pin this scan misses was stored after it in the SeqCst order, and its
    /// pinner then saw its version in a later head than ours, where it cannot be if we found it
    /// retired: so every pin that protects a read is seen.
    pub fn ns_reclaim(&self, ns: u32) -> Result<Reclaimed, OpError> {
        self.check_ns(ns)?;
        let (_, s) = self.load_stage(ns)?; // step 1
        let (_, h) = self.load_head(ns)?; // step 2
        self.check_pair(ns, h, s)?;
        let mut keep = BTreeSet::new(); // step 3
        keep.insert(h.current);
        keep.insert(h.previous);
        if s.stager != 0 && self.alive(s.stager) {
            keep.insert(s.last);
        }
        // Step 4. FAULT ns_reclaim_ignores_pins: the keep set leaves pins out.
        if !self.faults.has(Fault::NsReclaimIgnoresPins) {
            for id in 1..=self.cap() as u16 {
                if let Some(p) = self.live_pin(id).filter(|p| p.ns == ns) {
                    keep.insert(p.version);
                }
            }
        }
        keep.remove(&0); // "no version" protects nothing
        self.pause_at(PausePoint::NsReclaimAfterScan);
        let g = self.seg.layout.geometry;
        let mut removed = 0;
        for shard in 0..g.shard_count {
            for slot in 0..g.slots_per_shard {
                if let Some(key) = self.reclaimable_key(shard, slot, ns, s.last, &keep) {
                    removed += self.remove_entry(shard, slot, &key) as u64;
                }
            }
        }
        Ok(Reclaimed { removed, kept: keep.into_iter().collect() })
    }

    /// Step 5's test of one slot: a `READY`/`STALE` entry whose key is a namespace key of `ns`
    /// with a version `v ≤ last` outside `keep`. Returns the observed state word and the key.
    ///
    /// The key words are relaxed loads after the acquire state load (masked past `key_len`,
    /// §13.1); they may be torn if the slot moves on meanwhile, but then its state word moved
    /// too, and the removal's CAS from the observed word fails.
    fn reclaimable_key(&self, shard: u32, slot: u32, ns: u32, last: u64, keep: &BTreeSet<u64>) -> Option<(Word, Vec<u8>)> {
        let shm = &self.seg.shm;
        let off = self.seg.layout.slot_offset(shard, slot);
        let word = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
        let dec = word.decode(self.cap())?;
        if !matches!(dec.state, State::Ready | State::Stale) {
            return None;
        }
        let len = shm.word(off + SLOT_KEY_LEN).load(Ordering::Relaxed);
        if len <= NS_KEY_PREFIX_LEN as u64 || len > self.seg.layout.geometry.key_capacity as u64 {
            return None;
        }
        let w0 = shm.word(off + SLOT_KEY).load(Ordering::Relaxed);
        let w1 = shm.word(off + SLOT_KEY + 8).load(Ordering::Relaxed);
        let (key_ns, v) = namespace_of(len, w0, w1)?;
        if key_ns != ns || v > last || keep.contains(&v) {
            return None;
        }
        let n = words(len as usize);
        let mask = tail_mask(len as usize);
        let mut key = Vec::with_capacity(8 * n);
        shm.load_words_relaxed(off + SLOT_KEY, n, |i, w| {
            key.extend_from_slice(&(if i + 1 == n { w & mask } else { w }).to_le_bytes());
        });
        key.truncate(len as usize);
        Some((word, key))
    }

    /// Removes one entry as §9.5 does, from the observed word: T8 then T9, inside the claim hint
    /// of its window (§5.1). A failed T8 means the slot moved on (refreshed, evicted, reclaimed
    /// by someone else): skip it. Returns whether this call emptied the slot.
    fn remove_entry(&self, shard: u32, slot: u32, found: &(Word, Vec<u8>)) -> bool {
        let (word, _) = found;
        let Some(dec) = word.decode(self.cap()) else { return false };
        let shm = &self.seg.shm;
        let off = self.seg.layout.slot_offset(shard, slot);
        let state = shm.word(off + SLOT_STATE);
        // §18.7: the hint names the slot's shard and the slot itself as home; a window starting
        // at the slot covers the one slot claimed, whatever its key_hash says.
        self.enter_hint(crate::ops::KeyLoc { h: 0, shard, home: slot });
        let claimed = word.next(State::Invalidated, dec.active, self.id);
        // T8, acquire-release like every claim.
        let mut emptied = false;
        if state.compare_exchange(word.0, claimed.0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            self.tracer.record(shm, "invalidate_claim", shard, slot, dec.state, State::Invalidated, claimed.seq(), self.id);
            // Relaxed: we own the slot; published by the release CAS below.
            shm.word(off + SLOT_CLAIMED_AT_NS).store(self.now(), Ordering::Relaxed);
            shm.word(off + SLOT_KEY_HASH).store(0, Ordering::Relaxed);
            let empty = claimed.next(State::Empty, dec.active, 0);
            // T9, release: the zeroed key hash is visible with EMPTY.
            if state.compare_exchange(claimed.0, empty.0, Ordering::Release, Ordering::Relaxed).is_ok() {
                self.tracer.record(shm, "clear", shard, slot, State::Invalidated, State::Empty, empty.seq(), self.id);
                emptied = true;
            }
            self.count(shard, SH_INVALIDATIONS);
            self.notify();
        }
        self.leave_hint();
        emptied
    }
}
