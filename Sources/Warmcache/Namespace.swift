// Namespace.swift — versioned namespaces (PROTOCOL.md §18, 1.1): the three places they live,
// the word codecs, and `nsState`. The operations have a file per concern: NamespaceStage.swift
// (N1–N5: stage, put, flip, rollback), NamespacePin.swift (N6, N7 and `nsGet`),
// NamespaceReclaim.swift (N8, §18.7).
//
// Every load and CAS of a table word and every load and store of a pin word is sequentially
// consistent (§18.5): the proofs of §18.6 and §18.7 are about one total order of them, and they
// are touched a few times per operation, so nothing weaker is worth a longer argument.

extension Layout {
    /// ```
    ///  The namespace table, header lines 9–10 (§18.2)
    ///  line 9   576 ns 0: ns_head | 584 ns 0: ns_stage | … | 632 ns 3: ns_stage
    ///  line 10  640 ns 4: ns_head | …                  | 696 ns 7: ns_stage
    ///
    ///  ns_head (+0)                                   ns_stage (+8)
    ///  63                 32 31                  0    63      48 47         32 31                  0
    ///  +-------------------+--------------------+    +---------+-------------+--------------------+
    ///  |     previous      |      current       |    |  zero   |   stager    |        last        |
    ///  +-------------------+--------------------+    +---------+-------------+--------------------+
    ///
    ///  ns_pin, participant entry + 56 (§18.3)
    ///  63                 40 39   35 34  32 31                  0
    ///  +--------------------+-------+------+--------------------+
    ///  |     pin_epoch      | zero  |  ns  |      version       |
    ///  +--------------------+-------+------+--------------------+
    ///
    ///  namespace key nskey(ns, v, k): an ordinary key of 16 + len(k) bytes (§18.1)
    ///  +-----------------------------------+----------------------+---------------------------+
    ///  | word 0: NS_KEY_MAGIC (bits 0..47) | word 1: v            | k (the user key, ≥ 1 byte)|
    ///  |         ns (bits 48..63)          |   (1..2^32−1)        |                           |
    ///  +-----------------------------------+----------------------+---------------------------+
    ///  0                                   8                      16                 16+len(k)
    /// ```
    public static let NS_COUNT = 8
    public static let NS_TABLE_OFFSET = 576
    public static let NS_ENTRY_SIZE = 16
    public static let NS_HEAD = 0
    public static let NS_STAGE = 8
    /// The bytes FF 57 43 4E 53 01 ("\xFFWCNS\x01"), bits 0..47 of a namespace key's word 0.
    public static let NS_KEY_MAGIC: UInt64 = 0x0153_4E43_57FF
    public static let NS_KEY_PREFIX_LEN = 16
    public static let NS_VERSION_MAX: UInt64 = 0xFFFF_FFFF
    /// `pin_epoch` is the low 24 bits of the pinner's registration `epoch`.
    public static let PIN_EPOCH_MASK: UInt64 = 0xFF_FFFF
    /// 1.1: the participant's namespace pin.
    public static let PART_NS_PIN = 56
}

/// `ns_head`: the version readers read, and the one a rollback returns to (0 = none).
struct NsHead: Equatable {
    var current: UInt64
    var previous: UInt64
    init(current: UInt64, previous: UInt64) { self.current = current; self.previous = previous }
    init(raw w: UInt64) { current = w & Layout.NS_VERSION_MAX; previous = w >> 32 }
    var raw: UInt64 { current | previous << 32 }
    /// `v` is current or previous: it has not been retired (§18.2 invariant 3).
    func holds(_ v: UInt64) -> Bool { v != 0 && (current == v || previous == v) }
}

/// `ns_stage`: the highest version handed out, and the open stage's owner (0: none).
struct NsStage: Equatable {
    var last: UInt64
    var stager: UInt16
    var raw: UInt64 { last | UInt64(stager) << 32 }
}

/// A well-formed non-zero pin word (an ill-formed one protects nothing).
struct NsPin: Equatable {
    var ns: Int
    var version: UInt64
    var epoch24: UInt64
    init(ns: Int, version: UInt64, epoch24: UInt64) { self.ns = ns; self.version = version; self.epoch24 = epoch24 }
    init?(raw w: UInt64) {
        guard w & (0x1F << 35) == 0, w & Layout.NS_VERSION_MAX != 0 else { return nil }
        ns = Int((w >> 32) & 7); version = w & Layout.NS_VERSION_MAX; epoch24 = w >> 40
    }
    var raw: UInt64 { version | UInt64(ns) << 32 | (epoch24 & Layout.PIN_EPOCH_MASK) << 40 }
}

/// A namespace operation's failure: a §15 code (`OpFailure`) and what was found where.
public struct NsFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var failure: OpFailure
    public var message: String
    public var code: String { failure.code }
    public var description: String { "\(code): \(message)" }
}

/// `nsState`: the namespace's table entry and its live pins (participant, version).
public struct NsState: Sendable, Equatable {
    public var current: UInt64
    public var previous: UInt64
    public var last: UInt64
    public var stager: UInt16
    public var pins: [(participant: UInt16, version: UInt64)]

    public static func == (a: NsState, b: NsState) -> Bool {
        (a.current, a.previous, a.last, a.stager) == (b.current, b.previous, b.last, b.stager)
            && a.pins.map(\.participant) == b.pins.map(\.participant) && a.pins.map(\.version) == b.pins.map(\.version)
    }
}

/// `nskey(ns, v, k)` (§18.1); the caller has checked `ns < NS_COUNT` and `1 ≤ v ≤ 2^32−1`.
public func nskey(_ ns: Int, _ v: UInt64, _ k: [UInt8]) -> [UInt8] {
    var key: [UInt8] = []
    key.reserveCapacity(Layout.NS_KEY_PREFIX_LEN + k.count)
    withUnsafeBytes(of: (Layout.NS_KEY_MAGIC | UInt64(ns) << 48).littleEndian) { key.append(contentsOf: $0) }
    withUnsafeBytes(of: v.littleEndian) { key.append(contentsOf: $0) }
    key.append(contentsOf: k)
    return key
}

/// The (namespace, version) a key of length `len` names, given its first two words, if it is a
/// namespace key (§18.1: length ≥ 17, the magic, `ns < NS_COUNT`, `1 ≤ v ≤ 2^32−1`).
func namespaceOf(len: Int, word0: UInt64, word1: UInt64) -> (ns: Int, version: UInt64)? {
    let ns = Int(word0 >> 48)
    guard len > Layout.NS_KEY_PREFIX_LEN, word0 & ((1 << 48) - 1) == Layout.NS_KEY_MAGIC, ns < Layout.NS_COUNT,
          (1...Layout.NS_VERSION_MAX).contains(word1) else { return nil }
    return (ns, word1)
}

func nsFail(_ f: OpFailure, _ message: String) -> NsFailure { NsFailure(failure: f, message: message) }

extension WarmCache {
    func nsWordOffset(_ ns: Int, _ field: Int) -> Int { Layout.NS_TABLE_OFFSET + ns * Layout.NS_ENTRY_SIZE + field }

    /// `ns < NS_COUNT` on an open 1.1 handle, else `bad_namespace` (§18.2) or `closed`.
    func checkNamespace(_ ns: Int) throws(NsFailure) {
        guard !isClosed else { throw nsFail(.closed, "the handle is closed") }
        guard (0..<Layout.NS_COUNT).contains(ns) else {
            throw nsFail(.badNamespace, "namespace \(ns) does not exist (there are \(Layout.NS_COUNT): 0..\(Layout.NS_COUNT - 1))")
        }
    }

    /// `ns_head`, checked well formed (`previous = 0` or `previous < current`; §13: the table is
    /// untrusted, and an ill-formed word changes nothing).
    func loadHead(_ ns: Int) throws(NsFailure) -> (raw: UInt64, head: NsHead) {
        let w = words.loadSeqCst(nsWordOffset(ns, Layout.NS_HEAD))
        let h = NsHead(raw: w)
        guard h.previous == 0 || h.previous < h.current else {
            throw nsFail(.badNamespace, "namespace \(ns): ns_head 0x\(String(w, radix: 16)) has previous \(h.previous) ≥ current \(h.current)")
        }
        return (w, h)
    }

    /// `ns_stage`, checked well formed (bits 48..63 zero, `stager ≤ participant_capacity`).
    func loadStage(_ ns: Int) throws(NsFailure) -> (raw: UInt64, stage: NsStage) {
        let w = words.loadSeqCst(nsWordOffset(ns, Layout.NS_STAGE))
        let stager = (w >> 32) & 0xFFFF
        guard w >> 48 == 0, stager <= UInt64(layout.participantCapacity) else {
            throw nsFail(.badNamespace, "namespace \(ns): ns_stage 0x\(String(w, radix: 16)) is ill-formed (bits 48..63 zero, stager ≤ \(layout.participantCapacity))")
        }
        return (w, NsStage(last: w & Layout.NS_VERSION_MAX, stager: UInt16(stager)))
    }

    /// The cross-word rule of §18.2 for a head read before a stage: `current, previous ≤ last`.
    func checkPair(_ ns: Int, _ h: NsHead, _ s: NsStage) throws(NsFailure) {
        guard h.current <= s.last, h.previous <= s.last else {
            throw nsFail(.badNamespace, "namespace \(ns): ns_head names version \(max(h.current, h.previous)) above last \(s.last)")
        }
    }

    func pinOffset(_ participant: UInt16) -> Int { layout.participantOffset(Int(participant) - 1) + Layout.PART_NS_PIN }

    /// Participant `id`'s pin if it is live (§18.3): well formed, its owner alive, its
    /// `pin_epoch` the low 24 bits of the entry's `epoch` now (acquire load).
    func livePin(_ id: UInt16) -> NsPin? {
        guard let pin = NsPin(raw: words.loadSeqCst(pinOffset(id))) else { return nil }
        let epoch = words.loadAcquire(layout.participantOffset(Int(id) - 1) + Layout.PART_EPOCH)
        return pin.epoch24 == epoch & Layout.PIN_EPOCH_MASK && isAlive(id) ? pin : nil
    }

    /// `ns_state(ns)`: reads only.
    public func nsState(_ ns: Int) throws(NsFailure) -> NsState {
        try checkNamespace(ns)
        let h = try loadHead(ns).head
        let s = try loadStage(ns).stage
        var pins: [(participant: UInt16, version: UInt64)] = []
        for id in 1...UInt16(layout.participantCapacity) {
            if let p = livePin(id), p.ns == ns { pins.append((id, p.version)) }
        }
        return NsState(current: h.current, previous: h.previous, last: s.last, stager: s.stager, pins: pins)
    }
}
