import Foundation

/// `warmcheck repair SEGMENT`: PROTOCOL.md §9.9 carried out by one implementation's library
/// through its fixture's `repair` operation (DRIVER.md), then judged by warmcheck's own
/// inspection (both readers, InspectReport). The harness acts through a fixture rather than its
/// own code so that the repair under test is an implementation's: `--fixture` chooses which.
public struct SegmentRepair {
    public var fixture: FixtureSpec
    public var path: String
    public var timeout: Double = 15

    public init(fixture: FixtureSpec, path: String) {
        self.fixture = fixture
        self.path = path
    }

    /// What one repair did and what the segment looks like afterwards.
    public struct Outcome {
        public var fixture: String
        public var path: String
        /// The §15 code and message when the fixture could not open the segment: nothing was
        /// touched, and a damaged header is the rebuild of PERSISTENCE.md §7.
        public var openError: (code: String, message: String)?
        /// The fixture's `repair` result (locks_freed, reclaimed, quarantined, unrepairable,
        /// quarantined_total).
        public var report: JSON = .object([:])
        public var after: InspectReport?

        static let lists = ["locks_freed", "reclaimed", "quarantined", "unrepairable"]

        func actions(_ name: String) -> [JSON] { report[name]?.array ?? [] }

        /// 0 healthy after the repair, 1 problems remain, 2 the segment did not open.
        public var exitStatus: Int32 {
            if openError != nil { return 2 }
            return after?.exitStatus == 0 ? 0 : 1
        }

        public var text: String {
            var out = "repair \(path) by \(fixture)\n"
            if let e = openError {
                out += "  not opened: \(e.code): \(e.message)\n"
                out += "  nothing was changed; a damaged header or geometry is rebuilt from the durable store (open_or_restore, PERSISTENCE.md §7)\n"
                return out + "repair: not repaired (\(e.code))\n"
            }
            for name in Self.lists {
                let a = actions(name)
                out += "  \(name.replacingOccurrences(of: "_", with: " ")): \(a.count)\n"
                for x in a {
                    out += "    shard \(x["shard"]?.int ?? -1) slot \(x["slot"]?.int ?? -1): \(x["detail"]?.string ?? "")\n"
                }
            }
            out += "  quarantined since creation (header word 768): \(report["quarantined_total"]?.uint ?? 0)\n"
            let verdict: String
            switch after?.exitStatus {
            case 0: verdict = "healthy"
            case 1: verdict = "problems remain (warmcheck inspect \(path) lists them)"
            default: verdict = "not readable after the repair"
            }
            return out + "repair: \(verdict)\n"
        }

        public var json: JSON {
            var o: [String: JSON] = ["fixture": .string(fixture), "path": .string(path)]
            if let e = openError {
                o["open_error"] = .object(["code": .string(e.code), "message": .string(e.message)])
            } else {
                o["report"] = report
                o["healthy_after"] = .bool(after?.exitStatus == 0)
            }
            return .object(o)
        }
    }

    public func run() throws -> Outcome {
        var out = Outcome(fixture: fixture.name, path: path)
        let fx = try FixtureProcess(spec: fixture, timeout: timeout)
        defer { fx.stop() }
        let hello = try fx.sayHello()
        guard (hello["operations"]?.array ?? []).contains(.string("repair")) else {
            throw UsageError("fixture \(fixture.name) has no `repair` operation (DRIVER.md); choose another with --fixture")
        }
        let opened = try fx.call("open", ["path": .string(path)])
        if let kind = opened.errorKind { throw UsageError("\(fixture.name) answered open with error(\(kind)): \(opened.message ?? "")") }
        guard opened.isOK else {
            out.openError = (opened.reason ?? "?", opened.message ?? "")
            return out
        }
        let r = try fx.call("repair")
        if let kind = r.errorKind { throw UsageError("\(fixture.name) answered repair with error(\(kind)): \(r.message ?? "")") }
        out.report = r.result
        _ = try fx.call("close")
        out.after = InspectReport.make(path: path)
        return out
    }
}
