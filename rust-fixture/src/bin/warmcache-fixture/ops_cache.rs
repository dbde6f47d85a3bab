//! The cache operations of docs/DRIVER.md on the open handle. The operations of one key work
//! on a `&Cache` of their own (`key_op`), so that an overlap (overlap.rs) can run them on
//! another thread beside a paused one.

use super::{bad_request, hit_fields, ok, shard_json, Args, DriverError, Fixture, Outcome};
use serde_json::{json, Map, Value};
use std::time::Duration;
use warmcache::{Cache, HitInfo, Lookup};

impl Fixture {
    pub(super) fn get(&self, a: &Args) -> Result<Outcome, DriverError> {
        get_on(self.cache()?, a)
    }

    /// `put` and `refresh`.
    pub(super) fn put(&self, op: &str, a: &Args) -> Result<Outcome, DriverError> {
        put_on(self.cache()?, op, a)
    }

    /// `invalidate` and `evict`.
    pub(super) fn remove(&self, op: &str, a: &Args) -> Result<Outcome, DriverError> {
        remove_on(self.cache()?, op, a)
    }

    pub(super) fn stats(&self) -> Result<Outcome, DriverError> {
        let s = self.cache()?.stats();
        let mut totals = shard_json(&s.totals);
        totals["corrupt"] = json!(s.corrupt);
        ok(json!({"totals": totals, "shards": s.shards.iter().map(shard_json).collect::<Vec<_>>()}))
    }

    pub(super) fn generation(&self) -> Result<Outcome, DriverError> {
        ok(json!({"generation": self.cache()?.generation()}))
    }

    pub(super) fn wait(&self, a: &Args) -> Result<Outcome, DriverError> {
        let seen = a.u32("seen")?;
        let timeout = Duration::from_millis(a.u64("timeout_ms")?);
        let (generation, timed_out) = self.cache()?.wait_for_change(seen, timeout);
        ok(json!({"generation": generation, "timed_out": timed_out}))
    }
}

/// The operations of one key (`get`, `put`, `refresh`, `invalidate`, `evict`) on `c`; `None`
/// for any other `op`.
pub(super) fn key_op(c: &Cache, op: &str, a: &Args) -> Option<Result<Outcome, DriverError>> {
    match op {
        "get" => Some(get_on(c, a)),
        "put" | "refresh" => Some(put_on(c, op, a)),
        "invalidate" | "evict" => Some(remove_on(c, op, a)),
        _ => None,
    }
}

/// hello.get_via: the get paths this fixture routes to their own library entry point (DRIVER.md
/// "get"), so that each is judged by the suite, not only the one a fixture happened to call.
pub(super) const GET_VIA: &[&str] = &["single", "into", "many"];

fn get_on(c: &Cache, a: &Args) -> Result<Outcome, DriverError> {
    let key = a.hex("key_hex")?;
    let via = match a.get("via") {
        None => "single",
        Some(_) => a.str("via")?,
    };
    let (info, value) = match via {
        "single" => match c.get(&key) {
            Lookup::Hit(h) => (Some(h.info), h.value),
            Lookup::Miss => (None, Vec::new()),
        },
        "into" => {
            let mut value = Vec::new();
            (c.get_into(&key, &mut value), value)
        }
        "many" => {
            let mut values = vec![Vec::new()];
            let mut results = [None];
            c.get_many_into(&[&key], &mut values, &mut results);
            (results[0], values.pop().unwrap_or_default())
        }
        other => return Err(bad_request(format!("`via` must be single, into or many, not {other:?}"))),
    };
    ok(Value::Object(get_answer(info.as_ref(), &value)))
}

/// One get's answer (DRIVER.md `get`), of a single get or of one key of a batch.
fn get_answer(info: Option<&HitInfo>, value: &[u8]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("hit".into(), json!(info.is_some()));
    if let Some(info) = info {
        hit_fields(&mut m, info, value, true);
    }
    m
}

impl Fixture {
    /// `get_many`: `keys_hex` through the library's batched get, one get answer per key.
    pub(super) fn get_many(&self, a: &Args) -> Result<Outcome, DriverError> {
        let c = self.cache()?;
        let keys = match a.get("keys_hex") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|k| k.as_str().and_then(super::from_hex).ok_or_else(|| bad_request("`keys_hex` must be a list of hex strings")))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(bad_request("missing list argument `keys_hex`")),
        };
        let mut values = vec![Vec::new(); keys.len()];
        let mut results = vec![None; keys.len()];
        c.get_many_into(&keys, &mut values, &mut results);
        let answers: Vec<Value> = results.iter().zip(&values).map(|(r, v)| Value::Object(get_answer(r.as_ref(), v))).collect();
        ok(json!({"results": answers}))
    }

    /// `now`: the library's clock read.
    pub(super) fn now(&self) -> Result<Outcome, DriverError> {
        ok(json!({"now_ns": self.cache()?.now()}))
    }
}

fn put_on(c: &Cache, op: &str, a: &Args) -> Result<Outcome, DriverError> {
    let (key, value, opts) = (a.hex("key_hex")?, a.hex("value_hex")?, a.put_options()?);
    let r = if op == "put" { c.put(&key, &value, opts) } else { c.refresh(&key, &value, opts) };
    Ok(match r {
        Ok(o) => {
            let mut m = json!({"version": o.version, "created": o.created, "shard": o.shard, "slot": o.slot});
            if opts.durable {
                m["durable"] = json!(o.durable);
            }
            Outcome::Ok(m)
        }
        Err(e) => Outcome::Fail { reason: e.code(), message: e.message },
    })
}

fn remove_on(c: &Cache, op: &str, a: &Args) -> Result<Outcome, DriverError> {
    let key = a.hex("key_hex")?;
    let durable = a.bool("durable")?;
    // Not journaled: the library's plain invalidate and evict, the entry points most callers
    // use, so that they are the ones judged; the durable ones only when asked.
    let r = match (durable, op == "invalidate") {
        (true, true) => c.invalidate_durable(&key, true),
        (true, false) => c.evict_durable(&key, true),
        (false, true) => c.invalidate(&key).map(|removed| (removed, false)),
        (false, false) => c.evict(&key).map(|removed| (removed, false)),
    };
    Ok(match r {
        Ok((removed, journaled)) => {
            let mut m = json!({"removed": removed});
            if durable {
                m["durable"] = json!(journaled);
            }
            Outcome::Ok(m)
        }
        Err(e) => Outcome::Fail { reason: e.code(), message: e.message },
    })
}
