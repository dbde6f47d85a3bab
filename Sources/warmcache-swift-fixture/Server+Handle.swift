import Foundation
@_spi(Harness) import Warmcache

/// The driver operations that open and close the segment (docs/DRIVER.md), and `hello`.
extension Server {
    func hello(_ args: [String: Any]) throws -> Outcome {
        // DRIVER.md "hello": transitions are asked for here; the answer says whether they
        // will be reported.
        if try optBool(args, "trace") == true { trace = true }
        return .ok(["language": "swift", "language_code": 3, "pid": Int(getpid()), "implementation": "warmcache-swift 0.1.0",
                    "protocol": ["major": protocolVersion.major, "minor": protocolVersion.minor],
                    "protocols": ProtocolVersion.allCases.map { ["major": $0.major, "minor": $0.minor] },
                    "trace": trace, "features": protocolVersion.features,
                    "operations": Server.operations, "pause_points": PausePoint.allNames,
                    "faults": Faults.allNames, "get_via": Server.getVia])
    }

    /// `create` and `open_or_create`.
    func create(_ op: String, _ args: [String: Any]) throws -> Outcome {
        let path = try pathArg(args)
        let geometry = try parseGeometry(args)
        var opts = try options(args)
        opts.fastChecksum = try optBool(args, "fast_checksum") ?? false
        if opts.fastChecksum && opts.protocolVersion == .v1_0 {
            throw RequestError.bad("fast_checksum needs protocol 1.1 (FAST_CHECKSUM is not a 1.0 feature)")
        }
        if let v = args["future"], !(v is NSNull) {
            guard let s = v as? String, let f = FutureImage(rawValue: s) else {
                throw RequestError.bad("future: minor, incompat or major (PROTOCOL.md §14)")
            }
            opts.future = f
        }
        opts.groupAccess = try optBool(args, "group") ?? false
        opts.simClockStartNs = try optU64(args, "sim_clock_ns")
        let store = try storeArgs(args)
        // A failed create or open leaves the open handle as it was (DRIVER.md): the new
        // handle replaces the old one only once it exists.
        do {
            let c = op == "create"
                ? try WarmCache.create(path: path, geometry: geometry, options: opts)
                : try WarmCache.openOrCreate(path: path, geometry: geometry, options: opts)
            if let failed = attach(c, store) { return failed }
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
        var opts = try options(args)
        // The reader's size bound (PROTOCOL.md §13.2, geometry rule 9); absent or 0: the default.
        opts.maxTotalLen = try optU64(args, "max_total_len") ?? 0
        let store = try storeArgs(args)
        do {
            let c = try WarmCache.open(path: path, options: opts)
            if let failed = attach(c, store) { return failed }
            replaceHandle()
            cache = c
            return .ok(["participant": UInt64(c.participantId)])
        } catch {
            return .fail(reason: error.code, message: error.message)
        }
    }

    /// Closes the handle but keeps it: every later operation goes to the closed library handle,
    /// which answers `closed` (DRIVER.md "After close"). Closing nothing, or twice, is `ok`.
    func close() -> Outcome {
        cache?.close()
        return .ok([:])
    }

    func replaceHandle() {
        cache?.close()
        cache = nil
    }
}
