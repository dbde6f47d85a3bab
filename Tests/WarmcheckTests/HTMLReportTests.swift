import Foundation
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import WarmcheckCore

final class HTMLReportTests: XCTestCase {
    /// A refresh parked at refresh.after_payload while a reader's get runs and sees the new value
    /// under the old sequence number: the shape of a real torn-read failure.
    static func tornRead() -> Timeline {
        let t0: UInt64 = 7_314_000_000
        let w = "writer (go)", r = "reader (rust)", o = "orchestrator"
        func ev(_ lane: String, _ kind: Timeline.Event.Kind, _ label: String, _ dt: UInt64, violating: Bool = false) -> Timeline.Event {
            Timeline.Event(lane: lane, kind: kind, label: label, t: t0 + dt, violating: violating)
        }
        return Timeline(
            title: "refresh-torn-read [writer=go, reader=rust] seed 42",
            lanes: [w, r, o],
            events: [
                ev(o, .note, "open segment shards=1 slots=8", 0),
                ev(w, .call, "put k v1", 1_200),
                ev(w, .transition, "claim FREE→WRITING shard 0 slot 3 seq 1", 3_100),
                ev(w, .transition, "publish WRITING→READY shard 0 slot 3 seq 1", 6_400),
                ev(w, .returned, "ok", 8_000),
                ev(w, .call, "refresh k v2", 21_000),
                ev(w, .transition, "claim READY→REFRESHING shard 0 slot 3 seq 2", 23_500),
                ev(w, .pause, "refresh.after_payload", 26_900),
                ev(o, .note, "schedule: run reader get k", 27_300),
                ev(r, .call, "get k", 31_000),
                ev(r, .returned, "hit v2 (seq 1)", 38_700, violating: true),
                ev(o, .note, "advance clock +1s", 1_529_000),
                ev(o, .note, "resume writer", 2_030_000),
                ev(w, .resume, "refresh.after_payload", 2_031_200),
                ev(w, .transition, "publish REFRESHING→READY shard 0 slot 3 seq 2", 2_034_800),
                ev(w, .returned, "ok", 2_036_100),
                ev(r, .call, "get k", 2_040_000),
                ev(r, .returned, "hit v2 (seq 2)", 2_046_300),
            ],
            explanation: """
            The reader's get k returned "v2" with sequence number 1, at +38.7 µs.

            What the spec allows (docs/PROTOCOL.md §4.3 "refresh"): while a refresh is between
            claim and publish, a get of the same key must return the OLD value with the OLD
            sequence (v1, seq 1) or report a miss; the new payload is visible only together with
            its new sequence number (v2, seq 2) after publish REFRESHING→READY.

            Observed: the payload bytes were already overwritten (refresh.after_payload) while the
            slot header still said seq 1, and the rust reader did not re-check the slot state
            after copying the payload, so it returned a value that never existed: <v2, seq 1>.

            Steps that led there:
              1. writer (go):    put k v1                      -> ok
              2. writer (go):    refresh k v2, paused at refresh.after_payload
              3. reader (rust):  get k                         -> hit v2 (seq 1)   ✗ violation
              4. writer (go):    resumed, publish REFRESHING→READY seq 2 -> ok
            """,
            rerun: "warmcheck run scenarios/refresh.yaml --case 'refresh-torn-read[writer=go,reader=rust]' --seed 42"
        )
    }

    /// The <svg>…</svg> part of the page, which must parse as XML on its own.
    func svgPart(_ html: String) throws -> String {
        let start = try XCTUnwrap(html.range(of: "<svg"))
        let end = try XCTUnwrap(html.range(of: "</svg>"))
        return String(html[start.lowerBound..<end.upperBound])
    }

    func elements(_ node: XMLNode, named name: String) -> [XMLElement] {
        var out: [XMLElement] = []
        for c in node.children ?? [] {
            if let e = c as? XMLElement, e.name == name { out.append(e) }
            out += elements(c, named: name)
        }
        return out
    }

    func testRealisticTimelineRendersOneWellFormedSVG() throws {
        let html = HTMLReport.render(Self.tornRead())
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1, "exactly one <svg>")
        let doc = try XMLDocument(xmlString: try svgPart(html))
        let root = try XCTUnwrap(doc.rootElement())
        XCTAssertEqual(root.name, "svg")

        let texts = elements(root, named: "text").compactMap(\.stringValue)
        for lane in ["writer (go)", "reader (rust)", "orchestrator"] {
            XCTAssertTrue(texts.contains(lane), "lane label \(lane)")
        }
        XCTAssertTrue(texts.contains { $0.hasPrefix("put k v1") }, "operation label")
        XCTAssertTrue(texts.contains { $0.hasPrefix("refresh k v2") })
        XCTAssertTrue(texts.contains { $0.contains("paused @ refresh.after_payload") }, "pause point name")
        XCTAssertTrue(texts.contains("+0.00 µs"), "time axis starts at the first event")
        XCTAssertTrue(texts.contains("+38.7 µs"))
        XCTAssertTrue(texts.contains("+2,036 µs"))

        // The violation: a marker, a red bar on the reader's op, a callout.
        XCTAssertTrue(html.contains("class=\"violation-marker\""))
        XCTAssertTrue(html.contains("class=\"op violating\""))
        XCTAssertTrue(html.contains("class=\"callout\""))
        XCTAssertTrue(texts.contains { $0.hasPrefix("VIOLATION detected at +38.7 µs") })

        // Transitions are ticks with a tooltip.
        let titles = elements(root, named: "title").compactMap(\.stringValue)
        XCTAssertTrue(titles.contains { $0.contains("transition") && $0.contains("publish REFRESHING→READY shard 0 slot 3 seq 2") })
        // The paused stretch of the refresh is drawn.
        XCTAssertTrue(html.contains("class=\"paused\""))
        // Header and prose.
        XCTAssertTrue(html.contains("<code>warmcheck run scenarios/refresh.yaml --case &#39;refresh-torn-read[writer=go,reader=rust]&#39; --seed 42</code>"))
        XCTAssertTrue(html.contains("it returned a value that never existed: &lt;v2, seq 1&gt;."))
        XCTAssertFalse(html.contains("<script"), "no JavaScript")
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"),
                        "no external resources")

        if let path = ProcessInfo.processInfo.environment["WARMCHECK_HTML_PREVIEW"] {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func testEverythingIsEscaped() throws {
        let evil = "<script>alert('x&y')</script>"
        let t = Timeline(
            title: "t \(evil)",
            lanes: ["lane \"<b>\""],
            events: [
                .init(lane: "lane \"<b>\"", kind: .call, label: "put \(evil)", t: 100),
                .init(lane: "lane \"<b>\"", kind: .transition, label: "claim A→B \(evil)", t: 200),
                .init(lane: "lane \"<b>\"", kind: .returned, label: "ok \u{1} \(evil)", t: 300, violating: true),
                .init(lane: "orchestrator", kind: .note, label: "note \(evil)", t: 400),
            ],
            explanation: "why \(evil)",
            rerun: "warmcheck run '\(evil)'"
        )
        let html = HTMLReport.render(t)
        XCTAssertFalse(html.contains("<script"), "labels are escaped")
        XCTAssertFalse(html.contains("\"<b>\""), "the lane name is escaped")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;"))
        XCTAssertFalse(html.unicodeScalars.contains { $0.value == 1 }, "control bytes dropped")
        let doc = try XMLDocument(xmlString: try svgPart(html))
        let root = try XCTUnwrap(doc.rootElement())
        let texts = elements(root, named: "text").compactMap(\.stringValue)
        XCTAssertTrue(texts.contains("lane \"<b>\""), "lane name survives the round trip")
        XCTAssertTrue(texts.contains("orchestrator"), "a lane named only by an event is added")
        XCTAssertTrue(texts.contains { $0.hasPrefix("put <script>") })
    }

    func testEmptyTimelineRenders() throws {
        let html = HTMLReport.render(Timeline(title: "", lanes: [], events: [], explanation: "", rerun: ""))
        XCTAssertTrue(html.contains("</html>"))
        let doc = try XMLDocument(xmlString: try svgPart(html))
        XCTAssertEqual(doc.rootElement()?.name, "svg")
        XCTAssertTrue(html.contains("no events were recorded"))
        XCTAssertFalse(html.contains("class=\"violation-marker\""))

        // Lanes but no events, and events with no lanes declared, also render.
        _ = try XMLDocument(xmlString: try svgPart(HTMLReport.render(
            Timeline(title: "x", lanes: ["a", "b"], events: [], explanation: "", rerun: "r"))))
        _ = try XMLDocument(xmlString: try svgPart(HTMLReport.render(
            Timeline(title: "x", lanes: [], events: [.init(lane: "", kind: .returned, label: "stray", t: 5)], explanation: "", rerun: "r"))))
    }

    func testLongRunStaysWellFormed() throws {
        // 2,000 events over 4 lanes: renders quickly, still one parseable SVG.
        var events: [Timeline.Event] = []
        for i in 0..<500 {
            let lane = "p\(i % 4)"
            let t = UInt64(i) * 10_000
            events.append(.init(lane: lane, kind: .call, label: "put k\(i) v", t: t))
            events.append(.init(lane: lane, kind: .transition, label: "claim FREE→WRITING shard 0 slot \(i % 8) seq \(i)", t: t + 1_000))
            events.append(.init(lane: lane, kind: .pause, label: "put.before_publish", t: t + 2_000))
            events.append(.init(lane: lane, kind: .returned, label: "ok", t: t + 50_000, violating: i == 250))
        }
        let start = Date()
        let html = HTMLReport.render(Timeline(title: "long", lanes: ["p0", "p1", "p2", "p3", "orchestrator"], events: events, explanation: "x", rerun: "r"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertNotNil(try XMLDocument(xmlString: try svgPart(html)).rootElement())
    }

    func testOddShapesDoNotCrash() throws {
        // Unfinished ops, deaths, concurrent calls on one lane, identical timestamps, out-of-order input.
        let t = Timeline(
            title: "odd", lanes: ["p"],
            events: [
                .init(lane: "p", kind: .call, label: "get a", t: 50),
                .init(lane: "p", kind: .call, label: "get b", t: 50),
                .init(lane: "p", kind: .pause, label: "get.after_lookup", t: 60),
                .init(lane: "p", kind: .died, label: "killed at get.after_lookup", t: 70),
                .init(lane: "p", kind: .call, label: "put c", t: 10),
                .init(lane: "p", kind: .resume, label: "nothing paused", t: 5),
            ],
            explanation: "", rerun: "")
        let html = HTMLReport.render(t)
        let doc = try XMLDocument(xmlString: try svgPart(html))
        XCTAssertNotNil(doc.rootElement())
        XCTAssertTrue(html.contains("op died"))
        XCTAssertTrue(html.contains("op unfinished"))
    }
}
