// Geometry as the header declares it, and the rules of PROTOCOL.md §3 that make it trustworthy.

public struct SpecGeometry: Equatable, Sendable {
    public var shardCount: Int, slotsPerShard: Int, keyCapacity: Int, valueCapacity: Int
    public var probeWindow: Int, participantCapacity: Int
    public var slotSize: Int, participantsOffset: Int, shardsOffset: Int, shardSize: Int, totalLen: Int

    public var recordSize: Int { SpecLayout.Record.headerSize + valueCapacity }
    public func shardOffset(_ s: Int) -> Int { shardsOffset + s * shardSize }
    public func slotOffset(_ s: Int, _ j: Int) -> Int { shardOffset(s) + SpecLayout.Shard.headerSize + j * slotSize }
    public func recordOffset(_ s: Int, _ j: Int, _ a: Int) -> Int {
        slotOffset(s, j) + SpecLayout.Slot.headerSize + keyCapacity + a * recordSize
    }
    public func participantOffset(_ i: Int) -> Int { participantsOffset + i * SpecLayout.Participant.size }

    /// Shard and home slot of a key hash (§6).
    public func place(_ h: UInt64) -> (shard: Int, home: Int) {
        (Int((h >> 32) % UInt64(shardCount)), Int((h & 0xFFFF_FFFF) % UInt64(slotsPerShard)))
    }

    public func windowContains(home: Int, slot: Int) -> Bool {
        (slot - home + slotsPerShard) % slotsPerShard < probeWindow
    }

    /// Checks the six packed fields and the derived ones in §3's order; the first violated rule.
    /// Arithmetic is on UInt64 with overflow detection: the fields are untrusted.
    static func validate(header w: (Int) -> UInt64) -> Result<SpecGeometry, GeometryRule> {
        let shards = w(SpecLayout.Header.geometryShards), sizes = w(SpecLayout.Header.geometrySizes)
        let limits = w(SpecLayout.Header.geometryLimits)
        let sc = shards & 0xFFFF_FFFF, sp = shards >> 32
        let kc = sizes & 0xFFFF_FFFF, vc = sizes >> 32
        let pw = limits & 0xFFFF_FFFF, pc = limits >> 32
        guard (1...SpecLayout.maxShardCount).contains(sc) else { return .failure(.shardCount(sc)) }
        guard (1...SpecLayout.maxSlotsPerShard).contains(sp) else { return .failure(.slotsPerShard(sp)) }
        guard SpecLayout.keyCapacityRange.contains(kc), kc % 8 == 0 else { return .failure(.keyCapacity(kc)) }
        guard SpecLayout.valueCapacityRange.contains(vc), vc % 8 == 0 else { return .failure(.valueCapacity(vc)) }
        guard pw >= 1, pw <= min(sp, SpecLayout.maxProbeWindow) else { return .failure(.probeWindow(pw, slotsPerShard: sp)) }
        guard (1...SpecLayout.maxParticipantCapacity).contains(pc) else { return .failure(.participantCapacity(pc)) }
        // Bounded by the rules above, so these cannot overflow.
        let recordSize = UInt64(SpecLayout.Record.headerSize) + vc
        let slotSize = alignUp(UInt64(SpecLayout.Slot.headerSize) + kc + 2 * recordSize, 64)
        let partOff = UInt64(SpecLayout.headerSize)
        let shardsOff = alignUp(partOff + pc * UInt64(SpecLayout.Participant.size), 4096)
        let shardSize = UInt64(SpecLayout.Shard.headerSize) + sp * slotSize
        for (name, off, expected) in [("slot_size", SpecLayout.Header.slotSize, slotSize),
                                      ("participants_offset", SpecLayout.Header.participantsOffset, partOff),
                                      ("shards_offset", SpecLayout.Header.shardsOffset, shardsOff),
                                      ("shard_size", SpecLayout.Header.shardSize, shardSize)] where w(off) != expected {
            return .failure(.derivedField(name: name, stored: w(off), expected: expected))
        }
        let stored = w(SpecLayout.Header.totalLen)
        let (product, o1) = sc.multipliedReportingOverflow(by: shardSize)
        let (total, o2) = shardsOff.addingReportingOverflow(product)
        guard !o1, !o2 else { return .failure(.totalLen(stored: stored, expected: nil)) }
        guard stored == total, total <= SpecLayout.maxTotalLen else { return .failure(.totalLen(stored: stored, expected: total)) }
        return .success(SpecGeometry(shardCount: Int(sc), slotsPerShard: Int(sp), keyCapacity: Int(kc), valueCapacity: Int(vc),
                                     probeWindow: Int(pw), participantCapacity: Int(pc), slotSize: Int(slotSize),
                                     participantsOffset: Int(partOff), shardsOffset: Int(shardsOff),
                                     shardSize: Int(shardSize), totalLen: Int(total)))
    }

    static func alignUp(_ x: UInt64, _ a: UInt64) -> UInt64 { (x + a - 1) / a * a }
}
