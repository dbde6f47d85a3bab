package main

// The namespace operations of docs/DRIVER.md "Namespaces" (PROTOCOL.md §18) on the open handle.

import (
	"encoding/json"
	"math"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

type nsArgs struct {
	Ns       *uint64 `json:"ns"`
	KeyHex   *string `json:"key_hex"`
	ValueHex *string `json:"value_hex"`
}

// nsIndex decodes the args and their `ns`. An index past 32 bits is still an index ≥ 8: the
// library answers bad_namespace for it, as for 8.
func nsIndex(args json.RawMessage) (nsArgs, uint32, error) {
	var a nsArgs
	if err := decode(args, &a); err != nil {
		return a, 0, err
	}
	if a.Ns == nil {
		return a, 0, badRequest{"missing ns (a namespace index)"}
	}
	if *a.Ns > math.MaxUint32 {
		return a, math.MaxUint32, nil
	}
	return a, uint32(*a.Ns), nil
}

// nsErr is fromErr, except that a handle speaking 1.0 answers `unsupported` (DRIVER.md): a 1.0
// build lacks the operation, it is not a bad request.
func nsErr(err error) error {
	if warmcache.CodeOf(err) == warmcache.CodeUnsupported {
		return unsupported{err.Error()}
	}
	return fromErr(err)
}

// nsOp runs one of the operations that take only `ns`.
func nsOp(c *warmcache.Cache, op string, args json.RawMessage) (interface{}, error) {
	_, ns, err := nsIndex(args)
	if err != nil {
		return nil, err
	}
	var m map[string]interface{}
	switch op {
	case "ns_stage":
		r, e := c.NsStage(ns)
		m, err = map[string]interface{}{"version": r.Version, "took_over": r.TookOver}, e
	case "ns_flip":
		r, e := c.NsFlip(ns)
		m, err = map[string]interface{}{"version": r.Version, "previous": r.Previous}, e
	case "ns_rollback":
		r, e := c.NsRollback(ns)
		m, err = map[string]interface{}{"version": r.Version, "retired": r.Retired}, e
	case "ns_pin":
		r, e := c.NsPin(ns)
		m, err = map[string]interface{}{"version": r.Version}, e
	case "ns_reclaim":
		r, e := c.NsReclaim(ns)
		kept := append([]uint32{}, r.Kept...)
		m, err = map[string]interface{}{"removed": r.Removed, "kept": kept}, e
	case "ns_state":
		r, e := c.NsState(ns)
		pins := []map[string]interface{}{}
		for _, p := range r.Pins {
			pins = append(pins, map[string]interface{}{"participant": p.Participant, "version": p.Version})
		}
		m, err = map[string]interface{}{"current": r.Current, "previous": r.Previous, "last": r.Last,
			"stager": r.Stager, "pins": pins}, e
	}
	if err != nil {
		return nil, nsErr(err)
	}
	return m, nil
}

func nsUnpin(c *warmcache.Cache) (interface{}, error) {
	r, err := c.NsUnpin()
	if err != nil {
		return nil, nsErr(err)
	}
	return map[string]interface{}{"ns": r.Ns, "version": r.Version}, nil
}

// nsKeyed decodes `ns` and `key_hex`, which ns_put and ns_get take.
func nsKeyed(args json.RawMessage) (nsArgs, uint32, []byte, error) {
	a, ns, err := nsIndex(args)
	if err != nil {
		return a, 0, nil, err
	}
	key, err := hexArg("key_hex", a.KeyHex)
	return a, ns, key, err
}

func nsPut(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	a, ns, key, err := nsKeyed(args)
	if err != nil {
		return nil, err
	}
	val, err := hexArg("value_hex", a.ValueHex)
	if err != nil {
		return nil, err
	}
	r, err := c.NsPut(ns, key, val)
	if err != nil {
		return nil, nsErr(err)
	}
	return map[string]interface{}{"version": r.Version, "created": r.Created, "shard": r.Shard, "slot": r.Slot,
		"ns_version": r.NsVersion}, nil
}

func nsGet(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	_, ns, key, err := nsKeyed(args)
	if err != nil {
		return nil, err
	}
	l, err := c.NsGet(ns, key)
	if err != nil {
		return nil, nsErr(err)
	}
	m := getFields(l.Lookup)
	m["ns_version"] = l.NsVersion
	m["pinned"] = l.Pinned
	return m, nil
}
