// DurablePut.swift — durable operations (docs/PERSISTENCE.md §3, §6): a write takes its order
// inside its claim, publishes as PROTOCOL.md §9 says, and only then appends its record.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One durable operation's journal state, carried through the write or remove path: the order
/// taken inside the claim and, once published, the record (built in private memory: the shared
/// record may be rewritten by the next writer as soon as we publish).
final class DurableTicket {
    let key: [UInt8]
    private var order: UInt64 = 0
    private(set) var record: DurableRecord?

    init(key: [UInt8]) { self.key = key }

    /// `order = fetch_add(durable_order, 1) + 1`, sequentially consistent (§3). Called while the
    /// operation holds the slot's claim, so for one key orders follow the claims.
    func takeOrder(_ c: WarmCache) {
        order = c.words.fetchAddSeqCst(Layout.HDR_DURABLE_ORDER, 1) &+ 1
    }

    /// A put or refresh was published (T2/T5) with these fields: the record repeats them (§5).
    func published(_ c: WarmCache, _ vb: UnsafeRawBufferPointer, version: UInt64, _ opts: PutOptions, now: UInt64) {
        var r = DurableRecord(kind: .put, order: order, key: key)
        r.version = version
        r.originTag = opts.originTag
        (r.expiresAtNs, r.staleUntilNs) = c.expiry(opts, now: now)
        r.writtenAtNs = now
        r.writer = c.writer
        r.writerStartTime = ProcessInfoLite.startTime
        r.value = Array(vb)
        record = r
    }

    /// An invalidate or evict cleared the slot (T9): a tombstone.
    func removed(_ c: WarmCache) {
        var r = DurableRecord(kind: .invalidate, order: order, key: key)
        r.writtenAtNs = c.now()
        r.writer = c.writer
        r.writerStartTime = ProcessInfoLite.startTime
        record = r
    }
}

extension WarmCache {
    /// Journal this handle's durable operations into `options.directory` (created 0700 if
    /// missing) with `options.policy` (PERSISTENCE.md §6). The journal file itself is started
    /// by the first durable operation.
    public func attachStore(_ options: StoreOptions) throws(StoreIOError) {
        guard !isClosed else { throw StoreIOError(op: "attach a store (the handle is closed)", path: path, errno: EBADF) }
        try makeStoreDirectory(options.directory)
        let me = Int(participantId) - 1
        let identity = JournalIdentity(
            segmentCreatedAtNs: words.loadRelaxed(Layout.HDR_CREATED_AT_NS),   // immutable header
            participant: participantId,
            // Our own entry's epoch: only this handle changes it while registered.
            epoch: words.loadAcquire(layout.participantOffset(me) + Layout.PART_EPOCH),
            writer: writer, writerStartTime: ProcessInfoLite.startTime, geometry: geometry)
        journal?.close()
        journal = Journal(options: options, identity: identity)
    }

    /// The store this handle journals into, nil without one.
    public var storeOptions: StoreOptions? { journal?.options }

    /// The current journal file and how much of it was written and synced (DRIVER.md
    /// `journal_state`); all zero before the first durable operation or without a store.
    public var journalState: JournalState {
        get throws(UsageError) {
            guard !isClosed else { throw .closed }
            return journal?.current ?? JournalState()
        }
    }

    /// `put` journaled into the store: `durable` is true when its record is durable as the
    /// policy promises (false without a store, when the put did not take effect, or when the
    /// journal failed: the put itself still stands).
    public func durablePut(_ key: [UInt8], _ value: [UInt8], options: PutOptions = .init()) -> (outcome: PutOutcome, durable: Bool) {
        durableWrite(key, value, options, refreshOnly: false)
    }

    /// `refresh` journaled into the store, as `durablePut`.
    public func durableRefresh(_ key: [UInt8], _ value: [UInt8], options: PutOptions = .init()) -> (outcome: PutOutcome, durable: Bool) {
        durableWrite(key, value, options, refreshOnly: true)
    }

    /// `invalidate` journaled as a tombstone; a key that was not there writes nothing (§6 step 1).
    public func durableInvalidate(_ key: [UInt8]) -> (outcome: RemoveOutcome, durable: Bool) {
        durableRemove(key, evict: false)
    }

    /// `evict` journaled as a tombstone, as `durableInvalidate`.
    public func durableEvict(_ key: [UInt8]) -> (outcome: RemoveOutcome, durable: Bool) {
        durableRemove(key, evict: true)
    }

    func durableWrite(_ key: [UInt8], _ value: [UInt8], _ opts: PutOptions, refreshOnly: Bool) -> (outcome: PutOutcome, durable: Bool) {
        guard let j = journal else { return (write(key, value, opts, refreshOnly: refreshOnly), false) }
        let t = DurableTicket(key: key)
        let outcome = write(key, value, opts, refreshOnly: refreshOnly, ticket: t)
        return (outcome, append(t, to: j))
    }

    func durableRemove(_ key: [UInt8], evict: Bool) -> (outcome: RemoveOutcome, durable: Bool) {
        guard let j = journal else { return (remove(key, evict: evict), false) }
        let t = DurableTicket(key: key)
        let outcome = remove(key, evict: evict, ticket: t)
        return (outcome, append(t, to: j))
    }

    /// §6 step 2: after the publish, outside the claim. An operation that did not take effect
    /// has no record and writes nothing.
    private func append(_ t: DurableTicket, to j: Journal) -> Bool {
        guard let r = t.record else { return false }
        return j.append(r) { at($0) }
    }
}

/// `mkdir -p` with mode 0700 for what it creates (§11: the directory is the access control).
func makeStoreDirectory(_ dir: String) throws(StoreIOError) {
    var st = stat()
    if stat(dir, &st) == 0 { return }
    var prefix = dir.hasPrefix("/") ? "" : "."
    for part in dir.split(separator: "/") {
        prefix += "/" + part
        if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw StoreIOError(op: "mkdir", path: prefix, errno: errno) }
    }
}
