// SharedWords.swift — the ONLY place where raw pointers into the mapping become atomics.
//
// Every shared word is accessed through `UnsafeAtomic<UInt64>` created over the mapping
// (PROTOCOL.md §1: every access to a shared word is atomic). Offsets are bounds-checked against
// the mapped length; key and value bytes are moved as 64-bit words with relaxed atomic loads and
// stores (never memcpy, never a language-level reference to shared bytes).

import Atomics
import CWarmcacheShim

/// A view of a mapped region as 64-bit atomic words. Does not own the mapping.
@usableFromInline
struct SharedWords: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let length: Int

    init(base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    /// The atomic word at byte offset `off` (bounds- and alignment-checked).
    @inline(__always) @usableFromInline
    func word(_ off: Int) -> UnsafeAtomic<UInt64> {
        precondition(off >= 0 && off <= length - 8 && off & 7 == 0, "shared word offset \(off) out of bounds")
        return UnsafeAtomic<UInt64>(at: (base + off).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// The 32-bit futex word `generation` (§3 offset 256; the only non-64-bit field).
    @inline(__always)
    func generationWord() -> UnsafeAtomic<UInt32> {
        UnsafeAtomic<UInt32>(at: (base + Layout.HDR_GENERATION).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    /// Raw address of `generation`, for the futex system call only.
    func generationAddress() -> UnsafeMutablePointer<UInt32> {
        (base + Layout.HDR_GENERATION).assumingMemoryBound(to: UInt32.self)
    }

    /// The atomic word at `off`, for loops whose whole range the caller has bounds-checked once.
    @inline(__always)
    func wordUnchecked(_ off: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic<UInt64>(at: (base + off).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    // MARK: Loads

    /// Loads of a hot path that has bounds-checked the whole slot it reads once (Get.swift):
    /// the checked loads below cost a precondition and overflow checks per word.
    @inline(__always) func loadRelaxedUnchecked(_ off: Int) -> UInt64 { wordUnchecked(off).load(ordering: .relaxed) }
    @inline(__always) func loadAcquireUnchecked(_ off: Int) -> UInt64 { wordUnchecked(off).load(ordering: .acquiring) }

    @inline(__always) func loadRelaxed(_ off: Int) -> UInt64 { word(off).load(ordering: .relaxed) }
    @inline(__always) func loadAcquire(_ off: Int) -> UInt64 { word(off).load(ordering: .acquiring) }
    @inline(__always) func loadSeqCst(_ off: Int) -> UInt64 { word(off).load(ordering: .sequentiallyConsistent) }

    /// Prefetches the line of byte offset `off` (in bounds, checked by the caller): no load, so
    /// no atomicity question arises; the words are read afterwards by the ordinary atomic loads.
    @inline(__always) func prefetch(_ off: Int) { wc_prefetch(UnsafeRawPointer(base + off)) }

    // MARK: Stores

    @inline(__always) func storeRelaxed(_ off: Int, _ v: UInt64) { word(off).store(v, ordering: .relaxed) }
    @inline(__always) func storeRelease(_ off: Int, _ v: UInt64) { word(off).store(v, ordering: .releasing) }
    @inline(__always) func storeSeqCst(_ off: Int, _ v: UInt64) { word(off).store(v, ordering: .sequentiallyConsistent) }

    // MARK: Read-modify-write

    /// Compare-and-swap with acquire-release ordering on success (claims, §10), acquire on failure.
    @inline(__always) func casAcqRel(_ off: Int, _ expected: UInt64, _ desired: UInt64) -> Bool {
        word(off).compareExchange(expected: expected, desired: desired,
                                  successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring).exchanged
    }
    /// Sequentially consistent compare-and-swap (the claim hint's enter and leave, §5.1).
    @inline(__always) func casSeqCst(_ off: Int, _ expected: UInt64, _ desired: UInt64) -> Bool {
        word(off).compareExchange(expected: expected, desired: desired,
                                  successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed).exchanged
    }
    /// Compare-and-swap with release ordering on success (publishes, §10).
    @inline(__always) func casRelease(_ off: Int, _ expected: UInt64, _ desired: UInt64) -> Bool {
        word(off).compareExchange(expected: expected, desired: desired,
                                  successOrdering: .releasing, failureOrdering: .relaxed).exchanged
    }
    /// Compare-and-swap with acquire ordering on success (taking the insert lock, §10).
    @inline(__always) func casAcquire(_ off: Int, _ expected: UInt64, _ desired: UInt64) -> Bool {
        word(off).compareExchange(expected: expected, desired: desired,
                                  successOrdering: .acquiring, failureOrdering: .relaxed).exchanged
    }
    /// Relaxed fetch-add; returns the previous value (counters, clock_hand).
    @discardableResult
    @inline(__always) func fetchAddRelaxed(_ off: Int, _ d: UInt64) -> UInt64 {
        word(off).loadThenWrappingIncrement(by: d, ordering: .relaxed)
    }
    /// Acquire-release fetch-add; returns the previous value (version_clock, event_seq, epoch).
    @discardableResult
    @inline(__always) func fetchAddAcqRel(_ off: Int, _ d: UInt64) -> UInt64 {
        word(off).loadThenWrappingIncrement(by: d, ordering: .acquiringAndReleasing)
    }
    @discardableResult
    @inline(__always) func fetchAddSeqCst(_ off: Int, _ d: UInt64) -> UInt64 {
        word(off).loadThenWrappingIncrement(by: d, ordering: .sequentiallyConsistent)
    }
    @discardableResult
    @inline(__always) func fetchSubSeqCst(_ off: Int, _ d: UInt64) -> UInt64 {
        word(off).loadThenWrappingDecrement(by: d, ordering: .sequentiallyConsistent)
    }

    // MARK: Generation (u32, sequentially consistent: Dekker handshake with waiters, §11)

    @inline(__always) func generationLoad() -> UInt32 { generationWord().load(ordering: .sequentiallyConsistent) }
    @inline(__always) func generationBump() {
        generationWord().wrappingIncrement(by: 1, ordering: .sequentiallyConsistent)
    }

    // MARK: Fences

    /// Acquire fence after copying a snapshot (§9.2): the second state load cannot move above the copy.
    @inline(__always) func fenceAcquire() { atomicMemoryFence(ordering: .acquiring) }

    // MARK: Byte areas (key and value), moved as words

    /// Relaxed-compare `key` against the shared key area at `off` (`key.count` bytes, last word
    /// zero-padded). Caller has checked `key.count` ≤ the area's capacity.
    /// Full words first, then the masked last one, with wrapping offsets inside the area checked
    /// once: a test for the last word and the overflow checks in every step were ~50
    /// instructions of each 64 B get.
    @inline(__always)
    func equalsBytes(_ off: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let count = key.count
        let n = WCH64.wordCount(count)
        precondition(off >= 0 && off + n * 8 <= length && off & 7 == 0, "shared key area out of bounds")
        let full = count >> 3
        var i = 0
        while i < full {
            let w = wordUnchecked(off &+ i &* 8).load(ordering: .relaxed)
            if w != UInt64(littleEndian: key.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)) { return false }
            i &+= 1
        }
        if full < n {
            // The padding bytes of the last word belong to nothing (§1, §13.1): masked off.
            let w = wordUnchecked(off &+ full &* 8).load(ordering: .relaxed) & WCH64.lowMask(count &- full &* 8)
            if w != WCH64.loadWord(key, at: full &* 8) { return false }
        }
        return true
    }

    /// Store `bytes` as words with relaxed stores, zero-padding the last word.
    @inline(__always)
    func storeBytes(_ off: Int, _ bytes: UnsafeRawBufferPointer) {
        let n = WCH64.wordCount(bytes.count)
        precondition(off >= 0 && off + n * 8 <= length && off & 7 == 0, "shared byte area out of bounds")
        var i = 0
        while i < n {
            wordUnchecked(off + i * 8).store(WCH64.loadWord(bytes, at: i * 8), ordering: .relaxed)
            i += 1
        }
    }

    /// Copy `count` bytes starting at `off` into private memory with relaxed word loads, hashing
    /// the words as they are copied. Returns the bytes and `WCH64(bytes, seed)`.
    @inline(__always)
    func copyBytes(_ off: Int, count: Int, seed: UInt64, lanes: Bool = false) -> ([UInt8], UInt64) {
        var out: [UInt8] = []
        let sum = lanes ? copyBytesX4(off, count: count, seed: seed, into: &out) : copyBytes(off, count: count, seed: seed, into: &out)
        return (out, sum)
    }

    /// `copyBytes` computing WCH64X4 (§2, FAST_CHECKSUM) instead of WCH64: the same relaxed
    /// word loads, bounds check and masking, four words a round, one per lane.
    @inline(__always)
    func copyBytesX4(_ off: Int, count: Int, seed: UInt64, into out: inout [UInt8]) -> UInt64 {
        let n = WCH64.wordCount(count)
        precondition(count >= 0 && off >= 0 && off + n * 8 <= length && off & 7 == 0, "shared byte area out of bounds")
        var h = WCH64X4(seed: seed, length: count)
        Self.fill(&out, count: count) { copyWordsX4(off, count: count, hash: &h, to: $0) }
        return h.finish()
    }

    /// The copy loop of `copyBytesX4` (bounds already checked), relaxed atomic loads only.
    @inline(__always)
    private func copyWordsX4(_ off: Int, count: Int, hash h: inout WCH64X4, to raw: UnsafeMutableRawBufferPointer) {
        let n = WCH64.wordCount(count)
        let full = count >> 3
        var i = 0
        while i + 4 <= full {
            let p = off + i * 8
            let a = wordUnchecked(p).load(ordering: .relaxed), b = wordUnchecked(p + 8).load(ordering: .relaxed)
            let c = wordUnchecked(p + 16).load(ordering: .relaxed), d = wordUnchecked(p + 24).load(ordering: .relaxed)
            h.round(a, b, c, d)
            raw.storeBytes(of: a.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            raw.storeBytes(of: b.littleEndian, toByteOffset: i * 8 + 8, as: UInt64.self)
            raw.storeBytes(of: c.littleEndian, toByteOffset: i * 8 + 16, as: UInt64.self)
            raw.storeBytes(of: d.littleEndian, toByteOffset: i * 8 + 24, as: UInt64.self)
            i += 4
        }
        while i < full {
            let w = wordUnchecked(off + i * 8).load(ordering: .relaxed)
            h.word(i, w)
            raw.storeBytes(of: w.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            i += 1
        }
        if full < n {
            // Padding bytes past `count` belong to nothing (§1, §13.1): masked out of the hash too.
            let w = wordUnchecked(off + full * 8).load(ordering: .relaxed) & WCH64.lowMask(count - full * 8)
            h.word(full, w)
            var k = 0
            while full * 8 + k < count {
                raw[full * 8 + k] = UInt8(truncatingIfNeeded: w >> (8 * UInt64(k)))
                k += 1
            }
        }
    }

    /// Copy `count` bytes starting at `off` into `out` (overwritten, `count` bytes long after),
    /// with relaxed word loads, hashing the words as they are copied. Returns `WCH64(bytes, seed)`.
    /// `out`'s buffer is reused when it is large enough and not shared, so a caller that keeps
    /// its buffer allocates nothing.
    @inline(__always)
    func copyBytes(_ off: Int, count: Int, seed: UInt64, into out: inout [UInt8]) -> UInt64 {
        let n = WCH64.wordCount(count)
        // The only bounds check of the loads below (they use wordUnchecked): a corrupt length
        // must never let a reader load past the mapping.
        precondition(count >= 0 && off >= 0 && off + n * 8 <= length && off & 7 == 0, "shared byte area out of bounds")
        var h = WCH64.start(seed: seed, length: count)
        Self.fill(&out, count: count) { h = copyWords(off, count: count, hash: h, to: $0) }
        return WCH64.finish(h)
    }

    /// Makes `out` exactly `count` bytes and lets `write` fill all of them.
    @inline(__always)
    static func fill(_ out: inout [UInt8], count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        if out.capacity < count {
            // An allocation is needed anyway: build the array uninitialized rather than
            // zero-filling it first (this is every hit of the allocating get).
            out = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
                write(UnsafeMutableRawBufferPointer(buf))
                initialized = count
            }
        } else {
            // Array has no uninitialized resize: shrink, or zero-fill only the growth, within the
            // capacity (neither allocates for a unique buffer). Equal sizes, the steady state of
            // a reused buffer, do neither.
            if out.count > count {
                out.removeSubrange(count...)
            } else if out.count < count {
                out.append(contentsOf: repeatElement(0, count: count - out.count))
            }
            out.withUnsafeMutableBytes { write($0) }
        }
    }

    /// The copy loop of `copyBytes`, which has bounds-checked `off..<off + wordCount(count) * 8`.
    /// Shared bytes are read only as whole words with relaxed atomic loads (never a plain load or
    /// memcpy of shared memory: a concurrent writer makes that a data race, undefined behaviour,
    /// while a torn atomic copy is merely wrong and is caught by the seqlock and checksum).
    /// `raw` holds at least `count` bytes; returns the updated (unfinished) hash.
    @inline(__always)
    private func copyWords(_ off: Int, count: Int, hash h0: UInt64, to raw: UnsafeMutableRawBufferPointer) -> UInt64 {
        var h = h0
        let n = WCH64.wordCount(count)
        let full = count >> 3
        var i = 0
        while i < full {
            let w = wordUnchecked(off + i * 8).load(ordering: .relaxed)
            h = WCH64.absorb(h, w)
            raw.storeBytes(of: w.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            i += 1
        }
        if full < n {
            // Padding bytes past `count` belong to nothing (§1, §13.1): masked out of the hash too.
            let w = wordUnchecked(off + full * 8).load(ordering: .relaxed) & WCH64.lowMask(count - full * 8)
            h = WCH64.absorb(h, w)
            var k = 0
            while full * 8 + k < count {
                raw[full * 8 + k] = UInt8(truncatingIfNeeded: w >> (8 * UInt64(k)))
                k += 1
            }
        }
        return h
    }
}

/// An owned mapping of (part of) a segment file.
final class Mapping: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let length: Int
    private var unmapped = false

    init(fd: Int32, length: Int, writable: Bool) throws(Errno) {
        var err: Int32 = 0
        guard let p = wc_mmap_shared(fd, Int64(length), writable ? 1 : 0, &err) else { throw Errno(code: err) }
        base = p
        self.length = length
    }

    /// A view of memory this object does not own (a private segment image, SegmentImage.swift):
    /// never unmapped.
    init(borrowing base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
        unmapped = true
    }

    var words: SharedWords { SharedWords(base: base, length: length) }

    func unmap() {
        if !unmapped {
            unmapped = true
            _ = wc_munmap(base, Int64(length))
        }
    }

    deinit { unmap() }
}

/// An errno value carried as an Error.
struct Errno: Error { let code: Int32 }
