import Foundation

/// Which files are the implementations' protocol code, and which are harness plumbing.
///
/// Excluded whole: the fault switches (faults.go, faults.rs, Faults.swift: deliberate bugs that
/// are off in a normal run, so every mutant inside is dead code), the pause-hook plumbing
/// (pause*.go, pause.rs, Pause.swift: what lets a harness stop an operation, not what the
/// operation does), the driver's hex encoding (Hex.swift, shared with warmcheck, not the segment
/// format), the fixture binaries (cmd/, src/bin/, Sources/warmcache-swift-fixture) and tests.
/// Inside the remaining files, fault branches and pause-hook calls are masked token by token
/// (SourceStructure.maskPlumbing). Transition tracing (trace.go, trace.rs, Trace.swift) stays
/// in: the transitions it reports are what the harness checks, so a bug there is observable.
public enum MutationTargets {
    public static let excluded: [String: String] = [
        "go-fixture/warmcache/faults.go": "fault switches",
        "go-fixture/warmcache/pause.go": "pause-hook plumbing",
        "go-fixture/warmcache/pause_compiled.go": "pause-hook build switch",
        "go-fixture/warmcache/pause_nopause.go": "pause-hook build switch",
        "go-fixture/warmcache/harness_bridge.go": "hands the harness-only hooks to the fixture (internal/hookreg); no protocol code",
        "go-fixture/warmcache/prefetch_asm.go": "prefetch switch: a prefetch has no observable effect, so every mutant is equivalent",
        "go-fixture/warmcache/prefetch_other.go": "built only where there is no prefetch (not amd64, arm64): dead code here",
        "rust-fixture/src/faults.rs": "fault switches",
        "rust-fixture/src/pause.rs": "pause-hook plumbing",
        "rust-fixture/src/lib.rs": "module list and re-exports only",
        "Sources/Warmcache/Faults.swift": "fault switches",
        "Sources/Warmcache/Pause.swift": "pause-hook plumbing",
        "Sources/Warmcache/Hex.swift": "driver hex encoding (not the segment format)",
        // Entry points of the C ABI over a byte image (docs/ABI.md): no driver request reaches them,
        // so the suite cannot judge them; `warmcheck vectors` and `fuzz` do. (Mutating them with
        // those commands as the killer is still to do.)
        "go-fixture/warmcache/image.go": "C ABI entry points (judged by vectors/fuzz, not the suite)",
        "Sources/Warmcache/SegmentImage.swift": "C ABI entry points (judged by vectors/fuzz, not the suite)",
    ]

    /// Source directory of each language, relative to the checkout.
    public static func directory(_ lang: MutationLanguage) -> String {
        switch lang {
        case .go: return "go-fixture/warmcache"
        case .rust: return "rust-fixture/src"
        case .swift: return "Sources/Warmcache"
        }
    }

    /// The protocol files of `lang`, sorted, relative to `root`.
    public static func files(root: URL, language lang: MutationLanguage) -> [String] {
        let dir = directory(lang)
        let base = root.appendingPathComponent(dir)
        guard let e = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            let path = dir + "/" + rel
            guard MutationLanguage.of(path: path) == lang, excluded[path] == nil else { continue }
            if lang == .go && (rel.hasSuffix("_test.go") || rel.contains("/")) { continue }
            if lang == .rust && rel.hasPrefix("bin/") { continue }
            if lang == .swift && rel.contains("/") { continue }
            out.append(path)
        }
        return out.sorted()
    }

    /// Glob match with `*` (any run, `/` included) and `?`.
    public static func glob(_ pattern: String, _ s: String) -> Bool {
        let p = Array(pattern), t = Array(s)
        var memo = [[Bool?]](repeating: [Bool?](repeating: nil, count: t.count + 1), count: p.count + 1)
        func m(_ i: Int, _ j: Int) -> Bool {
            if let v = memo[i][j] { return v }
            let r: Bool
            if i == p.count { r = j == t.count }
            else if p[i] == "*" { r = m(i + 1, j) || (j < t.count && m(i, j + 1)) }
            else { r = j < t.count && (p[i] == "?" || p[i] == t[j]) && m(i + 1, j + 1) }
            memo[i][j] = r
            return r
        }
        return m(0, 0)
    }
}
