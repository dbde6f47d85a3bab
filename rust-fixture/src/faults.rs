//! Fault switches (DRIVER.md "Fault switches"): deliberate bugs that exist only so that the
//! `warmcheck selftest` can prove it catches bugs of this kind. All are off unless a handle is
//! opened with them; each is one `if self.faults.has(..)` branch at the place of the bug,
//! marked `FAULT <name>` in the code.

/// One deliberate bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Fault {
    /// Publish (T2/T5) before writing the record, then write it.
    PublishBeforePayload = 1 << 0,
    /// The reader does not re-check the state word after copying.
    SkipSecondSeqCheck = 1 << 1,
    /// A refresh keeps the old version.
    NoVersionBump = 1 << 2,
    /// The reader returns a record whose checksum does not match.
    IgnoreChecksum = 1 << 3,
    /// Treat every other owner as dead and reclaim from it.
    StealLiveClaim = 1 << 4,
    /// Never reclaim a dead owner's claim.
    NeverReclaim = 1 << 5,
    /// CLOCK eviction may pick a slot in WRITING or REFRESHING.
    EvictWritingSlot = 1 << 6,
    /// Wait and wake use FUTEX_PRIVATE_FLAG (cross-process wakeups are lost).
    PrivateFutex = 1 << 7,
    /// The key hash uses a different seed (KEY_SEED + 1).
    WrongHash = 1 << 8,
    /// Insert without the shard insert lock (duplicate keys).
    SkipInsertLock = 1 << 9,
    /// Publish without bumping `generation`.
    NoGenerationBump = 1 << 10,
    /// Ignore `stale_until_ns`: expired entries are served as stale.
    StaleForever = 1 << 11,
    /// `ns_stage` makes the flip CAS (N3) at once, so the staged version is current while its
    /// entries are still being written; `ns_flip` only closes the stage (§18.6).
    NsFlipBeforeEntries = 1 << 12,
    /// `ns_reclaim` leaves pins out of its keep set (§18.7 step 4).
    NsReclaimIgnoresPins = 1 << 13,
}

impl Fault {
    /// Every fault, in the order of DRIVER.md.
    pub const ALL: [Fault; 14] = [
        Fault::PublishBeforePayload,
        Fault::SkipSecondSeqCheck,
        Fault::NoVersionBump,
        Fault::IgnoreChecksum,
        Fault::StealLiveClaim,
        Fault::NeverReclaim,
        Fault::EvictWritingSlot,
        Fault::PrivateFutex,
        Fault::WrongHash,
        Fault::SkipInsertLock,
        Fault::NoGenerationBump,
        Fault::StaleForever,
        Fault::NsFlipBeforeEntries,
        Fault::NsReclaimIgnoresPins,
    ];

    /// The DRIVER.md name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::PublishBeforePayload => "publish_before_payload",
            Fault::SkipSecondSeqCheck => "skip_second_seq_check",
            Fault::NoVersionBump => "no_version_bump",
            Fault::IgnoreChecksum => "ignore_checksum",
            Fault::StealLiveClaim => "steal_live_claim",
            Fault::NeverReclaim => "never_reclaim",
            Fault::EvictWritingSlot => "evict_writing_slot",
            Fault::PrivateFutex => "private_futex",
            Fault::WrongHash => "wrong_hash",
            Fault::SkipInsertLock => "skip_insert_lock",
            Fault::NoGenerationBump => "no_generation_bump",
            Fault::StaleForever => "stale_forever",
            Fault::NsFlipBeforeEntries => "ns_flip_before_entries",
            Fault::NsReclaimIgnoresPins => "ns_reclaim_ignores_pins",
        }
    }

    /// The fault with this DRIVER.md name.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A set of faults; empty by default (a correct implementation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Faults(u32);

impl Faults {
    /// No fault: a correct implementation.
    pub const NONE: Faults = Faults(0);

    /// This set plus `f`.
    pub fn with(self, f: Fault) -> Faults {
        Faults(self.0 | f as u32)
    }

    #[inline(always)]
    /// Whether `f` is switched on.
    pub fn has(self, f: Fault) -> bool {
        self.0 & f as u32 != 0
    }

    #[inline(always)]
    /// Whether no fault is switched on.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}
