import Foundation

/// The harness's one JSON value (issue 11: one stack, so one integer has one spelling in every
/// file the harness reads or writes). The driver contract (docs/DRIVER.md) is open-ended —
/// fixtures may add fields — so responses are kept as values and read by key, rather than
/// decoded into rigid structs; files of a fixed shape are read with the throwing field readers
/// of JSONFields.swift, whose errors name the field.
///
/// Integers are exact from −2^63 to 2^64 − 1 (DRIVER.md "Numbers"): `.int` holds every one that
/// fits an Int64 and `.uint` only those above Int64.max, so each integer has one spelling and
/// `==` compares numbers. `JSON(unsigned:)` picks the case; the parser refuses an integer
/// outside that range instead of rounding it to a Double.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// 2^63 … 2^64 − 1 only (smaller values are `.int`).
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
    /// An object written with its members in this order (history files and step logs read best
    /// in the order docs/HISTORY.md shows). The parser never makes one; it reads like `.object`
    /// and `==` ignores the order.
    case ordered([(String, JSON)])

    /// An unsigned 64-bit value in its one spelling: `.int` up to Int64.max, `.uint` above.
    public init(unsigned v: UInt64) {
        self = v <= UInt64(Int64.max) ? .int(Int64(v)) : .uint(v)
    }

    public subscript(key: String) -> JSON? {
        switch self {
        case .object(let o): return o[key]
        case .ordered(let kv): return kv.last { $0.0 == key }?.1
        default: return nil
        }
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
    public var object: [String: JSON]? {
        switch self {
        case .object(let o): return o
        case .ordered(let kv): return Dictionary(kv, uniquingKeysWith: { _, later in later })
        default: return nil
        }
    }

    // MARK: parsing and printing

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
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
            JSON.writeMembers(o.keys.sorted().map { ($0, o[$0]!) }, to: &out, pretty: pretty, indent: indent)
        case .ordered(let kv):
            JSON.writeMembers(kv, to: &out, pretty: pretty, indent: indent)
        }
    }

    private static func writeMembers(_ kv: [(String, JSON)], to out: inout String, pretty: Bool, indent: Int) {
        if kv.isEmpty { out += "{}"; return }
        let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
        let nl = pretty ? "\n" : ""
        out += "{" + nl
        for (i, (k, v)) in kv.enumerated() {
            out += pad
            escape(k, into: &out)
            out += pretty ? ": " : ":"
            v.write(to: &out, pretty: pretty, indent: indent + 1)
            if i < kv.count - 1 { out += "," }
            out += nl
        }
        out += (pretty ? String(repeating: "  ", count: indent) : "") + "}"
    }

    /// Appends the compact form to `out` (a long file built line by line, without a copy per line).
    public func serialize(into out: inout String) {
        write(to: &out, pretty: false, indent: 0)
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
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
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

extension JSON: Equatable {
    /// Structural equality; an `.ordered` object equals the `.object` with the same members.
    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.uint(let x), .uint(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object, .object), (.object, .ordered), (.ordered, .object), (.ordered, .ordered):
            return a.object! == b.object!
        default: return false
        }
    }
}
