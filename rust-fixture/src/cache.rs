//! The public handle: one registered participant of one mapped segment.

use crate::clock::{process_start_time, realtime_ns};
use crate::error::{OpenError, OpenErrorKind};
use crate::faults::{Fault, Faults};
use crate::hash::KEY_SEED;
use crate::pause::{PauseHook, PausePoint};
use crate::layout::*;
use crate::notify;
use crate::participants::{self, ParticipantInfo};
use crate::segment::{self, CreateOptions, HeaderInfo, OpenOptions, Segment};
use crate::trace::Tracer;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Options of a write (§9.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Freshness lifetime, from the write (segment time); [`Duration::ZERO`] = never expires.
    /// Stored in nanoseconds (§7.2 `expires_at_ns`): longer than ~584 years saturates.
    pub ttl: Duration,
    /// Stale-serving window after expiry (§12); [`Duration::ZERO`] = none. Ignored when `ttl`
    /// is zero.
    pub grace: Duration,
    /// Opaque tag stored with the value.
    pub origin_tag: u32,
    /// Explicit data version; 0 = automatic.
    pub version: u64,
    /// Journal the write into the handle's store (PERSISTENCE.md §6); ignored without one.
    pub durable: bool,
}

/// Result of a successful put or refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    /// The data version written.
    pub version: u64,
    /// A new entry was published (T2); false for a refresh (T5).
    pub created: bool,
    /// Shard of the slot written.
    pub shard: u32,
    /// Slot index within the shard.
    pub slot: u32,
    /// The write's journal record is durable as the store's policy promises.
    pub durable: bool,
}

/// Who wrote a record (§7.2 `writer`, `writer_start_time`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Process id of the writer.
    pub pid: u32,
    /// Language code of the writer (§7.3: 1 Go, 2 Rust, 3 Swift, 0 unknown).
    pub language: u8,
    /// Protocol major the writer spoke.
    pub protocol_major: u8,
    /// Protocol minor the writer spoke.
    pub protocol_minor: u8,
    /// Low 8 bits of the writer's participant id.
    pub participant: u8,
    /// Start time of the writer's process (`/proc/PID/stat` field 22, clock ticks since boot).
    pub start_time: u64,
}

impl Provenance {
    /// The §7.2 `writer` word this was unpacked from.
    pub fn writer_word(&self) -> u64 {
        self.pid as u64
            | (self.language as u64) << 32
            | (self.protocol_major as u64) << 40
            | (self.protocol_minor as u64) << 48
            | (self.participant as u64) << 56
    }

    /// Unpacks a §7.2 `writer` word and `writer_start_time`.
    pub fn unpack(writer: u64, start_time: u64) -> Provenance {
        Provenance {
            pid: writer as u32,
            language: (writer >> 32) as u8,
            protocol_major: (writer >> 40) as u8,
            protocol_minor: (writer >> 48) as u8,
            participant: (writer >> 56) as u8,
            start_time,
        }
    }
}

/// Everything a hit reports besides the value bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HitInfo {
    /// Served past `expires_at_ns` (within the grace window, or the slot is `STALE`).
    pub stale: bool,
    /// This reader made the `mark_stale` transition and should recompute the value.
    pub refresh_requested: bool,
    /// The data version of the record.
    pub version: u64,
    /// The opaque tag the writer stored ([`PutOptions::origin_tag`]).
    pub origin_tag: u32,
    /// When the record stops being fresh, in segment nanoseconds; 0 = never.
    pub expires_at_ns: u64,
    /// When stale serving ends, in segment nanoseconds (§12).
    pub stale_until_ns: u64,
    /// When the record was written, in segment nanoseconds.
    pub written_at_ns: u64,
    /// Who wrote it.
    pub provenance: Provenance,
    /// Shard of the slot read.
    pub shard: u32,
    /// Slot index within the shard.
    pub slot: u32,
}

/// A hit: the value copied into private memory plus its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The value, copied out of the segment.
    pub value: Vec<u8>,
    /// Version, freshness and provenance of the value.
    pub info: HitInfo,
}

/// The answer of [`Cache::get`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh or stale entry.
    Hit(Hit),
    /// No readable entry for the key (absent, expired, or failed its checks).
    Miss,
}

impl Lookup {
    /// The hit, if this is one.
    pub fn hit(&self) -> Option<&Hit> {
        match self {
            Lookup::Hit(h) => Some(h),
            Lookup::Miss => None,
        }
    }

    /// Whether this is a hit (fresh or stale).
    pub fn is_hit(&self) -> bool {
        matches!(self, Lookup::Hit(_))
    }
}

/// `x mod d` for a fixed 32-bit `d` without a division (Lemire's fastmod; exact for all
/// 32-bit `x` and `d`). Shard and home slot are computed on every operation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastMod {
    d: u32,
    m: u64,
}

impl FastMod {
    fn new(d: u32) -> FastMod {
        // For d = 1 this wraps to 0, which yields 0 = x mod 1.
        FastMod { d, m: (u64::MAX / d as u64).wrapping_add(1) }
    }

    #[inline(always)]
    pub(crate) fn rem(self, x: u32) -> u32 {
        let low = self.m.wrapping_mul(x as u64);
        ((low as u128 * self.d as u128) >> 64) as u32
    }
}

/// A handle on a segment: the mapping, this process's participant id, private copies of the
/// immutable geometry, and an optional transition recorder.
///
/// `Cache` is `Send + Sync`; threads of one process share its participant id (a participant's
/// own id is always alive to it, so threads wait for each other's claims instead of reclaiming).
pub struct Cache {
    pub(crate) seg: Segment,
    pub(crate) id: u16,
    pub(crate) tracer: Tracer,
    /// Misses caused by corruption (§15: reported in this implementation's statistics).
    pub(crate) corrupt: AtomicU64,
    /// Pre-packed `writer` provenance word of this process (§7.2).
    pub(crate) writer_word: u64,
    pub(crate) start_time: u64,
    pub(crate) shard_mod: FastMod,
    pub(crate) slot_mod: FastMod,
    /// Seed of key hashes: KEY_SEED (or KEY_SEED + 1 under FAULT wrong_hash).
    pub(crate) key_seed: u64,
    /// Deliberate bugs (harness self-tests only); empty in real use.
    pub(crate) faults: Faults,
    /// Pause hook (§17); `None` outside a harness.
    pub(crate) pause: Option<PauseHook>,
    /// A 1.0 participant as far as the claim hint goes (`OpenOptions::legacy_sweep`).
    pub(crate) legacy_sweep: bool,
    /// The durable store's writer (crate::durable), `None` without `attach_store`.
    pub(crate) journal: Option<std::sync::Arc<crate::durable::journal::Journal>>,
}

/// A handle with a store stops its sync timer and syncs what it wrote on the way out.
impl Drop for Cache {
    fn drop(&mut self) {
        if let Some(j) = self.journal.take() {
            j.shutdown();
        }
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("path", &self.seg.path)
            .field("participant", &self.id)
            .field("geometry", &self.seg.layout.geometry)
            .finish()
    }
}

impl Cache {
    /// Creates a new segment at `path` (§4.1). Fails with `exists` if `path` already exists.
    pub fn create(path: impl AsRef<Path>, geometry: Geometry, opts: CreateOptions) -> Result<Cache, OpenError> {
        let seg = segment::create(path.as_ref(), geometry, &opts)?;
        let h = opts.hooks();
        Cache::register(seg, h.trace, h.faults, h.pause_hook, opts.legacy_sweep)
    }

    /// `create` through restore's fill hook (crate::durable::restore).
    pub(crate) fn create_restoring(
        path: &Path,
        geometry: Geometry,
        opts: CreateOptions,
        restoring: segment::Restoring<'_>,
    ) -> Result<Cache, OpenError> {
        let seg = segment::create_restoring(path, geometry, &opts, Some(restoring))?;
        let h = opts.hooks();
        Cache::register(seg, h.trace, h.faults, h.pause_hook, opts.legacy_sweep)
    }

    /// Opens an existing segment, running every check of §4.2 in order.
    pub fn open(path: impl AsRef<Path>, opts: OpenOptions) -> Result<Cache, OpenError> {
        let seg = segment::open(path.as_ref(), &opts)?;
        let h = opts.hooks();
        Cache::register(seg, h.trace, h.faults, h.pause_hook, opts.legacy_sweep)
    }

    /// Creates the segment, or opens it if it exists (§4.1). Returns whether it was created.
    /// An existing segment is used with its own geometry, whatever `geometry` says.
    ///
    /// The first process of a fleet creates the segment; every later one (and every restart)
    /// opens it and finds what the others left:
    ///
    /// ```
    /// use warmcache::{Cache, CreateOptions, Geometry, OpenOptions};
    /// let path = format!("/dev/shm/warmcache-doc-open-{}.wc", std::process::id());
    /// let (first, created) =
    ///     Cache::open_or_create(&path, Geometry::default(), CreateOptions::default(), OpenOptions::default())?;
    /// assert!(created);
    /// let (second, created) =
    ///     Cache::open_or_create(&path, Geometry::default(), CreateOptions::default(), OpenOptions::default())?;
    /// assert!(!created);
    /// assert_ne!(first.participant_id(), second.participant_id());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), warmcache::OpenError>(())
    /// ```
    pub fn open_or_create(
        path: impl AsRef<Path>,
        geometry: Geometry,
        create: CreateOptions,
        open: OpenOptions,
    ) -> Result<(Cache, bool), OpenError> {
        match Cache::create(path.as_ref(), geometry, create) {
            Ok(c) => Ok((c, true)),
            Err(e) if e.kind == OpenErrorKind::Exists => Cache::open(path, open).map(|c| (c, false)),
            Err(e) => Err(e),
        }
    }

    /// A handle on a caller's image of a segment (a private buffer, not a mapping), for the C
    /// ABI's image functions (docs/ABI.md): the image passes §4.2 steps 3 and 6–11 exactly as
    /// `open` checks a file (its length plays the file size), and `get` is then this crate's
    /// reader, writing what a reader writes (counters, `referenced`, T7). Its clock is the
    /// image's `sim_clock_ns` (set it with `set_sim_clock`). It registers no participant (an
    /// image has no file to lock), so it is for reading: `get`, `stats`, `dump`, `stored_key`.
    ///
    /// # Safety
    /// As for [`Shm::borrowed`](crate::shm::Shm::borrowed): `base` is 8-byte aligned, valid for reads and writes of `len`
    /// bytes while the handle lives, and otherwise accessed only atomically meanwhile.
    pub unsafe fn over_image(base: *mut u8, len: u64) -> Result<Cache, OpenError> {
        let seg = Segment::over_image(crate::shm::Shm::borrowed(base, len))?;
        let g = seg.layout.geometry;
        Ok(Cache {
            seg,
            id: 0,
            tracer: Tracer::new(false),
            corrupt: AtomicU64::new(0),
            writer_word: 0,
            start_time: 0,
            shard_mod: FastMod::new(g.shard_count),
            slot_mod: FastMod::new(g.slots_per_shard),
            key_seed: KEY_SEED,
            faults: Faults::default(),
            pause: None,
            // No participant entry (id 0), so no claim hint to keep (PROTOCOL.md §5.1): the
            // hint calls are no-ops, as for a 1.0 participant.
            legacy_sweep: true,
            journal: None,
        })
    }

    /// §4.2 step 12 / §5: take a participant entry, then sweep our id's leftovers before any
    /// claim is made.
    fn register(
        seg: Segment,
        trace: bool,
        faults: Faults,
        pause: Option<PauseHook>,
        legacy_sweep: bool,
    ) -> Result<Cache, OpenError> {
        let (id, prev_epoch) = participants::register(&seg)?;
        let pid = std::process::id() as u64;
        let writer_word = (pid & 0xFFFF_FFFF)
            | (LANGUAGE_RUST << 32)
            | (PROTOCOL_MAJOR << 40)
            | (seg.speaks.minor() << 48)
            | (((id & 0xFF) as u64) << 56);
        let g = seg.layout.geometry;
        let seg_minor = seg.speaks.minor();
        let cache = Cache {
            seg,
            id,
            tracer: Tracer::new(trace),
            corrupt: AtomicU64::new(0),
            writer_word,
            start_time: process_start_time(),
            shard_mod: FastMod::new(g.shard_count),
            slot_mod: FastMod::new(g.slots_per_shard),
            // FAULT wrong_hash: a different seed, so other implementations never find our keys.
            key_seed: if faults.has(Fault::WrongHash) { KEY_SEED.wrapping_add(1) } else { KEY_SEED },
            faults,
            pause,
            // §14: a handle speaking 1.0 registers exactly as a 1.0 build would (§5: it sweeps
            // everything and never touches bytes 40..63), whatever the option says.
            legacy_sweep: legacy_sweep || seg_minor == 0,
            journal: None,
        };
        // §5 steps 2 and 3: sweep what the predecessor's hint allows, then keep our own.
        cache.sweep(cache.sweep_scope(prev_epoch));
        cache.adopt_hint(prev_epoch);
        Ok(cache)
    }

    /// Installs (or removes) the pause hook (§17) for this handle's later operations.
    #[cfg(feature = "harness")]
    pub fn set_pause_hook(&mut self, hook: Option<PauseHook>) {
        self.pause = hook;
    }

    /// Calls the pause hook at `point`. One predictable branch without a hook. Every pause point
    /// goes through here, so this is the single switch for the benchmark-only feature
    /// `no-pause-points` (see `PAUSE_POINTS_COMPILED`).
    #[cfg(not(feature = "no-pause-points"))]
    #[inline(always)]
    pub(crate) fn pause_at(&self, point: PausePoint) {
        if let Some(h) = &self.pause {
            h(point);
        }
    }

    /// Whether a pause hook is installed (always false with `no-pause-points`): hot loops test
    /// it once and run a copy compiled without pause points when it is false.
    #[inline(always)]
    pub(crate) fn pausing(&self) -> bool {
        cfg!(not(feature = "no-pause-points")) && self.pause.is_some()
    }

    /// With `no-pause-points` the call is an empty inline function the compiler removes, so
    /// scripts/bench-pause-cost.sh can compare a normal build against one without the points.
    #[cfg(feature = "no-pause-points")]
    #[inline(always)]
    pub(crate) fn pause_at(&self, _point: PausePoint) {}

    /// The fault switches this handle runs with (empty in real use).
    #[cfg(feature = "harness")]
    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// This handle's participant id (1-based).
    pub fn participant_id(&self) -> u16 {
        self.id
    }

    /// The segment's geometry.
    pub fn geometry(&self) -> Geometry {
        self.seg.layout.geometry
    }

    /// Every offset derived from the geometry.
    pub fn layout(&self) -> &Layout {
        &self.seg.layout
    }

    /// The header values of lines 0–2 that are not geometry.
    pub fn header_info(&self) -> HeaderInfo {
        self.seg.info
    }

    /// The version this handle speaks (§14); namespaces (§18) need 1.1.
    pub fn protocol(&self) -> crate::Protocol {
        self.seg.speaks
    }

    /// The path the segment was opened at.
    pub fn path(&self) -> &Path {
        &self.seg.path
    }

    /// Whether the segment runs on the simulated clock (feature `SIM_CLOCK`).
    pub fn has_sim_clock(&self) -> bool {
        self.seg.sim_clock()
    }

    /// The segment's clock (§12).
    #[inline]
    pub fn now(&self) -> u64 {
        if self.seg.sim_clock() {
            // Acquire: pairs with the release store in `set_sim_clock`.
            self.seg.shm.word(HDR_SIM_CLOCK_NS).load(Ordering::Acquire)
        } else {
            realtime_ns()
        }
    }

    /// Moves the simulated clock (segments with `SIM_CLOCK` only).
    #[cfg(feature = "harness")]
    pub fn set_sim_clock(&self, now_ns: u64) -> Result<(), crate::error::NoSimClock> {
        if !self.seg.sim_clock() {
            return Err(crate::error::NoSimClock);
        }
        // Release: whatever this process did before moving time is visible to a reader that
        // sees the new time.
        self.seg.shm.word(HDR_SIM_CLOCK_NS).store(now_ns, Ordering::Release);
        Ok(())
    }

    /// The notification generation (§11).
    pub fn generation(&self) -> u32 {
        notify::generation(&self.seg.shm)
    }

    /// Waits until the generation differs from `seen` or `timeout` passes.
    /// Returns `(generation, timed_out)`.
    ///
    /// Every publish, invalidation and eviction by any process bumps the generation (§11), so a
    /// consumer parks here instead of polling:
    ///
    /// ```
    /// use std::time::Duration;
    /// use warmcache::{Cache, CreateOptions, Geometry, OpenOptions, PutOptions};
    /// let path = format!("/dev/shm/warmcache-doc-wait-{}.wc", std::process::id());
    /// let (consumer, _) =
    ///     Cache::open_or_create(&path, Geometry::default(), CreateOptions::default(), OpenOptions::default())?;
    /// let seen = consumer.generation();
    /// // Nothing changes: the wait times out.
    /// assert_eq!(consumer.wait_for_change(seen, Duration::from_millis(10)), (seen, true));
    ///
    /// let producer = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || {
    ///         let p = Cache::open(&path, OpenOptions::default()).unwrap();
    ///         std::thread::sleep(Duration::from_millis(20));
    ///         p.put(b"config", b"v2", PutOptions::default()).unwrap();
    ///     }
    /// });
    /// let (now, timed_out) = consumer.wait_for_change(seen, Duration::from_secs(10));
    /// assert!(!timed_out && now != seen);
    /// producer.join().unwrap();
    /// assert!(consumer.get(b"config").is_hit());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), warmcache::OpenError>(())
    /// ```
    pub fn wait_for_change(&self, seen: u32, timeout: Duration) -> (u32, bool) {
        // FAULT private_futex: FUTEX_PRIVATE_FLAG, so wake-ups from other processes are lost.
        let private = self.faults.has(Fault::PrivateFutex);
        notify::wait_for_change(&self.seg.shm, seen, timeout, private, || self.pause_at(PausePoint::WaitBeforePark))
    }

    /// Bumps the generation and wakes waiters after a publish or reclaim (§11).
    #[inline]
    pub(crate) fn notify(&self) {
        if !self.faults.is_empty() {
            if self.faults.has(Fault::NoGenerationBump) {
                return; // FAULT no_generation_bump
            }
            if self.faults.has(Fault::PrivateFutex) {
                notify::publish(&self.seg.shm, true); // FAULT private_futex
                return;
            }
        }
        notify::publish(&self.seg.shm, false);
    }

    /// Every participant entry ever registered, with liveness.
    pub fn participants(&self) -> Vec<ParticipantInfo> {
        participants::list(&self.seg, self.id)
    }

    /// Whether transition tracing is on for this handle.
    #[cfg(feature = "harness")]
    pub fn tracing(&self) -> bool {
        self.tracer.enabled()
    }

    /// Takes the transitions recorded since the last call (empty unless tracing).
    #[cfg(feature = "harness")]
    pub fn take_events(&self) -> Vec<crate::trace::Event> {
        self.tracer.take()
    }

    /// Misses this handle attributed to corruption (private statistic, §15).
    pub fn corrupt_count(&self) -> u64 {
        self.corrupt.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::FastMod;

    #[test]
    fn fastmod_matches_remainder() {
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for d in [1u32, 2, 3, 7, 16, 64, 1000, 65535, 65536] {
            let m = FastMod::new(d);
            for v in [0u32, 1, d - 1, d, d.wrapping_add(1), u32::MAX, u32::MAX - 1] {
                assert_eq!(m.rem(v), v % d, "{v} mod {d}");
            }
            for _ in 0..10_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v = x as u32;
                assert_eq!(m.rem(v), v % d, "{v} mod {d}");
            }
        }
    }
}
