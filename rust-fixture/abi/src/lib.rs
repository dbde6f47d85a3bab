//! C ABI of the Rust implementation's pure protocol functions (docs/ABI.md is the contract;
//! abi/manifest.json declares the symbols for warmcheck's libffi caller).
//!
//! Images passed here are the caller's private copies, never a shared mapping: forming slices
//! over them is sound, unlike over a live segment (the crate itself never does that). Every
//! function composes the crate's own pieces (Layout::from_header, Word::decode, snapshot_ok,
//! classify, wch64, choose_auto_version) in the order of segment::open and Cache::get_pass, so
//! a divergence found through this ABI is a divergence of the implementation.

use std::slice;
use warmcache::hash::{wch64, HEADER_SEED, KEY_SEED, VALUE_SEED};
use warmcache::layout::*;
use warmcache::ops::put::choose_auto_version;
use warmcache::ops::{classify, Freshness};
use warmcache::state::{snapshot_ok, State, Word};

mod constants;

/// §15 open codes as ABI integers (docs/ABI.md "Error codes").
const TOO_SHORT: i32 = 5;
const BAD_MAGIC: i32 = 6;
const UNSUPPORTED_MAJOR: i32 = 7;
const NOT_READY: i32 = 8;
const BAD_HEADER_CHECKSUM: i32 = 9;
const UNSUPPORTED_FEATURES: i32 = 10;
const LAYOUT_MISMATCH: i32 = 11;
const BAD_GEOMETRY: i32 = 12;
const TRUNCATED: i32 = 13;

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
/// As for `bytes`, writable.
unsafe fn bytes_mut<'a>(p: *mut u8, len: u64) -> &'a mut [u8] {
    if len == 0 || p.is_null() {
        &mut []
    } else {
        slice::from_raw_parts_mut(p, len as usize)
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

fn word(b: &[u8], off: u64) -> u64 {
    let o = off as usize;
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn put_word(b: &mut [u8], off: u64, v: u64) {
    let o = off as usize;
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
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

/// §4.2 steps 3–11 on an image (`len` plays the file size): the order of segment::open.
fn header_check(b: &[u8]) -> Result<Layout, (i32, i32)> {
    if (b.len() as u64) < HEADER_SIZE {
        return Err((TOO_SHORT, 0));
    }
    let w = |off| word(b, off);
    if w(HDR_MAGIC) != MAGIC {
        return Err((BAD_MAGIC, 0));
    }
    if w(HDR_VERSION) & 0xFFFF != PROTOCOL_MAJOR {
        return Err((UNSUPPORTED_MAJOR, 0));
    }
    if w(HDR_READY) != READY {
        return Err((NOT_READY, 0));
    }
    if w(HDR_HEADER_CHECKSUM) != wch64(&b[..HDR_CHECKSUMMED_LEN as usize], HEADER_SEED) {
        return Err((BAD_HEADER_CHECKSUM, 0));
    }
    if w(HDR_FEATURES_INCOMPAT) & !KNOWN_INCOMPAT_FEATURES != 0 {
        return Err((UNSUPPORTED_FEATURES, 0));
    }
    // Step 9 also covers the header size the version word declares (as segment::open does).
    if w(HDR_LAYOUT_FINGERPRINT) != LAYOUT_FINGERPRINT || w(HDR_VERSION) >> 32 != HEADER_SIZE {
        return Err((LAYOUT_MISMATCH, 0));
    }
    let g = Geometry::unpack(w(HDR_GEOMETRY_SHARDS), w(HDR_GEOMETRY_SIZES), w(HDR_GEOMETRY_LIMITS));
    let layout = Layout::from_header(
        g,
        w(HDR_SLOT_SIZE),
        w(HDR_PARTICIPANTS_OFFSET),
        w(HDR_SHARDS_OFFSET),
        w(HDR_SHARD_SIZE),
        w(HDR_TOTAL_LEN),
    )
    .map_err(|e| (BAD_GEOMETRY, rule_of(&e.message)))?;
    if (b.len() as u64) < layout.total_len {
        return Err((TRUNCATED, 0));
    }
    Ok(layout)
}

/// # Safety
/// `image` points to `len` readable bytes; `rule_out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn wc_header_check(image: *const u8, len: u64, rule_out: *mut i32) -> i32 {
    let (code, rule) = match header_check(bytes(image, len)) {
        Ok(_) => (0, 0),
        Err(e) => e,
    };
    if !rule_out.is_null() {
        *rule_out = rule;
    }
    code
}

fn key_words_equal(b: &[u8], key_off: u64, key: &[u8]) -> bool {
    b[key_off as usize..key_off as usize + key.len()] == *key
}

/// One get (§9.2) over a static image, in the order of Cache::get_pass: with nobody writing,
/// s1 == s2, so the snapshot test always passes and one pass decides. A stale hit of a READY
/// slot makes T7 (written into the image, as the reader's CAS would).
fn get(b: &mut [u8], l: &Layout, key: &[u8], now: u64, o: &mut [u64]) -> i32 {
    let outcome = read(b, l, key, now, o);
    if outcome != FRESH && outcome != STALE {
        // docs/ABI.md: out is (UINT64_MAX, 0, ...) unless the get is a hit.
        o.iter_mut().for_each(|x| *x = 0);
        set(o, 0, u64::MAX);
    }
    outcome
}

fn read(b: &mut [u8], l: &Layout, key: &[u8], now: u64, o: &mut [u64]) -> i32 {
    let g = l.geometry;
    set(o, 0, u64::MAX);
    if key.is_empty() || key.len() > g.key_capacity as usize {
        return MISS;
    }
    let h = wch64(key, KEY_SEED);
    let shard = ((h >> 32) % g.shard_count as u64) as u32;
    let home = ((h & 0xFFFF_FFFF) % g.slots_per_shard as u64) as u32;
    for k in 0..g.probe_window {
        let slot = (home + k) % g.slots_per_shard;
        let off = l.slot_offset(shard, slot);
        let s1 = Word(word(b, off + SLOT_STATE));
        let Some(d1) = s1.decode(g.participant_capacity) else { continue };
        if !d1.state.is_readable() {
            continue;
        }
        if word(b, off + SLOT_KEY_HASH) != h || word(b, off + SLOT_KEY_LEN) != key.len() as u64 {
            continue;
        }
        if !key_words_equal(b, off + SLOT_KEY, key) {
            continue;
        }
        let rec = l.record_offset(off, d1.active);
        let hdr: Vec<u64> = (0..8).map(|i| word(b, rec + 8 * i)).collect();
        let value_len = hdr[1] & 0xFFFF_FFFF;
        set(o, 0, shard as u64 * g.slots_per_shard as u64 + slot as u64);
        for (i, v) in hdr.iter().enumerate() {
            set(o, 1 + i, *v);
        }
        if value_len > g.value_capacity as u64 {
            return CORRUPT;
        }
        let start = (rec + REC_VALUE) as usize;
        // Version 0 breaks invariant 2 like a bad checksum (PROTOCOL.md §13.1), as in get_pass.
        if hdr[0] == 0 || wch64(&b[start..start + value_len as usize], VALUE_SEED) != hdr[2] {
            return CORRUPT;
        }
        let fresh = if hdr[3] == 0 { Freshness::Fresh } else { classify(hdr[3], hdr[4], now) };
        return match fresh {
            Freshness::Expired => MISS,
            // Freshness by time alone (§13.1): a STALE slot whose record is not expired is fresh.
            Freshness::Fresh => FRESH,
            Freshness::Stale => {
                if d1.state == State::Ready {
                    put_word(b, off + SLOT_STATE, s1.next(State::Stale, d1.active, 0).0);
                }
                STALE
            }
        };
    }
    MISS
}

/// # Safety
/// `image` points to `len` writable bytes, `key` to `key_len` readable bytes, `out9` to 9
/// writable u64s or null.
#[no_mangle]
pub unsafe extern "C" fn wc_get(image: *mut u8, len: u64, key: *const u8, key_len: u64, now: u64, out9: *mut u64) -> i32 {
    let b = bytes_mut(image, len);
    let o = out(out9, 9);
    o.iter_mut().for_each(|x| *x = 0);
    match header_check(b) {
        Ok(l) => get(b, &l, bytes(key, key_len), now, o),
        Err(_) => BAD_IMAGE,
    }
}

/// # Safety
/// `image` points to `len` writable bytes, `out8` to 8 writable u64s or null.
#[no_mangle]
pub unsafe extern "C" fn wc_decode_image(image: *mut u8, len: u64, now: u64, out8: *mut u64) -> i32 {
    let b = bytes_mut(image, len);
    let o = out(out8, 8);
    o.iter_mut().for_each(|x| *x = 0);
    let l = match header_check(b) {
        Ok(l) => l,
        Err((code, rule)) => {
            set(o, 0, rule as u64);
            return code;
        }
    };
    let g = l.geometry;
    let mut digest = Vec::new();
    let mut counts = [0u64; 5];
    let mut fields = [0u64; 9];
    for shard in 0..g.shard_count {
        for slot in 0..g.slots_per_shard {
            let off = l.slot_offset(shard, slot);
            let klen = word(b, off + SLOT_KEY_LEN) & 0xFFFF_FFFF;
            if klen == 0 || klen > g.key_capacity as u64 {
                continue;
            }
            let start = (off + SLOT_KEY) as usize;
            let key = b[start..start + klen as usize].to_vec();
            let outcome = get(b, &l, &key, now, &mut fields);
            counts[0] += 1;
            counts[1 + outcome as usize] += 1;
            let index = shard as u64 * g.slots_per_shard as u64 + slot as u64;
            for v in [index, outcome as u64, fields[1], fields[0]] {
                digest.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    for (i, c) in counts.iter().enumerate() {
        set(o, 1 + i, *c);
    }
    set(o, 6, wch64(&digest, 0));
    0
}
