package warmcache

import "fmt"

// Language is an implementation's language code (PROTOCOL.md §7.3), as written into record
// provenance, participant entries and the header's creator_info.
type Language uint8

// The registered codes of §7.3 (spec/vocabulary.json "languages"). Codes 4..255 belong to other
// implementations; they print as "language#N".
const (
	LanguageUnknown Language = 0
	LanguageGo      Language = 1
	LanguageRust    Language = 2
	LanguageSwift   Language = 3
)

// String is the language's name as spec/vocabulary.json spells it ("go", "rust", "swift"),
// "unknown" for 0, and "language#N" for a code this library does not know.
func (l Language) String() string {
	switch l {
	case LanguageUnknown:
		return "unknown"
	case LanguageGo:
		return "go"
	case LanguageRust:
		return "rust"
	case LanguageSwift:
		return "swift"
	}
	return fmt.Sprintf("language#%d", uint8(l))
}

// String says who wrote a record: language, pid and start time (which together name the
// process even after pid reuse, §5), protocol version and participant id.
func (p Provenance) String() string {
	return fmt.Sprintf("%v pid %d (start time %d), protocol %d.%d, participant %d",
		p.Language, p.Pid, p.StartTime, p.ProtocolMajor, p.ProtocolMinor, p.Participant)
}
