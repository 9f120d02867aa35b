/* Running one of hwloc's own programs (hwloc-info, lstopo) from a process
 * that may be slurmstepd, a task about to exec, or a fuzzer: spawned and
 * exec'd at once (posix_spawn, never a bare fork: a forked child of a
 * multi-threaded process can block forever on a lock another thread held),
 * never through a shell, with a clean environment and a deadline.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_SPAWN_H
#define NG_PRIVATE_SPAWN_H
#include <stddef.h>

/* Outcomes of ng_spawn_wait besides 0 (ran and exited or was signalled). */
#define NG_SPAWN_FAILED (-1)   /* could not start: *status is the errno */
#define NG_SPAWN_LATE   (-2)   /* still running at the deadline: killed */
#define NG_SPAWN_LOST   (-3)   /* reaped elsewhere (SIGCHLD ignored) */

/* Run prog (an absolute path) with argv and envp. Its stdin reads in_fd,
 * its stdout writes out_fd (-1: /dev/null for either); no other descriptor
 * of ours reaches it. Its stderr is collected into errbuf (NUL-terminated,
 * cut at errlen). Waits at most timeout_ms; returns 0 with the wait status
 * in *status, or one of the NG_SPAWN_ outcomes. */
int ng_spawn_wait(const char *prog, char *const argv[], char *const envp[], int in_fd,
                  int out_fd, int timeout_ms, int *status, char *errbuf, size_t errlen);

/* The first line of a program's output, printable ASCII only. */
void ng_spawn_first_line(const char *in, char *out, size_t len);

#endif
