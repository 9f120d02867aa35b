/* Spawn one of hwloc's programs with a deadline (see private/spawn.h).
 *
 * Why spawn + exec and not fork: a forked child of a multi-threaded process
 * (slurmstepd, a fuzzer) that calls malloc can block forever on a lock
 * another thread held at fork time; its alarm() never fires because the
 * inherited handler swallows it. posix_spawn execs at once, and the child
 * runs a fresh program with default signal handlers and an empty mask. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "private/spawn.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ng_spawn_first_line(const char *in, char *out, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && in[i] != '\n' && j + 1 < len; i++)
        out[j++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
    out[j] = '\0';
}

/* Read the child's stderr until EOF or the deadline; 0 at EOF, -1 late. */
static int drain(int fd, char *buf, size_t len, long long deadline)
{
    size_t got = 0;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR)
            return 0;
        if (r <= 0)
            continue;
        char tmp[512];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        size_t k = (size_t)n < len - 1 - got ? (size_t)n : len - 1 - got;
        memcpy(buf + got, tmp, k);
        got += k;
        buf[got] = '\0';
    }
}

/* Wait for pid until the deadline; 0 with its status, -1 late, -2 lost. */
static int reap(pid_t pid, int *st, long long deadline)
{
    for (;;) {
        pid_t r = waitpid(pid, st, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -2;
        if (now_ms() >= deadline)
            return -1;
        struct timespec ts = { 0, 2000000L };   /* 2 ms */
        nanosleep(&ts, NULL);
    }
}

int ng_spawn_wait(const char *prog, char *const argv[], char *const envp[], int in_fd,
                  int out_fd, int timeout_ms, int *status, char *errbuf, size_t errlen)
{
    char scratch[2];
    if (!errbuf || errlen < 2) {
        errbuf = scratch;
        errlen = sizeof(scratch);
    }
    errbuf[0] = '\0';
    *status = 0;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        *status = errno;
        return NG_SPAWN_FAILED;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    /* dup2 clears close-on-exec on the target: the caller's descriptors may
     * (and should) be O_CLOEXEC. */
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);   /* none of slurmstepd's fds */
#endif
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, prog, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        *status = rc;
        return NG_SPAWN_FAILED;
    }
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    int late = drain(pfd[0], errbuf, errlen, deadline);
    close(pfd[0]);
    int r = late < 0 ? -1 : reap(pid, status, deadline);
    if (r == -1) {
        kill(pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
            ;
        return NG_SPAWN_LATE;
    }
    return r == -2 ? NG_SPAWN_LOST : 0;
}
