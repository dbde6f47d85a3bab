// SegmentImage.swift — the Swift implementation run over a private image of a segment (a byte
// buffer the caller owns, not a mapping), for the C ABI of Sources/WarmcacheABI (docs/ABI.md).
// The header check is SegmentFile.checkHeader and a get is WarmCache.get on a handle whose
// memory is the image, so what the ABI answers is what this implementation does.

public enum SegmentImage {
    /// §4.2 steps 3–11 on an image of `length` bytes (the length plays the file size).
    public static func check(_ base: UnsafeMutableRawPointer, length: Int) -> Result<SegmentLayout, SegmentError> {
        if length < Layout.HEADER_SIZE { return .failure(.tooShort(path: "image", size: Int64(length))) }
        let words = SharedWords(base: base, length: Layout.HEADER_SIZE)
        let layout: SegmentLayout
        do { (layout, _) = try SegmentFile.checkHeader(words, path: "image", openTimeoutNs: 0) } catch {
            return .failure(error)
        }
        if length < layout.totalLen {
            return .failure(.truncated(path: "image", declared: UInt64(layout.totalLen), actual: Int64(length)))
        }
        return .success(layout)
    }

    /// A reader's handle on an image that passed `check`, on a simulated clock (`setNow`). It
    /// registers no participant; like any reader its gets may write counters, `referenced` and T7.
    public static func reader(_ base: UnsafeMutableRawPointer, length: Int, layout: SegmentLayout) -> WarmCache {
        let fast = SharedWords(base: base, length: Layout.HEADER_SIZE).loadRelaxed(Layout.HDR_FEATURES_INCOMPAT) & Layout.FEATURE_FAST_CHECKSUM
        let opened = OpenedSegment(fd: -1, mapping: Mapping(borrowing: base, length: length), layout: layout,
                                   featuresIncompat: Layout.FEATURE_SIM_CLOCK | fast, fileSize: Int64(length))
        return WarmCache(path: "image", opened: opened, created: false, options: .init())
    }
}

extension WarmCache {
    /// Sets the segment clock of an image reader (SegmentImage.reader).
    public func setImageNow(_ ns: UInt64) { words.storeRelease(Layout.HDR_SIM_CLOCK_NS, ns) }

    /// Gets that met corruption so far (§15 statistics of this implementation).
    public var corruptGets: UInt64 { corruptCount.load(ordering: .relaxed) }
}

/// §12 classification at `now`: 0 fresh, 1 stale, 2 expired. getImpl inlines the same cases (the
/// ABI vectors compare this reading across implementations).
public func classifyExpiry(expiresAt: UInt64, staleUntil: UInt64, now: UInt64) -> Int {
    if expiresAt == 0 || now < expiresAt { return 0 }
    return now < staleUntil ? 1 : 2
}
