//! The driver fixture binary speaks DRIVER.md: one JSON response per request line, errors as
//! `error` objects, and the loop survives bad input.

mod common;
use common::{run_fixture_lines, TmpPath};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

fn run(lines: &[String], trace: bool) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warmcache-fixture"));
    cmd.arg("serve");
    if trace {
        cmd.arg("--trace");
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for l in lines {
            writeln!(stdin, "{l}").unwrap();
        }
    } // closing stdin ends the session
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

#[test]
fn fixture_session() {
    let p = TmpPath::new("fixture");
    let path = p.path().to_str().unwrap();
    let geometry = json!({"shard_count": 4, "slots_per_shard": 16, "key_capacity": 32,
                          "value_capacity": 256, "probe_window": 4, "participant_capacity": 16});
    let reqs = vec![
        json!({"id": 1, "op": "hello"}).to_string(),
        json!({"id": 2, "op": "get", "args": {"key_hex": "00"}}).to_string(),
        json!({"id": 3, "op": "create", "args": {"path": path, "geometry": geometry, "sim_clock_ns": 5}}).to_string(),
        json!({"id": 4, "op": "put", "args": {"key_hex": "6b", "value_hex": "cafe", "ttl_ns": 10, "origin_tag": 9}}).to_string(),
        json!({"id": 5, "op": "get", "args": {"key_hex": "6b"}}).to_string(),
        "this is not json".to_string(),
        json!({"id": 6, "op": "frobnicate"}).to_string(),
        json!({"id": 7, "op": "put", "args": {"key_hex": "zz", "value_hex": ""}}).to_string(),
        json!({"id": 8, "op": "put", "args": {"key_hex": "6b", "value_hex": "00", "version": 1}}).to_string(),
        json!({"id": 9, "op": "open", "args": {"path": "/dev/shm/definitely-not-here"}}).to_string(),
        json!({"id": 10, "op": "set_clock", "args": {"now_ns": 15}}).to_string(),
        json!({"id": 11, "op": "get", "args": {"key_hex": "6b"}}).to_string(),
        json!({"id": 12, "op": "dump"}).to_string(),
        json!({"id": 13, "op": "stats"}).to_string(),
        json!({"id": 14, "op": "participants"}).to_string(),
        json!({"id": 15, "op": "wait", "args": {"seen": 0, "timeout_ms": 1}}).to_string(),
        json!({"id": 16, "op": "create", "args": {"path": path, "geometry": geometry}}).to_string(),
        json!({"id": 17, "op": "close"}).to_string(),
    ];
    let r = run(&reqs, true);
    assert_eq!(r.len(), reqs.len());
    assert_eq!(r[0]["result"]["language"], "rust");
    assert_eq!(r[0]["result"]["implementation"], "warmcache-rust 0.1.0");
    assert_eq!(r[0]["result"]["protocol"], json!({"major": 1, "minor": 1})); // 1.1 by default
    assert_eq!(r[1]["error"]["kind"], "bad_request");
    assert_eq!(r[2]["result"]["participant"], 1);
    assert_eq!(r[3]["outcome"], "ok");
    assert_eq!(r[3]["result"]["created"], true);
    let t = r[3]["transitions"].as_array().unwrap();
    assert_eq!(t.iter().map(|e| e["event"].as_str().unwrap()).collect::<Vec<_>>(), ["claim", "publish"]);
    assert_eq!(r[4]["result"]["value_hex"], "cafe");
    assert_eq!(r[4]["result"]["origin_tag"], 9);
    assert_eq!(r[4]["result"]["writer"]["language"], 2);
    assert_eq!(r[5]["error"]["kind"], "bad_request");
    assert_eq!(r[6]["error"]["kind"], "unsupported");
    assert_eq!(r[7]["error"]["kind"], "bad_request");
    assert_eq!(r[8]["outcome"], "fail");
    assert_eq!(r[8]["reason"], "version_not_newer");
    let t = r[8]["transitions"].as_array().unwrap();
    assert_eq!(t.iter().map(|e| e["event"].as_str().unwrap()).collect::<Vec<_>>(), ["refresh_claim", "refresh_abort"]);
    assert_eq!(r[9]["reason"], "not_found");
    assert_eq!(r[11]["result"]["hit"], false); // expired, no grace
    assert!(r[12]["result"]["problems"].as_array().unwrap().is_empty());
    assert_eq!(r[13]["result"]["totals"]["inserts"], 1);
    assert_eq!(r[13]["result"]["shards"].as_array().unwrap().len(), 4);
    assert_eq!(r[14]["result"]["participants"][0]["alive"], true);
    assert_eq!(r[15]["result"]["timed_out"], false);
    assert_eq!(r[16]["reason"], "exists");
    assert_eq!(r[17]["outcome"], "ok");
}

/// DRIVER.md "The get paths": every `via` reaches its entry point and answers as `get`;
/// `get_many` answers one get per key, `now` the segment's clock.
#[test]
fn get_paths_get_many_and_now() {
    let p = TmpPath::new("fixture-get-paths");
    let path = p.path().to_str().unwrap();
    let geometry = json!({"shard_count": 2, "slots_per_shard": 8, "key_capacity": 8,
                          "value_capacity": 16, "probe_window": 4, "participant_capacity": 4});
    let reqs: Vec<String> = [
        json!({"id": 1, "op": "hello"}),
        json!({"id": 2, "op": "create", "args": {"path": path, "geometry": geometry, "sim_clock_ns": 7}}),
        json!({"id": 3, "op": "put", "args": {"key_hex": "6b", "value_hex": "cafe"}}),
        json!({"id": 4, "op": "get", "args": {"key_hex": "6b", "via": "single"}}),
        json!({"id": 5, "op": "get", "args": {"key_hex": "6b", "via": "into"}}),
        json!({"id": 6, "op": "get", "args": {"key_hex": "6b", "via": "many"}}),
        json!({"id": 7, "op": "get", "args": {"key_hex": "6b", "via": "batched"}}),
        json!({"id": 8, "op": "get_many", "args": {"keys_hex": ["6b", "00", "6b", "", "000000000000000000"]}}),
        json!({"id": 9, "op": "now"}),
        json!({"id": 10, "op": "stats"}),
    ]
    .iter()
    .map(|j| j.to_string())
    .collect();
    let r = run(&reqs, false);
    assert_eq!(r[0]["result"]["get_via"], json!(["single", "into", "many"]));
    for i in 3..=5 {
        assert_eq!(r[i]["result"]["value_hex"], "cafe", "{}", r[i]);
    }
    assert_eq!(r[6]["error"]["kind"], "bad_request");
    let hits: Vec<bool> = r[7]["result"]["results"].as_array().unwrap().iter().map(|e| e["hit"].as_bool().unwrap()).collect();
    assert_eq!(hits, [true, false, true, false, false]);
    assert_eq!(r[7]["result"]["results"][2]["value_hex"], "cafe");
    assert_eq!(r[8]["result"]["now_ns"], 7);
    assert_eq!(r[9]["result"]["totals"]["hits"], 5);
    assert_eq!(r[9]["result"]["totals"]["misses"], 3);
}

#[test]
fn echo_copies_lines_unchanged() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_warmcache-fixture"))
        .arg("echo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Ping-pong: each line comes back (flushed) before the next is sent; nothing is parsed.
    for l in [r#"{"id": 1, "op": "hello"}"#, "not json at all  ", "", "  \t{\"x\":[1,2]}"] {
        writeln!(stdin, "{l}").unwrap();
        stdin.flush().unwrap();
        let mut got = String::new();
        out.read_line(&mut got).unwrap();
        assert_eq!(got, format!("{l}\n"));
    }
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "");
    assert!(child.wait().unwrap().success());
}

/// DRIVER.md "Odd input": every line gets one answer and the fixture reads on; bad paths are
/// refused before any file is touched.
#[test]
fn odd_input_gets_one_answer_per_line() {
    let dir = TmpPath::new("oddinput");
    std::fs::create_dir(dir.path()).unwrap();
    let d = dir.path().display();
    let geo = r#""geometry":{"shard_count":1,"slots_per_shard":4,"key_capacity":16,"value_capacity":64,"probe_window":2,"participant_capacity":8}"#;
    let cases: Vec<(Vec<u8>, &[&str])> = vec![
        (b"\xff\xfe{}".to_vec(), &[r#""id":null"#, r#""kind":"bad_request","message":"the line is not valid UTF-8""#]),
        (b"".to_vec(), &[r#""id":null"#, r#""kind":"bad_request""#]),
        (b"[1]".to_vec(), &[r#""id":null"#, r#""kind":"bad_request""#]),
        (br#"{"id":1,"op":"close"}"#.to_vec(), &[r#""id":1"#, r#""outcome":"ok""#]),
        (format!(r#"{{"id":2,"op":"create","args":{{"path":"{d}/missing/seg",{geo}}}}}"#).into_bytes(), &[r#""reason":"not_found""#]),
        (format!(r#"{{"id":3,"op":"create","args":{{"path":"",{geo}}}}}"#).into_bytes(), &[r#""kind":"bad_request","message":"missing path""#]),
        (br#"{"id":4,"op":"open","args":{"path":""}}"#.to_vec(), &[r#""kind":"bad_request","message":"missing path""#]),
        (format!(r#"{{"id":5,"op":"create","args":{{"path":"{d}/a\u0000b",{geo}}}}}"#).into_bytes(), &[r#""outcome":"fail""#, r#""reason":"io""#]),
        (format!(r#"{{"id":6,"op":"open_or_create","args":{{"path":"{d}/a\u0000b",{geo}}}}}"#).into_bytes(), &[r#""outcome":"fail""#, r#""reason":"io""#]),
        (format!(r#"{{"id":7,"op":"open","args":{{"path":"{d}/a\u0000b"}}}}"#).into_bytes(), &[r#""outcome":"fail""#, r#""reason":"io""#]),
        (br#"{"id":8,"op":"hello"}"#.to_vec(), &[r#""id":8"#, r#""outcome":"ok""#]),
    ];
    let out = run_fixture_lines(&cases.iter().map(|c| c.0.clone()).collect::<Vec<_>>());
    assert!(out.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), cases.len(), "one answer per line: {lines:?}");
    for ((input, want), got) in cases.iter().zip(&lines) {
        for w in *want {
            assert!(got.contains(w), "{:?} -> {got}, want {w}", String::from_utf8_lossy(input));
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "files left behind");
}

/// DRIVER.md "After close": every handle operation after `close` answers `fail(closed)` (Cache is
/// closed by its drop, so the fixture answers), a second close is `ok`, and an `open` makes the
/// handle usable again.
#[test]
fn closed_handle_answers_closed() {
    let p = TmpPath::new("fixture-closed");
    let path = p.path().to_str().unwrap();
    let geometry = json!({"shard_count": 1, "slots_per_shard": 8, "key_capacity": 32,
                          "value_capacity": 64, "probe_window": 4, "participant_capacity": 4});
    let after: Vec<(&str, Value)> = vec![
        ("get", json!({"key_hex": "61"})), ("put", json!({"key_hex": "61", "value_hex": "00"})),
        ("invalidate", json!({"key_hex": "61"})), ("stats", json!({})), ("generation", json!({})),
        ("wait", json!({"seen": 0, "timeout_ms": 10})), ("dump", json!({})), ("participants", json!({})),
        ("journal_state", json!({})), ("repair", json!({})), ("ns_stage", json!({"ns": 0})),
        ("ns_unpin", json!({})), ("ns_state", json!({"ns": 0})),
    ];
    let mut reqs = vec![
        json!({"id": 1, "op": "hello"}).to_string(),
        json!({"id": 2, "op": "create", "args": {"path": path, "geometry": geometry}}).to_string(),
        json!({"id": 3, "op": "close"}).to_string(),
    ];
    for (i, (op, args)) in after.iter().enumerate() {
        reqs.push(json!({"id": 10 + i, "op": op, "args": args}).to_string());
    }
    reqs.push(json!({"id": 98, "op": "close"}).to_string());
    reqs.push(json!({"id": 99, "op": "open", "args": {"path": path}}).to_string());
    reqs.push(json!({"id": 100, "op": "get", "args": {"key_hex": "61"}}).to_string());
    let r = run(&reqs, true);
    for (i, (op, _)) in after.iter().enumerate() {
        assert_eq!((op, &r[3 + i]["outcome"], &r[3 + i]["reason"]), (op, &json!("fail"), &json!("closed")), "{}", r[3 + i]);
    }
    let n = r.len();
    assert_eq!(r[n - 3]["outcome"], "ok");
    assert_eq!(r[n - 2]["outcome"], "ok");
    assert_eq!(r[n - 1]["result"]["hit"], false);
}
