import Foundation
@_spi(Harness) import Warmcache

/// Request arguments (docs/DRIVER.md): decoding and checks.
extension Server {
    func parseGeometry(_ args: [String: Any]) throws -> Geometry {
        guard let g = args["geometry"] as? [String: Any] else { throw RequestError.bad("missing object field 'geometry'") }
        func f(_ name: String) throws -> UInt32 {
            let v = try u64(g, name)
            guard v <= UInt64(UInt32.max) else {
                // Out of the 32-bit field: let the geometry rules report it.
                return UInt32.max
            }
            return UInt32(v)
        }
        return Geometry(shardCount: try f("shard_count"), slotsPerShard: try f("slots_per_shard"),
                        keyCapacity: try f("key_capacity"), valueCapacity: try f("value_capacity"),
                        probeWindow: try f("probe_window"), participantCapacity: try f("participant_capacity"))
    }

    /// The `path` argument of create/open/open_or_create (DRIVER.md "Odd input"): not empty. A
    /// NUL byte goes to the library, which must refuse it (`io`, EINVAL) rather than let C cut
    /// the path short and open another file: hello lists `nul_path`, so the harness judges that.
    func pathArg(_ a: [String: Any]) throws -> String {
        let p = try str(a, "path")
        if p.isEmpty { throw RequestError.bad("missing path") }
        return p
    }

    func str(_ a: [String: Any], _ k: String) throws -> String {
        guard let s = a[k] as? String else { throw RequestError.bad("missing string field '\(k)'") }
        return s
    }

    func hex(_ a: [String: Any], _ k: String) throws -> [UInt8] {
        let s = try str(a, k)
        guard let b = Hex.decode(s) else { throw RequestError.bad("field '\(k)' is not a hex string") }
        return b
    }

    func optBool(_ a: [String: Any], _ k: String) throws -> Bool? {
        guard let v = a[k], !(v is NSNull) else { return nil }
        if isBool(v), let n = v as? NSNumber { return n.boolValue }
        throw RequestError.bad("field '\(k)' must be a boolean")
    }

    func u64(_ a: [String: Any], _ k: String) throws -> UInt64 {
        guard let v = try optU64(a, k) else { throw RequestError.bad("missing integer field '\(k)'") }
        return v
    }

    /// A non-negative integer given as a JSON number or a decimal string.
    func optU64(_ a: [String: Any], _ k: String) throws -> UInt64? {
        guard let v = a[k], !(v is NSNull) else { return nil }
        if let s = v as? String {
            guard let n = UInt64(s) else { throw RequestError.bad("field '\(k)' is not a decimal integer") }
            return n
        }
        if isBool(v) { throw RequestError.bad("field '\(k)' must be an integer") }
        if let n = v as? NSNumber {
            // Integers keep their exact digits in stringValue (beyond 2^53 too).
            if let u = UInt64(n.stringValue) { return u }
            let d = n.doubleValue
            if d < 0 || d.rounded() != d || d >= 18446744073709551616.0 {
                throw RequestError.bad("field '\(k)' must be a non-negative integer")
            }
            return UInt64(d)
        }
        throw RequestError.bad("field '\(k)' must be an integer")
    }

    func isBool(_ v: Any) -> Bool {
        // JSON booleans come back as NSNumber with objCType "c" (and `1 is Bool` is true, so
        // a plain cast cannot tell them apart).
        if let n = v as? NSNumber { return String(cString: n.objCType) == "c" }
        return false
    }
}
