//! `warmcache-bench [PATH]`: single-thread latency and throughput of get-hit and put on a
//! default-geometry segment in /dev/shm, next to an in-process `HashMap` baseline measured in
//! the same run, so that figures can be read as ratios on any machine.
//!
//! Latency is measured per batch (`BATCH` operations timed together with `Instant`) and divided
//! by the batch size, so timer overhead does not dominate; p50/p99 are over batches.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use warmcache::{Cache, CreateOptions, Geometry, PutOptions};

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
    let path = std::env::args().nth(1).unwrap_or_else(|| format!("/dev/shm/warmcache-bench-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let cache = Cache::create(&path, Geometry::default(), CreateOptions::default()).expect("create segment");
    println!("warmcache-bench: default geometry {:?}", cache.geometry());
    println!("segment {path}, {KEYS} keys, {BATCH} ops per latency sample, {SAMPLES} samples\n");

    let keys: Vec<Vec<u8>> = (0..KEYS).map(|i| format!("bench:key:{i:08}").into_bytes()).collect();
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
