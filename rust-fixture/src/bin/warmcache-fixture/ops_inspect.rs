//! The operations that let the harness look inside: the simulated clock, `dump`, `participants`.

use super::{bad_request, hit_fields, ok, to_hex, Args, DriverError, Fixture, Outcome};
use serde_json::{json, Map, Value};

impl Fixture {
    pub(super) fn set_clock(&self, a: &Args) -> Result<Outcome, DriverError> {
        let now = a.u64("now_ns")?;
        self.cache()?.set_sim_clock(now).map_err(|e| bad_request(e.to_string()))?;
        ok(json!({}))
    }

    pub(super) fn dump(&self) -> Result<Outcome, DriverError> {
        let d = self.cache()?.dump();
        let entries: Vec<Value> = d
            .entries
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("state".into(), json!(e.state.name()));
                m.insert("seq".into(), json!(e.seq));
                m.insert("key_hex".into(), json!(to_hex(&e.key)));
                hit_fields(&mut m, &e.info, &e.value, false);
                Value::Object(m)
            })
            .collect();
        ok(json!({"entries": entries, "problems": d.problems}))
    }

    /// PROTOCOL.md §9.9 through the open handle (DRIVER.md `repair`).
    pub(super) fn repair(&self) -> Result<Outcome, DriverError> {
        let r = self.cache()?.repair();
        let list = |l: &[warmcache::RepairAction]| -> Vec<Value> {
            l.iter().map(|a| json!({"shard": a.shard, "slot": a.slot, "detail": a.detail})).collect()
        };
        ok(json!({
            "locks_freed": list(&r.locks_freed), "reclaimed": list(&r.reclaimed), "quarantined": list(&r.quarantined),
            "unrepairable": list(&r.unrepairable), "quarantined_total": r.quarantined_total,
        }))
    }

    pub(super) fn participants(&self) -> Result<Outcome, DriverError> {
        let list: Vec<Value> = self
            .cache()?
            .participants()
            .iter()
            .map(|p| {
                json!({
                    "index": p.index, "epoch": p.epoch, "pid": p.pid, "start_time": p.start_time,
                    "language": p.language, "alive": p.alive,
                    "protocol_major": p.protocol_major, "protocol_minor": p.protocol_minor,
                })
            })
            .collect();
        ok(json!({"participants": list}))
    }
}
