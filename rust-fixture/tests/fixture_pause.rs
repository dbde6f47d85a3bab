//! `pause_at` / `resume` (DRIVER.md "Pausing at a pause point"): controlled interleavings
//! between fixture processes.

mod common;
use common::TmpPath;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A running fixture: requests go to its stdin, response lines arrive on a channel (so that a
/// test never blocks forever on a fixture that stays silent).
struct Fx {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Fx {
    fn spawn() -> Fx {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warmcache-fixture"))
            .args(["serve", "--trace"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Fx { child, stdin, lines: rx }
    }

    fn send(&mut self, req: Value) {
        let s = self.stdin.as_mut().unwrap();
        writeln!(s, "{req}").unwrap();
        s.flush().unwrap();
    }

    fn recv(&self) -> Value {
        let l = self.lines.recv_timeout(Duration::from_secs(10)).expect("a line from the fixture");
        serde_json::from_str(&l).expect("one JSON object per line")
    }

    /// No line arrives within `ms`.
    fn silent(&self, ms: u64) -> bool {
        self.lines.recv_timeout(Duration::from_millis(ms)).is_err()
    }

    fn call(&mut self, req: Value) -> Value {
        self.send(req);
        self.recv()
    }

    /// Closes stdin and waits (bounded) for the exit status.
    fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let t = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(t.elapsed() < Duration::from_secs(5), "fixture did not exit after stdin closed");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Fx {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn geometry() -> Value {
    json!({"shard_count": 4, "slots_per_shard": 16, "key_capacity": 32, "value_capacity": 256,
           "probe_window": 4, "participant_capacity": 16})
}

fn events(resp: &Value) -> Vec<String> {
    resp["transitions"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

/// A writer fixture with `k` = 01 (version 1), and a reader fixture on the same segment.
fn setup(p: &TmpPath) -> (Fx, Fx) {
    let path = p.path().to_str().unwrap();
    let mut w = Fx::spawn();
    assert_eq!(w.call(json!({"id": 1, "op": "hello"}))["result"]["pause_points"][6], "get.after_key_match");
    assert_eq!(w.call(json!({"id": 2, "op": "create", "args": {"path": path, "geometry": geometry()}}))["outcome"], "ok");
    let r = w.call(json!({"id": 3, "op": "put", "args": {"key_hex": "6b", "value_hex": "01"}}));
    assert_eq!(r["result"]["version"], 1);
    let mut rd = Fx::spawn();
    assert_eq!(rd.call(json!({"id": 1, "op": "open", "args": {"path": path}}))["outcome"], "ok");
    (w, rd)
}

#[test]
fn pause_at_refresh_after_payload_then_resume() {
    let p = TmpPath::new("fxpause");
    let (mut w, mut rd) = setup(&p);

    w.send(json!({"id": 4, "op": "refresh", "args": {"key_hex": "6b", "value_hex": "02", "pause_at": "refresh.after_payload"}}));
    assert_eq!(w.recv(), json!({"id": 4, "paused": "refresh.after_payload"}));
    assert!(w.silent(100), "nothing else until resume");

    // The writer sits between its payload and its publish: another process reads the OLD value.
    let g = rd.call(json!({"id": 2, "op": "get", "args": {"key_hex": "6b"}}));
    assert_eq!((&g["result"]["hit"], &g["result"]["value_hex"], &g["result"]["version"]), (&json!(true), &json!("01"), &json!(1)));
    let d = rd.call(json!({"id": 3, "op": "dump"}));
    assert_eq!(d["result"]["entries"][0]["state"], "REFRESHING");

    // While paused, anything but resume is refused with its own id, and the pause holds.
    let e = w.call(json!({"id": 5, "op": "get", "args": {"key_hex": "6b"}}));
    assert_eq!(
        e,
        json!({"id": 5, "error": {"kind": "bad_request", "message": "paused at refresh.after_payload; only resume is accepted"}})
    );
    let e = w.call(json!({"id": 6, "op": "stats"}));
    assert_eq!(e["id"], 6);
    assert_eq!(e["error"]["kind"], "bad_request");
    let e = w.call(json!("not json at all"));
    assert_eq!(e["error"]["kind"], "bad_request");
    assert!(w.silent(50));
    assert_eq!(rd.call(json!({"id": 4, "op": "get", "args": {"key_hex": "6b"}}))["result"]["value_hex"], "01");

    // resume has no response of its own: the paused operation's response follows, with its id.
    let r = w.call(json!({"id": 7, "op": "resume"}));
    assert_eq!(r["id"], 4);
    assert_eq!(r["outcome"], "ok");
    assert_eq!(r["result"]["version"], 2);
    assert_eq!(r["result"]["created"], false);
    assert_eq!(events(&r), ["refresh_claim", "refresh_publish"]);
    assert!(w.silent(50), "exactly one response for the paused request");

    assert_eq!(rd.call(json!({"id": 5, "op": "get", "args": {"key_hex": "6b"}}))["result"]["value_hex"], "02");
    // The fixture carries on normally; resume outside a pause is a bad request.
    assert_eq!(w.call(json!({"id": 8, "op": "get", "args": {"key_hex": "6b"}}))["result"]["version"], 2);
    assert_eq!(w.call(json!({"id": 9, "op": "resume"}))["error"]["kind"], "bad_request");
    // Pausing fires the first time only; the next request is not armed.
    w.send(json!({"id": 10, "op": "put", "args": {"key_hex": "6b", "value_hex": "03", "pause_at": "refresh.after_claim"}}));
    assert_eq!(w.recv(), json!({"id": 10, "paused": "refresh.after_claim"}));
    assert_eq!(w.call(json!({"id": 11, "op": "resume"}))["id"], 10);
    assert_eq!(w.call(json!({"id": 12, "op": "put", "args": {"key_hex": "6b", "value_hex": "04"}}))["result"]["version"], 4);
    assert!(w.finish().success());
    assert!(rd.finish().success());
}

#[test]
fn pause_at_a_point_never_reached_answers_plainly() {
    let p = TmpPath::new("fxnever");
    let (mut w, rd) = setup(&p);
    // A refresh of an existing key never reaches put.after_claim; a get of an absent key never
    // matches a key.
    let r = w.call(json!({"id": 4, "op": "put", "args": {"key_hex": "6b", "value_hex": "02", "pause_at": "put.after_claim"}}));
    assert_eq!((&r["id"], &r["outcome"], &r["result"]["version"]), (&json!(4), &json!("ok"), &json!(2)));
    let r = w.call(json!({"id": 5, "op": "get", "args": {"key_hex": "7a", "pause_at": "get.after_key_match"}}));
    assert_eq!((&r["id"], &r["result"]["hit"]), (&json!(5), &json!(false)));
    let r = w.call(json!({"id": 6, "op": "stats", "args": {"pause_at": "wait.before_park"}}));
    assert_eq!((&r["id"], &r["outcome"]), (&json!(6), &json!("ok")));
    // Unknown points are bad requests, for pause_at and crash_at alike.
    for arg in ["pause_at", "crash_at"] {
        let r = w.call(json!({"id": 7, "op": "get", "args": {"key_hex": "6b", arg: "get.nowhere"}}));
        assert_eq!(r["id"], 7);
        assert_eq!(r["error"]["kind"], "bad_request", "{arg}");
        let r = w.call(json!({"id": 8, "op": "get", "args": {"key_hex": "6b", arg: 5}}));
        assert_eq!(r["error"]["kind"], "bad_request", "{arg}");
    }
    assert!(w.finish().success());
    assert!(rd.finish().success());
}

#[test]
fn pause_at_get_after_key_match() {
    let p = TmpPath::new("fxkeymatch");
    let (mut w, mut rd) = setup(&p);
    rd.send(json!({"id": 2, "op": "get", "args": {"key_hex": "6b", "pause_at": "get.after_key_match"}}));
    assert_eq!(rd.recv(), json!({"id": 2, "paused": "get.after_key_match"}));
    // The reader matched the key but copied nothing: a writer refreshes twice meanwhile (the
    // second one rewrites the very record the reader will copy). Writers never wait for readers.
    assert_eq!(w.call(json!({"id": 4, "op": "put", "args": {"key_hex": "6b", "value_hex": "02"}}))["outcome"], "ok");
    assert_eq!(w.call(json!({"id": 5, "op": "put", "args": {"key_hex": "6b", "value_hex": "03"}}))["outcome"], "ok");
    let r = rd.call(json!({"id": 3, "op": "resume"}));
    assert_eq!(r["id"], 2);
    // It notices the state word moved on, retries, and returns the newest value.
    assert_eq!((&r["result"]["hit"], &r["result"]["value_hex"], &r["result"]["version"]), (&json!(true), &json!("03"), &json!(3)));
    assert!(w.finish().success());
    assert!(rd.finish().success());
}

#[test]
fn eof_while_paused_exits_promptly_and_the_claim_is_reclaimed() {
    let p = TmpPath::new("fxeof");
    let (mut w, mut rd) = setup(&p);
    w.send(json!({"id": 4, "op": "refresh", "args": {"key_hex": "6b", "value_hex": "02", "pause_at": "refresh.after_payload"}}));
    assert_eq!(w.recv()["paused"], "refresh.after_payload");
    let t = Instant::now();
    let st = w.finish();
    assert!(st.success(), "exit 0: {st:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // The exited writer left its REFRESHING claim; readers still see the old value and the next
    // writer reclaims it (T13).
    assert_eq!(rd.call(json!({"id": 2, "op": "get", "args": {"key_hex": "6b"}}))["result"]["value_hex"], "01");
    let r = rd.call(json!({"id": 3, "op": "put", "args": {"key_hex": "6b", "value_hex": "05"}}));
    assert_eq!(events(&r), ["reclaim", "refresh_claim", "refresh_publish"]);
    assert_eq!(r["result"]["version"], 3, "the paused refresh had taken version 2");
    assert!(rd.finish().success());
}

#[test]
fn pause_then_crash_in_one_request() {
    use std::os::unix::process::ExitStatusExt;
    let p = TmpPath::new("fxpausecrash");
    let (mut w, rd) = setup(&p);
    w.send(json!({"id": 4, "op": "put", "args": {"key_hex": "6c", "value_hex": "02",
                  "pause_at": "put.after_claim", "crash_at": "put.after_payload"}}));
    assert_eq!(w.recv(), json!({"id": 4, "paused": "put.after_claim"}));
    w.send(json!({"id": 5, "op": "resume"}));
    let t = Instant::now();
    loop {
        if let Some(st) = w.child.try_wait().unwrap() {
            assert_eq!(st.signal(), Some(libc::SIGKILL));
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(w.silent(100), "no response for the crashed request");
    drop(w);
    assert!(rd.finish().success());
}

/// Step mode: sends `req` (armed with `pause_at: "*"`), resumes every pause, and returns the
/// points paused at, in order, and the final response.
fn step_through(fx: &mut Fx, req: Value, mut resume_id: u64) -> (Vec<String>, Value) {
    let id = req["id"].clone();
    fx.send(req);
    let mut points = Vec::new();
    loop {
        let m = fx.recv();
        assert_eq!(m["id"], id, "{m}");
        let Some(p) = m.get("paused") else { return (points, m) };
        points.push(p.as_str().unwrap().to_string());
        assert!(fx.silent(30), "nothing else until resume (paused at {p})");
        fx.send(json!({"id": resume_id, "op": "resume"}));
        resume_id += 1;
    }
}

#[test]
fn step_mode_put_of_a_fresh_key_pauses_at_each_insert_point_in_order() {
    let p = TmpPath::new("fxstepput");
    let (mut w, mut rd) = setup(&p);
    let (points, r) = step_through(&mut w, json!({"id": 4, "op": "put", "args": {"key_hex": "6c", "value_hex": "02", "pause_at": "*"}}), 100);
    assert_eq!(points, ["put.before_lock", "lock.after_acquire", "put.before_claim", "put.after_claim", "put.after_key", "put.after_payload"]);
    assert_eq!((&r["outcome"], &r["result"]["created"], &r["result"]["version"]), (&json!("ok"), &json!(true), &json!(2)), "the segment version clock is at 1 after setup");
    assert_eq!(events(&r), ["claim", "publish"]);
    assert!(w.silent(50), "exactly one response after the last resume");
    assert_eq!(rd.call(json!({"id": 2, "op": "get", "args": {"key_hex": "6c"}}))["result"]["value_hex"], "02");
    // The next request is not armed.
    let r = w.call(json!({"id": 5, "op": "put", "args": {"key_hex": "6d", "value_hex": "03"}}));
    assert_eq!((&r["id"], &r["outcome"]), (&json!(5), &json!("ok")));
    assert!(w.finish().success());
    assert!(rd.finish().success());
}

#[test]
fn step_mode_get_of_a_present_key_pauses_at_both_reader_points() {
    let p = TmpPath::new("fxstepget");
    let (w, mut rd) = setup(&p);
    let (points, r) = step_through(&mut rd, json!({"id": 2, "op": "get", "args": {"key_hex": "6b", "pause_at": "*"}}), 100);
    assert_eq!(points, ["get.after_key_match", "get.between_seq_reads"]);
    assert_eq!((&r["outcome"], &r["result"]["hit"], &r["result"]["value_hex"]), (&json!("ok"), &json!(true), &json!("01")));
    // A get of an absent key reaches no point: the response comes straight away.
    let (points, r) = step_through(&mut rd, json!({"id": 3, "op": "get", "args": {"key_hex": "7a", "pause_at": "*"}}), 200);
    assert!(points.is_empty());
    assert_eq!(r["result"]["hit"], false);
    assert!(w.finish().success());
    assert!(rd.finish().success());
}

#[test]
fn step_mode_refuses_other_requests_while_paused_and_exits_on_eof() {
    let p = TmpPath::new("fxstepbad");
    let (mut w, rd) = setup(&p);
    w.send(json!({"id": 4, "op": "refresh", "args": {"key_hex": "6b", "value_hex": "02", "pause_at": "*"}}));
    assert_eq!(w.recv(), json!({"id": 4, "paused": "refresh.before_claim"}));
    w.send(json!({"id": 40, "op": "resume"}));
    assert_eq!(w.recv(), json!({"id": 4, "paused": "refresh.after_claim"}));
    let e = w.call(json!({"id": 5, "op": "stats"}));
    assert_eq!((&e["id"], &e["error"]["kind"]), (&json!(5), &json!("bad_request")));
    assert!(w.silent(50));
    w.send(json!({"id": 6, "op": "resume"}));
    assert_eq!(w.recv(), json!({"id": 4, "paused": "refresh.after_payload"}));
    let e = w.call(json!({"id": 7, "op": "get", "args": {"key_hex": "6b"}}));
    assert_eq!(e["error"]["message"], "paused at refresh.after_payload; only resume is accepted");
    let t = Instant::now();
    assert!(w.finish().success());
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(rd.finish().success());
}

#[test]
fn step_mode_with_crash_at_pauses_there_then_crashes() {
    use std::os::unix::process::ExitStatusExt;
    let p = TmpPath::new("fxstepcrash");
    let (mut w, rd) = setup(&p);
    w.send(json!({"id": 4, "op": "put", "args": {"key_hex": "6c", "value_hex": "02",
                  "pause_at": "*", "crash_at": "put.after_key"}}));
    for (i, point) in ["put.before_lock", "lock.after_acquire", "put.before_claim", "put.after_claim", "put.after_key"].into_iter().enumerate() {
        assert_eq!(w.recv(), json!({"id": 4, "paused": point}));
        w.send(json!({"id": 10 + i, "op": "resume"}));
    }
    let t = Instant::now();
    loop {
        if let Some(st) = w.child.try_wait().unwrap() {
            assert_eq!(st.signal(), Some(libc::SIGKILL));
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(w.silent(100), "no further pause and no response for the crashed request");
    drop(w);
    assert!(rd.finish().success());
}

#[test]
fn crash_at_star_is_a_bad_request() {
    let p = TmpPath::new("fxcrashstar");
    let (mut w, rd) = setup(&p);
    let r = w.call(json!({"id": 4, "op": "get", "args": {"key_hex": "6b", "crash_at": "*"}}));
    assert_eq!((&r["id"], &r["error"]["kind"]), (&json!(4), &json!("bad_request")));
    assert!(w.finish().success());
    assert!(rd.finish().success());
}

/// DRIVER.md "Two operations of one handle": an overlap runs whole beside the paused operation
/// on the same handle, each response carries only its own transitions, and the refusals are the
/// documented ones.
#[test]
fn an_overlap_runs_beside_a_paused_put() {
    let p = TmpPath::new("overlap");
    let path = p.path().to_str().unwrap().to_string();
    let mut w = Fx::spawn();
    let r = w.call(json!({"id": 1, "op": "create", "args": {"path": path, "geometry": geometry()}}));
    assert_eq!(r["outcome"], "ok", "{r}");
    let r = w.call(json!({"id": 2, "op": "put", "args": {"key_hex": "62", "value_hex": "00", "overlap": true}}));
    assert_eq!(r["error"]["message"], "overlap: no operation is paused", "{r}");

    w.send(json!({"id": 3, "op": "put", "args": {"key_hex": "61", "value_hex": "01", "pause_at": "put.after_payload"}}));
    assert_eq!(w.recv(), json!({"id": 3, "paused": "put.after_payload"}));
    let r = w.call(json!({"id": 4, "op": "put", "args": {"key_hex": "62", "value_hex": "02", "overlap": true, "crash_at": "put.after_claim"}}));
    assert_eq!(r["error"]["message"], "overlap: crash_at is not allowed on an overlapping request", "{r}");
    let r = w.call(json!({"id": 5, "op": "stats", "args": {"overlap": true}}));
    assert_eq!(r["error"]["kind"], "bad_request", "{r}");
    let r = w.call(json!({"id": 6, "op": "put", "args": {"key_hex": "62", "value_hex": "02", "overlap": true}}));
    assert_eq!((r["id"].clone(), r["outcome"].clone(), r["result"]["created"].clone()), (json!(6), json!("ok"), json!(true)), "{r}");
    let events: Vec<_> = r["transitions"].as_array().unwrap().iter().map(|t| t["event"].clone()).collect();
    assert_eq!(events, vec![json!("claim"), json!("publish")], "the overlap's own transitions: {r}");
    let r = w.call(json!({"id": 7, "op": "get", "args": {"key_hex": "61", "overlap": true}}));
    assert_eq!(r["result"]["hit"], false, "a's record is not published yet: {r}");
    w.send(json!({"id": 8, "op": "resume"}));
    let r = w.recv();
    assert_eq!((r["id"].clone(), r["outcome"].clone()), (json!(3), json!("ok")), "{r}");
    let events: Vec<_> = r["transitions"].as_array().unwrap().iter().map(|t| t["event"].clone()).collect();
    assert_eq!(events, vec![json!("claim"), json!("publish")], "the paused put's claim and publish: {r}");
    let r = w.call(json!({"id": 9, "op": "get", "args": {"key_hex": "61"}}));
    assert_eq!(r["result"]["value_hex"], "01", "{r}");
    assert!(w.finish().success());
}
