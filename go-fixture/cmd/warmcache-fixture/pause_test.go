package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// send writes one request without reading anything and returns its id.
func (p *fixtureProc) send(op, args string) int {
	p.t.Helper()
	p.id++
	if args == "" {
		args = "{}"
	}
	if _, err := fmt.Fprintf(p.in, `{"id":%d,"op":%q,"args":%s}`+"\n", p.id, op, args); err != nil {
		p.t.Fatalf("send %s: %v", op, err)
	}
	return p.id
}

// recv reads the next line, failing the test after a timeout (a fixture that blocks would
// otherwise hang the test).
func (p *fixtureProc) recv() string {
	p.t.Helper()
	type res struct {
		line string
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		l, err := p.out.ReadString('\n')
		ch <- res{l, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			p.t.Fatalf("recv: %v (got %q)\n  stderr: %s", r.err, r.line, p.stderr)
		}
		return r.line
	case <-time.After(10 * time.Second):
		p.t.Fatalf("recv: no line within 10s\n  stderr: %s", p.stderr)
	}
	return ""
}

// wantPaused checks that line is exactly the pause notification of request id at point.
func wantPaused(t *testing.T, line string, id int, point string) {
	t.Helper()
	want := fmt.Sprintf(`{"id":%d,"paused":%q}`+"\n", id, point)
	if line != want {
		t.Fatalf("got %q, want the notification %q", line, want)
	}
}

// wantID checks that a response line carries request id.
func wantID(t *testing.T, line string, id int) map[string]interface{} {
	t.Helper()
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if got, ok := m["id"].(float64); !ok || int(got) != id {
		t.Fatalf("response %q: want id %d", line, id)
	}
	return m
}

func TestPauseAtRefreshAfterPayload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	w := startFixture(t, "--trace")
	w.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	w.must("put", `{"key_hex":"61","value_hex":"6f6c64"}`, `"created":true`) // "old"
	r := startFixture(t)
	r.must("open", `{"path":"`+path+`"}`, `"participant":2`)

	w.must("put", `{"key_hex":"61","value_hex":"00","pause_at":"no.such.point"}`, `"kind":"bad_request"`)
	w.must("put", `{"key_hex":"61","value_hex":"00","pause_at":7}`, `"kind":"bad_request"`)
	w.must("resume", "", `"kind":"bad_request"`) // nothing is paused

	id := w.send("refresh", `{"key_hex":"61","value_hex":"6e6577","pause_at":"refresh.after_payload"}`) // "new"
	wantPaused(t, w.recv(), id, "refresh.after_payload")
	// While the writer is between its payload and its publish, another process reads the old
	// value (REFRESHING serves record[A]).
	r.must("get", `{"key_hex":"61"}`, `"value_hex":"6f6c64"`)
	r.must("stats", "", `"REFRESHING":1`)
	// Any request but resume is refused, with its own id, and the fixture stays paused.
	for _, op := range []string{"get", "stats", "hello"} {
		m := wantID(t, w.call(op, `{"key_hex":"61"}`), w.id)
		e, _ := m["error"].(map[string]interface{})
		if e == nil || e["kind"] != "bad_request" || e["message"] != "paused at refresh.after_payload; only resume is accepted" {
			t.Fatalf("%s while paused: %v", op, m)
		}
	}
	r.must("get", `{"key_hex":"61"}`, `"value_hex":"6f6c64"`)
	// resume: no response of its own; the refresh's response (with the refresh's id) follows.
	w.send("resume", "")
	line := w.recv()
	m := wantID(t, line, id)
	if m["outcome"] != "ok" || !strings.Contains(line, `"created":false`) {
		t.Fatalf("refresh after resume: %s", line)
	}
	tr := transitions(t, line)
	if len(tr) != 2 || tr[0].Event != "refresh_claim" || tr[1].Event != "refresh_publish" || tr[1].Owner != 1 {
		t.Fatalf("transitions %+v", tr)
	}
	r.must("get", `{"key_hex":"61"}`, `"value_hex":"6e6577"`)
	// The fixture is back in its main loop: requests are answered normally.
	w.must("get", `{"key_hex":"61"}`, `"value_hex":"6e6577"`)

	// A pause point the operation never reaches: just the response.
	id = w.send("put", `{"key_hex":"61","value_hex":"01","pause_at":"put.after_claim"}`)
	m = wantID(t, w.recv(), id)
	if m["outcome"] != "ok" {
		t.Fatalf("put with an unreached pause point: %v", m)
	}
	id = w.send("get", `{"key_hex":"7a","pause_at":"get.after_key_match"}`) // a miss
	if m = wantID(t, w.recv(), id); m["outcome"] != "ok" {
		t.Fatalf("get miss with a pause point: %v", m)
	}
	// The pause is per request: the next request does not pause.
	w.must("put", `{"key_hex":"61","value_hex":"02"}`, `"outcome":"ok"`)
}

func TestPauseAtGetAfterKeyMatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	rd := startFixture(t)
	rd.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	wr := startFixture(t)
	wr.must("open", `{"path":"`+path+`"}`, `"participant":2`)
	wr.must("put", `{"key_hex":"6b","value_hex":"01"}`, `"created":true`)

	// Paused after matching the key and before copying: a refresh made meanwhile is seen by
	// the reader's second state load; it retries and returns the new value (the pause fires
	// only the first time the point is reached).
	id := rd.send("get", `{"key_hex":"6b","pause_at":"get.after_key_match"}`)
	wantPaused(t, rd.recv(), id, "get.after_key_match")
	wr.must("put", `{"key_hex":"6b","value_hex":"02"}`, `"created":false`)
	rd.send("resume", "")
	line := rd.recv()
	if m := wantID(t, line, id); m["outcome"] != "ok" || !strings.Contains(line, `"value_hex":"02"`) {
		t.Fatalf("get after resume: %s", line)
	}
}

// TestPauseThenCrash: crash_at and pause_at in one request each fire at their own point.
func TestPauseThenCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	a.must("put", `{"key_hex":"61","value_hex":"01"}`, `"created":true`)
	id := a.send("put", `{"key_hex":"61","value_hex":"02","pause_at":"refresh.after_claim","crash_at":"refresh.after_payload"}`)
	wantPaused(t, a.recv(), id, "refresh.after_claim")
	a.send("resume", "")
	if l, err := a.out.ReadString('\n'); err == nil {
		t.Fatalf("answered instead of dying at refresh.after_payload: %s", l)
	}
	a.cmd.Wait()
	if ws := a.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("did not die by SIGKILL: %v", a.cmd.ProcessState)
	}
	b := startFixture(t)
	b.must("open", `{"path":"`+path+`"}`, `"participant":1`) // sweeps the dead REFRESHING claim
	b.must("get", `{"key_hex":"61"}`, `"value_hex":"01"`)
}

// TestEOFWhilePaused: the orchestrator gave up: stdin closes while paused → exit 0 promptly.
func TestEOFWhilePaused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	id := a.send("put", `{"key_hex":"61","value_hex":"01","pause_at":"put.after_payload"}`)
	wantPaused(t, a.recv(), id, "put.after_payload")
	a.in.Close()
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n  stderr: %s", err, a.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after stdin closed while paused")
	}
	// It left its claim as a crash would: the next process to take its participant entry
	// sweeps it (§5 step 2), and the key can be inserted again.
	b := startFixture(t)
	b.must("open", `{"path":"`+path+`"}`, `"participant":1`)
	b.must("stats", "", `"WRITING":0`)
	b.must("put", `{"key_hex":"61","value_hex":"02"}`, `"created":true`)
}

// TestPausedReaderKeyReused (scenarios/key-reused-under-a-paused-reader.yaml): a reader paused
// after matching k1's key meets, on resume, a slot emptied and reused for k2 whose data lies
// in the record it is about to copy (with a valid checksum); its second state load sees the
// change, and the retry misses k1.
func TestPausedReaderKeyReused(t *testing.T) {
	const oneSlot = `"geometry":{"shard_count":1,"slots_per_shard":1,"key_capacity":16,"value_capacity":64,"probe_window":1,"participant_capacity":8}`
	path := filepath.Join(t.TempDir(), "seg")
	w := startFixture(t)
	w.must("create", `{"path":"`+path+`",`+oneSlot+`}`, `"participant":1`)
	rd := startFixture(t)
	rd.must("open", `{"path":"`+path+`"}`, `"participant":2`)
	w.must("put", `{"key_hex":"6b31","value_hex":"61"}`, `"version":1`)
	id := rd.send("get", `{"key_hex":"6b31","pause_at":"get.after_key_match"}`)
	wantPaused(t, rd.recv(), id, "get.after_key_match")
	w.must("invalidate", `{"key_hex":"6b31"}`, `"removed":true`)
	w.must("put", `{"key_hex":"6b32","value_hex":"62"}`, `"created":true`)
	w.must("refresh", `{"key_hex":"6b32","value_hex":"63"}`, `"version":3`)
	rd.send("resume", "")
	if line := rd.recv(); !strings.Contains(line, fmt.Sprintf(`{"id":%d,"outcome":"ok","result":{"hit":false}`, id)) {
		t.Fatalf("paused get of k1 after the slot was reused: %s", line)
	}
	rd.must("get", `{"key_hex":"6b32"}`, `"value_hex":"63"`)
	rd.must("get", `{"key_hex":"6b31"}`, `"hit":false`)
}

// stepThrough drives request id of p in step mode: it expects one paused notification per
// point of want, in order, resuming after each, and returns the response line that follows
// the last resume.
func stepThrough(t *testing.T, p *fixtureProc, id int, want []string) string {
	t.Helper()
	for _, point := range want {
		wantPaused(t, p.recv(), id, point)
		p.send("resume", "")
	}
	line := p.recv()
	if m := wantID(t, line, id); m["paused"] != nil {
		t.Fatalf("after the last expected point %v: another pause %s", want, line)
	}
	return line
}

// TestStepMode: pause_at "*" pauses at every pause point the operation reaches, in order, one
// notification and one resume each, and the response follows the last resume.
func TestStepMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	w := startFixture(t)
	w.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	w.must("put", `{"key_hex":"61","value_hex":"01","crash_at":"*"}`, `"kind":"bad_request"`) // crash_at needs a point
	w.must("put", `{"key_hex":"61","value_hex":"01","pause_at":"**"}`, `"kind":"bad_request"`)

	// An insert of a fresh key: the insert's points of §17, in order.
	id := w.send("put", `{"key_hex":"61","value_hex":"01","pause_at":"*"}`)
	wantPaused(t, w.recv(), id, "put.before_lock")
	w.send("resume", "")
	wantPaused(t, w.recv(), id, "lock.after_acquire")
	// While paused, only resume is accepted, with the usual error and the same pause.
	m := wantID(t, w.call("get", `{"key_hex":"61"}`), w.id)
	if e, _ := m["error"].(map[string]interface{}); e == nil || e["kind"] != "bad_request" || e["message"] != "paused at lock.after_acquire; only resume is accepted" {
		t.Fatalf("get while paused in step mode: %v", m)
	}
	w.send("resume", "")
	line := stepThrough(t, w, id, []string{"put.before_claim", "put.after_claim", "put.after_key", "put.after_payload"})
	if m := wantID(t, line, id); m["outcome"] != "ok" || !strings.Contains(line, `"created":true`) {
		t.Fatalf("put after step mode: %s", line)
	}

	// A get of a present key: the reader's two points.
	id = w.send("get", `{"key_hex":"61","pause_at":"*"}`)
	line = stepThrough(t, w, id, []string{"get.after_key_match", "get.between_seq_reads"})
	if m := wantID(t, line, id); m["outcome"] != "ok" || !strings.Contains(line, `"value_hex":"01"`) {
		t.Fatalf("get after step mode: %s", line)
	}
	// A refresh of it: the refresh's points.
	id = w.send("put", `{"key_hex":"61","value_hex":"02","pause_at":"*"}`)
	line = stepThrough(t, w, id, []string{"refresh.before_claim", "refresh.after_claim", "refresh.after_payload"})
	if m := wantID(t, line, id); m["outcome"] != "ok" || !strings.Contains(line, `"created":false`) {
		t.Fatalf("refresh after step mode: %s", line)
	}
	// Step mode is per request: the next request runs straight through.
	w.must("get", `{"key_hex":"61"}`, `"value_hex":"02"`)
	// An operation that reaches no point: just its response.
	id = w.send("get", `{"key_hex":"7a","pause_at":"*"}`)
	if m := wantID(t, w.recv(), id); m["outcome"] != "ok" || m["paused"] != nil {
		t.Fatalf("get miss in step mode: %v", m)
	}
}

// TestStepModeThenCrash: with pause_at "*", crash_at still kills the process at its point,
// after the step-mode pause there has been resumed.
func TestStepModeThenCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	id := a.send("put", `{"key_hex":"61","value_hex":"01","pause_at":"*","crash_at":"put.after_key"}`)
	for _, point := range []string{"put.before_lock", "lock.after_acquire", "put.before_claim", "put.after_claim", "put.after_key"} {
		wantPaused(t, a.recv(), id, point)
		a.send("resume", "")
	}
	if l, err := a.out.ReadString('\n'); err == nil {
		t.Fatalf("answered instead of dying at put.after_key: %s", l)
	}
	a.cmd.Wait()
	if ws := a.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("did not die by SIGKILL: %v", a.cmd.ProcessState)
	}
	b := startFixture(t)
	b.must("open", `{"path":"`+path+`"}`, `"participant":1`) // sweeps the dead claim and lock
	b.must("put", `{"key_hex":"61","value_hex":"02"}`, `"created":true`)
}
