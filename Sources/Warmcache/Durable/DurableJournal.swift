// DurableJournal.swift — one handle's journal and the fsync policies (docs/PERSISTENCE.md §6).
//
// One file per writer (§1): no lock between processes, and a crash can only tear this file's
// last record. The mutex serialises the handle's threads, so that seq order is append order is
// answer order.

import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// When journal bytes are made durable (§6).
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// `fdatasync` before answering: an operation answered durable survives a power cut.
    case always
    /// A timer `fdatasync`s every interval: a power cut loses at most about the last interval,
    /// and what survives is a prefix with no hole.
    case interval
    /// The kernel writes back when it will: survives a process crash, not a power cut.
    case none
}

/// A durable store directory and its policy.
public struct StoreOptions: Sendable {
    public var directory: String
    public var policy: FsyncPolicy
    /// `interval` only; 0 means one second.
    public var intervalNs: UInt64

    public init(directory: String, policy: FsyncPolicy = .always, intervalNs: UInt64 = 0) {
        self.directory = directory
        self.policy = policy
        self.intervalNs = intervalNs
    }
}

/// What a harness needs to simulate a power cut (DRIVER.md `journal_state`).
public struct JournalState: Sendable, Equatable {
    /// The current journal, "" before the first durable operation.
    public var path = ""
    /// Bytes `write` returned for.
    public var written = 0
    /// Bytes the last completed `fdatasync` covered.
    public var synced = 0
    /// Records in the file.
    public var seq: UInt64 = 0
}

/// Who the journal's writer is: the fields of a new file's name and header (§2, §4).
struct JournalIdentity {
    var segmentCreatedAtNs: UInt64
    var participant: UInt16
    var epoch: UInt64
    var writer: UInt64
    var writerStartTime: UInt64
    var geometry: Geometry
}

final class Journal: @unchecked Sendable {
    let options: StoreOptions
    let identity: JournalIdentity
    private var mutex = pthread_mutex_t()
    private var fd: Int32 = -1
    private var state = JournalState()
    private var part: UInt32 = 0
    /// A new file's directory entry is not yet fsynced.
    private var nameDirty = false
    private var timer: DispatchSourceTimer?

    init(options: StoreOptions, identity: JournalIdentity) {
        self.options = options
        self.identity = identity
        pthread_mutex_init(&mutex, nil)
        if options.policy == .interval {
            let ns = options.intervalNs == 0 ? 1_000_000_000 : options.intervalNs
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "warmcache.journal.sync"))
            t.schedule(deadline: .now() + .nanoseconds(Int(ns)), repeating: .nanoseconds(Int(ns)))
            t.setEventHandler { [weak self] in self?.intervalTick() }
            t.resume()
            timer = t
        }
    }

    deinit { pthread_mutex_destroy(&mutex) }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    var current: JournalState { locked { state } }

    /// §6 steps 2–3 for one record: write it whole at the end of the file, then the policy.
    /// Returns whether the record is durable as the policy promises; false after any error, the
    /// file then being closed so that the next durable operation starts part + 1.
    /// `at` is the handle's pause hook.
    func append(_ record: DurableRecord, at: (PausePoint) -> Void) -> Bool {
        at(.journalBeforeAppend)
        return locked {
            if fd < 0 {
                if let e = startFile() {
                    report(e)
                    return false
                }
            }
            var r = record
            r.seq = state.seq + 1
            let bytes = r.encoded()
            if let e = writeAll(bytes) {
                report(e)
                endPart()
                return false
            }
            state.seq += 1
            state.written += bytes.count
            at(.journalAfterAppend)
            if options.policy == .always {
                if let e = sync() {
                    // Never retried: after a failed fsync the kernel may have dropped the pages.
                    report(e)
                    endPart()
                    return false
                }
                at(.journalAfterSync)
            }
            return true
        }
    }

    /// §6 "Starting a journal". Called with the mutex held.
    private func startFile() -> StoreIOError? {
        let name = "journal-\(hexWidth16(identity.segmentCreatedAtNs))-\(hexWidth(UInt64(identity.participant), 4))-"
            + "\(hexWidth16(identity.epoch))-\(hexWidth(UInt64(part), 4)).wcj"
        let path = options.directory + "/" + name
        let f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if f < 0 { return StoreIOError(op: "open", path: path, errno: errno) }
        // Held while we own the file: it tells a compactor the file is live (§8 step 2).
        if flock(f, LOCK_EX) != 0 {
            let e = errno
            _ = Glibc.close(f)
            part += 1   // the name is taken: the next start would meet EEXIST on it (§6)
            return StoreIOError(op: "flock", path: path, errno: e)
        }
        var h = StoreHeader(magic: StoreFormat.JOURNAL_MAGIC, geometry: identity.geometry)
        h.segmentCreatedAtNs = identity.segmentCreatedAtNs
        h.writer = identity.writer
        h.writerStartTime = identity.writerStartTime
        h.participant = identity.participant
        h.epoch = identity.epoch
        h.createdAtNs = wallClockNs()
        fd = f
        state = JournalState(path: path, written: 0, synced: 0, seq: 0)
        if let e = writeAll(h.encoded()) {
            endPart()
            return e
        }
        state.written = StoreFormat.HEADER_SIZE
        nameDirty = true
        if options.policy != .none, let e = sync() {
            // The header and the name must be durable before any record is acknowledged.
            endPart()
            return e
        }
        return nil
    }

    /// A short write is continued (§6 step 2).
    private func writeAll(_ bytes: [UInt8]) -> StoreIOError? { Warmcache.writeAll(fd, bytes, path: state.path) }

    /// `fdatasync` of the file, and once per new file `fsync(DIR)` (its name). Mutex held.
    private func sync() -> StoreIOError? {
        let upto = state.written
        if fdatasync(fd) != 0 { return StoreIOError(op: "fdatasync", path: state.path, errno: errno) }
        if nameDirty {
            if let e = fsyncDirectory(options.directory) { return e }
            nameDirty = false
        }
        state.synced = upto
        return nil
    }

    /// Close after an error (or to hand the file to a compactor): the next durable operation
    /// starts part + 1.
    private func endPart() {
        closeFile()
        part += 1
    }

    private func closeFile() {
        if fd >= 0 {
            _ = Glibc.close(fd)   // releases the flock
            fd = -1
        }
    }

    /// Close the current file (synced first under `always`/`interval`), so that a compactor can
    /// take its lock (§8 step 1); the next durable operation starts part + 1.
    func endCurrentPart() {
        locked {
            guard fd >= 0 else { return }
            if options.policy != .none { _ = sync() }
            endPart()
        }
    }

    private func intervalTick() {
        locked {
            guard fd >= 0, state.synced < state.written else { return }
            if let e = sync() {
                report(e)
                endPart()
            }
        }
    }

    /// Stop the timer, sync what an `always`/`interval` journal wrote, close the file.
    func close() {
        timer?.cancel()
        timer = nil
        locked {
            if fd >= 0 && options.policy != .none { _ = sync() }
            closeFile()
        }
    }

    private func report(_ e: StoreIOError) {
        let line = "warmcache: journal: \(e.message)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

/// `fsync` of a directory: makes a new or removed name durable.
func fsyncDirectory(_ dir: String) -> StoreIOError? {
    let d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if d < 0 { return StoreIOError(op: "open", path: dir, errno: errno) }
    defer { _ = Glibc.close(d) }
    if fsync(d) != 0 { return StoreIOError(op: "fsync", path: dir, errno: errno) }
    return nil
}

func hexWidth(_ v: UInt64, _ width: Int) -> String {
    let s = String(v, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

func hexWidth16(_ v: UInt64) -> String { hexWidth(v, 16) }

/// CLOCK_REALTIME in nanoseconds (a file's `created_at_ns`).
func wallClockNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
