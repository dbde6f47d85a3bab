import Foundation

/// The gate's cells and how they are shown: a writer × reader table, JSON, JUnit XML.
public struct CompatReport: Sendable {
    public struct Cell: Sendable {
        public enum Kind: String, Sendable { case matrix, crafted }
        public var kind: Kind
        public var writer: String
        /// `go@1.0+sim_clock`: what the written header says (crafted: the case name).
        public var writerDescription: String
        public var reader: String
        /// `rust@1.0`: what the reader's hello says.
        public var readerDescription: String
        public var expected: String
        /// The manifest line that named the outcome.
        public var expectedAt: String
        public var got: String
        public var problems: [String]
        public var seconds: Double
        public var pass: Bool { problems.isEmpty }
    }

    public var writers: [String]
    public var readers: [String]
    public var cells: [Cell]

    public var passCount: Int { cells.filter(\.pass).count }
    public var allPass: Bool { passCount == cells.count }

    public func table() -> String {
        let matrix = cells.filter { $0.kind == .matrix }
        let descs = Dictionary(matrix.map { ($0.writer, $0.writerDescription) }, uniquingKeysWith: { a, _ in a })
        let rdescs = Dictionary(cells.map { ($0.reader, $0.readerDescription) }, uniquingKeysWith: { a, _ in a })
        let left = max(24, writers.map { $0.count + (descs[$0]?.count ?? 0) + 3 }.max() ?? 0)
        // What was required, and whether it happened: `read`, `refuse:CODE`, or FAIL.
        func shown(_ c: Cell) -> String { c.pass ? c.expected.replacingOccurrences(of: "refuse ", with: "refuse:") : "FAIL" }
        let widths: [Int] = readers.map { $0.count + 1 } + readers.map { (rdescs[$0]?.count ?? 0) + 3 } + matrix.map { shown($0).count + 1 }
        let col = widths.max() ?? 8
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var out = pad("writer \\ reader", left) + readers.map { pad($0, col) }.joined() + "\n"
        out += pad("", left) + readers.map { pad("(\(rdescs[$0] ?? "?"))", col) }.joined() + "\n"
        for w in writers {
            out += pad("\(w) (\(descs[w] ?? "?"))", left)
            for r in readers {
                guard let c = matrix.first(where: { $0.writer == w && $0.reader == r }) else { out += pad("-", col); continue }
                out += pad(shown(c), col)
            }
            out += "\n"
        }
        let crafted = cells.filter { $0.kind == .crafted }
        if !crafted.isEmpty {
            out += "\n" + pad("crafted refusal files (RefusalCatalog)", left)
            for r in readers {
                let mine = crafted.filter { $0.reader == r }
                out += pad("\(mine.filter(\.pass).count)/\(mine.count)", col)
            }
            out += "\n"
        }
        for c in cells where !c.pass {
            out += "\n\(c.writer) (\(c.writerDescription)) → \(c.reader) (\(c.readerDescription)): expected \(c.expected) [\(c.expectedAt)], got \(c.got)\n"
            for p in c.problems.prefix(10) { out += "  - \(p)\n" }
            if c.problems.count > 10 { out += "  … \(c.problems.count - 10) more\n" }
        }
        return out
    }

    public func json() -> JSON {
        .object([
            "writers": .array(writers.map { .string($0) }),
            "readers": .array(readers.map { .string($0) }),
            "cells": .array(cells.map { c in
                .object([
                    "kind": .string(c.kind.rawValue), "writer": .string(c.writer), "writer_description": .string(c.writerDescription),
                    "reader": .string(c.reader), "reader_description": .string(c.readerDescription),
                    "expected": .string(c.expected), "expected_at": .string(c.expectedAt), "got": .string(c.got),
                    "pass": .bool(c.pass), "seconds": .double(c.seconds), "problems": .array(c.problems.map { .string($0) }),
                ])
            }),
            "pass_count": .int(Int64(passCount)), "cell_count": .int(Int64(cells.count)),
        ])
    }

    /// One <testsuite> per kind, one <testcase> per cell (`writer → reader`).
    public func junit() -> String {
        let esc = JUnitReport.esc
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"warmcheck compat\" tests=\"\(cells.count)\" failures=\"\(cells.count - passCount)\">\n"
        for kind in [Cell.Kind.matrix, .crafted] {
            let cs = cells.filter { $0.kind == kind }
            if cs.isEmpty { continue }
            x += "  <testsuite name=\"compat.\(kind.rawValue)\" tests=\"\(cs.count)\" failures=\"\(cs.filter { !$0.pass }.count)\">\n"
            for c in cs {
                x += "    <testcase classname=\"compat.\(kind.rawValue)\" name=\"\(esc("\(c.writer) → \(c.reader)"))\" time=\"\(String(format: "%.3f", c.seconds))\">\n"
                if !c.pass {
                    x += "      <failure message=\"\(esc("expected \(c.expected), got \(c.got)"))\">\(esc(c.problems.joined(separator: "\n")))</failure>\n"
                }
                x += "    </testcase>\n"
            }
            x += "  </testsuite>\n"
        }
        return x + "</testsuites>\n"
    }
}
