import Foundation

// spec/vocabulary.json, the one machine-readable list of the protocol's names and numbers
// (states, events, transitions, pause points, error codes, faults, languages, layout).
// The harness judges fixtures' names against it: a pause point or event it does not list is an
// error, never a silent skip.

public struct Vocabulary: Decodable, Sendable {
    public struct ProtocolVersion: Decodable, Sendable { public var major: Int, minor: Int }
    public struct State: Decodable, Sendable { public var code: Int, name: String, owned: Bool, readable: Bool }
    public struct Transition: Decodable, Sendable {
        public var id: String, event: String, from: [String], to: String, actor: String, active: String
        public var insertLock: Bool, silent: Bool
        enum CodingKeys: String, CodingKey { case id, event, from, to, actor, active, silent, insertLock = "insert_lock" }
    }
    public struct Language: Decodable, Sendable { public var code: Int, name: String }

    public var `protocol`: ProtocolVersion
    public var states: [State]
    public var events: [String]
    public var transitions: [Transition]
    public var pausePoints: [String]
    public var openErrors: [String]
    public var operationErrors: [String]
    public var faults: [String]
    public var languages: [Language]
    /// Numbers are JSON numbers; 64-bit constants are "0x…" strings.
    public var constants: [String: Number]
    public var layout: [String: [String: Int]]

    enum CodingKeys: String, CodingKey {
        case `protocol`, states, events, transitions, faults, languages, constants, layout
        case pausePoints = "pause_points", openErrors = "open_errors", operationErrors = "operation_errors"
    }

    /// A constant: a JSON number or a hex string.
    public struct Number: Decodable, Sendable, Equatable {
        public var value: UInt64
        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(UInt64.self) { value = n; return }
            let s = try c.decode(String.self)
            guard s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(s) is neither a number nor 0x-hex")
            }
            value = v
        }
    }

    public func constant(_ name: String) -> UInt64? { constants[name]?.value }

    /// The §7.3 code of a language as hello spells it ("go"), nil if unregistered.
    public func languageCode(_ name: String) -> UInt8? {
        languages.first { $0.name == name.lowercased() }.map { UInt8($0.code) }
    }

    public static func load(_ url: URL) throws -> Vocabulary {
        try JSONDecoder().decode(Vocabulary.self, from: Data(contentsOf: url))
    }

    /// spec/vocabulary.json of this checkout: `$WARMCACHE_ROOT`, else upwards from the working
    /// directory and the executable, else next to this source file (tests, `swift run`).
    public static func locate() -> URL? {
        let fm = FileManager.default
        var starts: [URL] = []
        if let root = ProcessInfo.processInfo.environment["WARMCACHE_ROOT"], !root.isEmpty { starts.append(URL(fileURLWithPath: root)) }
        starts.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        starts.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        for start in starts {
            var dir = start.standardizedFileURL
            while dir.path != "/" {
                let f = dir.appendingPathComponent("spec/vocabulary.json")
                if fm.fileExists(atPath: f.path) { return f }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// The checkout's vocabulary, loaded once. A harness without it cannot judge names, so a
    /// missing or malformed file stops it with the reason.
    public static let standard: Result<Vocabulary, VocabularyError> = {
        guard let url = locate() else { return .failure(VocabularyError(message: "spec/vocabulary.json not found (set WARMCACHE_ROOT)")) }
        do { return .success(try load(url)) } catch { return .failure(VocabularyError(message: "\(url.path): \(error)")) }
    }()
}

public struct VocabularyError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
