#![allow(dead_code)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use warmcache::hash::{wch64, HEADER_SEED};
use warmcache::{Cache, CreateOptions, Geometry, OpenOptions};

/// A unique segment path in /dev/shm, removed (with any leftovers) on drop, and so is its
/// durable store beside it (`<path>.store`, the tests' convention): drop runs when a test panics
/// too, so a failing assertion no longer leaves its store in /dev/shm.
pub struct TmpPath(pub PathBuf);

impl TmpPath {
    pub fn new(name: &str) -> TmpPath {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = PathBuf::from(format!(
            "/dev/shm/wc-test-{}-{}-{}",
            std::process::id(),
            name,
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&p);
        TmpPath(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TmpPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir(&self.0);
        let mut store = self.0.as_os_str().to_owned();
        store.push(".store");
        let _ = std::fs::remove_dir_all(PathBuf::from(store));
    }
}

pub fn small() -> Geometry {
    Geometry {
        shard_count: 4,
        slots_per_shard: 16,
        key_capacity: 32,
        value_capacity: 256,
        probe_window: 4,
        participant_capacity: 16,
    }
}

pub fn create(p: &TmpPath, g: Geometry) -> Cache {
    Cache::create(p.path(), g, CreateOptions::default()).expect("create")
}

pub fn create_sim(p: &TmpPath, g: Geometry, t: u64) -> Cache {
    Cache::create(p.path(), g, CreateOptions { sim_clock_ns: Some(t), ..Default::default() }).expect("create")
}

pub fn open(p: &TmpPath) -> Cache {
    Cache::open(p.path(), quick()).expect("open")
}

pub fn quick() -> OpenOptions {
    OpenOptions { ready_timeout: std::time::Duration::ZERO, ..Default::default() }
}

/// Raw file write (not through any mapping): how tests plant garbage.
pub fn poke(p: &Path, off: u64, v: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
    f.write_all_at(&v.to_le_bytes(), off).unwrap();
}

pub fn peek(p: &Path, off: u64) -> u64 {
    let f = std::fs::File::open(p).unwrap();
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, off).unwrap();
    u64::from_le_bytes(b)
}

/// Recomputes header_checksum after a test patched the immutable header.
pub fn fix_checksum(p: &Path) {
    let f = std::fs::File::open(p).unwrap();
    let mut b = [0u8; 136];
    f.read_exact_at(&mut b, 0).unwrap();
    poke(p, 136, wch64(&b, HEADER_SEED));
}

/// Runs the fixture binary in serve mode on `requests` (one JSON line each, then end of input)
/// and waits for it: a request with `crash_at` makes it SIGKILL itself there, which is how these
/// tests leave a dead participant's claims and locks behind. Returns its status and stdout.
pub fn run_fixture(requests: &[serde_json::Value]) -> std::process::Output {
    let lines: Vec<Vec<u8>> = requests.iter().map(|r| r.to_string().into_bytes()).collect();
    run_fixture_lines(&lines)
}

/// Runs the fixture on raw request lines (each sent with a newline), for input that is not
/// JSON or not even UTF-8.
pub fn run_fixture_lines(lines: &[Vec<u8>]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_warmcache-fixture"))
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fixture");
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        // A fixture that died at its crash point closes the pipe: later writes may fail.
        let _ = stdin.write_all(line).and_then(|_| stdin.write_all(b"\n"));
    }
    drop(stdin);
    child.wait_with_output().expect("wait for the fixture")
}
