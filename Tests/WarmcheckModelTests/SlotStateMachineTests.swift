import XCTest
@testable import WarmcheckModel

final class SlotStateMachineTests: XCTestCase {
    func testNamesParseExactlyAsSpelled() {
        XCTAssertEqual(SlotEvent.allCases.map(\.name),
                       ["claim", "publish", "abort", "refresh_claim", "refresh_publish", "refresh_abort",
                        "mark_stale", "invalidate_claim", "clear", "evict", "expire", "reclaim"])
        XCTAssertEqual(SlotEvent(name: "refresh_claim"), .refreshClaim)
        XCTAssertNil(SlotEvent(name: "refreshClaim"))
        XCTAssertEqual(SlotState(name: "INVALIDATED"), .invalidated)
        XCTAssertNil(SlotState(name: "ready"))
        XCTAssertEqual(SlotState.allCases.map(\.rawValue), [0, 1, 2, 3, 4, 5])
    }

    func testTableHasFourteenRows() {
        XCTAssertEqual(SlotStateMachine.rules.map(\.id), (1...14).map { "T\($0)" })
        XCTAssertEqual(Set(SlotStateMachine.silentRules.map(\.id)), ["T7", "T12", "T13", "T14"])
        XCTAssertEqual(SlotStateMachine.rules.filter { $0.actor == .ownerOnly }.map(\.id), ["T2", "T3", "T5", "T6", "T9"])
        XCTAssertEqual(SlotStateMachine.rules.filter(\.flipsActive).map(\.id), ["T5"])
    }

    func testEveryRowIsLegal() {
        var count = 0
        for rule in SlotStateMachine.rules {
            for from in rule.from {
                let owner = 3
                let t = ObservedTransition(rule.event, shard: 1, slot: 2, from: from, to: rule.to, seq: 9, owner: owner)
                XCTAssertNil(SlotStateMachine.judge(t, reporter: owner), "\(rule) from \(from)")
                XCTAssertNil(SlotStateMachine.judge(t, reporter: nil), "\(rule) from \(from)")
                XCTAssertEqual(SlotStateMachine.rule(event: rule.event, from: from, to: rule.to)?.id, rule.id)
                count += 1
            }
        }
        XCTAssertEqual(count, 18)
    }

    func testEveryOtherTripleIsIllegal() {
        var illegal = 0
        for e in SlotEvent.allCases {
            for from in SlotState.allCases {
                for to in SlotState.allCases where SlotStateMachine.rule(event: e, from: from, to: to) == nil {
                    let t = ObservedTransition(e, from: from, to: to, seq: 1, owner: 1)
                    let v = SlotStateMachine.judge(t, reporter: nil)
                    XCTAssertEqual(v?.kind, .illegalTransition, "\(e) \(from)→\(to)")
                    illegal += 1
                }
            }
        }
        XCTAssertEqual(illegal, 12 * 36 - 18)
    }

    func testIllegalTransitionExplanationNamesWhatWasAllowed() throws {
        let t = ObservedTransition(.publish, shard: 0, slot: 3, from: .ready, to: .ready, seq: 7, owner: 2)
        let v = try XCTUnwrap(SlotStateMachine.judge(t, reporter: 2))
        XCTAssertEqual(v.kind, .illegalTransition)
        XCTAssertEqual(v.expectedRule, "T2")
        XCTAssertEqual(v.seq, 7)
        for needle in ["`publish`", "READY", "WRITING", "refresh_claim", "mark_stale", "invalidate_claim",
                       "evict", "expire", "T2", "shard 0, slot 3"] {
            XCTAssertTrue(v.explanation.contains(needle), "missing \(needle) in: \(v.explanation)")
        }
    }

    func testWrongTargetStateSaysWhereItMustLead() throws {
        let t = ObservedTransition(.refreshAbort, from: .refreshing, to: .stale, seq: 4, owner: 1)
        let v = try XCTUnwrap(SlotStateMachine.judge(t, reporter: 1))
        XCTAssertEqual(v.expectedRule, "T6")
        XCTAssertTrue(v.explanation.contains("must lead to READY (T6), not STALE"), v.explanation)
    }

    func testUnknownEventAndState() throws {
        let a = try XCTUnwrap(SlotStateMachine.judge(
            ObservedTransition(event: "publsh", shard: 0, slot: 0, from: "WRITING", to: "READY", seq: 2, owner: 1), reporter: nil))
        XCTAssertEqual(a.kind, .unknownEvent)
        XCTAssertTrue(a.explanation.contains("`publsh`") && a.explanation.contains("publish (T2") == false
                      && a.explanation.contains("`publish` (T2"), a.explanation)
        let b = try XCTUnwrap(SlotStateMachine.judge(
            ObservedTransition(event: "publish", shard: 0, slot: 0, from: "WRITING", to: "Ready", seq: 2, owner: 1), reporter: nil))
        XCTAssertEqual(b.kind, .unknownState)
        XCTAssertTrue(b.explanation.contains("`Ready`"), b.explanation)
    }

    func testOwnerRules() throws {
        // Owner-only made by someone else.
        let p = ObservedTransition(.publish, from: .writing, to: .ready, seq: 2, owner: 2)
        let v = try XCTUnwrap(SlotStateMachine.judge(p, reporter: 3))
        XCTAssertEqual(v.kind, .wrongOwner)
        XCTAssertTrue(v.explanation.contains("participant 3") && v.explanation.contains("names participant 2"), v.explanation)
        // A claim must name its maker.
        let c = ObservedTransition(.claim, from: .empty, to: .writing, seq: 1, owner: 4)
        XCTAssertEqual(SlotStateMachine.judge(c, reporter: 5)?.kind, .wrongOwner)
        // An owned target with owner 0 is an impossible word.
        let z = ObservedTransition(.refreshClaim, from: .ready, to: .refreshing, seq: 1, owner: 0)
        XCTAssertEqual(SlotStateMachine.judge(z, reporter: nil)?.kind, .wrongOwner)
        // A reclaim may be made by the dead owner's successor at the same index.
        let r = ObservedTransition(.reclaim, from: .writing, to: .empty, seq: 5, owner: 4)
        XCTAssertNil(SlotStateMachine.judge(r, reporter: 4))
    }

    func testSilentReachability() {
        XCTAssertEqual(SlotStateMachine.silentlyReachable(from: .refreshing, steps: 2), [.stale])
        XCTAssertEqual(SlotStateMachine.silentlyReachable(from: .ready, steps: 1), [.stale])
        XCTAssertEqual(SlotStateMachine.silentlyReachable(from: .empty, steps: 1), [])
        XCTAssertEqual(SlotStateMachine.silentlyReachable(from: .ready, steps: 1 << 40), [])
        XCTAssertEqual(SlotStateMachine.silentPath(from: .refreshing, to: .stale, steps: 2)?.map(\.id), ["T13", "T7"])
    }

    func testSlotWordDecoding() {
        let w = SlotWord(state: .refreshing, active: 1, owner: 7, seq: 42)
        XCTAssertEqual(w.state, .refreshing)
        XCTAssertEqual(w.active, 1)
        XCTAssertEqual(w.owner, 7)
        XCTAssertEqual(w.seq, 42)
        XCTAssertNil(w.impossibility)
        XCTAssertNotNil(SlotWord(state: .ready, owner: 7, seq: 1).impossibility)
        XCTAssertNotNil(SlotWord(raw: 9).impossibility)
        XCTAssertNotNil(SlotWord(raw: UInt64(SlotState.ready.rawValue) | 1 << 12).impossibility)
    }
}

final class TransitionCheckerTests: XCTestCase {
    typealias T = ObservedTransition

    func testChainInAnyArrivalOrder() {
        let c = TransitionChecker(initial: .freshSegment)
        let ts = [
            T(.claim, from: .empty, to: .writing, seq: 1, owner: 2),
            T(.publish, from: .writing, to: .ready, seq: 2, owner: 2),
            T(.refreshClaim, from: .ready, to: .refreshing, seq: 3, owner: 3),
            T(.refreshPublish, from: .refreshing, to: .ready, seq: 4, owner: 3),
            T(.invalidateClaim, from: .ready, to: .invalidated, seq: 5, owner: 2),
            T(.clear, from: .invalidated, to: .empty, seq: 6, owner: 2),
        ]
        for t in ts.reversed() { c.observe(t, reporter: t.owner) }
        XCTAssertEqual(c.violations, [])
        XCTAssertEqual(c.coverage(), [.claim, .publish, .refreshClaim, .refreshPublish, .invalidateClaim, .clear])
        XCTAssertEqual(c.missingCoverage([.claim, .reclaim]), [.reclaim])
    }

    func testBrokenChain() throws {
        let c = TransitionChecker()
        c.observe(T(.claim, from: .empty, to: .writing, seq: 1, owner: 2), reporter: 2)
        c.observe(T(.refreshClaim, from: .ready, to: .refreshing, seq: 2, owner: 2), reporter: 2)
        let v = try XCTUnwrap(c.violations.first)
        XCTAssertEqual(c.violations.count, 1)
        XCTAssertEqual(v.kind, .brokenChain)
        XCTAssertTrue(v.explanation.contains("WRITING") && v.explanation.contains("`publish`"), v.explanation)
    }

    func testGapExplainedByMarkStale() {
        let c = TransitionChecker()
        c.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        c.observe(T(.refreshClaim, from: .stale, to: .refreshing, seq: 4, owner: 3), reporter: 3)
        XCTAssertEqual(c.violations, [])
    }

    func testGapOfTwoExplainedByReclaimThenMarkStale() {
        let c = TransitionChecker()
        c.observe(T(.refreshClaim, from: .ready, to: .refreshing, seq: 3, owner: 5), reporter: 5)
        c.observe(T(.invalidateClaim, from: .stale, to: .invalidated, seq: 6, owner: 1), reporter: 1)
        XCTAssertEqual(c.violations, [])
    }

    func testGapNotExplained() throws {
        let c = TransitionChecker()
        c.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        c.observe(T(.clear, from: .invalidated, to: .empty, seq: 4, owner: 2), reporter: 2)
        let v = try XCTUnwrap(c.violations.first)
        XCTAssertEqual(c.violations.count, 1)
        XCTAssertEqual(v.kind, .unexplainedGap)
        XCTAssertTrue(v.explanation.contains("cannot explain the 1 unreported transition"), v.explanation)
        XCTAssertTrue(v.explanation.contains("can only reach STALE"), v.explanation)
    }

    func testGapOfWrongLength() {
        // READY → STALE is one silent step; two missing seqs cannot be explained.
        let c = TransitionChecker()
        c.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        c.observe(T(.refreshClaim, from: .stale, to: .refreshing, seq: 5, owner: 3), reporter: 3)
        XCTAssertEqual(c.violations.map(\.kind), [.unexplainedGap])
    }

    func testFreshSegmentStartsEmptyAtZero() {
        let c = TransitionChecker(initial: .freshSegment)
        c.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        XCTAssertEqual(c.violations.map(\.kind), [.unexplainedGap])
        let d = TransitionChecker(initial: .unknown)
        d.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        XCTAssertEqual(d.violations, [])
    }

    func testDuplicateSeq() {
        let c = TransitionChecker()
        let a = T(.refreshClaim, from: .ready, to: .refreshing, seq: 3, owner: 5)
        c.observe(a, reporter: 5)
        c.observe(a, reporter: 5)  // the same report twice is not a finding
        XCTAssertEqual(c.violations, [])
        c.observe(T(.invalidateClaim, from: .ready, to: .invalidated, seq: 3, owner: 6), reporter: 6)
        XCTAssertEqual(c.violations.map(\.kind), [.duplicateSeq])
    }

    func testOwnerContinuity() throws {
        let c = TransitionChecker()
        c.observe(T(.claim, from: .empty, to: .writing, seq: 1, owner: 2), reporter: 2)
        c.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 3), reporter: 3)
        let v = try XCTUnwrap(c.violations.first)
        XCTAssertEqual(c.violations.count, 1)
        XCTAssertEqual(v.kind, .wrongOwner)
        XCTAssertEqual(v.expectedRule, "T2")
        // Owner not in the report: the reporter is compared with the claimer.
        let d = TransitionChecker()
        d.observe(T(.refreshClaim, from: .ready, to: .refreshing, seq: 1, owner: 2), reporter: 2)
        d.observe(T(.refreshAbort, from: .refreshing, to: .ready, seq: 2, owner: 0), reporter: 4)
        XCTAssertEqual(d.violations.map(\.kind), [.wrongOwner])
    }

    func testSeparateSlotsAreIndependent() {
        let c = TransitionChecker(initial: .freshSegment)
        c.observe(T(.claim, shard: 0, slot: 1, from: .empty, to: .writing, seq: 1, owner: 2), reporter: 2)
        c.observe(T(.claim, shard: 1, slot: 1, from: .empty, to: .writing, seq: 1, owner: 3), reporter: 3)
        c.observe(T(.publish, shard: 1, slot: 1, from: .writing, to: .ready, seq: 2, owner: 3), reporter: 3)
        c.observe(T(.abort, shard: 0, slot: 1, from: .writing, to: .empty, seq: 2, owner: 2), reporter: 2)
        XCTAssertEqual(c.violations, [])
    }

    func testSnapshots() {
        let c = TransitionChecker()
        c.observe(T(.claim, from: .empty, to: .writing, seq: 1, owner: 2), reporter: 2)
        c.snapshot(shard: 0, slot: 0, seq: 1, state: .writing, owner: 2)            // agrees
        c.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        c.snapshot(shard: 0, slot: 0, seq: 3, state: .stale, owner: 0)              // silent mark_stale
        XCTAssertEqual(c.violations, [])

        c.snapshot(shard: 0, slot: 0, seq: 2, state: .empty, owner: 0)              // disagrees at seq 2
        XCTAssertEqual(c.violations.map(\.kind), [.snapshotMismatch])
        XCTAssertTrue(c.violations[0].explanation.contains("EMPTY"), c.violations[0].explanation)

        let d = TransitionChecker()
        d.observe(T(.publish, from: .writing, to: .ready, seq: 2, owner: 2), reporter: 2)
        d.snapshot(shard: 0, slot: 0, seq: 5, state: .writing, owner: 9)            // unexplained
        XCTAssertEqual(d.violations.map(\.kind), [.snapshotMismatch])

        // Raw words: an impossible one is reported; a snapshot also anchors later reports.
        let e = TransitionChecker()
        e.snapshot(shard: 0, slot: 0, word: SlotWord(state: .ready, owner: 7, seq: 4).raw)
        XCTAssertEqual(e.violations.map(\.kind), [.impossibleWord])
        let f = TransitionChecker()
        f.snapshot(shard: 0, slot: 0, word: SlotWord(state: .ready, active: 1, seq: 4).raw)
        f.observe(T(.claim, from: .empty, to: .writing, seq: 5, owner: 1), reporter: 1)
        XCTAssertEqual(f.violations.map(\.kind), [.brokenChain])
    }
}
