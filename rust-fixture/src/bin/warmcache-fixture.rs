//! `warmcache-fixture serve [--trace] [--timeout-ms N] [--protocol 1.0|1.1] [--fault NAME]...`: the driver fixture of
//! docs/DRIVER.md, with `crash_at` / `pause_at` pause points (PROTOCOL.md §17), step mode
//! (`pause_at: "*"`) and fault switches.
//!
//! Reads one JSON request per line on stdin and writes exactly one JSON response line per
//! request on stdout (plus, for `pause_at`, one `paused` notification line per pause). Nothing
//! else goes to stdout; diagnostics go to stderr. Malformed input is answered with an `error`
//! response and the loop continues.
//!
//! `warmcache-fixture echo` copies stdin lines to stdout unparsed, flushing after each line: the
//! bare pipe ping-pong baseline for benchmarks.
//!
//! A paused operation blocks inside its pause hook reading stdin through the same [`Input`] as
//! the main loop, so no line is ever buffered where the other reader cannot see it.

// The operation handlers, one file per concern beside this one (a binary's root looks for
// modules in src/bin/ itself, where each file would be taken for another binary).
#[path = "warmcache-fixture/ops_cache.rs"]
mod ops_cache;
#[path = "warmcache-fixture/ops_handle.rs"]
mod ops_handle;
#[path = "warmcache-fixture/ops_inspect.rs"]
mod ops_inspect;
#[path = "warmcache-fixture/ops_namespace.rs"]
mod ops_namespace;
#[path = "warmcache-fixture/overlap.rs"]
mod overlap;

use serde_json::{json, Map, Value};
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warmcache::durable::{FsyncPolicy, StoreOptions};
use warmcache::{
    FutureImage, Protocol,
    Cache, CreateOptions, Event, Fault, Faults, Geometry, HitInfo, OpenError, OpenOptions, PausePoint, PutOptions,
    ShardStats, State,
};

const OPERATIONS: &[&str] = &[
    "hello",
    "create",
    "open",
    "open_or_create",
    "close",
    "get",
    "put",
    "refresh",
    "invalidate",
    "evict",
    "stats",
    "generation",
    "wait",
    "set_clock",
    "dump",
    "participants",
    "restore",
    "journal_state",
    "ns_stage",
    "ns_put",
    "ns_flip",
    "ns_rollback",
    "ns_pin",
    "ns_unpin",
    "ns_get",
    "ns_reclaim",
    "ns_state",
    "compact", // PERSISTENCE.md §8
    "repair",
    "get_many",
    "now",
    // Not a request: `args.overlap` beside a paused operation (overlap.rs).
    "overlap",
    // Not a request: every operation after `close` answers closed (DRIVER.md "After close").
    "after_close",
    "nul_path", // a capability: a NUL in a path reaches the library (DRIVER.md "Odd input")
];

/// A response that is not a protocol outcome (DRIVER.md `error`).
struct DriverError {
    kind: &'static str,
    message: String,
}

/// A `DriverError` of this kind is no error: it answers `fail(closed)` (PROTOCOL.md §15).
const CLOSED: &str = "closed";

fn bad_request(message: impl Into<String>) -> DriverError {
    DriverError { kind: "bad_request", message: message.into() }
}

/// A protocol outcome.
enum Outcome {
    Ok(Value),
    Fail { reason: &'static str, message: String },
}

/// The one stdin line reader, shared by the main loop and the pause hook (DRIVER.md "Pausing
/// at a pause point"). Never held across an operation: each call takes one line.
struct Input(Mutex<Box<dyn BufRead + Send>>);

impl Input {
    /// The next line (blank ones too: every line gets an answer, DRIVER.md "Odd input"), `Err`
    /// for a line that is not UTF-8, or `None` at end of input (or on a read error, reported on
    /// stderr).
    fn next_line(&self) -> Option<Result<String, NotUtf8>> {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) => return None,
                Ok(_) => {
                    while matches!(line.last(), Some(b'\n' | b'\r')) {
                        line.pop();
                    }
                    return Some(String::from_utf8(line).map_err(|_| NotUtf8));
                }
                Err(e) => {
                    eprintln!("warmcache-fixture: reading stdin: {e}");
                    return None;
                }
            }
        }
    }
}

/// A request line that is not UTF-8.
struct NotUtf8;

/// The answer to a line that is not UTF-8 (its id cannot be known).
fn not_utf8_answer() -> Value {
    json!({"id": null, "error": {"kind": "bad_request", "message": "the line is not valid UTF-8"}})
}

/// Writes one JSON line to stdout and flushes it. `false` if stdout is gone.
fn emit(v: &Value) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}").and_then(|_| out.flush()).is_ok()
}

/// What a request's `pause_at` armed.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum PauseArm {
    #[default]
    Off,
    /// One named point. Cleared when it fires: the request pauses there at most once (the first
    /// time it reaches it).
    At(PausePoint),
    /// Step mode (`"*"`): every point, every time the operation reaches one.
    Every,
}

/// What the current request armed (`crash_at`, `pause_at`) and its id.
#[derive(Default)]
struct Armed {
    crash: Option<PausePoint>,
    pause: PauseArm,
    id: Value,
    chance: Option<Chance>,
    /// The handle the request started on, for an overlap beside its pause (overlap.rs).
    cache: Option<Arc<Cache>>,
    /// An overlap runs: the points reached are its own, not the paused operation's.
    overlapping: bool,
    /// The paused operation's transitions made before an overlap, for its own response.
    stashed: Vec<Value>,
}

/// `crash_chance_ppm` / `crash_seed` (DRIVER.md "Crashing by chance"): the k-th pause point the
/// request reaches (k = 1, 2, …) kills the process when
/// `splitmix64(seed + k·0x9E3779B97F4A7C15) mod 1_000_000 < ppm`. The draw depends on the seed
/// and the count only, so every implementation dies at the same step of the same path.
#[derive(Clone, Copy)]
struct Chance {
    ppm: u64,
    seed: u64,
    reached: u64,
}

impl Chance {
    /// Counts one more point reached; true if the process is to die here.
    fn draw(&mut self) -> bool {
        self.reached += 1;
        let mut z = self.seed.wrapping_add(self.reached.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % 1_000_000 < self.ppm
    }
}

/// Parses `crash_chance_ppm` (0..=1_000_000; 0 or absent: off) and `crash_seed` (needs a ppm).
fn chance_arg(args: &Map<String, Value>) -> Result<Option<Chance>, DriverError> {
    let int = |name: &str| match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| bad_request(format!("`{name}` must be an integer 0..2^64-1"))),
    };
    let (ppm, seed) = (int("crash_chance_ppm")?, int("crash_seed")?);
    match (ppm, seed) {
        (None, Some(_)) => Err(bad_request("`crash_seed` needs `crash_chance_ppm`")),
        (Some(p), _) if p > 1_000_000 => Err(bad_request(format!("`crash_chance_ppm`: {p} is above 1000000"))),
        (None, None) | (Some(0), _) => Ok(None),
        (Some(ppm), seed) => Ok(Some(Chance { ppm, seed: seed.unwrap_or(0), reached: 0 })),
    }
}

struct Fixture {
    trace: bool,
    open_timeout: Duration,
    /// The version handles speak unless a request's `protocol` names another (`--protocol`).
    protocol: Protocol,
    faults: Faults,
    /// The points armed by the current request; disarmed between requests.
    armed: Arc<Mutex<Armed>>,
    input: Arc<Input>,
    /// Shared (`Arc`) only so that an overlap can borrow it on another thread (overlap.rs).
    cache: Option<Arc<Cache>>,
    /// The handle was closed: `Cache` has no close but its drop, which takes the handle away, so
    /// no call of the library can reach a closed one and the fixture answers `fail(closed)` for
    /// it (DRIVER.md "After close").
    closed: bool,
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An unsigned integer given as a JSON number or a decimal string (big values travel as
    /// strings, DRIVER.md).
    fn u64_opt(&self, name: &str) -> Result<Option<u64>, DriverError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                n.as_u64().map(Some).ok_or_else(|| bad_request(format!("`{name}` must be a non-negative integer")))
            }
            Some(Value::String(s)) => {
                s.parse().map(Some).map_err(|_| bad_request(format!("`{name}` must be a non-negative integer")))
            }
            Some(_) => Err(bad_request(format!("`{name}` must be a non-negative integer"))),
        }
    }

    fn u64(&self, name: &str) -> Result<u64, DriverError> {
        self.u64_opt(name)?.ok_or_else(|| bad_request(format!("missing argument `{name}`")))
    }

    fn u32(&self, name: &str) -> Result<u32, DriverError> {
        u32::try_from(self.u64(name)?).map_err(|_| bad_request(format!("`{name}` does not fit in 32 bits")))
    }

    /// The `path` of create/open/open_or_create (DRIVER.md "Odd input"): not empty. A NUL byte
    /// goes to the library, which must refuse it (`io`, EINVAL) rather than let a C call cut the
    /// path short and open another file: hello lists `nul_path`, so the harness judges that.
    fn path(&self) -> Result<&str, DriverError> {
        let p = self.str("path")?;
        if p.is_empty() {
            return Err(bad_request("missing path"));
        }
        Ok(p)
    }

    fn str(&self, name: &str) -> Result<&str, DriverError> {
        match self.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(bad_request(format!("`{name}` must be a string"))),
            None => Err(bad_request(format!("missing argument `{name}`"))),
        }
    }

    fn hex(&self, name: &str) -> Result<Vec<u8>, DriverError> {
        from_hex(self.str(name)?).ok_or_else(|| bad_request(format!("`{name}` is not a hex string")))
    }

    fn bool(&self, name: &str) -> Result<bool, DriverError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad_request(format!("`{name}` must be a boolean"))),
        }
    }

    fn geometry(&self) -> Result<Geometry, DriverError> {
        let g = match self.get("geometry") {
            Some(Value::Object(m)) => Args(m),
            _ => return Err(bad_request("missing object argument `geometry`")),
        };
        Ok(Geometry {
            shard_count: g.u32("shard_count")?,
            slots_per_shard: g.u32("slots_per_shard")?,
            key_capacity: g.u32("key_capacity")?,
            value_capacity: g.u32("value_capacity")?,
            probe_window: g.u32("probe_window")?,
            participant_capacity: g.u32("participant_capacity")?,
        })
    }

    fn put_options(&self) -> Result<PutOptions, DriverError> {
        Ok(PutOptions {
            // The driver speaks nanoseconds (DRIVER.md); the library takes durations.
            ttl: Duration::from_nanos(self.u64_opt("ttl_ns")?.unwrap_or(0)),
            grace: Duration::from_nanos(self.u64_opt("grace_ns")?.unwrap_or(0)),
            origin_tag: u32::try_from(self.u64_opt("origin_tag")?.unwrap_or(0))
                .map_err(|_| bad_request("`origin_tag` does not fit in 32 bits"))?,
            version: self.u64_opt("version")?.unwrap_or(0),
            durable: self.bool("durable")?,
        })
    }

    /// `store_dir`, `fsync`, `fsync_interval_ms` (DRIVER.md "The durable store"): `None`
    /// without `store_dir`.
    fn store(&self) -> Result<Option<StoreOptions>, DriverError> {
        let dir = match self.get("store_dir") {
            None => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(bad_request("`store_dir` must be a string")),
        };
        let name = match self.get("fsync") {
            None => "always".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(bad_request("`fsync` must be a string")),
        };
        let interval = Duration::from_millis(self.u64_opt("fsync_interval_ms")?.unwrap_or(0));
        let policy = FsyncPolicy::parse(&name, interval)
            .ok_or_else(|| bad_request(format!("fsync policy `{name}` is not always, interval or none")))?;
        Ok(Some(StoreOptions { dir: dir.into(), policy }))
    }
}

/// Attaches the store the request names, if any, to a freshly opened handle.
fn attach(c: &mut Cache, a: &Args) -> Result<(), DriverError> {
    if let Some(s) = a.store()? {
        c.attach_store(s).map_err(|e| DriverError { kind: "runtime", message: format!("store: {e}") })?;
    }
    Ok(())
}

/// An `ok` outcome with its result.
fn ok(v: Value) -> Result<Outcome, DriverError> {
    Ok(Outcome::Ok(v))
}

fn open_fail(e: OpenError) -> Outcome {
    Outcome::Fail { reason: e.code(), message: e.message }
}

/// The `get` result fields of a hit (`refresh_requested` only for `get`: `dump` never makes T7).
fn hit_fields(m: &mut Map<String, Value>, info: &HitInfo, value: &[u8], with_refresh: bool) {
    let p = info.provenance;
    m.insert("stale".into(), json!(info.stale));
    if with_refresh {
        m.insert("refresh_requested".into(), json!(info.refresh_requested));
    }
    m.insert("value_hex".into(), json!(to_hex(value)));
    m.insert("version".into(), json!(info.version));
    m.insert("origin_tag".into(), json!(info.origin_tag));
    m.insert("expires_at_ns".into(), json!(info.expires_at_ns));
    m.insert("stale_until_ns".into(), json!(info.stale_until_ns));
    m.insert("written_at_ns".into(), json!(info.written_at_ns));
    m.insert(
        "writer".into(),
        json!({
            "pid": p.pid, "language": p.language, "protocol_major": p.protocol_major,
            "protocol_minor": p.protocol_minor, "participant": p.participant, "start_time": p.start_time,
        }),
    );
    m.insert("shard".into(), json!(info.shard));
    m.insert("slot".into(), json!(info.slot));
}

fn shard_json(s: &ShardStats) -> Value {
    let mut m = Map::new();
    for (name, v) in s.counters.fields() {
        m.insert(name.into(), json!(v));
    }
    let mut occ = Map::new();
    for st in State::ALL {
        occ.insert(st.name().into(), json!(s.occupancy.get(st)));
    }
    if s.occupancy.impossible > 0 {
        occ.insert("IMPOSSIBLE".into(), json!(s.occupancy.impossible));
    }
    m.insert("occupancy".into(), Value::Object(occ));
    Value::Object(m)
}

fn event_json(e: &Event) -> Value {
    json!({
        "event": e.event, "shard": e.shard, "slot": e.slot, "from": e.from.name(), "to": e.to.name(),
        "seq": e.seq, "owner": e.owner, "gseq": e.gseq,
    })
}

impl Fixture {
    fn cache(&self) -> Result<&Cache, DriverError> {
        if self.closed {
            return Err(DriverError { kind: CLOSED, message: "the handle was closed (warmcache::Cache is closed by dropping it)".into() });
        }
        self.cache.as_deref().ok_or_else(|| bad_request("no open segment (send create, open or open_or_create first)"))
    }

    /// The pause hook of every handle (DRIVER.md):
    /// - `pause_at`: the first time the point is reached, write `{"id": N, "paused": POINT}`
    ///   and read stdin right here until `resume` (answering anything else with `bad_request`);
    ///   end of input while paused exits 0 at once. In step mode (`"*"`) the same happens at
    ///   every point, each time it is reached;
    /// - `crash_at`: SIGKILL — no cleanup, no response, exactly as a process dying there.
    ///
    /// When both name the same point, the pause comes first and the crash follows the resume.
    fn pause_hook(&self) -> warmcache::PauseHook {
        let armed = self.armed.clone();
        let input = self.input.clone();
        Arc::new(move |p: PausePoint| {
            let (pause_id, crash) = {
                let mut a = armed.lock().unwrap_or_else(|e| e.into_inner());
                if a.overlapping {
                    return; // a point of the overlapping request (overlap.rs), not ours
                }
                let pause_id = match a.pause {
                    PauseArm::Every => Some(a.id.clone()),
                    PauseArm::At(q) if q == p => {
                        a.pause = PauseArm::Off;
                        Some(a.id.clone())
                    }
                    _ => None,
                };
                let by_chance = a.chance.as_mut().is_some_and(Chance::draw);
                if by_chance {
                    eprintln!("crash_chance: SIGKILL at {}", p.name());
                }
                (pause_id, a.crash == Some(p) || by_chance)
            };
            if let Some(id) = pause_id {
                wait_for_resume(&input, &armed, &id, p);
            }
            if crash {
                let _ = std::io::stdout().flush();
                // SAFETY: plain syscalls; SIGKILL cannot be caught, so this never returns.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
            }
        })
    }

    fn create_options(&self, a: &Args) -> Result<CreateOptions, DriverError> {
        let protocol = self.protocol_arg(a)?;
        let fast_checksum = a.bool("fast_checksum")?;
        if fast_checksum && protocol == Protocol::V1_0 {
            return Err(bad_request("fast_checksum needs protocol 1.1 (FAST_CHECKSUM is not a 1.0 feature)"));
        }
        Ok(CreateOptions {
            group_access: a.bool("group")?,
            sim_clock_ns: a.u64_opt("sim_clock_ns")?,
            trace: self.trace,
            faults: self.faults,
            pause_hook: Some(self.pause_hook()),
            protocol,
            fast_checksum,
            future: match a.get("future") {
                None => None,
                Some(_) => Some(
                    FutureImage::parse(a.str("future")?)
                        .ok_or_else(|| bad_request("future: minor, incompat or major (PROTOCOL.md §14)"))?,
                ),
            },
            legacy_sweep: false,
        })
    }

    fn open_options(&self, a: &Args) -> Result<OpenOptions, DriverError> {
        Ok(OpenOptions {
            ready_timeout: self.open_timeout,
            trace: self.trace,
            faults: self.faults,
            pause_hook: Some(self.pause_hook()),
            protocol: self.protocol_arg(a)?,
            legacy_sweep: false,
            // The reader's size bound (PROTOCOL.md §13.2, geometry rule 9); absent or 0: the default.
            max_total_len: a.u64_opt("max_total_len")?.unwrap_or(0),
        })
    }

    /// A request's optional `protocol` ("1.0", "1.1"), else the fixture's `--protocol`.
    fn protocol_arg(&self, a: &Args) -> Result<Protocol, DriverError> {
        match a.get("protocol") {
            None => Ok(self.protocol),
            Some(_) => Protocol::parse(a.str("protocol")?).map_err(bad_request),
        }
    }

    /// Routes one request to the handler of its operation (warmcache-fixture/ops_*.rs).
    fn run(&mut self, op: &str, a: &Args) -> Result<Outcome, DriverError> {
        match op {
            "hello" => self.hello(a),
            "create" => self.create(a),
            "open" => self.open(a),
            "open_or_create" => self.open_or_create(a),
            "close" => self.close(),
            "get" => self.get(a),
            "get_many" => self.get_many(a),
            "now" => self.now(),
            "put" | "refresh" => self.put(op, a),
            "invalidate" | "evict" => self.remove(op, a),
            "stats" => self.stats(),
            "generation" => self.generation(),
            "wait" => self.wait(a),
            "set_clock" => self.set_clock(a),
            "dump" => self.dump(),
            "participants" => self.participants(),
            "restore" => self.restore(a),
            "compact" => self.compact(a),
            "journal_state" => {
                let s = self.cache()?.journal_state();
                ok(json!({"path": s.path, "written": s.written, "synced": s.synced, "seq": s.seq}))
            }
            "repair" => self.repair(),
            "ns_stage" | "ns_put" | "ns_flip" | "ns_rollback" | "ns_pin" | "ns_unpin" | "ns_get" | "ns_reclaim"
            | "ns_state" => self.namespace(op, a),
            _ => Err(DriverError { kind: "unsupported", message: format!("unknown operation `{op}`") }),
        }
    }

    fn handle(&mut self, line: &str) -> Value {
        let req: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return json!({"id": null, "error": {"kind": "bad_request", "message": format!("malformed JSON: {e}")}}),
        };
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        let Some(op) = req.get("op").and_then(Value::as_str) else {
            return json!({"id": id, "error": {"kind": "bad_request", "message": "missing string field `op`"}});
        };
        let empty = Map::new();
        let args = match req.get("args") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return json!({"id": id, "error": {"kind": "bad_request", "message": "`args` must be an object"}}),
        };
        let op = op.to_string();
        if op == "resume" {
            return json!({"id": id, "error": {"kind": "bad_request", "message": "resume: no operation is paused"}});
        }
        if overlap::is_overlap(&req) {
            return json!({"id": id, "error": {"kind": "bad_request", "message": "overlap: no operation is paused"}});
        }
        let (crash, pause) = match (point_arg(args, "crash_at"), pause_arg(args)) {
            (Ok(c), Ok(p)) => (c, p),
            (Err(e), _) | (_, Err(e)) => return json!({"id": id, "error": {"kind": e.kind, "message": e.message}}),
        };
        let chance = match chance_arg(args) {
            Ok(c) => c,
            Err(e) => return json!({"id": id, "error": {"kind": e.kind, "message": e.message}}),
        };
        *self.armed.lock().unwrap_or_else(|e| e.into_inner()) =
            Armed { crash, pause, id: id.clone(), chance, cache: self.cache.clone(), ..Armed::default() };
        let result = self.run(&op, &Args(args));
        let stashed = std::mem::take(&mut *self.armed.lock().unwrap_or_else(|e| e.into_inner())).stashed;
        // Every transition made by this request, in order (empty without --trace), those made
        // before an overlap included.
        let mut transitions = stashed;
        if let Some(c) = &self.cache {
            transitions.extend(c.take_events().iter().map(event_json));
        }
        match result {
            Ok(Outcome::Ok(v)) => json!({"id": id, "outcome": "ok", "result": v, "transitions": transitions}),
            Ok(Outcome::Fail { reason, message }) => {
                json!({"id": id, "outcome": "fail", "reason": reason, "message": message, "transitions": transitions})
            }
            Err(e) if e.kind == CLOSED => {
                json!({"id": id, "outcome": "fail", "reason": CLOSED, "message": e.message, "transitions": transitions})
            }
            Err(e) => json!({"id": id, "error": {"kind": e.kind, "message": e.message}}),
        }
    }
}

/// Paused at `p` by request `id`: notify, then serve stdin until `resume`.
fn wait_for_resume(input: &Input, armed: &Mutex<Armed>, id: &Value, p: PausePoint) {
    if !emit(&json!({"id": id, "paused": p.name()})) {
        std::process::exit(0); // the orchestrator is gone
    }
    loop {
        let Some(line) = input.next_line() else {
            // End of input while paused: exit promptly (closing stdin ends the session).
            std::process::exit(0)
        };
        let line = line.unwrap_or_default(); // not UTF-8: refused below like any non-resume
        let req = serde_json::from_str::<Value>(&line).unwrap_or(Value::Null);
        let (rid, op) = (req.get("id").cloned().unwrap_or(Value::Null), req.get("op").and_then(Value::as_str).map(String::from));
        if op.as_deref() == Some("resume") {
            return;
        }
        if overlap::is_overlap(&req) {
            if !overlap::overlap(armed, &req) {
                std::process::exit(0);
            }
            continue;
        }
        let message = format!("paused at {}; only resume is accepted", p.name());
        if !emit(&json!({"id": rid, "error": {"kind": "bad_request", "message": message}})) {
            std::process::exit(0);
        }
    }
}

/// Parses the optional `pause_at` argument: a pause point, or `"*"` for step mode.
fn pause_arg(args: &Map<String, Value>) -> Result<PauseArm, DriverError> {
    match args.get("pause_at") {
        Some(Value::String(s)) if s == "*" => Ok(PauseArm::Every),
        _ => Ok(point_arg(args, "pause_at")?.map_or(PauseArm::Off, PauseArm::At)),
    }
}

/// Parses an optional pause point argument (`crash_at`, `pause_at`).
fn point_arg(args: &Map<String, Value>, name: &str) -> Result<Option<PausePoint>, DriverError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => PausePoint::from_name(s)
            .map(Some)
            .ok_or_else(|| bad_request(format!("unknown pause point `{s}` in `{name}`"))),
        Some(_) => Err(bad_request(format!("`{name}` must be a string"))),
    }
}

/// `echo`: copy stdin to stdout line by line, unparsed, flushing after each line; exit 0 at end
/// of input or when stdout is gone.
fn echo() {
    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {
                if out.write_all(&line).and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
            Err(e) => {
                eprintln!("warmcache-fixture: reading stdin: {e}");
                return;
            }
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: warmcache-fixture serve [--trace] [--timeout-ms N] [--protocol 1.0|1.1] [--fault NAME]...");
    eprintln!("       warmcache-fixture echo");
    eprintln!("faults: {}", Fault::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "));
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("serve") => {}
        Some("echo") if args.len() == 0 => return echo(),
        _ => usage(),
    }
    let mut fx = Fixture {
        trace: false,
        open_timeout: Duration::from_secs(2),
        protocol: Protocol::default(),
        faults: Faults::NONE,
        armed: Arc::new(Mutex::new(Armed::default())),
        input: Arc::new(Input(Mutex::new(Box::new(std::io::BufReader::new(std::io::stdin()))))),
        cache: None,
        closed: false,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--trace" => fx.trace = true,
            "--protocol" => {
                fx.protocol = args.next().and_then(|v| Protocol::parse(&v).ok()).unwrap_or_else(|| usage());
            }
            "--timeout-ms" => {
                let ms = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage());
                fx.open_timeout = Duration::from_millis(ms);
            }
            "--fault" => {
                let f = args.next().and_then(|n| Fault::from_name(&n)).unwrap_or_else(|| usage());
                fx.faults = fx.faults.with(f);
            }
            _ => usage(),
        }
    }
    let input = fx.input.clone();
    while let Some(line) = input.next_line() {
        let Ok(line) = line else {
            if !emit(&not_utf8_answer()) {
                break;
            }
            continue;
        };
        // A panic inside an operation must not kill the loop: answer `runtime` and go on.
        let resp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fx.handle(&line))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            let id = serde_json::from_str::<Value>(&line).ok().and_then(|v| v.get("id").cloned()).unwrap_or(Value::Null);
            json!({"id": id, "error": {"kind": "runtime", "message": format!("internal error: {msg}")}})
        });
        if !emit(&resp) {
            break;
        }
    }
    // Dropping the handle closes the descriptor (releasing the participant lock) and unmaps.
    drop(fx);
}
