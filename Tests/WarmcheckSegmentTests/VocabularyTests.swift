import Foundation
import XCTest
@testable import WarmcheckSegment

/// spec/vocabulary.json against the decoder's constants and against the tables of
/// docs/PROTOCOL.md and docs/DRIVER.md: the spec's prose, its machine-readable vocabulary and the
/// harness's reading of both must say the same thing (this is the CI check of the tables).
final class VocabularyTests: XCTestCase {
    var vocabulary: Vocabulary!
    var protocolText = ""

    override func setUpWithError() throws {
        vocabulary = try Vocabulary.load(repoRoot.appendingPathComponent("spec/vocabulary.json"))
        protocolText = try String(contentsOf: repoRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
    }

    /// The lines of the section whose heading starts with `heading` (up to the next heading).
    func section(_ heading: String, in text: String? = nil) throws -> [Substring] {
        let lines = (text ?? protocolText).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("#") && $0.drop { $0 == "#" }.dropFirst().hasPrefix(heading) }, heading)
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("## ") || $0.hasPrefix("### ") } ?? lines.endIndex
        return Array(lines[(start + 1)..<end])
    }

    /// The cells of each table row of a section (header and separator rows dropped).
    func rows(_ lines: [Substring]) -> [[String]] {
        lines.filter { $0.hasPrefix("|") && !$0.hasPrefix("| ---") }.dropFirst().map {
            $0.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Every `code span` of a string, in order.
    func spans(_ s: String) -> [String] {
        s.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    func testStatesTableOfSection8_1() throws {
        let table = rows(try section("8.1 States")).map { (Int($0[0])!, spans($0[1])[0]) }
        XCTAssertEqual(table.map(\.0), vocabulary.states.map(\.code))
        XCTAssertEqual(table.map(\.1), vocabulary.states.map(\.name))
        XCTAssertEqual(SpecState.allCases.map(\.name), vocabulary.states.map(\.name))
        XCTAssertEqual(SpecState.allCases.map(\.isOwned), vocabulary.states.map(\.owned))
        XCTAssertEqual(SpecState.allCases.map(\.isReadable), vocabulary.states.map(\.readable))
    }

    func testTransitionsTableOfSection8_2() throws {
        let table = rows(try section("8.2 Transitions"))
        XCTAssertEqual(table.count, vocabulary.transitions.count)
        func state(_ s: String) -> String { String(s.prefix { $0.isLetter }) }
        for (row, t) in zip(table, vocabulary.transitions) {
            XCTAssertEqual(row[0], t.id)
            XCTAssertEqual(spans(row[1]), [t.event], t.id)
            XCTAssertEqual(spans(row[2]).map(state), t.from, t.id)
            XCTAssertEqual(spans(row[3]).first.map(state), t.to, t.id)
            XCTAssertEqual(row[4].contains("hold lock"), t.insertLock, t.id)
        }
        XCTAssertEqual(Set(vocabulary.transitions.map(\.event)), Set(vocabulary.events))
    }

    func testPausePointsTableOfSection17() throws {
        XCTAssertEqual(rows(try section("17. Pause points")).map { spans($0[0])[0] }, vocabulary.pausePoints)
        XCTAssertEqual(Set(vocabulary.pausePoints).count, vocabulary.pausePoints.count, "no pause point twice")
    }

    func testErrorCodesOfSection15() throws {
        let text = try section("15. Errors").joined(separator: "\n")
        let openPart = try XCTUnwrap(text.components(separatedBy: "Operations report").first)
        let opPart = try XCTUnwrap(text.components(separatedBy: "Operations report").dropFirst().first?.components(separatedBy: ". A `get`").first)
        XCTAssertEqual(spans(openPart), vocabulary.openErrors)
        XCTAssertEqual(spans(opPart).filter { $0 != "ok" && $0 != "fail" }, vocabulary.operationErrors)
    }

    func testLanguageCodesOfSection7_3() throws {
        let text = try section("7.3 Language codes").joined(separator: " ")
        for l in vocabulary.languages {
            XCTAssertTrue(text.localizedCaseInsensitiveContains("`\(l.code)` \(l.name)"), "§7.3 lacks `\(l.code)` \(l.name)")
        }
    }

    func testFaultTableOfDriverMd() throws {
        let driver = try String(contentsOf: repoRoot.appendingPathComponent("docs/DRIVER.md"), encoding: .utf8)
        XCTAssertEqual(rows(try section("Fault switches", in: driver)).map { spans($0[0])[0] }, vocabulary.faults)
    }

    /// The offset tables of §3, §5, §6, §7.1, §7.2 against `layout`, and the decoder's constants.
    func testLayoutTables() throws {
        func offsets(_ heading: String) throws -> [String: Int] {
            var out: [String: Int] = [:]
            for r in rows(try section(heading)) {
                guard let off = Int(r[0]) else { continue }
                // A field row names exactly one field: "`magic`", or "key bytes" → "key". Other
                // numbered tables share a section (§3's geometry rules) and are skipped.
                let name: String
                if r[1].hasPrefix("`") && r[1].hasSuffix("`") && spans(r[1]).count == 1 { name = spans(r[1])[0] }
                else if r[1].hasSuffix(" bytes") { name = String(r[1].prefix { $0 != " " }) }
                else { continue }
                guard name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else { continue }
                out[name] = off
            }
            return out
        }
        XCTAssertEqual(try offsets("3. File and header"), vocabulary.layout["header"])
        XCTAssertEqual(try offsets("5. Participants"), vocabulary.layout["participant"])
        XCTAssertEqual(try offsets("6. Shards"), vocabulary.layout["shard"])
        XCTAssertEqual(try offsets("7.1 Slot header"), vocabulary.layout["slot"])
        XCTAssertEqual(try offsets("7.2 Record"), vocabulary.layout["record"])
        XCTAssertEqual(try offsets("18.2 The namespace table"), vocabulary.layout["namespace"])
        let decoder: [String: [String: Int]] = [
            "header": ["magic": SpecLayout.Header.magic, "version": SpecLayout.Header.version, "features_incompat": SpecLayout.Header.featuresIncompat,
                       "features_compat": SpecLayout.Header.featuresCompat, "layout_fingerprint": SpecLayout.Header.layoutFingerprint,
                       "total_len": SpecLayout.Header.totalLen, "geometry_shards": SpecLayout.Header.geometryShards,
                       "geometry_sizes": SpecLayout.Header.geometrySizes, "geometry_limits": SpecLayout.Header.geometryLimits,
                       "slot_size": SpecLayout.Header.slotSize, "participants_offset": SpecLayout.Header.participantsOffset,
                       "shards_offset": SpecLayout.Header.shardsOffset, "shard_size": SpecLayout.Header.shardSize,
                       "creator_pid": SpecLayout.Header.creatorPid, "creator_start_time": SpecLayout.Header.creatorStartTime,
                       "creator_info": SpecLayout.Header.creatorInfo, "created_at_ns": SpecLayout.Header.createdAtNs,
                       "header_checksum": SpecLayout.Header.headerChecksum, "ready": SpecLayout.Header.ready,
                       "generation": SpecLayout.Header.generation, "waiters": SpecLayout.Header.waiters,
                       "event_seq": SpecLayout.Header.eventSeq, "version_clock": SpecLayout.Header.versionClock,
                       "sim_clock_ns": SpecLayout.Header.simClockNs],
            "participant": ["epoch": SpecLayout.Participant.epoch, "pid": SpecLayout.Participant.pid, "start_time": SpecLayout.Participant.startTime,
                            "info": SpecLayout.Participant.info, "registered_at_ns": SpecLayout.Participant.registeredAtNs,
                            "claim_hint": SpecLayout.Participant.claimHint, "hint_epoch": SpecLayout.Participant.hintEpoch,
                            "ns_pin": SpecLayout.Participant.nsPin],
            "namespace": ["ns_head": SpecNamespace.head, "ns_stage": SpecNamespace.stage],
            "shard": ["insert_lock": SpecLayout.Shard.insertLock, "clock_hand": SpecLayout.Shard.clockHand, "hits": SpecLayout.Shard.hits,
                      "misses": SpecLayout.Shard.misses, "stale_hits": SpecLayout.Shard.staleHits, "inserts": SpecLayout.Shard.inserts,
                      "refreshes": SpecLayout.Shard.refreshes, "evictions": SpecLayout.Shard.evictions,
                      "invalidations": SpecLayout.Shard.invalidations, "expirations": SpecLayout.Shard.expirations,
                      "reclaims": SpecLayout.Shard.reclaims],
            "slot": ["state": SpecLayout.Slot.state, "referenced": SpecLayout.Slot.referenced, "key_hash": SpecLayout.Slot.keyHash,
                     "key_len": SpecLayout.Slot.keyLen, "claimed_at_ns": SpecLayout.Slot.claimedAtNs, "key": SpecLayout.Slot.key],
            "record": ["version": SpecLayout.Record.version, "value_info": SpecLayout.Record.valueInfo, "checksum": SpecLayout.Record.checksum,
                       "expires_at_ns": SpecLayout.Record.expiresAtNs, "stale_until_ns": SpecLayout.Record.staleUntilNs,
                       "written_at_ns": SpecLayout.Record.writtenAtNs, "writer": SpecLayout.Record.writer,
                       "writer_start_time": SpecLayout.Record.writerStartTime, "value": SpecLayout.Record.value],
        ]
        XCTAssertEqual(decoder, vocabulary.layout)
    }

    func testConstantsAppearInTheSpecAndMatchTheDecoder() throws {
        let mine: [String: UInt64] = [
            "magic": SpecLayout.magic, "ready": SpecLayout.readyValue, "layout_fingerprint": SpecLayout.layoutFingerprint,
            "feature_sim_clock": SpecLayout.featureSimClock, "feature_fast_checksum": SpecLayout.featureFastChecksum, "wch64_p1": SpecHash.p1, "wch64_p2": SpecHash.p2,
            "key_seed": SpecHash.keySeed, "value_seed": SpecHash.valueSeed, "header_seed": SpecHash.headerSeed,
            "cache_line": UInt64(SpecLayout.cacheLine), "header_size": UInt64(SpecLayout.headerSize),
            "header_checksum_len": UInt64(SpecLayout.Header.checksummedBytes), "participant_size": UInt64(SpecLayout.Participant.size),
            "shard_header_size": UInt64(SpecLayout.Shard.headerSize), "slot_header_size": UInt64(SpecLayout.Slot.headerSize),
            "record_header_size": UInt64(SpecLayout.Record.headerSize),
        ]
        for (name, v) in mine { XCTAssertEqual(vocabulary.constant(name), v, name) }
        for name in ["magic", "ready", "layout_fingerprint", "wch64_p1", "wch64_p2", "key_seed", "value_seed", "header_seed"] {
            let hex = "0x" + String(vocabulary.constant(name)!, radix: 16, uppercase: true).leftPad(16)
            XCTAssertTrue(protocolText.uppercased().contains(hex.uppercased().replacingOccurrences(of: "0X", with: "0x").uppercased()),
                          "PROTOCOL.md never states \(name) = \(hex)")
        }
        for name in ["read_retries", "wait_spins", "lock_spins"] {
            let spelled = name.uppercased() + " = " + String(vocabulary.constant(name)!)
            XCTAssertTrue(protocolText.contains(spelled), "PROTOCOL.md §9 lacks `\(spelled)`")
        }
    }

    func testTheHarnessFindsTheVocabulary() throws {
        let v = try Vocabulary.standard.get()
        XCTAssertEqual(v.pausePoints, vocabulary.pausePoints)
        XCTAssertEqual(v.languageCode("Swift"), 3)
        XCTAssertNil(v.languageCode("cobol"))
    }
}
