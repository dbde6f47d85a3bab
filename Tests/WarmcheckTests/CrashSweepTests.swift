#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@testable import WarmcheckCore

/// `warmcheck crashsweep` on the Go fixture alone (victim and recoverer): the points are found
/// by walking the paths, every one recovers, and a fixture that never reclaims fails.
final class CrashSweepTests: XCTestCase {
    func go() throws -> FixtureSpec {
        guard let go = Repo.referenceFixture("go"), FileManager.default.isExecutableFile(atPath: go.argv[0]) else {
            throw XCTSkip("the Go fixture is not built")
        }
        return go
    }

    func testEveryPointOfTheInsertAndReclaimPathsRecoversAndNeverReclaimFails() throws {
        let sweep = CrashSweep(fixtures: [try go()], workDir: Repo.defaultWorkDir)
        sweep.roles = [.inserter, .reclaimer, .lockReclaimer, .registrant]
        let points = try sweep.points()
        let names = Set(points.map { "\($0.role.rawValue)@\($0.point)" })
        for want in ["inserter@put.before_lock", "inserter@lock.after_acquire", "inserter@put.after_claim", "inserter@put.after_key",
                     "inserter@put.after_payload", "reclaimer@reclaim.before_cas", "registrant@reclaim.before_cas",
                     "lock-reclaimer@lock.after_acquire"] {
            XCTAssertTrue(names.contains(want), "\(want) not among \(names.sorted())")
        }
        let outcomes = try sweep.run(points)
        let report = CrashSweepReport(outcomes: outcomes, seconds: 1, discoverySeconds: 0, allPoints: points.count)
        XCTAssertTrue(report.ok, report.lines.joined(separator: "\n"))
        XCTAssertEqual(report.lastLine, "crashsweep: \(points.count)/\(points.count) crash points recovered")
        XCTAssertTrue(outcomes.allSatisfy { $0.writableNs != nil })

        var bad = try go()
        bad.argv += ["--fault", "never_reclaim"]
        let broken = CrashSweep(fixtures: [bad], workDir: Repo.defaultWorkDir)
        broken.roles = [.lockReclaimer]
        let failed = try broken.run(try broken.points())
        XCTAssertTrue(failed.contains { !$0.recovered && $0.problems.contains { $0.contains("could not write n") } },
                      failed.map { "\($0.point.name): \($0.problems)" }.joined(separator: "\n"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: Repo.defaultWorkDir))?.filter { $0.contains("crashsweep-\(getpid())") } ?? []
        XCTAssertEqual(leftovers, [], "segments left behind")
    }

    /// Two workers: the same points, every one recovered, the outcomes in the points' order, and
    /// each point's time split into its phases (the profile sums to no more than the points took).
    func testParallelWorkersKeepThePointsOrderAndProfileThePhases() throws {
        let sweep = CrashSweep(fixtures: [try go()], workDir: Repo.defaultWorkDir)
        sweep.roles = [.writer, .reclaimer]
        sweep.jobs = 2
        let points = try sweep.points()
        let serial = CrashSweep(fixtures: [try go()], workDir: Repo.defaultWorkDir)
        serial.roles = sweep.roles
        XCTAssertEqual(points, try serial.points(), "discovery on two workers found other points")
        let t0 = MonotonicClock.now()
        let outcomes = try sweep.run(points)
        let wall = MonotonicClock.now() - t0
        XCTAssertEqual(outcomes.map(\.point), points)
        XCTAssertTrue(outcomes.allSatisfy(\.recovered), outcomes.map { "\($0.point.name): \($0.problems)" }.joined(separator: "\n"))
        let report = CrashSweepReport(outcomes: outcomes, seconds: Double(wall) / 1e9, discoverySeconds: 0, allPoints: points.count)
        for phase: CrashSweepProfile.Phase in [.setUp, .spare, .predecessor, .death, .recovery, .reads, .inspect, .linearizability, .teardown] {
            XCTAssertGreaterThan(report.profile.ns[phase] ?? 0, 0, "no time in \(phase.rawValue)")
        }
        XCTAssertLessThanOrEqual(report.profile.totalNs, 2 * wall, "two workers' phases exceed twice the wall time")
        XCTAssertTrue(report.lines.contains { $0.hasPrefix("  time per point: ") })
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: Repo.defaultWorkDir))?.filter { $0.contains("crashsweep-\(getpid())") } ?? []
        XCTAssertEqual(leftovers, [], "segments left behind")
    }

    func testSampleIsSeededAndKeepsTheOrder() {
        let pts = (0..<50).map { CrashPoint(victim: "go", role: .reader, point: "p\($0)", recoverer: "rust", sweepFirst: false) }
        let a = CrashSweepReport.sample(pts, count: 10, seed: 7), b = CrashSweepReport.sample(pts, count: 10, seed: 7)
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set(a.map(\.point)).count, 10)
        XCTAssertEqual(a.map(\.point), a.map(\.point).sorted { Int($0.dropFirst())! < Int($1.dropFirst())! })
        XCTAssertNotEqual(a, CrashSweepReport.sample(pts, count: 10, seed: 8))
    }
}
