//! A namespace's producer side (PROTOCOL.md §18.4, §18.5): open a stage (N1, or N2 over a dead
//! stager), write its entries, flip it current (N3 then N4), and roll back (N5).

use super::{nskey, Head, Stage, NS_HEAD, NS_KEY_PREFIX_LEN, NS_STAGE, NS_VERSION_MAX};
use crate::cache::{Cache, PutOptions, PutOutcome};
use crate::error::{OpError, OpErrorKind};
use crate::faults::Fault;
use crate::ops::{backoff, WAIT_SPINS};
use crate::pause::PausePoint;
use std::sync::atomic::Ordering;

/// `ns_stage`'s result: the version handed out, and whether a dead stager's stage was taken over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageOpened {
    /// The version handed out.
    pub version: u64,
    /// A dead stager's stage was taken over (N2).
    pub took_over: bool,
}

impl Cache {
    /// `ns_stage(ns)`: hands out version `last + 1` to this participant (N1), or takes over the
    /// stage of a dead stager (N2, abandoning its version). One open stage per namespace: a live
    /// stager, this handle included, makes it `busy`.
    pub fn ns_stage(&self, ns: u32) -> Result<StageOpened, OpError> {
        self.check_ns(ns)?;
        for i in 0..WAIT_SPINS {
            let (w, s) = self.load_stage(ns)?;
            if s.stager != 0 && self.alive(s.stager) {
                return Err(OpError::new(OpErrorKind::Busy, format!("namespace {ns}: participant {} has a stage open", s.stager)));
            }
            if s.last == NS_VERSION_MAX {
                return Err(OpError::new(OpErrorKind::Full, format!("namespace {ns} has handed out every version")));
            }
            let next = Stage { last: s.last + 1, stager: self.id };
            // SeqCst CAS from the exact word (§18.4): two stagers never get one version.
            if self.ns_word(ns, NS_STAGE).compare_exchange(w, next.encode(), Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                if self.faults.has(Fault::NsFlipBeforeEntries) {
                    // FAULT ns_flip_before_entries: the bug of a producer that publishes the new
                    // version when it starts the stage: readers read a version still being written.
                    let head = self.ns_word(ns, NS_HEAD);
                    let hw = head.load(Ordering::SeqCst);
                    let h = Head::decode(hw);
                    let _ = head.compare_exchange(hw, Head { current: next.last, previous: h.current }.encode(), Ordering::SeqCst, Ordering::SeqCst);
                }
                return Ok(StageOpened { version: next.last, took_over: s.stager != 0 });
            }
            backoff(i);
        }
        Err(OpError::new(OpErrorKind::Busy, format!("namespace {ns}: ns_stage kept changing for {WAIT_SPINS} tries")))
    }

    /// The version of this handle's open stage in `ns`, else `not_staging`.
    fn own_stage(&self, ns: u32) -> Result<(u64, Stage), OpError> {
        self.check_ns(ns)?;
        let (w, s) = self.load_stage(ns)?;
        if s.stager != self.id {
            return Err(OpError::new(OpErrorKind::NotStaging, format!("namespace {ns}: this handle has no open stage")));
        }
        Ok((w, s))
    }

    /// `ns_put(ns, k, value)`: an ordinary put (§9.4: automatic version, no TTL, no grace) of
    /// `nskey(ns, L, k)`, `L` the open stage's version. Readers cannot see it before the flip:
    /// their keys name the current version. Returns the put's outcome and `L`.
    pub fn ns_put(&self, ns: u32, k: &[u8], value: &[u8]) -> Result<(PutOutcome, u64), OpError> {
        let (_, s) = self.own_stage(ns)?;
        let cap = self.seg.layout.geometry.key_capacity as usize;
        if k.is_empty() || NS_KEY_PREFIX_LEN + k.len() > cap {
            return Err(OpError::new(
                OpErrorKind::TooLarge,
                format!("a namespace user key is 1..{} bytes (16 + len ≤ key_capacity {cap}); got {}", cap.saturating_sub(NS_KEY_PREFIX_LEN), k.len()),
            ));
        }
        let o = self.put(&nskey(ns, s.last, k), value, PutOptions::default())?;
        Ok((o, s.last))
    }

    /// `ns_flip(ns)`: makes the open stage's version current (N3) and closes the stage (N4).
    /// Returns (now current, the version it replaced).
    ///
    /// Every `ns_put` of the stage returned before this; their publishes are release CASes
    /// ordered before the SeqCst N3 in this thread, so a reader whose `ns_head` load sees N3
    /// sees every entry of the version (§18.6).
    pub fn ns_flip(&self, ns: u32) -> Result<(u64, u64), OpError> {
        let (stage_word, s) = self.own_stage(ns)?;
        let head = self.ns_word(ns, NS_HEAD);
        let mut flipped = None;
        for i in 0..WAIT_SPINS {
            let (w, h) = self.load_head(ns)?;
            self.check_pair(ns, h, s)?;
            if h.current == s.last && self.faults.has(Fault::NsFlipBeforeEntries) {
                // FAULT ns_flip_before_entries: ns_stage flipped already; only close the stage.
                flipped = Some(h.previous);
                break;
            }
            // N3: (c, p) → (L, c). A CAS fails only under a concurrent rollback (N5).
            if head.compare_exchange(w, Head { current: s.last, previous: h.current }.encode(), Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                flipped = Some(h.current);
                break;
            }
            backoff(i);
        }
        let Some(previous) = flipped else {
            return Err(OpError::new(OpErrorKind::Busy, format!("namespace {ns}: ns_head kept changing for {WAIT_SPINS} tries")));
        };
        self.pause_at(PausePoint::NsFlipAfterCas);
        // N4: only the live owner changes an open stage, so this CAS from the word we read
        // cannot fail; if the table was scribbled on meanwhile, the stage simply stays as found.
        let _ = self.ns_word(ns, NS_STAGE).compare_exchange(
            stage_word,
            Stage { last: s.last, stager: 0 }.encode(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        Ok((s.last, previous))
    }

    /// `ns_rollback(ns)`: makes the previous version current again (N5), retiring the current
    /// one. Returns (now current, retired); `no_previous` when there is none.
    pub fn ns_rollback(&self, ns: u32) -> Result<(u64, u64), OpError> {
        self.check_ns(ns)?;
        let head = self.ns_word(ns, NS_HEAD);
        for i in 0..WAIT_SPINS {
            let (w, h) = self.load_head(ns)?;
            if h.previous == 0 {
                return Err(OpError::new(OpErrorKind::NoPrevious, format!("namespace {ns} has no previous version")));
            }
            // N5: (c, p) → (p, 0), SeqCst from the exact word.
            if head.compare_exchange(w, Head { current: h.previous, previous: 0 }.encode(), Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return Ok((h.previous, h.current));
            }
            backoff(i);
        }
        Err(OpError::new(OpErrorKind::Busy, format!("namespace {ns}: ns_head kept changing for {WAIT_SPINS} tries")))
    }
}
