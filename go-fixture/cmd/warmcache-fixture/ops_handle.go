package main

// The driver operations that open and close the segment (docs/DRIVER.md), and hello.

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/warmcache/warmcache/go-fixture/internal/harness"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

func (s *server) hello(args json.RawMessage) (interface{}, error) {
	// DRIVER.md "hello": the orchestrator asks for transitions here (args.trace); the answer
	// says whether they will be reported, so a fixture without tracing is not mistaken for
	// one that makes no transitions.
	var a struct {
		Trace bool `json:"trace"`
	}
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	s.trace = s.trace || a.Trace
	return map[string]interface{}{
		"language":       s.languageName,
		"language_code":  s.languageCode,
		"pid":            os.Getpid(),
		"implementation": "warmcache-go 0.1.0",
		"protocol":       map[string]int{"major": int(warmcache.ProtocolMajor), "minor": int(s.protocolMinor())},
		"protocols":      protocols(),
		"trace":          s.trace,
		"features":       s.protocol.Features(),
		"operations":     operations,
		"pause_points":   warmcache.PausePoints,
		"faults":         harness.FaultNames,
		"get_via":        getVia,
	}, nil
}

// decodeCreate reads the arguments that create, open_or_create and restore share: a checked
// path and a geometry.
func decodeCreate(args json.RawMessage) (createArgs, warmcache.Geometry, error) {
	var a createArgs
	if err := decode(args, &a); err != nil {
		return a, warmcache.Geometry{}, err
	}
	if err := checkPath(a.Path); err != nil {
		return a, warmcache.Geometry{}, err
	}
	g, err := a.Geometry.toGeometry()
	return a, g, err
}

// create answers "create" and "open_or_create".
func (s *server) create(op string, args json.RawMessage) (interface{}, error) {
	a, g, err := decodeCreate(args)
	if err != nil {
		return nil, err
	}
	o := warmcache.CreateOptions{Group: a.Group, Open: s.openOptions(), FastChecksum: a.FastChecksum, Future: warmcache.FutureImage(a.Future)}
	switch o.Future {
	case "", warmcache.FutureMinor, warmcache.FutureIncompat, warmcache.FutureMajor:
	default:
		return nil, badRequest{fmt.Sprintf("future %q: minor, incompat or major", a.Future)}
	}
	if err := withProtocol(&o.Open, a.Protocol); err != nil {
		return nil, err
	}
	if a.FastChecksum && o.Open.Protocol == (warmcache.Protocol{Major: 1, Minor: 0}) {
		return nil, badRequest{"fast_checksum needs protocol 1.1 (FAST_CHECKSUM is not a 1.0 feature)"}
	}
	if a.SimClockNs != nil {
		o = harness.WithSimClock(o, *a.SimClockNs)
	}
	if op == "create" {
		c, err := warmcache.Create(a.Path, g, o)
		if err != nil {
			return nil, fromErr(err)
		}
		if err := attachStore(c, a.storeArgs); err != nil {
			return nil, err
		}
		s.adopt(c)
		return map[string]interface{}{"participant": c.ParticipantID()}, nil
	}
	c, created, err := warmcache.OpenOrCreate(a.Path, g, o)
	if err != nil {
		return nil, fromErr(err)
	}
	if err := attachStore(c, a.storeArgs); err != nil {
		return nil, err
	}
	s.adopt(c)
	return map[string]interface{}{"participant": c.ParticipantID(), "created": created}, nil
}

func (s *server) open(args json.RawMessage) (interface{}, error) {
	var a struct {
		Path     string  `json:"path"`
		Protocol *string `json:"protocol"`
		storeArgs
		// MaxTotalLen: the reader's size bound (PROTOCOL.md §13.2, geometry rule 9); 0 or absent: the default.
		MaxTotalLen uint64 `json:"max_total_len"`
	}
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if err := checkPath(a.Path); err != nil {
		return nil, err
	}
	o := s.openOptions()
	if err := withProtocol(&o, a.Protocol); err != nil {
		return nil, err
	}
	o.MaxTotalLen = a.MaxTotalLen
	c, err := warmcache.Open(a.Path, o)
	if err != nil {
		return nil, fromErr(err)
	}
	if err := attachStore(c, a.storeArgs); err != nil {
		return nil, err
	}
	s.adopt(c)
	return map[string]interface{}{"participant": c.ParticipantID()}, nil
}

// attachStore attaches the store named by a, if any, to a freshly opened handle.
func attachStore(c *warmcache.Cache, a storeArgs) error {
	so, ok := a.options()
	if !ok {
		return nil
	}
	if err := c.AttachStore(so); err != nil {
		c.Close()
		return fromErr(err)
	}
	return nil
}

// restore answers "restore" (PERSISTENCE.md §7): open, or rebuild from the store.
func (s *server) restore(args json.RawMessage) (interface{}, error) {
	a, g, err := decodeCreate(args)
	if err != nil {
		return nil, err
	}
	so, ok := a.storeArgs.options()
	if !ok {
		return nil, badRequest{"restore needs store_dir"}
	}
	o := warmcache.CreateOptions{Group: a.Group, Open: s.openOptions()}
	if a.SimClockNs != nil {
		o = harness.WithSimClock(o, *a.SimClockNs)
	}
	c, rep, err := warmcache.OpenOrRestore(a.Path, g, so, o)
	if err != nil {
		return nil, fromErr(err)
	}
	s.adopt(c)
	return map[string]interface{}{"participant": c.ParticipantID(), "restored": rep.Restored, "created": rep.Restored,
		"installed": rep.Installed, "records": rep.Records, "files": rep.Files, "tombstones": rep.Tombstones,
		"expired": rep.Expired, "evicted": rep.Evicted, "version_floor": rep.VersionFloor,
		"order_floor": rep.OrderFloor, "problems": rep.Problems}, nil
}

// compact answers "compact" (PERSISTENCE.md §8). When the open handle journals into the same
// store it ends its current part first (Cache.Compact), so that its own file is covered too.
func (s *server) compact(args json.RawMessage) (interface{}, error) {
	var a struct {
		Geometry *geometryArgs `json:"geometry"`
		storeArgs
	}
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if a.StoreDir == "" {
		return nil, badRequest{"compact needs store_dir"}
	}
	g, err := a.Geometry.toGeometry()
	if err != nil {
		return nil, err
	}
	var rep warmcache.CompactReport
	if s.cache != nil && s.cache.StoreDir() == a.StoreDir {
		rep, err = s.cache.Compact()
	} else {
		rep, err = warmcache.Compact(a.StoreDir, g, harness.WithCompactPauseHook(warmcache.CompactOptions{}, s.hook))
	}
	if err != nil {
		return nil, fromErr(err)
	}
	return rep, nil
}

// closeCache closes the handle but keeps it: every later operation goes to the closed handle,
// whose methods answer CodeClosed, reported as fail(closed) (DRIVER.md "After close"). A second
// close is the library's no-op.
func (s *server) closeCache(c *warmcache.Cache) (interface{}, error) {
	return map[string]interface{}{}, fromErr(c.Close())
}

func journalState(c *warmcache.Cache) (interface{}, error) {
	js, err := c.JournalState()
	if err != nil {
		return nil, fromErr(err)
	}
	return js, nil
}
