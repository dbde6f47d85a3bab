// CWarmcacheShim: thin C wrappers for the system calls Swift cannot call directly
// (variadic syscall/fcntl/open) or that need exact flag control. Every function returns
// a non-negative value on success and -errno on failure, unless documented otherwise.
#ifndef CWARMCACHESHIM_H
#define CWARMCACHESHIM_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A hint that the cache line at p will be read soon (__builtin_prefetch, read, keep in all
/// levels): no access to the memory, so no fault and nothing another process can observe. For
/// the batched get (WarmCache.get(_:into:) of several keys), Swift having no prefetch of its own.
static inline void wc_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// FUTEX_WAIT (shared, NOT FUTEX_PRIVATE_FLAG: the word lives in a file mapped by several
/// processes). timeout_ns < 0 waits forever. Returns 0 when woken (or spuriously),
/// -EAGAIN if *addr != expected, -ETIMEDOUT, -EINTR.
int wc_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);
/// FUTEX_WAKE (shared). Returns the number of woken waiters or -errno.
int wc_futex_wake(uint32_t *addr, int n);
/// FUTEX_WAIT | FUTEX_PRIVATE_FLAG and FUTEX_WAKE | FUTEX_PRIVATE_FLAG: ONLY for the fault
/// switch private_futex (a deliberate bug: cross-process wakeups are lost).
int wc_futex_wait_private(uint32_t *addr, uint32_t expected, int64_t timeout_ns);
int wc_futex_wake_private(uint32_t *addr, int n);

/// F_OFD_SETLK, F_WRLCK, SEEK_SET, [start, start+1). 0 on success, -errno (EAGAIN/EACCES: held).
int wc_ofd_setlk(int fd, int64_t start);
/// F_OFD_GETLK for F_WRLCK on [start, start+1). 1 = some other open file description holds a
/// conflicting lock, 0 = unlocked, -errno on error.
int wc_ofd_getlk_is_locked(int fd, int64_t start);

/// The calling thread's CPU affinity mask as opaque bytes (a cpu_set_t: 1024 CPUs). Not part of
/// the protocol: warmcheck pins a controlled race to one CPU, since only one of its processes
/// runs at a time and a wake-up across CPUs of an idle VM costs several times a step.
typedef struct { uint64_t bits[16]; } wc_cpu_mask;
/// sched_getaffinity of the calling thread. 0 or -errno.
int wc_affinity_get(wc_cpu_mask *out);
/// sched_setaffinity of the calling thread. 0 or -errno.
int wc_affinity_set(const wc_cpu_mask *mask);
/// Pins the calling thread to the CPU it is running on. That CPU's number, or -errno.
int wc_affinity_pin_here(void);

/// flock(fd, op). 0 or -errno.
int wc_flock(int fd, int op);
int wc_lock_ex(void);   /* LOCK_EX */
int wc_lock_nb(void);   /* LOCK_NB */
int wc_lock_un(void);   /* LOCK_UN */

/// open(path, O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode). fd or -errno.
int wc_open_create_excl(const char *path, uint32_t mode);
/// open(path, (writable ? O_RDWR : O_RDONLY)|O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK). fd or -errno.
int wc_open_existing(const char *path, int writable);
/// fchmod. 0 or -errno.
int wc_fchmod(int fd, uint32_t mode);

/// Result of fstat/lstat, reduced to what the protocol needs.
typedef struct {
    int64_t size;
    uint32_t uid;
    int32_t is_regular;
    int32_t is_symlink;
    /// st_blocks × 512: the bytes allocated, below st_size for a sparse file (PROTOCOL.md §4.2 step 11).
    int64_t allocated;
    /// st_nlink: 0 once the file's last name was removed (PROTOCOL.md §4.1 step 2, the sweep).
    uint64_t nlink;
} wc_stat_t;
int wc_fstat(int fd, wc_stat_t *out);
int wc_lstat(const char *path, wc_stat_t *out);

/// posix_fallocate(fd, 0, len). 0 or -error (posix_fallocate returns the error, not errno).
int wc_fallocate(int fd, int64_t len);
/// ftruncate. 0 or -errno.
int wc_ftruncate(int fd, int64_t len);
/// pwrite of one zero byte at offset. 0 or -errno.
int wc_write_zero_byte(int fd, int64_t offset);
/// linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0): no AT_SYMLINK_FOLLOW. 0 or -errno.
int wc_linkat(const char *oldpath, const char *newpath);
/// unlink. 0 or -errno.
int wc_unlink(const char *path);
/// close. 0 or -errno.
int wc_close(int fd);

/// mmap(NULL, len, PROT_READ[|PROT_WRITE], MAP_SHARED, fd, 0). NULL on failure (errno in *err).
void *wc_mmap_shared(int fd, int64_t len, int writable, int *err);
int wc_munmap(void *addr, int64_t len);

/// CLOCK_REALTIME / CLOCK_MONOTONIC in nanoseconds.
uint64_t wc_realtime_ns(void);
uint64_t wc_monotonic_ns(void);

/// getpid / geteuid.
int32_t wc_getpid(void);
uint32_t wc_geteuid(void);

/// CPU relax hint (pause on x86, yield on arm) and sched_yield.
void wc_cpu_relax(void);
void wc_sched_yield(void);

/// Error codes the Swift side compares against.
int wc_errno_eexist(void);
int wc_errno_enoent(void);
int wc_errno_eloop(void);
int wc_errno_enospc(void);
int wc_errno_eopnotsupp(void);
int wc_errno_eagain(void);
int wc_errno_eacces(void);
int wc_errno_etimedout(void);
int wc_errno_eintr(void);
/// Symbolic name of an errno value ("ENOENT"), or "E<number>" if unknown. Static storage.
const char *wc_errno_name(int err);

/// posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34; Swift's Glibc module does not export
/// it): the spawned program gets no descriptor >= lowfd. `actions` is a posix_spawn_file_actions_t *.
int wc_spawn_actions_closefrom(void *actions, int lowfd);

/// Installs, in the calling process and everything it execs, a seccomp filter under which
/// fdatasync (fdatasync_only != 0) or every sync call (fsync, fdatasync, sync_file_range, syncfs,
/// msync) fails with `err`; a call of another system-call ABI kills the process. 0 or -errno
/// (-ENOSYS on an architecture it has no numbers for). Irrevocable: call it only in a child.
int wc_seccomp_fail_sync(int fdatasync_only, int err);

/// The same for a file system without fallocate: fallocate(2) fails with EOPNOTSUPP, as on file
/// systems that have none (PROTOCOL.md §4.1 step 3's fallback). glibc's posix_fallocate then
/// writes the blocks itself; a raw fallocate (Go) must take the spec's fallback.
int wc_seccomp_fallocate_unsupported(void);

/// The same for record locks: fcntl(F_OFD_SETLK) fails with ENOLCK (a kernel out of lock space),
/// every other fcntl command works, so the participant lock of PROTOCOL.md §5 fails for a reason
/// that is not a live holder.
int wc_seccomp_ofd_setlk_fails(void);

#ifdef __cplusplus
}
#endif
#endif
