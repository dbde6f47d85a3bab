import XCTest
@_spi(Harness) @testable import Warmcache

/// The layout guard (issue 8 §1): every offset, size and constant of the segment layout, in a
/// fixed order, hashed. The digest is pinned next to the protocol major and the layout
/// fingerprint it belongs to: a change of any entry without a new major and fingerprint
/// (PROTOCOL.md §14: a layout change is always a new major) fails here. Go's
/// layout_guard_test.go and Rust's tests/layout_guard.rs hash the same table to the same digest.
final class LayoutGuardTests: XCTestCase {
    static let guardMajor: UInt64 = 1
    static let guardFingerprint: UInt64 = 0x0808_0408_0801_0840
    static let guardDigest: UInt64 = 0xdb3f_296e_b29e_7516

    /// The geometry limits are literals in Geometry.createViolation / the open checks (no named
    /// constants), so they are the spec's values here; BadInputTests pins the checks.
    static func table() -> String {
        let entries: [(String, UInt64)] = [
            ("magic", UInt64(Layout.MAGIC)),
            ("ready", UInt64(Layout.READY)),
            ("header_size", UInt64(Layout.HEADER_SIZE)),
            ("cache_line", UInt64(Layout.CACHE_LINE)),
            ("header_checksum_len", UInt64(Layout.HDR_CHECKSUMMED_BYTES)),
            ("participant_size", UInt64(Layout.PARTICIPANT_SIZE)),
            ("shard_header_size", UInt64(Layout.SHARD_HEADER_SIZE)),
            ("slot_header_size", UInt64(Layout.SLOT_HEADER_SIZE)),
            ("record_header_size", UInt64(Layout.RECORD_HEADER_SIZE)),
            ("wch64_p1", UInt64(WCH64.P1)),
            ("wch64_p2", UInt64(WCH64.P2)),
            ("key_seed", UInt64(Layout.KEY_SEED)),
            ("value_seed", UInt64(Layout.VALUE_SEED)),
            ("header_seed", UInt64(Layout.HEADER_SEED)),
            ("feature_sim_clock", UInt64(Layout.FEATURE_SIM_CLOCK)),
            ("feature_fast_checksum", UInt64(Layout.FEATURE_FAST_CHECKSUM)),
            ("wch64x4_l1", UInt64(WCH64X4.L1)),
            ("wch64x4_l2", UInt64(WCH64X4.L2)),
            ("wch64x4_l3", UInt64(WCH64X4.L3)),
            ("hdr.magic", UInt64(Layout.HDR_MAGIC)),
            ("hdr.version", UInt64(Layout.HDR_VERSION)),
            ("hdr.features_incompat", UInt64(Layout.HDR_FEATURES_INCOMPAT)),
            ("hdr.features_compat", UInt64(Layout.HDR_FEATURES_COMPAT)),
            ("hdr.layout_fingerprint", UInt64(Layout.HDR_LAYOUT_FINGERPRINT)),
            ("hdr.total_len", UInt64(Layout.HDR_TOTAL_LEN)),
            ("hdr.geometry_shards", UInt64(Layout.HDR_GEOMETRY_SHARDS)),
            ("hdr.geometry_sizes", UInt64(Layout.HDR_GEOMETRY_SIZES)),
            ("hdr.geometry_limits", UInt64(Layout.HDR_GEOMETRY_LIMITS)),
            ("hdr.slot_size", UInt64(Layout.HDR_SLOT_SIZE)),
            ("hdr.participants_offset", UInt64(Layout.HDR_PARTICIPANTS_OFFSET)),
            ("hdr.shards_offset", UInt64(Layout.HDR_SHARDS_OFFSET)),
            ("hdr.shard_size", UInt64(Layout.HDR_SHARD_SIZE)),
            ("hdr.creator_pid", UInt64(Layout.HDR_CREATOR_PID)),
            ("hdr.creator_start_time", UInt64(Layout.HDR_CREATOR_START_TIME)),
            ("hdr.creator_info", UInt64(Layout.HDR_CREATOR_INFO)),
            ("hdr.created_at_ns", UInt64(Layout.HDR_CREATED_AT_NS)),
            ("hdr.header_checksum", UInt64(Layout.HDR_HEADER_CHECKSUM)),
            ("hdr.ready", UInt64(Layout.HDR_READY)),
            ("hdr.generation", UInt64(Layout.HDR_GENERATION)),
            ("hdr.waiters", UInt64(Layout.HDR_WAITERS)),
            ("hdr.event_seq", UInt64(Layout.HDR_EVENT_SEQ)),
            ("hdr.version_clock", UInt64(Layout.HDR_VERSION_CLOCK)),
            ("hdr.sim_clock_ns", UInt64(Layout.HDR_SIM_CLOCK_NS)),
            ("part.epoch", UInt64(Layout.PART_EPOCH)),
            ("part.pid", UInt64(Layout.PART_PID)),
            ("part.start_time", UInt64(Layout.PART_START_TIME)),
            ("part.info", UInt64(Layout.PART_INFO)),
            ("part.registered_at_ns", UInt64(Layout.PART_REGISTERED_AT_NS)),
            ("shard.insert_lock", UInt64(Layout.SH_INSERT_LOCK)),
            ("shard.clock_hand", UInt64(Layout.SH_CLOCK_HAND)),
            ("shard.hits", UInt64(Layout.SH_HITS)),
            ("shard.misses", UInt64(Layout.SH_MISSES)),
            ("shard.stale_hits", UInt64(Layout.SH_STALE_HITS)),
            ("shard.inserts", UInt64(Layout.SH_INSERTS)),
            ("shard.refreshes", UInt64(Layout.SH_REFRESHES)),
            ("shard.evictions", UInt64(Layout.SH_EVICTIONS)),
            ("shard.invalidations", UInt64(Layout.SH_INVALIDATIONS)),
            ("shard.expirations", UInt64(Layout.SH_EXPIRATIONS)),
            ("shard.reclaims", UInt64(Layout.SH_RECLAIMS)),
            ("slot.state", UInt64(Layout.SLOT_STATE)),
            ("slot.referenced", UInt64(Layout.SLOT_REFERENCED)),
            ("slot.key_hash", UInt64(Layout.SLOT_KEY_HASH)),
            ("slot.key_len", UInt64(Layout.SLOT_KEY_LEN)),
            ("slot.claimed_at_ns", UInt64(Layout.SLOT_CLAIMED_AT_NS)),
            ("slot.key", UInt64(Layout.SLOT_KEY)),
            ("rec.version", UInt64(Layout.REC_VERSION)),
            ("rec.value_info", UInt64(Layout.REC_VALUE_INFO)),
            ("rec.checksum", UInt64(Layout.REC_CHECKSUM)),
            ("rec.expires_at_ns", UInt64(Layout.REC_EXPIRES_AT_NS)),
            ("rec.stale_until_ns", UInt64(Layout.REC_STALE_UNTIL_NS)),
            ("rec.written_at_ns", UInt64(Layout.REC_WRITTEN_AT_NS)),
            ("rec.writer", UInt64(Layout.REC_WRITER)),
            ("rec.writer_start_time", UInt64(Layout.REC_WRITER_START_TIME)),
            ("rec.value", UInt64(Layout.REC_VALUE)),
            ("max_shard_count", UInt64(65536)),
            ("max_slots_per_shard", UInt64(65536)),
            ("min_key_capacity", UInt64(8)),
            ("max_key_capacity", UInt64(4096)),
            ("min_value_capacity", UInt64(8)),
            ("max_value_capacity", UInt64(1048576)),
            ("max_probe_window", UInt64(64)),
            ("max_participant_capacity", UInt64(4096)),
            ("max_total_len", UInt64(1 << 40)),
        ]
        return entries.map { "\($0.0)=0x\(String($0.1, radix: 16))\n" }.joined()
    }

    func testLayoutGuard() {
        let t = Self.table()
        let digest = WCH64.hash(Array(t.utf8), seed: 0)
        let hex = "0x" + String(digest, radix: 16)
        XCTAssert(Layout.PROTOCOL_MAJOR == Self.guardMajor && Layout.LAYOUT_FINGERPRINT == Self.guardFingerprint,
                  "protocol major / fingerprint are new: re-pin guardMajor, guardFingerprint and guardDigest = \(hex) together")
        XCTAssertEqual(digest, Self.guardDigest,
                       "the layout changed (an offset, size or constant of this table) while the protocol major and the layout fingerprint did not: a layout change is a new major with a new fingerprint (PROTOCOL.md §14). Bump PROTOCOL_MAJOR and LAYOUT_FINGERPRINT and re-pin guardDigest = \(hex) here and in the Go and Rust guards, or undo the change. The table:\n\(t)")
    }
}
