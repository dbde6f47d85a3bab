import Foundation
import Warmcache

/// A JSON value. The driver contract (docs/DRIVER.md) is open-ended — fixtures may add fields —
/// so responses are kept as values and read by key, rather than decoded into rigid structs.
///
/// Integers are exact from −2^63 to 2^64 − 1 (DRIVER.md "Numbers"): `.int` holds every one that
/// fits an Int64 and `.uint` only those above Int64.max, so each integer has one spelling and
/// `==` compares numbers. `JSON(unsigned:)` picks the case; the parser refuses an integer
/// outside that range instead of rounding it to a Double.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// 2^63 … 2^64 − 1 only (smaller values are `.int`).
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// An unsigned 64-bit value in its one spelling: `.int` up to Int64.max, `.uint` above.
    public init(unsigned v: UInt64) {
        self = v <= UInt64(Int64.max) ? .int(Int64(v)) : .uint(v)
    }

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var int: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let d) where d == d.rounded() && abs(d) < 9.0e18: return Int64(d)
        // Hashes and checksums travel as decimal strings (DRIVER.md: values past 2^53).
        case .string(let s): return Int64(s) ?? UInt64(s).map { Int64(bitPattern: $0) }
        default: return nil
        }
    }
    /// A non-negative integer: a negative one is no unsigned value (not its bit pattern).
    public var uint: UInt64? {
        switch self {
        case .int(let v): return v >= 0 ? UInt64(v) : nil
        case .uint(let v): return v
        case .string(let s): return UInt64(s)
        default: return int.flatMap { $0 >= 0 ? UInt64($0) : nil }
        }
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSON]? { if case .object(let o) = self { return o }; return nil }

    // MARK: parsing and printing

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws -> JSON {
        try parse(Array(text.utf8))
    }

    public static func parse(_ data: Data) throws -> JSON {
        try parse([UInt8](data))
    }

    /// A strict RFC 8259 parser. Fixtures are untrusted programs: a line of garbage must give a
    /// precise error, never a crash, so this does not lean on Foundation's bridging.
    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.pos == bytes.count else { throw p.error("trailing characters") }
        return v
    }

    /// Compact, key-sorted serialization: stable output for reports and golden files.
    public var serialized: String {
        var out = ""
        write(to: &out, pretty: false, indent: 0)
        return out
    }

    public var pretty: String {
        var out = ""
        write(to: &out, pretty: true, indent: 0)
        return out
    }

    private func write(to out: inout String, pretty: Bool, indent: Int) {
        let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
        let close = pretty ? String(repeating: "  ", count: indent) : ""
        let nl = pretty ? "\n" : ""
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .double(let d): out += d.isFinite ? String(d) : "null"
        case .string(let s): JSON.escape(s, into: &out)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "[" + nl
            for (i, v) in a.enumerated() {
                out += pad
                v.write(to: &out, pretty: pretty, indent: indent + 1)
                if i < a.count - 1 { out += "," }
                out += nl
            }
            out += close + "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{" + nl
            let keys = o.keys.sorted()
            for (i, k) in keys.enumerated() {
                out += pad
                JSON.escape(k, into: &out)
                out += pretty ? ": " : ":"
                o[k]!.write(to: &out, pretty: pretty, indent: indent + 1)
                if i < keys.count - 1 { out += "," }
                out += nl
            }
            out += close + "}"
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
            case _ where u.value < 0x20:
                out += "\\u" + String(format: "%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, b in b }))
    }
}

/// Bytes as the driver carries them (lowercase hex, DRIVER.md): one implementation, in the
/// Warmcache library, shared with the Swift fixture.
public typealias Hex = Warmcache.Hex
