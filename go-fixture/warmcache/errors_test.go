package warmcache

import (
	"syscall"
	"testing"
)

// §4.2 step 1: an io error names its errno symbolically; an errno without a name gets its number.
func TestErrnoName(t *testing.T) {
	for e, want := range map[syscall.Errno]string{syscall.ENOENT: "ENOENT", syscall.EACCES: "EACCES",
		syscall.ETIMEDOUT: "ETIMEDOUT", syscall.Errno(200): "errno 200"} {
		if got := errnoName(e); got != want {
			t.Errorf("errnoName(%d) = %q, want %q", int(e), got, want)
		}
	}
}
