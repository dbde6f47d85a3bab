package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func roundTrip(t *testing.T, s *server, line string) map[string]interface{} {
	t.Helper()
	b, err := json.Marshal(s.handle([]byte(line)))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestServeLines(t *testing.T) {
	s := &server{trace: true, openTimeout: -1}
	path := filepath.Join(t.TempDir(), "seg")
	geo := `"geometry":{"shard_count":4,"slots_per_shard":16,"key_capacity":32,"value_capacity":256,"probe_window":4,"participant_capacity":16}`
	cases := []struct{ in, want string }{
		{`{"id":1,"op":"hello"}`, `"language":"go"`},
		{`not json`, `"kind":"bad_request"`},
		{`{"id":2,"op":"nope"}`, `"kind":"unsupported"`},
		{`{"id":3,"op":"get","args":{"key_hex":"61"}}`, `"kind":"bad_request"`},
		{`{"id":4,"op":"open","args":{"path":"` + path + `"}}`, `"reason":"not_found"`},
		{`{"id":5,"op":"create","args":{"path":"` + path + `",` + geo + `,"sim_clock_ns":5}}`, `"participant":1`},
		{`{"id":6,"op":"put","args":{"key_hex":"61","value_hex":"6869"}}`, `"event":"publish"`},
		{`{"id":7,"op":"get","args":{"key_hex":"61"}}`, `"value_hex":"6869"`},
		{`{"id":8,"op":"get","args":{"key_hex":"zz"}}`, `"kind":"bad_request"`},
		{`{"id":9,"op":"put","args":{"key_hex":"61","value_hex":"00","version":1}}`, `"reason":"version_not_newer"`},
		{`{"id":10,"op":"refresh","args":{"key_hex":"62","value_hex":"00"}}`, `"reason":"not_found"`},
		{`{"id":11,"op":"stats"}`, `"inserts":1`},
		{`{"id":12,"op":"dump"}`, `"key_hex":"61"`},
		{`{"id":13,"op":"participants"}`, `"alive":true`},
		{`{"id":14,"op":"wait","args":{"seen":0,"timeout_ms":1}}`, `"timed_out":false`},
		{`{"id":15,"op":"set_clock","args":{"now_ns":10}}`, `"outcome":"ok"`},
		{`{"id":16,"op":"create","args":{"path":"` + path + `",` + geo + `}}`, `"reason":"exists"`},
		{`{"id":17,"op":"open_or_create","args":{"path":"` + path + `",` + geo + `}}`, `"created":false`},
		{`{"id":18,"op":"close"}`, `"outcome":"ok"`},
		{`{"id":19,"op":"generation"}`, `"kind":"bad_request"`},
	}
	for _, c := range cases {
		b, _ := json.Marshal(roundTrip(t, s, c.in))
		if !strings.Contains(string(b), c.want) {
			t.Errorf("%s\n  -> %s\n  want %s", c.in, b, c.want)
		}
	}
}
