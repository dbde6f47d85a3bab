package warmcache

// §18 Versioned namespaces (1.1): the namespace table (header lines 9–10), namespace keys, and
// the table transitions N1–N5 (stage, takeover, flip, close, rollback). Pins and namespace
// reads are in namespace_pin.go, reclamation in namespace_reclaim.go; the layout constants and
// diagrams are in layout.go.
//
// Every access to a table word is a Go atomic, hence sequentially consistent, which is the
// ordering §18.4/§18.5 name for all of them (the proofs of §18.6 and §18.7 use the single total
// order of those accesses). The words are read fresh on every operation: another process may
// change them at any time.

import "encoding/binary"

// NsHeadWord is a decoded ns_head.
type NsHeadWord struct{ Current, Previous uint32 }

// NsStageWord is a decoded ns_stage: Last is the highest version handed out, Stager the owner
// of the open stage (0: none; the open stage's version is then Last).
type NsStageWord struct {
	Last   uint32
	Stager uint16
}

func decodeHead(w uint64) NsHeadWord { return NsHeadWord{uint32(w), uint32(w >> 32)} }
func (h NsHeadWord) word() uint64    { return uint64(h.Current) | uint64(h.Previous)<<32 }

// wellFormed is §18.2's rule for ns_head alone: previous = 0 or previous < current.
func (h NsHeadWord) wellFormed() bool { return h.Previous == 0 || h.Previous < h.Current }

// holds says whether v is the current or the previous version (never true for v = 0).
func (h NsHeadWord) holds(v uint32) bool { return v != 0 && (v == h.Current || v == h.Previous) }

func decodeStage(w uint64) (NsStageWord, bool) {
	return NsStageWord{uint32(w), uint16(w >> 32)}, w>>48 == 0
}
func (s NsStageWord) word() uint64 { return uint64(s.Last) | uint64(s.Stager)<<32 }

func nsHeadOff(ns uint32) uint64  { return NsTableOffset + uint64(ns)*NsEntrySize + NsHead }
func nsStageOff(ns uint32) uint64 { return NsTableOffset + uint64(ns)*NsEntrySize + NsStage }

// NsKey builds nskey(ns, v, k) (§18.1): word 0 = NS_KEY_MAGIC | ns << 48, word 1 = v, then k.
func NsKey(ns uint32, v uint32, k []byte) []byte {
	out := make([]byte, NsKeyPrefixLen+len(k))
	binary.LittleEndian.PutUint64(out[0:], NsKeyMagic|uint64(ns)<<48)
	binary.LittleEndian.PutUint64(out[8:], uint64(v))
	copy(out[NsKeyPrefixLen:], k)
	return out
}

// ParseNsKey is the inverse of NsKey: ok only for a namespace key as §18.1 defines one.
func ParseNsKey(key []byte) (ns uint32, v uint32, k []byte, ok bool) {
	if len(key) <= NsKeyPrefixLen {
		return 0, 0, nil, false
	}
	return parseNsPrefix(binary.LittleEndian.Uint64(key[0:]), binary.LittleEndian.Uint64(key[8:]), key[NsKeyPrefixLen:])
}

// parseNsPrefix decides on the two prefix words (the reclaim scan reads them from a slot).
func parseNsPrefix(w0, w1 uint64, rest []byte) (uint32, uint32, []byte, bool) {
	if w0&(1<<48-1) != NsKeyMagic || w0>>48 >= NsCount || w1 == 0 || w1 > NsVersionMax {
		return 0, 0, nil, false
	}
	return uint32(w0 >> 48), uint32(w1), rest, true
}

// nsCheck refuses what no namespace operation may touch: a handle speaking 1.0 (§14: a 1.0
// build has no namespaces), and an index ≥ NS_COUNT.
func (c *Cache) nsCheck(op string, ns uint32) error {
	if err := c.checkOpen(op); err != nil {
		return err
	}
	if c.minor < 1 {
		return newErr(CodeUnsupported, op, c.path, "namespaces are protocol 1.1; this handle speaks 1.0")
	}
	if ns >= NsCount {
		return newErr(CodeBadNamespace, op, c.path, "namespace %d: only 0..%d exist", ns, NsCount-1)
	}
	return nil
}

// loadHead reads ns_head and refuses an ill-formed one (§18.2).
func (c *Cache) loadHead(op string, ns uint32) (uint64, NsHeadWord, error) {
	w := c.load(nsHeadOff(ns))
	h := decodeHead(w)
	if !h.wellFormed() {
		return w, h, newErr(CodeBadNamespace, op, c.path, "namespace %d: ill-formed ns_head %#x (previous ≥ current)", ns, w)
	}
	return w, h, nil
}

// loadStage reads ns_stage and refuses an ill-formed one (§18.2).
func (c *Cache) loadStage(op string, ns uint32) (uint64, NsStageWord, error) {
	w := c.load(nsStageOff(ns))
	s, ok := decodeStage(w)
	if !ok || uint32(s.Stager) > c.geo.ParticipantCapacity {
		return w, s, newErr(CodeBadNamespace, op, c.path, "namespace %d: ill-formed ns_stage %#x", ns, w)
	}
	return w, s, nil
}

// NsStageResult is the result of NsStage.
type NsStageResult struct {
	Version  uint32
	TookOver bool // the previous stager was dead (N2)
}

// NsStage opens a stage of namespace ns (N1, or N2 over a dead stager): its version is one above
// every version ever handed out, so no entry of an older stage can be in it (invariant 1).
func (c *Cache) NsStage(ns uint32) (NsStageResult, error) {
	const op = "ns_stage"
	if err := c.nsCheck(op, ns); err != nil {
		return NsStageResult{}, err
	}
	for i := 0; i < WaitSpins; i++ {
		w, s, err := c.loadStage(op, ns)
		if err != nil {
			return NsStageResult{}, err
		}
		if s.Stager != 0 && c.alive(s.Stager) { // our own open stage included
			return NsStageResult{}, newErr(CodeBusy, op, c.path, "namespace %d: participant %d has version %d open", ns, s.Stager, s.Last)
		}
		if uint64(s.Last) == NsVersionMax {
			return NsStageResult{}, newErr(CodeFull, op, c.path, "namespace %d: every version up to 2^32−1 was handed out", ns)
		}
		next := NsStageWord{s.Last + 1, c.id}
		if casU64(c.u64(nsStageOff(ns)), w, next.word()) {
			if c.faults.has(faultNsFlipBeforeEntries) {
				// FAULT ns_flip_before_entries: the bug of a producer that publishes the new
				// version pointer when it starts a stage: readers read a version whose entries
				// are still being written (a mix of present and missing keys).
				hw := c.load(nsHeadOff(ns))
				casU64(c.u64(nsHeadOff(ns)), hw, NsHeadWord{next.Last, decodeHead(hw).Current}.word())
			}
			return NsStageResult{next.Last, s.Stager != 0}, nil
		}
		relax(i)
	}
	return NsStageResult{}, newErr(CodeBusy, op, c.path, "namespace %d: ns_stage kept changing", ns)
}

// ownStage returns the version of our open stage of ns, or not_staging.
func (c *Cache) ownStage(op string, ns uint32) (uint32, error) {
	_, s, err := c.loadStage(op, ns)
	if err != nil {
		return 0, err
	}
	if s.Stager != c.id {
		return 0, newErr(CodeNotStaging, op, c.path, "namespace %d: this handle (participant %d) has no open stage (stager %d)", ns, c.id, s.Stager)
	}
	return s.Last, nil
}

// NsPutResult is the result of NsPut: the put's, plus the staged version written.
type NsPutResult struct {
	PutResult
	NsVersion uint32
}

// NsPut writes k = value into our open stage of ns: an ordinary put of nskey(ns, L, k) with an
// automatic version and no expiry (§18.5). Until the flip no ns_get reads it.
func (c *Cache) NsPut(ns uint32, k, value []byte) (NsPutResult, error) {
	const op = "ns_put"
	if err := c.nsCheck(op, ns); err != nil {
		return NsPutResult{}, err
	}
	if len(k) < 1 || NsKeyPrefixLen+len(k) > int(c.geo.KeyCapacity) {
		return NsPutResult{}, newErr(CodeTooLarge, op, c.path, "user key is %d bytes, allowed 1..%d (key_capacity %d less the %d-byte prefix)",
			len(k), int(c.geo.KeyCapacity)-NsKeyPrefixLen, c.geo.KeyCapacity, NsKeyPrefixLen)
	}
	v, err := c.ownStage(op, ns)
	if err != nil {
		return NsPutResult{}, err
	}
	r, err := c.Put(NsKey(ns, v, k), value, PutOptions{})
	return NsPutResult{r, v}, err
}

// NsFlipResult is the result of NsFlip.
type NsFlipResult struct{ Version, Previous uint32 }

// NsFlip makes our open stage of ns the current version (N3) and closes the stage (N4). Every
// NsPut of the stage has returned, so its publish precedes the flip CAS: a reader that sees the
// new head sees every entry (§18.6).
func (c *Cache) NsFlip(ns uint32) (NsFlipResult, error) {
	const op = "ns_flip"
	if err := c.nsCheck(op, ns); err != nil {
		return NsFlipResult{}, err
	}
	v, err := c.ownStage(op, ns)
	if err != nil {
		return NsFlipResult{}, err
	}
	for i := 0; ; i++ {
		if i == WaitSpins {
			return NsFlipResult{}, newErr(CodeBusy, op, c.path, "namespace %d: ns_head kept changing", ns)
		}
		w, h, err := c.loadHead(op, ns)
		if err != nil {
			return NsFlipResult{}, err
		}
		if h.Current == v && c.faults.has(faultNsFlipBeforeEntries) {
			// FAULT ns_flip_before_entries: ns_stage flipped already; only close the stage.
			casU64(c.u64(nsStageOff(ns)), NsStageWord{v, c.id}.word(), NsStageWord{v, 0}.word())
			return NsFlipResult{v, h.Previous}, nil
		}
		if h.Current >= v {
			return NsFlipResult{}, newErr(CodeBadNamespace, op, c.path, "namespace %d: current %d is not below the staged %d", ns, h.Current, v)
		}
		// N3; fails only under a concurrent rollback (N5), then we retry on the new head.
		if casU64(c.u64(nsHeadOff(ns)), w, NsHeadWord{v, h.Current}.word()) {
			c.hooks.at(PointNsFlipAfterCAS)
			// N4: only the live owner changes an open stage, so this cannot fail unless the
			// table is broken by someone outside the rules.
			if !casU64(c.u64(nsStageOff(ns)), NsStageWord{v, c.id}.word(), NsStageWord{v, 0}.word()) {
				return NsFlipResult{}, newErr(CodeBadNamespace, op, c.path, "namespace %d: our open stage %d was changed by another", ns, v)
			}
			// No generation bump: §11 bumps it for slot publishes only (the entries' own
			// publishes already did).
			return NsFlipResult{v, h.Current}, nil
		}
		relax(i)
	}
}

// NsRollbackResult is the result of NsRollback.
type NsRollbackResult struct{ Version, Retired uint32 }

// NsRollback flips ns back to its previous version (N5): (c, p) → (p, 0). The rolled-back
// version c is retired (it never returns, invariant 3) and is reclaimable once unpinned.
func (c *Cache) NsRollback(ns uint32) (NsRollbackResult, error) {
	const op = "ns_rollback"
	if err := c.nsCheck(op, ns); err != nil {
		return NsRollbackResult{}, err
	}
	for i := 0; i < WaitSpins; i++ {
		w, h, err := c.loadHead(op, ns)
		if err != nil {
			return NsRollbackResult{}, err
		}
		if h.Previous == 0 {
			return NsRollbackResult{}, newErr(CodeNoPrevious, op, c.path, "namespace %d: no previous version (current %d)", ns, h.Current)
		}
		if casU64(c.u64(nsHeadOff(ns)), w, NsHeadWord{h.Previous, 0}.word()) {
			return NsRollbackResult{h.Previous, h.Current}, nil
		}
		relax(i)
	}
	return NsRollbackResult{}, newErr(CodeBusy, op, c.path, "namespace %d: ns_head kept changing", ns)
}

// NsLivePin is one live pin of a namespace (NsState, §18.3).
type NsLivePin struct {
	Participant uint16
	Version     uint32
}

// NsStateResult is the result of NsState: the table entry and the live pins (§18.3).
type NsStateResult struct {
	Current, Previous, Last uint32
	Stager                  uint16
	Pins                    []NsLivePin
}

// NsState reads namespace ns's table entry and its live pins. It changes nothing.
func (c *Cache) NsState(ns uint32) (NsStateResult, error) {
	const op = "ns_state"
	if err := c.nsCheck(op, ns); err != nil {
		return NsStateResult{}, err
	}
	_, h, err := c.loadHead(op, ns)
	if err != nil {
		return NsStateResult{}, err
	}
	_, s, err := c.loadStage(op, ns)
	if err != nil {
		return NsStateResult{}, err
	}
	return NsStateResult{h.Current, h.Previous, s.Last, s.Stager, c.livePins(ns)}, nil
}
