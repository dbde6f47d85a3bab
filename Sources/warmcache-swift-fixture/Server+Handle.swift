import Foundation
import Warmcache

/// The driver operations that open and close the segment (docs/DRIVER.md), and `hello`.
extension Server {
    func hello(_ args: [String: Any]) throws -> Outcome {
        // DRIVER.md "hello": transitions are asked for here; the answer says whether they
        // will be reported.
        if try optBool(args, "trace") == true { trace = true }
        return .ok(["language": "swift", "language_code": 3, "pid": Int(getpid()), "implementation": "warmcache-swift 0.1.0",
                    "protocol": ["major": 1, "minor": 0], "trace": trace, "features": ["SIM_CLOCK"],
                    "operations": Server.operations, "pause_points": PausePoint.allNames,
                    "faults": Faults.allNames])
    }

    /// `create` and `open_or_create`.
    func create(_ op: String, _ args: [String: Any]) throws -> Outcome {
        let path = try pathArg(args)
        let geometry = try parseGeometry(args)
        var opts = options()
        opts.groupAccess = try optBool(args, "group") ?? false
        opts.simClockStartNs = try optU64(args, "sim_clock_ns")
        // A failed create or open leaves the open handle as it was (DRIVER.md): the new
        // handle replaces the old one only once it exists.
        do {
            let c = op == "create"
                ? try WarmCache.create(path: path, geometry: geometry, options: opts)
                : try WarmCache.openOrCreate(path: path, geometry: geometry, options: opts)
            replaceHandle()
            cache = c
            var r: [String: Any] = ["participant": UInt64(c.participantId)]
            if op == "open_or_create" { r["created"] = c.created }
            return .ok(r)
        } catch {
            return .fail(reason: error.code, message: error.message)
        }
    }

    func open(_ args: [String: Any]) throws -> Outcome {
        let path = try pathArg(args)
        do {
            let c = try WarmCache.open(path: path, options: options())
            replaceHandle()
            cache = c
            return .ok(["participant": UInt64(c.participantId)])
        } catch {
            return .fail(reason: error.code, message: error.message)
        }
    }

    func close() -> Outcome {
        // Idempotent: closing with nothing open is not an error.
        replaceHandle()
        return .ok([:])
    }

    func replaceHandle() {
        cache?.close()
        cache = nil
    }
}
