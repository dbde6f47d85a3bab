package main

// DRIVER.md "Two operations of one handle (overlap)": a request whose args carry
// "overlap": true, arriving while an operation is paused, runs to completion in another
// goroutine on the same handle while the paused operation stays in flight (its goroutine is
// blocked in pauseHere, inside its pause hook). It is the only way a driven handle has two write
// operations in flight at once, which is what claim_hint's in_flight and W are for (PROTOCOL.md
// §5.1); a warmcache.Cache allows it (its methods may be called from many goroutines at once).

import (
	"encoding/json"

	"github.com/warmcache/warmcache/go-fixture/internal/harness"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// overlapOperations are the operations an overlap may run: the cache operations of one key.
var overlapOperations = map[string]bool{"get": true, "put": true, "refresh": true, "invalidate": true, "evict": true}

// isOverlap reports whether a request's args carry "overlap": true.
func isOverlap(args json.RawMessage) bool {
	var m struct {
		Overlap bool `json:"overlap"`
	}
	return len(args) > 0 && json.Unmarshal(args, &m) == nil && m.Overlap
}

// overlap runs req beside the paused operation and answers it. Its own pause_at, crash_at and
// crash_chance_ppm are refused: the paused operation's hook stays armed on the handle, and it
// ignores every point reached while s.overlapping is set. The flag needs no atomic: it is set
// before the go statement and cleared after the receive that ends the goroutine (both
// happens-before edges), and the paused goroutine, the only other caller of the hook, is blocked
// in pauseHere meanwhile.
func (s *server) overlap(req request) response {
	resp := response{ID: req.ID}
	if !overlapOperations[req.Op] {
		resp.Error = &errBody{"bad_request", "overlap: " + req.Op + " cannot overlap a paused operation (only get, put, refresh, invalidate, evict)"}
		return resp
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(req.Args, &m)
	for _, k := range []string{"pause_at", "crash_at", "crash_chance_ppm", "crash_seed"} {
		if v, ok := m[k]; ok && string(v) != "null" {
			resp.Error = &errBody{"bad_request", "overlap: " + k + " is not allowed on an overlapping request"}
			return resp
		}
	}
	// The paused operation's transitions so far belong to its own response, not this one.
	var prior []warmcache.Transition
	if s.cache != nil && s.trace {
		prior = harness.DrainTrace(s.cache)
	}
	type answer struct {
		result interface{}
		err    error
		panic  interface{}
	}
	done := make(chan answer)
	s.overlapping = true
	go func() {
		var a answer
		defer func() {
			a.panic = recover()
			done <- a
		}()
		a.result, a.err = s.dispatch(req.Op, req.Args)
	}()
	a := <-done
	s.overlapping = false
	var mine []warmcache.Transition
	if s.cache != nil && s.trace {
		mine = harness.DrainTrace(s.cache)
	}
	s.stashed = append(s.stashed, prior...)
	if a.panic != nil {
		resp.Error = &errBody{"runtime", "panic in the overlapping operation"}
		return resp
	}
	resp.answer(a.result, a.err, mine)
	return resp
}
