import Foundation
@_spi(Harness) import Warmcache

/// The durable store's driver operations (docs/DRIVER.md "The durable store"): the store
/// arguments of create/open/open_or_create, `restore`, `journal_state`, and `durable` on the
/// writing operations.
extension Server {
    static let durableOperations = ["restore", "journal_state", "compact"]

    /// The store arguments (`store_dir`, `fsync`, `fsync_interval_ms`); nil without `store_dir`.
    func storeArgs(_ a: [String: Any]) throws -> StoreOptions? {
        guard let v = a["store_dir"], !(v is NSNull) else { return nil }
        guard let dir = v as? String, !dir.isEmpty, !dir.utf8.contains(0) else {
            throw RequestError.bad("store_dir must be a non-empty string without NUL bytes")
        }
        var policy = FsyncPolicy.always
        if let p = a["fsync"], !(p is NSNull) {
            guard let s = p as? String, let f = FsyncPolicy(rawValue: s) else {
                throw RequestError.bad("fsync: \(p) is not always, interval or none")
            }
            policy = f
        }
        let ms = try optU64(a, "fsync_interval_ms") ?? 0
        guard ms <= UInt64.max / 1_000_000 else { throw RequestError.bad("fsync_interval_ms is too large") }
        return StoreOptions(directory: dir, policy: policy, intervalNs: ms * 1_000_000)
    }

    /// Attach the store named by `args`, if any, to a freshly opened handle; a failure closes
    /// the handle and is a `fail` with `io` (as Go and Rust answer it).
    func attach(_ c: WarmCache, _ store: StoreOptions?) -> Outcome? {
        guard let store else { return nil }
        do { try c.attachStore(store) } catch {
            c.close()
            return .fail(reason: "io", message: error.message)
        }
        return nil
    }

    /// `restore` (PERSISTENCE.md §7): open, or rebuild from the store.
    func restore(_ args: [String: Any]) throws -> Outcome {
        let path = try pathArg(args)
        let geometry = try parseGeometry(args)
        guard let store = try storeArgs(args) else { throw RequestError.bad("restore needs store_dir") }
        var opts = try options(args)
        opts.groupAccess = try optBool(args, "group") ?? false
        opts.simClockStartNs = try optU64(args, "sim_clock_ns")
        let c: WarmCache, rep: RestoreReport
        do { (c, rep) = try WarmCache.openOrRestore(path: path, geometry: geometry, store: store, options: opts) } catch {
            return .fail(reason: error.code, message: error.message)
        }
        replaceHandle()
        cache = c
        return .ok(["participant": UInt64(c.participantId), "restored": rep.restored, "created": rep.restored,
                    "installed": rep.installed, "records": rep.records, "files": rep.files, "tombstones": rep.tombstones,
                    "expired": rep.expired, "evicted": rep.evicted, "version_floor": rep.versionFloor,
                    "order_floor": rep.orderFloor, "snapshot": rep.snapshot,
                    "problems": problemsJSON(rep.problems)])
    }

    func problemsJSON(_ ps: [StoreProblem]) -> [[String: Any]] {
        ps.map { ["file": $0.file, "offset": $0.offset, "code": $0.code, "detail": $0.detail, "not_applied_bytes": $0.notAppliedBytes] }
    }

    /// `compact` (PERSISTENCE.md §8). When the open handle journals into the same store it ends
    /// its current part first, so that its own file is covered too.
    func compact(_ args: [String: Any]) throws -> Outcome {
        guard let dir = args["store_dir"] as? String, !dir.isEmpty else { throw RequestError.bad("compact needs store_dir") }
        let geometry = try parseGeometry(args)
        let rep: CompactReport
        do {
            if let c = cache, c.storeOptions?.directory == dir {
                rep = try c.compact()
            } else {
                rep = try StoreCompaction.compact(directory: dir, geometry: geometry, pauseHook: hook)
            }
        } catch {
            return .fail(reason: error.code, message: error.message)
        }
        return .ok(["created": rep.created, "snapshot": rep.snapshot, "base": rep.base, "covered": rep.covered,
                    "live": rep.live, "records": rep.records, "tombstones": rep.tombstones, "removed": rep.removed,
                    "version_floor": rep.versionFloor, "order_floor": rep.orderFloor, "problems": problemsJSON(rep.problems)])
    }

    func journalState() throws -> Outcome {
        let s = try requireCache().journalState
        return .ok(["path": s.path, "written": s.written, "synced": s.synced, "seq": s.seq])
    }
}
