package main

import (
	"encoding/json"
	"testing"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// The hand-written encoder must write exactly what encoding/json writes, or decline.
func TestAppendResponseMatchesEncodingJSON(t *testing.T) {
	trans := []warmcache.Transition{
		{Event: "refresh_claim", Shard: 3, Slot: 17, From: "READY", To: "REFRESHING", Seq: 41, Owner: 2, Gseq: 1 << 40},
		{Event: "refresh_publish", Shard: 3, Slot: 17, From: "REFRESHING", To: "READY", Seq: 42, Owner: 2, Gseq: 1<<40 + 1},
	}
	hit := lookupFields(warmcache.Lookup{Value: []byte{0, 1, 0xfe}, Version: 9, OriginTag: 1<<32 - 1, Shard: 1, Slot: 2})
	hit["hit"], hit["stale"], hit["refresh_requested"] = true, false, true
	handled := []response{
		{ID: json.RawMessage("7"), Outcome: "ok", Result: map[string]interface{}{"version": uint64(3), "created": true, "shard": uint32(0), "slot": uint32(5)}, Transitions: trans},
		{ID: json.RawMessage("8"), Outcome: "ok", Result: hit},
		{ID: json.RawMessage("9"), Outcome: "ok"},
		{ID: json.RawMessage("-1"), Outcome: "ok", Result: map[string]interface{}{}},
		{ID: json.RawMessage("10"), Outcome: "fail", Reason: "busy", Message: "slot 3 held by participant 2", Transitions: trans[:1]},
		{ID: json.RawMessage("11"), Outcome: "unknown", Result: map[string]interface{}{"hit": false, "n": -5, "big": int64(-1 << 62), "u8": uint8(255), "u16": uint16(65535), "i32": int32(-7)}},
	}
	for i, r := range handled {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendResponse([]byte("prefix"), r)
		if !ok {
			t.Errorf("case %d: declined %s", i, want)
			continue
		}
		if string(got) != "prefix"+string(want) {
			t.Errorf("case %d:\n got %s\nwant prefix%s", i, got, want)
		}
	}
	declined := []response{
		{ID: json.RawMessage("1"), Error: &errBody{"bad_request", "x"}},
		{ID: json.RawMessage(`"a"`), Outcome: "ok"},
		{ID: nil, Outcome: "ok"},
		{ID: json.RawMessage("1"), Outcome: "fail", Reason: "busy", Message: `quote " inside`},
		{ID: json.RawMessage("1"), Outcome: "fail", Message: "a<b"},
		{ID: json.RawMessage("1"), Outcome: "ok", Result: map[string]interface{}{"f": 1.5}},
		{ID: json.RawMessage("1"), Outcome: "ok", Result: map[string]interface{}{"s": "é"}},
		{ID: json.RawMessage("1"), Outcome: "ok", Result: map[string]interface{}{"l": []interface{}{1}}},
	}
	for i, r := range declined {
		if got, ok := appendResponse([]byte("keep"), r); ok || string(got) != "keep" {
			t.Errorf("declined case %d: ok=%v, buffer %q", i, ok, got)
		}
	}
}

func TestIsResumeOnlyForTheExactForm(t *testing.T) {
	for _, s := range []string{`{"args":{},"id":18,"op":"resume"}`, "{\"args\":{},\"id\":0,\"op\":\"resume\"}\n"} {
		if !isResume([]byte(s)) {
			t.Errorf("%q should be a resume", s)
		}
	}
	for _, s := range []string{`{"args":{},"id":,"op":"resume"}`, `{"args":{},"id":"1","op":"resume"}`,
		`{"id":1,"op":"resume"}`, `{"args":{},"id":1,"op":"resumex"}`, `{"args":{},"id":1,"op":"get"}`, ``} {
		if isResume([]byte(s)) {
			t.Errorf("%q should not be taken for a resume", s)
		}
	}
}
