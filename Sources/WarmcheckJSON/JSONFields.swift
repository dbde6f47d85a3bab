import Foundation

/// Reading a file of a fixed shape (a report, a vocabulary, a history line) out of a `JSON`
/// value, one field at a time, so that every refusal says what and where: the path of the field
/// from the document's root (`rows[3].firstHit.p50`), what was expected and what was there.
/// Integers go through `JSON.int` / `JSON.uint`, so a u64 above 2^53 is read exactly and a
/// negative or fractional one is refused, never rounded or wrapped.
public struct JSONFieldError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A value and where it sits in its document.
public struct JSONField: Sendable {
    public let value: JSON
    /// `$` for the root, then `.key` and `[i]` steps.
    public let path: String

    public init(_ value: JSON, path: String = "$") {
        self.value = value
        self.path = path
    }

    /// Parses `data` and names `source` (a file name) in every error.
    public static func parse(_ data: Data, source: String) throws -> JSONField {
        do { return JSONField(try JSON.parse(data)) } catch { throw JSONFieldError("\(source): \(error)") }
    }

    func fail(_ expected: String) -> JSONFieldError {
        let shown = String(value.serialized.prefix(40))
        return JSONFieldError("\(path): expected \(expected), found \(shown)")
    }

    /// The member `key`; missing (or not an object here) is an error naming the field.
    public func field(_ key: String) throws -> JSONField {
        guard value.object != nil else { throw fail("an object") }
        guard let v = value[key] else { throw JSONFieldError("\(path): missing field \"\(key)\"") }
        return JSONField(v, path: path + "." + key)
    }

    /// The member `key`, nil when it is absent or null.
    public func optional(_ key: String) throws -> JSONField? {
        guard value.object != nil else { throw fail("an object") }
        guard let v = value[key], v != .null else { return nil }
        return JSONField(v, path: path + "." + key)
    }

    public var string: String { get throws { guard let s = value.string else { throw fail("a string") }; return s } }
    public var bool: Bool { get throws { guard let b = value.bool else { throw fail("true or false") }; return b } }

    /// An integer as JSON writes it (no string, no fraction).
    public var int: Int {
        get throws {
            switch value {
            case .int(let i) where i >= Int64(Int.min) && i <= Int64(Int.max): return Int(i)
            default: throw fail("an integer")
            }
        }
    }

    /// 0 … 2^64 − 1, exact: a number, or a decimal string (DRIVER.md "Numbers").
    public var uint64: UInt64 {
        get throws {
            switch value {
            case .int(let i) where i >= 0: return UInt64(i)
            case .uint(let u): return u
            case .string(let s): if let u = UInt64(s) { return u }
            default: break
            }
            throw fail("an integer in 0 … 2^64 − 1")
        }
    }

    public var int64: Int64 { get throws { guard case .int(let i) = value else { throw fail("an integer in −2^63 … 2^63 − 1") }; return i } }

    /// Any number (an integer is converted).
    public var double: Double {
        get throws {
            switch value {
            case .double(let d): return d
            case .int(let i): return Double(i)
            case .uint(let u): return Double(u)
            default: throw fail("a number")
            }
        }
    }

    public var array: [JSONField] {
        get throws {
            guard let a = value.array else { throw fail("an array") }
            return a.enumerated().map { JSONField($1, path: "\(path)[\($0)]") }
        }
    }

    /// An object's members, keys sorted (stable errors and output).
    public var members: [(String, JSONField)] {
        get throws {
            guard let o = value.object else { throw fail("an object") }
            return o.keys.sorted().map { ($0, JSONField(o[$0]!, path: path + "." + $0)) }
        }
    }
}

extension JSON {
    /// An object without its nil members: reports leave out a field that does not apply rather
    /// than writing null (the shape Codable gave them before, which docs/OBSERVING.md describes).
    public static func omittingNil(_ members: [String: JSON?]) -> JSON {
        .object(members.compactMapValues { $0 })
    }
}
