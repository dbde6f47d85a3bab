package warmcache

import "sort"

// §18.7 Reclamation: remove the entries of every version of a namespace that is neither
// current, previous, the open stage of a live stager, nor pinned by a live participant.

// NsReclaimResult is the result of NsReclaim.
type NsReclaimResult struct {
	Removed uint64   // entries removed (T8 + T9 each)
	Kept    []uint32 // the keep set, ascending
}

// NsReclaim scans every slot of the segment once and removes the entries of ns's reclaimable
// versions. It is a whole-segment walk: run it off the hot path.
func (c *Cache) NsReclaim(ns uint32) (NsReclaimResult, error) {
	const op = "ns_reclaim"
	if err := c.nsCheck(op, ns); err != nil {
		return NsReclaimResult{}, err
	}
	// Step 1 before step 2: a stage closed (N4) before this load was flipped (N3) before it,
	// so the head load below sees its version if it is still current or previous.
	_, s, err := c.loadStage(op, ns)
	if err != nil {
		return NsReclaimResult{}, err
	}
	_, h, err := c.loadHead(op, ns)
	if err != nil {
		return NsReclaimResult{}, err
	}
	if h.Current > s.Last || h.Previous > s.Last {
		return NsReclaimResult{}, newErr(CodeBadNamespace, op, c.path, "namespace %d: head (%d, %d) above last %d", ns, h.Current, h.Previous, s.Last)
	}
	keep := map[uint32]bool{}
	for _, v := range []uint32{h.Current, h.Previous} {
		if v != 0 {
			keep[v] = true
		}
	}
	if s.Stager != 0 && c.alive(s.Stager) {
		keep[s.Last] = true
	}
	// Step 4, after the head load: every pin stored before a reader's second head load that
	// saw its version is visible here (§18.7 "Never racing with a pinned reader").
	if !c.faults.has(faultNsReclaimIgnoresPins) {
		for _, p := range c.livePins(ns) {
			keep[p.Version] = true
		}
	}
	// FAULT ns_reclaim_ignores_pins skips step 4: the bug of a reclaimer that trusts "not
	// current nor previous" alone, and removes what a pinned reader is still reading.
	c.hooks.at(PointNsReclaimAfterScan)
	var removed uint64
	for sh := uint32(0); sh < c.geo.ShardCount; sh++ {
		for j := uint32(0); j < c.geo.SlotsPerShard; j++ {
			if c.reclaimNsSlot(ns, s.Last, keep, sh, j) {
				removed++
			}
		}
	}
	r := NsReclaimResult{Removed: removed}
	for v := range keep {
		r.Kept = append(r.Kept, v)
	}
	sort.Slice(r.Kept, func(a, b int) bool { return r.Kept[a] < r.Kept[b] })
	return r, nil
}

// reclaimNsSlot removes the entry in (sh, j) if it is one of ns's reclaimable versions (≤ last,
// not kept). The removal is §9.5's from the observed word: T8, key_hash = 0, T9. A slot that
// moved on in between fails the claim CAS and is skipped; owned slots are left to a later pass.
func (c *Cache) reclaimNsSlot(ns, last uint32, keep map[uint32]bool, sh, j uint32) bool {
	so := c.slotOff(sh, j)
	w := Word(c.load(so + SlotState)) // acquire (seq-cst in Go)
	if !w.valid(c.geo.ParticipantCapacity) || (w.State() != StateReady && w.State() != StateStale) {
		return false
	}
	kl := c.load(so + SlotKeyLen)
	if kl <= NsKeyPrefixLen || kl > uint64(c.geo.KeyCapacity) {
		return false // not a namespace key (and never read past the key area, §13)
	}
	kns, v, _, ok := parseNsPrefix(c.load(so+SlotKey), c.load(so+SlotKey+8), nil)
	if !ok || kns != ns || v > last || keep[v] {
		return false
	}
	c.enterHint(sh, j) // §5.1: a window starting at j covers the one slot we claim
	defer c.leaveHint()
	claimed := w.next(StateInvalidated, w.A(), c.id)
	if !c.casState(EvInvalidateClaim, sh, j, w, claimed) { // T8
		return false
	}
	c.store(so+SlotKeyHash, 0)                                                    // we own the slot
	if !c.casState(EvClear, sh, j, claimed, claimed.next(StateEmpty, w.A(), 0)) { // T9
		return false
	}
	c.add(c.shardOff(sh)+ShardInvalidations, 1)
	c.notify()
	return true
}
