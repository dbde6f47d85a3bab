//! Creating and opening a segment (PROTOCOL.md §4) with the security checks of §13.
//!
//! A segment is never visible half-built: it is built under a private `*.init.*` name, marked
//! `ready` with a release store, and linked into place. An opener runs the checks of §4.2 in
//! exactly the spec's order so that every implementation names the same reason for one file.

use crate::clock::{process_start_time, realtime_ns};
use crate::error::{OpenError, OpenErrorKind};
use crate::faults::Faults;
use crate::hash::{Wch64, HEADER_SEED};
use crate::layout::*;
use crate::pause::{PauseHook, PausePoint};
use crate::protocol::{FutureImage, Protocol};
use crate::shm::Shm;
use std::ffi::CString;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Options for [`crate::Cache::create`].
#[derive(Clone, Default)]
pub struct CreateOptions {
    /// Create the file `0660` instead of `0600` (§13).
    pub group_access: bool,
    /// Run the segment on a simulated clock starting at this value (feature `SIM_CLOCK`, §12).
    #[cfg(feature = "harness")]
    pub sim_clock_ns: Option<u64>,
    /// Record every transition this handle makes (see [`crate::trace`]).
    #[cfg(feature = "harness")]
    pub trace: bool,
    /// Deliberate bugs for harness self-tests; empty in real use.
    #[cfg(feature = "harness")]
    pub faults: Faults,
    /// Called at every pause point (§17) this handle reaches, including during registration.
    #[cfg(feature = "harness")]
    pub pause_hook: Option<PauseHook>,
    /// The version this handle speaks ([`Protocol`]); default 1.1.
    pub protocol: Protocol,
    /// Create with feature `FAST_CHECKSUM` (1.1, §2): record checksums are WCH64X4 for the
    /// segment's life. Refused with `unsupported_features` when speaking 1.0 (not a 1.0 feature).
    pub fast_checksum: bool,
    /// Write a future-version test image (tests only, [`FutureImage`]).
    pub future: Option<FutureImage>,
    /// Be a 1.0 participant as far as PROTOCOL.md §5.1 goes: sweep every slot at registration
    /// and never touch the claim hint (to measure what the lazy sweep saves, and to test
    /// fleets that mix 1.0 and 1.1 participants). A handle speaking 1.0 is one whatever this
    /// says (§14: it registers exactly as a 1.0 build would).
    pub legacy_sweep: bool,
}

/// The harness hooks of a create or an open (feature `harness`). Without the feature the options
/// have no such fields (a struct with private fields would also forbid a service's
/// `..Default::default()`), and every hook is off: this is the one place that says so.
pub(crate) struct Hooks {
    pub trace: bool,
    pub faults: Faults,
    pub pause_hook: Option<PauseHook>,
    pub sim_clock_ns: Option<u64>,
}

impl Hooks {
    #[cfg(not(feature = "harness"))]
    const OFF: Hooks = Hooks { trace: false, faults: Faults::NONE, pause_hook: None, sim_clock_ns: None };
}

impl CreateOptions {
    /// This create's hooks (all off without feature `harness`).
    pub(crate) fn hooks(&self) -> Hooks {
        #[cfg(feature = "harness")]
        return Hooks {
            trace: self.trace,
            faults: self.faults,
            pause_hook: self.pause_hook.clone(),
            sim_clock_ns: self.sim_clock_ns,
        };
        #[cfg(not(feature = "harness"))]
        Hooks::OFF
    }
}

impl OpenOptions {
    /// This open's hooks (all off without feature `harness`; an open never sets the clock).
    pub(crate) fn hooks(&self) -> Hooks {
        #[cfg(feature = "harness")]
        return Hooks { trace: self.trace, faults: self.faults, pause_hook: self.pause_hook.clone(), sim_clock_ns: None };
        #[cfg(not(feature = "harness"))]
        Hooks::OFF
    }
}

/// Restore's additions to §4.1 (PERSISTENCE.md §7): `fill` installs the restored entries
/// between steps 4 and 5; `replace` makes step 6 a rename over an unusable file.
pub(crate) struct Restoring<'a> {
    pub fill: &'a dyn Fn(&Shm, &Layout),
    pub replace: bool,
}

impl std::fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("CreateOptions");
        d.field("group_access", &self.group_access);
        #[cfg(feature = "harness")]
        d.field("sim_clock_ns", &self.sim_clock_ns)
            .field("trace", &self.trace)
            .field("faults", &self.faults)
            .field("pause_hook", &self.pause_hook.is_some());
        d.finish()
    }
}

/// Options for [`crate::Cache::open`].
#[derive(Clone)]
pub struct OpenOptions {
    /// How long to poll a segment whose `ready` word is not yet set (§4.2 step 6).
    pub ready_timeout: Duration,
    /// Record every transition this handle makes.
    #[cfg(feature = "harness")]
    pub trace: bool,
    /// Deliberate bugs for harness self-tests; empty in real use.
    #[cfg(feature = "harness")]
    pub faults: Faults,
    /// Called at every pause point (§17) this handle reaches, including during registration.
    #[cfg(feature = "harness")]
    pub pause_hook: Option<PauseHook>,
    /// The version this handle speaks ([`Protocol`]); default 1.1.
    pub protocol: Protocol,
    /// As [`CreateOptions::legacy_sweep`].
    pub legacy_sweep: bool,
    /// The reader's size bound, geometry rule 9 (§3, §13.2): a larger `total_len` is refused with
    /// `bad_geometry` on the header alone. 0 means [`DEFAULT_MAX_TOTAL_LEN`]; above 2^40 means 2^40.
    pub max_total_len: u64,
}

/// The size bound a reader accepts unless told otherwise (§13.2: 2^34 bytes, 16 GiB).
pub const DEFAULT_MAX_TOTAL_LEN: u64 = 1 << 34;

impl OpenOptions {
    /// The rule 9 bound in force.
    fn size_bound(&self) -> u64 {
        match self.max_total_len {
            0 => DEFAULT_MAX_TOTAL_LEN,
            n => n.min(MAX_TOTAL_LEN),
        }
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            ready_timeout: Duration::from_secs(2),
            #[cfg(feature = "harness")]
            trace: false,
            #[cfg(feature = "harness")]
            faults: Faults::NONE,
            #[cfg(feature = "harness")]
            pause_hook: None,
            protocol: Protocol::default(),
            legacy_sweep: false,
            max_total_len: 0,
        }
    }
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("OpenOptions");
        d.field("ready_timeout", &self.ready_timeout);
        #[cfg(feature = "harness")]
        d.field("trace", &self.trace).field("faults", &self.faults).field("pause_hook", &self.pause_hook.is_some());
        d.field("max_total_len", &self.max_total_len);
        d.finish()
    }
}

/// Values of the immutable header lines 0–2 that are not geometry (for diagnostics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderInfo {
    /// The protocol minor of the segment.
    pub minor: u16,
    /// The `features_incompat` word.
    pub features_incompat: u64,
    /// The `features_compat` word.
    pub features_compat: u64,
    /// Process id of the creator.
    pub creator_pid: u32,
    /// Start time of the creator's process.
    pub creator_start_time: u64,
    /// Language code of the creator (§7.3).
    pub creator_language: u8,
    /// User id of the creator.
    pub creator_uid: u32,
    /// When the segment was created (segment ns).
    pub created_at_ns: u64,
}

/// An open, validated, mapped segment. Holds the descriptor whose open file description carries
/// this handle's participant lock (§5), so dropping it releases the lock.
pub struct Segment {
    pub(crate) shm: Shm,
    /// `None` for an image (Segment::over_image): no file, no participant locks.
    pub(crate) file: Option<File>,
    pub(crate) layout: Layout,
    pub(crate) path: PathBuf,
    pub(crate) info: HeaderInfo,
    /// The segment's clock is `sim_clock_ns` (feature SIM_CLOCK, or always for an image, whose
    /// reader time is the caller's `now`).
    pub(crate) sim_clock: bool,
    /// The version this handle speaks (writes into its participant entry and records).
    pub(crate) speaks: Protocol,
}

impl Segment {
    #[inline(always)]
    pub(crate) fn sim_clock(&self) -> bool {
        self.sim_clock
    }

    /// §4.2 steps 3 and 6–11 on an image (its length plays the file size; a `not_ready` image
    /// is refused at once, never waited for). The checks are `check_header`'s, the same code
    /// `open` runs on a mapping.
    pub(crate) fn over_image(shm: Shm) -> Result<Segment, OpenError> {
        let shown = "image";
        let size = shm.mapped_len();
        if size < HEADER_SIZE {
            return Err(OpenError::new(
                OpenErrorKind::TooShort,
                format!("{shown} is {size} bytes, shorter than the {HEADER_SIZE}-byte header"),
            ));
        }
        // An image is read as this implementation's newest version reads it.
        // An image is memory, so it has no holes: its allocated size is its length.
        let sizes = FileSizes { size, allocated: size };
        let (layout, info) = check_header(&shm, sizes, shown, Duration::ZERO, Protocol::default(), DEFAULT_MAX_TOTAL_LEN)?;
        Ok(Segment { shm, file: None, layout, path: PathBuf::from(shown), info, sim_clock: true, speaks: Protocol::default() })
    }

    /// Record checksums are WCH64X4 (feature `FAST_CHECKSUM`, §2).
    #[inline(always)]
    pub(crate) fn fast_checksum(&self) -> bool {
        self.info.features_incompat & FEATURE_FAST_CHECKSUM != 0
    }

    /// Every offset derived from the geometry.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The path the segment was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn cstring(path: &Path) -> Result<CString, OpenError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        OpenError::new(OpenErrorKind::Io, format!("path {} contains a NUL byte (EINVAL)", path.display()))
    })
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn io_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// A random suffix for the private creation name; O_EXCL makes collisions harmless anyway.
fn random_suffix() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is writable for 8 bytes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n == 8 {
        u64::from_le_bytes(buf)
    } else {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        realtime_ns() ^ COUNTER.fetch_add(0x9E37_79B9, Ordering::Relaxed).rotate_left(17)
    }
}

/// Removes the private file on every exit path of creation.
struct TmpGuard {
    path: CString,
}

impl Drop for TmpGuard {
    fn drop(&mut self) {
        // SAFETY: valid C string.
        unsafe { libc::unlink(self.path.as_ptr()) };
    }
}

/// §4.1 steps 1 and 2: the private file TMP, created exclusively, its mode applied with fchmod
/// (the umask may have removed bits), under the creator's flock; then the sweep of dead
/// creators' files. A sweeper (another creator of the same prefix) can take TMP's lock in the
/// instant between open and flock and remove the name; the fstat after the flock sees that
/// (st_nlink 0) and starts again with a new name, since a build under a removed name could never
/// be linked. Once this creator holds the lock, no sweeper can take it. The guard is returned
/// second so that it drops (unlinks) before the file closes (releases the lock).
fn open_temp(path: &Path, shown: &str, mode: libc::mode_t, at: &dyn Fn(PausePoint)) -> Result<(File, TmpGuard), OpenError> {
    let mut attempt = 0;
    loop {
        let mut name = init_prefix(path);
        name.push(format!("{}.{:016x}", std::process::id(), random_suffix()));
        let tmp = cstring(Path::new(&name))?;
        // SAFETY: valid C string; the mode argument is read because O_CREAT is set.
        let fd = unsafe {
            libc::open(
                tmp.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            )
        };
        if fd < 0 {
            match errno() {
                libc::EEXIST => continue, // random collision: draw another name
                libc::ENOENT => {
                    return Err(OpenError::new(
                        OpenErrorKind::NotFound,
                        format!("cannot create {shown}: its directory does not exist (ENOENT)"),
                    ))
                }
                e => return Err(OpenError::io("create", shown, e)),
            }
        }
        // SAFETY: `fd` is a fresh descriptor we own.
        let file = unsafe { File::from_raw_fd(fd) };
        let guard = TmpGuard { path: tmp };
        // SAFETY: valid descriptor.
        if unsafe { libc::fchmod(fd, mode) } != 0 {
            return Err(OpenError::io("fchmod", shown, errno()));
        }
        at(PausePoint::CreateBeforeFlock);
        // Step 2: the flock marks the file as being built by a live creator.
        // SAFETY: valid descriptor.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(OpenError::io("flock", shown, errno()));
        }
        // SAFETY: valid descriptor and stat buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return Err(OpenError::io("fstat", shown, errno()));
        }
        if st.st_nlink == 0 {
            // The guard's unlink of the removed name fails harmlessly; the file closes.
            attempt += 1;
            if attempt >= CREATE_ATTEMPTS {
                return Err(OpenError::io("create", shown, libc::ENOENT));
            }
            continue;
        }
        remove_stale_init(path);
        return Ok((file, guard));
    }
}

/// Bounds the restarts of `open_temp`: each one needs another creator's sweep to win the
/// instant between this creator's open and its flock.
const CREATE_ATTEMPTS: u32 = 8;

/// The sweep of §4.1 step 2: removes every DIR + B + ".init." + pid + "." + random file (the cut
/// prefix of PATH, `init_prefix`) whose flock(LOCK_EX|LOCK_NB) it can take, since a live creator
/// holds its file's lock from step 2 until it removed the file. It unlinks while holding the
/// lock, so that a creator that opened the file but has not locked it yet finds it unlinked
/// (`open_temp`). A name that only begins with the prefix, such as the private file of a segment
/// named B.init.x, is another segment's and is left. The caller's own TMP is locked by it,
/// through another open file description, so the sweep cannot take it either. Every error leaves
/// what it concerns as it is: the sweep never fails a create.
pub fn remove_stale_init(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(base) = path.file_name() else { return };
    let prefix = init_prefix(Path::new(base));
    let prefix = prefix.as_bytes();
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let b = name.as_bytes();
        if !b.starts_with(prefix) || !is_init_suffix(&b[prefix.len()..]) {
            continue;
        }
        let full = dir.join(&name);
        let Ok(c) = cstring(&full) else { continue };
        // SAFETY: valid C string.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
        if fd < 0 {
            continue;
        }
        // SAFETY: valid descriptor and C string; the descriptor is closed once, here.
        unsafe {
            if libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) == 0 {
                libc::unlink(c.as_ptr());
            }
            libc::close(fd);
        }
    }
}

/// Whether `s` is the "pid.random" that follows ".init." in a private name (§4.1 step 1):
/// decimal digits, a dot, lowercase hexadecimal digits.
fn is_init_suffix(s: &[u8]) -> bool {
    let Some(dot) = s.iter().position(|&c| c == b'.') else { return false };
    dot > 0
        && dot + 1 < s.len()
        && s[..dot].iter().all(u8::is_ascii_digit)
        && s[dot + 1..].iter().all(|&c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Computes `header_checksum` = WCH64(bytes 0..135, HEADER_SEED) from the shared words.
/// Relaxed loads: the caller has already ordered them after the `ready` acquire load (open) or
/// wrote them itself (create).
fn header_checksum(shm: &Shm) -> u64 {
    let mut h = Wch64::new(HDR_CHECKSUMMED_LEN as usize, HEADER_SEED);
    for off in (0..HDR_CHECKSUMMED_LEN).step_by(8) {
        h.word(shm.word(off).load(Ordering::Relaxed));
    }
    h.finish()
}

/// §4.1 steps 1–6. Returns the new segment, or `exists` if `path` already exists (the
/// caller — `open_or_create` — then opens it).
pub(crate) fn create(path: &Path, geometry: Geometry, opts: &CreateOptions) -> Result<Segment, OpenError> {
    create_restoring(path, geometry, opts, None)
}

pub(crate) fn create_restoring(
    path: &Path,
    geometry: Geometry,
    opts: &CreateOptions,
    restoring: Option<Restoring<'_>>,
) -> Result<Segment, OpenError> {
    let replace = restoring.as_ref().is_some_and(|r| r.replace);
    if opts.fast_checksum && opts.protocol.known_incompat() & FEATURE_FAST_CHECKSUM == 0 {
        return Err(OpenError::new(
            OpenErrorKind::UnsupportedFeatures,
            format!("FAST_CHECKSUM is a 1.1 feature; this handle speaks {}", opts.protocol),
        ));
    }
    let layout = geometry.validate_for_create()?;
    let shown = path.display().to_string();
    let c_path = cstring(path)?;

    // Cheap early answer; the linkat below is what makes the race safe.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid C string and stat buffer.
    if unsafe { libc::lstat(c_path.as_ptr(), &mut st) } == 0 && !replace {
        return Err(OpenError::new(OpenErrorKind::Exists, format!("{shown} already exists")));
    }

    // Steps 1 and 2, and the sweep of dead creators' files (open_temp).
    let mode = if opts.group_access { 0o660 } else { 0o600 };
    // No handle exists before registration: the hook is the one it will get.
    // `hooks()` is the feature-independent view (no hook without the `harness` feature).
    let early_hook = opts.hooks().pause_hook;
    let at = |p: PausePoint| {
        if let Some(h) = &early_hook {
            h(p)
        }
    };
    let (file, guard) = open_temp(path, &shown, mode, &at)?;
    let fd = file.as_raw_fd();
    at(PausePoint::CreateAfterOpenTemp);

    // Step 3: reserve every byte now, so that a full tmpfs is an error here, never a SIGBUS later.
    // SAFETY: valid descriptor; posix_fallocate returns the error number instead of setting errno.
    let rc = unsafe { libc::posix_fallocate(fd, 0, layout.total_len as libc::off_t) };
    match rc {
        0 => {}
        libc::ENOSPC => {
            return Err(OpenError::new(
                OpenErrorKind::NoSpace,
                format!("cannot reserve {} bytes for {shown}: no space left on the file system", layout.total_len),
            ))
        }
        libc::EOPNOTSUPP => {
            // Fallback of §4.1 step 3: size the file, then touch one byte in every page.
            file.set_len(layout.total_len).map_err(|e| OpenError::io("ftruncate", &shown, io_errno(&e)))?;
            let zero = [0u8; 1];
            let mut off = 0;
            while off < layout.total_len {
                // SAFETY: valid descriptor and 1-byte buffer.
                let n = unsafe { libc::pwrite(fd, zero.as_ptr().cast(), 1, off as libc::off_t) };
                if n != 1 {
                    let e = errno();
                    if e == libc::ENOSPC {
                        return Err(OpenError::new(
                            OpenErrorKind::NoSpace,
                            format!("cannot write page at offset {off} of {shown}: no space left"),
                        ));
                    }
                    return Err(OpenError::io("pwrite", &shown, e));
                }
                off += PAGE_SIZE;
            }
        }
        e => return Err(OpenError::io("posix_fallocate", &shown, e)),
    }

    at(PausePoint::CreateAfterSize);

    // Step 4: map and write the immutable header. All other bytes are already zero.
    let shm = Shm::map(&file, layout.total_len).map_err(|e| OpenError::io("mmap", &shown, io_errno(&e)))?;
    let mut features_incompat = if opts.hooks().sim_clock_ns.is_some() { FEATURE_SIM_CLOCK } else { 0 };
    if opts.fast_checksum {
        features_incompat |= FEATURE_FAST_CHECKSUM;
    }
    let [g_shards, g_sizes, g_limits] = geometry.pack();
    let pid = std::process::id();
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    let created_at_ns = realtime_ns();
    let start_time = process_start_time();
    let mut version_word = PROTOCOL_MAJOR | (opts.protocol.minor() << 16) | (HEADER_SIZE << 32);
    let mut features_compat = 0;
    if let Some(f) = opts.future {
        f.apply(&mut version_word, &mut features_incompat, &mut features_compat);
    }
    let header: [(u64, u64); 17] = [
        (HDR_MAGIC, MAGIC),
        (HDR_VERSION, version_word),
        (HDR_FEATURES_INCOMPAT, features_incompat),
        (HDR_FEATURES_COMPAT, features_compat),
        (HDR_LAYOUT_FINGERPRINT, LAYOUT_FINGERPRINT),
        (HDR_TOTAL_LEN, layout.total_len),
        (HDR_GEOMETRY_SHARDS, g_shards),
        (HDR_GEOMETRY_SIZES, g_sizes),
        (HDR_GEOMETRY_LIMITS, g_limits),
        (HDR_SLOT_SIZE, layout.slot_size),
        (HDR_PARTICIPANTS_OFFSET, layout.participants_offset),
        (HDR_SHARDS_OFFSET, layout.shards_offset),
        (HDR_SHARD_SIZE, layout.shard_size),
        (HDR_CREATOR_PID, pid as u64),
        (HDR_CREATOR_START_TIME, start_time),
        (HDR_CREATOR_INFO, LANGUAGE_RUST | (uid as u64) << 32),
        (HDR_CREATED_AT_NS, created_at_ns),
    ];
    for (off, v) in header {
        // Relaxed: nobody can see the file yet, and the release store of `ready` publishes it.
        shm.word(off).store(v, Ordering::Relaxed);
    }
    shm.word(HDR_HEADER_CHECKSUM).store(header_checksum(&shm), Ordering::Relaxed);
    if let Some(t) = opts.hooks().sim_clock_ns {
        // Relaxed: published by the release store of `ready` below.
        shm.word(HDR_SIM_CLOCK_NS).store(t, Ordering::Relaxed);
    }

    if let Some(r) = &restoring {
        (r.fill)(&shm, &layout);
    }
    at(PausePoint::CreateAfterHeader);
    // Step 5: release — every header write above is visible to whoever acquires `ready`.
    shm.word(HDR_READY).store(READY, Ordering::Release);
    at(PausePoint::CreateBeforeLink);

    // Step 6: link into place; flags 0 = do not follow symlinks (no AT_SYMLINK_FOLLOW). A
    // restore over an unusable file renames instead, replacing it in one step (a process still
    // mapping the old file keeps its inode).
    // SAFETY: valid C strings.
    let rc = if replace {
        unsafe { libc::rename(guard.path.as_ptr(), c_path.as_ptr()) }
    } else {
        unsafe { libc::linkat(libc::AT_FDCWD, guard.path.as_ptr(), libc::AT_FDCWD, c_path.as_ptr(), 0) }
    };
    if rc != 0 {
        let e = errno();
        if e == libc::EEXIST {
            return Err(OpenError::new(
                OpenErrorKind::Exists,
                format!("{shown} already exists (another creator won the race)"),
            ));
        }
        return Err(OpenError::io("linkat", &shown, e));
    }
    // Remove TMP (the guard) and release the flock; PATH now names the same inode.
    drop(guard);
    // SAFETY: valid descriptor.
    unsafe { libc::flock(fd, libc::LOCK_UN) };
    at(PausePoint::CreateAfterLink);

    Ok(Segment {
        shm,
        file: Some(file),
        sim_clock: features_incompat & FEATURE_SIM_CLOCK != 0,
        layout,
        path: path.to_path_buf(),
        speaks: opts.protocol,
        info: HeaderInfo {
            minor: opts.protocol.minor() as u16,
            features_incompat,
            features_compat,
            creator_pid: pid,
            creator_start_time: start_time,
            creator_language: LANGUAGE_RUST as u8,
            creator_uid: uid,
            created_at_ns,
        },
    })
}

/// §4.2 steps 1–12 (participant registration, the end of step 12, is done by the caller).
pub(crate) fn open(path: &Path, opts: &OpenOptions) -> Result<Segment, OpenError> {
    let shown = path.display().to_string();
    let c_path = cstring(path)?;

    // Step 1.
    // SAFETY: valid C string.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDWR | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(match errno() {
            libc::ELOOP => OpenError::new(OpenErrorKind::Symlink, format!("{shown} is a symbolic link; refusing to follow it")),
            libc::ENOENT => OpenError::new(OpenErrorKind::NotFound, format!("{shown} does not exist")),
            e => OpenError::io("open", &shown, e),
        });
    }
    // SAFETY: fresh descriptor we own.
    let file = unsafe { File::from_raw_fd(fd) };

    // Step 2.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and stat buffer.
    if unsafe { libc::fstat(file.as_raw_fd(), &mut st) } != 0 {
        return Err(OpenError::io("fstat", &shown, errno()));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(OpenError::new(
            OpenErrorKind::NotRegularFile,
            format!("{shown} is not a regular file (st_mode {:o})", st.st_mode),
        ));
    }
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if st.st_uid != euid {
        return Err(OpenError::new(
            OpenErrorKind::ForeignOwner,
            format!("{shown} is owned by uid {}, not by this process's uid {euid}", st.st_uid),
        ));
    }

    // Step 3.
    let size = st.st_size.max(0) as u64;
    if size < HEADER_SIZE {
        return Err(OpenError::new(
            OpenErrorKind::TooShort,
            format!("{shown} is {size} bytes, shorter than the {HEADER_SIZE}-byte header"),
        ));
    }

    // Step 4: only the header page until the header is trusted.
    let hdr = Shm::map(&file, HEADER_SIZE).map_err(|e| OpenError::io("mmap", &shown, io_errno(&e)))?;
    // st_blocks counts 512-byte units whatever the file system's block size.
    let sizes = FileSizes { size, allocated: (st.st_blocks.max(0) as u64).saturating_mul(512) };
    let (layout, info) = check_header(&hdr, sizes, &shown, opts.ready_timeout, opts.protocol, opts.size_bound())?;
    drop(hdr);

    // Step 12: map exactly the checked length.
    let shm = Shm::map(&file, layout.total_len).map_err(|e| OpenError::io("mmap", &shown, io_errno(&e)))?;
    let sim_clock = info.features_incompat & FEATURE_SIM_CLOCK != 0;
    Ok(Segment { shm, file: Some(file), layout, path: path.to_path_buf(), info, sim_clock, speaks: opts.protocol })
}

/// §4.2 steps 4–11 on `hdr` (the header page, mapped or an image), `size` playing the file
/// size of step 2. One implementation for `open` and for images (the C ABI's header check).
/// `protocol`: the version the reader speaks (a 1.0 reader refuses FAST_CHECKSUM, step 8).
/// `max_total_len`: the reader's size bound of rule 9 (§13.2).
fn check_header(
    hdr: &Shm,
    sizes: FileSizes,
    shown: &str,
    ready_timeout: Duration,
    protocol: Protocol,
    max_total_len: u64,
) -> Result<(Layout, HeaderInfo), OpenError> {
    // Relaxed loads until `ready` is acquired: a wrong magic or major is final whatever the order.
    let magic = hdr.word(HDR_MAGIC).load(Ordering::Relaxed);
    if magic != MAGIC {
        return Err(OpenError::new(
            OpenErrorKind::BadMagic,
            format!("{shown}: magic at offset 0 is {magic:#018x}, expected {MAGIC:#018x} (WARMCACH)"),
        ));
    }

    // Step 5 (before the checksum: a future major may lay its header out differently).
    let version = hdr.word(HDR_VERSION).load(Ordering::Relaxed);
    let major = version & 0xFFFF;
    if major != PROTOCOL_MAJOR {
        return Err(OpenError::new(
            OpenErrorKind::UnsupportedMajor,
            format!("{shown}: protocol major version {major} (word at offset 8 = {version:#x}); this reader supports {PROTOCOL_MAJOR}"),
        ));
    }

    // Step 6: acquire pairs with the creator's release store of `ready`, so the immutable
    // header lines read below are the creator's.
    let deadline = Instant::now().checked_add(ready_timeout);
    loop {
        let ready = hdr.word(HDR_READY).load(Ordering::Acquire);
        if ready == READY {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(OpenError::new(
                OpenErrorKind::NotReady,
                format!("{shown}: ready word at offset 192 is {ready:#x}, not READY, after waiting {:?}", ready_timeout),
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    // Step 7.
    let stored = hdr.word(HDR_HEADER_CHECKSUM).load(Ordering::Relaxed);
    let computed = header_checksum(hdr);
    if stored != computed {
        return Err(OpenError::new(
            OpenErrorKind::BadHeaderChecksum,
            format!("{shown}: header_checksum at offset 136 is {stored:#018x}, bytes 0..135 hash to {computed:#018x}"),
        ));
    }

    // Step 8.
    let features_incompat = hdr.word(HDR_FEATURES_INCOMPAT).load(Ordering::Relaxed);
    // A handle speaking 1.0 knows only the 1.0 bits, so it refuses FAST_CHECKSUM here as a 1.0
    // build does (never taking a WCH64X4 sum for a WCH64 one).
    let unknown = features_incompat & !protocol.known_incompat();
    if unknown != 0 {
        return Err(OpenError::new(
            OpenErrorKind::UnsupportedFeatures,
            format!(
                "{shown}: features_incompat {features_incompat:#x} has bits {unknown:#x} this reader (speaking {}) does not know",
                protocol
            ),
        ));
    }

    // Step 9.
    let fingerprint = hdr.word(HDR_LAYOUT_FINGERPRINT).load(Ordering::Relaxed);
    if fingerprint != LAYOUT_FINGERPRINT {
        return Err(OpenError::new(
            OpenErrorKind::LayoutMismatch,
            format!("{shown}: layout_fingerprint is {fingerprint:#018x}, this build expects {LAYOUT_FINGERPRINT:#018x}"),
        ));
    }

    // Step 9 too: the header size the version word declares is part of the layout.
    let header_size = version >> 32;
    if header_size != HEADER_SIZE {
        return Err(OpenError::new(
            OpenErrorKind::LayoutMismatch,
            format!("{shown}: the version word declares a {header_size}-byte header, this build expects {HEADER_SIZE}"),
        ));
    }

    // Step 10.
    let w = |off| hdr.word(off).load(Ordering::Relaxed);
    let geometry = Geometry::unpack(w(HDR_GEOMETRY_SHARDS), w(HDR_GEOMETRY_SIZES), w(HDR_GEOMETRY_LIMITS));
    let layout = Layout::from_header(
        geometry,
        w(HDR_SLOT_SIZE),
        w(HDR_PARTICIPANTS_OFFSET),
        w(HDR_SHARDS_OFFSET),
        w(HDR_SHARD_SIZE),
        w(HDR_TOTAL_LEN),
    )
    .map_err(|e| OpenError::bad_geometry(format!("{shown}: {}", e.message)))?;
    // Still step 10: rule 9, before the file's size is looked at, so a 2^40-byte header on a
    // small file costs nothing but this comparison.
    if layout.total_len > max_total_len {
        return Err(OpenError::bad_geometry(format!(
            "{shown}: rule 9 violated: total_len {} exceeds max_total_len {max_total_len}, this reader's size bound",
            layout.total_len
        )));
    }
    let creator_info = w(HDR_CREATOR_INFO);
    let info = HeaderInfo {
        minor: ((version >> 16) & 0xFFFF) as u16,
        features_incompat,
        features_compat: w(HDR_FEATURES_COMPAT),
        creator_pid: w(HDR_CREATOR_PID) as u32,
        creator_start_time: w(HDR_CREATOR_START_TIME),
        creator_language: creator_info as u8,
        creator_uid: (creator_info >> 32) as u32,
        created_at_ns: w(HDR_CREATED_AT_NS),
    };
    // Step 11: the size from step 2 (the file is never remapped, §13).
    let FileSizes { size, allocated } = sizes;
    if size < layout.total_len {
        return Err(OpenError::new(
            OpenErrorKind::Truncated,
            format!("{shown} is {size} bytes but its header declares total_len {}", layout.total_len),
        ));
    }
    // Still step 11: a hole is allocated on first write, a SIGBUS on a full file system (§13.2).
    if allocated < layout.total_len {
        return Err(OpenError::new(
            OpenErrorKind::Sparse,
            format!(
                "{shown} has {allocated} bytes allocated but its header declares total_len {} (a sparse file: §4.1 allocates every block)",
                layout.total_len
            ),
        ));
    }

    Ok((layout, info))
}

/// The two sizes §4.2 step 11 compares with `total_len`: the length and the allocated bytes.
#[derive(Clone, Copy)]
struct FileSizes {
    size: u64,
    allocated: u64,
}

/// PATH's private build name up to the pid (PROTOCOL.md §4.1 step 1): the final name's last
/// component cut to at most 191 bytes (never inside a UTF-8 sequence), then `.init.`, so that a
/// final name of up to 255 bytes (NAME_MAX) still has a temporary name that fits.
pub fn init_prefix(path: &Path) -> std::ffi::OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = path.as_os_str().as_bytes();
    let start = bytes.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    let mut n = bytes.len() - start;
    if n > 191 {
        n = 191;
        while n > 0 && bytes[start + n] & 0xC0 == 0x80 {
            n -= 1; // bytes[start + n] continues the sequence the cut would split
        }
    }
    let mut out = bytes[..start + n].to_vec();
    out.extend_from_slice(b".init.");
    std::ffi::OsString::from_vec(out)
}
