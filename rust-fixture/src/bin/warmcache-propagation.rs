//! The Rust side of scripts/bench-propagation.sh (issue 12 §1, docs/BENCHMARKS.md): publishes
//! samples for the Go side (go-fixture/cmd/warmcache-propagation) to see, one at a time.
//!
//! ```text
//! warmcache-propagation MODE PATH SAMPLES WARMUP GAP_US
//! ```
//!
//! MODE `floor` stores the sample's stamp and then its index into a plain shared mapping (one
//! atomic word each); `spin` and `park` `put` it into a segment through the library's public
//! API. Each sample is stamped with CLOCK_REALTIME just before it is published. Before each
//! sample the producer waits for the Go side's acknowledgement of the previous one, then for
//! GAP_US microseconds, so that the Go side is already waiting (asleep, when parked). The word
//! layout and keys are the Go side's (see its package comment).

use std::fs::OpenOptions as FileOptions;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use warmcache::{Cache, CreateOptions, Geometry, Lookup, OpenOptions, PutOptions};

const FLOOR_SEQ: usize = 0;
const FLOOR_STAMP: usize = 8;
const FLOOR_ACK: usize = 64;
const FLOOR_READY: usize = 128;
const FLOOR_SIZE: u64 = 4096;
const KEY_SAMPLE: &[u8] = b"propagation.sample";
const KEY_ACK: &[u8] = b"propagation.ack";
const KEY_READY: &[u8] = b"propagation.ready";
/// Every wait is bounded: a consumer that died must not hang the bench.
const STALL: Duration = Duration::from_secs(10);

fn fail(msg: &str) -> ! {
    eprintln!("warmcache-propagation (rust): {msg}");
    std::process::exit(2)
}

fn realtime_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec to write; CLOCK_REALTIME always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Spins (yielding, the machine has few cores) until `done` or the stall bound.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + STALL;
    while !done() {
        if Instant::now() > deadline {
            fail(&format!("{what} not seen within {STALL:?} (consumer gone?)"));
        }
        std::thread::yield_now();
    }
}

fn floor(path: &str, n: u64, gap: Duration) {
    let file = FileOptions::new().read(true).write(true).create(true).truncate(false).open(path)
        .unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    // Both sides size the file; setting the size it already has keeps its contents.
    file.set_len(FLOOR_SIZE).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    // SAFETY: a shared mapping of our own file; its words are only reached through atomics
    // below (never references to the bytes), as the other process writes them concurrently.
    let map = unsafe { memmap2::MmapMut::map_mut(&file) }.unwrap_or_else(|e| fail(&format!("mmap {path}: {e}")));
    let base = map.as_ptr() as *mut u8;
    // SAFETY: the mapping is page-aligned and FLOOR_SIZE long, so each offset is an aligned word
    // inside it, alive as long as `map`.
    let word = |off: usize| unsafe { AtomicU64::from_ptr(base.add(off) as *mut u64) };
    let (seq, stamp, ack, ready) = (word(FLOOR_SEQ), word(FLOOR_STAMP), word(FLOOR_ACK), word(FLOOR_READY));
    wait_until("the consumer's ready word", || ready.load(Ordering::Acquire) == 1);
    for i in 1..=n {
        wait_until("the acknowledgement", || ack.load(Ordering::Acquire) == i - 1);
        std::thread::sleep(gap);
        stamp.store(realtime_ns(), Ordering::Relaxed);
        // Release: the stamp is visible to whoever sees this index.
        seq.store(i, Ordering::Release);
    }
    wait_until("the last acknowledgement", || ack.load(Ordering::Acquire) == n);
}

fn via_cache(path: &str, park: bool, n: u64, gap: Duration) {
    let (cache, _) = Cache::open_or_create(path, Geometry::default(), CreateOptions::default(), OpenOptions::default())
        .unwrap_or_else(|e| fail(&e.to_string()));
    let acked = |i: u64| matches!(cache.get(KEY_ACK), Lookup::Hit(h) if h.value == i.to_le_bytes());
    let wait_ack = |what: &str, i: u64| {
        if park {
            let deadline = Instant::now() + STALL;
            loop {
                let gen = cache.generation();
                if acked(i) {
                    break;
                }
                if Instant::now() > deadline {
                    fail(&format!("{what} not seen within {STALL:?} (consumer gone?)"));
                }
                cache.wait_for_change(gen, Duration::from_millis(100));
            }
        } else {
            wait_until(what, || acked(i));
        }
    };
    wait_until("the consumer's ready key", || cache.get(KEY_READY).is_hit());
    let mut value = [0u8; 16];
    for i in 1..=n {
        if i > 1 {
            wait_ack("the acknowledgement", i - 1);
        }
        std::thread::sleep(gap);
        value[..8].copy_from_slice(&i.to_le_bytes());
        value[8..].copy_from_slice(&realtime_ns().to_le_bytes());
        cache.put(KEY_SAMPLE, &value, PutOptions::default()).unwrap_or_else(|e| fail(&e.to_string()));
    }
    wait_ack("the last acknowledgement", n);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, path, samples, warmup, gap_us] = args.as_slice() else {
        fail("usage: warmcache-propagation floor|spin|park PATH SAMPLES WARMUP GAP_US")
    };
    let num = |s: &str, what: &str| s.parse::<u64>().unwrap_or_else(|_| fail(&format!("{what} {s:?} is not a number")));
    let n = num(samples, "SAMPLES") + num(warmup, "WARMUP");
    let gap = Duration::from_micros(num(gap_us, "GAP_US"));
    match mode.as_str() {
        "floor" => floor(path, n, gap),
        "spin" => via_cache(path, false, n, gap),
        "park" => via_cache(path, true, n, gap),
        other => fail(&format!("mode {other:?} is not floor, spin or park")),
    }
}
