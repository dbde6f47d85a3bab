//! The driver operations that open and close the segment (docs/DRIVER.md), and `hello`.

use super::{attach, ok, open_fail, Args, DriverError, Fixture, Outcome, OPERATIONS};
use serde_json::json;
use std::sync::Arc;
use warmcache::{Cache, Fault, PausePoint, Protocol};

impl Fixture {
    pub(super) fn hello(&mut self, a: &Args) -> Result<Outcome, DriverError> {
        // DRIVER.md "hello": transitions are asked for here; the answer says whether
        // they will be reported.
        self.trace |= a.bool("trace")?;
        ok(json!({
            "language": "rust",
            "language_code": 2,
            "pid": std::process::id(),
            "implementation": "warmcache-rust 0.1.0",
            "protocol": {"major": self.protocol.major(), "minor": self.protocol.minor()},
            "protocols": Protocol::ALL.iter().map(|p| json!({"major": p.major(), "minor": p.minor()})).collect::<Vec<_>>(),
            "trace": self.trace,
            "features": self.protocol.features(),
            "operations": OPERATIONS,
            "pause_points": PausePoint::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(),
            "faults": Fault::ALL.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "get_via": super::ops_cache::GET_VIA,
        }))
    }

    pub(super) fn create(&mut self, a: &Args) -> Result<Outcome, DriverError> {
        let (path, geometry, opts) = (a.path()?, a.geometry()?, self.create_options(a)?);
        match Cache::create(path, geometry, opts) {
            Ok(c) => self.adopt(c, a, json!({})),
            Err(e) => Ok(open_fail(e)),
        }
    }

    pub(super) fn open(&mut self, a: &Args) -> Result<Outcome, DriverError> {
        match Cache::open(a.path()?, self.open_options(a)?) {
            Ok(c) => self.adopt(c, a, json!({})),
            Err(e) => Ok(open_fail(e)),
        }
    }

    pub(super) fn open_or_create(&mut self, a: &Args) -> Result<Outcome, DriverError> {
        let (path, geometry, opts) = (a.path()?, a.geometry()?, self.create_options(a)?);
        match Cache::open_or_create(path, geometry, opts, self.open_options(a)?) {
            Ok((c, created)) => self.adopt(c, a, json!({"created": created})),
            Err(e) => Ok(open_fail(e)),
        }
    }

    /// `restore` (PERSISTENCE.md §7): open, or rebuild from the store.
    pub(super) fn restore(&mut self, a: &Args) -> Result<Outcome, DriverError> {
        let (path, geometry, opts) = (a.path()?, a.geometry()?, self.create_options(a)?);
        let store = a.store()?.ok_or_else(|| super::bad_request("restore needs `store_dir`"))?;
        match Cache::open_or_restore(path, geometry, store, opts, self.open_options(a)?) {
            Ok((c, r)) => {
                let id = c.participant_id();
                self.cache = Some(Arc::new(c));
                self.closed = false;
                let problems = problems_json(&r.problems);
                ok(json!({"participant": id, "restored": r.restored, "created": r.restored, "installed": r.installed,
                          "records": r.records, "files": r.files, "tombstones": r.tombstones,
                          "expired": r.expired, "evicted": r.evicted, "version_floor": r.version_floor,
                          "order_floor": r.order_floor, "problems": problems}))
            }
            Err(e) => Ok(open_fail(e)),
        }
    }

    /// `compact` (PERSISTENCE.md §8). When the open handle journals into the same store it ends
    /// its current part first (`Cache::compact`), so that its own file is covered too.
    pub(super) fn compact(&mut self, a: &Args) -> Result<Outcome, DriverError> {
        let store = a.store()?.ok_or_else(|| super::bad_request("compact needs `store_dir`"))?;
        let geometry = a.geometry()?;
        let result = match &self.cache {
            Some(c) if c.store_dir() == Some(store.dir.as_path()) => c.compact(),
            _ => warmcache::durable::compact_with_pause(&store.dir, geometry, self.pause_hook()),
        };
        match result {
            Ok(r) => ok(json!({"created": !r.snapshot.is_empty(), "snapshot": r.snapshot, "base": r.base, "covered": r.covered, "live": r.live,
                               "records": r.records, "tombstones": r.tombstones, "removed": r.removed,
                               "version_floor": r.version_floor, "order_floor": r.order_floor,
                               "problems": problems_json(&r.problems)})),
            Err(e) => Ok(open_fail(e)),
        }
    }

    /// Makes `c` the fixture's handle (with the request's durable store attached, if any) and
    /// answers its participant id plus `extra`'s fields.
    fn adopt(&mut self, mut c: Cache, a: &Args, mut extra: serde_json::Value) -> Result<Outcome, DriverError> {
        attach(&mut c, a)?;
        extra["participant"] = json!(c.participant_id());
        self.cache = Some(Arc::new(c));
        self.closed = false;
        ok(extra)
    }

    /// Drops the handle (its only close); later handle operations answer `fail(closed)`.
    pub(super) fn close(&mut self) -> Result<Outcome, DriverError> {
        self.closed |= self.cache.take().is_some();
        ok(json!({}))
    }
}

/// PERSISTENCE.md §9 problems as DRIVER.md's `{file, offset, code, detail, not_applied_bytes}`.
fn problems_json(ps: &[warmcache::durable::format::StoreProblem]) -> Vec<serde_json::Value> {
    ps.iter()
        .map(|p| {
            json!({"file": p.file, "offset": p.offset, "code": p.code, "detail": p.detail,
                   "not_applied_bytes": p.not_applied_bytes})
        })
        .collect()
}
