//! C ABI of the Rust implementation's pure protocol functions (docs/ABI.md is the contract;
//! abi/manifest.json declares the symbols for warmcheck's libffi caller).
//!
//! Every function is the crate's own code: the image functions run `Cache::over_image`, the
//! crate's §4.2 checks and its reader over the caller's buffer (accessed, like a mapping, only
//! through the crate's atomics), so a divergence found through this ABI is a divergence of the
//! implementation, and there is no second reader here to fall behind the crate's. Only the
//! pure functions' small inputs (`wc_wch64`'s bytes, `wc_get`'s key) are viewed as slices:
//! they are never images.

use std::slice;
use warmcache::hash::{value_checksum, wch64};
use warmcache::layout::*;
use warmcache::ops::put::choose_auto_version;
use warmcache::ops::{classify, Freshness};
use warmcache::state::{snapshot_ok, State, Word};
use warmcache::{Cache, OpenError, OpenErrorKind};

mod constants;

/// Get outcomes (docs/ABI.md "wc_get").
const MISS: i32 = 0;
const FRESH: i32 = 1;
const STALE: i32 = 2;
const CORRUPT: i32 = 3;
const BAD_IMAGE: i32 = -1;

/// # Safety
/// `p` must point to `len` readable bytes (or be anything when `len` is 0).
unsafe fn bytes<'a>(p: *const u8, len: u64) -> &'a [u8] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        slice::from_raw_parts(p, len as usize)
    }
}

/// # Safety
/// `p` must point to `n` writable u64s, or be null (then nothing is written).
unsafe fn out<'a>(p: *mut u64, n: usize) -> &'a mut [u64] {
    if p.is_null() {
        &mut []
    } else {
        slice::from_raw_parts_mut(p, n)
    }
}

fn set(o: &mut [u64], i: usize, v: u64) {
    if let Some(x) = o.get_mut(i) {
        *x = v;
    }
}

fn geometry(g: [u32; 6]) -> Geometry {
    Geometry {
        shard_count: g[0],
        slots_per_shard: g[1],
        key_capacity: g[2],
        value_capacity: g[3],
        probe_window: g[4],
        participant_capacity: g[5],
    }
}

/// "rule N violated: ..." → N (the crate's messages carry the rule number of §3's table).
fn rule_of(message: &str) -> i32 {
    let rest = message.split("rule ").nth(1).unwrap_or("");
    rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|d| d.parse().ok()).unwrap_or(0)
}

#[no_mangle]
pub extern "C" fn wc_abi_version() -> u64 {
    1
}

/// # Safety
/// `bytes` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wc_wch64(bytes_ptr: *const u8, len: u64, seed: u64) -> u64 {
    wch64(bytes(bytes_ptr, len), seed)
}

#[no_mangle]
pub extern "C" fn wc_state_encode(state: u32, active: u32, owner: u32, seq: u32) -> u64 {
    match State::from_code(state as u64) {
        Some(s) if active <= 1 && owner <= 0xFFFF => Word::make(s, active, owner as u16, seq).0,
        _ => u64::MAX,
    }
}

/// # Safety
/// `out4` points to 4 writable u64s or is null.
#[no_mangle]
pub unsafe extern "C" fn wc_state_decode(w: u64, participant_capacity: u32, out4: *mut u64) -> i32 {
    let o = out(out4, 4);
    let word = Word(w);
    set(o, 0, w & 0xFF);
    set(o, 1, word.active() as u64);
    set(o, 2, word.owner() as u64);
    set(o, 3, word.seq() as u64);
    match word.decode(participant_capacity) {
        Some(d) => d.state as i32,
        None => -1,
    }
}

#[no_mangle]
pub extern "C" fn wc_snapshot_ok(s1: u64, s2: u64, participant_capacity: u32) -> i32 {
    snapshot_ok(Word(s1), Word(s2), participant_capacity) as i32
}

#[no_mangle]
pub extern "C" fn wc_geometry_rule(sc: u32, sps: u32, kc: u32, vc: u32, pw: u32, pc: u32) -> i32 {
    match geometry([sc, sps, kc, vc, pw, pc]).validate_for_create() {
        Ok(_) => 0,
        Err(e) => rule_of(&e.message),
    }
}

/// # Safety
/// `out6` points to 6 writable u64s or is null.
#[no_mangle]
pub unsafe extern "C" fn wc_layout(sc: u32, sps: u32, kc: u32, vc: u32, pw: u32, pc: u32, out6: *mut u64) -> i32 {
    let d = geometry([sc, sps, kc, vc, pw, pc]).derive();
    let o = out(out6, 6);
    for (i, v) in [d.record_size, d.slot_size, d.participants_offset, d.shards_offset, d.shard_size].into_iter().enumerate() {
        set(o, i, v);
    }
    set(o, 5, d.total_len.unwrap_or(0));
    d.total_len.is_some() as i32
}

#[no_mangle]
pub extern "C" fn wc_expiry(expires_at_ns: u64, stale_until_ns: u64, now: u64) -> i32 {
    match classify(expires_at_ns, stale_until_ns, now) {
        Freshness::Fresh => 0,
        Freshness::Stale => 1,
        Freshness::Expired => 2,
    }
}

#[no_mangle]
pub extern "C" fn wc_auto_version(version_clock_before: u64, current: u64) -> u64 {
    choose_auto_version(version_clock_before, current)
}

#[no_mangle]
pub extern "C" fn wc_layout_constant(index: u32) -> u64 {
    constants::TABLE.get(index as usize).copied().unwrap_or(u64::MAX)
}

/// §15 open kinds as ABI integers (docs/ABI.md "Error codes": the spec's list from 1).
fn code(e: &OpenError) -> (i32, i32) {
    use OpenErrorKind::*;
    let n = match e.kind {
        NotFound => 1,
        Symlink => 2,
        NotRegularFile => 3,
        ForeignOwner => 4,
        TooShort => 5,
        BadMagic => 6,
        UnsupportedMajor => 7,
        NotReady => 8,
        BadHeaderChecksum => 9,
        UnsupportedFeatures => 10,
        LayoutMismatch => 11,
        BadGeometry => 12,
        Truncated => 13,
        NoSpace => 14,
        Exists => 15,
        ParticipantsFull => 16,
        Io => 17,
        Sparse => 18,
    };
    (n, if e.kind == BadGeometry { rule_of(&e.message) } else { 0 })
}

/// Runs `f` on the crate's handle over the image (`Cache::over_image`: §4.2's checks are the
/// crate's `open` checks, and `get` is the crate's reader, so this ABI holds no second copy of
/// either). The crate accesses the image only through its atomics and never forms references
/// to it, which is why it needs 8-byte alignment: a caller's buffer that is not aligned is read
/// from (and its writes copied back to) an aligned private copy.
///
/// # Safety
/// `image` points to `len` readable and writable bytes, not accessed by anyone else during the
/// call (docs/ABI.md: images are the caller's private copies, borrowed for the call).
unsafe fn with_image<T>(image: *mut u8, len: u64, f: impl FnOnce(&Cache) -> T) -> Result<T, OpenError> {
    if image as usize % 8 == 0 && !image.is_null() {
        let cache = Cache::over_image(image, len)?;
        return Ok(f(&cache));
    }
    let mut copy = aligned_copy(image, len);
    let dst = copy.as_mut_ptr() as *mut u8;
    let result = {
        let cache = Cache::over_image(dst, len)?;
        f(&cache)
    };
    if len > 0 {
        std::ptr::copy_nonoverlapping(dst, image, len as usize);
    }
    Ok(result)
}

/// `len` bytes from `p` in 8-byte-aligned private memory (whole words, zero-padded).
///
/// # Safety
/// `p` points to `len` readable bytes (or anything when `len` is 0).
unsafe fn aligned_copy(p: *const u8, len: u64) -> Vec<u64> {
    let mut copy = vec![0u64; (len as usize).div_ceil(8).max(1)];
    if len > 0 && !p.is_null() {
        std::ptr::copy_nonoverlapping(p, copy.as_mut_ptr() as *mut u8, len as usize);
    }
    copy
}

/// # Safety
/// `image` points to `len` readable bytes; `rule_out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn wc_header_check(image: *const u8, len: u64, rule_out: *mut i32) -> i32 {
    // The check only reads, but the crate's handle wants memory it may access atomically for
    // reading and writing; `image` is const, so the checks run on a private aligned copy.
    let mut copy = aligned_copy(image, len);
    let (code, rule) = match Cache::over_image(copy.as_mut_ptr() as *mut u8, len) {
        Ok(_) => (0, 0),
        Err(e) => code(&e),
    };
    if !rule_out.is_null() {
        *rule_out = rule;
    }
    code
}

/// One get (§9.2) by the crate's reader at time `now`; `o` as docs/ABI.md "wc_get".
fn get(cache: &Cache, key: &[u8], now: u64, o: &mut [u64]) -> i32 {
    o.iter_mut().for_each(|x| *x = 0);
    set(o, 0, u64::MAX);
    // The image's clock is its sim_clock_ns (Cache::over_image): the reader's `now`.
    let _ = cache.set_sim_clock(now);
    let corrupt_before = cache.corrupt_count();
    let lookup = cache.get(key);
    let Some(hit) = lookup.hit() else {
        return if cache.corrupt_count() != corrupt_before { CORRUPT } else { MISS };
    };
    let i = hit.info;
    let g = cache.geometry();
    let fields = [
        i.shard as u64 * g.slots_per_shard as u64 + i.slot as u64,
        i.version,
        hit.value.len() as u64 | (i.origin_tag as u64) << 32,
        // The record's checksum: WCH64X4 on a FAST_CHECKSUM image (PROTOCOL.md §2).
        value_checksum(&hit.value, cache.header_info().features_incompat & FEATURE_FAST_CHECKSUM != 0),
        i.expires_at_ns,
        i.stale_until_ns,
        i.written_at_ns,
        i.provenance.writer_word(),
        i.provenance.start_time,
    ];
    for (k, v) in fields.into_iter().enumerate() {
        set(o, k, v);
    }
    if i.stale {
        STALE
    } else {
        FRESH
    }
}

/// # Safety
/// `image` points to `len` writable bytes, `key` to `key_len` readable bytes, `out9` to 9
/// writable u64s or null.
#[no_mangle]
pub unsafe extern "C" fn wc_get(image: *mut u8, len: u64, key: *const u8, key_len: u64, now: u64, out9: *mut u64) -> i32 {
    let o = out(out9, 9);
    o.iter_mut().for_each(|x| *x = 0);
    let key = bytes(key, key_len);
    with_image(image, len, |cache| get(cache, key, now, o)).unwrap_or(BAD_IMAGE)
}

/// # Safety
/// `image` points to `len` writable bytes, `out8` to 8 writable u64s or null.
#[no_mangle]
pub unsafe extern "C" fn wc_decode_image(image: *mut u8, len: u64, now: u64, out8: *mut u64) -> i32 {
    let o = out(out8, 8);
    o.iter_mut().for_each(|x| *x = 0);
    let decoded = with_image(image, len, |cache| {
        let g = cache.geometry();
        let mut digest = Vec::new();
        let mut counts = [0u64; 5];
        let mut fields = [0u64; 9];
        for shard in 0..g.shard_count {
            for slot in 0..g.slots_per_shard {
                let Some(key) = cache.stored_key(shard, slot) else { continue };
                let outcome = get(cache, &key, now, &mut fields);
                counts[0] += 1;
                counts[1 + outcome as usize] += 1;
                let index = shard as u64 * g.slots_per_shard as u64 + slot as u64;
                for v in [index, outcome as u64, fields[1], fields[0]] {
                    digest.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        (counts, wch64(&digest, 0))
    });
    match decoded {
        Ok((counts, digest)) => {
            for (i, c) in counts.iter().enumerate() {
                set(o, 1 + i, *c);
            }
            set(o, 6, digest);
            0
        }
        Err(e) => {
            let (code, rule) = code(&e);
            set(o, 0, rule as u64);
            code
        }
    }
}

/// PERSISTENCE.md §9's codes in the order of its table (docs/ABI.md "wc_decode_journal").
const STORE_CODES: [&str; 9] = [
    "not_a_journal", "unsupported_format", "bad_header_checksum", "other_geometry",
    "torn_record", "bad_record", "bad_checksum", "seq_gap", "no_end",
];

/// One accepted record chained into the digest (docs/ABI.md): its fields and the WCH64 (seed 0)
/// of its key and value as 13 little-endian words, hashed with the digest so far as the seed.
fn journal_record_digest(d: u64, r: &warmcache::durable::format::Record) -> u64 {
    let mut w = Vec::with_capacity(13 * 8);
    for v in [
        r.kind as u64, r.seq, r.order, r.version, r.value.len() as u64 | (r.origin_tag as u64) << 32,
        r.expires_at_ns, r.stale_until_ns, r.written_at_ns, r.writer, r.writer_start_time,
        r.key.len() as u64, wch64(&r.key, 0), wch64(&r.value, 0),
    ] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    wch64(&w, d)
}

/// A journal or snapshot file's bytes decoded by the crate's own §9 reader, the one restore
/// uses. A journal is a file read into private memory, never a shared mapping, so unlike an
/// image it is viewed as a slice.
///
/// # Safety
/// `image` points to `len` readable bytes, `out8` to 8 writable u64s or null.
#[no_mangle]
pub unsafe extern "C" fn wc_decode_journal(image: *const u8, len: u64, shards: u64, sizes: u64, limits: u64, out8: *mut u64) -> i32 {
    let o = out(out8, 8);
    o.iter_mut().for_each(|x| *x = 0);
    let data = bytes(image, len);
    let want = (shards != 0 || sizes != 0 || limits != 0).then(|| Geometry::unpack(shards, sizes, limits));
    let f = warmcache::durable::format::decode("image", data, want);
    let mut code = 0;
    set(o, 0, len);
    if let Some(p) = f.problems.first() {
        code = STORE_CODES.iter().position(|c| *c == p.code).map_or(-1, |i| i as i32 + 1);
        set(o, 0, if code >= 5 { p.offset } else { 0 });
    }
    let mut d = 0u64;
    let mut tombstones = 0u64;
    for r in &f.records {
        if r.kind == warmcache::durable::format::KIND_DELETE {
            tombstones += 1;
        }
        d = journal_record_digest(d, r);
    }
    set(o, 1, f.records.len() as u64);
    set(o, 2, tombstones);
    set(o, 3, d);
    if let Some(h) = f.header {
        set(o, 4, if h.magic == warmcache::durable::format::SNAPSHOT_MAGIC { 2 } else { 1 });
    }
    if let Some(e) = &f.end {
        set(o, 5, 1);
        set(o, 6, e.order);
        set(o, 7, e.version);
    }
    code
}
