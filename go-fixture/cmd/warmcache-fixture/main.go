// Command warmcache-fixture speaks the warmcheck driver contract (docs/DRIVER.md) over
// stdin/stdout JSON lines for the Go implementation of warmcache.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/warmcache/warmcache/go-fixture/internal/harness"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

var operations = []string{"hello", "create", "open", "open_or_create", "close", "get", "put",
	"refresh", "invalidate", "evict", "stats", "generation", "wait", "set_clock", "dump",
	"participants", "restore", "journal_state",
	"ns_stage", "ns_put", "ns_flip", "ns_rollback", "ns_pin", "ns_unpin", "ns_get", "ns_reclaim", "ns_state",
	"compact", // PERSISTENCE.md §8
	"repair",  // PROTOCOL.md §9.9
	"get_many", "now",
	"overlap",     // not a request: args.overlap beside a paused operation (overlap.go)
	"after_close", // not a request: a closed handle is kept and answers closed (DRIVER.md "After close")
	"nul_path",    // not a request: a NUL in a path reaches the library (DRIVER.md "Odd input")
}

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
	// protocol is the version handles speak unless a request names another (--protocol, the
	// `protocol` argument of create/open: PROTOCOL.md §14, DRIVER.md).
	protocol warmcache.Protocol
	// faults are the --fault switches, given to every handle the fixture opens.
	faults harness.Faults
	// hook is the pause hook of the current request's crash_at and pause_at, nil otherwise.
	hook func(point string)
	// overlapping: an overlap request runs beside the paused operation (overlap.go), whose
	// hook then ignores the points reached. stashed holds the paused operation's transitions
	// made before an overlap, for its own response.
	overlapping bool
	stashed     []warmcache.Transition
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
type faultFlag struct{ set *harness.Faults }

func (f faultFlag) String() string {
	if f.set == nil {
		return ""
	}
	return f.set.String()
}

func (f faultFlag) Set(name string) error {
	x, err := harness.ParseFault(name)
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
	o := warmcache.OpenOptions{Timeout: s.openTimeout, Language: warmcache.Language(s.languageCode), Protocol: s.protocol}
	return harness.WithHooks(o, harness.Hooks{Faults: s.faults, PauseHook: s.hook, Trace: s.trace})
}

// withProtocol applies a request's optional `protocol` ("1.0", "1.1") to o.
func withProtocol(o *warmcache.OpenOptions, p *string) error {
	if p == nil {
		return nil
	}
	v, err := warmcache.ParseProtocol(*p)
	if err != nil {
		return badRequest{err.Error()}
	}
	o.Protocol = v
	return nil
}

// protocolMinor is the minor the fixture's handles speak by default (hello.protocol).
func (s *server) protocolMinor() uint8 {
	if s.protocol == (warmcache.Protocol{}) {
		return warmcache.ProtocolMinor
	}
	return s.protocol.Minor
}

// protocols is hello.protocols: every version a handle can be told to speak.
func protocols() []map[string]int {
	var out []map[string]int
	for _, p := range warmcache.Protocols {
		out = append(out, map[string]int{"major": int(p.Major), "minor": int(p.Minor)})
	}
	return out
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

// crashChance returns the pause hook of DRIVER.md "Crashing by chance": the k-th pause point
// this request reaches (k = 1, 2, …) kills the process when
// splitmix64(seed + k·0x9E3779B97F4A7C15) mod 1,000,000 < ppm. The draw depends on the seed
// and the count only, so every implementation kills at the same step of the same path; the one
// stderr line before the kill names the point for the harness (stdout gets nothing).
func crashChance(ppm, seed uint64) func(point string) {
	var k uint64
	return func(point string) {
		k++
		if splitmix64(seed+k*0x9E3779B97F4A7C15)%1_000_000 >= ppm {
			return
		}
		fmt.Fprintf(os.Stderr, "crash_chance: SIGKILL at %s\n", point)
		crashAt(point)(point)
	}
}

// splitmix64 is the finaliser of SplitMix64 (Steele, Lea, Flood 2014), the mix DRIVER.md names.
func splitmix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// chanceArgs reads crash_chance_ppm and crash_seed: nil when the request has no
// crash_chance_ppm (or 0); a ppm above 1,000,000 or a seed without a ppm is a bad request.
func chanceArgs(args json.RawMessage) (func(string), error) {
	var a struct {
		PPM  *uint64 `json:"crash_chance_ppm"`
		Seed *uint64 `json:"crash_seed"`
	}
	if len(args) == 0 || json.Unmarshal(args, &a) != nil {
		var m map[string]json.RawMessage
		if len(args) > 0 && json.Unmarshal(args, &m) == nil {
			// an object whose crash fields have the wrong type
			return nil, badRequest{"crash_chance_ppm and crash_seed must be integers 0..1000000 and 0..2^64-1"}
		}
		return nil, nil // not an object: the operation's own decoding reports it
	}
	if a.PPM == nil {
		if a.Seed != nil {
			return nil, badRequest{"crash_seed needs crash_chance_ppm"}
		}
		return nil, nil
	}
	if *a.PPM > 1_000_000 {
		return nil, badRequest{"crash_chance_ppm: " + strconv.FormatUint(*a.PPM, 10) + " is above 1000000"}
	}
	if *a.PPM == 0 {
		return nil, nil
	}
	var seed uint64
	if a.Seed != nil {
		seed = *a.Seed
	}
	return crashChance(*a.PPM, seed), nil
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
		fmt.Fprintln(os.Stderr, "usage: warmcache-fixture serve [--trace] [--timeout-ms N] [--protocol 1.0|1.1] [--language NAME=CODE] [--fault NAME]... | warmcache-fixture echo")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	trace := fs.Bool("trace", false, "fill transitions")
	timeoutMs := fs.Int("timeout-ms", 2000, "open polling timeout")
	protocol := fs.String("protocol", "1.1", "the protocol version handles speak: 1.0 or 1.1 (PROTOCOL.md §14)")
	var faults harness.Faults
	language := fs.String("language", "go=1", "NAME=CODE declared in hello and written as provenance (PROTOCOL.md §7.3)")
	fs.Var(faultFlag{&faults}, "fault", "switch on a deliberate bug (repeatable): "+strings.Join(harness.FaultNames, ", "))
	_ = fs.Parse(os.Args[2:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "warmcache-fixture: unexpected argument %q\n", fs.Arg(0))
		os.Exit(2)
	}
	s := &server{trace: *trace, openTimeout: time.Duration(*timeoutMs) * time.Millisecond, faults: faults}
	p, err := warmcache.ParseProtocol(*protocol)
	if err != nil {
		fmt.Fprintln(os.Stderr, "warmcache-fixture: --protocol:", err)
		os.Exit(2)
	}
	s.protocol = p
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
	// PROTOCOL.md §13.2: a fault inside the mapping (SIGBUS when the file was cut under the
	// handle) becomes a panic on this goroutine instead of killing the process; handle()
	// recovers it, answers an error and drops the handle. It is sound in Go: the runtime
	// unwinds with deferred calls run, and nothing else shares the faulting access.
	debug.SetPanicOnFault(true)
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
			} else if isOverlap(req.Args) {
				s.respond(s.overlap(req))
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
func (s *server) requestHook(id json.RawMessage, crashPoint, pausePoint *string, chance func(string)) func(point string) {
	if crashPoint == nil && pausePoint == nil && chance == nil {
		return nil
	}
	var crash func(string)
	if crashPoint != nil {
		crash = crashAt(*crashPoint)
	}
	paused := false
	return func(point string) {
		if s.overlapping {
			return // a point of the overlapping request (overlap.go), not ours
		}
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
		if chance != nil {
			chance(point)
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
			msg := fmt.Sprint("panic: ", p)
			if _, fault := p.(interface{ Addr() uintptr }); fault {
				// The mapping faulted: every later access would fault again, and a claim
				// this operation held is left to be reclaimed once the process goes (§13.2).
				// Closing touches no mapped byte and frees the liveness lock, so that the
				// others can reclaim it now, not when this process exits.
				msg = fmt.Sprint("the segment's mapping faulted (", p, "): the file was cut under the handle; the handle is closed")
				s.cache.Close() // kept: later operations answer closed (DRIVER.md "After close")
			}
			resp = response{ID: req.ID, Error: &errBody{"runtime", msg}}
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
	if isOverlap(req.Args) {
		// Likewise an overlap (overlap.go).
		resp.Error = &errBody{"bad_request", "overlap: no operation is paused"}
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
	chance, err := chanceArgs(req.Args)
	if err != nil {
		resp.Error = &errBody{"bad_request", err.Error()}
		return
	}
	if h := s.requestHook(req.ID, crashPoint, pausePoint, chance); h != nil {
		s.hook = h
		if s.cache != nil {
			harness.SetPauseHook(s.cache, h)
		}
		defer func() {
			s.hook = nil
			if s.cache != nil {
				harness.SetPauseHook(s.cache, nil)
			}
		}()
	}
	result, err := s.dispatch(req.Op, req.Args)
	var trans []warmcache.Transition
	if s.cache != nil && s.trace {
		trans = append(s.stashed, harness.DrainTrace(s.cache)...)
	}
	s.stashed = nil
	resp.answer(result, err, trans)
	return
}

// fromErr turns a warmcache error into a protocol failure (known §15 codes) or a runtime error.
func fromErr(err error) error {
	if err == nil {
		return nil
	}
	switch c := warmcache.CodeOf(err); c {
	case "", warmcache.CodeUnsupported:
		if c == warmcache.CodeUnsupported {
			return badRequest{err.Error()}
		}
		return err
	default:
		return failure{string(c), err.Error()}
	}
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
		harness.EnableTrace(c)
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

// dispatch routes one request to the handler of its operation (ops_*.go); the operations on an
// open handle get it, once the op is known to be one.
func (s *server) dispatch(op string, args json.RawMessage) (interface{}, error) {
	switch op {
	case "hello":
		return s.hello(args)
	case "create", "open_or_create":
		return s.create(op, args)
	case "open":
		return s.open(args)
	case "restore":
		return s.restore(args)
	case "compact":
		return s.compact(args)
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
		return s.closeCache(c)
	case "get":
		return get(c, args)
	case "get_many":
		return getManyOp(c, args)
	case "now":
		return now(c)
	case "put", "refresh":
		return put(c, op, args)
	case "invalidate", "evict":
		return remove(c, op, args)
	case "stats":
		return stats(c)
	case "generation":
		return generation(c)
	case "wait":
		return wait(c, args)
	case "set_clock":
		return setClock(c, args)
	case "dump":
		return dump(c)
	case "participants":
		return participants(c)
	case "journal_state":
		return journalState(c)
	case "ns_stage", "ns_flip", "ns_rollback", "ns_pin", "ns_reclaim", "ns_state":
		return nsOp(c, op, args)
	case "ns_put":
		return nsPut(c, args)
	case "ns_get":
		return nsGet(c, args)
	case "ns_unpin":
		return nsUnpin(c)
	case "repair":
		return repair(c)
	}
	return nil, unsupported{"unknown op " + strconv.Quote(op)}
}

// answer fills an operation's outcome from what dispatch returned: ok with its result, fail with
// the protocol reason, or an error of the driver's kind (docs/DRIVER.md). Transitions go with an
// outcome only, never with an error.
func (r *response) answer(result interface{}, err error, trans []warmcache.Transition) {
	switch e := err.(type) {
	case nil:
		r.Outcome, r.Result, r.Transitions = "ok", result, trans
	case failure:
		r.Outcome, r.Reason, r.Message, r.Transitions = "fail", e.reason, e.msg, trans
	case badRequest:
		r.Error = &errBody{"bad_request", e.msg}
	case unsupported:
		r.Error = &errBody{"unsupported", e.msg}
	default:
		r.Error = &errBody{"runtime", err.Error()}
	}
}
