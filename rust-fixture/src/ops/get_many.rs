//! `get_many_into`: a batch of gets whose cache and TLB misses overlap (docs/USING.md).
//!
//! Each key is still one ordinary get of PROTOCOL.md §9.2 (`lookup_at`, the body of
//! [`Cache::get_into`]): the batch only places every key of a chunk first and prefetches each
//! key's home slot and its shard's counter line, so that on a large segment the misses are in
//! flight together instead of one get after another.

use super::KeyLoc;
use crate::cache::{Cache, HitInfo};
use crate::layout::SH_HITS;

/// How many keys [`Cache::get_many_into`] places and prefetches ahead at once; a longer batch is
/// served in chunks of this size. 128 placements fit on the stack, and a core has far fewer
/// misses in flight than 128 slots' lines, so a larger chunk would overlap nothing more.
pub const MAX_GET_BATCH: usize = 128;

impl Cache {
    /// [`Cache::get_into`] for a batch of keys: `results[i] = self.get_into(keys[i], &mut
    /// values[i])` for every `i`, in order.
    ///
    /// The per-key semantics are exactly those of `keys.len()` calls of `get_into` (PROTOCOL.md
    /// §9.2): the same loads with the same orderings, the same counters, the same T7 marks, in
    /// key order, and nothing held between two keys. It is faster on a large segment only
    /// because, before the gets of each chunk of [`MAX_GET_BATCH`] keys, it computes every key's
    /// placement and prefetches its home slot and its shard's counter line. Use it wherever a
    /// service already has several keys at hand (a page of items, a fan-out).
    ///
    /// # Panics
    /// If `values` or `results` is not as long as `keys`.
    ///
    /// ```
    /// use warmcache::{Cache, CreateOptions, Geometry, HitInfo, PutOptions};
    /// let path = format!("/dev/shm/warmcache-doc-get-many-{}.wc", std::process::id());
    /// let cache = Cache::create(&path, Geometry::default(), CreateOptions::default())?;
    /// cache.put(b"a", b"1", PutOptions::default()).expect("put");
    /// let keys: [&[u8]; 2] = [b"a", b"absent"];
    /// let mut values = vec![Vec::new(); 2];
    /// let mut results: Vec<Option<HitInfo>> = vec![None; 2];
    /// cache.get_many_into(&keys, &mut values, &mut results);
    /// assert!(results[0].is_some() && values[0] == b"1");
    /// assert!(results[1].is_none() && values[1].is_empty());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), warmcache::OpenError>(())
    /// ```
    pub fn get_many_into<K: AsRef<[u8]>>(&self, keys: &[K], values: &mut [Vec<u8>], results: &mut [Option<HitInfo>]) {
        assert!(
            values.len() == keys.len() && results.len() == keys.len(),
            "get_many_into needs values and results as long as keys"
        );
        for ((k, v), r) in keys.chunks(MAX_GET_BATCH).zip(values.chunks_mut(MAX_GET_BATCH)).zip(results.chunks_mut(MAX_GET_BATCH)) {
            // As in get_into, the pause-hook test is hoisted out of the whole chunk.
            if self.pausing() {
                self.get_chunk::<true, K>(k, v, r);
            } else {
                self.get_chunk::<false, K>(k, v, r);
            }
        }
    }

    #[inline(always)]
    fn get_chunk<const PAUSES: bool, K: AsRef<[u8]>>(&self, keys: &[K], values: &mut [Vec<u8>], results: &mut [Option<HitInfo>]) {
        let mut locs = [KeyLoc { h: 0, shard: 0, home: 0 }; MAX_GET_BATCH];
        for (loc, k) in locs.iter_mut().zip(keys) {
            *loc = self.locate(k.as_ref());
            self.prefetch_home(*loc);
        }
        for (((k, v), r), loc) in keys.iter().zip(values.iter_mut()).zip(results.iter_mut()).zip(&locs) {
            *r = self.lookup_at::<PAUSES>(k.as_ref(), *loc, v);
        }
    }

    /// Prefetches every cache line of the key's home slot (header, key and both records: which
    /// record is active is known only once the state word arrives) and its shard's counter line.
    /// A prefetch is no access (it forms no reference and loads nothing the get relies on), so
    /// the get that follows is exactly `get_into`'s.
    #[inline(always)]
    fn prefetch_home(&self, loc: KeyLoc) {
        let layout = &self.seg.layout;
        if crate::COUNTERS_COMPILED {
            self.seg.shm.prefetch(layout.shard_offset(loc.shard) + SH_HITS);
        }
        let slot = layout.slot_offset(loc.shard, loc.home);
        let mut line = 0;
        while line < layout.slot_size {
            self.seg.shm.prefetch(slot + line);
            line += 64;
        }
    }
}
