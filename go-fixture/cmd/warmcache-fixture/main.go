// Command warmcache-fixture speaks the warmcheck driver contract (docs/DRIVER.md) over
// stdin/stdout JSON lines for the Go implementation of warmcache.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"warmcache/warmcache"
)

var operations = []string{"hello", "create", "open", "open_or_create", "close", "get", "put",
	"refresh", "invalidate", "evict", "stats", "generation", "wait", "set_clock", "dump",
	"participants"}

type request struct {
	ID   json.RawMessage `json:"id"`
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args"`
}

type errBody struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type response struct {
	ID          json.RawMessage        `json:"id"`
	Outcome     string                 `json:"outcome,omitempty"`
	Result      interface{}            `json:"result,omitempty"`
	Reason      string                 `json:"reason,omitempty"`
	Message     string                 `json:"message,omitempty"`
	Transitions []warmcache.Transition `json:"transitions,omitempty"`
	Error       *errBody               `json:"error,omitempty"`
	transOK     bool
}

// MarshalJSON always emits transitions (possibly empty) on protocol outcomes.
func (r response) MarshalJSON() ([]byte, error) {
	type plain struct {
		ID          json.RawMessage         `json:"id"`
		Outcome     string                  `json:"outcome,omitempty"`
		Result      interface{}             `json:"result,omitempty"`
		Reason      string                  `json:"reason,omitempty"`
		Message     string                  `json:"message,omitempty"`
		Transitions *[]warmcache.Transition `json:"transitions,omitempty"`
		Error       *errBody                `json:"error,omitempty"`
	}
	p := plain{ID: r.ID, Outcome: r.Outcome, Result: r.Result, Reason: r.Reason, Message: r.Message, Error: r.Error}
	if p.ID == nil {
		p.ID = json.RawMessage("null")
	}
	if r.Outcome != "" {
		t := r.Transitions
		if t == nil {
			t = []warmcache.Transition{}
		}
		p.Transitions = &t
		if p.Result == nil && r.Outcome == "ok" {
			p.Result = map[string]interface{}{}
		}
	}
	return json.Marshal(p)
}

type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

type unsupported struct{ msg string }

func (u unsupported) Error() string { return u.msg }

// failure is a protocol "fail" outcome.
type failure struct{ reason, msg string }

func (f failure) Error() string { return f.msg }

type server struct {
	cache       *warmcache.Cache
	trace       bool
	openTimeout time.Duration
	// faults are the --fault switches, given to every handle the fixture opens.
	faults warmcache.Faults
	// hook is the pause hook of the current request's crash_at and pause_at, nil otherwise.
	hook func(point string)
	// in and out are the fixture's stdin and stdout. in is shared by the main loop and a
	// paused operation's hook (which reads the resume request), so that no line is lost
	// between two readers.
	in  *bufio.Reader
	out *bufio.Writer
	// languageName and languageCode are what hello declares and what the handles write into
	// provenance (PROTOCOL.md §7.3): Go's unless --language NAME=CODE poses as another
	// implementation (how the harness tests the path of a third-party implementation).
	languageName string
	languageCode uint8
}

// faultFlag collects repeated --fault NAME options. An unknown name makes flag.Parse print the
// error and the usage on stderr and exit 2.
type faultFlag struct{ set *warmcache.Faults }

func (f faultFlag) String() string {
	if f.set == nil {
		return ""
	}
	return f.set.String()
}

func (f faultFlag) Set(name string) error {
	x, err := warmcache.ParseFault(name)
	if err != nil {
		return err
	}
	*f.set |= x
	return nil
}

// openOptions are the options of every handle the fixture opens: the --fault switches, and
// the pause hook of the current request so that a crash or pause point inside the
// registration sweep (reclaim.before_cas) is honoured too.
func (s *server) openOptions() warmcache.OpenOptions {
	return warmcache.OpenOptions{Timeout: s.openTimeout, Faults: s.faults, PauseHook: s.hook, Language: s.languageCode, Trace: s.trace}
}

// crashAt returns the pause hook of DRIVER.md "Crashing at a pause point": reaching target
// kills this process with SIGKILL, exactly as a process dying there would: no cleanup, no
// response, no flush.
func crashAt(target string) func(point string) {
	return func(point string) {
		if point != target {
			return
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		for { // SIGKILL cannot be caught; never go on with the operation
			time.Sleep(time.Hour)
		}
	}
}

// echo copies stdin lines to stdout unparsed: the bare pipe ping-pong that the driver's round
// trip is measured against (warmcheck bench), in the same kind of process as the fixture.
func echo() {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			_, _ = out.Write(line)
			_ = out.Flush()
		}
		if err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "echo" {
		echo()
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: warmcache-fixture serve [--trace] [--timeout-ms N] [--language NAME=CODE] [--fault NAME]... | warmcache-fixture echo")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	trace := fs.Bool("trace", false, "fill transitions")
	timeoutMs := fs.Int("timeout-ms", 2000, "open polling timeout")
	var faults warmcache.Faults
	language := fs.String("language", "go=1", "NAME=CODE declared in hello and written as provenance (PROTOCOL.md §7.3)")
	fs.Var(faultFlag{&faults}, "fault", "switch on a deliberate bug (repeatable): "+strings.Join(warmcache.FaultNames, ", "))
	_ = fs.Parse(os.Args[2:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "warmcache-fixture: unexpected argument %q\n", fs.Arg(0))
		os.Exit(2)
	}
	s := &server{trace: *trace, openTimeout: time.Duration(*timeoutMs) * time.Millisecond, faults: faults}
	if err := s.setLanguage(*language); err != nil {
		fmt.Fprintln(os.Stderr, "warmcache-fixture: --language:", err)
		os.Exit(2)
	}
	if faults != 0 {
		fmt.Fprintf(os.Stderr, "warmcache-fixture: faults switched on: %s\n", faults)
	}
	if *timeoutMs <= 0 {
		s.openTimeout = -1
	}
	s.in = bufio.NewReaderSize(os.Stdin, 1<<20)
	s.out = bufio.NewWriter(os.Stdout)
	for {
		line, err := s.in.ReadBytes('\n')
		if len(line) > 0 {
			s.respond(s.handle(line))
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "warmcache-fixture: read:", err)
			}
			break
		}
	}
	if s.cache != nil {
		s.cache.Close()
	}
}

// respond writes one response line and flushes it.
func (s *server) respond(r response) {
	if b, ok := appendResponse(make([]byte, 0, 512), r); ok {
		s.writeLine(b)
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(response{ID: r.ID, Error: &errBody{"runtime", err.Error()}})
	}
	s.writeLine(b)
}

func (s *server) writeLine(b []byte) {
	s.out.Write(b)
	s.out.WriteByte('\n')
	if err := s.out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "warmcache-fixture: write:", err)
	}
}

// pauseHere is the pause of DRIVER.md "Pausing at a pause point", called from the pause hook
// inside the operation of request id: it writes the notification, then reads requests from
// stdin (the main loop's reader) until a resume, which returns to the operation (the resume
// has no response of its own; the operation's response follows). Every other request is
// answered with a bad_request error and the operation stays paused. EOF on stdin while paused
// means the orchestrator gave up: exit 0 at once, leaving the operation where it stopped.
func (s *server) pauseHere(id json.RawMessage, point string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	// Built by hand, not by encoding/json: a controlled race sends one of these per step. id is
	// the request's own id (already valid JSON) and point one of the fixed names of PausePoints
	// (plain ASCII), so no escaping is needed. The line is {"id": N, "paused": POINT}.
	b := make([]byte, 0, 48+len(id)+len(point))
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"paused":"`...)
	b = append(b, point...)
	b = append(b, `"}`...)
	s.writeLine(b)
	for {
		line, err := s.in.ReadBytes('\n')
		if isResume(line) {
			return
		}
		if len(line) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				s.respond(response{Error: &errBody{"bad_request", "malformed JSON: " + jerr.Error() + "; paused at " + point + "; only resume is accepted"}})
			} else if req.Op == "resume" {
				return
			} else {
				s.respond(response{ID: req.ID, Error: &errBody{"bad_request", "paused at " + point + "; only resume is accepted"}})
			}
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "warmcache-fixture: read while paused:", err)
			}
			fmt.Fprintf(os.Stderr, "warmcache-fixture: stdin closed while paused at %s; exiting\n", point)
			os.Exit(0)
		}
	}
}

// stepMode is the pause_at value of DRIVER.md's step mode: pause at every pause point reached.
const stepMode = "*"

// stringArg returns the string argument name of args, or nil if args has no such field; a
// field that is not a string naming a pause point is a bad request. If allowStep, the step
// mode value "*" is accepted too (pause_at only; crash_at needs one named point).
func stringArg(args json.RawMessage, name string, allowStep bool) (*string, error) {
	var m map[string]json.RawMessage
	if len(args) == 0 || json.Unmarshal(args, &m) != nil {
		return nil, nil // not an object: the operation's own decoding reports it
	}
	raw, ok := m[name]
	if !ok {
		return nil, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest{name + ": must be a string naming a pause point"}
	}
	if allowStep && v == stepMode {
		return &v, nil
	}
	if !warmcache.IsPausePoint(v) {
		return nil, badRequest{name + ": unknown pause point " + strconv.Quote(v)}
	}
	return &v, nil
}

// requestHook returns the pause hook for a request's crash_at and pause_at (nil if it has
// neither). The pause fires the first time the operation reaches its point; in step mode
// (pause_at "*") it fires at every point reached, each time it is reached. The crash fires
// every time (it only happens once). If the pause and the crash meet at the same point
// (including step mode reaching the crash point), the pause comes first and the crash
// follows the resume.
func (s *server) requestHook(id json.RawMessage, crashPoint, pausePoint *string) func(point string) {
	if crashPoint == nil && pausePoint == nil {
		return nil
	}
	var crash func(string)
	if crashPoint != nil {
		crash = crashAt(*crashPoint)
	}
	paused := false
	return func(point string) {
		if pausePoint != nil {
			if *pausePoint == stepMode {
				s.pauseHere(id, point)
			} else if !paused && point == *pausePoint {
				paused = true
				s.pauseHere(id, point)
			}
		}
		if crash != nil {
			crash(point)
		}
	}
}

func (s *server) handle(line []byte) (resp response) {
	// Every line gets exactly one response; a blank or malformed line is a bad request.
	var req request
	if !utf8.Valid(line) {
		// encoding/json would replace the bad bytes and go on; the contract is UTF-8.
		return response{Error: &errBody{"bad_request", "the line is not valid UTF-8"}}
	}
	if err := json.Unmarshal(line, &req); err != nil {
		return response{Error: &errBody{"bad_request", "malformed JSON: " + err.Error()}}
	}
	resp.ID = req.ID
	defer func() {
		if p := recover(); p != nil {
			resp = response{ID: req.ID, Error: &errBody{"runtime", fmt.Sprint("panic: ", p)}}
		}
	}()
	if req.Op == "" {
		resp.Error = &errBody{"bad_request", "missing op"}
		return
	}
	if req.Op == "resume" {
		// A resume while paused never gets here (pauseHere consumes it).
		resp.Error = &errBody{"bad_request", "resume: no operation is paused"}
		return
	}
	// crash_at and pause_at (any op): arm the hook for this request only.
	crashPoint, err := stringArg(req.Args, "crash_at", false)
	if err != nil {
		resp.Error = &errBody{"bad_request", err.Error()}
		return
	}
	pausePoint, err := stringArg(req.Args, "pause_at", true)
	if err != nil {
		resp.Error = &errBody{"bad_request", err.Error()}
		return
	}
	if h := s.requestHook(req.ID, crashPoint, pausePoint); h != nil {
		s.hook = h
		if s.cache != nil {
			s.cache.SetPauseHook(h)
		}
		defer func() {
			s.hook = nil
			if s.cache != nil {
				s.cache.SetPauseHook(nil)
			}
		}()
	}
	result, err := s.dispatch(req.Op, req.Args)
	var trans []warmcache.Transition
	if s.cache != nil && s.trace {
		trans = s.cache.DrainTrace()
	}
	switch e := err.(type) {
	case nil:
		resp.Outcome, resp.Result, resp.Transitions = "ok", result, trans
	case failure:
		resp.Outcome, resp.Reason, resp.Message, resp.Transitions = "fail", e.reason, e.msg, trans
	case badRequest:
		resp.Error = &errBody{"bad_request", e.msg}
	case unsupported:
		resp.Error = &errBody{"unsupported", e.msg}
	default:
		resp.Error = &errBody{"runtime", err.Error()}
	}
	return
}

// fromErr turns a warmcache error into a protocol failure (known §15 codes) or a runtime error.
func fromErr(err error) error {
	if err == nil {
		return nil
	}
	switch c := warmcache.CodeOf(err); c {
	case "", warmcache.CodeClosed, warmcache.CodeUnsupported:
		if c == warmcache.CodeUnsupported {
			return badRequest{err.Error()}
		}
		return err
	default:
		return failure{string(c), err.Error()}
	}
}

type geometryArgs struct {
	ShardCount          *uint32 `json:"shard_count"`
	SlotsPerShard       *uint32 `json:"slots_per_shard"`
	KeyCapacity         *uint32 `json:"key_capacity"`
	ValueCapacity       *uint32 `json:"value_capacity"`
	ProbeWindow         *uint32 `json:"probe_window"`
	ParticipantCapacity *uint32 `json:"participant_capacity"`
}

type createArgs struct {
	Path       string        `json:"path"`
	Geometry   *geometryArgs `json:"geometry"`
	SimClockNs *uint64       `json:"sim_clock_ns"`
	Group      bool          `json:"group"`
}

type keyArgs struct {
	KeyHex *string `json:"key_hex"`
}

type putArgs struct {
	KeyHex    *string `json:"key_hex"`
	ValueHex  *string `json:"value_hex"`
	TTLNs     uint64  `json:"ttl_ns"`
	GraceNs   uint64  `json:"grace_ns"`
	OriginTag uint32  `json:"origin_tag"`
	Version   uint64  `json:"version"`
}

func decode(args json.RawMessage, v interface{}) error {
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("{}")
	}
	if err := json.Unmarshal(args, v); err != nil {
		return badRequest{"bad args: " + err.Error()}
	}
	return nil
}

func hexArg(name string, p *string) ([]byte, error) {
	if p == nil {
		return nil, badRequest{"missing " + name}
	}
	b, err := hex.DecodeString(*p)
	if err != nil {
		return nil, badRequest{name + ": " + err.Error()}
	}
	return b, nil
}

func (g *geometryArgs) toGeometry() (warmcache.Geometry, error) {
	if g == nil {
		return warmcache.Geometry{}, badRequest{"missing geometry"}
	}
	fields := []*uint32{g.ShardCount, g.SlotsPerShard, g.KeyCapacity, g.ValueCapacity, g.ProbeWindow, g.ParticipantCapacity}
	names := []string{"shard_count", "slots_per_shard", "key_capacity", "value_capacity", "probe_window", "participant_capacity"}
	for i, f := range fields {
		if f == nil {
			return warmcache.Geometry{}, badRequest{"missing geometry." + names[i]}
		}
	}
	return warmcache.Geometry{ShardCount: *g.ShardCount, SlotsPerShard: *g.SlotsPerShard,
		KeyCapacity: *g.KeyCapacity, ValueCapacity: *g.ValueCapacity, ProbeWindow: *g.ProbeWindow,
		ParticipantCapacity: *g.ParticipantCapacity}, nil
}

// checkPath refuses what no segment path can be (DRIVER.md "Odd input"): empty, or with a NUL
// byte, which a C call would silently cut short and so open another file.
func checkPath(p string) error {
	if p == "" {
		return badRequest{"missing path"}
	}
	if strings.IndexByte(p, 0) >= 0 {
		return badRequest{"path " + strconv.Quote(p) + " contains a NUL byte"}
	}
	return nil
}

func (s *server) need() error {
	if s.cache == nil {
		return badRequest{"no open segment"}
	}
	return nil
}

func (s *server) adopt(c *warmcache.Cache) {
	if s.cache != nil {
		s.cache.Close()
	}
	s.cache = c
	if s.trace {
		c.EnableTrace()
	}
}

// setLanguage parses --language NAME=CODE.
func (s *server) setLanguage(v string) error {
	eq := strings.IndexByte(v, '=')
	if eq <= 0 {
		return fmt.Errorf("%q: expected NAME=CODE", v)
	}
	code, err := strconv.ParseUint(v[eq+1:], 10, 8)
	if err != nil || code == 0 {
		return fmt.Errorf("%q: CODE must be 1..255", v)
	}
	s.languageName, s.languageCode = v[:eq], uint8(code)
	return nil
}

func (s *server) dispatch(op string, args json.RawMessage) (interface{}, error) {
	switch op {
	case "hello":
		// DRIVER.md "hello": the orchestrator asks for transitions here (args.trace); the answer
		// says whether they will be reported, so a fixture without tracing is not mistaken for
		// one that makes no transitions.
		var a struct {
			Trace bool `json:"trace"`
		}
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		s.trace = s.trace || a.Trace
		return map[string]interface{}{
			"language":       s.languageName,
			"language_code":  s.languageCode,
			"pid":            os.Getpid(),
			"implementation": "warmcache-go 0.1.0",
			"protocol":       map[string]int{"major": warmcache.ProtocolMajor, "minor": warmcache.ProtocolMinor},
			"trace":          s.trace,
			"features":       []string{"SIM_CLOCK"},
			"operations":     operations,
			"pause_points":   warmcache.PausePoints,
			"faults":         warmcache.FaultNames,
		}, nil
	case "create", "open_or_create":
		var a createArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		if err := checkPath(a.Path); err != nil {
			return nil, err
		}
		g, err := a.Geometry.toGeometry()
		if err != nil {
			return nil, err
		}
		o := warmcache.CreateOptions{Group: a.Group, Open: s.openOptions()}
		if a.SimClockNs != nil {
			o.SimClock, o.SimClockStart = true, *a.SimClockNs
		}
		if op == "create" {
			c, err := warmcache.Create(a.Path, g, o)
			if err != nil {
				return nil, fromErr(err)
			}
			s.adopt(c)
			return map[string]interface{}{"participant": c.ParticipantID()}, nil
		}
		c, created, err := warmcache.OpenOrCreate(a.Path, g, o)
		if err != nil {
			return nil, fromErr(err)
		}
		s.adopt(c)
		return map[string]interface{}{"participant": c.ParticipantID(), "created": created}, nil
	case "open":
		var a struct {
			Path string `json:"path"`
		}
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		if err := checkPath(a.Path); err != nil {
			return nil, err
		}
		c, err := warmcache.Open(a.Path, s.openOptions())
		if err != nil {
			return nil, fromErr(err)
		}
		s.adopt(c)
		return map[string]interface{}{"participant": c.ParticipantID()}, nil
	}
	known := false
	for _, o := range operations {
		known = known || o == op
	}
	if !known {
		return nil, unsupported{"unknown op " + strconv.Quote(op)}
	}
	if op == "close" && s.cache == nil {
		return map[string]interface{}{}, nil // closing nothing is a no-op (DRIVER.md "Odd input")
	}
	if err := s.need(); err != nil {
		return nil, err
	}
	c := s.cache
	switch op {
	case "close":
		// Drain now: the handle's tracer goes away with it.
		err := c.Close()
		s.cache = nil
		return map[string]interface{}{}, fromErr(err)
	case "get":
		var a keyArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		key, err := hexArg("key_hex", a.KeyHex)
		if err != nil {
			return nil, err
		}
		l := c.Get(key)
		if !l.Hit {
			return map[string]interface{}{"hit": false}, nil
		}
		m := lookupFields(l)
		m["hit"] = true
		m["stale"] = l.Stale
		m["refresh_requested"] = l.RefreshRequested
		return m, nil
	case "put", "refresh":
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
		o := warmcache.PutOptions{TTL: time.Duration(a.TTLNs), Grace: time.Duration(a.GraceNs), OriginTag: a.OriginTag, Version: a.Version}
		var r warmcache.PutResult
		if op == "put" {
			r, err = c.Put(key, val, o)
		} else {
			r, err = c.Refresh(key, val, o)
		}
		if err != nil {
			return nil, fromErr(err)
		}
		return map[string]interface{}{"version": r.Version, "created": r.Created, "shard": r.Shard, "slot": r.Slot}, nil
	case "invalidate", "evict":
		var a keyArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		key, err := hexArg("key_hex", a.KeyHex)
		if err != nil {
			return nil, err
		}
		var removed bool
		if op == "invalidate" {
			removed, err = c.Invalidate(key)
		} else {
			removed, err = c.Evict(key)
		}
		if err != nil {
			return nil, fromErr(err)
		}
		return map[string]interface{}{"removed": removed}, nil
	case "stats":
		st, err := c.Stats()
		if err != nil {
			return nil, fromErr(err)
		}
		return st, nil
	case "generation":
		g, err := c.Generation()
		if err != nil {
			return nil, fromErr(err)
		}
		return map[string]interface{}{"generation": g}, nil
	case "wait":
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
	case "set_clock":
		var a struct {
			NowNs *uint64 `json:"now_ns"`
		}
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		if a.NowNs == nil {
			return nil, badRequest{"missing now_ns"}
		}
		if err := c.SetSimClock(*a.NowNs); err != nil {
			return nil, fromErr(err)
		}
		return map[string]interface{}{}, nil
	case "dump":
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
	case "participants":
		ps, err := c.Participants()
		if err != nil {
			return nil, fromErr(err)
		}
		list := make([]map[string]interface{}, 0, len(ps))
		for _, p := range ps {
			list = append(list, map[string]interface{}{"index": p.Index, "epoch": p.Epoch, "pid": p.Pid,
				"start_time": p.StartTime, "language": p.Language, "alive": p.Alive})
		}
		return map[string]interface{}{"participants": list}, nil
	}
	return nil, unsupported{"unknown op " + strconv.Quote(op)}
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
			"pid": l.Writer.Pid, "language": l.Writer.Language, "protocol_major": l.Writer.ProtocolMajor,
			"protocol_minor": l.Writer.ProtocolMinor, "participant": l.Writer.Participant,
			"start_time": l.Writer.StartTime,
		},
		"shard": l.Shard,
		"slot":  l.Slot,
	}
}
