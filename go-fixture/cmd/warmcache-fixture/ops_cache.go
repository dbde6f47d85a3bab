package main

// The cache operations of docs/DRIVER.md on the open handle.

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// getArgs are get's arguments: via names the library entry point that serves it (DRIVER.md
// "get"), so that every one of them is judged by the suite, not only the one a fixture
// happened to call.
type getArgs struct {
	KeyHex *string `json:"key_hex"`
	Via    string  `json:"via"`
}

// getVia is hello.get_via: the get paths this fixture routes to their own library entry point.
var getVia = []string{"single", "into", "many"}

func get(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	var a getArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	key, err := hexArg("key_hex", a.KeyHex)
	if err != nil {
		return nil, err
	}
	switch a.Via {
	case "", "single":
		// GetChecked is Get with its error: a closed handle answers closed (DRIVER.md "After close").
		l, err := c.GetChecked(key)
		if err != nil {
			return nil, fromErr(err)
		}
		return getFields(l), nil
	case "into":
		l, err := c.GetInto(key, make([]byte, c.Geometry().ValueCapacity))
		if err != nil {
			return nil, fromErr(err)
		}
		return getFields(l), nil
	case "many":
		// errs nil: the batch's own first error is the answer, so this path drives GetMany's
		// documented form without a per-key error slice (get_many passes one).
		out := make([]warmcache.Lookup, 1)
		if err := c.GetMany([][]byte{key}, [][]byte{make([]byte, c.Geometry().ValueCapacity)}, out, nil); err != nil {
			return nil, fromErr(err)
		}
		return getFields(out[0]), nil
	}
	return nil, badRequest{"via must be single, into or many, not " + strconv.Quote(a.Via)}
}

// keyAnswer is one key's answer of the library's batched get.
type keyAnswer struct {
	l   warmcache.Lookup
	err error
}

// getMany is GetMany with a buffer of value_capacity bytes per key, so that no value is refused
// for its length and every answer is that of a get.
func getMany(c *warmcache.Cache, keys [][]byte) ([]keyAnswer, error) {
	vc := int(c.Geometry().ValueCapacity)
	bufs := make([][]byte, len(keys))
	backing := make([]byte, vc*len(keys))
	for i := range bufs {
		bufs[i] = backing[i*vc : (i+1)*vc : (i+1)*vc]
	}
	out := make([]warmcache.Lookup, len(keys))
	errs := make([]error, len(keys))
	first := c.GetMany(keys, bufs, out, errs)
	r := make([]keyAnswer, len(keys))
	for i := range keys {
		r[i] = keyAnswer{out[i], errs[i]}
	}
	return r, first
}

// getManyOp answers "get_many": keys_hex in, one get answer per key out (DRIVER.md), a key the
// library refused answered {"fail": CODE, "message": ...} in its place.
func getManyOp(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	var a struct {
		KeysHex *[]string `json:"keys_hex"`
	}
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if a.KeysHex == nil {
		return nil, badRequest{"missing keys_hex"}
	}
	keys := make([][]byte, len(*a.KeysHex))
	for i := range *a.KeysHex {
		k, err := hexArg("keys_hex", &(*a.KeysHex)[i])
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	r, first := getMany(c, keys)
	// A closed handle refuses the whole batch (DRIVER.md "After close"), not key by key.
	if warmcache.CodeOf(first) == warmcache.CodeClosed {
		return nil, fromErr(first)
	}
	results := make([]interface{}, len(r))
	for i, k := range r {
		if k.err != nil {
			results[i] = map[string]interface{}{"fail": string(warmcache.CodeOf(k.err)), "message": k.err.Error()}
			continue
		}
		results[i] = getFields(k.l)
	}
	return map[string]interface{}{"results": results}, nil
}

// now answers "now": the library's clock read (Cache.Now).
func now(c *warmcache.Cache) (interface{}, error) {
	t, err := c.Now()
	if err != nil {
		return nil, fromErr(err)
	}
	return map[string]interface{}{"now_ns": t}, nil
}

// getFields is the result of a get (and of ns_get, which adds its own fields).
func getFields(l warmcache.Lookup) map[string]interface{} {
	if !l.Hit {
		return map[string]interface{}{"hit": false}
	}
	m := lookupFields(l)
	m["hit"] = true
	m["stale"] = l.Stale
	m["refresh_requested"] = l.RefreshRequested
	return m
}

// put answers "put" and "refresh".
func put(c *warmcache.Cache, op string, args json.RawMessage) (interface{}, error) {
	var a putArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	key, err := hexArg("key_hex", a.KeyHex)
	if err != nil {
		return nil, err
	}
	val, err := hexArg("value_hex", a.ValueHex)
	if err != nil {
		return nil, err
	}
	if a.TTLNs > 1<<62 || a.GraceNs > 1<<62 {
		return nil, badRequest{"ttl_ns or grace_ns too large"}
	}
	o := warmcache.PutOptions{TTL: time.Duration(a.TTLNs), Grace: time.Duration(a.GraceNs), OriginTag: a.OriginTag, Version: a.Version, Durable: a.Durable}
	var r warmcache.PutResult
	if op == "put" {
		r, err = c.Put(key, val, o)
	} else {
		r, err = c.Refresh(key, val, o)
	}
	if err != nil {
		return nil, fromErr(err)
	}
	m := map[string]interface{}{"version": r.Version, "created": r.Created, "shard": r.Shard, "slot": r.Slot}
	if a.Durable {
		m["durable"] = r.Durable
	}
	return m, nil
}

// remove answers "invalidate" and "evict".
func remove(c *warmcache.Cache, op string, args json.RawMessage) (interface{}, error) {
	var a keyArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	key, err := hexArg("key_hex", a.KeyHex)
	if err != nil {
		return nil, err
	}
	// A removal that is not journaled goes through the library's plain Invalidate and Evict, the
	// entry points most callers use, so that they are the ones judged; the durable ones only
	// when asked.
	var r warmcache.RemoveResult
	switch {
	case a.Durable && op == "invalidate":
		r, err = c.InvalidateDurable(key, true)
	case a.Durable:
		r, err = c.EvictDurable(key, true)
	case op == "invalidate":
		r.Removed, err = c.Invalidate(key)
	default:
		r.Removed, err = c.Evict(key)
	}
	if err != nil {
		return nil, fromErr(err)
	}
	m := map[string]interface{}{"removed": r.Removed}
	if a.Durable {
		m["durable"] = r.Durable
	}
	return m, nil
}

func stats(c *warmcache.Cache) (interface{}, error) {
	st, err := c.Stats()
	if err != nil {
		return nil, fromErr(err)
	}
	return st, nil
}

func generation(c *warmcache.Cache) (interface{}, error) {
	g, err := c.Generation()
	if err != nil {
		return nil, fromErr(err)
	}
	return map[string]interface{}{"generation": g}, nil
}

func wait(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	var a struct {
		Seen      *uint32 `json:"seen"`
		TimeoutMs *int64  `json:"timeout_ms"`
	}
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if a.Seen == nil || a.TimeoutMs == nil {
		return nil, badRequest{"wait needs seen and timeout_ms"}
	}
	g, to, err := c.WaitForChange(*a.Seen, time.Duration(*a.TimeoutMs)*time.Millisecond)
	if err != nil {
		return nil, fromErr(err)
	}
	return map[string]interface{}{"generation": g, "timed_out": to}, nil
}
