package warmcache

import (
	"sync/atomic"
	"time"
)

// now is the segment's clock (§12): sim_clock_ns if the segment has SIM_CLOCK (an acquire
// load; Go's atomic load is sequentially consistent), else CLOCK_REALTIME in nanoseconds.
func (c *Cache) now() uint64 {
	if c.simClock {
		return c.load(OffSimClockNs)
	}
	return uint64(time.Now().UnixNano())
}

// Now returns the segment's current time in nanoseconds.
func (c *Cache) Now() (uint64, error) {
	if err := c.checkOpen("now"); err != nil {
		return 0, err
	}
	return c.now(), nil
}

// setSimClock stores sim_clock_ns (a release store) on a SIM_CLOCK segment; every participant
// sees the new time at once.
func (c *Cache) setSimClock(ns uint64) error {
	if err := c.checkOpen("set_clock"); err != nil {
		return err
	}
	if !c.simClock {
		return newErr(CodeUnsupported, "set_clock", c.path, "the segment does not have feature SIM_CLOCK")
	}
	atomic.StoreUint64(c.u64(OffSimClockNs), ns)
	return nil
}
