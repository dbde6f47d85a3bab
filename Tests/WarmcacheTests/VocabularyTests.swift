import Foundation
import XCTest
@_spi(Harness) @testable import Warmcache

/// The Swift implementation's names and numbers against spec/vocabulary.json, the protocol's one
/// machine-readable vocabulary (a renamed pause point or a moved offset fails here).
final class VocabularyTests: XCTestCase {
    func vocabulary() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec/vocabulary.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func constant(_ v: [String: Any], _ name: String) throws -> UInt64 {
        let c = try XCTUnwrap((v["constants"] as! [String: Any])[name], name)
        if let s = c as? String { return try XCTUnwrap(UInt64(s.dropFirst(2), radix: 16), name) }
        return (c as! NSNumber).uint64Value
    }

    func testNames() throws {
        let v = try vocabulary()
        XCTAssertEqual(PausePoint.allNames, v["pause_points"] as? [String], "PausePoint vs spec/vocabulary.json (same order as §17)")
        XCTAssertEqual(Faults.allNames, v["faults"] as? [String])
        let events = v["events"] as! [String]
        XCTAssertEqual(events.compactMap(TransitionEvent.init(rawValue:)).count, 12)
        XCTAssertEqual(events.count, 12)
        let open: [SegmentError] = [.notFound(path: ""), .symlink(path: ""), .notRegularFile(path: ""),
                                    .foreignOwner(path: "", uid: 0, euid: 0), .tooShort(path: "", size: 0), .badMagic(path: "", found: 0),
                                    .unsupportedMajor(path: "", major: 0), .notReady(path: "", found: 0),
                                    .badHeaderChecksum(path: "", stored: 0, computed: 0), .unsupportedFeatures(path: "", unknownBits: 0),
                                    .layoutMismatch(path: "", found: 0), .badGeometry(path: "", rule: ""),
                                    .truncated(path: "", declared: 0, actual: 0), .noSpace(path: "", bytes: 0), .exists(path: ""),
                                    .participantsFull(path: "", capacity: 0), .io(path: "", op: "", errno: 0),
                                    .sparse(path: "", declared: 0, allocated: 0)]
        XCTAssertEqual(open.map(\.code), v["open_errors"] as? [String])
        XCTAssertEqual([OpFailure.tooLarge, .notFound, .full, .versionNotNewer, .busy, .notStaging, .noPrevious, .pinned, .badNamespace, .closed].map(\.code),
                       v["operation_errors"] as? [String])
        let ns = v["namespaces"] as! [String: Any]
        XCTAssertEqual((ns["count"] as! NSNumber).intValue, Layout.NS_COUNT)
        XCTAssertEqual((ns["table_offset"] as! NSNumber).intValue, Layout.NS_TABLE_OFFSET)
        XCTAssertEqual((ns["entry_size"] as! NSNumber).intValue, Layout.NS_ENTRY_SIZE)
        XCTAssertEqual(UInt64((ns["key_magic"] as! String).dropFirst(2), radix: 16), Layout.NS_KEY_MAGIC)
        XCTAssertEqual((ns["key_prefix_len"] as! NSNumber).intValue, Layout.NS_KEY_PREFIX_LEN)
        XCTAssertEqual(UInt64((ns["version_max"] as! String).dropFirst(2), radix: 16), Layout.NS_VERSION_MAX)
        XCTAssertEqual(UInt64((ns["pin_epoch_mask"] as! String).dropFirst(2), radix: 16), Layout.PIN_EPOCH_MASK)
        let states = v["states"] as! [[String: Any]]
        XCTAssertEqual(states.count, SlotStateKind.allCases.count)
        for s in states {
            let k = try XCTUnwrap(SlotStateKind(rawValue: UInt8((s["code"] as! NSNumber).intValue)))
            XCTAssertEqual(k.name, s["name"] as? String)
            XCTAssertEqual(k.isOwned, s["owned"] as? Bool, k.name)
            XCTAssertEqual(k.isReadable, s["readable"] as? Bool, k.name)
        }
        let languages = (v["languages"] as! [[String: Any]]).map { ($0["code"] as! NSNumber).uint8Value }
        XCTAssertEqual(languages, [Layout.LANG_UNKNOWN, Layout.LANG_GO, Layout.LANG_RUST, Layout.LANG_SWIFT])
        XCTAssertEqual((v["languages"] as! [[String: Any]])[Int(Layout.LANG_SWIFT)]["name"] as? String, "swift")
    }

    func testNumbers() throws {
        let v = try vocabulary()
        let constants: [String: UInt64] = [
            "magic": Layout.MAGIC, "ready": Layout.READY, "layout_fingerprint": Layout.LAYOUT_FINGERPRINT,
            "feature_sim_clock": Layout.FEATURE_SIM_CLOCK, "feature_fast_checksum": Layout.FEATURE_FAST_CHECKSUM,
            "wch64x4_l1": WCH64X4.L1, "wch64x4_l2": WCH64X4.L2, "wch64x4_l3": WCH64X4.L3, "key_seed": Layout.KEY_SEED, "value_seed": Layout.VALUE_SEED,
            "header_seed": Layout.HEADER_SEED, "cache_line": UInt64(Layout.CACHE_LINE), "header_size": UInt64(Layout.HEADER_SIZE),
            "header_checksum_len": UInt64(Layout.HDR_CHECKSUMMED_BYTES), "participant_size": UInt64(Layout.PARTICIPANT_SIZE),
            "shard_header_size": UInt64(Layout.SHARD_HEADER_SIZE), "slot_header_size": UInt64(Layout.SLOT_HEADER_SIZE),
            "record_header_size": UInt64(Layout.RECORD_HEADER_SIZE), "read_retries": UInt64(Layout.READ_RETRIES),
            "wait_spins": UInt64(Layout.WAIT_SPINS), "lock_spins": UInt64(Layout.LOCK_SPINS),
        ]
        for (name, ours) in constants { XCTAssertEqual(try constant(v, name), ours, name) }
        let tables: [String: [String: Int]] = [
            "header": ["magic": Layout.HDR_MAGIC, "version": Layout.HDR_VERSION, "features_incompat": Layout.HDR_FEATURES_INCOMPAT,
                       "features_compat": Layout.HDR_FEATURES_COMPAT, "layout_fingerprint": Layout.HDR_LAYOUT_FINGERPRINT,
                       "total_len": Layout.HDR_TOTAL_LEN, "geometry_shards": Layout.HDR_GEOMETRY_SHARDS,
                       "geometry_sizes": Layout.HDR_GEOMETRY_SIZES, "geometry_limits": Layout.HDR_GEOMETRY_LIMITS,
                       "slot_size": Layout.HDR_SLOT_SIZE, "participants_offset": Layout.HDR_PARTICIPANTS_OFFSET,
                       "shards_offset": Layout.HDR_SHARDS_OFFSET, "shard_size": Layout.HDR_SHARD_SIZE,
                       "creator_pid": Layout.HDR_CREATOR_PID, "creator_start_time": Layout.HDR_CREATOR_START_TIME,
                       "creator_info": Layout.HDR_CREATOR_INFO, "created_at_ns": Layout.HDR_CREATED_AT_NS,
                       "header_checksum": Layout.HDR_HEADER_CHECKSUM, "ready": Layout.HDR_READY, "generation": Layout.HDR_GENERATION,
                       "waiters": Layout.HDR_WAITERS, "event_seq": Layout.HDR_EVENT_SEQ, "version_clock": Layout.HDR_VERSION_CLOCK,
                       "sim_clock_ns": Layout.HDR_SIM_CLOCK_NS],
            "participant": ["epoch": Layout.PART_EPOCH, "pid": Layout.PART_PID, "start_time": Layout.PART_START_TIME,
                            "info": Layout.PART_INFO, "registered_at_ns": Layout.PART_REGISTERED_AT_NS,
                            "claim_hint": Layout.PART_CLAIM_HINT, "hint_epoch": Layout.PART_HINT_EPOCH,
                            "ns_pin": Layout.PART_NS_PIN],
            "namespace": ["ns_head": Layout.NS_HEAD, "ns_stage": Layout.NS_STAGE],
            "shard": ["insert_lock": Layout.SH_INSERT_LOCK, "clock_hand": Layout.SH_CLOCK_HAND, "hits": Layout.SH_HITS,
                      "misses": Layout.SH_MISSES, "stale_hits": Layout.SH_STALE_HITS, "inserts": Layout.SH_INSERTS,
                      "refreshes": Layout.SH_REFRESHES, "evictions": Layout.SH_EVICTIONS, "invalidations": Layout.SH_INVALIDATIONS,
                      "expirations": Layout.SH_EXPIRATIONS, "reclaims": Layout.SH_RECLAIMS],
            "slot": ["state": Layout.SLOT_STATE, "referenced": Layout.SLOT_REFERENCED, "key_hash": Layout.SLOT_KEY_HASH,
                     "key_len": Layout.SLOT_KEY_LEN, "claimed_at_ns": Layout.SLOT_CLAIMED_AT_NS, "key": Layout.SLOT_KEY],
            "record": ["version": Layout.REC_VERSION, "value_info": Layout.REC_VALUE_INFO, "checksum": Layout.REC_CHECKSUM,
                       "expires_at_ns": Layout.REC_EXPIRES_AT_NS, "stale_until_ns": Layout.REC_STALE_UNTIL_NS,
                       "written_at_ns": Layout.REC_WRITTEN_AT_NS, "writer": Layout.REC_WRITER,
                       "writer_start_time": Layout.REC_WRITER_START_TIME, "value": Layout.REC_VALUE],
        ]
        XCTAssertEqual(tables, v["layout"] as? [String: [String: Int]])
    }
}
