// Trace.swift — optional recorder of the transitions a handle makes (§8.4, DRIVER.md
// `transitions`). Only when tracing is on does a transition take `event_seq`.

import CWarmcacheShim

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One slot transition: `{event, shard, slot, from, to, seq, owner, gseq}`.
@_spi(Harness) public struct Transition: Codable, Sendable, Equatable {
    public var event: String
    public var shard: Int
    public var slot: Int
    public var from: String
    public var to: String
    /// The slot's new `seq`.
    public var seq: UInt32
    /// The owner named in the state word, as §8.4 defines it (see `eventOwner`): the claimer
    /// for a claim, the replaced word's owner for a transition out of an owned state (for a
    /// reclaim: the dead owner), 0 for `mark_stale`. Not always the acting participant.
    public var owner: UInt16
    /// The value fetch-add returned from the header's `event_seq` (the value before the add;
    /// the first event of a segment is 0).
    public var gseq: UInt64
}

final class TraceRecorder: @unchecked Sendable {
    let enabled: Bool
    private var mutex = pthread_mutex_t()
    private var events: [Transition] = []

    init(enabled: Bool) {
        self.enabled = enabled
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    func append(_ t: Transition) {
        pthread_mutex_lock(&mutex)
        events.append(t)
        pthread_mutex_unlock(&mutex)
    }

    func drain() -> [Transition] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let e = events
        events.removeAll(keepingCapacity: true)
        return e
    }
}

extension WarmCache {
    /// Called after every successful state-word CAS.
    @inline(__always)
    func traced(_ event: TransitionEvent, shard: Int, slot: Int, from: StateWord, to: StateWord) {
        guard tracer.enabled else { return }
        // Relaxed would do for uniqueness; acq-rel keeps the global order consistent with
        // each process's program order (§8.4). gseq is the value fetch-add RETURNS (pre-add).
        let gseq = words.fetchAddAcqRel(Layout.HDR_EVENT_SEQ, 1)
        tracer.append(Transition(event: event.rawValue, shard: shard, slot: slot, from: from.name,
                                 to: to.name, seq: to.seq, owner: eventOwner(event, from: from, to: to),
                                 gseq: gseq))
    }

    /// Whether this handle records transitions.
    @_spi(Harness) public var isTracing: Bool { tracer.enabled }

    /// The transitions recorded since the last call, in order (empty when tracing is off).
    @_spi(Harness) public func drainTransitions() -> [Transition] { tracer.drain() }
}

/// The `owner` of a reported event (§8.4): the owner named in the state word —
/// - for a claim (T1 claim, T4 refresh_claim, T8 invalidate_claim, T10 evict, T11 expire): the
///   new word's owner, i.e. the claimer;
/// - for a transition out of an owned state (T2 publish, T3 abort, T5 refresh_publish,
///   T6 refresh_abort, T9 clear, T12–T14 reclaim): the replaced word's owner; for a reclaim that
///   is the dead owner whose claim was undone, not the reclaimer;
/// - 0 for T7 mark_stale (neither word is owned).
@inline(__always)
func eventOwner(_ event: TransitionEvent, from: StateWord, to: StateWord) -> UInt16 {
    switch event {
    case .claim, .refreshClaim, .invalidateClaim, .evict, .expire: return to.owner
    case .markStale: return 0
    case .publish, .abort, .refreshPublish, .refreshAbort, .clear, .reclaim: return from.owner
    }
}
