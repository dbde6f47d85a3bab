//! DRIVER.md "Two operations of one handle (overlap)": a request whose args carry
//! `"overlap": true`, arriving while an operation is paused, runs to completion on another
//! thread on the same handle while the paused operation stays in flight (its thread is blocked
//! in `wait_for_resume`, inside its pause hook). It is the only way a driven handle has two
//! write operations in flight at once, which is what `claim_hint`'s `in_flight` and `W` are for
//! (PROTOCOL.md §5.1); `Cache` is `Send + Sync`, so the other thread borrows the same handle.

use super::ops_cache::key_op;
use super::{emit, event_json, Args, Armed, Outcome};
use serde_json::{json, Map, Value};
use std::sync::Mutex;

/// Whether a request's args carry `"overlap": true`.
pub(super) fn is_overlap(req: &Value) -> bool {
    req.get("args").and_then(|a| a.get("overlap")) == Some(&Value::Bool(true))
}

/// Runs `req` beside the paused operation and writes its answer. Its own `pause_at`,
/// `crash_at` and `crash_chance_ppm` are refused: the paused operation's hook stays armed on
/// the handle, and it ignores every point reached while `Armed::overlapping` is set (the paused
/// thread, the only other caller of the hook, is blocked here meanwhile).
pub(super) fn overlap(armed: &Mutex<Armed>, req: &Value) -> bool {
    emit(&answer(armed, req))
}

fn answer(armed: &Mutex<Armed>, req: &Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let refuse = |m: String| json!({"id": id, "error": {"kind": "bad_request", "message": m}});
    let op = req.get("op").and_then(Value::as_str).unwrap_or("");
    let empty = Map::new();
    let args = req.get("args").and_then(Value::as_object).unwrap_or(&empty);
    if !["get", "put", "refresh", "invalidate", "evict"].contains(&op) {
        return refuse(format!(
            "overlap: {op} cannot overlap a paused operation (only get, put, refresh, invalidate, evict)"
        ));
    }
    for k in ["pause_at", "crash_at", "crash_chance_ppm", "crash_seed"] {
        if args.get(k).is_some_and(|v| !v.is_null()) {
            return refuse(format!("overlap: {k} is not allowed on an overlapping request"));
        }
    }
    let cache = armed.lock().unwrap_or_else(|e| e.into_inner()).cache.clone();
    let Some(cache) = cache else {
        return refuse("no open segment (send create, open or open_or_create first)".into());
    };
    // The paused operation's transitions so far belong to its own response, not this one.
    let prior: Vec<Value> = cache.take_events().iter().map(event_json).collect();
    armed.lock().unwrap_or_else(|e| e.into_inner()).overlapping = true;
    let a = Args(args);
    let result = std::thread::scope(|s| s.spawn(|| key_op(&cache, op, &a)).join());
    {
        let mut g = armed.lock().unwrap_or_else(|e| e.into_inner());
        g.overlapping = false;
        g.stashed.extend(prior);
    }
    let mine: Vec<Value> = cache.take_events().iter().map(event_json).collect();
    match result {
        Ok(Some(Ok(Outcome::Ok(v)))) => json!({"id": id, "outcome": "ok", "result": v, "transitions": mine}),
        Ok(Some(Ok(Outcome::Fail { reason, message }))) => {
            json!({"id": id, "outcome": "fail", "reason": reason, "message": message, "transitions": mine})
        }
        Ok(Some(Err(e))) => json!({"id": id, "error": {"kind": e.kind, "message": e.message}}),
        Ok(None) => refuse(format!("overlap: {op} is not an operation of one key")),
        Err(_) => json!({"id": id, "error": {"kind": "runtime", "message": "panic in the overlapping operation"}}),
    }
}
