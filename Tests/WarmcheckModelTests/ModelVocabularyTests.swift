import Foundation
import XCTest
@testable import WarmcheckModel

/// The checker's state machine (SlotStateMachine, SlotState, SlotEvent) against
/// spec/vocabulary.json: a transition added to the spec and not to the model (or the reverse)
/// fails here.
final class ModelVocabularyTests: XCTestCase {
    func testModelMatchesTheVocabulary() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec/vocabulary.json")
        let v = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let states = v["states"] as! [[String: Any]]
        XCTAssertEqual(SlotState.allCases.map(\.name), states.map { $0["name"] as! String })
        XCTAssertEqual(SlotState.allCases.map { Int($0.rawValue) }, states.map { ($0["code"] as! NSNumber).intValue })
        XCTAssertEqual(SlotState.allCases.map(\.isOwned), states.map { $0["owned"] as! Bool })
        XCTAssertEqual(SlotState.allCases.map(\.isReadable), states.map { $0["readable"] as! Bool })
        XCTAssertEqual(SlotEvent.allCases.map(\.name), v["events"] as? [String])
        let actors = ["any": TransitionActor.any, "owner_only": .ownerOnly, "any_with_dead_owner": .anyWithDeadOwner]
        let active = ["unchanged": ActiveRecordChange.unchanged, "flipped": .flipped, "set_to_written": .setToWritten, "irrelevant": .irrelevant]
        let rows = v["transitions"] as! [[String: Any]]
        XCTAssertEqual(SlotStateMachine.rules.count, rows.count)
        for (rule, row) in zip(SlotStateMachine.rules, rows) {
            XCTAssertEqual(rule.id, row["id"] as? String)
            XCTAssertEqual(rule.event.name, row["event"] as? String, rule.id)
            XCTAssertEqual(Set(rule.from.map(\.name)), Set(row["from"] as! [String]), rule.id)
            XCTAssertEqual(rule.to.name, row["to"] as? String, rule.id)
            XCTAssertEqual(rule.actor, actors[row["actor"] as! String], rule.id)
            XCTAssertEqual(rule.active, active[row["active"] as! String], rule.id)
            XCTAssertEqual(rule.holdsInsertLock, row["insert_lock"] as? Bool, rule.id)
            XCTAssertEqual(rule.silent, row["silent"] as? Bool, rule.id)
        }
    }
}
