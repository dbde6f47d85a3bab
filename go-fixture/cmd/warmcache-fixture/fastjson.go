package main

import (
	"sort"
	"strconv"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// A controlled race costs one driver round trip per pause point, and encoding/json spent ~6 µs
// of it on each response (reflection, map key sorting). appendResponse writes the common shapes
// by hand, byte for byte what json.Marshal(r) writes (fastjson_test.go checks that on a corpus),
// and says false for anything else so that the caller falls back to encoding/json.

// appendResponse appends r as json.Marshal would. ok is false, with b unchanged, when r holds
// something this encoder does not handle: an error body, a non-numeric id, a float, a string
// that needs escaping (encoding/json also escapes <, > and &), or a value of another type.
func appendResponse(b []byte, r response) (out []byte, ok bool) {
	start := len(b)
	defer func() {
		if !ok {
			out = b[:start]
		}
	}()
	if r.Error != nil || !plainNumber(r.ID) {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = append(b, r.ID...)
	if r.Outcome != "" {
		if b, ok = appendField(b, "outcome", r.Outcome); !ok {
			return b, false
		}
	}
	result := r.Result
	if result == nil && r.Outcome == "ok" {
		result = map[string]interface{}{}
	}
	if result != nil {
		b = append(b, `,"result":`...)
		if b, ok = appendValue(b, result); !ok {
			return b, false
		}
	}
	if r.Reason != "" {
		if b, ok = appendField(b, "reason", r.Reason); !ok {
			return b, false
		}
	}
	if r.Message != "" {
		if b, ok = appendField(b, "message", r.Message); !ok {
			return b, false
		}
	}
	if r.Outcome != "" {
		b = append(b, `,"transitions":[`...)
		for i, t := range r.Transitions {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendTransition(b, t); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

func appendField(b []byte, name, s string) ([]byte, bool) {
	if !plainString(s) {
		return b, false
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	b = append(b, s...)
	return append(b, '"'), true
}

func appendTransition(b []byte, t warmcache.Transition) ([]byte, bool) {
	if !plainString(t.Event) || !plainString(t.From) || !plainString(t.To) {
		return b, false
	}
	b = append(b, `{"event":"`...)
	b = append(b, t.Event...)
	b = append(b, `","shard":`...)
	b = strconv.AppendUint(b, uint64(t.Shard), 10)
	b = append(b, `,"slot":`...)
	b = strconv.AppendUint(b, uint64(t.Slot), 10)
	b = append(b, `,"from":"`...)
	b = append(b, t.From...)
	b = append(b, `","to":"`...)
	b = append(b, t.To...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, uint64(t.Seq), 10)
	b = append(b, `,"owner":`...)
	b = strconv.AppendUint(b, uint64(t.Owner), 10)
	b = append(b, `,"gseq":`...)
	b = strconv.AppendUint(b, t.Gseq, 10)
	return append(b, '}'), true
}

// appendValue handles the values dispatch puts in results: maps with string keys (sorted, as
// encoding/json sorts them), booleans, integers and plain strings.
func appendValue(b []byte, v interface{}) ([]byte, bool) {
	switch x := v.(type) {
	case map[string]interface{}:
		keys := make([]string, 0, len(x))
		for k := range x {
			if !plainString(k) {
				return b, false
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			var ok bool
			if b, ok = appendValue(b, x[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case bool:
		return strconv.AppendBool(b, x), true
	case string:
		if !plainString(x) {
			return b, false
		}
		b = append(b, '"')
		b = append(b, x...)
		return append(b, '"'), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	}
	return b, false
}

// plainString: printable ASCII that encoding/json writes unchanged (no quote, backslash or
// HTML-escaped character).
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plainNumber: an id encoding/json would copy unchanged (an optional minus and digits).
func plainNumber(id []byte) bool {
	if len(id) == 0 || (id[0] == '-' && len(id) == 1) {
		return false
	}
	for i, c := range id {
		if !(c >= '0' && c <= '9') && !(i == 0 && c == '-') {
			return false
		}
	}
	return true
}

// isResume reports whether line is warmcheck's resume request, {"args":{},"id":N,"op":"resume"}
// exactly (the form it always sends); any other spelling goes through encoding/json.
func isResume(line []byte) bool {
	const head, tail = `{"args":{},"id":`, `,"op":"resume"}`
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(line) <= len(head)+len(tail) || string(line[:len(head)]) != head || string(line[len(line)-len(tail):]) != tail {
		return false
	}
	return plainNumber(line[len(head) : len(line)-len(tail)])
}
