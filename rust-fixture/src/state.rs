//! The slot state word (PROTOCOL.md §7.1, §8.1) and its validation.
//!
//! ```text
//!  63                              32 31              16 15     9  8  7        0
//!  +---------------------------------+------------------+--------+---+----------+
//!  |              seq                |      owner       |  zero  | A |  state   |
//!  +---------------------------------+------------------+--------+---+----------+
//! ```
//!
//! Every transition is one compare-and-swap of the whole word from the exact value observed,
//! and increments `seq` (mod 2^32) by exactly 1.

/// The six slot states (§8.1). Codes are the values of bits 0..7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Free.
    Empty = 0,
    /// Claimed for a first write.
    Writing = 1,
    /// Published, readable.
    Ready = 2,
    /// Readable while its owner writes the other record.
    Refreshing = 3,
    /// Readable, marked for recomputation (T7).
    Stale = 4,
    /// Claimed for removal.
    Invalidated = 5,
}

impl State {
    /// Every state, by code.
    pub const ALL: [State; 6] =
        [State::Empty, State::Writing, State::Ready, State::Refreshing, State::Stale, State::Invalidated];

    /// The state name used in events and JSON (§8.1, §8.4).
    pub fn name(self) -> &'static str {
        match self {
            State::Empty => "EMPTY",
            State::Writing => "WRITING",
            State::Ready => "READY",
            State::Refreshing => "REFRESHING",
            State::Stale => "STALE",
            State::Invalidated => "INVALIDATED",
        }
    }

    #[inline(always)]
    /// The state of code bits 0..7, if known.
    pub fn from_code(code: u64) -> Option<State> {
        Some(match code {
            0 => State::Empty,
            1 => State::Writing,
            2 => State::Ready,
            3 => State::Refreshing,
            4 => State::Stale,
            5 => State::Invalidated,
            _ => return None,
        })
    }

    /// States that carry an owner (the claimer).
    #[inline(always)]
    pub fn is_owned(self) -> bool {
        matches!(self, State::Writing | State::Refreshing | State::Invalidated)
    }

    /// States whose `record[A]` a reader may return.
    #[inline(always)]
    pub fn is_readable(self) -> bool {
        matches!(self, State::Ready | State::Refreshing | State::Stale)
    }
}

const STATE_MASK: u64 = 0xFF;
const ACTIVE_BIT: u64 = 1 << 8;
const ZERO_BITS: u64 = 0xFE00; // bits 9..15
const OWNER_SHIFT: u32 = 16;
const SEQ_SHIFT: u32 = 32;

/// A raw state word as loaded from a slot. It may be garbage; [`Word::decode`] validates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Word(pub u64);

/// A state word that passed validation: a known state, bits 9..15 zero, and an owner that is
/// non-zero and ≤ `participant_capacity` exactly in the owned states (§8.1, §13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The state.
    pub state: State,
    /// `A`: which record is active (0 or 1).
    pub active: u32,
    /// The owner, 0 in unowned states.
    pub owner: u16,
    /// The transition count.
    pub seq: u32,
}

impl Word {
    #[inline(always)]
    /// The word of these fields.
    pub fn make(state: State, active: u32, owner: u16, seq: u32) -> Word {
        Word(
            state as u64
                | ((active as u64 & 1) << 8)
                | ((owner as u64) << OWNER_SHIFT)
                | ((seq as u64) << SEQ_SHIFT),
        )
    }

    #[inline(always)]
    /// Bits 32..63.
    pub fn seq(self) -> u32 {
        (self.0 >> SEQ_SHIFT) as u32
    }

    #[inline(always)]
    /// Bit 8.
    pub fn active(self) -> u32 {
        ((self.0 & ACTIVE_BIT) >> 8) as u32
    }

    #[inline(always)]
    /// Bits 16..31.
    pub fn owner(self) -> u16 {
        (self.0 >> OWNER_SHIFT) as u16
    }

    /// Validates the word. `None` means **impossible**: readers treat the slot as a miss,
    /// writers leave it alone, `dump` reports it (§8.1).
    #[inline(always)]
    pub fn decode(self, participant_capacity: u32) -> Option<Decoded> {
        let state = State::from_code(self.0 & STATE_MASK)?;
        if self.0 & ZERO_BITS != 0 {
            return None;
        }
        let owner = self.owner();
        if state.is_owned() {
            // An owner outside 1..=participant_capacity names no participant entry (§13).
            if owner == 0 || owner as u32 > participant_capacity {
                return None;
            }
        } else if owner != 0 {
            return None;
        }
        Some(Decoded { state, active: self.active(), owner, seq: self.seq() })
    }

    /// The word reached from `self` by one transition: new state, `active`, `owner`, seq+1.
    #[inline(always)]
    pub fn next(self, state: State, active: u32, owner: u16) -> Word {
        Word::make(state, active, owner, self.seq().wrapping_add(1))
    }
}

/// `snapshot_ok(s1, s2)` of §9.2: true iff the words are equal, or exactly one transition lies
/// between them and that transition cannot have written `record[A(s1)]` or the key.
#[inline(always)]
pub fn snapshot_ok(s1: Word, s2: Word, participant_capacity: u32) -> bool {
    if s1 == s2 {
        return true;
    }
    if s2.seq() != s1.seq().wrapping_add(1) {
        return false;
    }
    let (Some(d1), Some(d2)) = (s1.decode(participant_capacity), s2.decode(participant_capacity)) else {
        return false;
    };
    match (d1.state, d2.state) {
        // T7 mark_stale: no data written.
        (State::Ready, State::Stale) => d1.active == d2.active,
        // T4 refresh_claim: the owner will write the *other* record.
        (State::Ready | State::Stale, State::Refreshing) => d1.active == d2.active,
        // T5/T6/T13: our record was active under REFRESHING, so nobody wrote it; T5 only made it
        // inactive.
        (State::Refreshing, State::Ready) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_validate() {
        let w = Word::make(State::Refreshing, 1, 7, 0xFFFF_FFFF);
        assert_eq!(w.0, 0xFFFF_FFFF_0007_0103);
        let d = w.decode(64).unwrap();
        assert_eq!((d.state, d.active, d.owner, d.seq), (State::Refreshing, 1, 7, u32::MAX));
        assert_eq!(w.next(State::Ready, 0, 0).seq(), 0);
        assert!(Word(6).decode(64).is_none());
        assert!(Word(2 | 1 << 9).decode(64).is_none());
        assert!(Word::make(State::Writing, 0, 0, 1).decode(64).is_none());
        assert!(Word::make(State::Writing, 0, 65, 1).decode(64).is_none());
        assert!(Word::make(State::Ready, 0, 3, 1).decode(64).is_none());
    }

    #[test]
    fn snapshots() {
        let r = Word::make(State::Ready, 0, 0, 10);
        assert!(snapshot_ok(r, r, 8));
        assert!(snapshot_ok(r, Word::make(State::Stale, 0, 0, 11), 8));
        assert!(!snapshot_ok(r, Word::make(State::Stale, 1, 0, 11), 8));
        assert!(snapshot_ok(r, Word::make(State::Refreshing, 0, 2, 11), 8));
        assert!(!snapshot_ok(r, Word::make(State::Refreshing, 0, 2, 12), 8));
        assert!(snapshot_ok(Word::make(State::Refreshing, 0, 2, 11), Word::make(State::Ready, 1, 0, 12), 8));
        assert!(!snapshot_ok(r, Word::make(State::Invalidated, 0, 2, 11), 8));
    }
}
