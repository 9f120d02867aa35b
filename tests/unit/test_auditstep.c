/* The audit step's sampler (lib/auditstep.c on lib/slots.c): with
 * audit_interval=1 a live task is sampled by the parent's thread once every
 * task has forked, its record carries the sample, and freeing the step
 * stops the thread (test_slots times that against a 60 s period). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "private/auditstep.h"
#include "private/sample.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(void)
{
    char dir[] = "/tmp/ng-astep-sampler-XXXXXX", err[NG_ERRLEN], path[600], rec[65536];
    if (!mkdtemp(dir))
        return 1;
    ng_audit_conf c = { dir, 1, 80, NG_METHOD_AUTO, 4096 };

    t_begin("audit-step/sampler-samples-a-live-task-once-all-forked");
    ng_audit_step *a = ng_audit_step_new(&c, 55, 1, "n1", 1, NG_MODE_PREFER, NULL, err,
                                         sizeof(err));
    CHECK(a != NULL, "%s", err);
    pid_t pid = a ? fork() : -1;
    if (pid == 0) {   /* the task: touches some memory, lives long enough */
        static char mem[1 << 20];
        memset(mem, 1, sizeof(mem));
        sleep(5);
        _exit(0);
    }
    if (a && pid > 0) {
        ng_audit_step_forked(a, 0, pid);
        usleep(1500000);   /* one interval and a half */
        CHECK(ng_audit_step_exit(a, 0, 0, err, sizeof(err)) == 0, "%s", err);
        snprintf(path, sizeof(path), "%s/55.json", dir);
        CHECK(ng_read_file(path, rec, sizeof(rec)) > 0, "no record at %s", path);
        CHECK(strstr(rec, "\"sample\":{") && strstr(rec, "\"age_s\":"), "no sample in '%.300s'",
              rec);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    double t0 = now_ms();
    ng_audit_step_free(a);
    CHECK(now_ms() - t0 < 1000, "freeing the step waited %.0f ms for the sampler", now_ms() - t0);
    t_end();

    unlink(path);
    rmdir(dir);
    T_EXIT();
}
