//! The cache operations of docs/DRIVER.md on the open handle. The operations of one key work
//! on a `&Cache` of their own (`key_op`), so that an overlap (overlap.rs) can run them on
//! another thread beside a paused one.

use super::{hit_fields, ok, shard_json, Args, DriverError, Fixture, Outcome};
use serde_json::{json, Map, Value};
use std::time::Duration;
use warmcache::Cache;

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

fn get_on(c: &Cache, a: &Args) -> Result<Outcome, DriverError> {
    let key = a.hex("key_hex")?;
    let mut value = Vec::new();
    let mut m = Map::new();
    match c.get_into(&key, &mut value) {
        Some(info) => {
            m.insert("hit".into(), json!(true));
            hit_fields(&mut m, &info, &value, true);
        }
        None => {
            m.insert("hit".into(), json!(false));
        }
    }
    ok(Value::Object(m))
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
    let r = if op == "invalidate" { c.invalidate_durable(&key, durable) } else { c.evict_durable(&key, durable) };
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
