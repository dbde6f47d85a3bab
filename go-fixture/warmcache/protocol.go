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

// FutureImage selects a future-version test image (§14, FoundationDB's trick): a segment that
// claims a version which does not exist yet, so that today's readers are checked against it.
// Tests only; the creator's own handle works on the image as on any segment it created.
type FutureImage string

const (
	// FutureMinor claims 1.9 with features_compat bit 63: every 1.x reader reads it.
	FutureMinor FutureImage = "minor"
	// FutureIncompat claims 1.9 with features_incompat bit 63: refused, unsupported_features.
	FutureIncompat FutureImage = "incompat"
	// FutureMajor claims 2.0: refused, unsupported_major.
	FutureMajor FutureImage = "major"
)

// FutureUnknownBit is bit 63 of features_compat / features_incompat, never assigned (§3).
const FutureUnknownBit uint64 = 1 << 63

// apply rewrites the version and feature words of a header being created (before the header
// checksum is computed over them, so the image is sealed like a real one).
func (f FutureImage) apply(version, incompat, compat *uint64) error {
	switch f {
	case "":
	case FutureMinor:
		*version = ProtocolMajor | 9<<16 | HeaderSize<<32
		*compat |= FutureUnknownBit
	case FutureIncompat:
		*version = ProtocolMajor | 9<<16 | HeaderSize<<32
		*incompat |= FutureUnknownBit
	case FutureMajor:
		*version = 2 | HeaderSize<<32
	default:
		return fmt.Errorf("future image %q is not minor, incompat or major", string(f))
	}
	return nil
}
