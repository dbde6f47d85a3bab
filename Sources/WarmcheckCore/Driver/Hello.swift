import Foundation
import WarmcheckSegment

/// What a fixture declares about itself in its `hello` answer (docs/DRIVER.md "hello"): every
/// command reads it through this one type, so that a third-party implementation is judged by what
/// it declared, not by what the harness happens to know about the reference ones.
public struct Hello: Sendable {
    /// The implementation's language name (`hello.language`), lowercase.
    public var language: String
    /// Its PROTOCOL.md §7.3 code, the number it writes into provenance, the participant table and
    /// the creator field: `hello.language_code`, or for a fixture that predates that field the
    /// registered code of `language`; nil when neither says.
    public var languageCode: Int?
    /// Whether `language_code` was declared (rather than looked up from the name).
    public var declaredCode: Bool
    public var implementation: String
    /// `hello.pid`: the process that writes provenance, when the command warmcheck started is
    /// a wrapper (a shell, a pipeline); nil: the started process itself.
    public var pid: Int64?
    public var protocolMajor: Int?
    public var protocolMinor: Int?
    /// `hello.protocols`: every version the fixture can be told to speak (`open`/`create`
    /// argument `protocol`, the reference fixtures' `--protocol`), oldest first; just
    /// `protocol` when the field is missing.
    public var protocols: [(major: Int, minor: Int)]
    /// `hello.trace`: the fixture fills `transitions` (it was asked to in the hello request).
    /// Absent counts as false: transitions then go unchecked, and the report says so.
    public var reportsTransitions: Bool
    public var features: [String]
    public var operations: [String]
    public var pausePoints: [String]
    public var faults: [String]
    /// `hello.get_via`: the get paths the fixture routes to their own library entry point
    /// (DRIVER.md `get`, argument `via`); just `single` when the field is missing, as for a
    /// fixture of the contract before `via`.
    public var getVia: [String]
    /// The values `via` may take, in the order the harness rotates through them.
    public static let getPaths = ["single", "into", "many"]

    public init(_ j: JSON, fallbackName: String = "") {
        let name = (j["language"]?.string ?? fallbackName).lowercased()
        language = name
        if let c = j["language_code"]?.int {
            languageCode = Int(c)
            declaredCode = true
        } else {
            languageCode = LanguageCodes.registered.first { $0.value == name }?.key
            declaredCode = false
        }
        implementation = j["implementation"]?.string ?? ""
        pid = j["pid"]?.int
        protocolMajor = j["protocol"]?["major"]?.int.map(Int.init)
        protocolMinor = j["protocol"]?["minor"]?.int.map(Int.init)
        let listed: [(major: Int, minor: Int)] = (j["protocols"]?.array ?? []).compactMap { p in
            guard let ma = p["major"]?.int, let mi = p["minor"]?.int else { return nil }
            return (major: Int(ma), minor: Int(mi))
        }
        if !listed.isEmpty {
            protocols = listed
        } else if let ma = protocolMajor, let mi = protocolMinor {
            protocols = [(major: ma, minor: mi)]
        } else {
            protocols = []
        }
        reportsTransitions = j["trace"]?.bool ?? false
        func list(_ k: String) -> [String] { (j[k]?.array ?? []).compactMap(\.string) }
        features = list("features")
        operations = list("operations")
        pausePoints = list("pause_points")
        faults = list("faults")
        getVia = j["get_via"] == nil ? ["single"] : Hello.getPaths.filter(list("get_via").contains)
    }

    /// How the `language` field of provenance (`get.writer`, `dump`, `participants`) must read
    /// for a record this implementation wrote: its code, as a JSON number (DRIVER.md).
    public func writes(language j: JSON?) -> Bool {
        guard let code = languageCode, case .int(let got)? = j else { return false }
        return Int(got) == code
    }

    /// Everything in the answer that the contract does not allow, in words (empty: conforming).
    /// `raw` is the answer as sent, for type checks the parsed fields cannot show.
    public func problems(raw: JSON, vocabulary: HelloVocabulary) -> [String] {
        var out: [String] = []
        if raw["language"]?.string == nil { out.append("`language` is missing or not a string") }
        if language.isEmpty || !language.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) {
            out.append("`language` \"\(language)\" must be a non-empty lowercase ASCII name ([a-z0-9_-])")
        }
        if !declaredCode {
            out.append("`language_code` is missing: declare the PROTOCOL.md §7.3 number written into provenance")
        } else if raw["language_code"].map({ if case .int = $0 { return false } else { return true } }) == true {
            out.append("`language_code` must be a JSON integer")
        }
        if let code = languageCode {
            if !(1...255).contains(code) {
                out.append("`language_code` \(code) is outside 1..255 (0 means unknown and is not a language)")
            } else if let owner = vocabulary.languages[code], owner != language {
                out.append("`language_code` \(code) is registered to \(owner), not to \(language) (PROTOCOL.md §7.3)")
            } else if let mine = vocabulary.languages.first(where: { $0.value == language })?.key, mine != code {
                out.append("`language` \(language) is registered with code \(mine), but the fixture declares \(code)")
            }
        }
        if let p = raw["pid"], pid == nil || !{ if case .int = p { return true } else { return false } }() || pid! <= 0 {
            out.append("`pid` \(p.serialized) must be a positive JSON integer (or left out)")
        }
        if implementation.isEmpty { out.append("`implementation` is missing (name and version, for reports)") }
        if protocolMajor == nil || protocolMinor == nil {
            out.append("`protocol` must be {\"major\": N, \"minor\": N}")
        } else if protocolMajor != vocabulary.protocolMajor {
            out.append("`protocol.major` \(protocolMajor!) is not the major this harness checks (\(vocabulary.protocolMajor))")
        }
        // `trace: false` is allowed (an implementation without tracing); conform reports it as
        // the skip it causes. Saying nothing is not.
        if raw["trace"]?.bool == nil {
            out.append("`trace` is missing: say whether `transitions` will be filled (the hello request asks for them)")
        }
        for (field, got, allowed) in [("features", features, vocabulary.features), ("operations", operations, vocabulary.operations),
                                      ("pause_points", pausePoints, vocabulary.pausePoints)] {
            if raw[field]?.array == nil { out.append("`\(field)` is missing or not a list of strings"); continue }
            let unknown = got.filter { !allowed.contains($0) && !(field == "operations" && $0 == "resume") }  // resume: below
            if !unknown.isEmpty {
                out.append("`\(field)` lists \(unknown.joined(separator: ", ")), not in the vocabulary (\(allowed.sorted().joined(separator: ", ")))")
            }
        }
        if operations.contains("resume") { out.append("`operations` lists `resume`, which is part of pausing, not an operation (DRIVER.md)") }
        for needed in ["hello", "create", "open", "close", "get", "put"] where !operations.contains(needed) {
            out.append("`operations` lacks `\(needed)`, without which no scenario runs")
        }
        if raw["faults"]?.array == nil { out.append("`faults` is missing (an empty list is fine)") }
        if let v = raw["get_via"] {
            let listed = (v.array ?? []).compactMap(\.string)
            if v.array == nil || listed.count != v.array!.count || listed.contains(where: { !Hello.getPaths.contains($0) }) || !listed.contains("single") {
                out.append("`get_via` \(v.serialized) must be a list of \(Hello.getPaths.joined(separator: ", ")) that includes single")
            }
        }
        return out
    }
}

/// The §7.3 registry as the harness ships it; `HelloVocabulary.load` prefers spec/vocabulary.json.
public enum LanguageCodes {
    public static let registered: [Int: String] = [0: "unknown", 1: "go", 2: "rust", 3: "swift"]

    /// A name for a code read from a segment: the registry's, else what a fixture of the run
    /// declared, else the bare number.
    public static func name(_ code: Int, declared: [Int: String] = [:]) -> String {
        registered[code] ?? declared[code] ?? "code \(code)"
    }
}

/// The words a `hello` answer may use: spec/vocabulary.json where it has them (pause points,
/// faults, languages, protocol), the driver contract's own tables (DRIVER.md) for the rest.
public struct HelloVocabulary: Sendable {
    public var protocolMajor = 1
    public var languages = LanguageCodes.registered
    /// Segment features an implementation may support (PROTOCOL.md §3 feature bits, by name).
    public var features = ["SIM_CLOCK", "FAST_CHECKSUM"]
    /// DRIVER.md's operation table.
    public var operations = ["hello", "create", "open", "open_or_create", "close", "get", "put", "refresh", "invalidate",
                             "evict", "stats", "generation", "wait", "set_clock", "dump", "participants", "restore", "journal_state",
                             "ns_stage", "ns_put", "ns_flip", "ns_rollback", "ns_pin", "ns_unpin", "ns_get", "ns_reclaim", "ns_state",
                             "compact", "repair", "overlap", "get_many", "now", "after_close", "nul_path"]
    /// PROTOCOL.md §17's points, the fault names and (in `languages`) the §7.3 registry come
    /// from spec/vocabulary.json, the one list every implementation is tested against; there
    /// is no second copy here to fall behind it.
    public var pausePoints: [String] = []
    public var faults: [String] = []
    /// Where the lists came from, for the report.
    public var source: String

    public init() {
        switch Vocabulary.standard {
        case .success(let v):
            protocolMajor = v.protocol.major
            pausePoints = v.pausePoints
            faults = v.faults
            languages = Dictionary(v.languages.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
            source = "spec/vocabulary.json"
        case .failure(let e):
            // Every pause point and fault will then be reported as unknown, with this reason.
            source = "no vocabulary (\(e.message))"
        }
    }

    /// The checkout's spec/vocabulary.json over the built-in lists, key by key (a key the file
    /// lacks keeps the built-in list; a file that does not parse is an input error).
    public static func load(root: URL? = Repo.root()) throws -> HelloVocabulary {
        var v = HelloVocabulary()
        guard let file = root?.appendingPathComponent("spec/vocabulary.json"),
              let data = FileManager.default.contents(atPath: file.path) else { return v }
        let j: JSON
        do { j = try JSON.parse(data) } catch { throw UsageError("\(file.path): \(error)") }
        v.source = file.path
        if let m = j["protocol"]?["major"]?.int { v.protocolMajor = Int(m) }
        func strings(_ k: String) -> [String]? { j[k]?.array.map { $0.compactMap(\.string) } }
        if let p = strings("pause_points") { v.pausePoints = p }
        if let f = strings("faults") { v.faults = f }
        if let ls = j["languages"]?.array {
            v.languages = Dictionary(ls.compactMap { l in l["code"]?.int.flatMap { c in l["name"]?.string.map { (Int(c), $0) } } },
                                     uniquingKeysWith: { a, _ in a })
        }
        // The file does not (yet) carry the driver's operation table or feature names; when it
        // does, read them here under the same keys.
        if let ops = strings("driver_operations") { v.operations = ops }
        if let fs = strings("features") { v.features = fs }
        return v
    }
}
