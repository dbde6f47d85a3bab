// Package harness gives the conformance fixture (cmd/warmcache-fixture) package warmcache's
// harness-only hooks: the fault switches (DRIVER.md "Fault switches"), the pause hook
// (PROTOCOL.md §17), the transition trace (§8.4) and the simulated clock (§12). warmcache keeps
// them unexported, so its public API cannot switch a deliberate bug on, and Go's internal/ rule
// lets only code inside this module import this package.
package harness

import (
	"strings"

	"github.com/warmcache/warmcache/go-fixture/internal/hookreg"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// Faults is a set of fault switches, one bit each in FaultNames order.
type Faults uint32

// FaultNames lists every fault switch by its DRIVER.md name, in bit order.
var FaultNames = hookreg.FaultNames

// ParseFault returns the fault switch with this DRIVER.md name.
func ParseFault(name string) (Faults, error) {
	f, err := hookreg.ParseFault(name)
	return Faults(f), err
}

// Hooks are the harness settings of an Open (and of the participant setup of a Create).
type Hooks struct {
	Faults    Faults
	PauseHook func(point string) // installed before the handle registers (sees the sweep)
	Trace     bool               // record transitions from before the registration
}

// WithHooks returns o with h set.
func WithHooks(o warmcache.OpenOptions, h Hooks) warmcache.OpenOptions {
	hookreg.SetOpenHooks(&o, uint32(h.Faults), h.PauseHook, h.Trace)
	return o
}

// WithSimClock returns o creating the segment with feature SIM_CLOCK, sim_clock_ns = start.
func WithSimClock(o warmcache.CreateOptions, start uint64) warmcache.CreateOptions {
	hookreg.SetSimClockStart(&o, start)
	return o
}

// SetPauseHook installs f as c's pause hook (nil removes it).
func SetPauseHook(c *warmcache.Cache, f func(point string)) { hookreg.SetPauseHook(c, f) }

// EnableTrace starts recording c's transitions.
func EnableTrace(c *warmcache.Cache) { hookreg.EnableTrace(c) }

// DrainTrace returns and forgets the transitions c recorded.
func DrainTrace(c *warmcache.Cache) []warmcache.Transition {
	return hookreg.DrainTrace(c).([]warmcache.Transition)
}

// SetSimClock stores sim_clock_ns on c's SIM_CLOCK segment.
func SetSimClock(c *warmcache.Cache, ns uint64) error { return hookreg.SetSimClock(c, ns) }

// WithCompactPauseHook returns o with the pause hook of the snapshot.* points set.
func WithCompactPauseHook(o warmcache.CompactOptions, f func(point string)) warmcache.CompactOptions {
	hookreg.SetCompactPauseHook(&o, f)
	return o
}

// String is the names of the switches in f, comma-separated (flag.Value).
func (f Faults) String() string {
	var names []string
	for i, name := range FaultNames {
		if f&(1<<uint(i)) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ",")
}
