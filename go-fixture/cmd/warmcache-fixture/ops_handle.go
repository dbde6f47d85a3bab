package main

// The driver operations that open and close the segment (docs/DRIVER.md), and hello.

import (
	"encoding/json"
	"fmt"
	"os"

	"warmcache/warmcache"
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
		"faults":         warmcache.FaultNames,
	}, nil
}

// create answers "create" and "open_or_create".
func (s *server) create(op string, args json.RawMessage) (interface{}, error) {
	var a createArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if err := checkPath(a.Path); err != nil {
		return nil, err
	}
	g, err := a.Geometry.toGeometry()
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
		o.SimClock, o.SimClockStart = true, *a.SimClockNs
	}
	if op == "create" {
		c, err := warmcache.Create(a.Path, g, o)
		if err != nil {
			return nil, fromErr(err)
		}
		s.adopt(c)
		return map[string]interface{}{"participant": c.ParticipantID()}, nil
	}
	c, created, err := warmcache.OpenOrCreate(a.Path, g, o)
	if err != nil {
		return nil, fromErr(err)
	}
	s.adopt(c)
	return map[string]interface{}{"participant": c.ParticipantID(), "created": created}, nil
}

func (s *server) open(args json.RawMessage) (interface{}, error) {
	var a struct {
		Path     string  `json:"path"`
		Protocol *string `json:"protocol"`
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
	c, err := warmcache.Open(a.Path, o)
	if err != nil {
		return nil, fromErr(err)
	}
	s.adopt(c)
	return map[string]interface{}{"participant": c.ParticipantID()}, nil
}

func (s *server) closeCache(c *warmcache.Cache) (interface{}, error) {
	// Drain now: the handle's tracer goes away with it.
	err := c.Close()
	s.cache = nil
	return map[string]interface{}{}, fromErr(err)
}
