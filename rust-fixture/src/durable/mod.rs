//! The durable store (docs/PERSISTENCE.md): one journal per writer, snapshots, restore.

pub mod compact;
pub mod format;
pub mod journal;
pub mod restore;

pub use compact::{compact, CompactReport};
#[cfg(feature = "harness")]
pub use compact::compact_with_pause;
pub use journal::{FsyncPolicy, JournalState, StoreOptions};
pub use restore::RestoreReport;
