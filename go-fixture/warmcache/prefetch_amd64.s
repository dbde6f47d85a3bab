#include "textflag.h"

// func prefetchLines(p unsafe.Pointer, n uintptr)
// PREFETCHT0 of the n cache lines from p. A prefetch is a hint, not an access: it reads nothing
// into a register, stores nothing and has no effect another participant can observe, so it needs
// no atomic ordering (get_many.go says why Go needs it at all).
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	TESTQ CX, CX
	JEQ done
loop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	DECQ CX
	JNE loop
done:
	RET
