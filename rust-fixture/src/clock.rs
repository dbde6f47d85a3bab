//! Time (PROTOCOL.md §12): CLOCK_REALTIME nanoseconds, or the segment's `sim_clock_ns` when
//! the segment has feature `SIM_CLOCK`, so that every participant agrees on time exactly.

/// CLOCK_REALTIME in nanoseconds since the epoch (0 if the clock is unavailable, which would
/// only make entries look fresh longer; it never makes anything unsafe).
#[inline]
pub fn realtime_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    if rc != 0 || ts.tv_sec < 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

/// Field 22 of `/proc/self/stat` (start time in clock ticks since boot), 0 if unknown (§5).
pub fn process_start_time() -> u64 {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| parse_start_time(&s)).unwrap_or(0)
    })
}

/// Parses field 22 of a `/proc/<pid>/stat` line. The command name (field 2) may contain spaces
/// and parentheses, so fields are counted after the last `)`.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts with field 3 (state); field 22 is the 20th field after the name.
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn start_time_parses() {
        let line = "123 (a b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20";
        assert_eq!(super::parse_start_time(line), Some(4242));
        assert!(super::process_start_time() > 0);
    }
}
