import Foundation
import WarmcheckJSON

// spec/vocabulary.json, the one machine-readable list of the protocol's names and numbers
// (states, events, transitions, pause points, error codes, faults, languages, layout).
// The harness judges fixtures' names against it: a pause point or event it does not list is an
// error, never a silent skip.

public struct Vocabulary: Sendable {
    public struct ProtocolVersion: Sendable, Equatable { public var major: Int, minor: Int }
    public struct State: Sendable { public var code: Int, name: String, owned: Bool, readable: Bool }
    public struct Transition: Sendable {
        public var id: String, event: String, from: [String], to: String, actor: String, active: String
        public var insertLock: Bool, silent: Bool
    }
    public struct Language: Sendable { public var code: Int, name: String }

    public var `protocol`: ProtocolVersion
    /// Every version the spec defines, oldest first (`protocols`; the newest is `protocol`).
    public var protocols: [ProtocolVersion]
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

    /// A constant: a JSON number or a hex string.
    public struct Number: Sendable, Equatable {
        public var value: UInt64
        init(_ f: JSONField) throws {
            if case .string(let s) = f.value {
                guard s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) else {
                    throw JSONFieldError("\(f.path): \(s) is neither a number nor 0x-hex")
                }
                value = v
            } else {
                value = try f.uint64
            }
        }
    }

    /// Reads the file's JSON; an error names the field (`$.transitions[4].insert_lock: …`).
    public init(json f: JSONField) throws {
        func strings(_ k: String) throws -> [String] { try f.field(k).array.map { try $0.string } }
        let p = try f.field("protocol")
        `protocol` = ProtocolVersion(major: try p.field("major").int, minor: try p.field("minor").int)
        protocols = try f.field("protocols").array.map { ProtocolVersion(major: try $0.field("major").int, minor: try $0.field("minor").int) }
        states = try f.field("states").array.map {
            State(code: try $0.field("code").int, name: try $0.field("name").string,
                  owned: try $0.field("owned").bool, readable: try $0.field("readable").bool)
        }
        events = try strings("events")
        transitions = try f.field("transitions").array.map {
            Transition(id: try $0.field("id").string, event: try $0.field("event").string,
                       from: try $0.field("from").array.map { try $0.string }, to: try $0.field("to").string,
                       actor: try $0.field("actor").string, active: try $0.field("active").string,
                       insertLock: try $0.field("insert_lock").bool, silent: try $0.field("silent").bool)
        }
        pausePoints = try strings("pause_points")
        openErrors = try strings("open_errors")
        operationErrors = try strings("operation_errors")
        faults = try strings("faults")
        languages = try f.field("languages").array.map { Language(code: try $0.field("code").int, name: try $0.field("name").string) }
        constants = Dictionary(uniqueKeysWithValues: try f.field("constants").members.map { ($0, try Number($1)) })
        layout = Dictionary(uniqueKeysWithValues: try f.field("layout").members.map { table, fields in
            (table, Dictionary(uniqueKeysWithValues: try fields.members.map { ($0, try $1.int) }))
        })
    }

    public func constant(_ name: String) -> UInt64? { constants[name]?.value }

    /// The §7.3 code of a language as hello spells it ("go"), nil if unregistered.
    public func languageCode(_ name: String) -> UInt8? {
        languages.first { $0.name == name.lowercased() }.map { UInt8($0.code) }
    }

    public static func load(_ url: URL) throws -> Vocabulary {
        try Vocabulary(json: JSONField.parse(Data(contentsOf: url), source: url.path))
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
