// Seccomp filters for a failing disk: sync calls that fail, so that the harness can show what a
// fixture answers when the disk does not confirm its bytes (docs/PERSISTENCE.md §6), and a
// file system without fallocate (PROTOCOL.md §4.1 step 3's fallback). A filter
// rather than LD_PRELOAD: the Go runtime makes raw system calls that no preload sees.
#define _GNU_SOURCE
#include "CWarmcacheShim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define WC_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define WC_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef WC_AUDIT_ARCH
// Every filter starts here: a call of another ABI kills the process, and the accumulator is left
// holding the call number. Numbers are per architecture: a call of another ABI (x86's 32-bit or
// x32 entry points) would slip past a comparison against this one's, so such a call kills the
// process instead of being let through unfailed. Returns the number of instructions written.
static int abi_prologue(struct sock_filter *filter) {
    int k = 0;
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    filter[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WC_AUDIT_ARCH, 1, 0);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    filter[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);   // __X32_SYSCALL_BIT
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
    return k;
}

// Installs the `k` instructions of `filter` in this process (and everything it execs).
static int install_filter(struct sock_filter *filter, int k) {
    struct sock_fprog prog = { .len = (unsigned short)k, .filter = filter };
    // Without it an unprivileged process may not install a filter; with it the filter also
    // survives the exec into the fixture, which is the point.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return -errno;
    return 0;
}

// The filter: calls numbered `nrs` fail with `err`, every other call of this ABI is allowed, and
// a call of another ABI kills the process.
static int install_errno_filter(const int *nrs, int n, int err) {
    struct sock_filter filter[16];
    int k = abi_prologue(filter);
    if (n < 1 || k + n + 2 > (int)(sizeof filter / sizeof filter[0])) return -EINVAL;
    // Comparison i jumps over the n - 1 - i comparisons after it and the ALLOW to the ERRNO.
    for (int i = 0; i < n; i++)
        filter[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], (unsigned char)(n - i), 0);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA));
    return install_filter(filter, k);
}
#endif

int wc_seccomp_fail_sync(int fdatasync_only, int err) {
#ifndef WC_AUDIT_ARCH
    (void)fdatasync_only;
    (void)err;
    return -ENOSYS;
#else
    static const int all[] = { __NR_fdatasync, __NR_fsync, __NR_sync_file_range, __NR_syncfs, __NR_msync };
    return install_errno_filter(all, fdatasync_only ? 1 : 5, err);
#endif
}

// fcntl(F_OFD_SETLK) fails with ENOLCK, every other fcntl command works: the participant lock of
// PROTOCOL.md §5 meets a kernel out of lock space (or a mount without working record locks),
// which no busy entry explains. One comparison on the command argument: install_errno_filter
// matches call numbers only.
int wc_seccomp_ofd_setlk_fails(void) {
#ifndef WC_AUDIT_ARCH
    return -ENOSYS;
#else
    struct sock_filter filter[16];
    int k = abi_prologue(filter);
    filter[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fcntl, 0, 3);    // not fcntl: to the ALLOW
    // The command is an int: the low 32 bits of args[1] on a little-endian machine.
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 8);
    filter[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLK, 0, 1);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOLCK & SECCOMP_RET_DATA));
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return install_filter(filter, k);
#endif
}

int wc_seccomp_fallocate_unsupported(void) {
#ifndef WC_AUDIT_ARCH
    return -ENOSYS;
#else
    static const int nrs[] = { __NR_fallocate };
    return install_errno_filter(nrs, 1, EOPNOTSUPP);
#endif
}
