package warmcache

import (
	"math"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Futex operations. No FUTEX_PRIVATE_FLAG: generation lives in a shared file mapping and other
// processes wait on it (§11).
const (
	futexWait = 0 // FUTEX_WAIT
	futexWake = 1 // FUTEX_WAKE

	futexPrivateFlag = 128 // FUTEX_PRIVATE_FLAG: only for FAULT private_futex
)

func (c *Cache) genPtr() *uint32 { return (*uint32)(unsafe.Pointer(&c.mem[OffGeneration])) }

// notify bumps generation after a publish (T2, T5, T9) or a reclaim, and wakes waiters (§11).
// Both accesses are sequentially consistent (Go atomics always are): either we see waiters > 0
// and wake, or the waiter's FUTEX_WAIT sees the new generation and returns at once.
func (c *Cache) notify() {
	if c.faults.has(faultNoGenerationBump) {
		// FAULT no_generation_bump: the bug of a publisher that forgets §11: generation stays
		// put (and nobody is woken), so waiters sleep through the change until they time out.
		// Every caller of notify (publishes T2/T5/T9 and reclaims) is affected.
		return
	}
	atomic.AddUint32(c.genPtr(), 1)
	if atomic.LoadUint64(c.u64(OffWaiters)) > 0 {
		_, _, _ = syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(c.genPtr())),
			c.futexOp(futexWake), math.MaxInt32, 0, 0, 0)
	}
}

// futexOp returns op, or (FAULT private_futex) op|FUTEX_PRIVATE_FLAG: the bug of copying
// single-process futex code. A private futex is keyed by (address space, virtual address),
// a shared one by the file page, so a wake from another process (or from another mapping in
// this one) never reaches a private waiter, and a private wake reaches no other process:
// cross-process wakeups are lost and waiters sleep until their timeout.
func (c *Cache) futexOp(op uintptr) uintptr {
	if c.faults.has(faultPrivateFutex) {
		return op | futexPrivateFlag
	}
	return op
}

// Generation returns the current generation.
func (c *Cache) Generation() (uint32, error) {
	if err := c.checkOpen("generation"); err != nil {
		return 0, err
	}
	return atomic.LoadUint32(c.genPtr()), nil
}

// WaitForChange waits until generation differs from seen or timeout passes (§11). It returns
// the generation it saw last and whether it timed out. A timeout ≤ 0 only checks once.
//
// The futex wait runs with the calling goroutine locked to its OS thread
// (runtime.LockOSThread), as §11 asks for Go: the parked thread is then dedicated to this wait
// and the runtime hands its scheduler slot to other goroutines (Syscall6 enters a blocking
// system call).
func (c *Cache) WaitForChange(seen uint32, timeout time.Duration) (uint32, bool, error) {
	if err := c.checkOpen("wait"); err != nil {
		return 0, false, err
	}
	gp := c.genPtr()
	for i := 0; i < 100; i++ {
		if g := atomic.LoadUint32(gp); g != seen {
			return g, false, nil
		}
	}
	if timeout <= 0 {
		return atomic.LoadUint32(gp), true, nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	deadline := time.Now().Add(timeout)
	wp := c.u64(OffWaiters)
	atomic.AddUint64(wp, 1)
	c.hooks.at(PointWaitBeforePark)
	timedOut := false
	for {
		if atomic.LoadUint32(gp) != seen {
			break
		}
		rem := time.Until(deadline)
		if rem <= 0 {
			timedOut = true
			break
		}
		ts := syscall.NsecToTimespec(int64(rem))
		// FUTEX_WAIT returns at once (EAGAIN) if generation is no longer seen; EINTR and
		// ETIMEDOUT just loop back to the checks above.
		_, _, _ = syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(gp)), c.futexOp(futexWait),
			uintptr(seen), uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
	atomic.AddUint64(wp, ^uint64(0)) // fetch_sub(waiters, 1)
	g := atomic.LoadUint32(gp)
	if timedOut && g != seen {
		timedOut = false
	}
	return g, timedOut, nil
}
