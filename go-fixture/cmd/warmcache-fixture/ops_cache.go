package main

// The cache operations of docs/DRIVER.md on the open handle.

import (
	"encoding/json"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

func get(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	var a keyArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	key, err := hexArg("key_hex", a.KeyHex)
	if err != nil {
		return nil, err
	}
	l, err := c.GetChecked(key)
	if err != nil {
		return nil, fromErr(err)
	}
	return getFields(l), nil
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
	var r warmcache.RemoveResult
	if op == "invalidate" {
		r, err = c.InvalidateDurable(key, a.Durable)
	} else {
		r, err = c.EvictDurable(key, a.Durable)
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
