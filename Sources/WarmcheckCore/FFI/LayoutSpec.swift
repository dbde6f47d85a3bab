// The layout constants of docs/PROTOCOL.md, in the order of wc_layout_constant's index
// (docs/ABI.md "Layout constants"). These are the spec's numbers, written out here from its
// tables (§2, §3, §5, §6, §7) on purpose and not taken from any implementation: a library
// compiled with a different layout disagrees with this table before any segment is opened.

public enum LayoutSpec {
    public static let constants: [(name: String, value: UInt64)] = [
        ("LAYOUT_FINGERPRINT", 0x0808_0408_0801_0840), ("HEADER_SIZE", 4096), ("PARTICIPANT_SIZE", 64),
        ("SHARD_HEADER_SIZE", 256), ("SLOT_HEADER_SIZE", 64), ("RECORD_HEADER_SIZE", 64),
        ("MAGIC", 0x4843_4143_4D52_4157), ("READY", 0x5944_4145_5243_5741),
        ("KEY_SEED", 0x574B_4559_5345_4544), ("VALUE_SEED", 0x5743_4B53_554D_3031), ("HEADER_SEED", 0x5748_4541_4445_5253),
        ("magic", 0), ("version", 8), ("features_incompat", 16), ("features_compat", 24),
        ("layout_fingerprint", 32), ("total_len", 40), ("geometry_shards", 48), ("geometry_sizes", 56),
        ("geometry_limits", 64), ("slot_size", 72), ("participants_offset", 80), ("shards_offset", 88),
        ("shard_size", 96), ("creator_pid", 104), ("creator_start_time", 112), ("creator_info", 120),
        ("created_at_ns", 128), ("header_checksum", 136), ("ready", 192), ("generation", 256),
        ("waiters", 320), ("event_seq", 384), ("version_clock", 448), ("sim_clock_ns", 512),
        ("participant.epoch", 0), ("participant.pid", 8), ("participant.start_time", 16),
        ("participant.info", 24), ("participant.registered_at_ns", 32),
        ("shard.insert_lock", 0), ("shard.clock_hand", 8), ("shard.hits", 64), ("shard.misses", 72),
        ("shard.stale_hits", 80), ("shard.inserts", 128), ("shard.refreshes", 136), ("shard.evictions", 144),
        ("shard.invalidations", 152), ("shard.expirations", 160), ("shard.reclaims", 168),
        ("slot.state", 0), ("slot.referenced", 8), ("slot.key_hash", 16), ("slot.key_len", 24),
        ("slot.claimed_at_ns", 32), ("slot.key", 64),
        ("record.version", 0), ("record.value_info", 8), ("record.checksum", 16), ("record.expires_at_ns", 24),
        ("record.stale_until_ns", 32), ("record.written_at_ns", 40), ("record.writer", 48),
        ("record.writer_start_time", 56), ("record.value", 64),
    ]

    /// The fingerprint §3 packs from the sizes a library reports (byte 0 cache line 64, byte 1
    /// word size 8, byte 2 little-endian 1, then the sizes in their units).
    public static func fingerprint(slotHeader: UInt64, recordHeader: UInt64, shardHeader: UInt64,
                                   participant: UInt64, header: UInt64) -> UInt64 {
        64 | 8 << 8 | 1 << 16 | (slotHeader / 8) << 24 | (recordHeader / 8) << 32 | (shardHeader / 64) << 40
            | (participant / 8) << 48 | (header / 512) << 56
    }

    /// §16: the derived layout of the default geometry (16 × 64, key 64, value 1024, window 8,
    /// 64 participants): record_size, slot_size, participants_offset, shards_offset, shard_size,
    /// total_len.
    public static let defaultLayout: [UInt64] = [1088, 2304, 4096, 8192, 147_712, 2_371_584]
}
