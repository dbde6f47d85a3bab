// wc_layout_constant's table, in the order of docs/ABI.md "Layout constants", read from the
// Warmcache module (never restated).

@_spi(Harness) import Warmcache

let layoutConstants: [UInt64] = [
    Layout.LAYOUT_FINGERPRINT, UInt64(Layout.HEADER_SIZE), UInt64(Layout.PARTICIPANT_SIZE),
    UInt64(Layout.SHARD_HEADER_SIZE), UInt64(Layout.SLOT_HEADER_SIZE), UInt64(Layout.RECORD_HEADER_SIZE),
    Layout.MAGIC, Layout.READY, Layout.KEY_SEED, Layout.VALUE_SEED, Layout.HEADER_SEED,
] + [
    // header (§3)
    Layout.HDR_MAGIC, Layout.HDR_VERSION, Layout.HDR_FEATURES_INCOMPAT, Layout.HDR_FEATURES_COMPAT,
    Layout.HDR_LAYOUT_FINGERPRINT, Layout.HDR_TOTAL_LEN, Layout.HDR_GEOMETRY_SHARDS, Layout.HDR_GEOMETRY_SIZES,
    Layout.HDR_GEOMETRY_LIMITS, Layout.HDR_SLOT_SIZE, Layout.HDR_PARTICIPANTS_OFFSET, Layout.HDR_SHARDS_OFFSET,
    Layout.HDR_SHARD_SIZE, Layout.HDR_CREATOR_PID, Layout.HDR_CREATOR_START_TIME, Layout.HDR_CREATOR_INFO,
    Layout.HDR_CREATED_AT_NS, Layout.HDR_HEADER_CHECKSUM, Layout.HDR_READY, Layout.HDR_GENERATION,
    Layout.HDR_WAITERS, Layout.HDR_EVENT_SEQ, Layout.HDR_VERSION_CLOCK, Layout.HDR_SIM_CLOCK_NS,
    // participant entry (§5)
    Layout.PART_EPOCH, Layout.PART_PID, Layout.PART_START_TIME, Layout.PART_INFO, Layout.PART_REGISTERED_AT_NS,
    // shard header (§6)
    Layout.SH_INSERT_LOCK, Layout.SH_CLOCK_HAND, Layout.SH_HITS, Layout.SH_MISSES, Layout.SH_STALE_HITS,
    Layout.SH_INSERTS, Layout.SH_REFRESHES, Layout.SH_EVICTIONS, Layout.SH_INVALIDATIONS,
    Layout.SH_EXPIRATIONS, Layout.SH_RECLAIMS,
    // slot header (§7.1)
    Layout.SLOT_STATE, Layout.SLOT_REFERENCED, Layout.SLOT_KEY_HASH, Layout.SLOT_KEY_LEN,
    Layout.SLOT_CLAIMED_AT_NS, Layout.SLOT_KEY,
    // record (§7.2)
    Layout.REC_VERSION, Layout.REC_VALUE_INFO, Layout.REC_CHECKSUM, Layout.REC_EXPIRES_AT_NS,
    Layout.REC_STALE_UNTIL_NS, Layout.REC_WRITTEN_AT_NS, Layout.REC_WRITER, Layout.REC_WRITER_START_TIME,
    Layout.REC_VALUE,
].map { UInt64($0) }
