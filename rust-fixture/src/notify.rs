//! Change notification (PROTOCOL.md §11): a futex on the 32-bit `generation` word.
//!
//! The futex calls do **not** use `FUTEX_PRIVATE_FLAG`: the word lives in a file mapped by
//! several processes, and private futexes are keyed by (mm, address) so they would never meet.

use crate::layout::{HDR_GENERATION, HDR_WAITERS};
use crate::shm::Shm;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Bumps `generation` and wakes parked waiters (after T2, T5, T9 and every reclaim).
/// `private` is only ever true under FAULT private_futex.
#[inline]
pub(crate) fn publish(shm: &Shm, private: bool) {
    // SeqCst on both: Dekker-style handshake with `wait`. Either we see the waiter's
    // increment of `waiters` and wake it, or its FUTEX_WAIT sees our new generation.
    shm.word32(HDR_GENERATION).fetch_add(1, Ordering::SeqCst);
    if shm.word(HDR_WAITERS).load(Ordering::SeqCst) > 0 {
        futex_wake(shm, private);
    }
}

fn futex_op(op: libc::c_int, private: bool) -> libc::c_int {
    if private {
        op | libc::FUTEX_PRIVATE_FLAG
    } else {
        op
    }
}

fn futex_wake(shm: &Shm, private: bool) {
    // SAFETY: the address is the in-bounds, 4-byte aligned `generation` word of a live mapping.
    unsafe {
        libc::syscall(libc::SYS_futex, shm.addr(HDR_GENERATION), futex_op(libc::FUTEX_WAKE, private), i32::MAX, 0usize, 0usize, 0u32);
    }
}

/// Current generation (SeqCst, part of the handshake).
#[inline]
pub(crate) fn generation(shm: &Shm) -> u32 {
    shm.word32(HDR_GENERATION).load(Ordering::SeqCst)
}

/// Waits until `generation != seen` or `timeout` passes. Returns the generation and whether it
/// timed out (the generation still equal to `seen`).
/// `before_park` is the §17 pause point `wait.before_park`.
pub(crate) fn wait_for_change(
    shm: &Shm,
    seen: u32,
    timeout: Duration,
    private: bool,
    before_park: impl Fn(),
) -> (u32, bool) {
    for _ in 0..100 {
        let g = generation(shm);
        if g != seen {
            return (g, false);
        }
        std::hint::spin_loop();
    }
    // A timeout too large to represent is "no deadline" (never panic on Instant overflow).
    let deadline = Instant::now().checked_add(timeout);
    // SeqCst: must be visible before our FUTEX_WAIT re-checks the generation (see `publish`).
    shm.word(HDR_WAITERS).fetch_add(1, Ordering::SeqCst);
    before_park();
    loop {
        if generation(shm) != seen {
            break;
        }
        let now = Instant::now();
        let left = match deadline {
            Some(d) if now >= d => break,
            Some(d) => d - now,
            None => Duration::from_secs(3600),
        };
        let ts = libc::timespec { tv_sec: left.as_secs() as libc::time_t, tv_nsec: left.subsec_nanos() as libc::c_long };
        // SAFETY: valid aligned futex word and timespec. FUTEX_WAIT returns at once (EAGAIN) if
        // the word no longer equals `seen`; EINTR and spurious wakes just loop and re-check.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                shm.addr(HDR_GENERATION),
                futex_op(libc::FUTEX_WAIT, private),
                seen,
                &ts as *const libc::timespec,
                0usize,
                0u32,
            );
        }
    }
    shm.word(HDR_WAITERS).fetch_sub(1, Ordering::SeqCst);
    let g = generation(shm);
    (g, g == seen)
}
