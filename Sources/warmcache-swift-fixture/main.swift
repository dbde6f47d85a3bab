// warmcache-swift-fixture — the Swift implementation behind docs/DRIVER.md.
//
//   warmcache-swift-fixture serve [--trace] [--timeout-ms N] [--protocol 1.0|1.1] [--fault NAME]...
//   warmcache-swift-fixture echo
//
// serve: JSON lines on stdin/stdout, one response per request, in order; diagnostics on stderr.
// echo: copy stdin lines to stdout unparsed, flushing each (the bare pipe round trip that
// `warmcheck bench` measures the driver against, in the same kind of process).

import Foundation
@_spi(Harness) import Warmcache

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    exit(2)
}

let usage = "usage: warmcache-swift-fixture serve [--trace] [--timeout-ms N] [--protocol 1.0|1.1] [--fault NAME]... | warmcache-swift-fixture echo"

var args = CommandLine.arguments.dropFirst()
if args.count == 1 && args.first == "echo" {
    while var line = readLine(strippingNewline: false) {
        // One write(2) per line: nothing stays buffered.
        line.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = write(1, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { exit(0) }
                off += n
            }
        }
    }
    exit(0)
}
guard args.first == "serve" else { fail(usage) }

var trace = false
var openTimeoutMs: UInt64 = 2000
var faults: Faults = []
var protocolVersion = ProtocolVersion.current
args = args.dropFirst()
while let a = args.first {
    args = args.dropFirst()
    switch a {
    case "--trace": trace = true
    case "--timeout-ms":
        guard let v = args.first, let n = UInt64(v) else { fail("--timeout-ms needs a number") }
        openTimeoutMs = n
        args = args.dropFirst()
    case "--protocol":
        guard let v = args.first, let p = ProtocolVersion(rawValue: v) else { fail("--protocol needs 1.0 or 1.1") }
        protocolVersion = p
        args = args.dropFirst()
    case "--fault":
        guard let name = args.first else { fail("--fault needs a name (known: \(Faults.allNames.joined(separator: ", ")))") }
        guard let f = Faults(name: name) else {
            fail("warmcache-swift-fixture: unknown fault \"\(name)\" (known: \(Faults.allNames.joined(separator: ", ")))")
        }
        faults.insert(f)
        args = args.dropFirst()
    default:
        fail("unknown option \(a)\n\(usage)")
    }
}
if !faults.isEmpty {
    FileHandle.standardError.write("warmcache-swift-fixture: faults switched on: \(faults)\n".data(using: .utf8)!)
}

let server = Server(trace: trace, openTimeoutNs: openTimeoutMs &* 1_000_000, faults: faults, protocolVersion: protocolVersion)
// Every line gets one answer, a blank one too (DRIVER.md "Odd input").
while let input = nextInputLine() {
    switch input {
    case .text(let line): writeLine(server.handle(line: line))
    case .notUTF8: writeLine(notUTF8Answer)
    }
}
server.shutdown()
exit(0)
