import Foundation
import XCTest

@testable import WarmcheckCore

/// The driver's JSON parser against a million (by default a hundred thousand) malformed and
/// well-formed inputs: it must never crash, and whatever it accepts must print back to itself.
///
/// Full run: `WARMCHECK_FUZZ=1000000 swift test --filter JSONFuzzTests` (figures in
/// docs/BENCHMARKS.md). The count of a debug run is kept small enough for scripts/test.sh.
final class JSONFuzzTests: XCTestCase {
    var count: Int { ProcessInfo.processInfo.environment["WARMCHECK_FUZZ"].flatMap(Int.init) ?? 100_000 }

    /// Response lines of the kind fixtures print, with every construct the grammar has.
    static let seeds: [String] = [
        #"{"id":1,"outcome":"ok","result":{"hit":true,"value_hex":"00ff","version":"18446744073709551615"},"transitions":[]}"#,
        #"{"id":22,"paused":"put.after_claim"}"#,
        #"{"id":3,"error":{"kind":"bad_request","message":"key \"x\"\n\u00e9\ud83d\ude00"}}"#,
        #"[0,-0,1.5e-3,-2E+10,true,false,null,"",{},[],[[[]]],{"a":{"b":{"c":[1,2,3]}}}]"#,
        #"{"n":123456789012345678,"m":1234567890123456789,"d":0.000001,"s":"tab\there \\ / \/ \b\f\r"}"#,
        "  \t\r\n{ \"a\" : [ 1 , 2 ] }  ",
    ]

    /// Bytes that matter to the grammar, so that mutations hit its edges often.
    static let interesting: [UInt8] = Array("{}[]\",:\\u0123456789abcdefABCDEF.eE+-tfn ".utf8) + [0, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF, 0x0A]

    func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0...rng.below(4) {
            let pos = b.isEmpty ? 0 : rng.below(b.count)
            switch rng.below(7) {
            case 0 where !b.isEmpty: b[pos] = Self.interesting[rng.below(Self.interesting.count)]
            case 1: b.insert(Self.interesting[rng.below(Self.interesting.count)], at: min(pos, b.count))
            case 2 where !b.isEmpty: b.remove(at: pos)
            case 3: b = Array(b.prefix(pos))
            case 4 where !b.isEmpty: b[pos] = UInt8(truncatingIfNeeded: rng.next())
            case 5:
                // A surrogate escape, paired or not: where the trap was.
                let esc = ["\\ud83d", "\\ude00", "\\ud83d\\u0041", "\\udbff\\udfff", "\\u0000"][rng.below(5)]
                b.insert(contentsOf: Array(esc.utf8), at: min(pos, b.count))
            default:
                let num = ["01", "+1", ".5", "1.", "1e400", "-0", "9223372036854775808", "1e-400", "-", "0e", "18446744073709551615",
                           "18446744073709551616", "-9223372036854775809"][rng.below(13)]
                b.insert(contentsOf: Array(num.utf8), at: min(pos, b.count))
            }
        }
        return b
    }

    /// A random well-formed value (printed by the harness's own serializer).
    func value(_ rng: inout SplitMix64, depth: Int = 0) -> JSON {
        switch rng.below(depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(rng.below(2) == 0)
        case 2: return rng.below(2) == 0 ? .int(Int64(bitPattern: rng.next()) >> rng.below(64)) : JSON(unsigned: rng.next() >> rng.below(64))
        case 3: return .double(Double(Int64(bitPattern: rng.next()) >> 20) / 1024)
        case 4:
            let scalars = (0..<rng.below(6)).compactMap { _ in Unicode.Scalar(UInt32(rng.below(0x11000)) * (rng.below(3) == 0 ? 16 : 1) % 0x110000) }
            return .string(String(String.UnicodeScalarView(scalars)))
        case 5: return .array((0..<rng.below(4)).map { _ in value(&rng, depth: depth + 1) })
        default:
            return .object(Dictionary((0..<rng.below(4)).map { i in ("k\(i)\(rng.below(9))", value(&rng, depth: depth + 1)) },
                                      uniquingKeysWith: { a, _ in a }))
        }
    }

    func testMutatedInputsNeverCrashAndAcceptedOnesRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let seeds = Self.seeds.map { Array($0.utf8) }
        var accepted = 0, rejected = 0
        let start = Date()
        for i in 0..<count {
            let input: [UInt8]
            if i % 4 == 3 {
                input = Array(value(&rng).serialized.utf8)
            } else {
                input = mutate(seeds[rng.below(seeds.count)], &rng)
            }
            do {
                let v = try JSON.parse(input)
                accepted += 1
                // What was accepted prints back to an equal value.
                let again = try JSON.parse(v.serialized)
                if again != v { XCTFail("round trip changed \(String(decoding: input, as: UTF8.self)): \(v) → \(again)"); return }
            } catch is JSON.ParseError {
                rejected += 1
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "JSON fuzz: %d inputs (%d accepted, %d rejected), 0 crashes, %.1f s (%.1f µs per input)",
                     count, accepted, rejected, seconds, seconds * 1e6 / Double(count)))
        XCTAssertGreaterThan(accepted, count / 5, "the corpus must reach the accepting paths too")
        XCTAssertGreaterThan(rejected, count / 5, "the mutations must reach the error paths")
    }
}
