//go:build amd64 || arm64

package warmcache

import "unsafe"

// prefetchLines issues a prefetch of each of the n cache lines from p (prefetch_amd64.s,
// prefetch_arm64.s). The standard library offers no prefetch to user code.
//
//go:noescape
func prefetchLines(p unsafe.Pointer, n uintptr)

const havePrefetch = true
