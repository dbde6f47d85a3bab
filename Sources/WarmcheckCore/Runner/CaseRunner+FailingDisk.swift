import Foundation
import WarmcheckScenario

/// The journal's error paths (PERSISTENCE.md §6), judged for a role whose process runs on a
/// failing disk (`disk: {ROLE: FAULT}`, DiskFaultLauncher): nothing else in the suite ever makes
/// a sync fail, so a writer that ignored a failed `fdatasync` answered `durable: true` for a
/// record the disk never confirmed and passed every case.
///
/// Two rules, both from §6 and not from what an implementation does:
/// - **No acknowledgement without a sync.** Under `always` the record is fdatasynced before the
///   answer and an error answers `durable: false`; under `always` and `interval` a journal is
///   started with an fsync of the file and of DIR before its first record. So when every sync
///   fails (`sync_fails`), no durable operation under `always` or `interval` can answer
///   `durable: true`, and when every fdatasync fails (`fdatasync_fails`) none under `always`
///   can. (`none` syncs nothing; its scenarios expect `durable`.)
/// - **An error ends the file.** After an operation answered `durable: false` the handle closes
///   its file and starts part + 1 for its next durable operation: the ended file never grows
///   again, and the next file the role starts has the ended one's part + 1. Appending on after
///   an error would put acknowledged records behind a torn or unconfirmed one, where §9's
///   reader stops.
extension CaseRunner {
    func noteStore(_ step: OperationStep, _ rp: RoleProcess) {
        rp.storePolicy = step.op == .restore || step.store ? (step.fsync ?? "always") : nil
        rp.endedJournal = nil
    }

    func checkFailingDisk(_ r: DriverResponse, step o: OperationStep, _ rp: RoleProcess) {
        let fault = scenario.disks[rp.role]
        guard fault != nil || scenario.fillsStoreDisk, let policy = rp.storePolicy, r.isOK,
              let durable = r.result["durable"]?.bool else { return }
        let what = "\(rp.role) (\(rp.impl))'s `\(o.text)` at \(o.location)"
        let mustBeFalse: Bool
        switch fault {
        case .syncFails?: mustBeFalse = policy == "always" || policy == "interval"
        case .fdatasyncFails?: mustBeFalse = policy == "always"
        case nil, .fallocateUnsupported?, .lockFails?: mustBeFalse = false   // a full disk: JournalAudit finds a torn record acknowledged; syncs work
        }
        if durable, mustBeFalse, let fault {
            conformance("\(what) answered durable: true under fsync=\(policy) although every "
                            + (fault == .syncFails ? "fsync and fdatasync" : "fdatasync") + " of its process fails (EIO)",
                        "PERSISTENCE.md §6: under `always` the record is fdatasynced before the answer, and an error answers "
                            + "`durable: false` and starts a new part (a failed fsync is never retried); under `always` and "
                            + "`interval` a journal is started with an fsync of the file and of DIR. The disk confirmed "
                            + "nothing, so nothing may be acknowledged durable (the role runs under the harness's seccomp "
                            + "filter, `disk: \(fault.rawValue)`)")
        }
        let newest = newestJournal(of: rp)
        if let ended = rp.endedJournal, let newest {
            if newest.name == ended.name {
                if newest.size != ended.size {
                    conformance("\(what) appended to \(ended.name) after a durable operation there answered durable: false",
                                "PERSISTENCE.md §6: a write or fsync error ends the journal file; the handle closes it and "
                                    + "starts part + 1 for its next durable operation (the file was \(ended.size) bytes at the "
                                    + "failure, \(newest.size) now)")
                }
            } else if newest.prefix != ended.prefix || newest.part != ended.part + 1 {
                conformance("\(what) journaled into \(newest.name) after \(ended.name) ended with an error",
                            "PERSISTENCE.md §6: after a write or fsync error the next durable operation starts part + 1 "
                                + "(\(String(format: "%04x", ended.part + 1))) of the same writer's journal")
            }
        }
        if !durable, let newest {
            rp.endedJournal = newest
        } else if let ended = rp.endedJournal, newest?.name != ended.name {
            rp.endedJournal = nil   // the part after it was started and judged
        }
    }

    /// The store on a tiny tmpfs of its own (TinyStoreDisk), for a scenario with `store_disk:`.
    /// Where mounting is not permitted the case is a skip, never a pass.
    func mountTinyStore() throws {
        do { try TinyStoreDisk.mount(at: storeDir, owner: options.fixtureCredentials) } catch {
            addFinding(Finding(kind: .skip, summary: "the store cannot be put on a tiny file system: \(error)",
                               details: "`store_disk:` needs a tmpfs mounted at the case's store directory (root, or "
                                   + "CAP_SYS_ADMIN); without it no write can be made to fail with ENOSPC"))
            throw Abort()
        }
    }

    func setStoreDisk(full: Bool) throws -> String {
        guard full else {
            TinyStoreDisk.drain(storeDir)
            storeDiskFull = false
            return "store disk: room again (filler removed)"
        }
        let n = try TinyStoreDisk.fill(storeDir)
        storeDiskFull = true
        return "store disk: full (a filler of \(n) bytes took the last free page; the next write needing a page fails with ENOSPC)"
    }

    /// Whether `o` belongs in the linearizability history. After a wipe a key whose last durable
    /// operation answered `durable: false` may come back in its last acknowledged state or in
    /// that unconfirmed one (§6 promises the first survives, nothing about the second, whose
    /// bytes may well be in the page cache), a step the sequential model does not have: its
    /// operations after the wipe are judged by their expectations and by the restored-entries
    /// check (every restored entry is the store's winning record), not by the history.
    func historyContinues(_ o: OperationStep, _ r: DriverResponse?) -> Bool {
        guard let key = o.key else { return true }
        if wipedUndurableKeys.contains(key) { return false }
        if o.durable, r?.result["durable"]?.bool == false { undurableKeys.insert(key) }
        return true
    }

    /// The role's current journal: the greatest name with its participant id (segment, epoch and
    /// part are fixed-width hex, so the greatest name is the newest file).
    func newestJournal(of rp: RoleProcess) -> EndedJournal? {
        guard let p = rp.participant else { return nil }
        let id = "-" + String(format: "%04x", p) + "-"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: storeDir)) ?? [])
            .filter { $0.hasPrefix("journal-") && $0.hasSuffix(".wcj") && $0.dropFirst(24).hasPrefix(id) }
        guard let name = names.max(), name.count == 8 + 16 + 6 + 16 + 5 + 4,
              let part = UInt32(name.dropLast(4).suffix(4), radix: 16) else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: storeDir + "/" + name)[.size] as? Int) ?? -1
        return EndedJournal(name: name, prefix: String(name.dropLast(9)), part: part, size: size)
    }
}

/// A journal file of one role: its name, the name without `-<part>.wcj`, its part and size.
struct EndedJournal {
    let name: String
    let prefix: String
    let part: UInt32
    let size: Int
}
