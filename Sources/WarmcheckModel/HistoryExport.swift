// Export of a history in porcupine's Operation JSON shape, so a failing history can be fed to
// porcupine (or its visualizer) and compared: [{"client_id", "input", "call", "output",
// "return"}, ...]. No JSON library: a tiny value type renders itself.
//
// Unknown outcomes get "return": 9223372036854775807 (Int64.max, porcupine's int64) and
// output {"type":"unknown"}.

/// A minimal JSON value.
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case array([JSONValue])
    /// Ordered keys, so output is stable.
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered == b.rendered }
    public func hash(into h: inout Hasher) { h.combine(rendered) }

    public var rendered: String {
        var out = ""
        render(into: &out)
        return out
    }

    public func render(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .string(let s): JSONValue.escape(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.render(into: &out)
            }
            out += "]"
        case .object(let kv):
            out += "{"
            for (i, (k, v)) in kv.enumerated() {
                if i > 0 { out += "," }
                JSONValue.escape(k, into: &out)
                out += ":"
                v.render(into: &out)
            }
            out += "}"
        }
    }

    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

func hexString(_ b: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".unicodeScalars)
    var s = String.UnicodeScalarView()
    for x in b { s.append(digits[Int(x >> 4)]); s.append(digits[Int(x & 15)]) }
    return String(s)
}

public enum HistoryExport {
    /// The input as DRIVER.md spells a request's args, plus "op".
    public static func json(_ input: CacheInput) -> JSONValue {
        var kv: [(String, JSONValue)] = [("op", .string(input.opName)), ("key_hex", .string(hexString(input.key)))]
        switch input {
        case .put(_, let v, let e, let ttl), .refresh(_, let v, let e, let ttl):
            kv.append(("value_hex", .string(hexString(v))))
            if let e = e { kv.append(("version", .uint(e))) }
            if let t = ttl, t > 0 { kv.append(("ttl_ns", .uint(t))) }
        default: break
        }
        return .object(kv)
    }

    public static func json(_ output: CacheOutput) -> JSONValue {
        switch output {
        case .miss: return .object([("type", .string("miss"))])
        case .hit(let v, let ver, let stale):
            return .object([("type", .string("hit")), ("value_hex", .string(hexString(v))),
                            ("version", .uint(ver)), ("stale", .bool(stale))])
        case .ok(let ver): return .object([("type", .string("ok")), ("version", .uint(ver))])
        case .removed(let r): return .object([("type", .string("ok")), ("removed", .bool(r))])
        case .fail(let r): return .object([("type", .string("fail")), ("reason", .string(r.rawValue))])
        case .unknown: return .object([("type", .string("unknown"))])
        }
    }

    /// One operation in porcupine's shape.
    public static func json(_ op: CacheOperation) -> JSONValue {
        let ret: UInt64 = op.return == UInt64.max ? UInt64(Int64.max) : op.return
        return .object([("client_id", .int(Int64(op.clientId))), ("input", json(op.input)),
                        ("call", .uint(op.call)), ("output", json(op.output)), ("return", .uint(ret))])
    }

    public static func json(_ ops: [CacheOperation]) -> JSONValue { .array(ops.map(json)) }

    /// The whole history as a JSON array string, one operation per line for diffing.
    public static func porcupineJSON(_ ops: [CacheOperation]) -> String {
        var out = "[\n"
        for (i, op) in ops.enumerated() {
            json(op).render(into: &out)
            out += i + 1 < ops.count ? ",\n" : "\n"
        }
        return out + "]\n"
    }
}
