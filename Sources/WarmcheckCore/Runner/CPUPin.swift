import CWarmcacheShim

/// Runs a controlled race on one CPU. Only one process of a race runs at a time (the others wait
/// at pause points or for the orchestrator), so two CPUs buy nothing, while every step that
/// wakes a process on the other, idle vCPU of this KVM guest costs 60–90 µs instead of 15–30
/// (docs/BENCHMARKS.md). Fixtures spawned while the calling thread is pinned inherit its mask.
enum CPUPin {
    /// Pins the calling thread for the duration of `body` (fixtures it spawns stay pinned, and
    /// are stopped within it), then restores the mask it had. Without affinity support, runs
    /// `body` as it is.
    static func onOneCPU<T>(_ body: () throws -> T) rethrows -> T {
        var saved = wc_cpu_mask()
        guard wc_affinity_get(&saved) == 0, wc_affinity_pin_here() >= 0 else { return try body() }
        defer { _ = wc_affinity_set(&saved) }
        return try body()
    }
}
