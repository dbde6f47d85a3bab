// Trace.swift — optional recorder of the transitions a handle makes (§8.4, DRIVER.md
// `transitions`). Only when tracing is on does a transition take `event_seq`.

import CWarmcacheShim

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One slot transition: `{event, shard, slot, from, to, seq, owner, gseq}`.
public struct Transition: Codable, Sendable, Equatable {
    public var event: String
    public var shard: Int
    public var slot: Int
    public var from: String
    public var to: String
    /// The slot's new `seq`.
    public var seq: UInt32
    /// The acting participant's id.
    public var owner: UInt16
    /// The value taken from the header's `event_seq` (the incremented value, so ≥ 1).
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
        // each process's program order (§8.4).
        let gseq = words.fetchAddAcqRel(Layout.HDR_EVENT_SEQ, 1) &+ 1
        tracer.append(Transition(event: event.rawValue, shard: shard, slot: slot, from: from.name,
                                 to: to.name, seq: to.seq, owner: participantId, gseq: gseq))
    }

    /// Whether this handle records transitions.
    public var isTracing: Bool { tracer.enabled }

    /// The transitions recorded since the last call, in order (empty when tracing is off).
    public func drainTransitions() -> [Transition] { tracer.drain() }
}
