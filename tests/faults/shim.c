/* Fault injection for tests only (LD_PRELOAD): NG_FAULT="call:ERRNO,..."
 * makes the named calls fail with that errno, e.g.
 *   NG_FAULT=set_mempolicy:EPERM      a seccomp profile forbidding it
 *   NG_FAULT=sched_setaffinity:EINVAL a cpuset that changed under us
 * Everything else goes to the real function. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

static int fault(const char *call)
{
    const char *f = getenv("NG_FAULT");
    size_t n = strlen(call);
    for (const char *p = f; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, call, n) || p[n] != ':')
            continue;
        const char *e = p + n + 1;
        return !strncmp(e, "EPERM", 5) ? EPERM : !strncmp(e, "EINVAL", 6) ? EINVAL
             : !strncmp(e, "ENOMEM", 6) ? ENOMEM : !strncmp(e, "ENOSPC", 6) ? ENOSPC : EIO;
    }
    return 0;
}

long set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode)
{
    int e = fault("set_mempolicy");
    if (e) {
        errno = e;
        return -1;
    }
    long (*real)(int, const unsigned long *, unsigned long) =
        (long (*)(int, const unsigned long *, unsigned long))dlsym(RTLD_NEXT, "set_mempolicy");
    return real ? real(mode, mask, maxnode) : (errno = ENOSYS, -1);
}

int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    int e = fault("sched_setaffinity");
    if (e) {
        errno = e;
        return -1;
    }
    int (*real)(pid_t, size_t, const cpu_set_t *) =
        (int (*)(pid_t, size_t, const cpu_set_t *))dlsym(RTLD_NEXT, "sched_setaffinity");
    return real ? real(pid, size, set) : (errno = ENOSYS, -1);
}
