import WarmcheckJSON

// Export of a history in porcupine's Operation JSON shape, so a failing history can be fed to
// porcupine (or its visualizer) and compared: [{"client_id", "input", "call", "output",
// "return"}, ...], written with the harness's one JSON value (WarmcheckJSON), members in
// porcupine's order.
//
// Unknown outcomes get "return": 9223372036854775807 (Int64.max, porcupine's int64) and
// output {"type":"unknown"}.

func hexString(_ b: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".unicodeScalars)
    var s = String.UnicodeScalarView()
    for x in b { s.append(digits[Int(x >> 4)]); s.append(digits[Int(x & 15)]) }
    return String(s)
}

public enum HistoryExport {
    /// The input as DRIVER.md spells a request's args, plus "op".
    public static func json(_ input: CacheInput) -> JSON {
        var kv: [(String, JSON)] = [("op", .string(input.opName)), ("key_hex", .string(hexString(input.key)))]
        switch input {
        case .put(_, let v, let e, let ttl), .refresh(_, let v, let e, let ttl):
            kv.append(("value_hex", .string(hexString(v))))
            if let e = e { kv.append(("version", JSON(unsigned: e))) }
            if let t = ttl, t > 0 { kv.append(("ttl_ns", JSON(unsigned: t))) }
        default: break
        }
        return .ordered(kv)
    }

    public static func json(_ output: CacheOutput) -> JSON {
        switch output {
        case .miss: return .ordered([("type", .string("miss"))])
        case .hit(let v, let ver, let stale):
            return .ordered([("type", .string("hit")), ("value_hex", .string(hexString(v))),
                            ("version", JSON(unsigned: ver)), ("stale", .bool(stale))])
        case .ok(let ver): return .ordered([("type", .string("ok")), ("version", JSON(unsigned: ver))])
        case .removed(let r): return .ordered([("type", .string("ok")), ("removed", .bool(r))])
        case .fail(let r): return .ordered([("type", .string("fail")), ("reason", .string(r.rawValue))])
        case .unknown: return .ordered([("type", .string("unknown"))])
        }
    }

    /// One operation in porcupine's shape.
    public static func json(_ op: CacheOperation) -> JSON {
        let ret: UInt64 = op.return == UInt64.max ? UInt64(Int64.max) : op.return
        return .ordered([("client_id", .int(Int64(op.clientId))), ("input", json(op.input)),
                        ("call", JSON(unsigned: op.call)), ("output", json(op.output)), ("return", JSON(unsigned: ret))])
    }

    public static func json(_ ops: [CacheOperation]) -> JSON { .array(ops.map(json)) }

    /// The whole history as a JSON array string, one operation per line for diffing.
    public static func porcupineJSON(_ ops: [CacheOperation]) -> String {
        var out = "[\n"
        for (i, op) in ops.enumerated() {
            json(op).serialize(into: &out)
            out += i + 1 < ops.count ? ",\n" : "\n"
        }
        return out + "]\n"
    }
}
