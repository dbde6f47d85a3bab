package warmcache

// §18.3, §18.5: the pin word (participant word 56), NsPin/NsUnpin, and NsGet, the namespace
// read. A handle holds at most one pin; it belongs to the handle (its participant entry), so
// goroutines sharing a handle share its pin.

// pinWord builds ns_pin: 0..31 version, 32..34 namespace, 40..63 pin_epoch.
func pinWord(ns uint32, v uint32, epoch uint64) uint64 {
	return uint64(v) | uint64(ns)<<32 | (epoch&NsPinEpochMask)<<40
}

// decodePin returns (ns, version, pin_epoch) of a well-formed pin, ok false for no pin (0) and
// for an ill-formed word (bits 35..39 set, or version 0 with other bits set).
func decodePin(w uint64) (ns uint32, v uint32, epoch uint64, ok bool) {
	if uint32(w) == 0 || (w>>35)&0x1F != 0 {
		return 0, 0, 0, false
	}
	return uint32(w>>32) & 7, uint32(w), w >> 40, true
}

func (c *Cache) ownPinOff() uint64 { return c.partOff(uint32(c.id)-1) + PartNsPin }

// ownEpoch is our registration's epoch. Read from the segment, not remembered: it cannot change
// while we hold the entry's lock (only a registrant moves it), so the load is exact.
func (c *Cache) ownEpoch() uint64 { return c.load(c.partOff(uint32(c.id)-1) + PartEpoch) }

// NsPinResult is the result of NsPin and NsUnpin.
type NsPinResult struct {
	Ns      uint32
	Version uint32
}

// NsPin pins the current version of ns (N6): until NsUnpin (or the handle's death) no reclaimer
// removes its entries, and NsGet of ns reads it whatever flips happen.
func (c *Cache) NsPin(ns uint32) (NsPinResult, error) {
	const op = "ns_pin"
	if err := c.nsCheck(op, ns); err != nil {
		return NsPinResult{}, err
	}
	if w := c.load(c.ownPinOff()); w != 0 {
		pns, pv, _, _ := decodePin(w)
		return NsPinResult{}, newErr(CodePinned, op, c.path, "this handle already pins version %d of namespace %d", pv, pns)
	}
	for i := 0; i < ReadRetries; i++ {
		_, h, err := c.loadHead(op, ns)
		if err != nil {
			return NsPinResult{}, err
		}
		if h.Current == 0 {
			return NsPinResult{}, newErr(CodeNotFound, op, c.path, "namespace %d has no current version", ns)
		}
		c.hooks.at(PointNsPinBeforeStore)
		c.store(c.ownPinOff(), pinWord(ns, h.Current, c.ownEpoch())) // N6, seq-cst
		c.hooks.at(PointNsPinAfterStore)
		// Only a version still in ns_head after our store is safe: then no reclaimer can have
		// judged it reclaimable before seeing our pin (§18.6; a retired version never returns).
		if _, h2, err := c.loadHead(op, ns); err == nil && h2.holds(h.Current) {
			return NsPinResult{ns, h.Current}, nil
		}
		c.store(c.ownPinOff(), 0) // retired before our pin was seen: try the new current
	}
	return NsPinResult{}, newErr(CodeBusy, op, c.path, "namespace %d: the current version kept retiring before the pin held", ns)
}

// NsUnpin releases the handle's pin (N7); Version 0 if it held none.
func (c *Cache) NsUnpin() (NsPinResult, error) {
	const op = "ns_unpin"
	if err := c.checkOpen(op); err != nil {
		return NsPinResult{}, err
	}
	if c.minor < 1 {
		return NsPinResult{}, newErr(CodeUnsupported, op, c.path, "namespaces are protocol 1.1; this handle speaks 1.0")
	}
	w := c.load(c.ownPinOff())
	c.store(c.ownPinOff(), 0) // seq-cst: every read under the pin is before it
	ns, v, _, _ := decodePin(w)
	return NsPinResult{ns, v}, nil
}

// livePins lists the live pins of ns (§18.3): well formed, owner alive, pin_epoch the owner's
// current epoch. Each pin word is loaded once; the epoch and liveness after it only ever make a
// dead pin void, never a live one (a live pinner holds its lock and its epoch).
func (c *Cache) livePins(ns uint32) []NsLivePin {
	var out []NsLivePin
	for i := uint32(0); i < c.geo.ParticipantCapacity; i++ {
		off := c.partOff(i)
		pns, v, pe, ok := decodePin(c.load(off + PartNsPin))
		if !ok || pns != ns {
			continue
		}
		if pe != c.load(off+PartEpoch)&NsPinEpochMask || !c.lockHeld(uint16(i+1)) {
			continue // a dead pinner's leftover, voided by its death or its successor's epoch
		}
		out = append(out, NsLivePin{uint16(i + 1), v})
	}
	return out
}

// NsLookup is the result of NsGet.
type NsLookup struct {
	Lookup
	NsVersion uint32 // the version read: pinned, current, or 0 (the namespace has none)
	Pinned    bool
}

// NsGet reads k in namespace ns (§18.5): under the handle's pin of ns, in the pinned version;
// otherwise in the current one, linearizable at its first load of ns_head (§18.6).
func (c *Cache) NsGet(ns uint32, k []byte) (NsLookup, error) {
	const op = "ns_get"
	if err := c.nsCheck(op, ns); err != nil {
		return NsLookup{}, err
	}
	if pns, pv, _, ok := decodePin(c.load(c.ownPinOff())); ok && pns == ns {
		return NsLookup{c.nsRead(ns, pv, k), pv, true}, nil
	}
	for i := 0; i < ReadRetries; i++ {
		_, h, err := c.loadHead(op, ns)
		if err != nil {
			return NsLookup{}, err
		}
		if h.Current == 0 {
			return NsLookup{}, nil
		}
		c.hooks.at(PointNsGetAfterHead)
		l := c.nsRead(ns, h.Current, k)
		if l.Hit {
			return NsLookup{l, h.Current, false}, nil
		}
		// A miss is the version's only if the version was never retired meanwhile (then no
		// reclaimer touched it); otherwise read the new current.
		if _, h2, err := c.loadHead(op, ns); err == nil && h2.holds(h.Current) {
			return NsLookup{l, h.Current, false}, nil
		}
	}
	return NsLookup{}, newErr(CodeBusy, op, c.path, "namespace %d: the version read kept retiring", ns)
}

// nsRead is the get of nskey(ns, v, k). An empty user key has no entry (NsPut refuses it), and
// its 16-byte "key" would not be a namespace key: a miss without looking.
func (c *Cache) nsRead(ns, v uint32, k []byte) Lookup {
	if len(k) == 0 {
		return Lookup{}
	}
	return c.Get(NsKey(ns, v, k))
}
