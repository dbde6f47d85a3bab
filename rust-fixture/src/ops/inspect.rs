//! `stats()` (PROTOCOL.md §9.7) and `dump()`: read-only scans of the whole segment that never
//! trust a length or a state word they have not checked (§13).

use super::classify;
use crate::cache::{Cache, HitInfo, Provenance};
use crate::hash::{wch64, words, KEY_SEED};
use crate::layout::*;
use crate::state::{snapshot_ok, State, Word};
use std::sync::atomic::{fence, Ordering};

/// The shard counters of §6.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Fresh hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Stale hits.
    pub stale_hits: u64,
    /// New entries published (T2).
    pub inserts: u64,
    /// Refreshes published (T5).
    pub refreshes: u64,
    /// Entries evicted by CLOCK or `evict`.
    pub evictions: u64,
    /// Entries invalidated.
    pub invalidations: u64,
    /// Expired entries cleared.
    pub expirations: u64,
    /// Dead owners' claims reclaimed.
    pub reclaims: u64,
}

impl Counters {
    /// `(name, value)` pairs in the spec's order.
    pub fn fields(&self) -> [(&'static str, u64); 9] {
        [
            ("hits", self.hits),
            ("misses", self.misses),
            ("stale_hits", self.stale_hits),
            ("inserts", self.inserts),
            ("refreshes", self.refreshes),
            ("evictions", self.evictions),
            ("invalidations", self.invalidations),
            ("expirations", self.expirations),
            ("reclaims", self.reclaims),
        ]
    }

    /// Wrapping: counters are read from shared memory and may be garbage (§13).
    fn add(&mut self, o: &Counters) {
        self.hits = self.hits.wrapping_add(o.hits);
        self.misses = self.misses.wrapping_add(o.misses);
        self.stale_hits = self.stale_hits.wrapping_add(o.stale_hits);
        self.inserts = self.inserts.wrapping_add(o.inserts);
        self.refreshes = self.refreshes.wrapping_add(o.refreshes);
        self.evictions = self.evictions.wrapping_add(o.evictions);
        self.invalidations = self.invalidations.wrapping_add(o.invalidations);
        self.expirations = self.expirations.wrapping_add(o.expirations);
        self.reclaims = self.reclaims.wrapping_add(o.reclaims);
    }
}

/// Slot counts per state, plus slots whose state word is impossible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// Indexed by `State as usize`.
    pub by_state: [u64; 6],
    /// Slots whose state word is impossible (§8.1).
    pub impossible: u64,
}

impl Occupancy {
    /// Slots in state `s`.
    pub fn get(&self, s: State) -> u64 {
        self.by_state[s as usize]
    }

    fn add(&mut self, o: &Occupancy) {
        for (a, b) in self.by_state.iter_mut().zip(o.by_state) {
            *a += b;
        }
        self.impossible += o.impossible;
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
/// The counters and occupancy of one shard (or the sum of all).
pub struct ShardStats {
    /// The §6 counters.
    pub counters: Counters,
    /// Slots by state.
    pub occupancy: Occupancy,
}

/// Sums over all shards plus each shard's own figures. Counters are advisory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sums over all shards.
    pub totals: ShardStats,
    /// Each shard's own figures, by shard index.
    pub shards: Vec<ShardStats>,
    /// Misses this handle attributed to corruption (private, §15).
    pub corrupt: u64,
}

/// One readable entry found by [`Cache::dump`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpEntry {
    /// Shard of the entry.
    pub shard: u32,
    /// Slot index within the shard.
    pub slot: u32,
    /// The slot's state.
    pub state: State,
    /// The state word's `seq`.
    pub seq: u32,
    /// The key bytes.
    pub key: Vec<u8>,
    /// The value bytes.
    pub value: Vec<u8>,
    /// As a `get` would report it (without making T7): `stale` by time or state.
    pub info: HitInfo,
}

/// Every readable entry whose record passes its checks, and every problem found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dump {
    /// The readable entries, by shard and slot.
    pub entries: Vec<DumpEntry>,
    /// What failed its checks, with shard and slot.
    pub problems: Vec<String>,
}

impl Cache {
    /// Sums of each shard's counters (relaxed loads) and occupancy by state.
    ///
    /// The counters are the whole fleet's (every process adds to the same shard words), and
    /// advisory: read while others write, they need not add up at one instant.
    ///
    /// ```
    /// use warmcache::{Cache, CreateOptions, Geometry, PutOptions, State};
    /// let path = format!("/dev/shm/warmcache-doc-stats-{}.wc", std::process::id());
    /// let cache = Cache::create(&path, Geometry::default(), CreateOptions::default())?;
    /// cache.put(b"a", b"1", PutOptions::default()).expect("put");
    /// cache.get(b"a");
    /// cache.get(b"b");
    /// let s = cache.stats().totals;
    /// assert_eq!((s.counters.inserts, s.counters.hits, s.counters.misses), (1, 1, 1));
    /// assert_eq!(s.occupancy.get(State::Ready), 1);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), warmcache::OpenError>(())
    /// ```
    pub fn stats(&self) -> Stats {
        let layout = self.seg.layout;
        let shm = &self.seg.shm;
        let g = layout.geometry;
        let mut out = Stats { corrupt: self.corrupt_count(), ..Stats::default() };
        for shard in 0..g.shard_count {
            let base = layout.shard_offset(shard);
            // Relaxed: counters are advisory (§9.7).
            let c = |off| shm.word(base + off).load(Ordering::Relaxed);
            let mut s = ShardStats {
                counters: Counters {
                    hits: c(SH_HITS),
                    misses: c(SH_MISSES),
                    stale_hits: c(SH_STALE_HITS),
                    inserts: c(SH_INSERTS),
                    refreshes: c(SH_REFRESHES),
                    evictions: c(SH_EVICTIONS),
                    invalidations: c(SH_INVALIDATIONS),
                    expirations: c(SH_EXPIRATIONS),
                    reclaims: c(SH_RECLAIMS),
                },
                occupancy: Occupancy::default(),
            };
            for slot in 0..g.slots_per_shard {
                let w = Word(shm.word(layout.slot_offset(shard, slot) + SLOT_STATE).load(Ordering::Relaxed));
                match w.decode(g.participant_capacity) {
                    Some(d) => s.occupancy.by_state[d.state as usize] += 1,
                    None => s.occupancy.impossible += 1,
                }
            }
            out.totals.counters.add(&s.counters);
            out.totals.occupancy.add(&s.occupancy);
            out.shards.push(s);
        }
        out
    }

    /// The key bytes slot `slot` of shard `shard` holds, if the low 32 bits of its `key_len` are
    /// in 1..=key_capacity (whatever its state: the C ABI's image decoder asks a reader for each
    /// such key, docs/ABI.md). Relaxed loads: a look, validated by nothing.
    pub fn stored_key(&self, shard: u32, slot: u32) -> Option<Vec<u8>> {
        let layout = self.seg.layout;
        let off = layout.slot_offset(shard, slot);
        let len = self.seg.shm.word(off + SLOT_KEY_LEN).load(Ordering::Relaxed) & 0xFFFF_FFFF;
        if len == 0 || len > layout.geometry.key_capacity as u64 {
            return None;
        }
        let mut key = Vec::with_capacity(len as usize + 8);
        self.seg.shm.load_words_relaxed(off + SLOT_KEY, words(len as usize), |_, w| {
            key.extend_from_slice(&w.to_le_bytes())
        });
        key.truncate(len as usize);
        Some(key)
    }

    /// Scans every slot: lists each readable entry whose key and record pass their checks and
    /// reports every problem (impossible state words, lengths past capacity, bad checksums,
    /// keys outside their window, invalid insert locks). Never writes to the segment.
    pub fn dump(&self) -> Dump {
        let layout = self.seg.layout;
        let g = layout.geometry;
        let shm = &self.seg.shm;
        let mut out = Dump::default();
        let now = self.now();
        for shard in 0..g.shard_count {
            let lock = shm.word(layout.shard_offset(shard) + SH_INSERT_LOCK).load(Ordering::Relaxed);
            if lock > g.participant_capacity as u64 {
                out.problems.push(format!(
                    "shard {shard}: insert_lock {lock} names no participant (capacity {})",
                    g.participant_capacity
                ));
            }
            let first = out.entries.len();
            for slot in 0..g.slots_per_shard {
                // A slot changing under us is re-read a few times; if it never settles it is
                // busy, not broken, and is skipped.
                for _ in 0..super::READ_RETRIES {
                    match self.dump_slot(shard, slot, now) {
                        SlotScan::Changed => continue,
                        SlotScan::Nothing => {}
                        SlotScan::Entry(e) => out.entries.push(*e),
                        SlotScan::Problem(p) => out.problems.push(format!("shard {shard} slot {slot}: {p}")),
                    }
                    break;
                }
            }
            self.drop_duplicates(shard, first, &mut out);
        }
        out
    }

    /// Invariant 1: a key lives in at most one slot of its shard. Of several copies only the one
    /// a `get` finds, the first in window order, stays an entry; the others become problems
    /// (PROTOCOL.md §13.1).
    fn drop_duplicates(&self, shard: u32, first: usize, out: &mut Dump) {
        let sps = self.seg.layout.geometry.slots_per_shard;
        let pos = |e: &DumpEntry| (e.slot + sps - self.locate(&e.key).home) % sps;
        let mut kept: Vec<DumpEntry> = Vec::new();
        for mut e in out.entries.drain(first..).collect::<Vec<_>>() {
            match kept.iter_mut().find(|k| k.key == e.key) {
                None => kept.push(e),
                Some(k) => {
                    if pos(&e) < pos(k) {
                        std::mem::swap(k, &mut e);
                    }
                    out.problems.push(format!(
                        "shard {shard} slot {}: key is also in slot {}, which a get finds first (invariant 1)",
                        e.slot, k.slot
                    ));
                }
            }
        }
        out.entries.extend(kept);
    }

    pub(crate) fn dump_slot(&self, shard: u32, slot: u32, now: u64) -> SlotScan {
        let layout = self.seg.layout;
        let g = layout.geometry;
        let shm = &self.seg.shm;
        let off = layout.slot_offset(shard, slot);
        // Acquire, then relaxed copies, fence, relaxed re-load: the same snapshot as `get`.
        let s1 = Word(shm.word(off + SLOT_STATE).load(Ordering::Acquire));
        let Some(d1) = s1.decode(g.participant_capacity) else {
            return SlotScan::Problem(format!("impossible state word {:#018x}", s1.0));
        };
        if !d1.state.is_readable() {
            return SlotScan::Nothing;
        }
        let key_hash = shm.word(off + SLOT_KEY_HASH).load(Ordering::Relaxed);
        let key_len = shm.word(off + SLOT_KEY_LEN).load(Ordering::Relaxed);
        let mut key = Vec::new();
        // Bounds check (§13) before reading any key word.
        let key_ok = (1..=g.key_capacity as u64).contains(&key_len);
        if key_ok {
            let n = key_len as usize;
            key.reserve(words(n) * 8);
            for i in 0..words(n) {
                let w = shm.word(off + SLOT_KEY + 8 * i as u64).load(Ordering::Relaxed);
                key.extend_from_slice(&w.to_le_bytes());
            }
            key.truncate(n);
        }
        let rec = layout.record_offset(off, d1.active);
        let mut hdr = [0u64; 8];
        for (i, w) in hdr.iter_mut().enumerate() {
            *w = shm.word(rec + 8 * i as u64).load(Ordering::Relaxed);
        }
        let value_len = hdr[1] & 0xFFFF_FFFF;
        let mut value = Vec::new();
        let value_ok = value_len <= g.value_capacity as u64;
        let mut checksum = 0;
        if value_ok {
            checksum = self.copy_value(rec + REC_VALUE, value_len as usize, &mut value);
        }
        fence(Ordering::Acquire);
        let s2 = Word(shm.word(off + SLOT_STATE).load(Ordering::Relaxed));
        if !snapshot_ok(s1, s2, g.participant_capacity) {
            return SlotScan::Changed;
        }
        let state = d1.state.name();
        if !key_ok {
            return SlotScan::Problem(format!("{state} slot has key_len {key_len:#x}, outside 1..={}", g.key_capacity));
        }
        let h = wch64(&key, KEY_SEED);
        if h != key_hash {
            return SlotScan::Problem(format!("{state} slot's key_hash {key_hash:#018x} is not WCH64(key) = {h:#018x}"));
        }
        let home = ((h & 0xFFFF_FFFF) % g.slots_per_shard as u64) as u32;
        let key_shard = ((h >> 32) % g.shard_count as u64) as u32;
        let dist = (slot + g.slots_per_shard - home) % g.slots_per_shard;
        if key_shard != shard || dist >= g.probe_window {
            return SlotScan::Problem(format!(
                "{state} slot holds a key whose window is shard {key_shard} slots {home}+{}",
                g.probe_window
            ));
        }
        if !value_ok {
            return SlotScan::Problem(format!(
                "{state} record {} has value_len {value_len}, past value_capacity {}",
                d1.active, g.value_capacity
            ));
        }
        if checksum != hdr[2] {
            return SlotScan::Problem(format!(
                "{state} record {} checksum {:#018x} does not match its value (it hashes to {checksum:#018x})",
                d1.active, hdr[2]
            ));
        }
        if hdr[0] == 0 {
            return SlotScan::Problem(format!("{state} record {} has version 0", d1.active));
        }
        let (e, gr) = (hdr[3], hdr[4]);
        if e != 0 && gr != 0 && gr < e {
            return SlotScan::Problem(format!("{state} record {} has stale_until_ns {gr} < expires_at_ns {e}", d1.active));
        }
        let stale = d1.state == State::Stale || classify(e, gr, now) != super::Freshness::Fresh;
        SlotScan::Entry(Box::new(DumpEntry {
            shard,
            slot,
            state: d1.state,
            seq: d1.seq,
            key,
            value,
            info: HitInfo {
                stale,
                refresh_requested: false,
                version: hdr[0],
                origin_tag: (hdr[1] >> 32) as u32,
                expires_at_ns: e,
                stale_until_ns: gr,
                written_at_ns: hdr[5],
                provenance: Provenance::unpack(hdr[6], hdr[7]),
                shard,
                slot,
            },
        }))
    }
}

pub(crate) enum SlotScan {
    Nothing,
    Changed,
    Entry(Box<DumpEntry>),
    Problem(String),
}
