package warmcache

import "github.com/warmcache/warmcache/go-fixture/internal/hookreg"

// The harness-only hooks — fault switches, the pause hook, the transition trace, the simulated
// clock — are unexported, so a service cannot switch a deliberate bug on by accident; the
// conformance fixture reaches them through internal/harness, which only code inside this
// module can import (scripts/check-public-surface.sh checks both).
func init() {
	hookreg.FaultNames = faultNames
	hookreg.ParseFault = func(name string) (uint32, error) {
		f, err := parseFault(name)
		return uint32(f), err
	}
	hookreg.SetOpenHooks = func(o any, faults uint32, pauseHook func(string), trace bool) {
		oo := o.(*OpenOptions)
		oo.faults, oo.pauseHook, oo.trace = faultSet(faults), pauseHook, trace
	}
	hookreg.SetSimClockStart = func(o any, start uint64) {
		co := o.(*CreateOptions)
		co.simClock, co.simClockStart = true, start
	}
	hookreg.SetPauseHook = func(c any, f func(string)) { c.(*Cache).setPauseHook(f) }
	hookreg.EnableTrace = func(c any) { c.(*Cache).enableTrace() }
	hookreg.DrainTrace = func(c any) any { return c.(*Cache).drainTrace() }
	hookreg.SetSimClock = func(c any, ns uint64) error { return c.(*Cache).setSimClock(ns) }
	hookreg.SetCompactPauseHook = func(o any, f func(string)) { o.(*CompactOptions).pauseHook = f }
}
