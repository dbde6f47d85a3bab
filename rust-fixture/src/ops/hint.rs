//! The claim hint and the lazy registration sweep (PROTOCOL.md §5 step 2, §5.1).
//!
//! The participant entry says where its owner may hold claims, so that a registrant sweeps
//! only what a dead predecessor can have left (one insert lock and one window, or nothing)
//! instead of every slot of the segment. The word's layout is drawn next to `PART_CLAIM_HINT`
//! in layout.rs.

use super::KeyLoc;
use crate::cache::Cache;
use crate::layout::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a registration sweep must cover (§5 step 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SweepScope {
    /// The predecessor held no claim.
    Nothing,
    /// Its one shard's insert lock and the window from `home`.
    Window { shard: u32, home: u32 },
    /// Every slot and every insert lock (1.0's sweep).
    Everything,
}

impl Cache {
    fn claim_hint(&self) -> &AtomicU64 {
        self.seg.shm.word(self.seg.layout.participant_offset(self.id as u32 - 1) + PART_CLAIM_HINT)
    }

    /// Decides the sweep from the predecessor's words; `prev` is what our fetch-add of `epoch`
    /// returned, the predecessor's epoch. Its hint is trusted only if it wrote `hint_epoch =
    /// prev` (a 1.0 owner, or one that died inside its own registration, did not) and the word
    /// is well formed (§13).
    pub(crate) fn sweep_scope(&self, prev: u64) -> SweepScope {
        if self.legacy_sweep {
            return SweepScope::Everything;
        }
        let base = self.seg.layout.participant_offset(self.id as u32 - 1);
        let shm = &self.seg.shm;
        // Acquire: the predecessor is dead, so these words are final (§5.1).
        if shm.word(base + PART_HINT_EPOCH).load(Ordering::Acquire) != prev {
            return SweepScope::Everything;
        }
        let h = shm.word(base + PART_CLAIM_HINT).load(Ordering::Acquire);
        let g = self.seg.layout.geometry;
        let (shard, home) = ((h >> HINT_SHARD_SHIFT) as u32 & 0xFFFF, (h >> HINT_HOME_SHIFT) as u32 & 0xFFFF);
        if h == 0 {
            SweepScope::Nothing
        } else if h & (HINT_RESERVED | HINT_WIDE) != 0 || shard >= g.shard_count || home >= g.slots_per_shard {
            SweepScope::Everything
        } else {
            SweepScope::Window { shard, home }
        }
    }

    /// §5 step 3: only now may a successor trust the hint as ours. SeqCst stores, in this
    /// order, after the sweep's CASes: first a dead predecessor's namespace pin goes (§18.3; its
    /// epoch already made it void, the store only tidies), then the hint is ours. A 1.0
    /// participant (`legacy_sweep`) never writes them.
    pub(crate) fn adopt_hint(&self, prev: u64) {
        if self.legacy_sweep {
            return;
        }
        let base = self.seg.layout.participant_offset(self.id as u32 - 1);
        self.seg.shm.word(base + PART_NS_PIN).store(0, Ordering::SeqCst);
        self.seg.shm.word(base + PART_CLAIM_HINT).store(0, Ordering::SeqCst);
        self.seg.shm.word(base + PART_HINT_EPOCH).store(prev + 1, Ordering::SeqCst);
    }

    /// Records, before a write operation's first lock or claim, that it may hold claims in
    /// `loc`'s window. A SeqCst read-modify-write: its acquire half keeps the operation's claims
    /// after it, even the insert claim, which §10 allows to be acquire-only (a store before it
    /// would not be ordered).
    pub(crate) fn enter_hint(&self, loc: KeyLoc) {
        if self.legacy_sweep {
            return;
        }
        let here = (loc.shard as u64) << HINT_SHARD_SHIFT | (loc.home as u64) << HINT_HOME_SHIFT;
        let word = self.claim_hint();
        let mut w = word.load(Ordering::Relaxed);
        let mut i = 0;
        loop {
            let n = w & HINT_IN_FLIGHT;
            let next = if n == HINT_IN_FLIGHT {
                // 65535 operations of this handle in flight: wait for one to leave.
                super::backoff(i);
                i += 1;
                w = word.load(Ordering::Relaxed);
                continue;
            } else if n == 0 {
                here | 1
            } else if w & !HINT_IN_FLIGHT == here {
                w + 1
            } else {
                (w | HINT_WIDE) + 1 // two places at once: a successor must sweep everything
            };
            match word.compare_exchange_weak(w, next, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => w = now,
            }
        }
    }

    /// Ends what `enter_hint` began, after the operation's last CAS or store on its slot and
    /// lock. Its release half keeps those before it. The last operation to leave clears the
    /// whole word, `W` included.
    pub(crate) fn leave_hint(&self) {
        if self.legacy_sweep {
            return;
        }
        let word = self.claim_hint();
        let mut w = word.load(Ordering::Relaxed);
        loop {
            let next = if w & HINT_IN_FLIGHT <= 1 { 0 } else { w - 1 };
            match word.compare_exchange_weak(w, next, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => w = now,
            }
        }
    }

    /// The raw `claim_hint` of this handle's entry (tests and diagnostics).
    #[doc(hidden)]
    pub fn claim_hint_word(&self) -> u64 {
        self.claim_hint().load(Ordering::SeqCst)
    }
}
