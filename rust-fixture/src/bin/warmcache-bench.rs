//! `warmcache-bench [PATH]`: single-thread latency and throughput of get-hit and put on a
//! default-geometry segment in /dev/shm, next to an in-process `HashMap` baseline measured in
//! the same run, so that figures can be read as ratios on any machine.
//!
//! Latency is measured per batch (`BATCH` operations timed together with `Instant`) and divided
//! by the batch size, so timer overhead does not dominate; p50/p99 are over batches.
//!
//! `warmcache-bench --get-hit-only [PATH]` measures only `get_into` hits of a 64-byte value and
//! prints one `key=value` line, so that scripts/bench-pause-cost.sh can run many short rounds of
//! a normal build against one with the `no-pause-points` feature.
//!
//! `warmcache-bench --gets N [--size S] [--fast-checksum]` does nothing but N `get_into` hits
//! of S-byte values (default 64) over the same keys, untimed: run it under
//! `valgrind --tool=callgrind` with two values of N and the difference of the instruction
//! counts divided by the difference of N is the instructions per get, a figure that does not
//! depend on the machine's load (scripts/bench-hotpath.sh).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use warmcache::{Cache, CreateOptions, Geometry, PutOptions, COUNTERS_COMPILED, PAUSE_POINTS_COMPILED};

const KEYS: usize = 256;
const BATCH: usize = 1000;
const SAMPLES: usize = 2000;
const PUT_BATCH: usize = 100;
const PUT_SAMPLES: usize = 1000;

struct Figures {
    p50: f64,
    p99: f64,
    per_sec: f64,
}

/// Runs `batch` `SAMPLES` times (after a warm-up) and summarises ns per operation.
fn measure(samples: usize, ops_per_batch: usize, mut batch: impl FnMut(usize)) -> Figures {
    for i in 0..samples / 10 {
        batch(i);
    }
    let mut per_op = Vec::with_capacity(samples);
    let mut total = Duration::ZERO;
    for i in 0..samples {
        let t = Instant::now();
        batch(i);
        let e = t.elapsed();
        total += e;
        per_op.push(e.as_nanos() as f64 / ops_per_batch as f64);
    }
    per_op.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |q: f64| per_op[((per_op.len() as f64 * q) as usize).min(per_op.len() - 1)];
    Figures { p50: pct(0.50), p99: pct(0.99), per_sec: (samples * ops_per_batch) as f64 / total.as_secs_f64() }
}

fn print(name: &str, f: &Figures, baseline: Option<&Figures>) {
    let ratio = baseline.map(|b| format!("  ({:.1}x baseline p50)", f.p50 / b.p50)).unwrap_or_default();
    println!(
        "{name:<34} p50 {:>8.1} ns   p99 {:>8.1} ns   {:>7.2} M ops/s{ratio}",
        f.p50,
        f.p99,
        f.per_sec / 1e6
    );
}

fn main() {
    let mut get_hit_only = false;
    let mut fast_checksum = false;
    let mut gets: Option<usize> = None;
    let mut size = 64usize;
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> usize {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => n,
                None => {
                    eprintln!("warmcache-bench: {name} needs a number");
                    std::process::exit(2);
                }
            }
        };
        match a.as_str() {
            "--gets" => gets = Some(number("--gets")),
            "--size" => size = number("--size"),
            "--get-hit-only" => get_hit_only = true,
            // FAST_CHECKSUM: WCH64X4 record checksums (PROTOCOL.md §2).
            "--fast-checksum" => fast_checksum = true,
            _ if a.starts_with("--") => {
                eprintln!("usage: warmcache-bench [--get-hit-only | --gets N [--size S]] [--fast-checksum] [PATH]");
                std::process::exit(2);
            }
            _ => path = Some(a),
        }
    }
    let path = path.unwrap_or_else(|| format!("/dev/shm/warmcache-bench-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let cache = Cache::create(&path, Geometry::default(), CreateOptions { fast_checksum, ..Default::default() })
        .expect("create segment");
    let keys: Vec<Vec<u8>> = (0..KEYS).map(|i| format!("bench:key:{i:08}").into_bytes()).collect();
    if let Some(n) = gets {
        count_gets(&cache, &keys, n, size);
        drop(cache);
        let _ = std::fs::remove_file(&path);
        return;
    }
    if get_hit_only {
        // The loop of the "warmcache get_into (hit)" figure below, 64-byte values only; assert!
        // (not debug_assert!) so that a miss cannot pass for a fast hit. Same code in both builds.
        let value: Vec<u8> = (0..64usize).map(|i| (i * 31 + 64) as u8).collect();
        for k in &keys {
            cache.put(k, &value, PutOptions::default()).expect("put");
        }
        let mut out = Vec::with_capacity(64);
        let hit = measure(SAMPLES, BATCH, |s| {
            for i in 0..BATCH {
                let k = &keys[(s * BATCH + i) % KEYS];
                let info = cache.get_into(black_box(k), &mut out);
                assert!(info.is_some());
                black_box((&info, &out));
            }
        });
        println!(
            "get-hit-64 lang=rust pause_points_compiled={PAUSE_POINTS_COMPILED} counters_compiled={COUNTERS_COMPILED} p50_ns={:.2} p99_ns={:.2} gets_per_s={:.0}",
            hit.p50, hit.p99, hit.per_sec
        );
        drop(cache);
        let _ = std::fs::remove_file(&path);
        return;
    }
    println!("warmcache-bench: default geometry {:?}", cache.geometry());
    println!("pause points compiled in: {PAUSE_POINTS_COMPILED}, fast checksum: {fast_checksum}");
    println!("segment {path}, {KEYS} keys, {BATCH} ops per latency sample, {SAMPLES} samples");
    // The clock is read twice per batch, never per operation: its cost is spread over BATCH ops.
    let timer = measure(SAMPLES / 10, BATCH, |_| {
        for _ in 0..BATCH {
            black_box(Instant::now());
        }
    });
    println!("timer: one Instant::now() {:.1} ns (p50), {:.3} ns per timed op\n", timer.p50, timer.p50 / BATCH as f64);

    for size in [64usize, 1024] {
        let value: Vec<u8> = (0..size).map(|i| (i * 31 + size) as u8).collect();
        for k in &keys {
            cache.put(k, &value, PutOptions::default()).expect("put");
        }
        let map: HashMap<Vec<u8>, Vec<u8>> = keys.iter().map(|k| (k.clone(), value.clone())).collect();

        println!("value {size} B");
        let mut out = Vec::with_capacity(size);
        let base = measure(SAMPLES, BATCH, |s| {
            for i in 0..BATCH {
                let k = &keys[(s * BATCH + i) % KEYS];
                let v = map.get(black_box(k.as_slice())).unwrap();
                out.clear();
                out.extend_from_slice(v);
                black_box(&out);
            }
        });
        print("  baseline HashMap get+copy", &base, None);
        let base_alloc = measure(SAMPLES, BATCH, |s| {
            for i in 0..BATCH {
                let k = &keys[(s * BATCH + i) % KEYS];
                black_box(map.get(black_box(k.as_slice())).unwrap().clone());
            }
        });
        print("  baseline HashMap get+clone", &base_alloc, None);
        let hit = measure(SAMPLES, BATCH, |s| {
            for i in 0..BATCH {
                let k = &keys[(s * BATCH + i) % KEYS];
                let info = cache.get_into(black_box(k), &mut out);
                debug_assert!(info.is_some());
                black_box((&info, &out));
            }
        });
        print("  warmcache get_into (hit)", &hit, Some(&base));
        let hit_alloc = measure(SAMPLES, BATCH, |s| {
            for i in 0..BATCH {
                let k = &keys[(s * BATCH + i) % KEYS];
                black_box(cache.get(black_box(k)));
            }
        });
        print("  warmcache get (hit, allocating)", &hit_alloc, Some(&base_alloc));
        let put = measure(PUT_SAMPLES, PUT_BATCH, |s| {
            for i in 0..PUT_BATCH {
                let k = &keys[(s * PUT_BATCH + i) % KEYS];
                black_box(cache.put(k, &value, PutOptions::default()).unwrap());
            }
        });
        print("  warmcache put (refresh)", &put, None);
        println!();
    }
    let s = cache.stats().totals.counters;
    println!("counters: hits {} misses {} inserts {} refreshes {}", s.hits, s.misses, s.inserts, s.refreshes);
    drop(cache);
    let _ = std::fs::remove_file(&path);
}

/// The untimed loop of `--gets N`: the same `get_into` hits as the timed figure, asserted so that
/// a miss cannot pass for a cheap hit.
fn count_gets(cache: &Cache, keys: &[Vec<u8>], n: usize, size: usize) {
    let value: Vec<u8> = (0..size).map(|i| (i * 31 + size) as u8).collect();
    for k in keys {
        cache.put(k, &value, PutOptions::default()).expect("put");
    }
    let mut out = Vec::with_capacity(size);
    for i in 0..n {
        let info = cache.get_into(black_box(&keys[i % KEYS]), &mut out);
        assert!(info.is_some());
        black_box((&info, &out));
    }
    println!("gets={n} size={size} pause_points_compiled={PAUSE_POINTS_COMPILED} counters_compiled={COUNTERS_COMPILED}");
}
