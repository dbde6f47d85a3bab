//! `crash_chance_ppm` / `crash_seed` (DRIVER.md "Crashing by chance"): the draw every
//! implementation makes, pinned by the same vector as the Go and Swift fixtures' tests.

mod common;
use common::TmpPath;
use serde_json::json;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// Runs the fixture on `requests` and returns (signal, stdout lines, stderr).
fn run(requests: &[serde_json::Value]) -> (Option<i32>, Vec<String>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warmcache-fixture"))
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the fixture");
    let mut stdin = child.stdin.take().unwrap();
    for r in requests {
        let _ = stdin.write_all(format!("{r}\n").as_bytes());
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
    (out.status.signal(), lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn seed_1_half_chance_kills_a_fresh_insert_at_its_second_point() {
    let p = TmpPath::new("chance");
    let path = p.path().to_str().unwrap();
    let geometry = json!({"shard_count": 4, "slots_per_shard": 16, "key_capacity": 32,
        "value_capacity": 256, "probe_window": 4, "participant_capacity": 16});
    let (sig, lines, stderr) = run(&[
        json!({"id": 1, "op": "create", "args": {"path": path, "geometry": geometry}}),
        json!({"id": 2, "op": "put", "args": {"key_hex": "61", "value_hex": "00", "crash_chance_ppm": 1_000_001}}),
        json!({"id": 3, "op": "put", "args": {"key_hex": "61", "value_hex": "00", "crash_chance_ppm": "5"}}),
        json!({"id": 4, "op": "put", "args": {"key_hex": "61", "value_hex": "00", "crash_seed": 5}}),
        json!({"id": 5, "op": "put", "args": {"key_hex": "61", "value_hex": "00", "crash_chance_ppm": 0, "crash_seed": 1}}),
        // draws 822465, 428519: put.before_lock survives, lock.after_acquire dies.
        json!({"id": 6, "op": "put", "args": {"key_hex": "62", "value_hex": "00", "crash_chance_ppm": 500_000, "crash_seed": 1}}),
    ]);
    assert_eq!(sig, Some(libc::SIGKILL), "stdout {lines:?} stderr {stderr}");
    assert_eq!(lines.len(), 5, "{lines:?}");
    for l in &lines[1..4] {
        assert!(l.contains("\"bad_request\""), "{l}");
    }
    assert!(lines[4].contains("\"created\":true"), "{}", lines[4]);
    assert!(stderr.contains("crash_chance: SIGKILL at lock.after_acquire\n"), "{stderr}");
}
