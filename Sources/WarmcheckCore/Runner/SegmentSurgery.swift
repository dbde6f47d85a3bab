#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Harness) import Warmcache
import WarmcheckScenario

/// Direct reads and deliberate damage of a segment file by the orchestrator, between steps.
///
/// These use pread/pwrite on the file rather than the mapping: they run only between steps,
/// when every fixture of the case is idle (waiting for a request), paused inside a hook, or
/// dead, so no process writes the words concurrently, and the page cache pread reads is the very
/// memory the fixtures map. Offsets come from the header after the inspector validated it.
enum SegmentSurgery {
    struct Geometry {
        var shardCount: Int, slotsPerShard: Int, keyCapacity: Int, valueCapacity: Int, window: Int
        var slotSize: Int, shardsOffset: Int, shardSize: Int
        var recordSize: Int { Layout.RECORD_HEADER_SIZE + valueCapacity }
        func slotOffset(_ s: Int, _ j: Int) -> Int { shardsOffset + s * shardSize + Layout.SHARD_HEADER_SIZE + j * slotSize }
    }

    static func word(_ fd: Int32, _ off: Int) -> UInt64? {
        var w: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &w) { pread(fd, $0.baseAddress, 8, off_t(off)) }
        return n == 8 ? UInt64(littleEndian: w) : nil
    }

    /// Writes one little-endian word at `off`; false (errno set) if it was not written whole.
    static func setWord(_ fd: Int32, _ off: Int, _ value: UInt64) -> Bool {
        var w = value.littleEndian
        return withUnsafeBytes(of: &w) { pwrite(fd, $0.baseAddress, 8, off_t(off)) } == 8
    }

    static func geometry(_ fd: Int32) -> Geometry? {
        guard let shards = word(fd, Layout.HDR_GEOMETRY_SHARDS), let sizes = word(fd, Layout.HDR_GEOMETRY_SIZES),
              let limits = word(fd, Layout.HDR_GEOMETRY_LIMITS), let slotSize = word(fd, Layout.HDR_SLOT_SIZE),
              let shardsOff = word(fd, Layout.HDR_SHARDS_OFFSET), let shardSize = word(fd, Layout.HDR_SHARD_SIZE)
        else { return nil }
        return Geometry(shardCount: Int(shards & 0xFFFF_FFFF), slotsPerShard: Int(shards >> 32),
                        keyCapacity: Int(sizes & 0xFFFF_FFFF), valueCapacity: Int(sizes >> 32),
                        window: Int(limits & 0xFFFF_FFFF), slotSize: Int(slotSize),
                        shardsOffset: Int(shardsOff), shardSize: Int(shardSize))
    }

    /// Removes a segment file and the `PATH.init.*` files a creator killed mid-initialisation
    /// leaves behind (PROTOCOL.md §4.1). `leftovers: false` skips the directory scan, which clean
    /// cases cannot need.
    static func removeSegment(_ path: String, leftovers: Bool = true) {
        unlink(path)
        guard leftovers else { return }
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasPrefix(base + ".init.") {
            unlink((dir as NSString).appendingPathComponent(f))
        }
    }

    /// Every slot's state word, for the transition checker's snapshots.
    static func stateWords(path: String) -> [(shard: Int, slot: Int, word: UInt64)] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        guard let g = geometry(fd) else { return [] }
        var out: [(Int, Int, UInt64)] = []
        for s in 0..<g.shardCount {
            for j in 0..<g.slotsPerShard {
                if let w = word(fd, g.slotOffset(s, j) + Layout.SLOT_STATE) { out.append((s, j, w)) }
            }
        }
        return out
    }

    /// Writes an impossible state word (state code 7, no state of §8.1; the rest of the word
    /// kept) into the readable slot holding `key`. Returns the slot as `shard S slot J`.
    static func corruptState(path: String, key: [UInt8]) -> Result<String, UsageError> {
        withSlot(path, "corrupt_state") { fd, g in corruptState(fd, g, key) }
    }

    static func corruptState(_ fd: Int32, _ g: Geometry, _ key: [UInt8]) -> Result<String, UsageError> {
        guard let (shard, j, off) = readableSlot(fd, g, key) else {
            return .failure(UsageError("corrupt_state: key \(String(decoding: key, as: UTF8.self)) is not in a readable slot"))
        }
        guard let st = word(fd, off + Layout.SLOT_STATE) else { return .failure(UsageError("corrupt_state: cannot read the state word")) }
        guard setWord(fd, off + Layout.SLOT_STATE, (st & ~0xFF) | 7) else {
            return .failure(UsageError("corrupt_state: cannot write the state word: \(String(cString: strerror(errno)))"))
        }
        return .success("shard \(shard) slot \(j)")
    }

    /// Writes the `claim_hint` of participant entry `index` (§5.1) as `hint` says, resolving
    /// `shard_count` and `slots_per_shard` against the header; `hint_epoch` stays. Returns the
    /// word and the entry's epoch.
    static func patchHint(path: String, index: Int, _ hint: HintPatch) -> Result<(UInt64, UInt64), UsageError> {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .failure(UsageError("patch_hint: cannot open \(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        guard let g = geometry(fd), let parts = word(fd, Layout.HDR_PARTICIPANTS_OFFSET) else {
            return .failure(UsageError("patch_hint: cannot read the header of \(path)"))
        }
        func resolve(_ f: HintPatch.Field) -> UInt64 {
            switch f {
            case .value(let n): return n
            case .shardCount: return UInt64(g.shardCount)
            case .slotsPerShard: return UInt64(g.slotsPerShard)
            }
        }
        let entry = Int(parts) + index * Layout.PARTICIPANT_SIZE
        let written = hint.inFlight | resolve(hint.home) << 16 | resolve(hint.shard) << 32 | (hint.wide ? 1 << 48 : 0) | hint.reserved << 49
        guard let epoch = word(fd, entry + Layout.PART_EPOCH), setWord(fd, entry + Layout.PART_CLAIM_HINT, written) else {
            return .failure(UsageError("patch_hint: cannot write participant entry \(index): \(String(cString: strerror(errno)))"))
        }
        return .success((written, epoch))
    }

    /// The slot holding `key` in a readable state (READY, REFRESHING, STALE), with its offset.
    /// The key bytes are compared too (§9.1): after a `collide:` a slot of the same hash and
    /// length holds another key.
    static func readableSlot(_ fd: Int32, _ g: Geometry, _ key: [UInt8]) -> (shard: Int, slot: Int, off: Int)? {
        let h = WCH64.hash(key, seed: Layout.KEY_SEED)
        let (shard, home) = place(h, g)
        for k in 0..<g.window {
            let j = (home + k) % g.slotsPerShard
            let off = g.slotOffset(shard, j)
            guard let st = word(fd, off + Layout.SLOT_STATE), [2, 3, 4].contains(st & 0xFF),
                  word(fd, off + Layout.SLOT_KEY_HASH) == h, word(fd, off + Layout.SLOT_KEY_LEN) == UInt64(key.count),
                  key.count <= g.keyCapacity, bytes(fd, off + Layout.SLOT_KEY, key.count) == key
            else { continue }
            return (shard, j, off)
        }
        return nil
    }

    /// §6: the shard and home slot of a key hash.
    static func place(_ h: UInt64, _ g: Geometry) -> (shard: Int, home: Int) {
        (Int((h >> 32) % UInt64(g.shardCount)), Int((h & 0xFFFF_FFFF) % UInt64(g.slotsPerShard)))
    }

    static func bytes(_ fd: Int32, _ off: Int, _ count: Int) -> [UInt8]? {
        var b = [UInt8](repeating: 0, count: count)
        let n = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(off)) }
        return n == count ? b : nil
    }

    /// Where `collide:` made its slot, and the words that make it the collision.
    struct Collision {
        var shard: Int, slot: Int
        /// KEY's WCH64, left in `key_hash`.
        var keyHash: UInt64
        /// The state word at the surgery, which the surgery did not change.
        var stateWord: UInt64
    }

    /// Rewrites `key_len` and the key bytes of the readable slot holding `key` to `other`'s
    /// (zero padding up to the end of the longer key's last word, §1), leaving `key_hash`, the
    /// state word and both records as they were. Nothing else of a slot depends on its key: the
    /// record checksum covers the value only (§7.2), so the slot is exactly what a key with
    /// `key`'s hash and `other`'s bytes would have written.
    static func collide(path: String, key: [UInt8], as other: [UInt8]) -> Result<Collision, UsageError> {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .failure(UsageError("collide: cannot open \(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        guard let g = geometry(fd) else { return .failure(UsageError("collide: cannot read the header of \(path)")) }
        guard other.count <= g.keyCapacity else {
            return .failure(UsageError("collide: \(other.count) bytes of as= do not fit key_capacity \(g.keyCapacity)"))
        }
        // READY or STALE only: a claimed slot's key cannot change under its owner, so a collision
        // made under a live claim would be no situation a segment can be in.
        guard let (shard, j, off) = readableSlot(fd, g, key), let st = word(fd, off + Layout.SLOT_STATE), [2, 4].contains(st & 0xFF),
              let h = word(fd, off + Layout.SLOT_KEY_HASH)
        else {
            return .failure(UsageError("collide: key \(String(decoding: key, as: UTF8.self)) is not in a READY or STALE slot"))
        }
        let area = other + [UInt8](repeating: 0, count: (max(key.count, other.count) + 7) / 8 * 8 - other.count)
        guard area.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, off_t(off + Layout.SLOT_KEY)) }) == area.count,
              setWord(fd, off + Layout.SLOT_KEY_LEN, UInt64(other.count))
        else { return .failure(UsageError("collide: cannot write the key: \(String(cString: strerror(errno)))")) }
        return .success(Collision(shard: shard, slot: j, keyHash: h, stateWord: st))
    }

    /// Copies the READY or STALE slot holding `key`, whole (state word, key and both records),
    /// into the first EMPTY slot after it in its window, so that a `get`, which scans the window
    /// in order, still meets the original first. That slot also comes after it in the shard, or,
    /// `wrapped`, before it (the window wraps past the shard's end), where a scan in slot order
    /// meets the copy first. Returns the copy as `shard S slot J`.
    static func duplicate(path: String, key: [UInt8], wrapped: Bool) -> Result<String, UsageError> {
        withSlot(path, "duplicate") { fd, g in
            let home = place(WCH64.hash(key, seed: Layout.KEY_SEED), g).home
            guard let (shard, j, off) = readableSlot(fd, g, key), let st = word(fd, off + Layout.SLOT_STATE), [2, 4].contains(st & 0xFF),
                  let whole = bytes(fd, off, g.slotSize)
            else {
                return .failure(UsageError("duplicate: key \(String(decoding: key, as: UTF8.self)) is not in a READY or STALE slot"))
            }
            let from = (j - home + g.slotsPerShard) % g.slotsPerShard
            for p in (from + 1)..<max(from + 1, g.window) {
                let j2 = (home + p) % g.slotsPerShard
                let off2 = g.slotOffset(shard, j2)
                guard wrapped ? j2 < j : j2 > j, let st2 = word(fd, off2 + Layout.SLOT_STATE), st2 & 0xFF == 0 else { continue }
                guard whole.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, off_t(off2)) }) == whole.count else {
                    return .failure(UsageError("duplicate: cannot write slot \(j2): \(String(cString: strerror(errno)))"))
                }
                return .success("shard \(shard) slot \(j2)")
            }
            return .failure(UsageError("duplicate: no EMPTY slot after shard \(shard) slot \(j) in the window of \(String(decoding: key, as: UTF8.self))"
                                       + (wrapped ? " past the shard's end (the key's window does not wrap: choose a key whose home is not slot 0, with window = slots)" : " (give the scenario a wider window or fewer keys)")))
        }
    }

    /// Flips one byte of `key`'s current value (or of its checksum, for an empty value), as a
    /// buggy or hostile writer would. Returns where, or why it could not.
    static func corruptValue(path: String, key: [UInt8]) -> Result<String, UsageError> {
        withSlot(path, "corrupt") { fd, g in corruptValue(fd, g, key) }
    }

    /// Opens the segment for writing and reads its geometry for `body`; `what` names the step
    /// in the errors.
    static func withSlot(_ path: String, _ what: String,
                         _ body: (Int32, Geometry) -> Result<String, UsageError>) -> Result<String, UsageError> {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .failure(UsageError("\(what): cannot open \(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        guard let g = geometry(fd) else { return .failure(UsageError("\(what): cannot read the header of \(path)")) }
        return body(fd, g)
    }

    static func corruptValue(_ fd: Int32, _ g: Geometry, _ key: [UInt8]) -> Result<String, UsageError> {
        if let (shard, j, off) = readableSlot(fd, g, key), let st = word(fd, off + Layout.SLOT_STATE) {
            let a = Int((st >> 8) & 1)
            let rec = off + Layout.SLOT_HEADER_SIZE + g.keyCapacity + a * g.recordSize
            if let info = word(fd, rec + Layout.REC_VALUE_INFO) {
                let len = Int(info & 0xFFFF_FFFF)
                let target = len > 0 ? rec + Layout.RECORD_HEADER_SIZE + min(len, g.valueCapacity) / 2 : rec + Layout.REC_CHECKSUM
                var b: UInt8 = 0
                if pread(fd, &b, 1, off_t(target)) == 1 {
                    b ^= 0x5A
                    if pwrite(fd, &b, 1, off_t(target)) == 1 { return .success("shard \(shard) slot \(j) record \(a) byte \(target - rec)") }
                }
            }
        }
        return .failure(UsageError("corrupt: key \(String(decoding: key, as: UTF8.self)) is not in a readable slot"))
    }
}
