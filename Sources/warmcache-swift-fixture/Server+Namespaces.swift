import Foundation
import Warmcache

/// The namespace operations of docs/DRIVER.md "Namespaces" (PROTOCOL.md §18, 1.1) on the open
/// handle. A handle speaking 1.0 answers them as a 1.0 build would: `unsupported`.
extension Server {
    static let namespaceOperations = ["ns_stage", "ns_put", "ns_flip", "ns_rollback", "ns_pin", "ns_unpin", "ns_get",
                                      "ns_reclaim", "ns_state"]

    /// `ns`: a JSON integer (anything else, or none, is a bad request); one ≥ 8 reaches the
    /// library, which fails it with `bad_namespace`.
    func nsArg(_ args: [String: Any]) throws -> Int {
        guard let v = args["ns"], !(v is String), !isBool(v), let n = v as? NSNumber, let u = UInt64(n.stringValue) else {
            throw RequestError.bad("field 'ns' must be a namespace index, a non-negative JSON integer")
        }
        return Int(min(u, UInt64(Int32.max)))
    }

    func namespace(_ op: String, _ args: [String: Any]) throws -> Outcome {
        let c = try requireCache()
        guard c.protocolVersion != .v1_0 else {
            throw RequestError(kind: "unsupported", message: "'\(op)' is a 1.1 operation; this handle speaks 1.0")
        }
        if op == "ns_unpin" {
            let (ns, version) = try c.nsUnpin()
            return .ok(["ns": ns, "version": version])
        }
        let ns = try nsArg(args)
        do {
            switch op {
            case "ns_stage":
                let s = try c.nsStage(ns)
                return .ok(["version": s.version, "took_over": s.tookOver])
            case "ns_put":
                let (key, value) = (try hex(args, "key_hex"), try hex(args, "value_hex"))
                let (o, v) = try c.nsPut(ns, key, value)
                guard case .ok(let version, let created, let s, let j) = o else { return .fail(reason: "busy", message: "\(o)") }
                return .ok(["version": version, "created": created, "shard": s, "slot": j, "ns_version": v])
            case "ns_flip":
                let r = try c.nsFlip(ns)
                return .ok(["version": r.version, "previous": r.previous])
            case "ns_rollback":
                let r = try c.nsRollback(ns)
                return .ok(["version": r.version, "retired": r.retired])
            case "ns_pin":
                return .ok(["version": try c.nsPin(ns)])
            case "ns_get":
                let r = try c.nsGet(ns, try hex(args, "key_hex"))
                var m: [String: Any] = r.hit.map(hitJSON) ?? ["hit": false]
                m["ns_version"] = r.version
                m["pinned"] = r.pinned
                return .ok(m)
            case "ns_reclaim":
                let r = try c.nsReclaim(ns)
                return .ok(["removed": r.removed, "kept": r.kept])
            default:
                let s = try c.nsState(ns)
                return .ok(["current": s.current, "previous": s.previous, "last": s.last, "stager": UInt64(s.stager),
                            "pins": s.pins.map { ["participant": UInt64($0.participant), "version": $0.version] }])
            }
        } catch let e as NsFailure {
            return .fail(reason: e.code, message: e.message)
        }
    }
}
