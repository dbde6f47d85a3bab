//! The namespace operations of docs/DRIVER.md "Namespaces" (PROTOCOL.md §18, 1.1) on the open
//! handle. A handle speaking 1.0 answers them as a 1.0 build would: `unsupported`.

use super::{bad_request, hit_fields, ok, Args, DriverError, Fixture, Outcome};
use serde_json::{json, Map, Value};
use warmcache::{Cache, OpError, Protocol};

fn fail(e: OpError) -> Outcome {
    Outcome::Fail { reason: e.code(), message: e.message }
}

impl Fixture {
    /// The open handle, if it speaks 1.1 (namespaces are a 1.1 feature).
    fn ns_cache(&self, op: &str) -> Result<&Cache, DriverError> {
        let c = self.cache()?;
        if c.protocol() == Protocol::V1_0 {
            return Err(DriverError { kind: "unsupported", message: format!("`{op}` is a 1.1 operation; this handle speaks 1.0") });
        }
        Ok(c)
    }

    /// `ns`: a JSON integer (anything else, or none, is a bad request, DRIVER.md); one ≥ 8
    /// reaches the library, which fails it with `bad_namespace`.
    fn ns_arg(a: &Args) -> Result<u32, DriverError> {
        match a.get("ns").and_then(Value::as_u64) {
            Some(n) => Ok(n.min(u32::MAX as u64) as u32),
            None => Err(bad_request("`ns` must be a namespace index, a non-negative JSON integer")),
        }
    }

    /// Every `ns_*` operation: `ns_unpin` takes no namespace.
    pub(super) fn namespace(&self, op: &str, a: &Args) -> Result<Outcome, DriverError> {
        let c = self.ns_cache(op)?;
        if op == "ns_unpin" {
            let (ns, version) = c.ns_unpin();
            return ok(json!({"ns": ns, "version": version}));
        }
        let ns = Self::ns_arg(a)?;
        let r = match op {
            "ns_stage" => c.ns_stage(ns).map(|s| json!({"version": s.version, "took_over": s.took_over})),
            "ns_put" => {
                let (key, value) = (a.hex("key_hex")?, a.hex("value_hex")?);
                c.ns_put(ns, &key, &value).map(|(o, v)| {
                    json!({"version": o.version, "created": o.created, "shard": o.shard, "slot": o.slot, "ns_version": v})
                })
            }
            "ns_flip" => c.ns_flip(ns).map(|(v, p)| json!({"version": v, "previous": p})),
            "ns_rollback" => c.ns_rollback(ns).map(|(v, r)| json!({"version": v, "retired": r})),
            "ns_pin" => c.ns_pin(ns).map(|v| json!({"version": v})),
            "ns_get" => {
                let key = a.hex("key_hex")?;
                c.ns_get(ns, &key).map(|r| {
                    let mut m = Map::new();
                    m.insert("hit".into(), json!(r.hit.is_some()));
                    m.insert("ns_version".into(), json!(r.version));
                    m.insert("pinned".into(), json!(r.pinned));
                    if let Some((value, info)) = &r.hit {
                        hit_fields(&mut m, info, value, true);
                    }
                    Value::Object(m)
                })
            }
            "ns_reclaim" => c.ns_reclaim(ns).map(|r| json!({"removed": r.removed, "kept": r.kept})),
            _ => c.ns_state(ns).map(|s| {
                let pins: Vec<Value> = s.pins.iter().map(|(p, v)| json!({"participant": p, "version": v})).collect();
                json!({"current": s.current, "previous": s.previous, "last": s.last, "stager": s.stager, "pins": pins})
            }),
        };
        Ok(r.map_or_else(fail, Outcome::Ok))
    }
}
