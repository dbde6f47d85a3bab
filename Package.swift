// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "warmcache",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Warmcache", targets: ["Warmcache"]),
        .executable(name: "warmcheck", targets: ["warmcheck"]),
        .executable(name: "warmcache-swift-fixture", targets: ["warmcache-swift-fixture"]),
        .executable(name: "warmcache-swift-bench", targets: ["warmcache-swift-bench"]),
        // docs/using/swift.md as a program: what a service does with the library.
        .executable(name: "warmcache-swift-example", targets: ["warmcache-swift-example"]),
        // The C ABI of the Swift implementation (docs/ABI.md), loaded by `warmcheck vectors/fuzz`.
        .library(name: "WarmcacheABI", type: .dynamic, targets: ["WarmcacheABI"]),
        // `warmcheck bench startup --language swift`: the Swift consumer and its exec floor (release).
        .executable(name: "warmcache-swift-consumer", targets: ["warmcache-swift-consumer"]),
        .executable(name: "warmcache-swift-empty", targets: ["warmcache-swift-empty"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // The text exposition of `warmcheck stats --prometheus` and `warmcheck exporter`.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Percentiles of `warmcheck bench startup` (Sources/WarmcheckCore/Startup).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Syscalls Swift cannot call directly (variadic fcntl/syscall for futex and OFD locks).
        .target(name: "CWarmcacheShim"),
        // The Swift implementation of the segment (docs/PROTOCOL.md).
        .target(
            name: "Warmcache",
            dependencies: ["CWarmcacheShim", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // @_cdecl exports of the Swift implementation's pure functions (docs/ABI.md).
        .target(name: "WarmcacheABI", dependencies: ["Warmcache"], exclude: ["manifest.json"]),
        // Debian's libffi (libffi-dev): warmcheck builds calls to the ABI libraries at run time.
        .systemLibrary(name: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        // The harness's one JSON value, its strict RFC 8259 parser and field readers whose errors
        // name the field: every harness module reads and writes JSON through it (issue 11).
        // Optimized in debug builds too: every step of a controlled race parses a response.
        .target(name: "WarmcheckJSON", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Pure models: the slot state machine, the transition checker, the sequential cache model
        // and the linearizability checker. No I/O, so it is tested on its own.
        // Optimized even in debug builds: `warmcheck stress` and `run` check histories of up to
        // millions of operations with it, and the debug build is what they run as.
        .target(name: "WarmcheckModel", dependencies: ["WarmcheckJSON"], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // The harness's own reading of a segment, written from docs/PROTOCOL.md alone: it must not
        // share a bug with any implementation, so it depends on none (only on Glibc, and on
        // swift-atomics for the live, mapped reads of LiveSegment).
        // Optimized in debug builds too: it decodes the whole segment after every scenario step.
        .target(name: "WarmcheckSegment", dependencies: ["WarmcheckJSON", .product(name: "Atomics", package: "swift-atomics")],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Scenario files: types, the YAML parser (with file:line errors) and the expansion.
        .target(
            name: "WarmcheckScenario",
            dependencies: ["WarmcheckJSON", "WarmcheckModel", "WarmcheckSegment", .product(name: "Yams", package: "Yams")]
        ),
        // The harness: driver client, matrix, inspect, scenario runner, reports.
        .target(
            name: "WarmcheckCore",
            dependencies: ["Warmcache", "CWarmcacheShim", "CFFI", "WarmcheckJSON", "WarmcheckModel", "WarmcheckScenario", "WarmcheckSegment",
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .executableTarget(
            name: "warmcheck",
            dependencies: ["WarmcheckCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The Swift implementation behind the driver contract (docs/DRIVER.md).
        .executableTarget(name: "warmcache-swift-fixture", dependencies: ["Warmcache"]),
        // Micro-benchmark of the Swift implementation (get-hit / put latency vs a Dictionary).
        .executableTarget(name: "warmcache-swift-bench", dependencies: ["Warmcache"]),
        .executableTarget(name: "warmcache-swift-example", dependencies: ["Warmcache"]),
        .executableTarget(name: "warmcache-swift-consumer", dependencies: ["Warmcache"]),
        .executableTarget(name: "warmcache-swift-empty"),
        .testTarget(name: "WarmcacheTests", dependencies: ["Warmcache"]),
        // Optimized too: its differential test brute-forces 100 000 histories per run.
        .testTarget(name: "WarmcheckModelTests", dependencies: ["WarmcheckModel"],
                    swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .testTarget(name: "WarmcheckScenarioTests", dependencies: ["WarmcheckScenario"]),
        .testTarget(name: "WarmcheckTests", dependencies: ["WarmcheckCore"]),
        .testTarget(name: "WarmcheckSegmentTests", dependencies: ["WarmcheckSegment"]),
    ]
)
