//! The layout guard (issue 8 §1): every offset, size and constant of the segment layout, in a
//! fixed order, hashed. The digest is pinned next to the protocol major and the layout
//! fingerprint it belongs to: a change of any entry without a new major and fingerprint
//! (PROTOCOL.md §14: a layout change is always a new major) fails here. Go's
//! layout_guard_test.go and Swift's LayoutGuardTests hash the same table to the same digest.

use warmcache::hash::*;
use warmcache::layout::*;

const GUARD_MAJOR: u64 = 1;
const GUARD_FINGERPRINT: u64 = 0x0808040808010840;
const GUARD_DIGEST: u64 = 0xdb3f296eb29e7516;

fn table() -> String {
    let entries: &[(&str, u64)] = &[
        ("magic", MAGIC), ("ready", READY), ("header_size", HEADER_SIZE), ("cache_line", CACHE_LINE),
        ("header_checksum_len", HDR_CHECKSUMMED_LEN), ("participant_size", PARTICIPANT_SIZE),
        ("shard_header_size", SHARD_HEADER_SIZE), ("slot_header_size", SLOT_HEADER_SIZE), ("record_header_size", RECORD_HEADER_SIZE),
        ("wch64_p1", P1), ("wch64_p2", P2), ("key_seed", KEY_SEED), ("value_seed", VALUE_SEED), ("header_seed", HEADER_SEED),
        ("feature_sim_clock", FEATURE_SIM_CLOCK), ("feature_fast_checksum", FEATURE_FAST_CHECKSUM),
        ("wch64x4_l1", LANE_START_1), ("wch64x4_l2", LANE_START_2), ("wch64x4_l3", LANE_START_3),
        ("hdr.magic", HDR_MAGIC), ("hdr.version", HDR_VERSION), ("hdr.features_incompat", HDR_FEATURES_INCOMPAT),
        ("hdr.features_compat", HDR_FEATURES_COMPAT), ("hdr.layout_fingerprint", HDR_LAYOUT_FINGERPRINT),
        ("hdr.total_len", HDR_TOTAL_LEN), ("hdr.geometry_shards", HDR_GEOMETRY_SHARDS), ("hdr.geometry_sizes", HDR_GEOMETRY_SIZES),
        ("hdr.geometry_limits", HDR_GEOMETRY_LIMITS), ("hdr.slot_size", HDR_SLOT_SIZE), ("hdr.participants_offset", HDR_PARTICIPANTS_OFFSET),
        ("hdr.shards_offset", HDR_SHARDS_OFFSET), ("hdr.shard_size", HDR_SHARD_SIZE), ("hdr.creator_pid", HDR_CREATOR_PID),
        ("hdr.creator_start_time", HDR_CREATOR_START_TIME), ("hdr.creator_info", HDR_CREATOR_INFO), ("hdr.created_at_ns", HDR_CREATED_AT_NS),
        ("hdr.header_checksum", HDR_HEADER_CHECKSUM), ("hdr.ready", HDR_READY), ("hdr.generation", HDR_GENERATION),
        ("hdr.waiters", HDR_WAITERS), ("hdr.event_seq", HDR_EVENT_SEQ), ("hdr.version_clock", HDR_VERSION_CLOCK),
        ("hdr.sim_clock_ns", HDR_SIM_CLOCK_NS),
        ("part.epoch", PART_EPOCH), ("part.pid", PART_PID), ("part.start_time", PART_START_TIME), ("part.info", PART_INFO),
        ("part.registered_at_ns", PART_REGISTERED_AT_NS),
        ("shard.insert_lock", SH_INSERT_LOCK), ("shard.clock_hand", SH_CLOCK_HAND), ("shard.hits", SH_HITS),
        ("shard.misses", SH_MISSES), ("shard.stale_hits", SH_STALE_HITS), ("shard.inserts", SH_INSERTS),
        ("shard.refreshes", SH_REFRESHES), ("shard.evictions", SH_EVICTIONS), ("shard.invalidations", SH_INVALIDATIONS),
        ("shard.expirations", SH_EXPIRATIONS), ("shard.reclaims", SH_RECLAIMS),
        ("slot.state", SLOT_STATE), ("slot.referenced", SLOT_REFERENCED), ("slot.key_hash", SLOT_KEY_HASH),
        ("slot.key_len", SLOT_KEY_LEN), ("slot.claimed_at_ns", SLOT_CLAIMED_AT_NS), ("slot.key", SLOT_KEY),
        ("rec.version", REC_VERSION), ("rec.value_info", REC_VALUE_INFO), ("rec.checksum", REC_CHECKSUM),
        ("rec.expires_at_ns", REC_EXPIRES_AT_NS), ("rec.stale_until_ns", REC_STALE_UNTIL_NS), ("rec.written_at_ns", REC_WRITTEN_AT_NS),
        ("rec.writer", REC_WRITER), ("rec.writer_start_time", REC_WRITER_START_TIME), ("rec.value", REC_VALUE),
        // The geometry limits: Geometry::validate writes them as literals (no named constants in
        // this crate), so here they are the spec's values, and bad_input.rs pins the checks.
        ("max_shard_count", 65536), ("max_slots_per_shard", 65536), ("min_key_capacity", 8),
        ("max_key_capacity", 4096), ("min_value_capacity", 8), ("max_value_capacity", 1048576),
        ("max_probe_window", 64), ("max_participant_capacity", 4096), ("max_total_len", MAX_TOTAL_LEN),
    ];
    entries.iter().map(|(n, v)| format!("{n}={v:#x}\n")).collect()
}

#[test]
fn layout_guard() {
    let t = table();
    let digest = wch64(t.as_bytes(), 0);
    assert!(
        PROTOCOL_MAJOR == GUARD_MAJOR && LAYOUT_FINGERPRINT == GUARD_FINGERPRINT,
        "protocol major {PROTOCOL_MAJOR} / fingerprint {LAYOUT_FINGERPRINT:#x} are new: re-pin GUARD_MAJOR, GUARD_FINGERPRINT and GUARD_DIGEST = {digest:#018x} together (tests/layout_guard.rs)"
    );
    assert!(
        digest == GUARD_DIGEST,
        "the layout changed (an offset, size or constant of this table) while the protocol major ({PROTOCOL_MAJOR}) and the layout fingerprint ({LAYOUT_FINGERPRINT:#x}) did not: a layout change is a new major with a new fingerprint (PROTOCOL.md §14). Bump PROTOCOL_MAJOR and LAYOUT_FINGERPRINT and re-pin GUARD_DIGEST = {digest:#018x} here and in the Go and Swift guards, or undo the change. The table:\n{t}"
    );
}
