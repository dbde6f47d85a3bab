//! The cache operations of docs/DRIVER.md on the open handle.

use super::{hit_fields, ok, shard_json, Args, DriverError, Fixture, Outcome};
use serde_json::{json, Map, Value};
use std::time::Duration;

impl Fixture {
    pub(super) fn get(&self, a: &Args) -> Result<Outcome, DriverError> {
        let key = a.hex("key_hex")?;
        let c = self.cache()?;
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

    /// `put` and `refresh`.
    pub(super) fn put(&self, op: &str, a: &Args) -> Result<Outcome, DriverError> {
        let (key, value, opts) = (a.hex("key_hex")?, a.hex("value_hex")?, a.put_options()?);
        let c = self.cache()?;
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

    /// `invalidate` and `evict`.
    pub(super) fn remove(&self, op: &str, a: &Args) -> Result<Outcome, DriverError> {
        let key = a.hex("key_hex")?;
        let c = self.cache()?;
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
