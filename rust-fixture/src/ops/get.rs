//! `get(key)`, the consistent snapshot (PROTOCOL.md §9.2).
//!
//! Readers never wait and never write anything but `referenced`, the counters and (T7) the
//! state word. A snapshot is a copy between two loads of the state word; `snapshot_ok` decides
//! whether the copy can be trusted.

use super::{classify, tail_mask, Freshness, READ_RETRIES};
use crate::cache::{Cache, Hit, HitInfo, Lookup, Provenance};
use crate::hash::{words, Wch64, Wch64x4, VALUE_SEED};
use crate::faults::Fault;
use crate::layout::*;
use crate::pause::PausePoint;
use crate::state::{snapshot_ok, State, Word};
use std::sync::atomic::{fence, Ordering};

/// What one pass over the window concluded.
enum Pass {
    Hit(HitInfo),
    Miss,
    Retry,
}

impl Cache {
    /// Looks `key` up and copies its value out. A miss covers: absent, expired, corrupt
    /// (counted separately, see [`Cache::corrupt_count`]) and contended (all retries used).
    ///
    /// A stale hit that asks this reader to recompute (`refresh_requested`, T7) is the cue to
    /// write a new value; every other reader keeps being served the stale one meanwhile.
    ///
    /// ```
    /// use warmcache::{Cache, CreateOptions, Geometry, Lookup, PutOptions};
    /// let path = format!("/dev/shm/warmcache-doc-get-{}.wc", std::process::id());
    /// let cache = Cache::create(&path, Geometry::default(), CreateOptions::default())?;
    /// assert_eq!(cache.get(b"user:42"), Lookup::Miss);
    /// cache.put(b"user:42", b"Ada", PutOptions::default()).expect("put");
    /// match cache.get(b"user:42") {
    ///     Lookup::Hit(hit) => {
    ///         assert_eq!(hit.value, b"Ada");
    ///         assert!(!hit.info.stale && !hit.info.refresh_requested);
    ///         assert_eq!(hit.info.provenance.pid, std::process::id());
    ///     }
    ///     Lookup::Miss => unreachable!("just written"),
    /// }
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), warmcache::OpenError>(())
    /// ```
    pub fn get(&self, key: &[u8]) -> Lookup {
        let mut value = Vec::new();
        match self.get_into(key, &mut value) {
            Some(info) => Lookup::Hit(Hit { value, info }),
            None => Lookup::Miss,
        }
    }

    /// Like [`Cache::get`] but copies the value into `out` (cleared first), so a caller that
    /// reuses its buffer allocates nothing. On a miss `out` is left empty.
    #[inline]
    pub fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> Option<HitInfo> {
        // The hook test is hoisted out of the whole lookup: a loop that might call the hook
        // measured ~5 ns slower per hit than one compiled without pause points
        // (scripts/bench-pause-cost.sh), even with the call cold and out of line, and so did a
        // test per pass. Without a hook the lookup is the copy with no pause code at all.
        if self.pausing() {
            self.lookup::<true>(key, out)
        } else {
            self.lookup::<false>(key, out)
        }
    }

    #[inline(always)]
    fn lookup<const PAUSES: bool>(&self, key: &[u8], out: &mut Vec<u8>) -> Option<HitInfo> {
        self.lookup_at::<PAUSES>(key, self.locate(key), out)
    }

    /// `get_into` once the key's placement is known: [`Cache::get_many_into`] locates a whole
    /// batch before its gets and must not hash every key twice.
    #[inline(always)]
    pub(crate) fn lookup_at<const PAUSES: bool>(&self, key: &[u8], loc: super::KeyLoc, out: &mut Vec<u8>) -> Option<HitInfo> {
        out.clear();
        self.touch_counters(loc.shard);
        // A key no slot can hold is simply absent (and bounds every key-word read below).
        if key.is_empty() || key.len() > self.seg.layout.geometry.key_capacity as usize {
            self.count(loc.shard, SH_MISSES);
            return None;
        }
        for _ in 0..READ_RETRIES {
            match self.get_pass::<PAUSES>(key, loc, out) {
                Pass::Hit(info) => return Some(info),
                Pass::Miss => {
                    out.clear();
                    self.count(loc.shard, SH_MISSES);
                    return None;
                }
                Pass::Retry => out.clear(),
            }
        }
        // All retries used: writers kept changing the slot under us. A reader never waits.
        self.count(loc.shard, SH_MISSES);
        None
    }

    #[inline(always)]
    fn get_pass<const PAUSES: bool>(&self, key: &[u8], loc: super::KeyLoc, out: &mut Vec<u8>) -> Pass {
        let layout = &self.seg.layout;
        let shm = &self.seg.shm;
        let cap = self.cap();
        let value_capacity = layout.geometry.value_capacity as u64;
        for k in 0..layout.geometry.probe_window {
            let slot = self.window_slot(loc.home, k);
            let off = layout.slot_offset(loc.shard, slot);
            // Acquire: pairs with the writer's release publish CAS, so the key and record words
            // we read next are at least as new as this state.
            let s1 = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
            let Some(d1) = s1.decode(cap) else { continue }; // impossible word: miss for this slot
            if !d1.state.is_readable() {
                continue;
            }
            // Relaxed: ordered by the acquire above and the fence below.
            if shm.word(off + SLOT_KEY_HASH).load(Ordering::Relaxed) != loc.h
                || shm.word(off + SLOT_KEY_LEN).load(Ordering::Relaxed) != key.len() as u64
            {
                continue;
            }
            let key_eq = self.key_equals(off, key);
            let rec = layout.record_offset(off, d1.active);
            let mut hdr = [0u64; 8];
            let mut sum_ok = false;
            let mut len_ok = false;
            if key_eq {
                if PAUSES {
                    self.pause_at(PausePoint::GetAfterKeyMatch);
                }
                // Relaxed copies of the record header; validated by the second state load.
                shm.load_words_relaxed(rec, 8, |i, w| hdr[i] = w);
                let value_len = hdr[1] & 0xFFFF_FFFF;
                // Bounds check (§13): a length past the capacity copies nothing (corrupt).
                if value_len <= value_capacity {
                    len_ok = true;
                    sum_ok = self.copy_value(rec + REC_VALUE, value_len as usize, out) == hdr[2];
                }
            }
            if PAUSES {
                self.pause_at(PausePoint::GetBetweenSeqReads);
            }
            // Acquire fence: the second state load cannot move above the copies.
            fence(Ordering::Acquire);
            let s2 = Word(shm.word(off + SLOT_STATE).load(Ordering::Relaxed));
            // FAULT skip_second_seq_check: a torn copy is returned as if consistent.
            if !snapshot_ok(s1, s2, cap) && !self.faults.has(Fault::SkipSecondSeqCheck) {
                return Pass::Retry;
            }
            if !key_eq {
                continue;
            }
            // FAULT ignore_checksum: returns a value that does not match its checksum (the length
            // bound still holds: it protects memory, not data).
            // Version 0 breaks invariant 2 like a bad checksum (§13.1).
            if !len_ok || hdr[0] == 0 || (!sum_ok && !self.faults.has(Fault::IgnoreChecksum)) {
                // With a consistent snapshot this is real corruption: never return the value.
                self.corrupt.fetch_add(1, Ordering::Relaxed);
                return Pass::Miss;
            }
            let (expires_at_ns, stale_until_ns) = (hdr[3], hdr[4]);
            // Read the clock only for entries that can expire: most gets need no clock at all.
            let fresh = if expires_at_ns == 0 {
                Freshness::Fresh
            } else {
                classify(expires_at_ns, stale_until_ns, self.now())
            };
            let mut refresh_requested = false;
            // FAULT stale_forever: expired entries are served as stale.
            let fresh = if fresh == Freshness::Expired && self.faults.has(Fault::StaleForever) {
                Freshness::Stale
            } else {
                fresh
            };
            let stale = match fresh {
                Freshness::Expired => return Pass::Miss,
                // Freshness is by time alone: a STALE slot whose record is not expired (the
                // clock went back, say) is a fresh hit (§13.1).
                Freshness::Fresh => false,
                Freshness::Stale => {
                    if d1.state == State::Ready {
                        // T7 mark_stale: the one reader whose CAS succeeds asks for a refresh.
                        // AcqRel like a claim CAS; no data is written, so any order is safe.
                        let to = s1.next(State::Stale, d1.active, 0);
                        if PAUSES {
                            self.pause_at(PausePoint::GetBeforeMarkStale);
                        }
                        if shm
                            .word(off + SLOT_STATE)
                            .compare_exchange(s1.0, to.0, Ordering::AcqRel, Ordering::Relaxed)
                            .is_ok()
                        {
                            refresh_requested = true;
                            self.tracer.record(shm, "mark_stale", loc.shard, slot, State::Ready, State::Stale, to.seq(), 0);
                        }
                    }
                    true
                }
            };
            // CLOCK second chance (§9.6). Relaxed: advisory; test first to keep the line clean.
            let referenced = shm.word(off + SLOT_REFERENCED);
            if referenced.load(Ordering::Relaxed) == 0 {
                referenced.store(1, Ordering::Relaxed);
            }
            self.count(loc.shard, if stale { SH_STALE_HITS } else { SH_HITS });
            return Pass::Hit(HitInfo {
                stale,
                refresh_requested,
                version: hdr[0],
                origin_tag: (hdr[1] >> 32) as u32,
                expires_at_ns,
                stale_until_ns,
                written_at_ns: hdr[5],
                provenance: Provenance::unpack(hdr[6], hdr[7]),
                shard: loc.shard,
                slot,
            });
        }
        Pass::Miss
    }

    /// Copies `len` value bytes (≤ value_capacity, checked by the caller) word by word with
    /// relaxed loads into `out`, returning their WCH64 checksum. Padding bits of the last word
    /// are masked out of both the copy and the hash.
    /// On a `FAST_CHECKSUM` segment the checksum is WCH64X4 (§2): [`Cache::copy_value_x4`].
    #[inline(always)]
    pub(crate) fn copy_value(&self, base: u64, len: usize, out: &mut Vec<u8>) -> u64 {
        if self.seg.fast_checksum() {
            return self.copy_value_x4(base, len, out);
        }
        let n = words(len);
        out.clear();
        out.reserve(n * 8);
        let dst = out.as_mut_ptr();
        let mut h = Wch64::new(len, VALUE_SEED);
        let full = len / 8;
        // Relaxed loads (validated by the caller's second state load after an acquire fence).
        // Full words first, then the masked last one: testing for the last word inside the
        // loop cost a compare and branch per word.
        self.seg.shm.load_words_relaxed(base, full, |i, w| {
            h.word(w);
            // SAFETY: `out` has capacity for n*8 bytes; this writes private memory only.
            unsafe { std::ptr::write_unaligned(dst.add(8 * i) as *mut u64, w.to_le()) };
        });
        if full < n {
            let w = self.seg.shm.word(base + 8 * full as u64).load(Ordering::Relaxed) & tail_mask(len);
            h.word(w);
            // SAFETY: as above (word `full` < n is within the capacity).
            unsafe { std::ptr::write_unaligned(dst.add(8 * full) as *mut u64, w.to_le()) };
        }
        // SAFETY: the first `len` ≤ n*8 bytes were initialised above.
        unsafe { out.set_len(len) };
        h.finish()
    }

    /// [`Cache::copy_value`] computing WCH64X4: the same relaxed loads and masking, with the
    /// words of each group of four fed to the four lanes together.
    #[inline(always)]
    fn copy_value_x4(&self, base: u64, len: usize, out: &mut Vec<u8>) -> u64 {
        let n = words(len);
        out.clear();
        out.reserve(n * 8);
        let dst = out.as_mut_ptr();
        let mut h = Wch64x4::new(len, VALUE_SEED);
        let mask = tail_mask(len);
        let full = len / 8;
        let groups = full / 4;
        // Relaxed loads (validated by the caller's second state load after an acquire fence).
        self.seg.shm.load_word_groups_relaxed(base, groups, |g, w| {
            h.round(w);
            for (j, x) in w.into_iter().enumerate() {
                // SAFETY: `out` has capacity for n*8 bytes; this writes private memory only.
                unsafe { std::ptr::write_unaligned(dst.add(8 * (4 * g + j)) as *mut u64, x.to_le()) };
            }
        });
        // The full words after the groups (at most three), then the masked last one.
        let rest = 4 * groups;
        self.seg.shm.load_words_relaxed(base + 8 * rest as u64, full - rest, |i, w| {
            let i = rest + i;
            h.word(i, w);
            // SAFETY: as above.
            unsafe { std::ptr::write_unaligned(dst.add(8 * i) as *mut u64, w.to_le()) };
        });
        if full < n {
            let w = self.seg.shm.word(base + 8 * full as u64).load(Ordering::Relaxed) & mask;
            h.word(full, w);
            // SAFETY: as above.
            unsafe { std::ptr::write_unaligned(dst.add(8 * full) as *mut u64, w.to_le()) };
        }
        // SAFETY: the first `len` ≤ n*8 bytes were initialised above.
        unsafe { out.set_len(len) };
        h.finish()
    }
}
