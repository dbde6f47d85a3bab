package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// DRIVER.md "Two operations of one handle": an overlap runs whole beside the paused operation,
// each response carries only its own transitions, and the refusals are the documented ones.
func TestOverlapBesideAPausedPut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	w := startFixture(t, "--trace")
	w.must("create", `{"path":"`+path+`",`+oneWindowGeo+`}`, `"participant":1`)
	w.must("put", `{"key_hex":"62","value_hex":"00","overlap":true}`, `"overlap: no operation is paused"`)

	id := w.send("put", `{"key_hex":"61","value_hex":"01","pause_at":"put.after_payload"}`)
	wantPaused(t, w.recv(), id, "put.after_payload")
	w.must("put", `{"key_hex":"62","value_hex":"02","overlap":true,"crash_at":"put.after_claim"}`,
		`"overlap: crash_at is not allowed on an overlapping request"`)
	w.must("stats", `{"overlap":true}`, `"overlap: stats cannot overlap a paused operation`)
	line := w.must("put", `{"key_hex":"62","value_hex":"02","overlap":true}`, `"created":true`)
	if tr := transitions(t, line); len(tr) != 2 || tr[0].Event != "claim" || tr[1].Event != "publish" {
		t.Fatalf("the overlap's transitions are its own claim and publish: %+v", tr)
	}
	w.must("get", `{"key_hex":"62","overlap":true}`, `"value_hex":"02"`)
	w.must("get", `{"key_hex":"61","overlap":true}`, `"hit":false`) // a's record is not published yet
	w.send("resume", "")
	line = w.recv()
	if m := wantID(t, line, id); m["outcome"] != "ok" || !strings.Contains(line, `"created":true`) {
		t.Fatalf("put after resume: %s", line)
	}
	// The paused put's claim (before the overlap) and publish (after) both come with it.
	if tr := transitions(t, line); len(tr) != 2 || tr[0].Event != "claim" || tr[1].Event != "publish" {
		t.Fatalf("the paused put's transitions: %+v", tr)
	}
	w.must("get", `{"key_hex":"61"}`, `"value_hex":"01"`)
}
