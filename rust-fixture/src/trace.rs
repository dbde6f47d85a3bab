//! Optional transition recorder (PROTOCOL.md §8.4, DRIVER.md `transitions`).
//!
//! When enabled, every successful state-word CAS records
//! `{event, shard, slot, from, to, seq, owner, gseq}`; `gseq` comes from a fetch-add on the
//! header's `event_seq`. When disabled nothing is touched (not even `event_seq`), so the hot
//! path pays one predictable branch.

use crate::layout::HDR_EVENT_SEQ;
use crate::shm::Shm;
use crate::state::State;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

/// One recorded transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Event name of §8.2 (`claim`, `publish`, `refresh_claim`, …).
    pub event: &'static str,
    /// Shard of the slot.
    pub shard: u32,
    /// Slot index within the shard.
    pub slot: u32,
    /// State before.
    pub from: State,
    /// State after.
    pub to: State,
    /// The slot's new `seq`.
    pub seq: u32,
    /// The participant named by the owned state of the transition: the new owner for claims,
    /// the releasing owner for publishes/aborts/clears, the dead owner for reclaims, 0 for
    /// `mark_stale`.
    pub owner: u16,
    /// The value the fetch-add on `event_seq` returned (the value before the add; the first
    /// event of a segment is 0), a global order (§8.4).
    pub gseq: u64,
}

/// Recorder owned by a cache handle.
#[derive(Debug, Default)]
pub struct Tracer {
    enabled: bool,
    events: Mutex<Vec<Event>>,
}

impl Tracer {
    /// A recorder that records only if `enabled`.
    pub fn new(enabled: bool) -> Tracer {
        Tracer { enabled, events: Mutex::new(Vec::new()) }
    }

    #[inline(always)]
    /// Whether it records.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Records a transition that has just succeeded.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(&self, shm: &Shm, event: &'static str, shard: u32, slot: u32, from: State, to: State, seq: u32, owner: u16) {
        if !self.enabled {
            return;
        }
        self.record_slow(shm, Event { event, shard, slot, from, to, seq, owner, gseq: 0 });
    }

    #[cold]
    fn record_slow(&self, shm: &Shm, mut ev: Event) {
        // AcqRel: a total order on one word; each process's own fetch-adds follow its program
        // order, and acquire makes an event seen as earlier happen-before ours.
        ev.gseq = shm.word(HDR_EVENT_SEQ).fetch_add(1, Ordering::AcqRel);
        self.events.lock().unwrap_or_else(|p| p.into_inner()).push(ev);
    }

    /// Takes every event recorded so far.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
