//! Segment layout: every offset and size of PROTOCOL.md §3, §5, §6 and §7, with the spec's
//! diagrams next to the constants that implement them, and the geometry rules of §3.
//!
//! Nothing here touches shared memory. `Geometry` is the validated, private copy of the
//! immutable header that every offset computation uses (§13: offsets come only from it).

use crate::error::OpenError;

// ------------------------------------------------------------------------------------------
// File (§3)
//
//  0        4096       participants_offset        shards_offset
//  +---------+---------------------------+---------+-----------+-----------+-- ... --+
//  | header  | participant table         | padding | shard 0   | shard 1   |         |
//  | 1 page  | participant_capacity x 64 | to 4096 | shard_size| shard_size|         |
//  +---------+---------------------------+---------+-----------+-----------+-- ... --+
//                                                               total_len = shards_offset
//                                                                 + shard_count * shard_size
// ------------------------------------------------------------------------------------------

/// Cache line size; words written by different parties live on different lines.
pub const CACHE_LINE: u64 = 64;
/// Size of the header page.
pub const HEADER_SIZE: u64 = 4096;
/// Page granularity used by `align_up` for `shards_offset` and the EOPNOTSUPP fallback.
pub const PAGE_SIZE: u64 = 4096;
/// Largest segment a reader accepts (§3 geometry rules).
pub const MAX_TOTAL_LEN: u64 = 1 << 40;

// ------------------------------------------------------------------------------------------
// Header (§3)
//
//  line 0   0 magic | 8 version | 16 features_incompat | 24 features_compat | 32 layout_fingerprint
//           40 total_len | 48 geometry_shards | 56 geometry_sizes
//  line 1   64 geometry_limits | 72 slot_size | 80 participants_offset | 88 shards_offset
//           96 shard_size | 104 creator_pid | 112 creator_start_time | 120 creator_info
//  line 2   128 created_at_ns | 136 header_checksum | 144..191 zero
//  line 3   192 ready
//  line 4   256 generation (u32) | 260..263 never accessed
//  line 5   320 waiters
//  line 6   384 event_seq
//  line 7   448 version_clock
//  line 8   512 sim_clock_ns
//           576..4095 reserved, zero
// ------------------------------------------------------------------------------------------

/// Header byte offset of `magic` (§3).
pub const HDR_MAGIC: u64 = 0;
/// Header byte offset of `version` (§3).
pub const HDR_VERSION: u64 = 8;
/// Header byte offset of `features_incompat` (§3).
pub const HDR_FEATURES_INCOMPAT: u64 = 16;
/// Header byte offset of `features_compat` (§3).
pub const HDR_FEATURES_COMPAT: u64 = 24;
/// Header byte offset of `layout_fingerprint` (§3).
pub const HDR_LAYOUT_FINGERPRINT: u64 = 32;
/// Header byte offset of `total_len` (§3).
pub const HDR_TOTAL_LEN: u64 = 40;
/// Header byte offset of `geometry_shards` (§3).
pub const HDR_GEOMETRY_SHARDS: u64 = 48;
/// Header byte offset of `geometry_sizes` (§3).
pub const HDR_GEOMETRY_SIZES: u64 = 56;
/// Header byte offset of `geometry_limits` (§3).
pub const HDR_GEOMETRY_LIMITS: u64 = 64;
/// Header byte offset of `slot_size` (§3).
pub const HDR_SLOT_SIZE: u64 = 72;
/// Header byte offset of `participants_offset` (§3).
pub const HDR_PARTICIPANTS_OFFSET: u64 = 80;
/// Header byte offset of `shards_offset` (§3).
pub const HDR_SHARDS_OFFSET: u64 = 88;
/// Header byte offset of `shard_size` (§3).
pub const HDR_SHARD_SIZE: u64 = 96;
/// Header byte offset of `creator_pid` (§3).
pub const HDR_CREATOR_PID: u64 = 104;
/// Header byte offset of `creator_start_time` (§3).
pub const HDR_CREATOR_START_TIME: u64 = 112;
/// Header byte offset of `creator_info` (§3).
pub const HDR_CREATOR_INFO: u64 = 120;
/// Header byte offset of `created_at_ns` (§3).
pub const HDR_CREATED_AT_NS: u64 = 128;
/// Header byte offset of `header_checksum` (§3).
pub const HDR_HEADER_CHECKSUM: u64 = 136;
/// The checksum covers bytes `0..HDR_CHECKSUMMED_LEN` (0..135).
pub const HDR_CHECKSUMMED_LEN: u64 = 136;
/// Header byte offset of `ready` (§3).
pub const HDR_READY: u64 = 192;
/// Header byte offset of `generation` (§3).
pub const HDR_GENERATION: u64 = 256;
/// Header byte offset of `waiters` (§3).
pub const HDR_WAITERS: u64 = 320;
/// Header byte offset of `event_seq` (§3).
pub const HDR_EVENT_SEQ: u64 = 384;
/// Header byte offset of `version_clock` (§3).
pub const HDR_VERSION_CLOCK: u64 = 448;
/// Header byte offset of `sim_clock_ns` (§3).
pub const HDR_SIM_CLOCK_NS: u64 = 512;

/// `WARMCACH` read as a little-endian u64.
pub const MAGIC: u64 = 0x484341434D524157;
/// `AWCREADY` read as a little-endian u64.
pub const READY: u64 = 0x5944414552435741;
/// The protocol major this implementation speaks (§14); another major is refused.
pub const PROTOCOL_MAJOR: u64 = 1;
/// The newest minor this implementation speaks, and the one it writes unless a handle is told
/// to speak an older one ([`crate::Protocol`], §14).
pub const PROTOCOL_MINOR: u64 = 1;
/// `version` word written as 1.1: `0..15` major, `16..31` minor, `32..63` header size.
pub const VERSION_WORD: u64 = PROTOCOL_MAJOR | (PROTOCOL_MINOR << 16) | (HEADER_SIZE << 32);

/// `features_incompat` bit 0: the segment runs on a simulated clock (§12).
pub const FEATURE_SIM_CLOCK: u64 = 1 << 0;
/// `features_incompat` bit 1 (1.1): record checksums are WCH64X4 (§2).
pub const FEATURE_FAST_CHECKSUM: u64 = 1 << 1;
/// Every `features_incompat` bit this implementation understands speaking 1.1.
pub const KNOWN_INCOMPAT_FEATURES: u64 = FEATURE_SIM_CLOCK | FEATURE_FAST_CHECKSUM;
/// The bits a 1.0 reader understands.
pub const KNOWN_INCOMPAT_FEATURES_1_0: u64 = FEATURE_SIM_CLOCK;

/// Language codes (§7.3).
pub const LANGUAGE_UNKNOWN: u64 = 0;
/// Language code of the Go implementation (§7.3).
pub const LANGUAGE_GO: u64 = 1;
/// Language code of the Rust implementation (§7.3).
pub const LANGUAGE_RUST: u64 = 2;
/// Language code of the Swift implementation (§7.3).
pub const LANGUAGE_SWIFT: u64 = 3;

// ------------------------------------------------------------------------------------------
// Participant entry (§5)
//
//  participant entry i (64 bytes) at participants_offset + i*64
//  +-------+-------+------------+-------+------------------+------------+------------+----------+
//  | epoch | pid   | start_time | info  | registered_at_ns | claim_hint | hint_epoch | ns_pin   |
//  +-------+-------+------------+-------+------------------+------------+------------+----------+
//  0       8       16           24      32                 40           48           56         64
//
//  claim_hint (§5.1, ops/hint.rs)
//  63        49 48  47          32 31          16 15           0
//  +-----------+---+--------------+--------------+-------------+
//  |   zero    | W |    shard     |     home     |  in_flight  |
//  +-----------+---+--------------+--------------+-------------+
// ------------------------------------------------------------------------------------------

/// Size of one participant entry (§5).
pub const PARTICIPANT_SIZE: u64 = 64;
/// Byte offset of `epoch` within a participant entry (§5).
pub const PART_EPOCH: u64 = 0;
/// Byte offset of `pid` within a participant entry (§5).
pub const PART_PID: u64 = 8;
/// Byte offset of `start_time` within a participant entry (§5).
pub const PART_START_TIME: u64 = 16;
/// Byte offset of `info` within a participant entry (§5).
pub const PART_INFO: u64 = 24;
/// Byte offset of `registered_at_ns` within a participant entry (§5).
pub const PART_REGISTERED_AT_NS: u64 = 32;
/// Byte offset of `claim_hint` within a participant entry (§5).
pub const PART_CLAIM_HINT: u64 = 40;
/// Byte offset of `hint_epoch` within a participant entry (§5).
pub const PART_HINT_EPOCH: u64 = 48;
/// 1.1: the participant's namespace pin (§18.3; its layout is drawn in namespace/mod.rs).
pub const PART_NS_PIN: u64 = 56;
/// `claim_hint` bits 0..15: write operations of the owner in flight (§5.1).
pub const HINT_IN_FLIGHT: u64 = 0xFFFF;
/// Shift of `home` (bits 16..31) in `claim_hint` (§5.1).
pub const HINT_HOME_SHIFT: u32 = 16;
/// Shift of `shard` (bits 32..47) in `claim_hint` (§5.1).
pub const HINT_SHARD_SHIFT: u32 = 32;
/// `claim_hint` bit 48, `W`: the claims may be anywhere, a registrant sweeps everything (§5.1).
pub const HINT_WIDE: u64 = 1 << 48;
/// `claim_hint` bits 49..63, zero in a valid hint (§5.1).
pub const HINT_RESERVED: u64 = !((1u64 << 49) - 1);

// ------------------------------------------------------------------------------------------
// Shard header (§6)
//
//  shard header (SHARD_HEADER_SIZE = 256)
//  line 0    0 insert_lock | 8 clock_hand | 16..63 zero              (writers: inserting)
//  line 1   64 hits | 72 misses | 80 stale_hits | 88..127 zero        (readers)
//  line 2  128 inserts | 136 refreshes | 144 evictions | 152 invalidations
//          160 expirations | 168 reclaims | 176..191 zero              (writers: outcomes)
//  line 3  192..255 reserved, zero
//  then slots_per_shard slots of slot_size bytes
// ------------------------------------------------------------------------------------------

/// Size of a shard header, before its slots (§6).
pub const SHARD_HEADER_SIZE: u64 = 256;
/// Byte offset of the `insert_lock` word within a shard header (§6).
pub const SH_INSERT_LOCK: u64 = 0;
/// Byte offset of the `clock_hand` word within a shard header (§6).
pub const SH_CLOCK_HAND: u64 = 8;
/// Byte offset of the `hits` word within a shard header (§6).
pub const SH_HITS: u64 = 64;
/// Byte offset of the `misses` word within a shard header (§6).
pub const SH_MISSES: u64 = 72;
/// Byte offset of the `stale_hits` word within a shard header (§6).
pub const SH_STALE_HITS: u64 = 80;
/// Byte offset of the `inserts` word within a shard header (§6).
pub const SH_INSERTS: u64 = 128;
/// Byte offset of the `refreshes` word within a shard header (§6).
pub const SH_REFRESHES: u64 = 136;
/// Byte offset of the `evictions` word within a shard header (§6).
pub const SH_EVICTIONS: u64 = 144;
/// Byte offset of the `invalidations` word within a shard header (§6).
pub const SH_INVALIDATIONS: u64 = 152;
/// Byte offset of the `expirations` word within a shard header (§6).
pub const SH_EXPIRATIONS: u64 = 160;
/// Byte offset of the `reclaims` word within a shard header (§6).
pub const SH_RECLAIMS: u64 = 168;

// ------------------------------------------------------------------------------------------
// Slot and record (§7)
//
//  slot (slot_size bytes)                               record (RECORD_HEADER_SIZE + value area)
//  +--------------------------+ 0                       +--------------------------+ 0
//  | state                    |                         | version                  |
//  | referenced               | 8                       | value_info               | 8
//  | key_hash                 | 16                      | checksum                 | 16
//  | key_len                  | 24                      | expires_at_ns            | 24
//  | claimed_at_ns            | 32                      | stale_until_ns           | 32
//  | reserved (24 B)          | 40                      | written_at_ns            | 40
//  +--------------------------+ 64 = SLOT_HEADER_SIZE   | writer                   | 48
//  | key bytes                |                         | writer_start_time        | 56
//  | (key_capacity)           |                         +--------------------------+ 64
//  +--------------------------+ 64 + key_capacity       | value bytes              |
//  | record 0                 |                         | (value_capacity)         |
//  +--------------------------+ + record_size           +--------------------------+
//  | record 1                 |
//  +--------------------------+ slot_size
// ------------------------------------------------------------------------------------------

/// Byte offset of `header_size` within a slot header (§7.1).
pub const SLOT_HEADER_SIZE: u64 = 64;
/// Byte offset of `state` within a slot header (§7.1).
pub const SLOT_STATE: u64 = 0;
/// Byte offset of `referenced` within a slot header (§7.1).
pub const SLOT_REFERENCED: u64 = 8;
/// Byte offset of `key_hash` within a slot header (§7.1).
pub const SLOT_KEY_HASH: u64 = 16;
/// Byte offset of `key_len` within a slot header (§7.1).
pub const SLOT_KEY_LEN: u64 = 24;
/// Byte offset of `claimed_at_ns` within a slot header (§7.1).
pub const SLOT_CLAIMED_AT_NS: u64 = 32;
/// Byte offset of the key bytes within a slot (§7.1).
pub const SLOT_KEY: u64 = 64;

/// Size of a record header, before its value bytes (§7.2).
pub const RECORD_HEADER_SIZE: u64 = 64;
/// Byte offset of `version` within a record header (§7.2).
pub const REC_VERSION: u64 = 0;
/// Byte offset of `value_info` within a record header (§7.2).
pub const REC_VALUE_INFO: u64 = 8;
/// Byte offset of `checksum` within a record header (§7.2).
pub const REC_CHECKSUM: u64 = 16;
/// Byte offset of `expires_at_ns` within a record header (§7.2).
pub const REC_EXPIRES_AT_NS: u64 = 24;
/// Byte offset of `stale_until_ns` within a record header (§7.2).
pub const REC_STALE_UNTIL_NS: u64 = 32;
/// Byte offset of `written_at_ns` within a record header (§7.2).
pub const REC_WRITTEN_AT_NS: u64 = 40;
/// Byte offset of `writer` within a record header (§7.2).
pub const REC_WRITER: u64 = 48;
/// Byte offset of `writer_start_time` within a record header (§7.2).
pub const REC_WRITER_START_TIME: u64 = 56;
/// Byte offset of the value bytes within a record (§7.2).
pub const REC_VALUE: u64 = 64;

/// Layout fingerprint (§3): byte 0 cache line (64), byte 1 atomic word size (8), byte 2
/// endianness (1 = little), byte 3 SLOT_HEADER_SIZE/8, byte 4 RECORD_HEADER_SIZE/8,
/// byte 5 SHARD_HEADER_SIZE/64, byte 6 PARTICIPANT_SIZE/8, byte 7 header size/512.
pub const LAYOUT_FINGERPRINT: u64 = CACHE_LINE
    | (8 << 8)
    | (1 << 16)
    | ((SLOT_HEADER_SIZE / 8) << 24)
    | ((RECORD_HEADER_SIZE / 8) << 32)
    | ((SHARD_HEADER_SIZE / 64) << 40)
    | ((PARTICIPANT_SIZE / 8) << 48)
    | ((HEADER_SIZE / 512) << 56);

const _: () = assert!(LAYOUT_FINGERPRINT == 0x0808040808010840);
// The protocol is little-endian and this implementation copies shared words as native u64s.
#[cfg(not(target_endian = "little"))]
compile_error!("warmcache: this implementation supports little-endian targets only");

/// `align_up(x, a)` rounds `x` up to a multiple of `a` (a power of two here).
#[inline]
pub const fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// The six numbers that define a segment (§3, `geometry_*` words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Number of shards (`geometry_shards` bits 0..31).
    pub shard_count: u32,
    /// Slots in each shard (`geometry_shards` bits 32..63).
    pub slots_per_shard: u32,
    /// Largest key in bytes (`geometry_sizes` bits 0..31).
    pub key_capacity: u32,
    /// Largest value in bytes (`geometry_sizes` bits 32..63).
    pub value_capacity: u32,
    /// Slots probed from a key's home slot (`geometry_limits` bits 0..31).
    pub probe_window: u32,
    /// Entries of the participant table (`geometry_limits` bits 32..63).
    pub participant_capacity: u32,
}

impl Default for Geometry {
    /// Default geometry for tools and tests (§3): 16 × 64 slots, key 64 B, value 1024 B,
    /// window 8, 64 participants.
    fn default() -> Self {
        Geometry {
            shard_count: 16,
            slots_per_shard: 64,
            key_capacity: 64,
            value_capacity: 1024,
            probe_window: 8,
            participant_capacity: 64,
        }
    }
}

/// Derived sizes and offsets of a geometry (§3, §7). All in u64 so nothing can overflow for
/// geometries that pass the limits; `total_len` is checked separately with checked arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Derived {
    /// Bytes of one record: header plus value area rounded up to 8 (§7).
    pub record_size: u64,
    /// Bytes of one slot: header, key area rounded up to 8, two records (§7).
    pub slot_size: u64,
    /// File offset of the participant table (§3).
    pub participants_offset: u64,
    /// File offset of shard 0, page-aligned (§3).
    pub shards_offset: u64,
    /// Bytes of one shard: header plus its slots (§6).
    pub shard_size: u64,
    /// `None` if `shards_offset + shard_count * shard_size` overflows u64.
    pub total_len: Option<u64>,
}

impl Geometry {
    /// The formulas of §3 and §7. Inputs are u32, so every intermediate fits in u64 except
    /// possibly the final product, which uses checked arithmetic.
    pub fn derive(&self) -> Derived {
        let record_size = RECORD_HEADER_SIZE + self.value_capacity as u64;
        let slot_size =
            align_up(SLOT_HEADER_SIZE + self.key_capacity as u64 + 2 * record_size, CACHE_LINE);
        let participants_offset = HEADER_SIZE;
        let shards_offset = align_up(
            HEADER_SIZE + self.participant_capacity as u64 * PARTICIPANT_SIZE,
            PAGE_SIZE,
        );
        let shard_size = SHARD_HEADER_SIZE + self.slots_per_shard as u64 * slot_size;
        let total_len = (self.shard_count as u64)
            .checked_mul(shard_size)
            .and_then(|x| x.checked_add(shards_offset));
        Derived { record_size, slot_size, participants_offset, shards_offset, shard_size, total_len }
    }

    /// The first six geometry rules of §3, in the table's order. Returns the violated rule.
    pub fn check_limits(&self) -> Result<(), String> {
        let g = self;
        if !(1..=65536).contains(&g.shard_count) {
            return Err(format!("rule 1 violated: 1 <= shard_count <= 65536 (shard_count = {})", g.shard_count));
        }
        if !(1..=65536).contains(&g.slots_per_shard) {
            return Err(format!(
                "rule 2 violated: 1 <= slots_per_shard <= 65536 (slots_per_shard = {})",
                g.slots_per_shard
            ));
        }
        if !(8..=4096).contains(&g.key_capacity) || !g.key_capacity.is_multiple_of(8) {
            return Err(format!(
                "rule 3 violated: 8 <= key_capacity <= 4096, multiple of 8 (key_capacity = {})",
                g.key_capacity
            ));
        }
        if !(8..=1_048_576).contains(&g.value_capacity) || !g.value_capacity.is_multiple_of(8) {
            return Err(format!(
                "rule 4 violated: 8 <= value_capacity <= 1048576, multiple of 8 (value_capacity = {})",
                g.value_capacity
            ));
        }
        let max_window = g.slots_per_shard.min(64);
        if !(1..=max_window).contains(&g.probe_window) {
            return Err(format!(
                "rule 5 violated: 1 <= probe_window <= min(slots_per_shard, 64) = {} (probe_window = {})",
                max_window, g.probe_window
            ));
        }
        if !(1..=4096).contains(&g.participant_capacity) {
            return Err(format!(
                "rule 6 violated: 1 <= participant_capacity <= 4096 (participant_capacity = {})",
                g.participant_capacity
            ));
        }
        Ok(())
    }

    /// All geometry rules for a geometry being created (there are no stored derived values
    /// to compare, only the total length limit). Returns the validated layout.
    pub fn validate_for_create(&self) -> Result<Layout, OpenError> {
        self.check_limits().map_err(OpenError::bad_geometry)?;
        let d = self.derive();
        match d.total_len {
            Some(t) if t <= MAX_TOTAL_LEN => Ok(Layout::new(*self, d, t)),
            _ => Err(OpenError::bad_geometry(format!(
                "rule 8 violated: total_len = shards_offset + shard_count * shard_size must be <= 2^40 ({})",
                d.total_len.map_or_else(|| "overflows u64".to_string(), |t| t.to_string())
            ))),
        }
    }

    /// Packs `geometry_shards`, `geometry_sizes`, `geometry_limits` (§3).
    pub fn pack(&self) -> [u64; 3] {
        [
            self.shard_count as u64 | (self.slots_per_shard as u64) << 32,
            self.key_capacity as u64 | (self.value_capacity as u64) << 32,
            self.probe_window as u64 | (self.participant_capacity as u64) << 32,
        ]
    }

    /// Inverse of [`Geometry::pack`].
    pub fn unpack(shards: u64, sizes: u64, limits: u64) -> Geometry {
        Geometry {
            shard_count: shards as u32,
            slots_per_shard: (shards >> 32) as u32,
            key_capacity: sizes as u32,
            value_capacity: (sizes >> 32) as u32,
            probe_window: limits as u32,
            participant_capacity: (limits >> 32) as u32,
        }
    }
}

/// A validated geometry and every offset derived from it, kept in private memory (§4.2: only
/// immutable header values are cached; §13: every offset comes from here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The geometry the offsets are derived from.
    pub geometry: Geometry,
    /// Bytes of one record: header plus value area rounded up to 8 (§7).
    pub record_size: u64,
    /// Bytes of one slot: header, key area rounded up to 8, two records (§7).
    pub slot_size: u64,
    /// File offset of the participant table (§3).
    pub participants_offset: u64,
    /// File offset of shard 0, page-aligned (§3).
    pub shards_offset: u64,
    /// Bytes of one shard: header plus its slots (§6).
    pub shard_size: u64,
    /// Length of the whole file (§3), at most [`MAX_TOTAL_LEN`].
    pub total_len: u64,
}

impl Layout {
    fn new(geometry: Geometry, d: Derived, total_len: u64) -> Layout {
        Layout {
            geometry,
            record_size: d.record_size,
            slot_size: d.slot_size,
            participants_offset: d.participants_offset,
            shards_offset: d.shards_offset,
            shard_size: d.shard_size,
            total_len,
        }
    }

    /// Validates a header's stored geometry words and derived values against every rule of
    /// §3, reporting the first violated rule in the table's order.
    pub fn from_header(
        geometry: Geometry,
        slot_size: u64,
        participants_offset: u64,
        shards_offset: u64,
        shard_size: u64,
        total_len: u64,
    ) -> Result<Layout, OpenError> {
        geometry.check_limits().map_err(OpenError::bad_geometry)?;
        let d = geometry.derive();
        if slot_size != d.slot_size
            || participants_offset != d.participants_offset
            || shards_offset != d.shards_offset
            || shard_size != d.shard_size
        {
            return Err(OpenError::bad_geometry(format!(
                "rule 7 violated: derived values differ from the formulas (stored slot_size {}, \
                 participants_offset {}, shards_offset {}, shard_size {}; expected {}, {}, {}, {})",
                slot_size,
                participants_offset,
                shards_offset,
                shard_size,
                d.slot_size,
                d.participants_offset,
                d.shards_offset,
                d.shard_size
            )));
        }
        match d.total_len {
            Some(t) if t == total_len && t <= MAX_TOTAL_LEN => Ok(Layout::new(geometry, d, t)),
            _ => Err(OpenError::bad_geometry(format!(
                "rule 8 violated: total_len {} must equal shards_offset + shard_count * shard_size ({}) and be <= 2^40",
                total_len,
                d.total_len.map_or_else(|| "overflows u64".to_string(), |t| t.to_string())
            ))),
        }
    }

    /// Offset of shard `s` (caller guarantees `s < shard_count`).
    #[inline(always)]
    pub fn shard_offset(&self, shard: u32) -> u64 {
        debug_assert!(shard < self.geometry.shard_count);
        self.shards_offset + shard as u64 * self.shard_size
    }

    /// Offset of slot `j` of shard `s` (caller guarantees both indices are in range).
    #[inline(always)]
    pub fn slot_offset(&self, shard: u32, slot: u32) -> u64 {
        debug_assert!(slot < self.geometry.slots_per_shard);
        self.shard_offset(shard) + SHARD_HEADER_SIZE + slot as u64 * self.slot_size
    }

    /// Offset of record `a` (0 or 1) inside a slot starting at `slot_off`.
    #[inline(always)]
    pub fn record_offset(&self, slot_off: u64, a: u32) -> u64 {
        slot_off + SLOT_HEADER_SIZE + self.geometry.key_capacity as u64 + (a as u64 & 1) * self.record_size
    }

    /// Offset of participant entry `i` (0-based).
    #[inline(always)]
    pub fn participant_offset(&self, index: u32) -> u64 {
        self.participants_offset + index as u64 * PARTICIPANT_SIZE
    }
}
