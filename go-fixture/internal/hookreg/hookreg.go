// Package hookreg is where package warmcache leaves its harness-only hooks for package
// internal/harness, which gives them their types (see there): warmcache cannot import a package
// that imports warmcache, so it fills these variables in its init (harness_bridge.go). Nothing
// else uses this package, and Go's internal/ rule keeps it out of reach of code outside this
// module.
package hookreg

// The arguments typed any are *warmcache.OpenOptions, *warmcache.CreateOptions or
// *warmcache.Cache as named; internal/harness passes nothing else.
var (
	FaultNames       []string
	ParseFault       func(name string) (uint32, error)
	SetOpenHooks     func(openOptions any, faults uint32, pauseHook func(point string), trace bool)
	SetSimClockStart func(createOptions any, start uint64)
	SetPauseHook     func(cache any, f func(point string))
	EnableTrace      func(cache any)
	DrainTrace       func(cache any) any
	SetSimClock      func(cache any, ns uint64) error
	// SetCompactPauseHook takes a *warmcache.CompactOptions (the snapshot.* points of a
	// compaction made without a handle).
	SetCompactPauseHook func(compactOptions any, f func(point string))
)
