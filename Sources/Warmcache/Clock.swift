// Clock.swift — the segment clock (§12): CLOCK_REALTIME, or sim_clock_ns with SIM_CLOCK.

import CWarmcacheShim

extension WarmCache {
    /// The segment's notion of now, in nanoseconds. With SIM_CLOCK: `sim_clock_ns` loaded with
    /// acquire ordering (pairs with the release store in `setSimClock`, so a reader that sees the
    /// new time also sees whatever the test wrote before moving it).
    @inline(__always)
    public func now() -> UInt64 {
        // Closed: no segment to read the simulated clock from (its operations answer `closed`
        // before they ask the time).
        if simClock && !isClosed { return words.loadAcquire(Layout.HDR_SIM_CLOCK_NS) }
        return wc_realtime_ns()
    }

    /// Move the simulated clock (segment must have feature SIM_CLOCK). Release store: every
    /// participant then agrees on time exactly.
    @_spi(Harness) public func setSimClock(_ nowNs: UInt64) throws(UsageError) {
        guard !isClosed else { throw .closed }
        guard simClock else { throw .simClockNotEnabled }
        words.storeRelease(Layout.HDR_SIM_CLOCK_NS, nowNs)
    }

    /// Whether the segment runs on the simulated clock.
    public var usesSimClock: Bool { simClock }
}

enum ProcessInfoLite {
    /// Field 22 of /proc/self/stat (start time in clock ticks since boot), 0 if unknown.
    static let startTime: UInt64 = readStartTime(pid: nil)

    static func readStartTime(pid: Int32?) -> UInt64 {
        let path = pid.map { "/proc/\($0)/stat" } ?? "/proc/self/stat"
        let fd = wc_open_existing(path, 0)
        if fd < 0 { return 0 }
        defer { _ = wc_close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return 0 }
        let bytes = buf[0..<n]
        // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return 0 }
        let rest = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // rest[0] is field 3 (state), so field 22 is rest[19].
        guard rest.count > 19, let v = UInt64(String(decoding: rest[19], as: UTF8.self)) else { return 0 }
        return v
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
