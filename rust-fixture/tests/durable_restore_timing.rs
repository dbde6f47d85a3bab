//! Restore time against rebuilding cold (docs/BENCHMARKS.md "Durable store"), the method of Go's
//! TestDurableRestoreTiming: N durable puts (policy `none`) into a store, then three rounds of
//! (a new segment filled by the same N puts from values already in memory; the segment removed
//! and restored from the journal), then the store compacted and restored three times from the
//! snapshot. Medians of 3, wall and process CPU (on a loaded machine the wall clock measures the
//! queue for a core). A benchmark, not a test: ignored unless asked for, with the sizes in
//! WARMCACHE_DURABLE_BENCH=10000:1000000 and `-- --ignored --nocapture`.

use std::time::{Duration, Instant};
use warmcache::durable::{compact, FsyncPolicy, StoreOptions};
use warmcache::{Cache, CreateOptions, Geometry, OpenOptions, PutOptions};

fn cpu_now() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(us(ru.ru_utime) + us(ru.ru_stime))
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

#[test]
#[ignore = "a benchmark: WARMCACHE_DURABLE_BENCH=10000:1000000 cargo test --release --test durable_restore_timing -- --ignored --nocapture"]
fn durable_restore_timing() {
    let Ok(spec) = std::env::var("WARMCACHE_DURABLE_BENCH") else {
        eprintln!("set WARMCACHE_DURABLE_BENCH=10000:1000000 to measure");
        return;
    };
    for n in spec.split(':').filter_map(|s| s.parse::<u32>().ok()) {
        // ~1.3 slots per entry, window 16: every entry fits (Go's geometry).
        let mut g = Geometry { shard_count: 32, slots_per_shard: (n * 13 / 10) / 32 + 16, key_capacity: 16, value_capacity: 64,
                               probe_window: 16, participant_capacity: 8 };
        if g.slots_per_shard > 65536 {
            g.shard_count = (n * 13 / 10) / 65536 + 1;
            g.slots_per_shard = 65536;
        }
        let base = std::env::temp_dir().join(format!("warmcache-rust-durbench-{}", std::process::id()));
        let dir = base.join("store");
        let path = format!("/dev/shm/warmcache-rust-durbench-{}", std::process::id());
        let _ = std::fs::remove_file(&path);
        let store = StoreOptions { dir: dir.clone(), policy: FsyncPolicy::None };
        let val = [0u8; 64];
        let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("key:{i:012}").into_bytes()).collect();
        let fill = |c: &Cache, durable: bool| {
            let t0 = Instant::now();
            for k in &keys {
                c.put(k, &val, PutOptions { durable, ..Default::default() }).unwrap();
            }
            t0.elapsed()
        };
        let (c, _) = Cache::open_or_restore(&path, g, store.clone(), CreateOptions::default(), OpenOptions::default()).unwrap();
        let write = fill(&c, true);
        drop(c);
        let (mut cold, mut cold_cpu, mut rest, mut rest_cpu) = (vec![], vec![], vec![], vec![]);
        let mut installed = 0;
        for _ in 0..3 {
            let _ = std::fs::remove_file(&path);
            let (t0, u0) = (Instant::now(), cpu_now());
            let c = Cache::create(&path, g, CreateOptions::default()).unwrap();
            fill(&c, false);
            cold.push(t0.elapsed());
            cold_cpu.push(cpu_now() - u0);
            drop(c);
            let _ = std::fs::remove_file(&path);
            let (t0, u0) = (Instant::now(), cpu_now());
            let (c, rep) = Cache::open_or_restore(&path, g, store.clone(), CreateOptions::default(), OpenOptions::default()).unwrap();
            rest.push(t0.elapsed());
            rest_cpu.push(cpu_now() - u0);
            assert!(rep.restored && rep.problems.is_empty(), "{rep:?}");
            installed = rep.installed;
            drop(c);
        }
        let t0 = Instant::now();
        let crep = compact(&dir, g).unwrap();
        assert!(!crep.snapshot.is_empty(), "{crep:?}");
        let compact_time = t0.elapsed();
        let (mut snap, mut snap_cpu) = (vec![], vec![]);
        for _ in 0..3 {
            let _ = std::fs::remove_file(&path);
            let (t0, u0) = (Instant::now(), cpu_now());
            let (c, rep) = Cache::open_or_restore(&path, g, store.clone(), CreateOptions::default(), OpenOptions::default()).unwrap();
            snap.push(t0.elapsed());
            snap_cpu.push(cpu_now() - u0);
            assert!(rep.restored && !rep.snapshot.is_empty() && rep.installed == installed, "{rep:?}");
            drop(c);
        }
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir_all(&base);
        let (cc, rc, sc) = (median(cold_cpu), median(rest_cpu), median(snap_cpu));
        eprintln!("durable restore (rust): {n} entries ({installed} installed): journal write {write:?}; median of 3: restore {:?} wall / {rc:?} CPU, \
                   cold rebuild by put {:?} wall / {cc:?} CPU; restore/cold CPU {:.2}; compaction {compact_time:?}; from the snapshot {:?} wall / {sc:?} CPU, \
                   snapshot/cold CPU {:.2}",
                  median(rest), median(cold), rc.as_secs_f64() / cc.as_secs_f64(), median(snap), sc.as_secs_f64() / cc.as_secs_f64());
    }
}
