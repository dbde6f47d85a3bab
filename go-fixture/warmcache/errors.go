package warmcache

import (
	"errors"
	"fmt"
	"syscall"
)

// Code is one of the §15 error codes, spelled exactly as in the spec.
type Code string

// Open and create codes (§15).
const (
	CodeNotFound            Code = "not_found"
	CodeSymlink             Code = "symlink"
	CodeNotRegularFile      Code = "not_regular_file"
	CodeForeignOwner        Code = "foreign_owner"
	CodeTooShort            Code = "too_short"
	CodeBadMagic            Code = "bad_magic"
	CodeUnsupportedMajor    Code = "unsupported_major"
	CodeNotReady            Code = "not_ready"
	CodeBadHeaderChecksum   Code = "bad_header_checksum"
	CodeUnsupportedFeatures Code = "unsupported_features"
	CodeLayoutMismatch      Code = "layout_mismatch"
	CodeBadGeometry         Code = "bad_geometry"
	CodeTruncated           Code = "truncated"
	CodeNoSpace             Code = "no_space"
	CodeExists              Code = "exists"
	CodeParticipantsFull    Code = "participants_full"
	CodeIO                  Code = "io"
	// CodeSparse: the file has holes (st_blocks × 512 < total_len, §4.2 step 11, §13.2).
	CodeSparse Code = "sparse"
)

// Operation codes (§15). CodeNotFound doubles as refresh's "key not found".
const (
	CodeTooLarge        Code = "too_large"
	CodeFull            Code = "full"
	CodeVersionNotNewer Code = "version_not_newer"
	CodeBusy            Code = "busy"
	// Namespace operations (1.1, §18).
	CodeNotStaging   Code = "not_staging"   // the handle has no open stage in the namespace
	CodeNoPrevious   Code = "no_previous"   // a rollback with no previous version
	CodePinned       Code = "pinned"        // the handle already holds a pin
	CodeBadNamespace Code = "bad_namespace" // an index ≥ NS_COUNT or an ill-formed table word
	// CodeClosed is not a protocol code: the handle was used after Close (an API misuse).
	CodeClosed Code = "closed"
	// CodeUnsupported is not a protocol code: e.g. setSimClock on a real-time segment.
	CodeUnsupported Code = "unsupported"
	// codeAbandoned is used only by test hooks that stop an operation after its claim.
	codeAbandoned Code = "abandoned"
)

// Error is the error type of every warmcache function. Code is the §15 code; Op and Path say
// what was being done and where; Detail says why.
type Error struct {
	C      Code
	Op     string
	Path   string
	Detail string
	Errno  syscall.Errno // for CodeIO (and others caused by a system call), else 0
}

// Code returns the §15 error code.
func (e *Error) Code() Code { return e.C }

func (e *Error) Error() string {
	s := "warmcache: " + e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	s += ": " + string(e.C)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap exposes the errno, so errors.Is(err, syscall.ENOENT) works.
func (e *Error) Unwrap() error {
	if e.Errno != 0 {
		return e.Errno
	}
	return nil
}

// CodeOf returns the Code of err if it is (or wraps) an *Error, else "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.C
	}
	return ""
}

func newErr(c Code, op, path, format string, args ...interface{}) *Error {
	return &Error{C: c, Op: op, Path: path, Detail: fmt.Sprintf(format, args...)}
}

// errnoName returns the symbolic name of an errno ("ENOENT"), as §4.2 step 1 asks for io errors.
func errnoName(e syscall.Errno) string {
	for _, n := range errnoNames {
		if n.e == e {
			return n.name
		}
	}
	return fmt.Sprintf("errno %d", int(e))
}

// errnoNames is a table, not a map: a map literal is built by the package initialiser at every
// start of every program that imports the library (docs/BENCHMARKS.md "Startup"), a table is
// static data; the scan runs only on an error path.
var errnoNames = [...]struct {
	e    syscall.Errno
	name string
}{
	{syscall.EPERM, "EPERM"}, {syscall.ENOENT, "ENOENT"}, {syscall.EINTR, "EINTR"},
	{syscall.EIO, "EIO"}, {syscall.ENXIO, "ENXIO"}, {syscall.EBADF, "EBADF"},
	{syscall.EAGAIN, "EAGAIN"}, {syscall.ENOMEM, "ENOMEM"}, {syscall.EACCES, "EACCES"},
	{syscall.EFAULT, "EFAULT"}, {syscall.EBUSY, "EBUSY"}, {syscall.EEXIST, "EEXIST"},
	{syscall.EXDEV, "EXDEV"}, {syscall.ENODEV, "ENODEV"}, {syscall.ENOTDIR, "ENOTDIR"},
	{syscall.EISDIR, "EISDIR"}, {syscall.EINVAL, "EINVAL"}, {syscall.ENFILE, "ENFILE"},
	{syscall.EMFILE, "EMFILE"}, {syscall.ETXTBSY, "ETXTBSY"}, {syscall.EFBIG, "EFBIG"},
	{syscall.ENOSPC, "ENOSPC"}, {syscall.ESPIPE, "ESPIPE"}, {syscall.EROFS, "EROFS"},
	{syscall.EMLINK, "EMLINK"}, {syscall.ENAMETOOLONG, "ENAMETOOLONG"}, {syscall.ELOOP, "ELOOP"},
	{syscall.EOPNOTSUPP, "EOPNOTSUPP"}, {syscall.EDQUOT, "EDQUOT"}, {syscall.EOVERFLOW, "EOVERFLOW"},
	{syscall.ETIMEDOUT, "ETIMEDOUT"},
}

func ioErr(op, path string, e error) *Error {
	var en syscall.Errno
	if errors.As(e, &en) {
		return &Error{C: CodeIO, Op: op, Path: path, Detail: errnoName(en), Errno: en}
	}
	return &Error{C: CodeIO, Op: op, Path: path, Detail: e.Error()}
}
