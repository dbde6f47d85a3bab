// A seccomp filter that makes a process's sync calls fail, so that the harness can show what a
// fixture answers when the disk does not confirm its bytes (docs/PERSISTENCE.md §6). A filter
// rather than LD_PRELOAD: the Go runtime makes raw system calls that no preload sees.
#define _GNU_SOURCE
#include "CWarmcacheShim.h"

#include <errno.h>
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

int wc_seccomp_fail_sync(int fdatasync_only, int err) {
#ifndef WC_AUDIT_ARCH
    (void)fdatasync_only;
    (void)err;
    return -ENOSYS;
#else
    // Numbers are per architecture: a call of another ABI (x86's 32-bit or x32 entry points)
    // would slip past a comparison against this one's, so such a call kills the process
    // instead of being let through unfailed.
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WC_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),   // __X32_SYSCALL_BIT
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fdatasync, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, fdatasync_only ? __NR_fdatasync : __NR_fsync, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, fdatasync_only ? __NR_fdatasync : __NR_sync_file_range, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, fdatasync_only ? __NR_fdatasync : __NR_syncfs, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, fdatasync_only ? __NR_fdatasync : __NR_msync, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
    };
    struct sock_fprog prog = { .len = (unsigned short)(sizeof filter / sizeof filter[0]), .filter = filter };
    // Without it an unprivileged process may not install a filter; with it the filter also
    // survives the exec into the fixture, which is the point.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return -errno;
    return 0;
#endif
}
