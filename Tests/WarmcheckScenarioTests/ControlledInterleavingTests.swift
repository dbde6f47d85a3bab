import XCTest
@testable import WarmcheckScenario

/// `pause_at=`, `paused`, `resume`, `corrupt:` and `patch_hint:` (docs/SCENARIOS.md "Controlled interleavings", "Control steps").
final class ControlledInterleavingTests: XCTestCase {
    let head = "processes:\n  w: any\n  r: any\ninit:\n"   // steps start at line 5

    func parse(_ yaml: String) throws -> Scenario { try ScenarioParser.parse(yaml: yaml, file: "t.yaml") }

    func assertError(_ yaml: String, _ kind: ScenarioError.Kind, _ at: (Int, Int), contains text: String,
                     line: UInt = #line) {
        let r = ScenarioParser.parseCollectingErrors(yaml: yaml, file: "bad.yaml")
        XCTAssertNil(r.scenario, line: line)
        guard let e = r.errors.first else { return XCTFail("expected an error", line: line) }
        XCTAssertEqual(e.kind, kind, e.description, line: line)
        XCTAssertEqual(e.line, at.0, e.description, line: line)
        XCTAssertEqual(e.column, at.1, e.description, line: line)
        XCTAssertTrue(e.message.contains(text), e.description, line: line)
        XCTAssertEqual(e.description, "bad.yaml:\(at.0):\(at.1): \(e.message)", line: line)
    }

    // MARK: parsing

    func testPauseResumeAndCorruptParse() throws {
        let s = try parse(head + """
          - w: create
          - r: open
          - w: put k v1
            expect: ok created version=1
          - w: refresh k v2 pause_at=refresh.after_payload
            expect: paused
          - r: get k
            expect: hit value=v1 version=1
          - w: resume
            expect: ok version=2
          - r: get k pause_at=get.after_key_match
          - w: invalidate k
          - r: resume
            expect: miss
          - corrupt: hex:6b
          - corrupt: "k"
        final:
          - w: put k2 v pause_at=put.after_key
            expect: paused
          - w: resume
            expect: ok created
        """)
        let refresh = try XCTUnwrap(s.initSteps[3].operation)
        XCTAssertEqual(refresh.op, .refresh)
        XCTAssertEqual(refresh.pauseAt, "refresh.after_payload")
        XCTAssertEqual(refresh.pausePoint, "refresh.after_payload")
        XCTAssertNil(refresh.crashAt)
        XCTAssertEqual(refresh.options["pause_at"], .string("refresh.after_payload"))
        XCTAssertEqual(refresh.expect, [.paused])

        let resume = try XCTUnwrap(s.initSteps[5].operation)
        XCTAssertEqual(resume.op, .resume)
        XCTAssertEqual(resume.role, "w")
        XCTAssertNil(resume.key)
        XCTAssertNil(resume.value)
        XCTAssertEqual(resume.options, [:])
        XCTAssertEqual(resume.expect, [.ok, .version(2)])
        XCTAssertEqual(resume.location, SourceLocation(file: "t.yaml", line: 13, column: 5))
        XCTAssertEqual(resume.text, "resume")

        let get = try XCTUnwrap(s.initSteps[6].operation)
        XCTAssertEqual(get.pauseAt, "get.after_key_match")
        XCTAssertEqual(get.expect, [])   // `paused` is optional
        XCTAssertEqual(try XCTUnwrap(s.initSteps[8].operation).expect, [.miss])

        XCTAssertEqual(s.initSteps[9].control?.kind, .corrupt(key: [0x6b]))
        XCTAssertEqual(s.initSteps[10].control?.kind, .corrupt(key: Array("k".utf8)))
        XCTAssertEqual(s.initSteps[9].location, SourceLocation(file: "t.yaml", line: 19, column: 5))

        XCTAssertTrue(s.operationsUsed.contains(.resume))
        XCTAssertFalse(Operation.resume.isListedInHello)
        XCTAssertTrue(Operation.get.isListedInHello)
        XCTAssertEqual(s.pausePointsUsed(), ["refresh.after_payload", "get.after_key_match", "put.after_key"])
        XCTAssertEqual(s.pausePointsUsed(role: "r"), ["get.after_key_match"])
    }

    func testModelNamesAndTokens() {
        XCTAssertEqual(Operation.resume.rawValue, "resume")
        XCTAssertEqual(Operation(rawValue: "resume"), .resume)
        XCTAssertEqual(Operation.resume.positionalCount, 0)
        XCTAssertEqual(Operation.resume.allowedOptions, [])
        for op in Operation.allCases where op != .resume {
            XCTAssertTrue(op.allowedOptions.contains("pause_at"), op.rawValue)
            XCTAssertTrue(op.allowedOptions.contains("crash_at"), op.rawValue)
        }
        XCTAssertEqual(Expectation.paused.token, "paused")
        XCTAssertFalse(Expectation.paused.applicableOperations.contains(.resume))
        XCTAssertTrue(Expectation.paused.applicableOperations.contains(.get))
        XCTAssertTrue(ScenarioParser.pausePoints.contains("get.after_key_match"))
        XCTAssertEqual(ScenarioParser.pausePoints.count, 37) // 17 cache, 4 durable store, 5 namespace, 4 compaction, 5 create, 1 repair, create.before_flock
        XCTAssertTrue(ScenarioParser.reservedWords.contains("corrupt"))
    }

    func testEveryPausePointIsAcceptedByPauseAt() throws {
        for point in ScenarioParser.pausePoints.sorted() {
            let s = try parse(head + "  - w: put k v pause_at=\(point)\n  - w: resume\n")
            XCTAssertEqual(s.initSteps[0].operation?.pauseAt, point)
        }
    }

    func testResumeExpectationsFollowThePausedOperation() throws {
        // Tokens of get on the resume of a get; `version` there implies a hit.
        let s = try parse(head + """
          - r: get k pause_at=get.between_seq_reads
          - r: resume
            expect: hit value=x version=3 writer=w
          - w: put k v pause_at=put.after_claim
          - w: resume
            expect: ok created version=1
          - w: stats pause_at=lock.after_acquire
          - w: resume
            expect: inserts=1
        """)
        XCTAssertEqual(s.initSteps[1].operation?.expect, [.hit, .value(Array("x".utf8)), .version(3), .writer(role: "w")])
        XCTAssertEqual(s.initSteps[3].operation?.expect, [.ok, .created(true), .version(1)])
        XCTAssertEqual(s.initSteps[5].operation?.expect, [.counter(.inserts, 1)])
    }

    func testCrashClearsAPause() throws {
        let s = try parse(head + """
          - w: put k v pause_at=put.after_payload
            expect: paused
          - crash: w
          - start: w
          - w: get k
        """)
        XCTAssertEqual(s.initSteps.count, 4)
    }

    func testTwoRolesPausedAtOnce() throws {
        let s = try parse(head + """
          - w: put k v pause_at=put.after_payload
          - r: put k2 v pause_at=put.after_payload
          - r: resume
          - w: resume
        """)
        XCTAssertEqual(s.initSteps.compactMap(\.operation).map(\.op), [.put, .put, .resume, .resume])
    }

    /// The interleaving scenarios of the repository parse and use what they are about.
    func testRepositoryInterleavingScenarios() throws {
        let root = try XCTUnwrap(ScenarioLibraryTests.repoRoot())
        func load(_ name: String) throws -> Scenario {
            try ScenarioParser.parse(contentsOf: root.appendingPathComponent("scenarios/\(name).yaml"))
        }
        let publish = try load("reader-during-publish-window")
        XCTAssertEqual(publish.pausePointsUsed(role: "writer"), ["refresh.after_payload", "put.after_payload"])
        XCTAssertEqual(publish.expand, .pairs)
        let reused = try load("key-reused-under-a-paused-reader")
        XCTAssertEqual(reused.geometry.slots, 1)
        XCTAssertEqual(reused.pausePointsUsed(role: "reader"), ["get.after_key_match"])
        let resume = try XCTUnwrap(reused.initSteps.compactMap(\.operation).first { $0.op == .resume })
        XCTAssertEqual(resume.expect, [.miss])
        let corrupt = try load("corrupt-value-is-a-miss")
        XCTAssertTrue(corrupt.initSteps.contains { $0.control?.kind == .corrupt(key: Array("k".utf8)) })
        let live = try load("live-claim-is-not-stolen")
        XCTAssertTrue(live.allOperations.contains { $0.expect == [.fail(reason: "busy")] })
        let evict = try load("eviction-skips-a-slot-being-written")
        XCTAssertEqual(evict.geometry.slots, 2)
        XCTAssertEqual(evict.geometry.window, 2)
        let insert = try load("concurrent-insert-of-one-new-key")
        XCTAssertEqual(insert.pausePointsUsed(), ["put.after_claim"])
    }

    // MARK: errors

    func testBadPausePoint() {
        assertError(head + "  - w: put k v pause_at=put.nowhere\n", .badArgument, (5, 16), contains: "bad pause_at 'put.nowhere'")
        assertError(head + "  - w: get k pause_at=\n", .badArgument, (5, 14), contains: "bad pause_at ''")
    }

    func testPauseAtAndCrashAtTogether() {
        assertError(head + "  - w: put k v crash_at=put.after_claim pause_at=put.after_key\n  - w: resume\n",
                    .badArgument, (5, 41), contains: "pause_at and crash_at cannot both be given")
    }

    func testPauseAtInParallelList() {
        assertError("processes: {w: any}\nparallel:\n  w: [put k v pause_at=put.after_payload]\n", .badSequence, (3, 15),
                    contains: "controlled pauses belong to sequential parts")
        assertError("processes: {w: any}\nparallel:\n  w:\n    - w: get k pause_at=get.after_key_match\n      expect: paused\n",
                    .badSequence, (4, 16), contains: "pause_at is not allowed in a parallel list")
    }

    func testResumeInParallelList() {
        assertError("processes: {w: any}\nparallel:\n  w: [get k, resume]\n", .badSequence, (3, 14),
                    contains: "resume is not allowed in a parallel list")
    }

    func testResumeTakesNoArgumentsOrOptions() {
        assertError(head + "  - w: put k v pause_at=put.after_key\n  - w: resume k\n", .badArgument, (6, 15),
                    contains: "too many arguments: resume takes no KEY or VALUE")
        assertError(head + "  - w: put k v pause_at=put.after_key\n  - w: resume crash_at=put.after_key\n", .badArgument,
                    (6, 15), contains: "unknown option 'crash_at' for resume (it takes no options)")
    }

    func testPausedNeedsPauseAt() {
        assertError(head + "  - w: put k v\n    expect: paused\n", .notApplicable, (6, 13),
                    contains: "'paused' needs pause_at=POINT")
    }

    func testOnlyPausedOnAPausingStep() {
        assertError(head + "  - w: put k v pause_at=put.after_key\n    expect: paused created\n  - w: resume\n",
                    .notApplicable, (6, 20), contains: "'created' does not apply to a step with pause_at")
    }

    func testPausedOnResume() {
        assertError(head + "  - w: put k v pause_at=put.after_key\n  - w: resume\n    expect: ok paused\n",
                    .notApplicable, (7, 16), contains: "'paused' does not apply to resume")
    }

    func testResumeExpectationMustApplyToThePausedOperation() {
        assertError(head + "  - w: put k v pause_at=put.after_payload\n  - w: resume\n    expect: ok hit\n",
                    .notApplicable, (7, 16), contains: "'hit' does not apply to put (the operation this resume continues, line 5)")
        assertError(head + "  - r: get k pause_at=get.after_key_match\n  - r: resume\n    expect: created\n",
                    .notApplicable, (7, 13), contains: "'created' does not apply to get")
    }

    func testResumeExpectationsContradiction() {
        // `version=` on the resume of a get implies a hit, so it contradicts `miss`.
        assertError(head + "  - r: get k pause_at=get.after_key_match\n  - r: resume\n    expect: miss version=1\n",
                    .contradictoryExpectations, (7, 18), contains: "version=1")
    }

    func testResumeWithoutPause() {
        assertError(head + "  - w: create\n  - w: resume\n", .badSequence, (6, 5),
                    contains: "role 'w' has no paused operation")
        // Each resume ends one pause.
        assertError(head + "  - w: put k v pause_at=put.after_key\n  - w: resume\n  - w: resume\n", .badSequence, (7, 5),
                    contains: "no paused operation")
        // Another role's pause does not count.
        assertError(head + "  - w: put k v pause_at=put.after_key\n  - r: resume\n  - w: resume\n", .badSequence, (6, 5),
                    contains: "role 'r' has no paused operation")
    }

    func testOtherOperationOfAPausedRole() {
        assertError(head + "  - w: put k v pause_at=put.after_payload\n  - r: get k\n  - w: get k\n  - w: resume\n",
                    .badSequence, (7, 5), contains: "role 'w' is paused at put.after_payload (line 5); add `w: resume`")
    }

    func testRestartOfAPausedRole() {
        assertError(head + "  - w: put k v pause_at=put.after_payload\n  - restart: w\n  - w: resume\n",
                    .badSequence, (6, 5), contains: "role 'w' is paused at put.after_payload")
    }

    func testResumeAfterCrash() {
        assertError(head + "  - w: put k v pause_at=put.after_payload\n  - crash: w\n  - w: resume\n",
                    .badSequence, (7, 5), contains: "crashed at line 6")
        assertError(head + "  - w: put k v pause_at=put.after_payload\n  - crash: w\n  - start: w\n  - w: resume\n",
                    .badSequence, (8, 5), contains: "no paused operation")
    }

    func testStillPausedAtTheEndOfInit() {
        assertError(head + "  - w: create\n  - w: put k v pause_at=put.after_payload\n    expect: paused\nfinal:\n  - r: get k\n",
                    .badSequence, (6, 5), contains: "role 'w' is still paused at put.after_payload at the end of init")
    }

    func testStillPausedAtTheEndOfFinal() {
        assertError(head + "  - w: create\nfinal:\n  - r: get k pause_at=get.after_key_match\n", .badSequence, (7, 5),
                    contains: "role 'r' is still paused at get.after_key_match at the end of final")
    }

    func testCorruptErrors() {
        assertError(head + "  - corrupt: hex:0\n", .badValue, (5, 14), contains: "odd")
        assertError(head + "  - corrupt: \"hex:\"\n", .badValue, (5, 15), contains: "at least one byte")
        assertError(head + "  - corrupt: a b\n", .badArgument, (5, 16), contains: "one key")
        assertError(head + "  - corrupt: [a]\n", .wrongType, (5, 14), contains: "takes a key")
        assertError(head + "  - corrupt: k\n    expect: miss\n", .notApplicable, (6, 13), contains: "control step `corrupt`")
        assertError("processes: {w: any}\nparallel:\n  w:\n    - corrupt: k\n", .badSequence, (4, 7),
                    contains: "`corrupt` is not allowed in a parallel list")
        assertError("processes: {corrupt: any}\ninit: [{advance: 1s}]\n", .invalid, (1, 13), contains: "reserved")
    }

    func testCorruptStateAndRepairSteps() throws {
        let s = try parse(head + "  - w: create\n  - w: put k v\n  - corrupt_state: k\n  - r: repair\n"
                          + "    expect: ok locks_freed=0 reclaimed=1 quarantined=2 unrepairable=1 quarantined_total=3\n")
        XCTAssertEqual(s.initSteps[2].control?.kind, .corruptState(key: Array("k".utf8)))
        let r = try XCTUnwrap(s.initSteps[3].operation)
        XCTAssertEqual(r.op, .repair)
        XCTAssertEqual(r.expect, [.ok, .repairActions(list: "locks_freed", count: 0), .reclaimed(1),
                                  .repairActions(list: "quarantined", count: 2), .repairActions(list: "unrepairable", count: 1),
                                  .repairActions(list: "quarantined_total", count: 3)])
        assertError(head + "  - w: get k\n    expect: quarantined=1\n", .notApplicable, (6, 13), contains: "quarantined=1")
        assertError(head + "  - w: repair\n    expect: quarantined=x\n", .badArgument, (6, 13), contains: "quarantined=N")
        assertError(head + "  - w: repair\n    expect: quarantined=1 quarantined=2\n", .contradictoryExpectations, (6, 27),
                    contains: "contradicts")
        assertError(head + "  - corrupt_state: a b\n", .badArgument, (5, 22), contains: "`corrupt_state` takes one key")
        assertError("processes: {w: any}\nparallel:\n  w:\n    - corrupt_state: k\n", .badSequence, (4, 7),
                    contains: "`corrupt_state` is not allowed in a parallel list")
    }
    /// `duplicate:` only in `final`, and only reads after it (the model does not follow the copy).
    func testDuplicateStepIsFinalAndOnlyReadsFollowIt() throws {
        let s = try parse(head + "  - w: create\n  - w: put k v\nfinal:\n  - duplicate: k\n  - r: get k\n    expect: hit value=v\n  - w: stats\n")
        XCTAssertEqual(s.finalSteps[0].control?.kind, .duplicate(key: Array("k".utf8), wrapped: false))
        let w = try parse(head + "  - w: create\nfinal:\n  - duplicate: k wrapped\n")
        XCTAssertEqual(w.finalSteps[0].control?.kind, .duplicate(key: Array("k".utf8), wrapped: true))
        assertError(head + "  - w: create\n  - duplicate: k\n", .badSequence, (6, 5), contains: "`duplicate` is only allowed in `final`")
        assertError(head + "  - w: create\nfinal:\n  - duplicate: k\n  - w: invalidate k\n", .badSequence, (8, 5),
                    contains: "`invalidate` after `duplicate` (line 7)")
        assertError(head + "  - w: create\nfinal:\n  - duplicate: k\n  - corrupt: k\n", .badSequence, (8, 5),
                    contains: "a control step after `duplicate`")
        assertError(head + "  - w: create\nfinal:\n  - duplicate: a b\n", .badArgument, (7, 18), contains: "`duplicate` takes one key")
    }

    /// `fsync_interval=` is a duration sent in whole milliseconds (at least 1), only where a
    /// store is attached or restored.
    func testFsyncIntervalOption() throws {
        let s = try parse(head + "  - w: restore fsync=interval fsync_interval=10ms\n  - r: open store=true fsync=interval fsync_interval=2s\n")
        XCTAssertEqual(s.initSteps[0].operation?.fsyncIntervalMs, 10)
        XCTAssertEqual(s.initSteps[1].operation?.fsyncIntervalMs, 2000)
        XCTAssertEqual(try parse(head + "  - w: restore fsync=interval fsync_interval=10us\n").initSteps[0].operation?.fsyncIntervalMs, 1)
        assertError(head + "  - w: restore fsync_interval=soon\n", .badDuration, (5, 16), contains: "bad duration 'soon' for fsync_interval")
        assertError(head + "  - w: put k v fsync_interval=1s\n", .badArgument, (5, 16), contains: "unknown option 'fsync_interval'")
    }

    func testPatchNamespaceStep() throws {
        let s = try parse(head + "  - w: create\n  - patch_ns: 7 last=4294967294\n  - w: ns_stage ns=7\n    expect: ok ns_version=4294967295\n")
        XCTAssertEqual(s.initSteps[1].control?.kind, .patchNamespace(ns: 7, last: 4_294_967_294))
        assertError(head + "  - patch_ns: 8 last=1\n", .badValue, (5, 15), contains: "a namespace is 0..7")
        assertError(head + "  - patch_ns: 1 last=4294967296\n", .badValue, (5, 17), contains: "32 bits")
        assertError(head + "  - patch_ns: 1\n", .badArgument, (5, 15), contains: "takes a namespace and its new last version")
        assertError(head + "  - patch_ns: 1 first=2\n", .badArgument, (5, 15), contains: "takes a namespace")
        assertError("processes: {w: any}\nparallel:\n  w:\n    - patch_ns: 1 last=2\n", .badSequence, (4, 7),
                    contains: "`patch_ns` is not allowed in a parallel list")
        assertError("processes: {patch_ns: any}\ninit: [{advance: 1s}]\n", .invalid, (1, 13), contains: "reserved")
    }
    func testUsesClosedHandleNeedsAfterClose() throws {
        let closedThenGet = try parse(head + "  - w: create\n  - w: close\n  - w: get k\n    expect: fail(closed)\n  - r: open\n")
        XCTAssertTrue(closedThenGet.usesClosedHandle(role: "w"))
        XCTAssertFalse(closedThenGet.usesClosedHandle(role: "r"))
        // Reopened (by an open-type operation or a restart) before the next step: a new handle.
        let reopened = try parse(head + "  - w: create\n  - w: close\n  - w: open\n  - w: get k\n  - w: close\n  - restart: w\n  - w: get k\n")
        XCTAssertFalse(reopened.usesClosedHandle(role: "w"))
        // compact works on its store with or without a handle (DRIVER.md "After close").
        let compacted = try parse(head + "  - w: create\n  - w: close\n  - w: compact\n")
        XCTAssertFalse(compacted.usesClosedHandle(role: "w"))
    }

    /// `patch_hint:`: a dead participant's claim_hint as the scenario wants its successor to meet it.
    func testPatchHintFieldsAndDefaults() throws {
        let s = try parse(head + "  - patch_hint: w\n  - patch_hint: w shard=3 home=slots_per_shard\n"
                          + "  - patch_hint: w in_flight=0x2 shard=shard_count home=5 reserved=1 wide\n")
        XCTAssertEqual(s.initSteps[0].control?.kind, .patchHint(role: "w", hint: HintPatch()))
        var h = HintPatch()
        h.shard = .value(3)
        h.home = .slotsPerShard
        XCTAssertEqual(s.initSteps[1].control?.kind, .patchHint(role: "w", hint: h))
        h = HintPatch()
        h.inFlight = 2
        h.shard = .shardCount
        h.home = .value(5)
        h.reserved = 1
        h.wide = true
        XCTAssertEqual(s.initSteps[2].control?.kind, .patchHint(role: "w", hint: h))
    }

    func testPatchHintErrors() {
        assertError(head + "  - patch_hint: x\n", .undeclaredRole, (5, 17), contains: "not declared")
        assertError(head + "  - patch_hint: w epoch=1\n", .badArgument, (5, 19), contains: "bad hint field 'epoch=1'")
        assertError(head + "  - patch_hint: w home=65536\n", .badValue, (5, 19), contains: "home is a number up to 65535 or slots_per_shard")
        assertError(head + "  - patch_hint: w shard=slots_per_shard\n", .badValue, (5, 19), contains: "or shard_count")
        assertError(head + "  - patch_hint: w reserved=0x8000\n", .badValue, (5, 19), contains: "up to 32767")
        assertError(head + "  - patch_hint: [w]\n", .wrongType, (5, 17), contains: "takes a role")
        assertError("processes: {w: any}\nparallel:\n  w:\n    - patch_hint: w\n", .badSequence, (4, 7),
                    contains: "`patch_hint` is not allowed in a parallel list")
        assertError("processes: {patch_hint: any}\ninit: [{advance: 1s}]\n", .invalid, (1, 13), contains: "reserved")
    }
}
