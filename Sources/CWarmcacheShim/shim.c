#define _GNU_SOURCE
#include "CWarmcacheShim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int wc_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        ts.tv_nsec = (long)(timeout_ns % 1000000000LL);
        tsp = &ts;
    }
    /* FUTEX_WAIT without FUTEX_PRIVATE_FLAG: relative timeout, shared mapping. */
    long r = syscall(SYS_futex, addr, FUTEX_WAIT, expected, tsp, NULL, 0);
    return r < 0 ? -errno : 0;
}

int wc_futex_wake(uint32_t *addr, int n) {
    long r = syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}

/* FAULT private_futex only: the same calls with FUTEX_PRIVATE_FLAG (the bug of copying
   single-process futex code; a private futex is keyed by address space, so wakes across
   processes are lost). */
int wc_futex_wait_private(uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        ts.tv_nsec = (long)(timeout_ns % 1000000000LL);
        tsp = &ts;
    }
    long r = syscall(SYS_futex, addr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, expected, tsp, NULL, 0);
    return r < 0 ? -errno : 0;
}

int wc_futex_wake_private(uint32_t *addr, int n) {
    long r = syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}

int wc_ofd_setlk(int fd, int64_t start) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)start;
    fl.l_len = 1;
    fl.l_pid = 0; /* required to be 0 for OFD locks */
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

int wc_ofd_getlk_is_locked(int fd, int64_t start) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)start;
    fl.l_len = 1;
    fl.l_pid = 0;
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) return -errno;
    return fl.l_type == F_UNLCK ? 0 : 1;
}

int wc_flock(int fd, int op) { return flock(fd, op) < 0 ? -errno : 0; }
int wc_lock_ex(void) { return LOCK_EX; }
int wc_lock_nb(void) { return LOCK_NB; }
int wc_lock_un(void) { return LOCK_UN; }

int wc_open_create_excl(const char *path, uint32_t mode) {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    return fd < 0 ? -errno : fd;
}

int wc_open_existing(const char *path, int writable) {
    /* O_NONBLOCK: opening a FIFO read-only must not hang before fstat can refuse it
       (it has no effect on regular files or on mmap). */
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

int wc_fchmod(int fd, uint32_t mode) { return fchmod(fd, (mode_t)mode) < 0 ? -errno : 0; }

static void fill_stat(const struct stat *st, wc_stat_t *out) {
    out->size = (int64_t)st->st_size;
    out->uid = (uint32_t)st->st_uid;
    out->is_regular = S_ISREG(st->st_mode) ? 1 : 0;
    out->is_symlink = S_ISLNK(st->st_mode) ? 1 : 0;
    out->allocated = (int64_t)st->st_blocks * 512;
    out->nlink = (uint64_t)st->st_nlink;
}

int wc_fstat(int fd, wc_stat_t *out) {
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    fill_stat(&st, out);
    return 0;
}

int wc_lstat(const char *path, wc_stat_t *out) {
    struct stat st;
    if (lstat(path, &st) < 0) return -errno;
    fill_stat(&st, out);
    return 0;
}

int wc_fallocate(int fd, int64_t len) {
    int r = posix_fallocate(fd, 0, (off_t)len);
    return r == 0 ? 0 : -r;
}

int wc_ftruncate(int fd, int64_t len) { return ftruncate(fd, (off_t)len) < 0 ? -errno : 0; }

int wc_write_zero_byte(int fd, int64_t offset) {
    char z = 0;
    ssize_t r = pwrite(fd, &z, 1, (off_t)offset);
    if (r < 0) return -errno;
    return r == 1 ? 0 : -EIO;
}

int wc_linkat(const char *oldpath, const char *newpath) {
    return linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0) < 0 ? -errno : 0;
}

int wc_unlink(const char *path) { return unlink(path) < 0 ? -errno : 0; }
int wc_close(int fd) { return close(fd) < 0 ? -errno : 0; }

void *wc_mmap_shared(int fd, int64_t len, int writable, int *err) {
    void *p = mmap(NULL, (size_t)len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        if (err) *err = errno;
        return NULL;
    }
    return p;
}

int wc_munmap(void *addr, int64_t len) { return munmap(addr, (size_t)len) < 0 ? -errno : 0; }

uint64_t wc_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t wc_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int32_t wc_getpid(void) { return (int32_t)getpid(); }
uint32_t wc_geteuid(void) { return (uint32_t)geteuid(); }

void wc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void wc_sched_yield(void) { sched_yield(); }

int wc_errno_eexist(void) { return EEXIST; }
int wc_errno_enoent(void) { return ENOENT; }
int wc_errno_eloop(void) { return ELOOP; }
int wc_errno_enospc(void) { return ENOSPC; }
int wc_errno_eopnotsupp(void) { return EOPNOTSUPP; }
int wc_errno_eagain(void) { return EAGAIN; }
int wc_errno_eacces(void) { return EACCES; }
int wc_errno_etimedout(void) { return ETIMEDOUT; }
int wc_errno_eintr(void) { return EINTR; }

const char *wc_errno_name(int err) {
    static __thread char buf[24];
    const char *n = strerrorname_np(err);
    if (n) return n;
    snprintf(buf, sizeof buf, "E%d", err);
    return buf;
}

_Static_assert(sizeof(wc_cpu_mask) == sizeof(cpu_set_t), "wc_cpu_mask must hold a cpu_set_t");

int wc_affinity_get(wc_cpu_mask *out) {
    return sched_getaffinity(0, sizeof(cpu_set_t), (cpu_set_t *)out) == 0 ? 0 : -errno;
}

int wc_affinity_set(const wc_cpu_mask *mask) {
    return sched_setaffinity(0, sizeof(cpu_set_t), (const cpu_set_t *)mask) == 0 ? 0 : -errno;
}

int wc_affinity_pin_here(void) {
    int cpu = sched_getcpu();
    if (cpu < 0) return -errno;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? cpu : -errno;
}
