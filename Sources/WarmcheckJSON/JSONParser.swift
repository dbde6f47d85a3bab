/// Recursive-descent JSON parser behind `JSON.parse` (one concern: bytes → value).
///
/// Strict RFC 8259: numbers as the grammar has them (no `01`, `+1`, `.5`, `1.`, and none that
/// overflows a Double: `1e400` is an error, not infinity), strings of valid UTF-8 without raw
/// control characters, `\u` escapes whose surrogates pair up, nothing after the value. It is
/// fuzzed (JSONFuzzTests) and fast where the harness needs it: every step of a controlled race
/// parses a response (docs/BENCHMARKS.md).
struct JSONParser {
    let bytes: [UInt8]
    var pos = 0
    /// The key of the object member being read, to name it when its value is refused.
    var key: String?
    static let maxDepth = 256

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ what: String) -> JSON.ParseError {
        JSON.ParseError(description: "invalid JSON at byte \(pos): \(what)")
    }

    mutating func skipSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSON {
        guard depth < JSONParser.maxDepth else { throw error("nested too deeply") }
        guard pos < bytes.count else { throw error("unexpected end") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count, word.withUTF8Buffer({ $0.elementsEqual(bytes[pos..<pos + n]) }) else {
            throw error("expected \(word)")
        }
        pos += n
    }

    mutating func object(depth: Int) throws -> JSON {
        pos += 1
        // Pairs first, then one dictionary of the right size: growing it key by key rehashed
        // every key several times, the largest cost of parsing a driver response.
        var pairs: [(String, JSON)] = []
        pairs.reserveCapacity(8)
        func built() -> JSON { .object(Dictionary(pairs, uniquingKeysWith: { _, later in later })) }
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object([:]) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let k = try string()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
            pos += 1
            skipSpace()
            key = k
            pairs.append((k, try value(depth: depth + 1)))
            skipSpace()
            guard pos < bytes.count else { throw error("unterminated object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return built() }
            throw error("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws -> JSON {
        pos += 1
        var out: [JSON] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(out) }
        while true {
            skipSpace()
            out.append(try value(depth: depth + 1))
            skipSpace()
            guard pos < bytes.count else { throw error("unterminated array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(out) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw error("bad \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func string() throws -> String {
        pos += 1
        // Fast path: most strings (keys, hex, names) have no escapes; decode them in one go.
        // Every step of a controlled race parses a line, so this matters (docs/BENCHMARKS.md).
        let start = pos
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                return try utf8(bytes[start..<pos - 1], at: start)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            pos += 1
        }
        var out = Array(bytes[start..<pos])
        while true {
            guard pos < bytes.count else { throw error("unterminated string") }
            let c = bytes[pos]
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                return try utf8(out[...], at: start)
            case UInt8(ascii: "\\"):
                guard pos < bytes.count else { throw error("unterminated escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    let scalar = try escapedScalar()
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw error("bad escape")
                }
            case 0..<0x20:
                throw error("control character in string")
            default:
                out.append(c)
            }
        }
    }

    /// The scalar of a `\u` escape (the `\u` already read), a surrogate pair taken whole.
    mutating func escapedScalar() throws -> Unicode.Scalar {
        let first = try hex4()
        switch first {
        case 0xDC00..<0xE000:
            throw error("lone low surrogate \\u\(String(first, radix: 16))")
        case 0xD800..<0xDC00:
            guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw error("high surrogate \\u\(String(first, radix: 16)) not followed by a \\u low surrogate")
            }
            pos += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else {
                throw error("high surrogate \\u\(String(first, radix: 16)) followed by \\u\(String(low, radix: 16)), not a low surrogate")
            }
            // Both in range: the sum is a valid scalar in 0x10000...0x10FFFF.
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))!
        default:
            return Unicode.Scalar(first)!
        }
    }

    /// Bytes of a string body as text; invalid UTF-8 is an error, never replaced silently.
    func utf8(_ body: ArraySlice<UInt8>, at start: Int) throws -> String {
        // ASCII is valid UTF-8: skip the validator for the common case (keys, hex, names).
        if body.allSatisfy({ $0 < 0x80 }) { return String(decoding: body, as: UTF8.self) }
        guard let s = String(validating: body, as: UTF8.self) else {
            throw JSON.ParseError(description: "invalid JSON at byte \(start): string is not valid UTF-8")
        }
        return s
    }

    @inline(__always) func digit(at i: Int) -> Bool { i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, nothing else.
    mutating func number() throws -> JSON {
        let start = pos
        let negative = pos < bytes.count && bytes[pos] == UInt8(ascii: "-")
        if negative { pos += 1 }
        guard digit(at: pos) else {
            if negative { throw error("expected a digit after '-'") }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: ".") {
                throw error("a number starts with '-' or a digit, not '\(Character(Unicode.Scalar(bytes[pos])))'")
            }
            throw error("unexpected character")
        }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if digit(at: pos) { throw error("leading zero in a number") }
        } else {
            while digit(at: pos) { pos += 1 }
        }
        let intEnd = pos
        var isInt = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isInt = false
            pos += 1
            guard digit(at: pos) else { throw error("expected a digit after '.'") }
            while digit(at: pos) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isInt = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digit(at: pos) else { throw error("expected a digit in the exponent") }
            while digit(at: pos) { pos += 1 }
        }
        let digitsStart = negative ? start + 1 : start
        if isInt, intEnd - digitsStart <= 18 {
            // Up to 18 digits cannot overflow Int64: no String on the common path.
            var v: Int64 = 0
            for c in bytes[digitsStart..<intEnd] { v = v * 10 + Int64(c - 48) }
            return .int(negative ? -v : v)
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if isInt, let i = Int64(text) { return .int(i) }
        if isInt, !negative, let u = UInt64(text) { return .uint(u) }
        if isInt {
            // Rounding it to a Double would change it silently; a value this large travels as a
            // decimal string (DRIVER.md "Numbers").
            throw error("integer \(text.prefix(40))\(key.map { " in field \"\($0)\"" } ?? "") is outside −2^63 … 2^64 − 1 "
                + "(DRIVER.md: integers are exact up to 2^64 − 1; larger ones travel as strings)")
        }
        guard let d = Double(text), d.isFinite else { throw error("number \(text.prefix(40))\(key.map { " in field \"\($0)\"" } ?? "") is out of range") }
        return .double(d)
    }
}
