// warmcache-swift-fixture — the Swift implementation behind docs/DRIVER.md.
//
//   warmcache-swift-fixture serve [--trace] [--timeout-ms N]
//
// JSON lines on stdin/stdout, one response per request, in order; diagnostics on stderr.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

var trace = false
var openTimeoutMs: UInt64 = 2000
var args = CommandLine.arguments.dropFirst()
guard args.first == "serve" else {
    FileHandle.standardError.write("usage: warmcache-swift-fixture serve [--trace] [--timeout-ms N]\n".data(using: .utf8)!)
    exit(2)
}
args = args.dropFirst()
while let a = args.first {
    args = args.dropFirst()
    switch a {
    case "--trace": trace = true
    case "--timeout-ms":
        guard let v = args.first, let n = UInt64(v) else {
            FileHandle.standardError.write("--timeout-ms needs a number\n".data(using: .utf8)!)
            exit(2)
        }
        openTimeoutMs = n
        args = args.dropFirst()
    default:
        FileHandle.standardError.write("unknown option \(a)\n".data(using: .utf8)!)
        exit(2)
    }
}

let server = Server(trace: trace, openTimeoutNs: openTimeoutMs &* 1_000_000)
while let line = readLine(strippingNewline: true) {
    if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
    let response = server.handle(line: line)
    writeLine(response)
}
server.shutdown()
exit(0)
