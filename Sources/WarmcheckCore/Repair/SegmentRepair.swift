import Foundation

/// `warmcheck repair SEGMENT`: PROTOCOL.md §9.9 carried out by one implementation's library
/// through its fixture's `repair` operation (DRIVER.md), then judged by warmcheck's own
/// inspection (both readers, InspectReport). The harness acts through a fixture rather than its
/// own code so that the repair under test is an implementation's: `--fixture` chooses which.
public struct SegmentRepair {
    public var fixture: FixtureSpec
    public var path: String
    public var timeout: Double = 15
    /// The durable store to rebuild from when the segment does not open (`--store`): PROTOCOL.md
    /// §9.9 step 4, PERSISTENCE.md §7. nil: a segment that does not open is left as it is.
    public var storeDir: String?

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
        /// The fixture's `restore` result when the segment was rebuilt from the store and renamed
        /// over the damaged file (PERSISTENCE.md §7 step 7), nil when no rebuild happened.
        public var rebuilt: JSON?
        /// Why a segment that did not open was not rebuilt, when a store was given.
        public var notRebuilt: String?
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
                if let why = notRebuilt {
                    out += "  needs rebuild: \(why)\n"
                } else {
                    out += "  nothing was changed; a damaged header or geometry is rebuilt from the durable store: give --store DIR (open_or_restore, PERSISTENCE.md §7)\n"
                }
                return out + "repair: not repaired (\(e.code))\n"
            }
            if let r = rebuilt {
                out += "  rebuilt from the durable store and renamed over the damaged file (PERSISTENCE.md §7): "
                    + "\(r["installed"]?.int ?? 0) entries installed from \(r["files"]?.int ?? 0) file(s), "
                    + "\(r["problems"]?.array?.count ?? 0) store problem(s)\n"
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
                if let why = notRebuilt { o["needs_rebuild"] = .string(why) }
            } else {
                if let r = rebuilt { o["rebuilt"] = r }
                o["report"] = report
                o["healthy_after"] = .bool(after?.exitStatus == 0)
            }
            return .object(o)
        }
    }

    /// The open errors that make a file unusable, so that restore replaces it (PERSISTENCE.md §7
    /// step 2); `bad_geometry` only for rules 1–8 (rule 9 is the reader's bound, not damage).
    static let unusable: Set<String> = ["not_found", "too_short", "bad_magic", "not_ready", "bad_header_checksum",
                                        "bad_geometry", "truncated", "sparse"]

    static func rebuildable(code: String, message: String) -> Bool {
        unusable.contains(code) && !(code == "bad_geometry" && message.contains("rule 9"))
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
        if !opened.isOK {
            let code = opened.reason ?? "?"
            out.openError = (code, opened.message ?? "")
            guard let dir = storeDir else { return out }
            guard Self.rebuildable(code: code, message: opened.message ?? "") else {
                out.notRebuilt = "\(code) is not damage: the file is never replaced (PERSISTENCE.md §7 step 2)"
                return out
            }
            guard (hello["operations"]?.array ?? []).contains(.string("restore")) else {
                out.notRebuilt = "\(fixture.name) has no durable store (no `restore` operation); rebuild with a fixture that has one (--fixture go or rust)"
                return out
            }
            let g = try StoreGeometry.newest(in: dir)
            let r = try fx.call("restore", ["path": .string(path), "store_dir": .string(dir), "fsync": "always",
                                            "geometry": DriverArguments.geometry(shards: g.shards, slots: g.slots, keyCapacity: g.keyCapacity,
                                                                                 valueCapacity: g.valueCapacity, window: g.window,
                                                                                 participants: g.participants)])
            if let kind = r.errorKind { throw UsageError("\(fixture.name) answered restore with error(\(kind)): \(r.message ?? "")") }
            guard r.isOK else {
                out.notRebuilt = "restore failed: \(r.reason ?? "?"): \(r.message ?? "")"
                return out
            }
            out.openError = nil
            if r.result["restored"]?.bool == true { out.rebuilt = r.result }
        }
        let r = try fx.call("repair")
        if let kind = r.errorKind { throw UsageError("\(fixture.name) answered repair with error(\(kind)): \(r.message ?? "")") }
        out.report = r.result
        _ = try fx.call("close")
        out.after = InspectReport.make(path: path)
        return out
    }
}
