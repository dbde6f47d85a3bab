// testdata/abi-cases.json: ABI calls together with the answer every library gave when they were
// recorded (`warmcheck vectors --extend-cases`), checked on every `vectors` run. A run's inputs
// are regenerated from seeds and thrown away; this file keeps a chosen few for good, so an
// answer that changes later is caught even if the generators change too.
//
// File layout (written by this code, key-sorted):
//   {"about": "...", "base_image_hex": "<the fuzz base image>",
//    "cases": [{"function": "get", "values": ["1000099"],
//               "blobs": [{"base_len": "11008", "words": [["9224", "3"]]}, {"hex": "61"}],
//               "expect": ["1", "0", ...]}]}
// A blob is either literal hex or an image: the base image cut (or zero-extended) to `base_len`
// bytes with the listed 8-byte little-endian words (offset, value) written over it, so an image
// case costs its differences from the base, not 11 KB of hex.

import Foundation
@_spi(Harness) import Warmcache

public struct ABICase: Equatable {
    public let call: ABICall
    /// The library answers recorded for it (result word, then out words).
    public let expect: [UInt64]
}

public struct ABICaseFile {
    public var base: [UInt8]?
    public var cases: [ABICase] = []

    public init(base: [UInt8]? = nil, cases: [ABICase] = []) {
        self.base = base
        self.cases = cases
    }

    static let about = "ABI calls (docs/ABI.md) with the answer every reference library gave when recorded by `warmcheck vectors --extend-cases`; `warmcheck vectors` checks that every library still gives it. Integers are decimal strings; an image blob is base_image_hex cut to base_len bytes with the listed (offset, value) little-endian words written over it."

    /// Blobs longer than this are stored as an image patch when a base is known.
    static let literalLimit = 256

    /// A missing file is an empty one (the first --extend-cases creates it).
    public static func load(path: String) throws -> ABICaseFile {
        guard FileManager.default.fileExists(atPath: path) else { return ABICaseFile() }
        guard let data = FileManager.default.contents(atPath: path) else { throw ManifestError("cannot read \(path)") }
        let json: JSON
        do { json = try JSON.parse(data) } catch { throw ManifestError("\(path) is not JSON: \(error)") }
        return try parse(json, path: path)
    }

    static func parse(_ json: JSON, path: String) throws -> ABICaseFile {
        func bad(_ i: Int, _ what: String) -> ManifestError { ManifestError("\(path): cases[\(i)]: \(what)") }
        func num(_ j: JSON?, _ i: Int, _ what: String) throws -> UInt64 {
            guard let s = j?.string, let v = UInt64(s) else { throw bad(i, "\(what) must be a decimal string") }
            return v
        }
        var file = ABICaseFile()
        if let hex = json["base_image_hex"]?.string {
            guard let b = Hex.decode(hex) else { throw ManifestError("\(path): base_image_hex is not hex") }
            file.base = b
        }
        guard let list = json["cases"]?.array else { throw ManifestError("\(path): no \"cases\" array") }
        for (i, c) in list.enumerated() {
            guard let name = c["function"]?.string, ABISpec.functions.contains(where: { $0.name == name }) else {
                throw bad(i, "\"function\" must name an ABI function")
            }
            let values = try (c["values"]?.array ?? []).map { try num($0, i, "a value") }
            var blobs: [[UInt8]] = []
            for b in c["blobs"]?.array ?? [] {
                if let hex = b["hex"]?.string {
                    guard let bytes = Hex.decode(hex) else { throw bad(i, "bad hex blob") }
                    blobs.append(bytes)
                    continue
                }
                guard let base = file.base else { throw bad(i, "an image blob needs base_image_hex") }
                let len = Int(try num(b["base_len"], i, "base_len"))
                guard len <= 1 << 30 else { throw bad(i, "base_len \(len) is too large") }
                var image = Array(base.prefix(len)) + [UInt8](repeating: 0, count: max(0, len - base.count))
                for w in b["words"]?.array ?? [] {
                    guard let pair = w.array, pair.count == 2 else { throw bad(i, "a patch word must be [offset, value]") }
                    let off = Int(try num(pair[0], i, "a patch offset")), v = try num(pair[1], i, "a patch value")
                    guard off >= 0, off % 8 == 0, off < len else { throw bad(i, "patch offset \(off) outside the \(len)-byte image") }
                    for k in 0..<min(8, len - off) { image[off + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
                }
                blobs.append(image)
            }
            let expect = try (c["expect"]?.array ?? []).map { try num($0, i, "an expected word") }
            let call = ABICall(name, values, blobs: blobs)
            guard expect.count == ABISpec.replyWords(call.fn) else {
                throw bad(i, "\(name) answers \(ABISpec.replyWords(call.fn)) words, \"expect\" has \(expect.count)")
            }
            file.cases.append(ABICase(call: call, expect: expect))
        }
        return file
    }

    func blobJSON(_ b: [UInt8]) -> JSON {
        guard let base, b.count > ABICaseFile.literalLimit else { return .object(["hex": .string(Hex.encode(b))]) }
        var words: [JSON] = []
        for off in stride(from: 0, to: b.count, by: 8) {
            let end = min(off + 8, b.count)
            var want: UInt64 = 0, have: UInt64 = 0
            for k in off..<end {
                want |= UInt64(b[k]) << (8 * UInt64(k - off))
                have |= UInt64(k < base.count ? base[k] : 0) << (8 * UInt64(k - off))
            }
            if want != have { words.append(.array([.string(String(off)), .string(String(want))])) }
        }
        return .object(["base_len": .string(String(b.count)), "words": .array(words)])
    }

    public var json: JSON {
        var o: [String: JSON] = ["about": .string(ABICaseFile.about)]
        if let base { o["base_image_hex"] = .string(Hex.encode(base)) }
        o["cases"] = .array(cases.map { c in
            .object(["function": .string(c.call.function.name),
                     "values": .array(c.call.values.map { .string(String($0)) }),
                     "blobs": .array(c.call.blobs.map(blobJSON)),
                     "expect": .array(c.expect.map { .string(String($0)) })])
        })
        return .object(o)
    }

    public func write(path: String) throws {
        try (json.pretty + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Adds, per function, up to `perFunction` of `calls` whose agreed answers (`answers`) are
    /// not yet in the file (as the significant words of ABICall.significant), keeping the
    /// first of each: the edge cases come first in a vectors run, so they are preferred.
    /// Returns how many were added.
    public mutating func extend(calls: [ABICall], answers: [[UInt64]], perFunction: Int, base runBase: [UInt8]) -> Int {
        if base == nil { base = runBase }
        func key(_ c: ABICall, _ a: [UInt64]) -> String { "\(c.fn) \(c.significant(a))" }
        var seen = Set(cases.map { key($0.call, $0.expect) })
        var added: [Int: Int] = [:]
        var n = 0
        for (c, a) in zip(calls, answers) where added[c.fn, default: 0] < perFunction {
            guard seen.insert(key(c, a)).inserted else { continue }
            cases.append(ABICase(call: c, expect: a))
            added[c.fn, default: 0] += 1
            n += 1
        }
        return n
    }
}
