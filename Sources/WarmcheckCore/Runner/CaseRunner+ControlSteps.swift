#if canImport(Glibc)
import Glibc
#endif
import Foundation
import WarmcheckModel
import WarmcheckScenario

/// The control steps of docs/SCENARIOS.md: the simulated clock, sleeps, damage to the segment,
/// whole-part checks, and (CaseRunner+CrashRestart) crashes and restarts.
extension CaseRunner {
    func control(_ c: ControlStep) throws {
        // A crash, restart, wipe or damage may end or replace a part; time alone does not.
        switch c.kind {
        case .advance, .sleep: break
        default: journalParts = [:]
        }
        switch c.kind {
        case .advance(let ns):
            simNow += ns
            silentRemovalPossible = true
            // Not through a handle a role closed: it would answer `closed` (DRIVER.md "After close").
            guard let rp = roles.values.sorted(by: { $0.role < $1.role }).first(where: { $0.fixture != nil && !handleIsClosed($0) }),
                  let fx = rp.fixture
            else { try harness("no live process to move the clock", "advance at \(c.location) needs a live fixture") }
            let r = try call(fx, rp, "set_clock", ["now_ns": JSON(unsigned: simNow)], text: "set_clock")
            log.add("advance the simulated clock by \(Duration.nanoseconds(Int64(ns))) (via \(rp.role)) → \(r.summary)")
            if r.isOK { lastSimClock = simNow }
            try checkNow(rp, after: "set_clock \(simNow)")
        case .sleep(let ns):
            usleep(useconds_t(min(ns / 1000, 60_000_000)))
            log.add("sleep \(Duration.nanoseconds(Int64(ns)))")
        case .restart(let role):
            log.add(try restart(role))
        case .upgrade(let role, let to):
            log.add(try upgrade(role, to: to, at: c.location))
        case .patchHeader(let words):
            let patches = words.compactMap { w in CompatManifest.Patch.Field(rawValue: w.field).map { CompatManifest.Patch(field: $0, value: w.value) } }
            do { try HeaderPatch.apply(patches, to: segmentPath) } catch {
                try harness("cannot patch the header at \(c.location)", "\(error)")
            }
            headerPatched = true
            log.add("patch the header: " + words.map { "\($0.field)=\(String($0.value, radix: 16))" }.joined(separator: ", ") + " (hex; checksum resealed)")
        case .crash(let role):
            log.add(crash(role))
        case .start(let role):
            log.add(try startAgain(role))
        case .wipe:
            // A reboot wiped tmpfs: every handle goes with the machine (each live role closes
            // its handle, which would otherwise keep the removed inode mapped and disagree with
            // the file), and the file goes. The next segment at the path starts new slot
            // histories and new counters.
            for rp in roles.values.sorted(by: { $0.role < $1.role }) {
                // Only open handles: a role that never opened one has nothing to close, and
                // marking it closed would judge its first open's handle as a closed one.
                guard let fx = rp.fixture, rp.pending == nil, rp.participant != nil, !handleIsClosed(rp) else { continue }
                _ = try call(fx, rp, "close", [:], text: "close")
                rp.closedHandle = RoleProcess.ClosedHandle(process: ObjectIdentifier(fx), at: "the wipe at \(c.location)")
            }
            unlink(segmentPath)
            wipedUndurableKeys.formUnion(undurableKeys)
            undurableKeys = []
            retiredCheckers.append(checker)
            checker = TransitionChecker(initial: .unknown)
            accounting = Accounting()
            collisions = [:]
            log.add("wipe the segment file (as a reboot wipes tmpfs; every live handle closed)")
        case .storeDisk(let full):
            log.add(try setStoreDisk(full: full))
        case .removeSegment(let name):
            unlink(path(ofSegment: name))
            log.add("remove the \(name == "main" ? "case's segment" : "side-by-side segment \(name)") file (handles that map it keep their inode)")
        case .corrupt(let key):
            let d = try damage(key, c, "corrupt", SegmentSurgery.corruptValue(path:key:))
            corrupted.insert(d.components(separatedBy: " record").first ?? d)
            log.add("corrupt the value of \(ScenarioValue.render(key)) (\(d))")
        case .corruptState(let key):
            let d = try damage(key, c, "corrupt the state of", SegmentSurgery.corruptState(path:key:))
            poisoned.insert(d)
            log.add("give \(ScenarioValue.render(key))'s slot an impossible state word (\(d))")
        case .duplicate(let key, let wrapped):
            // Not a removal to the model: a get still finds the original first (§9.2), and the
            // parser lets only reads follow.
            switch SegmentSurgery.duplicate(path: segmentPath, key: key, wrapped: wrapped) {
            case .success(let d):
                duplicated.insert(d)
                log.add("copy \(ScenarioValue.render(key))'s slot into \(d), later in its window\(wrapped ? " past the shard's end" : "") (invariant 1 broken on purpose)")
            case .failure(let e):
                try harness("cannot duplicate \(ScenarioValue.render(key)) at \(c.location)", e.description)
            }
        case .patchNamespace(let ns, let last):
            switch NamespaceSurgery.raiseLast(path: segmentPath, ns: ns, to: last) {
            case .success(let d): log.add("patch_ns: \(d)")
            case .failure(let e): try harness("cannot patch namespace \(ns) at \(c.location)", e.description)
            }
        case .collide(let key, let other):
            try collide(key, as: other, c)
        case .patchHint(let role, let hint):
            // Only a dead owner's word: a live one's is its own to write (§5.1), and the
            // harness would be racing it.
            guard let rp = roles[role], rp.crashed, let id = rp.participant else {
                try harness("patch_hint: \(role) is not a crashed participant at \(c.location)",
                            "`patch_hint` rewrites the claim_hint of the entry a crashed role's process registered; \(role) has none now")
            }
            switch SegmentSurgery.patchHint(path: segmentPath, index: id - 1, hint) {
            case .success(let (word, epoch)):
                participantWordsPatched[id - 1] = epoch
                log.add("patch participant \(id)'s claim_hint (\(role), dead) to 0x\(String(word, radix: 16)), hint_epoch kept")
            case .failure(let e):
                try harness("cannot patch \(role)'s claim hint at \(c.location)", e.description)
            }
        case .check(let check):
            switch check {
            case .createdOnce(let op):
                let created = parallelResults.filter { $0.op == op && $0.response?.result["created"]?.bool == true }.count
                log.add("check: exactly one \(op.rawValue) created the segment → \(created) did")
                if created != 1 {
                    conformance("\(created) processes created the segment, expected exactly 1",
                                "PROTOCOL.md §4.1: two processes racing to create one segment end with exactly one "
                                + "valid segment and both use it; here \(created) of the parallel \(op.rawValue) calls answered created=true.")
                }
            }
        }
    }

    /// Damages KEY's slot by `surgery` and returns where. To the sequential model, damaging an
    /// entry is removing it: from now on a correct reader must miss it.
    func damage(_ key: [UInt8], _ c: ControlStep, _ what: String,
                _ surgery: (String, [UInt8]) -> Result<String, UsageError>) throws -> String {
        switch surgery(segmentPath, key) {
        case .success(let whereDamaged):
            let t = MonotonicClock.now()
            history.append(CacheOperation(clientId: scenario.roles.count, input: .invalidate(key: key), call: t,
                                          output: .removed(true), returnAt: t + 1))
            return whereDamaged
        case .failure(let e):
            try harness("cannot \(what) \(ScenarioValue.render(key)) at \(c.location)", e.description)
        }
    }
}
