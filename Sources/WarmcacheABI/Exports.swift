// The C ABI of the Swift implementation's pure protocol functions (docs/ABI.md is the contract;
// manifest.json next to this file declares the symbols for warmcheck's libffi caller).
// Built as the dynamic library product WarmcacheABI (libWarmcacheABI.so).
//
// Buffers are borrowed for one call and are the caller's private memory, never a shared mapping.

@_spi(Harness) import Warmcache

@inline(__always) func out(_ p: UnsafeMutablePointer<UInt64>?, _ i: Int, _ v: UInt64) { p?[i] = v }

func geometry(_ sc: UInt32, _ sps: UInt32, _ kc: UInt32, _ vc: UInt32, _ pw: UInt32, _ pc: UInt32) -> Geometry {
    Geometry(shardCount: sc, slotsPerShard: sps, keyCapacity: kc, valueCapacity: vc, probeWindow: pw,
             participantCapacity: pc)
}

/// "rule N violated: ..." → N (this implementation's bad_geometry messages carry the rule number).
func ruleNumber(_ message: String) -> Int32 {
    let b = Array(message.utf8), pat = Array("rule ".utf8)
    guard b.count >= pat.count, let at = (0...(b.count - pat.count)).first(where: { Array(b[$0..<$0 + pat.count]) == pat }) else {
        return 0
    }
    let digits = b[(at + pat.count)...].prefix(while: { $0 >= 0x30 && $0 <= 0x39 })
    return Int32(String(decoding: digits, as: UTF8.self)) ?? 0
}

@_cdecl("wc_abi_version")
public func wc_abi_version() -> UInt64 { 1 }

@_cdecl("wc_wch64")
public func wc_wch64(_ p: UnsafePointer<UInt8>?, _ n: UInt64, _ seed: UInt64) -> UInt64 {
    WCH64.hash(UnsafeRawBufferPointer(start: n == 0 ? nil : p, count: Int(n)), seed: seed)
}

@_cdecl("wc_state_encode")
public func wc_state_encode(_ state: UInt32, _ active: UInt32, _ owner: UInt32, _ seq: UInt32) -> UInt64 {
    guard state <= 255, let kind = SlotStateKind(rawValue: UInt8(state)), active <= 1, owner <= 0xFFFF else {
        return UInt64.max
    }
    return StateWord(kind, active: Int(active), owner: UInt16(owner), seq: seq).raw
}

@_cdecl("wc_state_decode")
public func wc_state_decode(_ w: UInt64, _ pc: UInt32, _ out4: UnsafeMutablePointer<UInt64>?) -> Int32 {
    let word = StateWord(raw: w)
    out(out4, 0, UInt64(word.stateCode)); out(out4, 1, UInt64(word.active))
    out(out4, 2, UInt64(word.owner)); out(out4, 3, UInt64(word.seq))
    guard let kind = word.validKind(participantCapacity: Int(pc)) else { return -1 }
    return Int32(kind.rawValue)
}

@_cdecl("wc_snapshot_ok")
public func wc_snapshot_ok(_ s1: UInt64, _ s2: UInt64, _ pc: UInt32) -> Int32 {
    snapshotOK(StateWord(raw: s1), StateWord(raw: s2), participantCapacity: Int(pc)) ? 1 : 0
}

@_cdecl("wc_geometry_rule")
public func wc_geometry_rule(_ sc: UInt32, _ sps: UInt32, _ kc: UInt32, _ vc: UInt32, _ pw: UInt32, _ pc: UInt32) -> Int32 {
    geometry(sc, sps, kc, vc, pw, pc).createViolation().map(ruleNumber) ?? 0
}

@_cdecl("wc_layout")
public func wc_layout(_ sc: UInt32, _ sps: UInt32, _ kc: UInt32, _ vc: UInt32, _ pw: UInt32, _ pc: UInt32,
                      _ out6: UnsafeMutablePointer<UInt64>?) -> Int32 {
    let g = geometry(sc, sps, kc, vc, pw, pc)
    for (i, v) in [g.recordSize, g.slotSize, g.participantsOffset, g.shardsOffset, g.shardSize].enumerated() {
        out(out6, i, v)
    }
    out(out6, 5, g.totalLenChecked ?? 0)
    return g.totalLenChecked == nil ? 0 : 1
}

@_cdecl("wc_expiry")
public func wc_expiry(_ expires: UInt64, _ staleUntil: UInt64, _ now: UInt64) -> Int32 {
    Int32(classifyExpiry(expiresAt: expires, staleUntil: staleUntil, now: now))
}

@_cdecl("wc_auto_version")
public func wc_auto_version(_ before: UInt64, _ current: UInt64) -> UInt64 {
    chooseAutoVersion(before: before, current: current)
}

@_cdecl("wc_layout_constant")
public func wc_layout_constant(_ index: UInt32) -> UInt64 {
    Int(index) < layoutConstants.count ? layoutConstants[Int(index)] : UInt64.max
}

/// §15 open codes as ABI integers, in the spec's order (docs/ABI.md "Error codes").
let openCodes = ["not_found", "symlink", "not_regular_file", "foreign_owner", "too_short", "bad_magic",
                 "unsupported_major", "not_ready", "bad_header_checksum", "unsupported_features",
                 "layout_mismatch", "bad_geometry", "truncated", "no_space", "exists", "participants_full", "io",
                 "sparse"]

func codeNumber(_ e: SegmentError) -> Int32 { Int32((openCodes.firstIndex(of: e.code) ?? 16) + 1) }

func ruleOf(_ e: SegmentError) -> Int32 {
    if case .badGeometry(_, let rule) = e { return ruleNumber(rule) }
    return 0
}

@_cdecl("wc_header_check")
public func wc_header_check(_ image: UnsafeMutableRawPointer?, _ n: UInt64, _ ruleOut: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let image else { ruleOut?.pointee = 0; return 5 }
    switch SegmentImage.check(image, length: Int(n)) {
    case .success: ruleOut?.pointee = 0; return 0
    case .failure(let e): ruleOut?.pointee = ruleOf(e); return codeNumber(e)
    }
}

/// One get through the implementation's reader; outcome and fields as docs/ABI.md "wc_get".
func get(_ cache: WarmCache, _ key: [UInt8], _ now: UInt64, _ o: UnsafeMutablePointer<UInt64>?) -> Int32 {
    for i in 0..<9 { out(o, i, 0) }
    out(o, 0, UInt64.max)
    cache.setImageNow(now)
    let corruptBefore = cache.corruptGets
    var value: [UInt8] = []
    guard let hit = cache.get(key, into: &value) else { return cache.corruptGets != corruptBefore ? 3 : 0 }
    let p = hit.provenance
    out(o, 0, UInt64(hit.shard * cache.layout.slotsPerShard + hit.slot))
    out(o, 1, hit.version)
    out(o, 2, UInt64(value.count) | UInt64(hit.originTag) << 32)
    out(o, 3, WCH64.hash(value, seed: Layout.VALUE_SEED))
    out(o, 4, hit.expiresAt); out(o, 5, hit.staleUntil); out(o, 6, hit.writtenAt)
    out(o, 7, UInt64(p.pid) | UInt64(p.language) << 32 | UInt64(p.protocolMajor) << 40
        | UInt64(p.protocolMinor) << 48 | UInt64(p.participant) << 56)
    out(o, 8, p.startTime)
    return hit.stale ? 2 : 1
}

@_cdecl("wc_get")
public func wc_get(_ image: UnsafeMutableRawPointer?, _ n: UInt64, _ key: UnsafePointer<UInt8>?, _ keyLen: UInt64,
                   _ now: UInt64, _ out9: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guard let image, case .success(let layout) = SegmentImage.check(image, length: Int(n)) else {
        for i in 0..<9 { out(out9, i, 0) }
        return -1
    }
    let cache = SegmentImage.reader(image, length: Int(n), layout: layout)
    let k = keyLen == 0 ? [] : Array(UnsafeBufferPointer(start: key, count: Int(keyLen)))
    return get(cache, k, now, out9)
}

@_cdecl("wc_decode_image")
public func wc_decode_image(_ image: UnsafeMutableRawPointer?, _ n: UInt64, _ now: UInt64,
                            _ out8: UnsafeMutablePointer<UInt64>?) -> Int32 {
    for i in 0..<8 { out(out8, i, 0) }
    guard let image else { return 5 }
    let layout: SegmentLayout
    switch SegmentImage.check(image, length: Int(n)) {
    case .success(let l): layout = l
    case .failure(let e): out(out8, 0, UInt64(ruleOf(e))); return codeNumber(e)
    }
    let cache = SegmentImage.reader(image, length: Int(n), layout: layout)
    var counts = [UInt64](repeating: 0, count: 5)
    var digest: [UInt8] = []
    var fields = [UInt64](repeating: 0, count: 9)
    let bytes = image.assumingMemoryBound(to: UInt8.self)
    for s in 0..<layout.shardCount {
        for j in 0..<layout.slotsPerShard {
            let off = layout.slotOffset(s, j)
            let klen = Int(image.loadUnaligned(fromByteOffset: off + Layout.SLOT_KEY_LEN, as: UInt64.self) & 0xFFFF_FFFF)
            if klen == 0 || klen > layout.keyCapacity { continue }
            let key = Array(UnsafeBufferPointer(start: bytes + off + Layout.SLOT_KEY, count: klen))
            let outcome = fields.withUnsafeMutableBufferPointer { get(cache, key, now, $0.baseAddress) }
            counts[0] += 1
            counts[1 + Int(outcome)] += 1
            for v in [UInt64(s * layout.slotsPerShard + j), UInt64(outcome), fields[1], fields[0]] {
                withUnsafeBytes(of: v.littleEndian) { digest.append(contentsOf: $0) }
            }
        }
    }
    for i in 0..<5 { out(out8, 1 + i, counts[i]) }
    out(out8, 6, WCH64.hash(digest, seed: 0))
    return 0
}
