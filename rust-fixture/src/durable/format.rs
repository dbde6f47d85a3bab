//! The durable store's on-disk format (docs/PERSISTENCE.md §4, §5, §9).
//!
//! ```text
//!  file header (96 bytes; journals and snapshots differ only in magic)
//!   0 magic | 8 format | 16 geometry_shards | 24 geometry_sizes | 32 geometry_limits
//!  40 segment_created_at_ns | 48 writer | 56 writer_start_time | 64 participant | 72 epoch
//!  80 created_at_ns | 88 header_checksum = WCH64(bytes 0..87, JOURNAL_SEED)
//!
//!  record (record_len bytes, a multiple of 8)
//!   0 record_len u32 | 4 kind u8 | 5 flags u8 | 6 key_len u16
//!   8 seq | 16 order | 24 version | 32 value_info | 40 expires_at_ns | 48 stale_until_ns
//!  56 written_at_ns | 64 writer | 72 writer_start_time
//!  80 key (pad8) | value (pad8) | record_len-8 checksum = WCH64(bytes 0..record_len-8, JOURNAL_SEED)
//! ```
//!
//! Everything read is untrusted: every length is checked against the bytes present before use,
//! and reading stops at the first failure (§9), so a torn or corrupt record is never applied.

use crate::hash::wch64;
use crate::layout::Geometry;

/// `magic` of a journal file: ASCII `WARMJRNL` (PERSISTENCE.md §4).
pub const JOURNAL_MAGIC: u64 = 0x4C4E_524A_4D52_4157; // "WARMJRNL"
/// `magic` of a snapshot file: ASCII `WARMSNAP` (PERSISTENCE.md §4).
pub const SNAPSHOT_MAGIC: u64 = 0x5041_4E53_4D52_4157; // "WARMSNAP"
/// Seed of the header and record checksums of store files (PERSISTENCE.md §4, §5).
pub const JOURNAL_SEED: u64 = 0x574A_524E_4C53_4544; // "WJRNLSED"
/// Size of a store file header.
pub const STORE_HEADER_SIZE: usize = 96;
/// The `format` word: major 1, minor 0, header size in bits 32..63.
pub const FORMAT_WORD: u64 = 1 | (STORE_HEADER_SIZE as u64) << 32; // major 1, minor 0
/// Bytes of a record before its key.
pub const RECORD_FIXED: usize = 80;
/// The smallest record: fixed part plus checksum.
pub const RECORD_MIN: usize = RECORD_FIXED + 8;
/// Header line 11: `durable_order` (PERSISTENCE.md §3).
pub const HDR_DURABLE_ORDER: u64 = 704;
/// Record `kind` of a put.
pub const KIND_PUT: u8 = 1;
/// Record `kind` of a delete (invalidate or evict), a tombstone.
pub const KIND_DELETE: u8 = 2;
/// Record `kind` that closes a snapshot (PERSISTENCE.md §8).
pub const KIND_END: u8 = 3;

const H_GEO: usize = 16;
const H_SEG_CREATED: usize = 40;
const H_WRITER: usize = 48;
const H_WRITER_START: usize = 56;
const H_PARTICIPANT: usize = 64;
const H_EPOCH: usize = 72;
const H_CREATED: usize = 80;
const H_CHECKSUM: usize = 88;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// A store file header (PERSISTENCE.md §4).
pub struct StoreHeader {
    /// [`JOURNAL_MAGIC`] or [`SNAPSHOT_MAGIC`].
    pub magic: u64,
    /// The geometry of the segment the file belongs to.
    pub geometry: Geometry,
    /// `created_at_ns` of that segment.
    pub segment_created_at_ns: u64,
    /// The writer word (§7.2) of the process that wrote the file.
    pub writer: u64,
    /// Its process start time.
    pub writer_start_time: u64,
    /// Its participant id.
    pub participant: u16,
    /// Its participant entry's `epoch`.
    pub epoch: u64,
    /// When the file was created (wall clock ns).
    pub created_at_ns: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
/// One journal or snapshot record (PERSISTENCE.md §5).
pub struct Record {
    /// [`KIND_PUT`], [`KIND_DELETE`] or [`KIND_END`].
    pub kind: u8,
    /// Position in its file, from 1.
    pub seq: u64,
    /// The store-wide order of the write (PERSISTENCE.md §3).
    pub order: u64,
    /// The data version published.
    pub version: u64,
    /// The writer's origin tag.
    pub origin_tag: u32,
    /// Expiry of the record (segment ns; 0 = never).
    pub expires_at_ns: u64,
    /// End of stale serving (segment ns).
    pub stale_until_ns: u64,
    /// When the value was written (segment ns).
    pub written_at_ns: u64,
    /// The §7.2 writer word.
    pub writer: u64,
    /// The writer's process start time.
    pub writer_start_time: u64,
    /// The key bytes.
    pub key: Vec<u8>,
    /// The value bytes (empty for a tombstone).
    pub value: Vec<u8>,
}

/// One reported failure of §9: file, byte offset, code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreProblem {
    /// The file the problem is in.
    pub file: String,
    /// Byte offset of the record or header that failed.
    pub offset: u64,
    /// The PERSISTENCE.md §9 code.
    pub code: &'static str,
    /// What was wrong, for people.
    pub detail: String,
    /// Bytes of the file from `offset` on that were not applied.
    pub not_applied_bytes: u64,
}

fn pad8(n: usize) -> usize {
    (n + 7) & !7
}

/// Bytes of a record with these key and value lengths (a multiple of 8).
pub fn record_len(key_len: usize, value_len: usize) -> usize {
    RECORD_FIXED + pad8(key_len) + pad8(value_len) + 8
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The 96 header bytes of `h`, checksum included.
pub fn encode_header(h: &StoreHeader) -> Vec<u8> {
    let mut b = vec![0u8; STORE_HEADER_SIZE];
    put64(&mut b, 0, h.magic);
    put64(&mut b, 8, FORMAT_WORD);
    for (i, w) in h.geometry.pack().into_iter().enumerate() {
        put64(&mut b, H_GEO + 8 * i, w);
    }
    put64(&mut b, H_SEG_CREATED, h.segment_created_at_ns);
    put64(&mut b, H_WRITER, h.writer);
    put64(&mut b, H_WRITER_START, h.writer_start_time);
    put64(&mut b, H_PARTICIPANT, h.participant as u64);
    put64(&mut b, H_EPOCH, h.epoch);
    put64(&mut b, H_CREATED, h.created_at_ns);
    let sum = wch64(&b[..H_CHECKSUM], JOURNAL_SEED);
    put64(&mut b, H_CHECKSUM, sum);
    b
}

/// The bytes of `r`, padding and checksum included.
pub fn encode_record(r: &Record) -> Vec<u8> {
    let n = record_len(r.key.len(), r.value.len());
    let mut b = vec![0u8; n];
    b[0..4].copy_from_slice(&(n as u32).to_le_bytes());
    b[4] = r.kind;
    b[6..8].copy_from_slice(&(r.key.len() as u16).to_le_bytes());
    put64(&mut b, 8, r.seq);
    put64(&mut b, 16, r.order);
    put64(&mut b, 24, r.version);
    put64(&mut b, 32, r.value.len() as u64 | (r.origin_tag as u64) << 32);
    put64(&mut b, 40, r.expires_at_ns);
    put64(&mut b, 48, r.stale_until_ns);
    put64(&mut b, 56, r.written_at_ns);
    put64(&mut b, 64, r.writer);
    put64(&mut b, 72, r.writer_start_time);
    b[RECORD_FIXED..RECORD_FIXED + r.key.len()].copy_from_slice(&r.key);
    let v = RECORD_FIXED + pad8(r.key.len());
    b[v..v + r.value.len()].copy_from_slice(&r.value);
    let sum = wch64(&b[..n - 8], JOURNAL_SEED);
    put64(&mut b, n - 8, sum);
    b
}

/// A file as §9 reads it: header, the applied prefix of records, the problems met.
#[derive(Clone, Debug, Default)]
pub struct StoreFile {
    /// The header, if it was valid.
    pub header: Option<StoreHeader>,
    /// The records applied, in file order, up to the first failure.
    pub records: Vec<Record>,
    /// Every failure met.
    pub problems: Vec<StoreProblem>,
    /// A snapshot that ended with its `end` record (kept apart from `records`).
    pub end: Option<Record>,
}

/// Decodes `data` (the whole file) as §9 says; `want` is the restoring geometry.
pub fn decode(file: &str, data: &[u8], want: Option<Geometry>) -> StoreFile {
    let mut f = StoreFile::default();
    let bad = |f: &mut StoreFile, off: usize, code: &'static str, detail: String| {
        f.problems.push(StoreProblem {
            file: file.to_string(),
            offset: off as u64,
            code,
            detail,
            not_applied_bytes: (data.len() - off.min(data.len())) as u64,
        });
    };
    if data.len() < STORE_HEADER_SIZE {
        bad(&mut f, 0, "not_a_journal", format!("{} bytes, shorter than the {STORE_HEADER_SIZE}-byte header", data.len()));
        return f;
    }
    let magic = get64(data, 0);
    if magic != JOURNAL_MAGIC && magic != SNAPSHOT_MAGIC {
        bad(&mut f, 0, "not_a_journal", format!("magic {magic:#018x} is neither WARMJRNL nor WARMSNAP"));
        return f;
    }
    let fw = get64(data, 8);
    if fw & 0xFFFF != 1 || fw >> 32 != STORE_HEADER_SIZE as u64 {
        bad(&mut f, 8, "unsupported_format", format!("format word {fw:#x}: major {}, header size {}", fw & 0xFFFF, fw >> 32));
        return f;
    }
    let (stored, computed) = (get64(data, H_CHECKSUM), wch64(&data[..H_CHECKSUM], JOURNAL_SEED));
    if stored != computed {
        bad(&mut f, H_CHECKSUM, "bad_header_checksum", format!("stored {stored:#018x}, computed {computed:#018x}"));
        return f;
    }
    let g = Geometry::unpack(get64(data, H_GEO), get64(data, H_GEO + 8), get64(data, H_GEO + 16));
    if let Err(e) = g.validate_for_create() {
        bad(&mut f, H_GEO, "other_geometry", format!("the file's geometry is invalid: {}", e.message));
        return f;
    }
    if let Some(w) = want {
        if g != w {
            bad(&mut f, H_GEO, "other_geometry", format!("the file's geometry {g:?} is not the restoring {w:?}"));
            return f;
        }
    }
    f.header = Some(StoreHeader {
        magic,
        geometry: g,
        segment_created_at_ns: get64(data, H_SEG_CREATED),
        writer: get64(data, H_WRITER),
        writer_start_time: get64(data, H_WRITER_START),
        participant: get64(data, H_PARTICIPANT) as u16,
        epoch: get64(data, H_EPOCH),
        created_at_ns: get64(data, H_CREATED),
    });
    let snapshot = magic == SNAPSHOT_MAGIC;
    let mut off = STORE_HEADER_SIZE;
    let mut seq = 0u64;
    while off < data.len() {
        let left = data.len() - off;
        if left < 8 {
            bad(&mut f, off, "torn_record", format!("{left} bytes left, fewer than a record's first word"));
            return f;
        }
        let n = u32::from_le_bytes(data[off..off + 4].try_into().expect("4 bytes")) as usize;
        if n < RECORD_MIN || n % 8 != 0 {
            bad(&mut f, off, "bad_record", format!("record_len {n} (a record is at least {RECORD_MIN} bytes, a multiple of 8)"));
            return f;
        }
        if n > left {
            bad(&mut f, off, "torn_record", format!("record_len {n} runs past the end of the file ({left} bytes left)"));
            return f;
        }
        let rb = &data[off..off + n];
        let (stored, computed) = (get64(rb, n - 8), wch64(&rb[..n - 8], JOURNAL_SEED));
        if stored != computed {
            bad(&mut f, off, "bad_checksum", format!("stored {stored:#018x}, computed {computed:#018x}"));
            return f;
        }
        let (kind, flags) = (rb[4], rb[5]);
        let key_len = u16::from_le_bytes([rb[6], rb[7]]) as usize;
        let vi = get64(rb, 32);
        let value_len = vi as u32 as usize;
        let problem = if !(kind == KIND_PUT || kind == KIND_DELETE || (snapshot && kind == KIND_END)) {
            Some(format!("kind {kind} is not a record kind of this file"))
        } else if flags != 0 {
            Some(format!("flags {flags:#x}, zero in format 1.0"))
        } else if kind != KIND_END && (key_len == 0 || key_len > g.key_capacity as usize) {
            Some(format!("key_len {key_len} outside 1..{}", g.key_capacity))
        } else if value_len > g.value_capacity as usize || (kind != KIND_PUT && value_len != 0) {
            Some(format!("value length {value_len} (value_capacity {}, kind {kind})", g.value_capacity))
        } else if n != record_len(key_len, value_len) {
            Some(format!("record_len {n}, the formula gives {}", record_len(key_len, value_len)))
        } else {
            None
        };
        if let Some(p) = problem {
            bad(&mut f, off, "bad_record", p);
            return f;
        }
        let v = RECORD_FIXED + pad8(key_len);
        let r = Record {
            kind,
            seq: get64(rb, 8),
            order: get64(rb, 16),
            version: get64(rb, 24),
            origin_tag: (vi >> 32) as u32,
            expires_at_ns: get64(rb, 40),
            stale_until_ns: get64(rb, 48),
            written_at_ns: get64(rb, 56),
            writer: get64(rb, 64),
            writer_start_time: get64(rb, 72),
            key: rb[RECORD_FIXED..RECORD_FIXED + key_len].to_vec(),
            value: rb[v..v + value_len].to_vec(),
        };
        if r.seq != seq + 1 {
            bad(&mut f, off, "seq_gap", format!("seq {} after {seq}", r.seq));
            return f;
        }
        seq = r.seq;
        off += n;
        if kind == KIND_END {
            f.end = Some(r);
            if off != data.len() {
                bad(&mut f, off, "bad_record", format!("{} bytes after the end record", data.len() - off));
            }
            return f;
        }
        f.records.push(r);
    }
    if snapshot && f.end.is_none() {
        bad(&mut f, off, "no_end", "the snapshot's records stop before an end record".to_string());
    }
    f
}
