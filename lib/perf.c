/* Node-level memory access counters of a task (perf_event_open,
 * PERF_COUNT_HW_CACHE_NODE read accesses and misses: a miss is an access
 * served by a remote node). Many machines (VMs, paranoid settings) have no
 * such counter: the reason is reported, never a made-up number. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "private/audit.h"
#include "private/util.h"

static int open_counter(int pid, unsigned long long result)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_HW_CACHE;
    a.config = PERF_COUNT_HW_CACHE_NODE | (PERF_COUNT_HW_CACHE_OP_READ << 8) | (result << 16);
    a.inherit = 1; /* count the task's children and threads too */
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int ng_perf_open(int pid, int fds[2], char *why, size_t len)
{
    fds[0] = open_counter(pid, PERF_COUNT_HW_CACHE_RESULT_ACCESS);
    int e = errno;
    fds[1] = fds[0] >= 0 ? open_counter(pid, PERF_COUNT_HW_CACHE_RESULT_MISS) : -1;
    if (fds[0] < 0 || fds[1] < 0) {
        if (fds[1] < 0 && fds[0] >= 0)
            e = errno;
        ng_perf_close(fds);
        snprintf(why, len, "unavailable: perf_event_open(node loads): %s%s", strerror(e),
                 e == ENOENT || e == EOPNOTSUPP ? " (no node-level counter on this CPU/VM)"
                 : e == EACCES || e == EPERM ? " (perf_event_paranoid)" : "");
        return -1;
    }
    return 0;
}

int ng_perf_read(int fds[2], unsigned long long *accesses, unsigned long long *misses)
{
    if (fds[0] < 0 || fds[1] < 0 ||
        read(fds[0], accesses, sizeof(*accesses)) != sizeof(*accesses) ||
        read(fds[1], misses, sizeof(*misses)) != sizeof(*misses))
        return -1;
    return 0;
}

void ng_perf_close(int fds[2])
{
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}
