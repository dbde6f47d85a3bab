package warmcache

import "fmt"

// Protocol is a version of major 1 that a handle speaks (§14 and the changelog of
// docs/PROTOCOL.md). The zero value means the newest this library knows, 1.1. Protocol{1, 0}
// makes a 1.0 handle: it writes minor 0 into the header, its participant entry and the
// provenance of its records, and as a reader it knows only the 1.0 features, so it refuses a
// FAST_CHECKSUM segment with unsupported_features exactly as a 1.0 build does. That is how
// old-format segments and old readers are produced without building old code.
type Protocol struct{ Major, Minor uint8 }

// Protocols lists the versions this library can speak, oldest first (hello.protocols).
var Protocols = []Protocol{{1, 0}, {1, 1}}

func (p Protocol) String() string { return fmt.Sprintf("%d.%d", p.Major, p.Minor) }

// ParseProtocol reads "1.0" or "1.1".
func ParseProtocol(s string) (Protocol, error) {
	for _, p := range Protocols {
		if p.String() == s {
			return p, nil
		}
	}
	return Protocol{}, fmt.Errorf("protocol %q is not one this library speaks (1.0, 1.1)", s)
}

// speaks resolves the zero value and returns the minor written and the features_incompat bits
// understood when speaking p.
func (p Protocol) speaks() (minor uint64, known uint64, err error) {
	switch p {
	case Protocol{}, Protocol{1, 1}:
		return 1, KnownIncompatFeatures, nil
	case Protocol{1, 0}:
		return 0, KnownIncompatFeatures10, nil
	}
	return 0, 0, fmt.Errorf("protocol %s is not one this library speaks (1.0, 1.1)", p)
}

// Features names the features_incompat bits known when speaking p, by their §3 names
// (hello.features).
func (p Protocol) Features() []string {
	_, known, _ := p.speaks()
	out := []string{"SIM_CLOCK"}
	if known&FeatureFastChecksum != 0 {
		out = append(out, "FAST_CHECKSUM")
	}
	return out
}
