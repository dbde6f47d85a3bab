// Layout.swift — every offset and constant of docs/PROTOCOL.md, with the spec's names.
// Nothing here reads memory; SharedWords.swift is the only place that touches the mapping.

/// File layout (PROTOCOL.md §3):
/// ```
///  0        4096       participants_offset        shards_offset
///  +---------+---------------------------+---------+-----------+-----------+-- ... --+
///  | header  | participant table         | padding | shard 0   | shard 1   |         |
///  | 1 page  | participant_capacity x 64 | to 4096 | shard_size| shard_size|         |
///  +---------+---------------------------+---------+-----------+-----------+-- ... --+
///                                                               total_len = shards_offset
///                                                                 + shard_count * shard_size
/// ```
public enum Layout {
    // MARK: Protocol identity (§3, §14)
    public static let MAGIC: UInt64 = 0x484341434D524157          // "WARMCACH" little-endian
    public static let READY: UInt64 = 0x5944414552435741          // "AWCREADY"
    public static let PROTOCOL_MAJOR: UInt64 = 1
    /// The newest minor this implementation speaks, written unless a handle is told to speak an
    /// older one (`WarmCacheOptions.protocolVersion`, §14).
    public static let PROTOCOL_MINOR: UInt64 = 1
    public static let HEADER_SIZE = 4096
    public static let LAYOUT_FINGERPRINT: UInt64 = 0x0808_0408_0801_0840
    public static let CACHE_LINE = 64

    /// features_incompat bit 0: the segment runs on a simulated clock (§12).
    public static let FEATURE_SIM_CLOCK: UInt64 = 1 << 0
    /// features_incompat bit 1 (1.1): record checksums are WCH64X4 (§2).
    public static let FEATURE_FAST_CHECKSUM: UInt64 = 1 << 1
    /// Every incompatible feature bit this implementation understands speaking 1.1.
    public static let KNOWN_INCOMPAT_FEATURES: UInt64 = FEATURE_SIM_CLOCK | FEATURE_FAST_CHECKSUM
    /// The bits a 1.0 reader understands.
    public static let KNOWN_INCOMPAT_FEATURES_1_0: UInt64 = FEATURE_SIM_CLOCK

    // MARK: Hash seeds (§2)
    public static let KEY_SEED: UInt64 = 0x574B455953454544
    public static let VALUE_SEED: UInt64 = 0x57434B53554D3031
    public static let HEADER_SEED: UInt64 = 0x5748454144455253

    // MARK: Header (§3)
    /// ```
    ///  line 0   0 magic | 8 version | 16 features_incompat | 24 features_compat | 32 layout_fingerprint
    ///           40 total_len | 48 geometry_shards | 56 geometry_sizes
    ///  line 1   64 geometry_limits | 72 slot_size | 80 participants_offset | 88 shards_offset
    ///           96 shard_size | 104 creator_pid | 112 creator_start_time | 120 creator_info
    ///  line 2   128 created_at_ns | 136 header_checksum | 144..191 zero
    ///  line 3   192 ready
    ///  line 4   256 generation (u32) | 260..263 never accessed
    ///  line 5   320 waiters
    ///  line 6   384 event_seq
    ///  line 7   448 version_clock
    ///  line 8   512 sim_clock_ns
    ///           576..4095 reserved, zero
    /// ```
    public static let HDR_MAGIC = 0
    public static let HDR_VERSION = 8                 // 0..15 major, 16..31 minor, 32..63 header size
    public static let HDR_FEATURES_INCOMPAT = 16
    public static let HDR_FEATURES_COMPAT = 24
    public static let HDR_LAYOUT_FINGERPRINT = 32
    public static let HDR_TOTAL_LEN = 40
    public static let HDR_GEOMETRY_SHARDS = 48        // 0..31 shard_count, 32..63 slots_per_shard
    public static let HDR_GEOMETRY_SIZES = 56         // 0..31 key_capacity, 32..63 value_capacity
    public static let HDR_GEOMETRY_LIMITS = 64        // 0..31 probe_window, 32..63 participant_capacity
    public static let HDR_SLOT_SIZE = 72
    public static let HDR_PARTICIPANTS_OFFSET = 80
    public static let HDR_SHARDS_OFFSET = 88
    public static let HDR_SHARD_SIZE = 96
    public static let HDR_CREATOR_PID = 104
    public static let HDR_CREATOR_START_TIME = 112
    public static let HDR_CREATOR_INFO = 120          // 0..7 language, 32..63 uid
    public static let HDR_CREATED_AT_NS = 128
    public static let HDR_HEADER_CHECKSUM = 136       // WCH64(bytes 0..135, HEADER_SEED)
    public static let HDR_CHECKSUMMED_BYTES = 136
    public static let HDR_READY = 192
    public static let HDR_GENERATION = 256            // u32 futex word
    public static let HDR_WAITERS = 320
    public static let HDR_EVENT_SEQ = 384
    public static let HDR_VERSION_CLOCK = 448
    public static let HDR_SIM_CLOCK_NS = 512
    /// Line 12: slots quarantined by repairs since creation (§9.9); a relaxed counter.
    public static let HDR_QUARANTINED = 768

    // MARK: Participants (§5)
    /// ```
    ///  participant entry i (64 bytes) at participants_offset + i*64
    ///  +-------+-------+------------+-------+------------------+------------+------------+----------+
    ///  | epoch | pid   | start_time | info  | registered_at_ns | claim_hint | hint_epoch | ns_pin   |
    ///  +-------+-------+------------+-------+------------------+------------+------------+----------+
    ///  0       8       16           24      32                 40           48           56         64
    ///
    ///  claim_hint (§5.1, ClaimHint.swift)
    ///  63        49 48  47          32 31          16 15           0
    ///  +-----------+---+--------------+--------------+-------------+
    ///  |   zero    | W |    shard     |     home     |  in_flight  |
    ///  +-----------+---+--------------+--------------+-------------+
    /// ```
    public static let PARTICIPANT_SIZE = 64
    public static let PART_EPOCH = 0
    public static let PART_PID = 8
    public static let PART_START_TIME = 16
    public static let PART_INFO = 24                  // 0..7 language, 8..15 major, 16..23 minor, 32..63 uid
    public static let PART_REGISTERED_AT_NS = 32
    public static let PART_CLAIM_HINT = 40
    public static let PART_HINT_EPOCH = 48
    public static let HINT_IN_FLIGHT: UInt64 = 0xFFFF
    public static let HINT_HOME_SHIFT: UInt64 = 16
    public static let HINT_SHARD_SHIFT: UInt64 = 32
    public static let HINT_WIDE: UInt64 = 1 << 48
    public static let HINT_RESERVED: UInt64 = ~((1 << 49) - 1)

    // MARK: Shards (§6)
    /// ```
    ///  shard header (SHARD_HEADER_SIZE = 256)
    ///  line 0    0 insert_lock | 8 clock_hand | 16..63 zero              (writers: inserting)
    ///  line 1   64 hits | 72 misses | 80 stale_hits | 88..127 zero        (readers)
    ///  line 2  128 inserts | 136 refreshes | 144 evictions | 152 invalidations
    ///          160 expirations | 168 reclaims | 176..191 zero              (writers: outcomes)
    ///  line 3  192..255 reserved, zero
    ///  then slots_per_shard slots of slot_size bytes
    /// ```
    public static let SHARD_HEADER_SIZE = 256
    public static let SH_INSERT_LOCK = 0
    public static let SH_CLOCK_HAND = 8
    public static let SH_HITS = 64
    public static let SH_MISSES = 72
    public static let SH_STALE_HITS = 80
    public static let SH_INSERTS = 128
    public static let SH_REFRESHES = 136
    public static let SH_EVICTIONS = 144
    public static let SH_INVALIDATIONS = 152
    public static let SH_EXPIRATIONS = 160
    public static let SH_RECLAIMS = 168

    // MARK: Slots and records (§7)
    /// ```
    ///  slot (slot_size bytes)                               record (RECORD_HEADER_SIZE + value area)
    ///  +--------------------------+ 0                       +--------------------------+ 0
    ///  | state                    |                         | version                  |
    ///  | referenced               | 8                       | value_info               | 8
    ///  | key_hash                 | 16                      | checksum                 | 16
    ///  | key_len                  | 24                      | expires_at_ns            | 24
    ///  | claimed_at_ns            | 32                      | stale_until_ns           | 32
    ///  | reserved (24 B)          | 40                      | written_at_ns            | 40
    ///  +--------------------------+ 64 = SLOT_HEADER_SIZE   | writer                   | 48
    ///  | key bytes                |                         | writer_start_time        | 56
    ///  | (key_capacity)           |                         +--------------------------+ 64
    ///  +--------------------------+ 64 + key_capacity       | value bytes              |
    ///  | record 0                 |                         | (value_capacity)         |
    ///  +--------------------------+ + record_size           +--------------------------+
    ///  | record 1                 |
    ///  +--------------------------+ slot_size
    /// ```
    public static let SLOT_HEADER_SIZE = 64
    public static let SLOT_STATE = 0
    public static let SLOT_REFERENCED = 8
    public static let SLOT_KEY_HASH = 16
    public static let SLOT_KEY_LEN = 24               // 0..31 key length, 32..63 zero
    public static let SLOT_CLAIMED_AT_NS = 32
    public static let SLOT_KEY = 64

    public static let RECORD_HEADER_SIZE = 64
    public static let REC_VERSION = 0
    public static let REC_VALUE_INFO = 8              // 0..31 value length, 32..63 origin_tag
    public static let REC_CHECKSUM = 16
    public static let REC_EXPIRES_AT_NS = 24
    public static let REC_STALE_UNTIL_NS = 32
    public static let REC_WRITTEN_AT_NS = 40
    public static let REC_WRITER = 48                 // 0..31 pid, 32..39 lang, 40..47 major, 48..55 minor, 56..63 participant
    public static let REC_WRITER_START_TIME = 56
    public static let REC_VALUE = 64

    // MARK: Language codes (§7.3)
    public static let LANG_UNKNOWN: UInt8 = 0
    public static let LANG_GO: UInt8 = 1
    public static let LANG_RUST: UInt8 = 2
    public static let LANG_SWIFT: UInt8 = 3

    // MARK: Algorithm limits (§9)
    public static let READ_RETRIES = 8
    public static let WAIT_SPINS = 2000
    public static let LOCK_SPINS = 2000
    public static let NOTIFY_SPINS = 100

    // MARK: Helpers
    @inline(__always)
    public static func alignUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) / a * a }

    /// Name of a language code, for reports.
    public static func languageName(_ code: UInt8) -> String {
        switch code {
        case LANG_GO: return "go"
        case LANG_RUST: return "rust"
        case LANG_SWIFT: return "swift"
        case LANG_UNKNOWN: return "unknown"
        default: return "other(\(code))"
        }
    }
}
