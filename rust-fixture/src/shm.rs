//! The only door to shared memory. Every shared word is reached through a raw pointer turned
//! into an atomic with `AtomicU64::from_ptr` / `AtomicU32::from_ptr`; no `&[u8]`, `&u64` or
//! `&mut` to shared bytes is ever formed (PROTOCOL.md §1: every access to a shared word is
//! atomic, and another process may change any byte at any time).
//!
//! A `Shm` is either a mapping of a segment file or a borrowed image of one (a caller's buffer,
//! for the C ABI's image functions, docs/ABI.md). Both are a base pointer and a length behind
//! the same word accessors, so the open checks and the reader run one code path over either:
//! the ABI is not a second reader that can fall behind this one. An image is accessed with the
//! same atomics as a mapping; for memory nobody else touches they cost what plain loads cost.

use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// A `MAP_SHARED`, read-write mapping of a segment file at a fixed, checked length (§13: mapped
/// once, never remapped because the header says so).
pub struct Shm {
    /// Owns the mapping (unmapped on drop); `None` for a borrowed image. All access goes
    /// through `base`.
    _map: Option<MmapRaw>,
    base: *mut u8,
    len: u64,
}

// SAFETY: the mapping is only ever accessed through atomics, which are safe to use from any
// thread; the pointer stays valid for the lifetime of `map`, which `Shm` owns.
unsafe impl Send for Shm {}
unsafe impl Sync for Shm {}

impl Shm {
    /// Maps the first `len` bytes of `file` shared, read-write.
    pub fn map(file: &File, len: u64) -> std::io::Result<Shm> {
        let map = MmapOptions::new().len(len as usize).map_raw(file)?;
        let base = map.as_mut_ptr();
        // The kernel returns page-aligned mappings; the layout's 8-byte alignment of every word
        // (relative to the file start) therefore holds in memory too.
        debug_assert_eq!(base as usize % 4096, 0);
        Ok(Shm { _map: Some(map), base, len })
    }

    /// A view of a caller's image of a segment (not a mapping), accessed exactly like one.
    ///
    /// # Safety
    /// `base` is 8-byte aligned and valid for reads and writes of `len` bytes for as long as the
    /// returned `Shm` lives, and nothing accesses those bytes other than atomically meanwhile
    /// (the caller holds no reference to them either: `Shm` forms none).
    pub unsafe fn borrowed(base: *mut u8, len: u64) -> Shm {
        debug_assert_eq!(base as usize % 8, 0);
        Shm { _map: None, base, len }
    }

    /// Length of the mapping in bytes (never zero: at least the header page).
    #[inline(always)]
    pub fn mapped_len(&self) -> u64 {
        self.len
    }

    /// The 64-bit shared word at byte offset `off`.
    ///
    /// Callers pass offsets computed only from the validated private `Layout` (or fixed header
    /// offsets below 4096), never from values read out of the segment, so `off + 8 <= len`
    /// holds by construction; the debug assertion documents and tests that.
    #[inline(always)]
    pub fn word(&self, off: u64) -> &AtomicU64 {
        debug_assert!(off.is_multiple_of(8) && off + 8 <= self.len, "word offset {off} out of range");
        // SAFETY: in bounds and 8-byte aligned (see above); the memory is shared and may be
        // changed by others at any time, which is exactly what an atomic permits. The returned
        // reference is to an atomic (interior mutability), never to plain bytes.
        unsafe { AtomicU64::from_ptr(self.base.add(off as usize) as *mut u64) }
    }

    /// Relaxed loads of the `n` consecutive words starting at `off`, handed to `f(index, word)`
    /// in order. Same bounds contract as [`Shm::word`]; the base address is computed once, which
    /// keeps the copy loops of the read path tight.
    #[inline(always)]
    pub fn load_words_relaxed(&self, off: u64, n: usize, mut f: impl FnMut(usize, u64)) {
        debug_assert!(off.is_multiple_of(8) && off + 8 * n as u64 <= self.len, "words {off}+{n} out of range");
        // SAFETY: every word is in bounds and 8-byte aligned (see `word`); each is accessed as
        // an atomic, never as plain bytes.
        let p = unsafe { self.base.add(off as usize) } as *mut u64;
        for i in 0..n {
            // SAFETY: as above.
            let w = unsafe { AtomicU64::from_ptr(p.add(i)) }.load(std::sync::atomic::Ordering::Relaxed);
            f(i, w);
        }
    }

    /// Like [`Shm::load_words_relaxed`] for `groups` groups of four consecutive words, handed
    /// over together so that a caller can work on the four at once (WCH64X4's lanes).
    #[inline(always)]
    pub fn load_word_groups_relaxed(&self, off: u64, groups: usize, mut f: impl FnMut(usize, [u64; 4])) {
        debug_assert!(off.is_multiple_of(8) && off + 32 * groups as u64 <= self.len, "groups {off}+{groups} out of range");
        // SAFETY: every word is in bounds and 8-byte aligned (see `word`); each is accessed as
        // an atomic, never as plain bytes.
        let p = unsafe { self.base.add(off as usize) } as *mut u64;
        let ld = |i: usize| {
            // SAFETY: as above.
            unsafe { AtomicU64::from_ptr(p.add(i)) }.load(std::sync::atomic::Ordering::Relaxed)
        };
        for g in 0..groups {
            f(g, [ld(4 * g), ld(4 * g + 1), ld(4 * g + 2), ld(4 * g + 3)]);
        }
    }

    /// Asks the CPU to start fetching the cache line holding byte `off` (same bounds contract as
    /// [`Shm::word`]). A prefetch is not an access in the memory model's sense: it reads no
    /// value, orders nothing and cannot fault; on other architectures it does nothing.
    #[inline(always)]
    pub fn prefetch(&self, off: u64) {
        debug_assert!(off < self.len);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: prefetching any address is sound (no access, no fault); this one is in bounds.
        #[allow(unused_unsafe)]
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(self.base.add(off as usize) as *const i8)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = off;
    }

    /// The 32-bit shared word at byte offset `off` (only `generation`, §3).
    #[inline(always)]
    pub fn word32(&self, off: u64) -> &AtomicU32 {
        debug_assert!(off.is_multiple_of(4) && off + 4 <= self.len);
        // SAFETY: as for `word`, with 4-byte alignment.
        unsafe { AtomicU32::from_ptr(self.base.add(off as usize) as *mut u32) }
    }

    /// Raw address of `off`, for the futex syscall (which takes the address, not a reference).
    #[inline(always)]
    pub fn addr(&self, off: u64) -> *mut u32 {
        debug_assert!(off + 4 <= self.len);
        // SAFETY: in bounds of the mapping.
        unsafe { self.base.add(off as usize) as *mut u32 }
    }
}
