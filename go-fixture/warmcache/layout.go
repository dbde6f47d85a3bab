// Package warmcache is the Go reference implementation of the warmcache shared-memory cache
// protocol, version 1.1 (docs/PROTOCOL.md; it also speaks 1.0, OpenOptions.Protocol). Every constant in this file is normative and named
// after the field of the spec it locates; the spec's diagrams are reproduced next to them.
package warmcache

// ---------------------------------------------------------------------------------------------
// §1, §3 File and header
//
//	 0        4096       participants_offset        shards_offset
//	 +---------+---------------------------+---------+-----------+-----------+-- ... --+
//	 | header  | participant table         | padding | shard 0   | shard 1   |         |
//	 | 1 page  | participant_capacity x 64 | to 4096 | shard_size| shard_size|         |
//	 +---------+---------------------------+---------+-----------+-----------+-- ... --+
//	                                                              total_len = shards_offset
//	                                                                + shard_count * shard_size
//
//	 line 0   0 magic | 8 version | 16 features_incompat | 24 features_compat | 32 layout_fingerprint
//	          40 total_len | 48 geometry_shards | 56 geometry_sizes
//	 line 1   64 geometry_limits | 72 slot_size | 80 participants_offset | 88 shards_offset
//	          96 shard_size | 104 creator_pid | 112 creator_start_time | 120 creator_info
//	 line 2   128 created_at_ns | 136 header_checksum | 144..191 zero
//	 line 3   192 ready
//	 line 4   256 generation (u32) | 260..263 never accessed
//	 line 5   320 waiters
//	 line 6   384 event_seq
//	 line 7   448 version_clock
//	 line 8   512 sim_clock_ns
//	 line 9   576 namespace table, namespaces 0..3 (§18.2, namespace.go)
//	 line 10  640 namespace table, namespaces 4..7
//	          704..4095 reserved, zero (704: durable_order, PERSISTENCE.md §3)
// ---------------------------------------------------------------------------------------------

const (
	CacheLine  = 64   // §1: a cache line
	HeaderSize = 4096 // §3: the header is the first 4096 bytes

	// Immutable header (lines 0–2), written once before `ready`.
	OffMagic              = 0   // magic
	OffVersion            = 8   // version: 0..15 major, 16..31 minor, 32..63 header size
	OffFeaturesIncompat   = 16  // features_incompat
	OffFeaturesCompat     = 24  // features_compat
	OffLayoutFingerprint  = 32  // layout_fingerprint
	OffTotalLen           = 40  // total_len
	OffGeometryShards     = 48  // geometry_shards: 0..31 shard_count, 32..63 slots_per_shard
	OffGeometrySizes      = 56  // geometry_sizes: 0..31 key_capacity, 32..63 value_capacity
	OffGeometryLimits     = 64  // geometry_limits: 0..31 probe_window, 32..63 participant_capacity
	OffSlotSize           = 72  // slot_size
	OffParticipantsOffset = 80  // participants_offset
	OffShardsOffset       = 88  // shards_offset
	OffShardSize          = 96  // shard_size
	OffCreatorPid         = 104 // creator_pid
	OffCreatorStartTime   = 112 // creator_start_time
	OffCreatorInfo        = 120 // creator_info: 0..7 language, 32..63 uid
	OffCreatedAtNs        = 128 // created_at_ns
	OffHeaderChecksum     = 136 // header_checksum = WCH64(bytes 0..135, HEADER_SEED)
	HeaderChecksumLen     = 136 // bytes covered by header_checksum

	// Live words, one per cache line.
	OffReady        = 192 // ready
	OffGeneration   = 256 // generation (u32 futex word)
	OffWaiters      = 320 // waiters
	OffEventSeq     = 384 // event_seq
	OffVersionClock = 448 // version_clock
	OffSimClockNs   = 512 // sim_clock_ns

	// MAGIC: the ASCII bytes "WARMCACH".
	Magic uint64 = 0x484341434D524157
	// READY: the ASCII bytes "AWCREADY".
	Ready uint64 = 0x5944414552435741

	ProtocolMajor = 1
	// ProtocolMinor is the newest minor this library speaks, and the one it writes unless a
	// handle is told to speak an older one (OpenOptions.Protocol, §14).
	ProtocolMinor = 1

	// VersionWord is the value of `version` this implementation writes as 1.1.
	VersionWord uint64 = ProtocolMajor | ProtocolMinor<<16 | HeaderSize<<32

	// FeatureSimClock is features_incompat bit 0 (§3, §12).
	FeatureSimClock uint64 = 1 << 0
	// FeatureFastChecksum is features_incompat bit 1 (1.1, §2): record checksums are WCH64X4.
	FeatureFastChecksum uint64 = 1 << 1
	// KnownIncompatFeatures is every features_incompat bit this reader understands as 1.1;
	// knownIncompat(minor) gives the set of an older minor.
	KnownIncompatFeatures = FeatureSimClock | FeatureFastChecksum
	// KnownIncompatFeatures10 is the set of a 1.0 reader.
	KnownIncompatFeatures10 = FeatureSimClock

	// LayoutFingerprint for 1.0: cache line 64, word 8, little endian, SLOT_HEADER_SIZE/8,
	// RECORD_HEADER_SIZE/8, SHARD_HEADER_SIZE/64, PARTICIPANT_SIZE/8, header size/512.
	LayoutFingerprint uint64 = 0x0808040808010840
)

// ---------------------------------------------------------------------------------------------
// §5 Participants
//
//	 participant entry i (64 bytes) at participants_offset + i*64
//	 +-------+-------+------------+-------+------------------+------------+------------+----------+
//	 | epoch | pid   | start_time | info  | registered_at_ns | claim_hint | hint_epoch | ns_pin   |
//	 +-------+-------+------------+-------+------------------+------------+------------+----------+
//	 0       8       16           24      32                 40           48           56         64
//
//	 claim_hint (§5.1, hint.go)
//	 63        49 48  47          32 31          16 15           0
//	 +-----------+---+--------------+--------------+-------------+
//	 |   zero    | W |    shard     |     home     |  in_flight  |
//	 +-----------+---+--------------+--------------+-------------+
// ---------------------------------------------------------------------------------------------

const (
	ParticipantSize = 64 // PARTICIPANT_SIZE

	ParticipantsOffset = HeaderSize // participants_offset is always 4096

	PartEpoch          = 0  // epoch
	PartPid            = 8  // pid
	PartStartTime      = 16 // start_time
	PartInfo           = 24 // info: 0..7 language, 8..15 major, 16..23 minor, 32..63 uid
	PartRegisteredAtNs = 32 // registered_at_ns
	PartClaimHint      = 40 // claim_hint (§5.1)
	PartHintEpoch      = 48 // hint_epoch (§5.1)
	PartNsPin          = 56 // ns_pin (1.1, §18.3, namespace_pin.go)
)

// ---------------------------------------------------------------------------------------------
// §18 Versioned namespaces (1.1)
//
//	 line 9   576 ns 0: ns_head | 584 ns 0: ns_stage | 592 ns 1: ns_head | 600 ns 1: ns_stage
//	          608 ns 2: ns_head | 616 ns 2: ns_stage | 624 ns 3: ns_head | 632 ns 3: ns_stage
//	 line 10  640 ns 4 ...                                                 696 ns 7: ns_stage
//
//	 ns_head (+0)                                   ns_stage (+8)
//	 63                 32 31                  0    63      48 47         32 31                  0
//	 +-------------------+--------------------+    +---------+-------------+--------------------+
//	 |     previous      |      current       |    |  zero   |   stager    |        last        |
//	 +-------------------+--------------------+    +---------+-------------+--------------------+
//
//	 ns_pin (participant + 56)                     namespace key nskey(ns, v, k)
//	 63                 40 39   35 34  32 31      0     0            8          16         16+len(k)
//	 +--------------------+-------+------+-------+     +------------+----------+-----------+
//	 |     pin_epoch      | zero  |  ns  |version|     | MAGIC | ns | version  | user key  |
//	 +--------------------+-------+------+-------+     +------------+----------+-----------+
// ---------------------------------------------------------------------------------------------

const (
	NsCount        = 8   // NS_COUNT: namespaces per segment
	NsTableOffset  = 576 // NS_TABLE_OFFSET: header lines 9–10
	NsEntrySize    = 16  // NS_ENTRY_SIZE
	NsHead         = 0   // ns_head: 0..31 current, 32..63 previous
	NsStage        = 8   // ns_stage: 0..31 last, 32..47 stager, 48..63 zero
	NsKeyPrefixLen = 16  // the prefix of a namespace key: word 0 magic|ns, word 1 version

	// NsKeyMagic is bits 0..47 of a namespace key's word 0: the bytes FF 57 43 4E 53 01.
	NsKeyMagic uint64 = 0x01534E4357FF
	// NsVersionMax is the highest namespace version (versions are 32 bits in the table).
	NsVersionMax uint64 = 0xFFFFFFFF
	// NsPinEpochMask: pin_epoch holds the low 24 bits of the pinner's registration epoch.
	NsPinEpochMask uint64 = 0xFFFFFF
)

// ---------------------------------------------------------------------------------------------
// §6 Shards
//
//	 shard header (SHARD_HEADER_SIZE = 256)
//	 line 0    0 insert_lock | 8 clock_hand | 16..63 zero              (writers: inserting)
//	 line 1   64 hits | 72 misses | 80 stale_hits | 88..127 zero        (readers)
//	 line 2  128 inserts | 136 refreshes | 144 evictions | 152 invalidations
//	         160 expirations | 168 reclaims | 176..191 zero              (writers: outcomes)
//	 line 3  192..255 reserved, zero
//	 then slots_per_shard slots of slot_size bytes
// ---------------------------------------------------------------------------------------------

const (
	ShardHeaderSize = 256 // SHARD_HEADER_SIZE

	ShardInsertLock    = 0   // insert_lock
	ShardClockHand     = 8   // clock_hand
	ShardHits          = 64  // hits
	ShardMisses        = 72  // misses
	ShardStaleHits     = 80  // stale_hits
	ShardInserts       = 128 // inserts
	ShardRefreshes     = 136 // refreshes
	ShardEvictions     = 144 // evictions
	ShardInvalidations = 152 // invalidations
	ShardExpirations   = 160 // expirations
	ShardReclaims      = 168 // reclaims
)

// ---------------------------------------------------------------------------------------------
// §7 Slots and records
//
//	 slot (slot_size bytes)                               record (RECORD_HEADER_SIZE + value area)
//	 +--------------------------+ 0                       +--------------------------+ 0
//	 | state                    |                         | version                  |
//	 | referenced               | 8                       | value_info               | 8
//	 | key_hash                 | 16                      | checksum                 | 16
//	 | key_len                  | 24                      | expires_at_ns            | 24
//	 | claimed_at_ns            | 32                      | stale_until_ns           | 32
//	 | reserved (24 B)          | 40                      | written_at_ns            | 40
//	 +--------------------------+ 64 = SLOT_HEADER_SIZE   | writer                   | 48
//	 | key bytes                |                         | writer_start_time        | 56
//	 | (key_capacity)           |                         +--------------------------+ 64
//	 +--------------------------+ 64 + key_capacity       | value bytes              |
//	 | record 0                 |                         | (value_capacity)         |
//	 +--------------------------+ + record_size           +--------------------------+
//	 | record 1                 |
//	 +--------------------------+ slot_size
//
// record_size = RECORD_HEADER_SIZE + value_capacity;
// slot_size = align_up(SLOT_HEADER_SIZE + key_capacity + 2*record_size, 64);
// slot j of shard s starts at shards_offset + s*shard_size + 256 + j*slot_size.
// ---------------------------------------------------------------------------------------------

const (
	SlotHeaderSize   = 64 // SLOT_HEADER_SIZE
	RecordHeaderSize = 64 // RECORD_HEADER_SIZE

	SlotState       = 0  // state (the state word, state.go)
	SlotReferenced  = 8  // referenced (CLOCK bit)
	SlotKeyHash     = 16 // key_hash
	SlotKeyLen      = 24 // key_len: 0..31 length, 32..63 zero
	SlotClaimedAtNs = 32 // claimed_at_ns
	SlotKey         = 64 // key bytes

	RecVersion         = 0  // version
	RecValueInfo       = 8  // value_info: 0..31 value length, 32..63 origin_tag
	RecChecksum        = 16 // checksum = WCH64(value, VALUE_SEED)
	RecExpiresAtNs     = 24 // expires_at_ns
	RecStaleUntilNs    = 32 // stale_until_ns
	RecWrittenAtNs     = 40 // written_at_ns
	RecWriter          = 48 // writer (provenance)
	RecWriterStartTime = 56 // writer_start_time
	RecValue           = 64 // value bytes
)

// §3 geometry limits.
const (
	MaxShardCount          = 65536
	MaxSlotsPerShard       = 65536
	MinKeyCapacity         = 8
	MaxKeyCapacity         = 4096
	MinValueCapacity       = 8
	MaxValueCapacity       = 1048576
	MaxProbeWindow         = 64
	MaxParticipantCapacity = 4096
	MaxTotalLen            = 1 << 40
)

// §9 limits. An implementation may make them larger, never unbounded.
const (
	ReadRetries = 8
	WaitSpins   = 2000
	LockSpins   = 2000
)

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }
