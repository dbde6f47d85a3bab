//! Bad files and garbage in slots (PROTOCOL.md §4.2, §13): always a typed error, a miss or a
//! reported problem — never a panic or an out-of-bounds access.

mod common;
use common::*;
use std::os::unix::fs::FileExt;
use warmcache::layout::*;
use warmcache::{Cache, CreateOptions, Geometry, OpenErrorKind, PutOptions};

fn open_err(p: &TmpPath) -> OpenErrorKind {
    let e = Cache::open(p.path(), quick()).unwrap_err();
    assert!(!e.message.is_empty());
    assert!(e.to_string().starts_with(e.code()));
    e.kind
}

/// A valid segment file with no handle open.
fn segment(name: &str) -> TmpPath {
    let p = TmpPath::new(name);
    drop(create(&p, small()));
    p
}

#[test]
fn not_found_and_symlink_and_not_regular() {
    let p = TmpPath::new("missing");
    assert_eq!(open_err(&p), OpenErrorKind::NotFound);

    let target = segment("target");
    let link = TmpPath::new("link");
    std::os::unix::fs::symlink(target.path(), link.path()).unwrap();
    assert_eq!(open_err(&link), OpenErrorKind::Symlink);

    let fifo = TmpPath::new("fifo");
    let c = std::ffi::CString::new(fifo.path().to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert_eq!(open_err(&fifo), OpenErrorKind::NotRegularFile);

    // A directory cannot be opened O_RDWR at all (EISDIR): `io` naming the errno.
    let dir = TmpPath::new("dir");
    std::fs::create_dir(dir.path()).unwrap();
    let e = Cache::open(dir.path(), quick()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::Io);
    assert!(e.message.contains("EISDIR"), "{}", e.message);
}

#[test]
fn foreign_owner() {
    let p = segment("foreign");
    let c = std::ffi::CString::new(p.path().to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0, "tests run as root");
    assert_eq!(open_err(&p), OpenErrorKind::ForeignOwner);
}

#[test]
fn too_short_and_bad_magic() {
    let p = TmpPath::new("short");
    std::fs::write(p.path(), [0u8; 100]).unwrap();
    assert_eq!(open_err(&p), OpenErrorKind::TooShort);
    std::fs::write(p.path(), b"").unwrap();
    assert_eq!(open_err(&p), OpenErrorKind::TooShort);
    std::fs::write(p.path(), vec![0u8; 4096]).unwrap();
    assert_eq!(open_err(&p), OpenErrorKind::BadMagic);
    std::fs::write(p.path(), vec![0x5Au8; 8192]).unwrap();
    assert_eq!(open_err(&p), OpenErrorKind::BadMagic);
    let s = segment("magic");
    poke(s.path(), HDR_MAGIC, 0x484341434D524158);
    assert_eq!(open_err(&s), OpenErrorKind::BadMagic);
}

#[test]
fn unsupported_major_is_checked_before_checksum() {
    let p = segment("major");
    poke(p.path(), HDR_VERSION, 2 | 4096 << 32);
    assert_eq!(open_err(&p), OpenErrorKind::UnsupportedMajor);
    // A newer minor of major 1 is accepted (with a correct checksum).
    poke(p.path(), HDR_VERSION, 1 | 7 << 16 | 4096 << 32);
    fix_checksum(p.path());
    let c = Cache::open(p.path(), quick()).unwrap();
    assert_eq!(c.header_info().minor, 7);
}

#[test]
fn not_ready() {
    let p = segment("ready");
    poke(p.path(), HDR_READY, 0);
    assert_eq!(open_err(&p), OpenErrorKind::NotReady);
}

#[test]
fn bad_header_checksum() {
    let p = segment("checksum");
    poke(p.path(), HDR_CREATOR_PID, 1);
    assert_eq!(open_err(&p), OpenErrorKind::BadHeaderChecksum);
}

#[test]
fn unsupported_features_and_compat_bits() {
    let p = segment("features");
    poke(p.path(), HDR_FEATURES_INCOMPAT, 1 << 5);
    fix_checksum(p.path());
    assert_eq!(open_err(&p), OpenErrorKind::UnsupportedFeatures);
    // features_compat: any value is accepted.
    poke(p.path(), HDR_FEATURES_INCOMPAT, 0);
    poke(p.path(), HDR_FEATURES_COMPAT, u64::MAX);
    fix_checksum(p.path());
    assert!(Cache::open(p.path(), quick()).is_ok());
}

#[test]
fn layout_mismatch() {
    let p = segment("layout");
    poke(p.path(), HDR_LAYOUT_FINGERPRINT, 0x0808040808010841);
    fix_checksum(p.path());
    assert_eq!(open_err(&p), OpenErrorKind::LayoutMismatch);
}

#[test]
fn bad_geometry_in_header() {
    type Patch = Box<dyn Fn(u64) -> u64>;
    let cases: Vec<(u64, Patch, &str)> = vec![
        (HDR_GEOMETRY_SHARDS, Box::new(|w| w & !0xFFFF_FFFF), "rule 1"),
        (HDR_GEOMETRY_SHARDS, Box::new(|w| w & 0xFFFF_FFFF), "rule 2"),
        (HDR_GEOMETRY_SIZES, Box::new(|w| (w & !0xFFFF_FFFF) | 33), "rule 3"),
        (HDR_GEOMETRY_SIZES, Box::new(|w| (w & 0xFFFF_FFFF) | (2u64 << 20) << 32), "rule 4"),
        (HDR_GEOMETRY_LIMITS, Box::new(|w| (w & !0xFFFF_FFFF) | 17), "rule 5"),
        (HDR_GEOMETRY_LIMITS, Box::new(|w| w & 0xFFFF_FFFF), "rule 6"),
        (HDR_SLOT_SIZE, Box::new(|w| w + 64), "rule 7"),
        (HDR_SHARDS_OFFSET, Box::new(|_| 4096), "rule 7"),
        (HDR_TOTAL_LEN, Box::new(|w| w - 1), "rule 8"),
    ];
    for (off, f, rule) in cases {
        let p = segment("geometry");
        poke(p.path(), off, f(peek(p.path(), off)));
        fix_checksum(p.path());
        let e = Cache::open(p.path(), quick()).unwrap_err();
        assert_eq!(e.kind, OpenErrorKind::BadGeometry, "{rule}: {e}");
        assert!(e.message.contains(rule), "expected {rule}: {}", e.message);
    }
    // Creating with a bad geometry is refused the same way.
    let p = TmpPath::new("badcreate");
    let e = Cache::create(p.path(), Geometry { probe_window: 0, ..small() }, CreateOptions::default()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::BadGeometry);
    assert!(!p.path().exists());
}

#[test]
fn truncated() {
    let p = segment("truncated");
    let f = std::fs::OpenOptions::new().write(true).open(p.path()).unwrap();
    f.set_len(8192).unwrap();
    let e = Cache::open(p.path(), quick()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::Truncated);
    assert!(e.message.contains("8192") && e.message.contains("58368"), "{}", e.message);
}

#[test]
fn check_order_first_failure_wins() {
    // Wrong magic and wrong checksum and bad geometry: bad_magic is reported.
    let p = segment("order");
    poke(p.path(), HDR_MAGIC, 1);
    poke(p.path(), HDR_GEOMETRY_SHARDS, 0);
    assert_eq!(open_err(&p), OpenErrorKind::BadMagic);
    // Not ready and bad checksum: not_ready comes first.
    let p = segment("order2");
    poke(p.path(), HDR_READY, 0);
    poke(p.path(), HDR_CREATOR_PID, 1);
    assert_eq!(open_err(&p), OpenErrorKind::NotReady);
    // Unknown feature and layout mismatch: features first (bit 2: bit 1 is FAST_CHECKSUM since 1.1).
    let p = segment("order3");
    poke(p.path(), HDR_FEATURES_INCOMPAT, 4);
    poke(p.path(), HDR_LAYOUT_FINGERPRINT, 0);
    fix_checksum(p.path());
    assert_eq!(open_err(&p), OpenErrorKind::UnsupportedFeatures);
}

/// A live segment with one entry; returns the handle, the key's slot offset and its record's.
fn planted(name: &str) -> (TmpPath, Cache, u64, u64) {
    let p = TmpPath::new(name);
    let c = create(&p, small());
    let out = c.put(b"victim", b"some value", PutOptions::default()).unwrap();
    let l = *c.layout();
    let slot = l.slot_offset(out.shard, out.slot);
    let state = peek(p.path(), slot);
    let rec = l.record_offset(slot, ((state >> 8) & 1) as u32);
    (p, c, slot, rec)
}

fn assert_miss_and_problem(c: &Cache, what: &str) {
    assert!(!c.get(b"victim").is_hit(), "{what}: garbage must read as a miss");
    let d = c.dump();
    assert!(d.entries.iter().all(|e| e.key != b"victim"), "{what}");
    assert!(!d.problems.is_empty(), "{what}: dump must report it");
    let _ = c.stats();
}

#[test]
fn value_len_past_capacity() {
    let (p, c, _slot, rec) = planted("vlen");
    poke(p.path(), rec + REC_VALUE_INFO, 0xFFFF_FFFF);
    assert_miss_and_problem(&c, "value_len");
    assert!(c.corrupt_count() >= 1);
}

#[test]
fn bad_value_checksum() {
    let (p, c, _slot, rec) = planted("vsum");
    poke(p.path(), rec + REC_CHECKSUM, 12345);
    assert_miss_and_problem(&c, "checksum");
    // The value bytes themselves changed: same.
    let (p2, c2, _s, rec2) = planted("vbytes");
    poke(p2.path(), rec2 + REC_VALUE, 0x4141414141414141);
    assert_miss_and_problem(&c2, "value bytes");
    drop(p);
}

#[test]
fn key_len_past_capacity() {
    let (p, c, slot, _rec) = planted("klen");
    poke(p.path(), slot + SLOT_KEY_LEN, 1 << 40 | 6);
    assert_miss_and_problem(&c, "key_len high bits");
    poke(p.path(), slot + SLOT_KEY_LEN, 4000);
    assert_miss_and_problem(&c, "key_len");
}

#[test]
fn impossible_state_words() {
    for (i, bad) in [9u64, 2 | 1 << 9, 1, 3 | 999 << 16, 2 | 3 << 16].into_iter().enumerate() {
        let (p, c, slot, _rec) = planted(&format!("state{i}"));
        poke(p.path(), slot, bad);
        assert_miss_and_problem(&c, &format!("state word {bad:#x}"));
        assert_eq!(c.stats().totals.occupancy.impossible, 1);
        // Writers leave the slot alone and place the key elsewhere in its window.
        c.put(b"victim", b"again", PutOptions::default()).unwrap();
        assert_eq!(c.get(b"victim").hit().unwrap().value, b"again");
        assert_eq!(peek(p.path(), slot), bad);
        assert!(c.invalidate(b"victim").unwrap());
    }
}

#[test]
fn garbage_everywhere_never_panics() {
    let p = TmpPath::new("garbage");
    let c = create(&p, small());
    for i in 0..40u8 {
        c.put(&[b'k', i], &[i; 40], PutOptions::default()).unwrap();
    }
    // Overwrite every slot area with a pseudo-random pattern through the file.
    let l = *c.layout();
    let f = std::fs::OpenOptions::new().write(true).open(p.path()).unwrap();
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut buf = vec![0u8; (l.total_len - l.shards_offset) as usize];
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Keep some structure so that decoders go deep: small states, small lengths.
        let v = match x % 4 {
            0 => x % 8,
            1 => x % 300,
            _ => x,
        };
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    f.write_all_at(&buf, l.shards_offset).unwrap();
    for i in 0..40u8 {
        let _ = c.get(&[b'k', i]);
        let _ = c.invalidate(&[b'k', i]);
        let _ = c.put(&[b'k', i], b"v", PutOptions::default());
        let _ = c.evict(&[b'k', i]);
    }
    let d = c.dump();
    assert!(!d.problems.is_empty());
    let _ = c.stats();
}

/// `no_space`: a tmpfs too small for the segment. Needs root (mount); skipped otherwise.
#[test]
fn no_space_on_a_full_tmpfs() {
    let dir = format!("/tmp/wc-test-{}-nospace", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs", &dir])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping no_space test: cannot mount a tmpfs here");
        let _ = std::fs::remove_dir(&dir);
        return;
    }
    let path = format!("{dir}/big.wc");
    let e = Cache::create(&path, Geometry::default(), CreateOptions::default()).unwrap_err();
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    let _ = std::process::Command::new("umount").arg(&dir).status();
    let _ = std::fs::remove_dir(&dir);
    assert_eq!(e.kind, OpenErrorKind::NoSpace, "{e}");
    assert_eq!(leftovers, 0, "the private init file must be removed");
}

/// §4.2 step 11, second half: the same length with a hole (the header page rewritten into a
/// fresh file sized by `set_len`) is `sparse`; the length test of the same step wins over it.
#[test]
fn sparse() {
    let p = segment("sparse");
    let mut hdr = vec![0u8; HEADER_SIZE as usize];
    std::fs::File::open(p.path()).unwrap().read_exact_at(&mut hdr, 0).unwrap();
    let total = std::fs::metadata(p.path()).unwrap().len();
    std::fs::remove_file(p.path()).unwrap();
    std::fs::write(p.path(), &hdr).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(p.path()).unwrap();
    f.set_len(total).unwrap();
    let e = Cache::open(p.path(), quick()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::Sparse, "{e}");
    assert!(e.message.contains(&total.to_string()), "{}", e.message);
    f.set_len(total - 1).unwrap();
    assert_eq!(open_err(&p), OpenErrorKind::Truncated);
}

/// Geometry rule 9, the reader's size bound (§13.2): decided on the header alone, so a 4096-byte
/// file declaring ~2^40 bytes is `bad_geometry` rule 9, not `truncated`; the bound is
/// configurable both ways.
#[test]
fn size_bound() {
    let p = segment("bound");
    let mut g = Geometry { shard_count: 65536, slots_per_shard: 65536, key_capacity: 8, value_capacity: 8, probe_window: 8, participant_capacity: 1 };
    let l = loop {
        match g.validate_for_create() {
            Ok(l) => break l,
            Err(_) => g.slots_per_shard /= 2,
        }
    };
    let f = std::fs::OpenOptions::new().read(true).write(true).open(p.path()).unwrap();
    f.set_len(HEADER_SIZE).unwrap();
    let [s, z, lim] = g.pack();
    for (off, v) in [(HDR_GEOMETRY_SHARDS, s), (HDR_GEOMETRY_SIZES, z), (HDR_GEOMETRY_LIMITS, lim), (HDR_SLOT_SIZE, l.slot_size),
        (HDR_SHARDS_OFFSET, l.shards_offset), (HDR_SHARD_SIZE, l.shard_size), (HDR_TOTAL_LEN, l.total_len)]
    {
        f.write_all_at(&v.to_le_bytes(), off as u64).unwrap();
    }
    drop(f);
    fix_checksum(p.path());
    let e = Cache::open(p.path(), quick()).unwrap_err();
    assert_eq!(e.kind, OpenErrorKind::BadGeometry, "{e}");
    assert!(e.message.contains("rule 9") && e.message.contains(&warmcache::segment::DEFAULT_MAX_TOTAL_LEN.to_string()), "{}", e.message);
    let raised = warmcache::OpenOptions { max_total_len: MAX_TOTAL_LEN, ..quick() };
    assert_eq!(Cache::open(p.path(), raised).unwrap_err().kind, OpenErrorKind::Truncated);

    let small_seg = segment("bound-small");
    let total = std::fs::metadata(small_seg.path()).unwrap().len();
    let e = Cache::open(small_seg.path(), warmcache::OpenOptions { max_total_len: total - 1, ..quick() }).unwrap_err();
    assert!(e.kind == OpenErrorKind::BadGeometry && e.message.contains("rule 9"), "{e}");
    drop(Cache::open(small_seg.path(), warmcache::OpenOptions { max_total_len: total, ..quick() }).expect("bound = total_len"));
}

/// Repair (PROTOCOL.md §9.9): a corrupt record is quarantined (a miss afterwards, header word
/// 768 counts it), a dead holder's insert lock freed, every other entry still reads back, and a
/// second repair does nothing.
#[test]
fn repair_quarantines_and_frees() {
    let p = TmpPath::new("repair");
    let c = create(&p, small());
    for i in 0..20 {
        c.put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes(), PutOptions::default()).unwrap();
    }
    let bad = match c.get(b"k3") {
        warmcache::Lookup::Hit(h) => h.info,
        other => panic!("k3: {other:?}"),
    };
    // Flip the checksum of both records of k3's slot: whichever is active is now corrupt.
    let g = small();
    let l = g.validate_for_create().unwrap();
    let slot_off = l.shards_offset + bad.shard as u64 * l.shard_size + SHARD_HEADER_SIZE + bad.slot as u64 * l.slot_size;
    let f = std::fs::OpenOptions::new().read(true).write(true).open(p.path()).unwrap();
    for a in 0..2u64 {
        let off = slot_off + SLOT_HEADER_SIZE + g.key_capacity as u64 + a * (RECORD_HEADER_SIZE + g.value_capacity as u64) + REC_CHECKSUM;
        let mut b = [0u8; 8];
        f.read_exact_at(&mut b, off).unwrap();
        f.write_all_at(&(u64::from_le_bytes(b) ^ 1).to_le_bytes(), off).unwrap();
    }
    let lock_shard = (bad.shard + 1) % g.shard_count;
    f.write_all_at(&7u64.to_le_bytes(), l.shards_offset + lock_shard as u64 * l.shard_size + SH_INSERT_LOCK).unwrap();
    let r = c.repair();
    assert_eq!(r.quarantined.iter().map(|a| (a.shard, a.slot)).collect::<Vec<_>>(), vec![(bad.shard, bad.slot)], "{r:?}");
    assert_eq!(r.locks_freed.len(), 1, "{r:?}");
    assert!(r.reclaimed.is_empty() && r.unrepairable.is_empty(), "{r:?}");
    assert_eq!(r.quarantined_total, 1);
    for i in 0..20 {
        let hit = matches!(c.get(format!("k{i}").as_bytes()), warmcache::Lookup::Hit(_));
        assert_eq!(hit, i != 3, "k{i}");
    }
    let again = c.repair();
    assert!(again.quarantined.is_empty() && again.locks_freed.is_empty(), "{again:?}");
}
