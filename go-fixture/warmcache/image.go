package warmcache

import (
	"strings"
	"unsafe"
)

// Entry points over a private image of a segment (a byte slice, not a mapping), for the C ABI
// of cmd/warmcache-abi (docs/ABI.md). They run the package's own checks and reader: the header
// check is checkHeader, and ImageGet is Cache.get over a handle whose memory is the image, so a
// divergence found through the ABI is a divergence of this implementation.

// CheckImage runs §4.2 steps 3–11 on an image; len(b) plays the file size. It returns "" and the
// validated geometry and layout, or the §15 code and, for bad_geometry, the violated rule (1–8).
func CheckImage(b []byte) (Code, int, Geometry, Layout) {
	if len(b) < HeaderSize {
		return CodeTooShort, 0, Geometry{}, Layout{}
	}
	g, l, _, err := checkHeader(b[:HeaderSize], "image", OpenOptions{Timeout: -1})
	if err != nil {
		e := err.(*Error)
		if e.C == CodeBadGeometry {
			return e.C, geometryRule(e.Detail), g, l
		}
		return e.C, 0, g, l
	}
	if uint64(len(b)) < l.TotalLen {
		return CodeTruncated, 0, g, l
	}
	return "", 0, g, l
}

// GeometryRule is the first violated §3 rule for a geometry being created (0 if none).
func GeometryRule(g Geometry) int {
	if msg := g.check(); msg != "" {
		return geometryRule(msg)
	}
	return 0
}

// geometryRule reads the rule number out of this package's bad_geometry messages ("rule N
// violated: ...", the numbering of §3's table).
func geometryRule(msg string) int {
	rest := msg[strings.Index(msg, "rule ")+len("rule "):]
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// StateValid reports whether w is a possible state word (§8.1) for participant capacity pc.
func StateValid(w uint64, pc uint32) bool { return Word(w).valid(pc) }

// SnapshotOK is §9.2's snapshot_ok.
func SnapshotOK(s1, s2 uint64, pc uint32) bool { return snapshotOK(Word(s1), Word(s2), pc) }

// Expiry classifies a record's times at now (§12): 0 fresh, 1 stale, 2 expired. get inlines the
// same three cases (and must stay equal to this; the ABI vectors compare both readings).
func Expiry(expires, staleUntil, now uint64) int {
	switch {
	case expires == 0 || now < expires:
		return 0
	case now < staleUntil:
		return 1
	}
	return 2
}

// ImageGet runs get(key) on an image whose header passed CheckImage, with the segment clock at
// now (written into the image's sim_clock_ns, which the reader loads). Like any reader it may
// write the image: counters, referenced and T7.
func ImageGet(b []byte, g Geometry, l Layout, key []byte, now uint64) Lookup {
	c := (&Cache{path: "image", mem: b, base: unsafe.Pointer(&b[0]), geo: g, lay: l, simClock: true}).withGeometry()
	c.fastSum = c.load(OffFeaturesIncompat)&FeatureFastChecksum != 0
	c.store(OffSimClockNs, now)
	var res Lookup
	c.get(&res, key, nil, true)
	return res
}
