//! The Rust consumer (and producer) of `warmcheck bench startup` (docs/BENCHMARKS.md "Startup"),
//! built on the public library API as a service would be; the same modes, working set, request
//! stream and output line as go-fixture/cmd/warmcache-consumer (which also has the Redis and
//! memcached modes: no client crate is packaged here).
//!
//!   warmcache-consumer produce SEG N                 create SEG, put the working set, print "ready", hold it until stdin closes
//!   warmcache-consumer warm SEG N [--legacy-sweep]   open SEG and serve the request stream from it
//!   warmcache-consumer warm SEG N --batch K          the same, K requests at a time (get_many_into, row a-batched)
//!   warmcache-consumer cold N COST_NS                recompute every entry (COST_NS of CPU each) into a private map
//!   warmcache-consumer produce-durable SEG STORE N   durable puts, a compaction, a 1 % journal tail into STORE; print "ready"
//!   warmcache-consumer restore SEG STORE N           rebuild the missing SEG from STORE, then serve as warm
//!
//! With `--trace FILE [--exec-ns T]` a serving mode also writes the phases of its start (exec →
//! main → segment open → first hit → 99 % served) as Chrome trace JSON, as the Go consumer does.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use warmcache::{Cache, CreateOptions, Geometry, OpenOptions, PutOptions};

const VALUE_LEN: usize = 100;
const ORDER_STEP: u64 = 1_000_003;

fn die(msg: String) -> ! {
    eprintln!("warmcache-consumer: {msg}");
    std::process::exit(2)
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

const KEY_LEN: usize = 11;

/// Key i ("k" + 10 decimal digits) written into a reused buffer: formatting a fresh key per
/// request (`format!`) cost more than a warm get.
fn key_into(k: &mut [u8; KEY_LEN], mut i: u64) -> &[u8] {
    k[0] = b'k';
    for d in k[1..].iter_mut().rev() {
        *d = b'0' + (i % 10) as u8;
        i /= 10;
    }
    &k[..]
}

fn key(i: u64) -> Vec<u8> {
    key_into(&mut [0; KEY_LEN], i).to_vec()
}

fn value(i: u64) -> Vec<u8> {
    let mut v = vec![0u8; VALUE_LEN];
    v[..8].copy_from_slice(&i.to_le_bytes());
    for (j, b) in v.iter_mut().enumerate().skip(8) {
        *b = (i.wrapping_add(j as u64)) as u8;
    }
    v
}

fn index(r: u64, n: u64) -> u64 {
    ((r % n) * ORDER_STEP + 7) % n
}

fn geometry(n: u64) -> Geometry {
    Geometry {
        shard_count: ((2 * n + 2047) / 2048) as u32,
        slots_per_shard: 2048,
        key_capacity: 16,
        value_capacity: 128,
        probe_window: 64,
        participant_capacity: 64,
    }
}

/// The three moments of a start; see the Go consumer's `milestones` for the definitions.
struct Milestones {
    n: u64,
    window: u64,
    requests: u64,
    hits: u64,
    first_hit: i64,
    served99: i64,
    warm: i64,
    recent: Vec<bool>,
    recent_hits: u64,
}

impl Milestones {
    fn new(n: u64) -> Milestones {
        let window = (n / 100).max(100);
        Milestones { n, window, requests: 0, hits: 0, first_hit: 0, served99: 0, warm: 0, recent: vec![false; window as usize], recent_hits: 0 }
    }

    /// Notes one served request; true once every milestone is known. The clock is read only
    /// when a milestone is reached, the moment it stands for (a read per request was a few per
    /// cent of a warm pass).
    fn record(&mut self, hit: bool) -> bool {
        let slot = (self.requests % self.window) as usize;
        if self.requests >= self.window && self.recent[slot] {
            self.recent_hits -= 1;
        }
        self.recent[slot] = hit;
        self.requests += 1;
        if hit {
            self.hits += 1;
            self.recent_hits += 1;
            if self.first_hit == 0 {
                self.first_hit = now_ns();
            }
        }
        if self.served99 == 0 && self.requests * 100 >= self.n * 99 {
            self.served99 = now_ns();
        }
        if self.warm == 0 && self.requests >= self.window && self.recent_hits * 100 >= self.window * 99 {
            self.warm = now_ns();
        }
        self.first_hit != 0 && self.served99 != 0 && self.warm != 0
    }

    /// The phases of this start as Chrome trace JSON: the Trace Event Format's "X" (complete)
    /// events, timestamps and durations in microseconds, which chrome://tracing, Perfetto's UI
    /// and speedscope open. A phase whose end was never reached is left out.
    fn write_trace(&self, path: &str, exec_ns: i64, start: i64, opened: i64) {
        let exec_ns = if exec_ns == 0 { start } else { exec_ns };
        let phases = [
            ("exec → main", exec_ns, start),
            ("open (map + register)", start, opened),
            ("registered → first hit", opened, self.first_hit),
            ("first hit → 99 % served", self.first_hit, self.served99),
        ];
        let pid = std::process::id();
        let events: Vec<serde_json::Value> = phases
            .iter()
            .filter(|(_, from, to)| *from != 0 && to >= from)
            .map(|(name, from, to)| {
                serde_json::json!({"name": name, "ph": "X", "pid": pid, "tid": 1,
                                   "ts": *from as f64 / 1e3, "dur": (to - from) as f64 / 1e3})
            })
            .collect();
        let body = serde_json::json!({"traceEvents": events, "displayTimeUnit": "ms"});
        std::fs::write(path, format!("{body}\n")).unwrap_or_else(|e| die(format!("write trace {path}: {e}")));
    }

    fn print(&self, start: i64, opened: i64) {
        println!(
            "{{\"main_ns\":{start},\"opened_ns\":{opened},\"first_hit_ns\":{},\"served99_ns\":{},\"warm_ns\":{},\"requests\":{},\"hits\":{}}}",
            self.first_hit, self.served99, self.warm, self.requests, self.hits
        );
        let _ = std::io::stdout().flush();
    }
}

fn num(s: &str) -> u64 {
    match s.parse::<u64>() {
        Ok(v) if v > 0 && v % ORDER_STEP != 0 => v,
        _ => die(format!("{s:?} is not a positive integer (nor a multiple of {ORDER_STEP})")),
    }
}

/// The options after the mode: `--legacy-sweep`, `--trace FILE`, `--exec-ns T`, `--batch K`.
#[derive(Default)]
struct Flags {
    legacy: bool,
    /// `--batch K`: serve the same request stream K requests at a time through
    /// `Cache::get_many_into` (row a-batched; K = 100, the depth of rows d/e's pipelines).
    batch: usize,
    trace: Option<String>,
    exec_ns: i64,
}

fn parse(args: &[String]) -> (Vec<&str>, Flags) {
    let mut f = Flags::default();
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--legacy-sweep" => f.legacy = true,
            "--batch" => {
                let v = it.next().unwrap_or_else(|| die("--batch needs a value".into()));
                f.batch = v.parse().ok().filter(|&k| k >= 1).unwrap_or_else(|| die(format!("bad --batch {v:?}")));
            }
            "--trace" | "--exec-ns" => {
                let v = it.next().unwrap_or_else(|| die(format!("{a} needs a value")));
                if a == "--trace" {
                    f.trace = Some(v.clone());
                } else {
                    f.exec_ns = v.parse().unwrap_or_else(|_| die(format!("bad --exec-ns {v:?}")));
                }
            }
            _ => pos.push(a.as_str()),
        }
    }
    (pos, f)
}

fn main() {
    let start = now_ns();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pos, flags) = parse(&args);
    match pos.as_slice() {
        ["produce", seg, n] => produce(seg, num(n)),
        ["warm", seg, n] => serve_warm(start, seg, num(n), &flags),
        ["cold", n, cost] => {
            let cost = cost.parse::<u64>().unwrap_or_else(|_| die(format!("bad COST_NS {cost:?}")));
            serve_cold(start, num(n), Duration::from_nanos(cost), &flags)
        }
        // Row (b), in its own functions below.
        ["produce-durable", seg, store, n] => produce_durable(seg, store, num(n)),
        ["restore", seg, store, n] => serve_restored(start, seg, store, num(n), &flags),
        _ => die(format!(
            "usage: warmcache-consumer produce SEG N | warm SEG N [--legacy-sweep] | cold N COST_NS | produce-durable SEG STORE N | restore SEG STORE N, with --trace FILE [--exec-ns T] (got {args:?})"
        )),
    }
}

/// Prints the milestones, then writes the trace if one was asked for.
fn finish(m: &Milestones, start: i64, opened: i64, f: &Flags) {
    m.print(start, opened);
    if let Some(path) = &f.trace {
        m.write_trace(path, f.exec_ns, start, opened);
    }
}

fn produce(seg: &str, n: u64) {
    let c = Cache::create(seg, geometry(n), CreateOptions::default()).unwrap_or_else(|e| die(format!("create {seg}: {e}")));
    for i in 0..n {
        if let Err(e) = c.put(&key(i), &value(i), PutOptions::default()) {
            die(format!("put {i}: {e}"));
        }
    }
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink); // hold the segment until the bench closes stdin
}

fn serve_warm(start: i64, seg: &str, n: u64, f: &Flags) {
    let c = Cache::open(seg, OpenOptions { legacy_sweep: f.legacy, ..Default::default() })
        .unwrap_or_else(|e| die(format!("open {seg}: {e}")));
    let opened = now_ns();
    let mut m = Milestones::new(n);
    if f.batch > 0 {
        serve_batched(&c, n, f.batch, &mut m);
        return finish(&m, start, opened, f);
    }
    let mut buf = Vec::with_capacity(128);
    let mut k = [0u8; KEY_LEN];
    for r in 0..2 * n {
        let i = index(r, n);
        let hit = c.get_into(key_into(&mut k, i), &mut buf).is_some() && right(&buf, i);
        if m.record(hit) {
            break;
        }
    }
    finish(&m, start, opened, f);
}

/// Entry `i`'s value, as the producer wrote it?
fn right(v: &[u8], i: u64) -> bool {
    v.len() == VALUE_LEN && u64::from_le_bytes(v[..8].try_into().unwrap()) == i
}

/// The request stream of `serve_warm`, `batch` requests at a time through
/// `Cache::get_many_into` (row a-batched): gathered, got together, then recorded in order, as a
/// server answering a pipeline of that depth would.
fn serve_batched(c: &Cache, n: u64, batch: usize, m: &mut Milestones) {
    let mut keys = vec![[0u8; KEY_LEN]; batch];
    let mut idx = vec![0u64; batch];
    let mut values = vec![Vec::with_capacity(128); batch];
    let mut results = vec![None; batch];
    let mut r = 0;
    while r < 2 * n {
        let k = batch.min((2 * n - r) as usize);
        for j in 0..k {
            idx[j] = index(r + j as u64, n);
            key_into(&mut keys[j], idx[j]);
        }
        r += k as u64;
        c.get_many_into(&keys[..k], &mut values[..k], &mut results[..k]);
        for j in 0..k {
            if m.record(results[j].is_some() && right(&values[j], idx[j])) {
                return;
            }
        }
    }
}

fn serve_cold(start: i64, n: u64, cost: Duration, f: &Flags) {
    let mut local: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut m = Milestones::new(n);
    for r in 0..2 * n {
        let i = index(r, n);
        let hit = local.contains_key(&i);
        if !hit {
            // The work a cold service redoes per entry: `cost` of CPU (a busy loop, never a sleep).
            let t0 = Instant::now();
            let mut x = i;
            while t0.elapsed() < cost {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            }
            std::hint::black_box(x);
            local.insert(i, value(i));
        }
        if m.record(hit) {
            break;
        }
    }
    finish(&m, start, start, f);
}

/// Row (b): the store both modes name. Policy none: the bench measures restore, not fsync.
fn store_options(dir: &str) -> warmcache::durable::StoreOptions {
    warmcache::durable::StoreOptions { dir: dir.into(), policy: warmcache::durable::FsyncPolicy::None }
}

/// Row (b): every entry put durably, a compaction (a snapshot of them all), then 1 % put again,
/// which stay in a journal: a restore reads a snapshot plus a journal tail. The segment stays;
/// the bench removes it (the reboot) before each restart.
fn produce_durable(seg: &str, store: &str, n: u64) {
    let (c, _) = Cache::open_or_restore(seg, geometry(n), store_options(store), CreateOptions::default(), OpenOptions::default())
        .unwrap_or_else(|e| die(format!("restore {seg} from {store}: {e}")));
    let put = |i: u64| match c.put(&key(i), &value(i), PutOptions { durable: true, ..Default::default() }) {
        Ok(o) if o.durable => {}
        other => die(format!("durable put {i}: {other:?}")),
    };
    (0..n).for_each(put);
    c.compact().unwrap_or_else(|e| die(format!("compact {store}: {e}")));
    (0..n / 100).for_each(put);
    drop(c);
    println!("ready");
}

/// Row (b): a service's start after a reboot: open the segment or rebuild it from the store (it
/// is gone), then serve exactly as the warm mode does (which opens it again: one more
/// registration, a few µs with the lazy sweep of PROTOCOL.md §5.1).
fn serve_restored(start: i64, seg: &str, store: &str, n: u64, f: &Flags) {
    let (c, rep) = Cache::open_or_restore(seg, geometry(n), store_options(store), CreateOptions::default(), OpenOptions::default())
        .unwrap_or_else(|e| die(format!("restore {seg} from {store}: {e}")));
    if !rep.restored || !rep.problems.is_empty() {
        eprintln!("warmcache-consumer: restore: restored={}, problems: {:?}", rep.restored, rep.problems);
    }
    drop(c);
    serve_warm(start, seg, n, f);
}
