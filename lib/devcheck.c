/* Which GPU device files the calling process may use, as the kernel's
 * device cgroup decides. access(2) runs the same checks as open(2):
 * inode_permission() applies file permissions and then
 * devcgroup_inode_permission() (the cgroup v1 devices list and the cgroup v2
 * BPF device program alike), and it does not call into the driver, so it
 * costs a path lookup: no GPU initialisation, no file descriptor. A denied
 * device gives EPERM; EACCES comes from file permissions, before the cgroup
 * is asked, and so proves nothing about it. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#include "private/devcheck.h"

ng_dev_access ng_dev_check(const char *path, int *errnum)
{
    *errnum = 0;
    if (!path || !*path) {
        *errnum = ENOENT;
        return NG_DEV_UNKNOWN;
    }
    if (access(path, R_OK | W_OK) == 0)
        return NG_DEV_ALLOWED;
    *errnum = errno;
    return errno == EPERM ? NG_DEV_DENIED : NG_DEV_UNKNOWN;
}
