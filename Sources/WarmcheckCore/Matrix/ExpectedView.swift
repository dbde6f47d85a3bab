/// What a reader must see in a segment written by the matrix sequence: per-key reads and the set
/// of entries a full scan finds. Built from the model for live cells, loaded from
/// testdata/golden/expected.json for the golden image, and compared field by field either way.
public struct ExpectedView: Sendable {
    public var json: JSON

    public init(json: JSON) { self.json = json }

    /// The view for a segment written by an implementation of §7.3 code `language` from process
    /// `pid`, speaking `protocolVersion` (written into every record's provenance, §14).
    public static func make(writerLanguage language: Int, writerPID pid: Int64,
                            protocolVersion: (major: Int, minor: Int) = (1, 0)) -> ExpectedView {
        let namespaces = Self.speaksNamespaces(protocolVersion)
        let table = MatrixSequence.model(namespaces: namespaces)
        var reads: [JSON] = []
        for k in MatrixSequence.universe {
            var r: [String: JSON] = ["key_hex": .string(Hex.encode(k))]
            switch MatrixSequence.expectedRead(k, in: table) {
            case .miss:
                r["hit"] = false
            case .fresh(let e), .stale(let e):
                let stale: Bool
                if case .stale = MatrixSequence.expectedRead(k, in: table) { stale = true } else { stale = false }
                r.merge(fields(e), uniquingKeysWith: { a, _ in a })
                r["hit"] = true
                r["stale"] = .bool(stale)
                // Each reader reads a pristine copy, so it is the first to see the expiry and the
                // one told to refresh (PROTOCOL.md §12).
                r["refresh_requested"] = .bool(stale)
            }
            reads.append(.object(r))
        }
        let entries = table.keys.sorted { Hex.encode($0) < Hex.encode($1) }.map { k -> JSON in
            var f = fields(table[k]!)
            f["key_hex"] = .string(Hex.encode(k))
            return .object(f)
        }
        var view: [String: JSON] = [
            "writer": ["language": .int(Int64(language)), "pid": .int(pid), "participant": 1,
                       "protocol_major": .int(Int64(protocolVersion.major)), "protocol_minor": .int(Int64(protocolVersion.minor))],
            "reads": .array(reads),
            "entries": .array(entries),
        ]
        if namespaces { view["namespaces"] = MatrixNamespaces.view(entries: table) }
        return ExpectedView(json: .object(view))
    }

    /// Namespaces are 1.1 (PROTOCOL.md §18): a writer or reader that speaks 1.1 or later has them.
    public static func speaksNamespaces(_ v: (major: Int, minor: Int)) -> Bool { v.major > 1 || (v.major == 1 && v.minor >= 1) }

    static func fields(_ e: MatrixSequence.Entry) -> [String: JSON] {
        [
            "value_hex": .string(Hex.encode(e.value)), "version": .int(e.version),
            "origin_tag": .int(e.originTag), "expires_at_ns": .int(e.expiresAt),
            "stale_until_ns": .int(e.staleUntil), "written_at_ns": .int(e.writtenAt),
        ]
    }

    /// The §7.3 code an expectation names: a number, or (testdata/golden/expected.json, written
    /// for people) a registered language name.
    static func languageCode(_ j: JSON?) -> Int? {
        if case .int(let i)? = j { return Int(i) }
        if let s = j?.string { return LanguageCodes.registered.first { $0.value == s.lowercased() }?.key }
        return nil
    }

    /// Provenance reports the language as its §7.3 code, a JSON number (DRIVER.md "Provenance");
    /// a name or a numeric string is a contract violation, said as such.
    static func languageProblem(_ got: JSON?, want: Int?) -> String? {
        guard case .int(let code)? = got else {
            return "language must be the §7.3 code as a JSON number, got \(got?.serialized ?? "nothing")"
        }
        guard let want else { return "language \(code), but the expectation names no known language" }
        return Int(code) == want ? nil : "language \(code) (\(LanguageCodes.name(Int(code)))), expected \(want) (\(LanguageCodes.name(want)))"
    }

    /// Differences between one `get` result and the expectation, in words.
    public func checkRead(_ expected: JSON, actual: JSON) -> [String] {
        let key = String(decoding: Hex.decode(expected["key_hex"]?.string ?? "") ?? [], as: UTF8.self)
        var out: [String] = []
        let wantHit = expected["hit"]?.bool ?? false
        guard let hit = actual["hit"]?.bool else { return ["get \(key): response has no \"hit\""] }
        if hit != wantHit {
            return ["get \(key): expected \(wantHit ? "a hit" : "a miss"), got \(hit ? "a hit" : "a miss")"]
        }
        guard hit else { return [] }
        for f in ["value_hex", "version", "origin_tag", "expires_at_ns", "stale_until_ns", "written_at_ns",
                  "stale", "refresh_requested"] {
            if !same(expected[f], actual[f]) {
                out.append("get \(key): \(f) expected \(describe(expected[f])), got \(describe(actual[f]))")
            }
        }
        out += checkWriter(actual["writer"], context: "get \(key)")
        return out
    }

    func checkWriter(_ w: JSON?, context: String) -> [String] {
        guard let want = json["writer"] else { return [] }
        guard let w else { return ["\(context): no writer provenance"] }
        var out: [String] = []
        if let p = Self.languageProblem(w["language"], want: Self.languageCode(want["language"])) {
            out.append("\(context): writer \(p)")
        }
        for f in ["pid", "participant", "protocol_major", "protocol_minor"] where !same(want[f], w[f]) {
            out.append("\(context): writer \(f) expected \(describe(want[f])), got \(describe(w[f]))")
        }
        return out
    }

    /// Differences between one namespace's `ns_state` answer and the expected table words.
    public func checkNamespaceState(_ expected: JSON, actual: JSON) -> [String] {
        let ns = expected["ns"]?.int ?? -1
        var out: [String] = []
        for f in ["current", "previous", "last", "stager"] where !same(expected[f], actual[f]) {
            out.append("ns_state \(ns): \(f) expected \(describe(expected[f])), got \(describe(actual[f]))")
        }
        if (actual["pins"]?.array ?? []).count != 0 { out.append("ns_state \(ns): pins \(describe(actual["pins"])), expected none") }
        return out
    }

    /// Differences between one `ns_get` result and the expectation: `checkRead`'s fields plus the
    /// version read and the pin flag.
    public func checkNamespaceRead(_ expected: JSON, ns: Int64, actual: JSON) -> [String] {
        var out = checkRead(expected, actual: actual).map { "ns \(ns) " + $0.replacingOccurrences(of: "get ", with: "ns_get ", options: .anchored) }
        for f in ["ns_version", "pinned"] where !same(expected[f], actual[f]) {
            let key = String(decoding: Hex.decode(expected["key_hex"]?.string ?? "") ?? [], as: UTF8.self)
            out.append("ns \(ns) ns_get \(key): \(f) expected \(describe(expected[f])), got \(describe(actual[f]))")
        }
        return out
    }

    /// Differences between a `dump` result and the expected entries.
    public func checkDump(_ actual: JSON) -> [String] {
        var out: [String] = []
        let want = Dictionary(
            (json["entries"]?.array ?? []).map { ($0["key_hex"]?.string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        for e in actual["entries"]?.array ?? [] {
            let k = e["key_hex"]?.string ?? "?"
            let name = String(decoding: Hex.decode(k) ?? [], as: UTF8.self)
            guard seen.insert(k).inserted else { out.append("dump: key \(name) appears twice"); continue }
            guard let w = want[k] else { out.append("dump: unexpected entry \(name)"); continue }
            for f in ["value_hex", "version", "origin_tag", "expires_at_ns", "stale_until_ns", "written_at_ns"]
            where !same(w[f], e[f]) {
                out.append("dump \(name): \(f) expected \(describe(w[f])), got \(describe(e[f]))")
            }
            let state = e["state"]?.string ?? "?"
            if !["READY", "STALE"].contains(state) { out.append("dump \(name): state \(state), expected READY or STALE") }
            out += checkWriter(e["writer"], context: "dump \(name)")
        }
        for k in want.keys where !seen.contains(k) {
            out.append("dump: entry \(String(decoding: Hex.decode(k) ?? [], as: UTF8.self)) is missing")
        }
        for p in actual["problems"]?.array ?? [] { out.append("dump reported a problem: \(p.string ?? p.serialized)") }
        return out
    }

    func same(_ a: JSON?, _ b: JSON?) -> Bool {
        if let x = a?.int, let y = b?.int { return x == y }
        return a == b
    }

    func describe(_ j: JSON?) -> String {
        guard let j else { return "nothing" }
        if let s = j.string, s.count > 40 { return "\"\(s.prefix(40))…\" (\(s.count / 2) bytes)" }
        return j.serialized
    }
}
