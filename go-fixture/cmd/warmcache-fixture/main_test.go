package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/warmcache/warmcache/go-fixture/internal/harness"
	"github.com/warmcache/warmcache/go-fixture/warmcache"
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
	s := &server{trace: true, openTimeout: -1, languageName: "go", languageCode: uint8(warmcache.LanguageGo)}
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
		{`{"id":8,"op":"get","args":{"key_hex":"61","via":"into"}}`, `"value_hex":"6869"`},
		{`{"id":8,"op":"get","args":{"key_hex":"61","via":"many"}}`, `"value_hex":"6869"`},
		{`{"id":8,"op":"get","args":{"key_hex":"61","via":"batched"}}`, `"kind":"bad_request"`},
		{`{"id":8,"op":"get_many","args":{"keys_hex":["61","62","61",""]}}`, `"results":[{"expires_at_ns":0,`},
		{`{"id":8,"op":"get_many","args":{"keys_hex":["62",""]}}`, `"results":[{"hit":false},{"hit":false}]`},
		{`{"id":8,"op":"get_many","args":{}}`, `"kind":"bad_request"`},
		{`{"id":8,"op":"now"}`, `"now_ns":`},
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
		{`{"id":19,"op":"generation"}`, `"reason":"closed"`}, // the closed handle answers (DRIVER.md "After close")
		{`{"id":20,"op":"hello","args":{"crash_at":"nowhere"}}`, `"kind":"bad_request"`},
		{`{"id":21,"op":"hello","args":{"crash_at":"put.after_claim"}}`, `"pause_points":["lock.after_acquire"`},
	}
	for _, c := range cases {
		b, _ := json.Marshal(roundTrip(t, s, c.in))
		if !strings.Contains(string(b), c.want) {
			t.Errorf("%s\n  -> %s\n  want %s", c.in, b, c.want)
		}
	}
}

// Tracing is asked for in hello (DRIVER.md "hello"), and the answer says whether transitions
// will be reported; --language makes the fixture pose as another implementation, hello and
// provenance alike.
func TestHelloTraceAndLanguage(t *testing.T) {
	s := &server{openTimeout: -1}
	if err := s.setLanguage("stranger=7"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seg")
	geo := `"geometry":{"shard_count":1,"slots_per_shard":8,"key_capacity":32,"value_capacity":64,"probe_window":4,"participant_capacity":4}`
	for _, c := range []struct{ in, want string }{
		{`{"id":1,"op":"hello"}`, `"trace":false`},
		{`{"id":2,"op":"hello","args":{"trace":true}}`, `"trace":true`},
		{`{"id":3,"op":"hello"}`, `"language":"stranger","language_code":7`},
		{`{"id":4,"op":"create","args":{"path":"` + path + `",` + geo + `}}`, `"participant":1`},
		{`{"id":5,"op":"put","args":{"key_hex":"61","value_hex":"6869"}}`, `"event":"publish"`},
		{`{"id":6,"op":"get","args":{"key_hex":"61"}}`, `"language":7`},
		{`{"id":7,"op":"participants"}`, `"language":7`},
	} {
		b, _ := json.Marshal(roundTrip(t, s, c.in))
		if !strings.Contains(string(b), c.want) {
			t.Errorf("%s\n  -> %s\n  want %s", c.in, b, c.want)
		}
	}
	for _, bad := range []string{"stranger", "x=0", "x=256", "=7"} {
		if (&server{}).setLanguage(bad) == nil {
			t.Errorf("--language %s was accepted", bad)
		}
	}
}

// The subprocess tests run this test binary as the fixture: with WARMCACHE_FIXTURE_MAIN=1 set,
// TestMain runs main() (the real command, arguments and all) instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("WARMCACHE_FIXTURE_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fixtureProc is a running fixture subprocess spoken to over JSON lines.
type fixtureProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
	id     int
}

func startFixture(t *testing.T, args ...string) *fixtureProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "WARMCACHE_FIXTURE_MAIN=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &fixtureProc{t: t, cmd: cmd, in: in, out: bufio.NewReader(out), stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.in.Close()
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// call sends one request and returns the response line, or "" if the fixture closed stdout
// without answering.
func (p *fixtureProc) call(op string, args string) string {
	p.t.Helper()
	p.id++
	if args == "" {
		args = "{}"
	}
	if _, err := fmt.Fprintf(p.in, `{"id":%d,"op":%q,"args":%s}`+"\n", p.id, op, args); err != nil {
		return ""
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return ""
	}
	return line
}

func (p *fixtureProc) must(op, args, want string) string {
	p.t.Helper()
	r := p.call(op, args)
	if !strings.Contains(r, want) {
		p.t.Fatalf("%s %s\n  -> %q\n  want %s\n  stderr: %s", op, args, r, want, p.stderr)
	}
	return r
}

func TestUnknownFaultExits2(t *testing.T) {
	p := startFixture(t, "--fault", "no_version_bump", "--fault", "no_such_fault")
	err := p.cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(p.stderr.String(), "unknown fault") {
		t.Fatalf("stderr: %s", p.stderr)
	}
}

func TestHelloListsPointsAndFaults(t *testing.T) {
	p := startFixture(t, "--fault", "wrong_hash")
	r := p.must("hello", "", `"outcome":"ok"`)
	var m struct {
		Result struct {
			PausePoints []string `json:"pause_points"`
			Faults      []string `json:"faults"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r), &m); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Result.PausePoints, warmcache.PausePoints) || len(m.Result.PausePoints) != 37 { // 17 cache, 4 durable store, 5 namespace, 4 compaction, 5 create, 1 repair, create.before_flock (PROTOCOL.md §17)
		t.Fatalf("pause_points %v", m.Result.PausePoints)
	}
	if !reflect.DeepEqual(m.Result.Faults, harness.FaultNames) || len(m.Result.Faults) != 14 {
		t.Fatalf("faults %v", m.Result.Faults)
	}
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after stdin closed: %v", err)
	}
}

// TestFaultSwitchReachesHandles: --fault applies to the handles the fixture opens.
func TestFaultSwitchReachesHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	p := startFixture(t, "--fault", "no_version_bump")
	p.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	v1 := p.must("put", `{"key_hex":"61","value_hex":"01"}`, `"created":true`)
	v2 := p.must("put", `{"key_hex":"61","value_hex":"02"}`, `"created":false`)
	ver := func(s string) string { return s[strings.Index(s, `"version":`):][:12] }
	if ver(v1) != ver(v2) {
		t.Fatalf("no_version_bump: %s then %s", v1, v2)
	}
}

const testGeo = `"geometry":{"shard_count":4,"slots_per_shard":16,"key_capacity":32,"value_capacity":256,"probe_window":4,"participant_capacity":16}`

// oneWindowGeo: one shard of 4 slots with a window of 4, so that every key shares one window.
const oneWindowGeo = `"geometry":{"shard_count":1,"slots_per_shard":4,"key_capacity":32,"value_capacity":256,"probe_window":4,"participant_capacity":16}`

func TestCrashAtPutAfterClaim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	survivor := startFixture(t, "--trace")
	survivor.must("create", `{"path":"`+path+`",`+oneWindowGeo+`}`, `"participant":1`)

	victim := startFixture(t)
	victim.must("open", `{"path":"`+path+`"}`, `"participant":2`)
	victim.must("put", `{"key_hex":"61","value_hex":"00","crash_at":"no.such.point"}`, `"kind":"bad_request"`)
	// crash_at a point the op does not reach: a normal answer.
	victim.must("get", `{"key_hex":"61","crash_at":"put.after_claim"}`, `"hit":false`)
	if r := victim.call("put", `{"key_hex":"61","value_hex":"6869","crash_at":"put.after_claim"}`); r != "" {
		t.Fatalf("the fixture answered instead of dying: %s", r)
	}
	err := victim.cmd.Wait()
	ws, ok := victim.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("victim did not die by SIGKILL: %v (%v)", err, victim.cmd.ProcessState)
	}

	// The victim died holding the insert lock and a WRITING slot whose key it had not written.
	// A put of the same key frees the dead insert lock (one reclaim) and inserts into an EMPTY
	// slot: while one is free, the keyless WRITING slot is left alone (no liveness check).
	survivor.must("stats", "", `"WRITING":1`)
	survivor.must("put", `{"key_hex":"61","value_hex":"6869"}`, `"created":true`)
	survivor.must("get", `{"key_hex":"61"}`, `"value_hex":"6869"`)
	r := survivor.must("stats", "", `"WRITING":1`)
	if tot := totals(t, r); tot.Reclaims != 1 || tot.Inserts != 1 {
		t.Fatalf("stats after the put: %+v", tot)
	}
	// Fill the rest of the window: no EMPTY slot remains.
	survivor.must("put", `{"key_hex":"62","value_hex":"00"}`, `"created":true`)
	survivor.must("put", `{"key_hex":"63","value_hex":"00"}`, `"created":true`)
	survivor.must("stats", "", `"WRITING":1`)
	// The next insert needs that slot: it reclaims the dead owner's WRITING slot (§9.4, §9.8:
	// reported as a reclaim whose owner is the dead participant 2) and claims it from EMPTY,
	// instead of evicting a live entry.
	r = survivor.must("put", `{"key_hex":"64","value_hex":"00"}`, `"created":true`)
	tr := transitions(t, r)
	if len(tr) != 3 ||
		tr[0].Event != "reclaim" || tr[0].From != "WRITING" || tr[0].To != "EMPTY" || tr[0].Owner != 2 ||
		tr[1].Event != "claim" || tr[1].From != "EMPTY" || tr[1].Owner != 1 || tr[1].Slot != tr[0].Slot ||
		tr[2].Event != "publish" || tr[2].Owner != 1 {
		t.Fatalf("transitions of the insert that needs the dead slot: %+v", tr)
	}
	r = survivor.must("stats", "", `"WRITING":0`)
	if tot := totals(t, r); tot.Reclaims != 2 || tot.Inserts != 4 || tot.Evictions != 0 {
		t.Fatalf("after the reclaim: %+v", tot)
	}
	for _, k := range []string{"61", "62", "63", "64"} {
		survivor.must("get", `{"key_hex":"`+k+`"}`, `"hit":true`)
	}
}

func transitions(t *testing.T, line string) []warmcache.Transition {
	t.Helper()
	var m struct {
		Transitions []warmcache.Transition `json:"transitions"`
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	return m.Transitions
}

func totals(t *testing.T, line string) warmcache.Counters {
	t.Helper()
	var m struct {
		Result struct {
			Totals warmcache.Counters `json:"totals"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	return m.Result.Totals
}

// TestCrashAtOpenSweep: crash_at on open reaches the registration sweep's reclaim.
func TestCrashAtOpenSweep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	if r := a.call("put", `{"key_hex":"61","value_hex":"00","crash_at":"put.after_payload"}`); r != "" {
		t.Fatal(r)
	}
	a.cmd.Wait()
	b := startFixture(t)
	if r := b.call("open", `{"path":"`+path+`","crash_at":"reclaim.before_cas"}`); r != "" {
		t.Fatalf("open answered: %s", r)
	}
	b.cmd.Wait()
	if ws := b.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("open did not die by SIGKILL: %v", b.cmd.ProcessState)
	}
	c := startFixture(t)
	c.must("open", `{"path":"`+path+`"}`, `"participant":1`)
	c.must("stats", "", `"WRITING":0`)
}

// TestOddInput pins DRIVER.md "Odd input" on the real read loop: every line gets one answer and
// the fixture reads on; bad paths are refused before any file is touched.
func TestOddInput(t *testing.T) {
	dir := t.TempDir()
	geo := `"geometry":{"shard_count":1,"slots_per_shard":4,"key_capacity":16,"value_capacity":64,"probe_window":2,"participant_capacity":8}`
	p := startFixture(t)
	cases := []struct {
		in   string
		want []string
	}{
		{"\xff\xfe{}", []string{`{"id":null,"error":{"kind":"bad_request","message":"the line is not valid UTF-8"}}`}},
		{"", []string{`{"id":null,"error":{"kind":"bad_request"`}},
		{"[1]", []string{`{"id":null,"error":{"kind":"bad_request"`}},
		{`{"id":1,"op":"close"}`, []string{`{"id":1,"outcome":"ok"`}},
		{`{"id":2,"op":"create","args":{"path":"` + dir + `/missing/seg",` + geo + `}}`, []string{`"reason":"not_found"`}},
		{`{"id":3,"op":"create","args":{"path":"",` + geo + `}}`, []string{`{"id":3,"error":{"kind":"bad_request","message":"missing path"}}`}},
		{`{"id":4,"op":"open","args":{"path":""}}`, []string{`{"id":4,"error":{"kind":"bad_request","message":"missing path"}}`}},
		{`{"id":5,"op":"create","args":{"path":"` + dir + `/a\u0000b",` + geo + `}}`, []string{`{"id":5,"outcome":"fail","reason":"io"`}},
		{`{"id":6,"op":"open_or_create","args":{"path":"` + dir + `/a\u0000b",` + geo + `}}`, []string{`"outcome":"fail","reason":"io"`}},
		{`{"id":7,"op":"open","args":{"path":"` + dir + `/a\u0000b"}}`, []string{`"outcome":"fail","reason":"io"`}},
		{`{"id":8,"op":"hello"}`, []string{`{"id":8,"outcome":"ok"`}},
	}
	for _, c := range cases {
		if _, err := io.WriteString(p.in, c.in+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := p.out.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: no answer (%v); stderr %s", c.in, err, p.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(line, w) {
				t.Errorf("%q\n  -> %s  want %s", c.in, line, w)
			}
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files left behind: %v", ents)
	}
}

// TestCrashChance pins DRIVER.md "Crashing by chance": the vector seed 1, ppm 500000 draws
// 822465 then 428519, so a fresh insert (put.before_lock, lock.after_acquire, …) dies at its
// second point, holding the insert lock; ppm 0 and 1000000 are never and always; bad values
// are bad requests.
func TestCrashChance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	a.must("put", `{"key_hex":"61","value_hex":"00","crash_chance_ppm":1000001}`, `"kind":"bad_request"`)
	a.must("put", `{"key_hex":"61","value_hex":"00","crash_chance_ppm":"5"}`, `"kind":"bad_request"`)
	a.must("put", `{"key_hex":"61","value_hex":"00","crash_seed":5}`, `"kind":"bad_request"`)
	a.must("put", `{"key_hex":"61","value_hex":"00","crash_chance_ppm":0,"crash_seed":1}`, `"created":true`)
	if r := a.call("put", `{"key_hex":"62","value_hex":"00","crash_chance_ppm":500000,"crash_seed":1}`); r != "" {
		t.Fatalf("the fixture answered instead of dying: %s", r)
	}
	a.cmd.Wait()
	if ws := a.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("not killed by SIGKILL: %v", a.cmd.ProcessState)
	}
	if !strings.Contains(a.stderr.String(), "crash_chance: SIGKILL at lock.after_acquire\n") {
		t.Fatalf("stderr does not name the point: %q", a.stderr.String())
	}
	b := startFixture(t)
	b.must("open", `{"path":"`+path+`"}`, `"participant":1`)
	b.must("put", `{"key_hex":"62","value_hex":"00"}`, `"created":true`)
}

// TestFaultInsideTheMappingIsAnError pins PROTOCOL.md §13.2 for Go: the file cut to its header
// under an open handle makes the next get an error answer (not a SIGBUS death); the handle is
// closed and the fixture goes on serving.
func TestFaultInsideTheMappingIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	a.must("put", `{"key_hex":"61","value_hex":"00"}`, `"created":true`)
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	a.must("get", `{"key_hex":"61"}`, `mapping faulted`)
	a.must("get", `{"key_hex":"61"}`, `"reason":"closed"`)
	a.must("hello", "", `"language":"go"`)
}

// TestClosedHandleAnswersClosed pins DRIVER.md "After close": the fixture keeps the closed
// handle, every handle operation is the library's and answers fail(closed), and close stays a
// no-op.
func TestClosedHandleAnswersClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	a := startFixture(t)
	a.must("get", `{"key_hex":"61"}`, `no open segment`)
	a.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	a.must("close", "", `"outcome":"ok"`)
	for _, r := range [][2]string{{"get", `{"key_hex":"61"}`}, {"put", `{"key_hex":"61","value_hex":"00"}`},
		{"refresh", `{"key_hex":"61","value_hex":"00"}`}, {"invalidate", `{"key_hex":"61"}`}, {"evict", `{"key_hex":"61"}`},
		{"stats", ""}, {"generation", ""}, {"wait", `{"seen":0,"timeout_ms":10}`}, {"set_clock", `{"now_ns":1}`},
		{"dump", ""}, {"participants", ""}, {"journal_state", ""}, {"repair", ""}, {"ns_stage", `{"ns":0}`},
		{"ns_put", `{"ns":0,"key_hex":"61","value_hex":"00"}`}, {"ns_flip", `{"ns":0}`}, {"ns_rollback", `{"ns":0}`},
		{"ns_pin", `{"ns":0}`}, {"ns_unpin", ""}, {"ns_get", `{"ns":0,"key_hex":"61"}`}, {"ns_reclaim", `{"ns":0}`},
		{"ns_state", `{"ns":0}`}} {
		a.must(r[0], r[1], `"outcome":"fail","reason":"closed"`)
	}
	a.must("close", "", `"outcome":"ok"`)
	a.must("open", `{"path":"`+path+`"}`, `"participant":1`)
	a.must("get", `{"key_hex":"61"}`, `"hit":false`)
}
