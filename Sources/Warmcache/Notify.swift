// Notify.swift — change notification on the 32-bit `generation` futex word (§11).

import CWarmcacheShim

extension WarmCache {
    /// Publisher side: bump `generation` (seq_cst), then wake if anyone is parked. The two
    /// sequentially consistent accesses pair with the waiter's `waiters` increment and its
    /// generation re-check (Dekker): either we see waiters > 0, or the waiter sees the new
    /// generation before it parks.
    func notify() {
        if faults.contains(.noGenerationBump) {
            // FAULT no_generation_bump: the bug of a publisher that forgets §11: generation stays
            // put (and nobody is woken), so waiters sleep through the change until they time out.
            // Every caller of notify (publishes T2/T5/T9 and reclaims) is affected.
            return
        }
        words.generationBump()
        if words.loadSeqCst(Layout.HDR_WAITERS) > 0 {
            if faults.contains(.privateFutex) {
                // FAULT private_futex: the bug of copying single-process futex code. A private
                // futex is keyed by (address space, virtual address), a shared one by the file
                // page, so a private wake reaches no other process: cross-process wakeups are lost.
                _ = wc_futex_wake_private(words.generationAddress(), Int32.max)
            } else {
                _ = wc_futex_wake(words.generationAddress(), Int32.max)
            }
        }
    }

    /// The current `generation` (seq_cst load).
    public func generation() throws(UsageError) -> UInt32 {
        guard !isClosed else { throw .closed }
        return words.generationLoad()
    }

    /// Wait until `generation` differs from `seen` or `timeoutNs` passes. Returns the
    /// generation and whether the wait timed out.
    public func waitForChange(seen: UInt32, timeoutNs: UInt64) throws(UsageError) -> (generation: UInt32, timedOut: Bool) {
        guard !isClosed else { throw .closed }
        for _ in 0..<Layout.NOTIFY_SPINS {
            let g = words.generationLoad()
            if g != seen { return (g, false) }
            wc_cpu_relax()
        }
        let (sum, overflow) = wc_monotonic_ns().addingReportingOverflow(timeoutNs)
        let deadline = overflow ? UInt64.max : sum
        // seq_cst: announce ourselves before the re-check (pairs with the publisher's load).
        words.fetchAddSeqCst(Layout.HDR_WAITERS, 1)
        defer { words.fetchSubSeqCst(Layout.HDR_WAITERS, 1) }
        at(.waitBeforePark)
        while true {
            let g = words.generationLoad()
            if g != seen { return (g, false) }
            let now = wc_monotonic_ns()
            if now >= deadline { return (g, true) }
            let remaining = Int64(min(deadline - now, UInt64(Int64.max)))
            if faults.contains(.privateFutex) {
                // FAULT private_futex: a private waiter is never reached by another process's
                // (shared) wake; it sleeps until its timeout.
                _ = wc_futex_wait_private(words.generationAddress(), seen, remaining)
            } else {
                // No FUTEX_PRIVATE_FLAG: the word is in a shared file mapping.
                _ = wc_futex_wait(words.generationAddress(), seen, remaining)
            }
        }
    }

    /// Convenience with a Duration timeout.
    public func waitForChange(seen: UInt32, timeout: Duration) throws(UsageError) -> (generation: UInt32, timedOut: Bool) {
        let (s, a) = timeout.components
        let ns = s <= 0 && a <= 0 ? 0 : UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000)
        return try waitForChange(seen: seen, timeoutNs: ns)
    }
}
