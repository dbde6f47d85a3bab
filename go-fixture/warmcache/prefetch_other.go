//go:build !amd64 && !arm64

package warmcache

import "unsafe"

// Elsewhere there is no prefetch instruction wired up: touchHome falls back to atomic loads.
func prefetchLines(p unsafe.Pointer, n uintptr) {}

const havePrefetch = false
