// One call of an ABI function with its inputs, as the vectors runner generates, shrinks, saves
// and replays it.

import Foundation
@_spi(Harness) import Warmcache

public struct ABICall: Sendable, Equatable {
    public let fn: Int
    public var values: [UInt64]
    public var blobs: [[UInt8]]

    public init(_ name: String, _ values: [UInt64], blobs: [[UInt8]] = []) {
        fn = ABISpec.id(name)
        self.values = values
        self.blobs = blobs
    }

    public var function: ABIFunction { ABISpec.functions[fn] }

    /// Words of the reply that every library must agree on: the result, and the out words
    /// where ABI.md defines them (wc_get's fields only on a hit).
    public func significant(_ r: [UInt64]) -> [UInt64] {
        if function.name == "get", let outcome = r.first, outcome != 1 && outcome != 2 { return [outcome] }
        return r
    }

    func encode(into w: inout ByteWriter) {
        w.u32(UInt32(fn)); w.u32(UInt32(values.count)); w.u32(UInt32(blobs.count)); w.u32(0)
        values.forEach { w.u64($0) }
        blobs.forEach { w.blob($0) }
    }

    /// `wch64(len=3, seed=0x...)` style, blobs shown by length and a hex prefix.
    public var shown: String {
        var parts = values.map { "0x" + String($0, radix: 16) }
        for (k, b) in blobs.enumerated() {
            let hex = Hex.encode(Array(b.prefix(24)))
            parts.insert("bytes[\(b.count)]=\(hex)\(b.count > 24 ? "…" : "")", at: k)
        }
        return "\(function.name)(\(parts.joined(separator: ", ")))"
    }

    public var json: JSON {
        .object(["function": .string(function.name), "values": .array(values.map { .string(String($0)) }),
                 "blobs_hex": .array(blobs.map { .string(Hex.encode($0)) })])
    }
}
