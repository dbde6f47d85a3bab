//! Versioned namespaces (PROTOCOL.md §18, 1.1), one file per concern: the stage, its entries,
//! the flip and the rollback (`stage.rs`, §18.4 N1–N5), pins and namespace reads (`pin.rs`, N6,
//! N7, `ns_get`), reclamation (`reclaim.rs`, N8, §18.7). This file holds the layout of the three
//! places namespaces live, the word codecs, and `ns_state`.
//!
//! Every load and CAS of a table word and every load and store of a pin word is `SeqCst`
//! (§18.5): the proofs of §18.6 and §18.7 are about one total order of those accesses, and they
//! are touched a few times per operation, so nothing weaker is worth the extra argument.

pub mod pin;
pub mod reclaim;
pub mod stage;

use crate::cache::Cache;
use crate::error::{OpError, OpErrorKind};
use crate::layout::*;
use std::sync::atomic::{AtomicU64, Ordering};

// ------------------------------------------------------------------------------------------
// The namespace table, header lines 9–10 (§18.2)
//
//  line 9   576 ns 0: ns_head | 584 ns 0: ns_stage | 592 ns 1: ns_head | … | 632 ns 3: ns_stage
//  line 10  640 ns 4: ns_head | …                                        | 696 ns 7: ns_stage
//
//  ns_head (+0)                                   ns_stage (+8)
//  63                 32 31                  0    63      48 47         32 31                  0
//  +-------------------+--------------------+    +---------+-------------+--------------------+
//  |     previous      |      current       |    |  zero   |   stager    |        last        |
//  +-------------------+--------------------+    +---------+-------------+--------------------+
//
// The pin word, participant entry + 56 (§18.3; PART_NS_PIN in layout.rs)
//
//  63                 40 39   35 34  32 31                  0
//  +--------------------+-------+------+--------------------+
//  |     pin_epoch      | zero  |  ns  |      version       |
//  +--------------------+-------+------+--------------------+
//
// The namespace key nskey(ns, v, k), an ordinary key of 16 + len(k) bytes (§18.1)
//
//  +-----------------------------------+----------------------+---------------------------+
//  | word 0: NS_KEY_MAGIC (bits 0..47) | word 1: v (u64,      | k (the user key, ≥ 1 byte)|
//  |         ns (bits 48..63)          |  1..2^32−1)          |                           |
//  +-----------------------------------+----------------------+---------------------------+
//  0                                   8                      16                 16+len(k)
// ------------------------------------------------------------------------------------------

/// Namespaces per segment, named by their index 0..7.
pub const NS_COUNT: u32 = 8;
/// Byte offset of namespace 0's entry in the header.
pub const NS_TABLE_OFFSET: u64 = 576;
/// Bytes per table entry: `ns_head`, `ns_stage`.
pub const NS_ENTRY_SIZE: u64 = 16;
/// Offset of `ns_head` in a table entry (§18.2).
pub const NS_HEAD: u64 = 0;
/// Offset of `ns_stage` in a table entry (§18.2).
pub const NS_STAGE: u64 = 8;
/// Bits 0..47 of a namespace key's word 0: the bytes FF 57 43 4E 53 01 ("\xFFWCNS\x01").
pub const NS_KEY_MAGIC: u64 = 0x0153_4E43_57FF;
/// The prefix before the user key: word 0 and the version word.
pub const NS_KEY_PREFIX_LEN: usize = 16;
/// The highest version a namespace can hand out (a 32-bit field).
pub const NS_VERSION_MAX: u64 = 0xFFFF_FFFF;
/// `pin_epoch` is the low 24 bits of the pinner's registration `epoch`.
pub const PIN_EPOCH_MASK: u64 = 0xFF_FFFF;
const LOW48: u64 = (1 << 48) - 1;
const PIN_RESERVED: u64 = 0x1F << 35;

/// `ns_head` decoded: the version readers read, and the one a rollback returns to (0 = none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The version readers read (0 = none yet).
    pub current: u64,
    /// The version a rollback returns to (0 = none).
    pub previous: u64,
}

impl Head {
    pub(crate) fn decode(w: u64) -> Head {
        Head { current: w & NS_VERSION_MAX, previous: w >> 32 }
    }

    pub(crate) fn encode(self) -> u64 {
        self.current | self.previous << 32
    }

    /// Either of the two versions is `v`: `v` has not been retired (§18.2 invariant 3).
    pub(crate) fn holds(self, v: u64) -> bool {
        v != 0 && (self.current == v || self.previous == v)
    }
}

/// `ns_stage` decoded: the highest version handed out, and the open stage's owner (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// The highest version ever handed out (0 = none).
    pub last: u64,
    /// Participant id of the open stage's owner, 0 if no stage is open.
    pub stager: u16,
}

impl Stage {
    pub(crate) fn encode(self) -> u64 {
        self.last | (self.stager as u64) << 32
    }
}

/// A pin word decoded (§18.3); `version` 0 = no pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    /// The namespace pinned.
    pub ns: u32,
    /// The version pinned (never 0 in a decoded pin).
    pub version: u64,
    /// The low 24 bits of the pinner's registration epoch.
    pub epoch24: u64,
}

impl Pin {
    /// A well-formed non-zero pin word, else `None` (an ill-formed word protects nothing).
    pub(crate) fn decode(w: u64) -> Option<Pin> {
        if w & PIN_RESERVED != 0 || w & NS_VERSION_MAX == 0 {
            return None;
        }
        Some(Pin { ns: ((w >> 32) & 7) as u32, version: w & NS_VERSION_MAX, epoch24: w >> 40 })
    }

    pub(crate) fn encode(self) -> u64 {
        self.version | (self.ns as u64) << 32 | (self.epoch24 & PIN_EPOCH_MASK) << 40
    }
}

/// `ns_state`: the table entry of a namespace and its live pins, `(participant, version)` by
/// participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsState {
    /// `ns_head`'s current version.
    pub current: u64,
    /// `ns_head`'s previous version.
    pub previous: u64,
    /// `ns_stage`'s last version handed out.
    pub last: u64,
    /// `ns_stage`'s stager (0: no open stage).
    pub stager: u16,
    /// The live pins of this namespace, `(participant, version)`.
    pub pins: Vec<(u16, u64)>,
}

/// `nskey(ns, v, k)` (§18.1). The caller has checked `ns < NS_COUNT` and `1 ≤ v ≤ 2^32−1`.
pub fn nskey(ns: u32, v: u64, k: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(NS_KEY_PREFIX_LEN + k.len());
    key.extend_from_slice(&(NS_KEY_MAGIC | (ns as u64) << 48).to_le_bytes());
    key.extend_from_slice(&v.to_le_bytes());
    key.extend_from_slice(k);
    key
}

/// The (namespace, version) a key names if it is a namespace key (§18.1: length ≥ 17, the magic,
/// `ns < NS_COUNT`, `1 ≤ v ≤ 2^32−1`), given its first two words.
pub(crate) fn namespace_of(len: u64, word0: u64, word1: u64) -> Option<(u32, u64)> {
    let ns = (word0 >> 48) as u32;
    let ok = len > NS_KEY_PREFIX_LEN as u64 && word0 & LOW48 == NS_KEY_MAGIC && ns < NS_COUNT && (1..=NS_VERSION_MAX).contains(&word1);
    ok.then_some((ns, word1))
}

pub(crate) fn bad_namespace(message: String) -> OpError {
    OpError::new(OpErrorKind::BadNamespace, message)
}

impl Cache {
    fn ns_word(&self, ns: u32, field: u64) -> &AtomicU64 {
        self.seg.shm.word(NS_TABLE_OFFSET + ns as u64 * NS_ENTRY_SIZE + field)
    }

    /// `ns < NS_COUNT`, else `bad_namespace` (§18.2).
    pub(crate) fn check_ns(&self, ns: u32) -> Result<(), OpError> {
        if ns >= NS_COUNT {
            return Err(bad_namespace(format!("namespace {ns} does not exist (there are {NS_COUNT}: 0..{})", NS_COUNT - 1)));
        }
        Ok(())
    }

    /// The `ns_head` word (`SeqCst` load), checked well formed: `previous = 0` or `previous <
    /// current`. The table is untrusted (§13): an ill-formed word changes nothing.
    pub(crate) fn load_head(&self, ns: u32) -> Result<(u64, Head), OpError> {
        let w = self.ns_word(ns, NS_HEAD).load(Ordering::SeqCst);
        let h = Head::decode(w);
        if h.previous != 0 && h.previous >= h.current {
            return Err(bad_namespace(format!("namespace {ns}: ns_head {w:#018x} has previous {} ≥ current {}", h.previous, h.current)));
        }
        Ok((w, h))
    }

    /// The `ns_stage` word (`SeqCst` load), checked well formed: bits 48..63 zero, `stager ≤
    /// participant_capacity`.
    pub(crate) fn load_stage(&self, ns: u32) -> Result<(u64, Stage), OpError> {
        let w = self.ns_word(ns, NS_STAGE).load(Ordering::SeqCst);
        let stager = (w >> 32) as u32 & 0xFFFF;
        if w >> 48 != 0 || stager > self.cap() {
            return Err(bad_namespace(format!(
                "namespace {ns}: ns_stage {w:#018x} is ill-formed (bits 48..63 must be zero, stager ≤ {})",
                self.cap()
            )));
        }
        Ok((w, Stage { last: w & NS_VERSION_MAX, stager: stager as u16 }))
    }

    /// The cross-word rule of §18.2, for a head read before a stage: `current ≤ last` and
    /// `previous ≤ last`.
    pub(crate) fn check_pair(&self, ns: u32, h: Head, s: Stage) -> Result<(), OpError> {
        if h.current > s.last || h.previous > s.last {
            return Err(bad_namespace(format!(
                "namespace {ns}: ns_head names version {} above last {}",
                h.current.max(h.previous),
                s.last
            )));
        }
        Ok(())
    }

    /// A participant's pin word.
    pub(crate) fn pin_word(&self, participant: u16) -> &AtomicU64 {
        self.seg.shm.word(self.seg.layout.participant_offset(participant as u32 - 1) + PART_NS_PIN)
    }

    /// Participant `id`'s pin if it is live (§18.3): well formed, its owner alive, and its
    /// `pin_epoch` the low 24 bits of the entry's `epoch` now (acquire: the epoch a registrant
    /// bumped is seen with whatever it did before).
    pub(crate) fn live_pin(&self, id: u16) -> Option<Pin> {
        let pin = Pin::decode(self.pin_word(id).load(Ordering::SeqCst))?;
        let epoch = self.seg.shm.word(self.seg.layout.participant_offset(id as u32 - 1) + PART_EPOCH).load(Ordering::Acquire);
        (pin.epoch24 == epoch & PIN_EPOCH_MASK && self.alive(id)).then_some(pin)
    }

    /// `ns_state(ns)`: reads only.
    pub fn ns_state(&self, ns: u32) -> Result<NsState, OpError> {
        self.check_ns(ns)?;
        let (_, h) = self.load_head(ns)?;
        let (_, s) = self.load_stage(ns)?;
        let pins = (1..=self.cap() as u16)
            .filter_map(|id| self.live_pin(id).filter(|p| p.ns == ns).map(|p| (id, p.version)))
            .collect();
        Ok(NsState { current: h.current, previous: h.previous, last: s.last, stager: s.stager, pins })
    }
}
