//! Rust reference implementation of the **warmcache** shared-memory cache protocol, v1.1
//! (`docs/PROTOCOL.md`, which is normative; names here are the spec's names).
//!
//! A segment is one file, normally on tmpfs, mapped `MAP_SHARED` by several processes. Writers
//! publish values into fixed-size slots with a per-slot state machine; readers copy them out
//! without locks and validate the copy against the slot's state word.
//!
//! ```
//! use std::time::Duration;
//! use warmcache::{Cache, CreateOptions, Geometry, OpenOptions, PutOptions};
//! let path = format!("/dev/shm/example-{}.wc", std::process::id());
//! let (cache, _created) = Cache::open_or_create(
//!     &path, Geometry::default(), CreateOptions::default(), OpenOptions::default(),
//! )?;
//! let ttl = PutOptions { ttl: Duration::from_secs(60), ..Default::default() };
//! cache.put(b"user:42", b"{\"name\":\"Ada\"}", ttl).expect("put");
//! if let Some(hit) = cache.get(b"user:42").hit() {
//!     println!("{} bytes, version {}", hit.value.len(), hit.info.version);
//! }
//! # std::fs::remove_file(&path).unwrap();
//! # Ok::<(), warmcache::OpenError>(())
//! ```
//!
//! Shared-memory discipline: no reference to shared bytes is ever formed; every shared word is
//! an atomic reached through [`shm::Shm`], and every offset comes from the validated private
//! [`layout::Layout`].
//!
//! # Readings of the spec
//!
//! Where PROTOCOL.md leaves a choice, this implementation reads it as follows (the Go reference
//! agrees on every point that is observable in a segment image or in the driver transcript):
//!
//! - A directory at the path fails `open(O_RDWR)` with `EISDIR`, reported as `io` (§4.2 step 1
//!   says "other errno → io"), not `not_regular_file`.
//! - The header-size field of `version` (bits 32..63) is not checked by its own step; it is
//!   covered by `header_checksum` and by byte 7 of the layout fingerprint.
//! - `active` (bit 8) is kept by transitions that do not name it: a claim (T1/T10/T11) keeps the
//!   victim's `A`, and T3/T9/T12/T14 keep it in `EMPTY`; T2 sets it to the written record.
//! - `claimed_at_ns` is written on every claim (T1/T10/T11 with the key, T4, T8), in segment time.
//! - A record with `expires_at_ns != 0` and `stale_until_ns == 0` (impossible for a correct
//!   writer) is treated literally by §12: expired at `expires_at_ns`; `dump` reports it.
//! - A `STALE` slot whose record is fresh by time (the clock went back) is served as stale.
//! - An `insert_lock` value above `participant_capacity` names nobody and is freed like a dead
//!   holder's (`reclaims += 1`). Freeing a lock does not bump `generation`; slot reclaims do.
//! - Dead owners' claims on *other* keys of a window are not reclaimed while choosing a victim
//!   (only `find` hits and the registration sweep reclaim), so such a window may answer `full`.
//! - Orderings not listed in §10: T6 is a release CAS, T7 and reclaims are acquire-release.
//! - Threads of one process share one participant id; a participant's own id is always alive,
//!   so a thread waits for (never reclaims) a sibling's claim.
//! - Readers mask the bytes past `len` in the last key/value word before comparing/hashing.

#![deny(missing_docs)]

pub mod cache;
pub mod clock;
pub mod durable;
pub mod error;
pub mod hash;
pub mod layout;
pub mod namespace;
pub mod notify;
pub mod ops;
pub mod participants;
pub mod protocol;
pub mod segment;
pub mod shm;
pub mod state;

// The harness-only hooks (feature `harness`, see Cargo.toml): public with it, crate-private
// without, so that a service's build cannot name them while the implementation keeps every
// hook site unchanged (each reads a field that is then always at its default).
#[cfg(feature = "harness")]
pub mod faults;
#[cfg(not(feature = "harness"))]
#[allow(dead_code)]
mod faults;
#[cfg(feature = "harness")]
pub mod pause;
#[cfg(not(feature = "harness"))]
#[allow(dead_code)]
mod pause;
#[cfg(feature = "harness")]
pub mod trace;
#[cfg(not(feature = "harness"))]
#[allow(dead_code)]
mod trace;

pub use cache::{Cache, Hit, HitInfo, Lookup, Provenance, PutOptions, PutOutcome};
#[cfg(feature = "harness")]
pub use faults::{Fault, Faults};
#[cfg(feature = "harness")]
pub use pause::{PauseHook, PausePoint};
pub use pause::PAUSE_POINTS_COMPILED;

/// Whether the shard counters (PROTOCOL.md §6) are kept: true unless the benchmark-only feature
/// `no-counters` is on, which leaves them at 0 (breaking §6) so that scripts/bench-pause-cost.sh
/// (`SWITCH=counters`) can measure what they cost the hot path.
pub const COUNTERS_COMPILED: bool = !cfg!(feature = "no-counters");
pub use error::{NoSimClock, OpError, OpErrorKind, OpenError, OpenErrorKind};
pub use layout::{Geometry, Layout};
pub use namespace::{pin::NsRead, reclaim::Reclaimed, stage::StageOpened, NsState};
pub use ops::inspect::{Counters, Dump, DumpEntry, Occupancy, ShardStats, Stats};
pub use ops::get_many::MAX_GET_BATCH;
#[cfg(feature = "harness")]
pub use ops::put::Staged;
pub use ops::repair::{RepairAction, RepairReport};
pub use participants::ParticipantInfo;
pub use protocol::{FutureImage, Protocol};
pub use segment::{CreateOptions, HeaderInfo, OpenOptions};
pub use state::State;
#[cfg(feature = "harness")]
pub use trace::Event;
