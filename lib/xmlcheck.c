/* A foreign topology XML is loaded first by hwloc's own hwloc-info in a
 * spawned child. hwloc 2.9 dereferences NULL on some well-formed but
 * inconsistent files (an object with a cpuset and no complete_cpuset, found
 * by fuzzing); if it dies or hangs there, the file is refused with the
 * reason instead of taking the caller (slurmstepd) down.
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
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "private/util.h"
#include "private/xmlcheck.h"

#ifndef NG_HWLOC_INFO
#define NG_HWLOC_INFO "/usr/bin/hwloc-info"
#endif

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of what hwloc printed, printable characters only. */
static void first_line(const char *in, char *out, size_t len)
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
            return -2;   /* reaped by someone else (SIGCHLD ignored) */
        if (now_ms() >= deadline)
            return -1;
        struct timespec ts = { 0, 2000000L };   /* 2 ms */
        nanosleep(&ts, NULL);
    }
}

static const char *program(void)
{
    const char *p = secure_getenv("NUMA_GPU_HWLOC_INFO");
    return p && p[0] == '/' ? p : NG_HWLOC_INFO;
}

int ng_xml_check(const char *path, int timeout_ms, char *err, size_t errlen)
{
    const char *prog = program();
    if (timeout_ms <= 0)
        timeout_ms = NG_XML_CHECK_TIMEOUT_MS;
    char *const argv[] = { (char *)prog, "--if", "xml", "--input", (char *)path,
                           "--whole-io", "--disallowed", NULL };
    /* A clean environment: no LD_PRELOAD, no sanitizer runtime, the same
     * hwloc plugins as the load that follows (ng_topo_load). */
    char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C",
                           "HWLOC_PLUGINS_BLACKLIST=hwloc_gl,hwloc_opencl,hwloc_pci", NULL };
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return ng_err(err, errlen, "topology '%s': cannot check it: pipe: %s", path,
                      strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
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
        return ng_err(err, errlen, "topology '%s' was not written by numa-gpu, and %s, which "
                      "checks such files safely, cannot run (%s): install hwloc's tools "
                      "(Debian: hwloc-nox, RHEL: hwloc) or save the file with `numa-gpu "
                      "save-topology --from` where they are", path, prog, strerror(rc));
    }
    long long deadline = now_ms() + timeout_ms;
    char out[1024] = "";
    int late = drain(pfd[0], out, sizeof(out), deadline);
    close(pfd[0]);
    int st = 0;
    int r = late < 0 ? -1 : reap(pid, &st, deadline);
    if (r == -1) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        return ng_err(err, errlen, "topology '%s': %s did not finish reading it within %d ms "
                      "(killed); the file is refused", path, prog, timeout_ms);
    }
    if (r == -2)
        return ng_err(err, errlen, "topology '%s': the outcome of its check by %s was lost "
                      "(the child was reaped elsewhere); the file is refused", path, prog);
    if (WIFSIGNALED(st))
        return ng_err(err, errlen, "topology '%s': hwloc crashed reading it (signal %d in %s); "
                      "the file is malformed", path, WTERMSIG(st), prog);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char line[256];
        first_line(out, line, sizeof(line));
        return ng_err(err, errlen, "topology '%s': not usable as hwloc XML (%s exited %d%s%s)",
                      path, prog, WIFEXITED(st) ? WEXITSTATUS(st) : -1, line[0] ? ": " : "", line);
    }
    return 0;
}
