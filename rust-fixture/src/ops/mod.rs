//! The algorithms of PROTOCOL.md §9, as `impl Cache` blocks, one file per concern:
//! `get` (§9.2), `put` (§9.3, §9.4), `remove` (§9.5), `eviction` (§9.6), `reclaim` (§9.8, the
//! registration sweep of §5), `inspect` (§9.7 `stats`, `dump`). This file holds what they share:
//! locating a key, `find` (§9.1), key and record word copies, counters and back-off.

pub mod eviction;
pub mod get;
pub mod get_many;
pub mod hint;
pub mod inspect;
pub mod put;
pub mod reclaim;
pub mod remove;
pub mod repair;

use crate::cache::Cache;
use crate::faults::Fault;
use crate::hash::{chunk, last_word, wch64, words};
use crate::layout::*;
use crate::state::{Decoded, State, Word};
use std::sync::atomic::Ordering;

/// Read attempts of `get` before answering a contended miss (§9).
pub const READ_RETRIES: u32 = 8;
/// Wait iterations of writers (§9).
pub const WAIT_SPINS: u32 = 2000;
/// Attempts to take a shard insert lock (§9).
pub const LOCK_SPINS: u32 = 2000;

/// Where a key lives (§6).
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyLoc {
    pub h: u64,
    pub shard: u32,
    pub home: u32,
}

/// A slot found by `find`: index, byte offset, the state word observed and its decoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    pub slot: u32,
    pub off: u64,
    pub word: Word,
    pub dec: Decoded,
}

/// Which states `find` accepts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Accept(u8);

impl Accept {
    /// put's search (§9.4): WRITING, READY, REFRESHING, STALE, INVALIDATED.
    pub const PUT: Accept = Accept(1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5);
    /// invalidate's search (§9.5): WRITING, READY, REFRESHING, STALE.
    pub const REMOVE: Accept = Accept(1 << 1 | 1 << 2 | 1 << 3 | 1 << 4);

    #[inline(always)]
    fn has(self, s: State) -> bool {
        self.0 & (1 << s as u8) != 0
    }
}

/// One step of a bounded wait: a CPU relax, or `sched_yield` every 64th (§9).
#[inline]
pub(crate) fn backoff(i: u32) {
    if i % 64 == 63 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// Mask keeping the first `len % 8` bytes of the last word (all bytes if a multiple of 8).
#[inline(always)]
pub(crate) fn tail_mask(len: usize) -> u64 {
    match len % 8 {
        0 => u64::MAX,
        r => (1u64 << (r * 8)) - 1,
    }
}

impl Cache {
    #[inline(always)]
    pub(crate) fn cap(&self) -> u32 {
        self.seg.layout.geometry.participant_capacity
    }

    #[inline(always)]
    pub(crate) fn locate(&self, key: &[u8]) -> KeyLoc {
        let h = wch64(key, self.key_seed);
        KeyLoc { h, shard: self.shard_mod.rem((h >> 32) as u32), home: self.slot_mod.rem(h as u32) }
    }

    /// Slot index `k` places after `home`, modulo `slots_per_shard` (k < probe_window ≤
    /// slots_per_shard, so one conditional subtraction suffices).
    #[inline(always)]
    pub(crate) fn window_slot(&self, home: u32, k: u32) -> u32 {
        let n = self.seg.layout.geometry.slots_per_shard;
        let j = home + k;
        if j >= n {
            j - n
        } else {
            j
        }
    }

    /// A shard-header counter (relaxed fetch-add: counters are advisory, §6). The benchmark-only
    /// feature `no-counters` compiles it out (see `COUNTERS_COMPILED`).
    #[inline(always)]
    pub(crate) fn count(&self, shard: u32, counter: u64) {
        if crate::COUNTERS_COMPILED {
            self.seg.shm.word(self.seg.layout.shard_offset(shard) + counter).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Starts fetching the shard's counter line at the start of a get, so that on a large
    /// segment (where that line is rarely in cache) its miss overlaps the slot's instead of
    /// stalling the fetch-add that ends the get (a locked RMW cannot overlap a miss). A prefetch
    /// rather than an unused relaxed load: it needs no `black_box` to survive the optimizer and
    /// is no access at all (the two measured the same).
    #[inline(always)]
    pub(crate) fn touch_counters(&self, shard: u32) {
        if crate::COUNTERS_COMPILED {
            self.seg.shm.prefetch(self.seg.layout.shard_offset(shard) + SH_HITS);
        }
    }

    /// Is participant `d` alive? Our own id always is (threads of this process share it).
    #[inline]
    pub(crate) fn alive(&self, d: u16) -> bool {
        if self.faults.has(Fault::StealLiveClaim) {
            return d == self.id; // FAULT steal_live_claim: every other owner is "dead"
        }
        d == self.id || crate::participants::is_alive(&self.seg, d)
    }

    /// Compares the slot's key words with `key` (relaxed loads; the caller validates the
    /// snapshot or owns the slot). `key.len()` ≤ key_capacity was checked by the caller, so
    /// every word read is inside the slot's key area. Padding bits beyond the key are masked.
    #[inline(always)]
    pub(crate) fn key_equals(&self, slot_off: u64, key: &[u8]) -> bool {
        // Full words, then the masked last one: a test for the last word inside the loop cost
        // a compare and branch per word.
        let full = key.len() / 8;
        let mut equal = true;
        self.seg.shm.load_words_relaxed(slot_off + SLOT_KEY, full, |i, w| {
            equal &= w == chunk(key, i);
        });
        if !key.len().is_multiple_of(8) {
            let w = self.seg.shm.word(slot_off + SLOT_KEY + 8 * full as u64).load(Ordering::Relaxed);
            equal &= w & tail_mask(key.len()) == last_word(key);
        }
        equal
    }

    /// `find(key)` of §9.1: the first slot of the window in an accepted state holding `key`.
    /// The state load is acquire so that the key words read after it are the ones published
    /// with (or written under the insert lock before) that state.
    pub(crate) fn find(&self, loc: KeyLoc, key: &[u8], accept: Accept) -> Option<Found> {
        let layout = &self.seg.layout;
        let shm = &self.seg.shm;
        for k in 0..layout.geometry.probe_window {
            let slot = self.window_slot(loc.home, k);
            let off = layout.slot_offset(loc.shard, slot);
            let word = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
            // Impossible words are left alone (§8.1).
            let Some(dec) = word.decode(self.cap()) else { continue };
            if !accept.has(dec.state) {
                continue;
            }
            if shm.word(off + SLOT_KEY_HASH).load(Ordering::Relaxed) != loc.h
                || shm.word(off + SLOT_KEY_LEN).load(Ordering::Relaxed) != key.len() as u64
            {
                continue;
            }
            if self.key_equals(off, key) {
                return Some(Found { slot, off, word, dec });
            }
        }
        None
    }

    /// Writes the key into a slot this participant owns (WRITING): relaxed stores, published by
    /// the insert-lock release and the publish CAS. The last word is zero-padded.
    pub(crate) fn write_key(&self, slot_off: u64, loc: KeyLoc, key: &[u8], now: u64) {
        let shm = &self.seg.shm;
        shm.word(slot_off + SLOT_CLAIMED_AT_NS).store(now, Ordering::Relaxed);
        shm.word(slot_off + SLOT_KEY_HASH).store(loc.h, Ordering::Relaxed);
        shm.word(slot_off + SLOT_KEY_LEN).store(key.len() as u64, Ordering::Relaxed);
        for i in 0..words(key.len()) {
            shm.word(slot_off + SLOT_KEY + 8 * i as u64).store(chunk(key, i), Ordering::Relaxed);
        }
    }

    /// Writes a whole record (header words, value words, zero padding of the last word) into a
    /// record this participant owns and that no reader may return until the publish CAS
    /// (release) — so relaxed stores suffice (§10).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_record(
        &self,
        rec_off: u64,
        value: &[u8],
        checksum: u64,
        version: u64,
        origin_tag: u32,
        expires_at_ns: u64,
        stale_until_ns: u64,
        now: u64,
    ) {
        let shm = &self.seg.shm;
        shm.word(rec_off + REC_VERSION).store(version, Ordering::Relaxed);
        shm.word(rec_off + REC_VALUE_INFO).store(value.len() as u64 | (origin_tag as u64) << 32, Ordering::Relaxed);
        shm.word(rec_off + REC_CHECKSUM).store(checksum, Ordering::Relaxed);
        shm.word(rec_off + REC_EXPIRES_AT_NS).store(expires_at_ns, Ordering::Relaxed);
        shm.word(rec_off + REC_STALE_UNTIL_NS).store(stale_until_ns, Ordering::Relaxed);
        shm.word(rec_off + REC_WRITTEN_AT_NS).store(now, Ordering::Relaxed);
        shm.word(rec_off + REC_WRITER).store(self.writer_word, Ordering::Relaxed);
        shm.word(rec_off + REC_WRITER_START_TIME).store(self.start_time, Ordering::Relaxed);
        let base = rec_off + REC_VALUE;
        let mut chunks = value.chunks_exact(8);
        let mut i = 0u64;
        for c in &mut chunks {
            shm.word(base + 8 * i).store(u64::from_le_bytes(c.try_into().unwrap()), Ordering::Relaxed);
            i += 1;
        }
        if !chunks.remainder().is_empty() {
            shm.word(base + 8 * i).store(chunk(chunks.remainder(), 0), Ordering::Relaxed);
        }
    }
}

/// How a record's times classify at `now` (§12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Before `expires_at_ns`, or never expiring.
    Fresh,
    /// Past expiry, within the stale-serving window.
    Stale,
    /// Past the stale-serving window: a miss.
    Expired,
}

/// §12: `e == 0` or `now < e` → fresh; `e ≤ now < g` → stale; otherwise expired.
#[inline(always)]
pub fn classify(expires_at_ns: u64, stale_until_ns: u64, now: u64) -> Freshness {
    if expires_at_ns == 0 || now < expires_at_ns {
        Freshness::Fresh
    } else if now < stale_until_ns {
        Freshness::Stale
    } else {
        Freshness::Expired
    }
}
