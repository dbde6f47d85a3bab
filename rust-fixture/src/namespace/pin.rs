//! A namespace's reader side (PROTOCOL.md §18.3, §18.5): pin a version (N6) and release it (N7),
//! and `ns_get`, pinned or not.

use super::{nskey, Pin, NS_KEY_PREFIX_LEN, PIN_EPOCH_MASK};
use crate::cache::{Cache, HitInfo};
use crate::error::{OpError, OpErrorKind};
use crate::layout::PART_EPOCH;
use crate::ops::READ_RETRIES;
use crate::pause::PausePoint;
use std::sync::atomic::Ordering;

/// What `ns_get` read: the version it read (the pinned one, the current one, or 0 when the
/// namespace has none), whether under a pin, and the hit, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsRead {
    /// The version read (0 when the namespace has none).
    pub version: u64,
    /// Whether the read was under this handle's pin.
    pub pinned: bool,
    /// The entry's value and facts, on a hit.
    pub hit: Option<(Vec<u8>, HitInfo)>,
}

impl Cache {
    /// This handle's own pin, as its word says (only this handle writes it).
    fn own_pin(&self) -> Option<Pin> {
        Pin::decode(self.pin_word(self.id).load(Ordering::SeqCst))
    }

    /// `ns_pin(ns)`: pins the current version so that every later `ns_get` of `ns` by this handle
    /// reads it, and no reclaimer removes it, until `ns_unpin`. Returns the version.
    ///
    /// Store the pin, then look at `ns_head` again: if the version is still current or previous
    /// it was never retired (invariant 3), so any reclaimer that finds it reclaimable loads the
    /// head after our second load, hence after our store, and scans pins after that: it sees
    /// the pin (SeqCst total order, §18.7). Otherwise it may already be going: drop the pin and
    /// try with the new current version.
    pub fn ns_pin(&self, ns: u32) -> Result<u64, OpError> {
        self.check_ns(ns)?;
        if self.pin_word(self.id).load(Ordering::SeqCst) != 0 {
            return Err(OpError::new(OpErrorKind::Pinned, "this handle already holds a pin (one per participant: ns_unpin first)"));
        }
        // Our registration's epoch; it does not change while we hold the entry's lock.
        let epoch = self.seg.shm.word(self.seg.layout.participant_offset(self.id as u32 - 1) + PART_EPOCH).load(Ordering::Acquire);
        for _ in 0..READ_RETRIES {
            let (_, h) = self.load_head(ns)?;
            if h.current == 0 {
                return Err(OpError::new(OpErrorKind::NotFound, format!("namespace {ns} has no current version to pin")));
            }
            let pin = Pin { ns, version: h.current, epoch24: epoch & PIN_EPOCH_MASK };
            self.pause_at(PausePoint::NsPinBeforeStore);
            self.pin_word(self.id).store(pin.encode(), Ordering::SeqCst); // N6
            self.pause_at(PausePoint::NsPinAfterStore);
            let (_, again) = self.load_head(ns)?;
            if again.holds(h.current) {
                return Ok(h.current);
            }
            self.pin_word(self.id).store(0, Ordering::SeqCst);
        }
        Err(OpError::new(OpErrorKind::Busy, format!("namespace {ns}: the current version was retired under {READ_RETRIES} pins in a row")))
    }

    /// `ns_unpin()`: releases this handle's pin (N7). Returns the (namespace, version) it held,
    /// (0, 0) if none.
    pub fn ns_unpin(&self) -> (u32, u64) {
        let held = self.own_pin();
        self.pin_word(self.id).store(0, Ordering::SeqCst);
        held.map_or((0, 0), |p| (p.ns, p.version))
    }

    /// `ns_get(ns, k)`: the entry of user key `k` in the pinned version of `ns`, or else in its
    /// current version (§18.5). A user key no namespace key can hold (empty, or too long for
    /// `key_capacity`) is a miss, as `get` answers for such keys.
    pub fn ns_get(&self, ns: u32, k: &[u8]) -> Result<NsRead, OpError> {
        self.check_ns(ns)?;
        let fits = !k.is_empty() && NS_KEY_PREFIX_LEN + k.len() <= self.seg.layout.geometry.key_capacity as usize;
        if let Some(pin) = self.own_pin().filter(|p| p.ns == ns) {
            // The pinned version is kept by every reclaimer (§18.6): a miss here is a real miss.
            let hit = if fits { self.read_hit(&nskey(ns, pin.version, k)) } else { None };
            return Ok(NsRead { version: pin.version, pinned: true, hit });
        }
        for _ in 0..READ_RETRIES {
            let (_, h) = self.load_head(ns)?;
            if h.current == 0 {
                return Ok(NsRead { version: 0, pinned: false, hit: None });
            }
            self.pause_at(PausePoint::NsGetAfterHead);
            let hit = if fits { self.read_hit(&nskey(ns, h.current, k)) } else { None };
            if hit.is_some() {
                // Entries of a version in ns_head are final and never reclaimed: this hit is the
                // version's entry at our head load.
                return Ok(NsRead { version: h.current, pinned: false, hit });
            }
            // A miss counts only if the version was never retired meanwhile (then no reclaimer
            // can have removed its entry); otherwise read the new current version.
            let (_, again) = self.load_head(ns)?;
            if again.holds(h.current) {
                return Ok(NsRead { version: h.current, pinned: false, hit: None });
            }
        }
        Err(OpError::new(OpErrorKind::Busy, format!("namespace {ns}: the current version was retired under {READ_RETRIES} reads in a row")))
    }

    fn read_hit(&self, key: &[u8]) -> Option<(Vec<u8>, HitInfo)> {
        let mut value = Vec::new();
        self.get_into(key, &mut value).map(|info| (value, info))
    }
}
