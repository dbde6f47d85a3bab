// The segment's binary layout, written from docs/PROTOCOL.md §3, §5, §6, §7 (not from any
// implementation): this is the harness's own reading of the spec. Every structure is drawn once,
// next to its offsets; spec/vocabulary.json carries the same numbers and a test compares them.

/// Byte offsets and sizes of PROTOCOL.md, version 1.0.
public enum SpecLayout {
    //  0        4096       participants_offset        shards_offset
    //  +---------+---------------------------+---------+-----------+-- ... --+
    //  | header  | participant table         | padding | shard 0   | shard 1 |
    //  | 1 page  | participant_capacity x 64 | to 4096 | shard_size|         |
    //  +---------+---------------------------+---------+-----------+-- ... --+
    public static let headerSize = 4096
    public static let cacheLine = 64

    /// The header page (§3). Lines 0–2 are immutable (written before `ready`), later lines are
    /// live words, one per cache line.
    ///
    ///  line 0   0 magic | 8 version | 16 features_incompat | 24 features_compat
    ///          32 layout_fingerprint | 40 total_len | 48 geometry_shards | 56 geometry_sizes
    ///  line 1  64 geometry_limits | 72 slot_size | 80 participants_offset | 88 shards_offset
    ///          96 shard_size | 104 creator_pid | 112 creator_start_time | 120 creator_info
    ///  line 2 128 created_at_ns | 136 header_checksum | 144..191 zero
    ///  line 3 192 ready   line 4 256 generation (u32)   line 5 320 waiters
    ///  line 6 384 event_seq   line 7 448 version_clock   line 8 512 sim_clock_ns
    public enum Header {
        public static let magic = 0, version = 8, featuresIncompat = 16, featuresCompat = 24
        public static let layoutFingerprint = 32, totalLen = 40, geometryShards = 48, geometrySizes = 56
        public static let geometryLimits = 64, slotSize = 72, participantsOffset = 80, shardsOffset = 88
        public static let shardSize = 96, creatorPid = 104, creatorStartTime = 112, creatorInfo = 120
        public static let createdAtNs = 128, headerChecksum = 136
        public static let ready = 192, generation = 256, waiters = 320, eventSeq = 384
        public static let versionClock = 448, simClockNs = 512
        /// `header_checksum = WCH64(bytes 0..135, HEADER_SEED)`.
        public static let checksummedBytes = 136
    }

    /// One participant entry (§5), at `participants_offset + i*64`.
    ///
    ///  +-------+-------+------------+-------+------------------+------------+------------+----------+
    ///  | epoch | pid   | start_time | info  | registered_at_ns | claim_hint | hint_epoch | reserved |
    ///  +-------+-------+------------+-------+------------------+------------+------------+----------+
    ///  0       8       16           24      32                 40           48           56         64
    ///  info: 0..7 language, 8..15 protocol major, 16..23 minor, 32..63 uid
    ///  claim_hint (§5.1): 0..15 in_flight, 16..31 home, 32..47 shard, 48 W (wide), 49..63 zero
    public enum Participant {
        public static let size = 64
        public static let epoch = 0, pid = 8, startTime = 16, info = 24, registeredAtNs = 32
        public static let claimHint = 40, hintEpoch = 48
        /// `ns_pin` (1.1, §18.3; Namespaces.swift).
        public static let nsPin = 56
    }

    /// A shard header (§6), at `shards_offset + s*shard_size`; the slots follow it.
    ///
    ///  line 0    0 insert_lock | 8 clock_hand
    ///  line 1   64 hits | 72 misses | 80 stale_hits
    ///  line 2  128 inserts | 136 refreshes | 144 evictions | 152 invalidations
    ///          160 expirations | 168 reclaims
    ///  line 3  192..255 reserved
    public enum Shard {
        public static let headerSize = 256
        public static let insertLock = 0, clockHand = 8
        public static let hits = 64, misses = 72, staleHits = 80
        public static let inserts = 128, refreshes = 136, evictions = 144, invalidations = 152
        public static let expirations = 160, reclaims = 168
    }

    /// A slot (§7), at `shards_offset + s*shard_size + 256 + j*slot_size`.
    ///
    ///  +---------------+ 0                    key_len: 0..31 length, 32..63 zero
    ///  | state         |  8 referenced   16 key_hash   24 key_len   32 claimed_at_ns
    ///  +---------------+ 64 key bytes (key_capacity)
    ///  | record 0      | 64 + key_capacity
    ///  | record 1      | 64 + key_capacity + record_size
    ///  +---------------+ slot_size = align_up(64 + key_capacity + 2*record_size, 64)
    public enum Slot {
        public static let headerSize = 64
        public static let state = 0, referenced = 8, keyHash = 16, keyLen = 24, claimedAtNs = 32, key = 64
    }

    /// A record (§7.2): `RECORD_HEADER_SIZE` header words, then `value_capacity` bytes.
    ///
    ///   0 version | 8 value_info (0..31 length, 32..63 origin_tag) | 16 checksum
    ///  24 expires_at_ns | 32 stale_until_ns | 40 written_at_ns
    ///  48 writer (0..31 pid, 32..39 language, 40..47 major, 48..55 minor, 56..63 participant)
    ///  56 writer_start_time | 64 value bytes
    public enum Record {
        public static let headerSize = 64
        public static let version = 0, valueInfo = 8, checksum = 16, expiresAtNs = 24, staleUntilNs = 32
        public static let writtenAtNs = 40, writer = 48, writerStartTime = 56, value = 64
    }

    /// The state word (§7.1):
    ///
    ///  63            32 31      16 15    9  8  7     0
    ///  +---------------+----------+-------+---+-------+
    ///  |      seq      |  owner   | zero  | A | state |
    ///  +---------------+----------+-------+---+-------+
    public enum StateWord {
        public static let stateMask: UInt64 = 0xFF
        public static let activeShift: UInt64 = 8
        public static let reservedMask: UInt64 = 0xFE00
        public static let ownerShift: UInt64 = 16
        public static let seqShift: UInt64 = 32
    }

    public static let magic: UInt64 = 0x4843_4143_4D52_4157 // "WARMCACH"
    public static let readyValue: UInt64 = 0x5944_4145_5243_5741 // "AWCREADY"
    public static let layoutFingerprint: UInt64 = 0x0808_0408_0801_0840
    public static let featureSimClock: UInt64 = 1 << 0
    /// 1.1: record checksums are WCH64X4 (§2).
    public static let featureFastChecksum: UInt64 = 1 << 1
    public static let knownIncompatFeatures: UInt64 = featureSimClock | featureFastChecksum
    public static let protocolMajor: UInt64 = 1

    /// §3 limits.
    public static let maxShardCount: UInt64 = 65536, maxSlotsPerShard: UInt64 = 65536
    public static let keyCapacityRange: ClosedRange<UInt64> = 8...4096
    public static let valueCapacityRange: ClosedRange<UInt64> = 8...1_048_576
    public static let maxProbeWindow: UInt64 = 64, maxParticipantCapacity: UInt64 = 4096
    public static let maxTotalLen: UInt64 = 1 << 40
    /// The size bound a reader accepts unless told otherwise: geometry rule 9, default 2^34 (§13.2).
    public static let defaultMaxTotalLen: UInt64 = 1 << 34
}
