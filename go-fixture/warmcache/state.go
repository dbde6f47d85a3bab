package warmcache

// §7.1 State word:
//
//	 63                              32 31              16 15     9  8  7        0
//	 +---------------------------------+------------------+--------+---+----------+
//	 |              seq                |      owner       |  zero  | A |  state   |
//	 +---------------------------------+------------------+--------+---+----------+

// State is a slot state code (§8.1).
type State uint8

// §8.1 states.
const (
	StateEmpty       State = 0 // EMPTY
	StateWriting     State = 1 // WRITING
	StateReady       State = 2 // READY
	StateRefreshing  State = 3 // REFRESHING
	StateStale       State = 4 // STALE
	StateInvalidated State = 5 // INVALIDATED
)

var stateNames = [...]string{"EMPTY", "WRITING", "READY", "REFRESHING", "STALE", "INVALIDATED"}

// String returns the spec's state name, or "IMPOSSIBLE(n)".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "IMPOSSIBLE"
}

// Owned reports whether the state names an owner (WRITING, REFRESHING, INVALIDATED).
func (s State) Owned() bool {
	return s == StateWriting || s == StateRefreshing || s == StateInvalidated
}

// Readable reports whether readers may return record[A] (READY, REFRESHING, STALE).
func (s State) Readable() bool {
	return s == StateReady || s == StateRefreshing || s == StateStale
}

const (
	wordStateMask = 0xFF
	wordABit      = 1 << 8
	wordZeroMask  = 0xFE00 // bits 9..15 must be zero
	wordOwnerShft = 16
	wordSeqShift  = 32
)

// Word is a decoded-on-demand state word.
type Word uint64

func (w Word) State() State  { return State(w & wordStateMask) }
func (w Word) A() uint64     { return (uint64(w) >> 8) & 1 }
func (w Word) Owner() uint16 { return uint16(uint64(w) >> wordOwnerShft) }
func (w Word) Seq() uint32   { return uint32(uint64(w) >> wordSeqShift) }

// MakeWord packs a state word.
func MakeWord(st State, a uint64, owner uint16, seq uint32) Word {
	return Word(uint64(st) | (a&1)<<8 | uint64(owner)<<wordOwnerShft | uint64(seq)<<wordSeqShift)
}

// next returns the word for a transition from w to state st with active record a and owner,
// incrementing seq by exactly one (mod 2^32), as every transition must (§8.2).
func (w Word) next(st State, a uint64, owner uint16) Word {
	return MakeWord(st, a, owner, w.Seq()+1)
}

// valid reports whether w is a possible state word for a segment whose participant capacity is
// pc (§8.1 "impossible" words, §13 "owners valid").
func (w Word) valid(pc uint32) bool {
	st := w.State()
	if st > StateInvalidated || uint64(w)&wordZeroMask != 0 {
		return false
	}
	o := w.Owner()
	if st.Owned() {
		return o != 0 && uint32(o) <= pc
	}
	return o == 0
}

// Event names (§8.2), reported by tracing fixtures.
const (
	EvClaim           = "claim"            // T1
	EvPublish         = "publish"          // T2
	EvAbort           = "abort"            // T3
	EvRefreshClaim    = "refresh_claim"    // T4
	EvRefreshPublish  = "refresh_publish"  // T5
	EvRefreshAbort    = "refresh_abort"    // T6
	EvMarkStale       = "mark_stale"       // T7
	EvInvalidateClaim = "invalidate_claim" // T8
	EvClear           = "clear"            // T9
	EvEvict           = "evict"            // T10
	EvExpire          = "expire"           // T11
	EvReclaim         = "reclaim"          // T12, T13, T14
)
