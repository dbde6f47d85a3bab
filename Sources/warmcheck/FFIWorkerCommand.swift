import ArgumentParser
import Foundation
import WarmcheckCore

/// The sacrificial process of `vectors` and `fuzz` (Sources/WarmcheckCore/FFI/FFIWorker.swift):
/// started by warmcheck itself, one per library. Not for people.
struct FFIWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ffi-worker", abstract: "Internal: serve one ABI library's calls on stdin/stdout.",
        shouldDisplay: false)

    @Option var name: String
    @Option var library: String
    @Option var manifest: String

    func run() throws {
        throw ExitCode(FFIWorker.run(name: name, library: library, manifest: manifest))
    }
}

/// The libraries of --library NAME=PATH --manifest FILE (pairs in order), else the references.
struct LibraryOptions: ParsableArguments {
    @Option(name: .customLong("library"), help: "A third-party ABI library NAME=PATH (repeatable; pairs with --manifest in order). Default: the Rust, Go and Swift libraries of scripts/build-abi.sh.")
    var libraries: [String] = []

    @Option(name: .customLong("manifest"), help: "The manifest of the --library at the same position (docs/ABI.md).")
    var manifests: [String] = []

    @Flag(name: .customLong("with-references"), help: "Test the --library ones together with the reference libraries.")
    var withReferences = false

    func resolve() throws -> [ABILibrary] {
        guard libraries.count == manifests.count else {
            throw fail("--library and --manifest come in pairs (\(libraries.count) libraries, \(manifests.count) manifests)")
        }
        var out: [ABILibrary] = []
        if libraries.isEmpty || withReferences {
            guard let root = Repo.root() else { throw fail("cannot find the checkout (set WARMCACHE_ROOT)") }
            out = ABILibrary.references(root: root)
        }
        for (l, m) in zip(libraries, manifests) {
            do { out.append(try ABILibrary.parse(l, manifest: m)) } catch { throw fail("\(error)") }
        }
        return out
    }
}

/// The running warmcheck binary, which is also the worker executable.
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}
