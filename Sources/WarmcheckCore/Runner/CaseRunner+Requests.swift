import Foundation
@_spi(Harness) import Warmcache
import WarmcheckScenario

/// A step as a driver request (docs/DRIVER.md), and an answer as a line of the step log.
extension CaseRunner {
    /// The file of the case's segment (nil, `main`) or of a side-by-side one (`segment=NAME`),
    /// next to it and removed with it.
    func path(ofSegment name: String?) -> String {
        guard let name, name != "main" else { return segmentPath }
        return segmentPath + "." + name
    }

    /// Every side-by-side segment the scenario names, for the cleanup.
    var sideSegmentPaths: [String] {
        Set(scenario.allOperations.compactMap(\.segment)).sorted().map { path(ofSegment: $0) }
    }

    func arguments(_ o: OperationStep) -> JSON {
        var a: [String: JSON] = [:]
        let g = o.geometry(over: scenario.geometry)
        switch o.op {
        case .restore:
            a["path"] = .string(segmentPath)
            a["geometry"] = DriverArguments.geometry(g)
            if case .simulated(let start) = scenario.clock { a["sim_clock_ns"] = .int(Int64(bitPattern: start)) }
            a["store_dir"] = .string(storeDir)
            a["fsync"] = .string(o.fsync ?? "always")
            if let ms = o.fsyncIntervalMs { a["fsync_interval_ms"] = JSON(unsigned: ms) }
        case .compact:
            a["store_dir"] = .string(storeDir)
            a["geometry"] = DriverArguments.geometry(g)
        case .create, .openOrCreate, .open:
            a["path"] = .string(path(ofSegment: o.segment))
            if o.store {
                a["store_dir"] = .string(storeDir)
                a["fsync"] = .string(o.fsync ?? "always")
                if let ms = o.fsyncIntervalMs { a["fsync_interval_ms"] = JSON(unsigned: ms) }
            }
            if o.op != .open {
                a["geometry"] = DriverArguments.geometry(g)
                if case .simulated(let start) = scenario.clock { a["sim_clock_ns"] = JSON(unsigned: start) }
                if o.group { a["group"] = true }
                if o.fastChecksum { a["fast_checksum"] = true }
                if let f = o.future { a["future"] = .string(f) }
            }
            if let p = o.protocolVersion { a["protocol"] = .string(p) }
        case .get, .invalidate, .evict:
            a["key_hex"] = .string(Hex.encode(o.key ?? []))
            if o.durable { a["durable"] = true }
            if o.overlap { a["overlap"] = true }
            if o.op == .get, let rp = roles[o.role], let via = getVia(o, rp) { a["via"] = .string(via) }
        case .getMany:
            a["keys_hex"] = .array((o.keys ?? []).map { .string(Hex.encode($0)) })
        case .put, .refresh:
            a["key_hex"] = .string(Hex.encode(o.key ?? []))
            a["value_hex"] = .string(Hex.encode(o.value ?? []))
            if let t = o.ttlNs { a["ttl_ns"] = JSON(unsigned: t) }
            if let t = o.graceNs { a["grace_ns"] = JSON(unsigned: t) }
            if let t = o.origin { a["origin_tag"] = JSON(unsigned: t) }
            if let t = o.version { a["version"] = JSON(unsigned: t) }
            if o.durable { a["durable"] = true }
            if o.overlap { a["overlap"] = true }
        case .wait:
            let rp = roles[o.role]!
            let seen = o.seen ?? rp.rememberedGeneration ?? 0
            a["seen"] = JSON(unsigned: seen)
            a["timeout_ms"] = .int(Int64((o.timeoutNs ?? 5_000_000_000) / 1_000_000))
        case .close, .stats, .generation, .resume, .nsUnpin, .repair, .participants:
            break
        case .nsStage, .nsFlip, .nsRollback, .nsPin, .nsReclaim, .nsState:
            a["ns"] = JSON(unsigned: o.namespace)
        case .nsGet:
            a["ns"] = JSON(unsigned: o.namespace)
            a["key_hex"] = .string(Hex.encode(o.key ?? []))
        case .nsPut:
            a["ns"] = JSON(unsigned: o.namespace)
            a["key_hex"] = .string(Hex.encode(o.key ?? []))
            a["value_hex"] = .string(Hex.encode(o.value ?? []))
        }
        if let c = o.crashAt { a["crash_at"] = .string(c) }
        if let p = o.pauseAt { a["pause_at"] = .string(p) }
        return .object(a)
    }

    func id(of r: DriverResponse) -> Int64 { r.raw["id"]?.int ?? 0 }

    func describe(_ o: OperationStep, _ r: DriverResponse?) -> String {
        guard let r else { return "process died at \(o.crashAt ?? "?") (outcome unknown)" }
        var s = r.summary
        let res = r.result
        switch o.op {
        case .get:
            if res["hit"]?.bool == true {
                s += " hit\(res["stale"]?.bool == true ? " (stale)" : "") value=\(ScenarioValue.render(Hex.decode(res["value_hex"]?.string ?? "") ?? [])) version=\(res["version"]?.int ?? 0)"
                if res["refresh_requested"]?.bool == true { s += " refresh_requested" }
            } else if r.isOK { s += " miss" }
        case .put, .refresh:
            if r.isOK { s += " version=\(res["version"]?.int ?? 0)\(res["created"]?.bool == true ? " created" : "")" }
        case .invalidate, .evict:
            if r.isOK { s += res["removed"]?.bool == true ? " removed" : " nothing removed" }
        case .wait:
            if r.isOK { s += res["timed_out"]?.bool == true ? " timed out" : " woken (generation \(res["generation"]?.int ?? 0))" }
        case .openOrCreate:
            if r.isOK { s += res["created"]?.bool == true ? " created" : " opened" }
        case .restore:
            if r.isOK {
                s += res["created"]?.bool == true ? " restored \(res["installed"]?.int ?? 0) entries" : " opened"
                if let p = res["problems"]?.array, !p.isEmpty { s += ", \(p.count) problem(s) reported" }
            }
        case .getMany:
            if r.isOK, let results = res["results"]?.array {
                s += " " + results.map { $0["hit"]?.bool == true ? ScenarioValue.render(Hex.decode($0["value_hex"]?.string ?? "") ?? []) : ($0["fail"]?.string.map { "fail(\($0))" } ?? "miss") }
                    .joined(separator: ",")
            }
        case .nsGet:
            if r.isOK {
                s += res["hit"]?.bool == true ? " hit value=\(ScenarioValue.render(Hex.decode(res["value_hex"]?.string ?? "") ?? []))" : " miss"
                s += " ns_version=\(res["ns_version"]?.int ?? 0)\(res["pinned"]?.bool == true ? " pinned" : "")"
            }
        case .nsPut:
            if r.isOK { s += " ns_version=\(res["ns_version"]?.int ?? 0) version=\(res["version"]?.int ?? 0)" }
        case .nsStage, .nsPin, .nsUnpin:
            if r.isOK { s += " ns_version=\(res["version"]?.int ?? 0)" }
        case .nsFlip:
            if r.isOK { s += " ns_version=\(res["version"]?.int ?? 0) previous=\(res["previous"]?.int ?? 0)" }
        case .nsRollback:
            if r.isOK { s += " ns_version=\(res["version"]?.int ?? 0) retired=\(res["retired"]?.int ?? 0)" }
        case .nsReclaim:
            if r.isOK { s += " removed=\(res["removed"]?.int ?? 0) kept=\(res["kept"]?.serialized ?? "?")" }
        case .nsState:
            if r.isOK { s += " current=\(res["current"]?.int ?? 0) previous=\(res["previous"]?.int ?? 0) last=\(res["last"]?.int ?? 0)" }
        case .compact:
            if r.isOK {
                let name = res["snapshot"]?.string ?? ""
                s += name.isEmpty ? " nothing to compact (\(res["live"]?.int ?? 0) live)"
                    : " wrote \(name) (\(res["covered"]?.int ?? 0) journals, \(res["records"]?.int ?? 0) records)"
            }
        case .repair:
            if r.isOK {
                s += " " + (Expectation.repairLists.dropLast() + ["reclaimed"]).map { "\($0)=\(res[$0]?.array?.count ?? 0)" }.joined(separator: " ")
                s += " quarantined_total=\(res["quarantined_total"]?.uint ?? 0)"
            }
        default: break
        }
        return s
    }
}
