package main

// The operations that let the harness look inside: the simulated clock, dump, participants.

import (
	"encoding/hex"
	"encoding/json"

	"github.com/warmcache/warmcache/go-fixture/internal/harness"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

func setClock(c *warmcache.Cache, args json.RawMessage) (interface{}, error) {
	var a struct {
		NowNs *uint64 `json:"now_ns"`
	}
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if a.NowNs == nil {
		return nil, badRequest{"missing now_ns"}
	}
	if err := harness.SetSimClock(c, *a.NowNs); err != nil {
		return nil, fromErr(err)
	}
	return map[string]interface{}{}, nil
}

func dump(c *warmcache.Cache) (interface{}, error) {
	d, err := c.Dump()
	if err != nil {
		return nil, fromErr(err)
	}
	entries := make([]map[string]interface{}, 0, len(d.Entries))
	for _, e := range d.Entries {
		m := lookupFields(e.Lookup)
		m["state"] = e.State.String()
		m["seq"] = e.Seq
		m["key_hex"] = hex.EncodeToString(e.Key)
		m["stale"] = e.Stale
		entries = append(entries, m)
	}
	problems := d.Problems
	if problems == nil {
		problems = []string{}
	}
	return map[string]interface{}{"entries": entries, "problems": problems}, nil
}

func participants(c *warmcache.Cache) (interface{}, error) {
	ps, err := c.Participants()
	if err != nil {
		return nil, fromErr(err)
	}
	list := make([]map[string]interface{}, 0, len(ps))
	for _, p := range ps {
		list = append(list, map[string]interface{}{"index": p.Index, "epoch": p.Epoch, "pid": p.Pid,
			"start_time": p.StartTime, "language": uint8(p.Language), "alive": p.Alive,
			"protocol_major": p.ProtocolMajor, "protocol_minor": p.ProtocolMinor})
	}
	return map[string]interface{}{"participants": list}, nil
}

func lookupFields(l warmcache.Lookup) map[string]interface{} {
	return map[string]interface{}{
		"value_hex":      hex.EncodeToString(l.Value),
		"version":        l.Version,
		"origin_tag":     l.OriginTag,
		"expires_at_ns":  l.ExpiresAtNs,
		"stale_until_ns": l.StaleUntilNs,
		"written_at_ns":  l.WrittenAtNs,
		"writer": map[string]interface{}{
			"pid": l.Writer.Pid, "language": uint8(l.Writer.Language), "protocol_major": l.Writer.ProtocolMajor,
			"protocol_minor": l.Writer.ProtocolMinor, "participant": l.Writer.Participant,
			"start_time": l.Writer.StartTime,
		},
		"shard": l.Shard,
		"slot":  l.Slot,
	}
}

// repair runs PROTOCOL.md §9.9 through the open handle and answers its report (DRIVER.md).
func repair(c *warmcache.Cache) (interface{}, error) {
	r, err := c.Repair()
	if err != nil {
		return nil, fromErr(err)
	}
	return r, nil
}
