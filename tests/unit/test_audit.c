/* Audit pieces: the root-safe append (symlinks, foreign files, writable
 * dirs, concurrent writers, a full disk), perf counters, the step's audit
 * and the GPUs' one JSON shape. Where pages are: test_sample.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/audit.h"
#include "private/auditstep.h"

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

static void secure_append(void)
{
    char dir[] = "/tmp/ng-audit-XXXXXX", err[NG_ERRLEN], p[512], q[512];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    chmod(dir, 0755);

    t_begin("audit/append-writes-whole-lines");
    CHECK(ng_audit_append(dir, "7.json", "{\"a\":1}\n", err, sizeof(err)) == 0, "%s", err);
    CHECK(ng_audit_append(dir, "7.json", "{\"a\":2}\n", err, sizeof(err)) == 0, "%s", err);
    snprintf(p, sizeof(p), "%s/7.json", dir);
    CHECK(count_lines(p) == 2, "%d lines", count_lines(p));
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640, "mode %o", st.st_mode & 0777);
    t_end();

    t_begin("audit/symlink-in-audit-dir-refused");
    snprintf(q, sizeof(q), "%s/victim", dir);
    int fd = open(q, O_CREAT | O_WRONLY, 0600);
    close(fd);
    snprintf(p, sizeof(p), "%s/8.json", dir);
    CHECK(symlink(q, p) == 0, "symlink");
    CHECK(ng_audit_append(dir, "8.json", "x\n", err, sizeof(err)) < 0 && strstr(err, "symlink"),
          "wrote through a symlink: %s", err);
    CHECK(stat(q, &st) == 0 && st.st_size == 0, "victim modified");
    t_end();

    t_begin("audit/hard-link-and-bad-names-refused");
    snprintf(p, sizeof(p), "%s/9.json", dir);
    CHECK(link(q, p) == 0, "link");
    CHECK(ng_audit_append(dir, "9.json", "x\n", err, sizeof(err)) < 0, "wrote into a hard link");
    CHECK(stat(q, &st) == 0 && st.st_size == 0, "victim modified");
    CHECK(ng_audit_append(dir, "../x.json", "x\n", err, sizeof(err)) < 0, "path in name");
    t_end();

    t_begin("audit/world-writable-dir-refused");
    chmod(dir, 01777);
    CHECK(ng_audit_append(dir, "10.json", "x\n", err, sizeof(err)) < 0 && strstr(err, "writable"),
          "accepted a world-writable dir: %s", err);
    chmod(dir, 0755);
    snprintf(q, sizeof(q), "%s/link-dir", dir);
    CHECK(symlink(dir, q) == 0, "symlink dir");
    CHECK(ng_audit_append(q, "10.json", "x\n", err, sizeof(err)) < 0, "followed a symlinked dir");
    t_end();

    t_begin("audit/concurrent-appends-stay-whole");
    char line[300];
    memset(line, 'x', sizeof(line));
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    for (int w = 0; w < 8; w++)
        if (fork() == 0) {
            for (int i = 0; i < 50; i++)
                ng_audit_append(dir, "11.json", line, err, sizeof(err));
            _exit(0);
        }
    for (int w = 0; w < 8; w++)
        wait(NULL);
    snprintf(p, sizeof(p), "%s/11.json", dir);
    CHECK(count_lines(p) == 400, "%d lines", count_lines(p));
    CHECK(stat(p, &st) == 0 && st.st_size == 400 * (off_t)(sizeof(line) - 1), "size %ld",
          (long)st.st_size);
    t_end();

    t_begin("audit/summary-flags-low-locality");
    char *text = NULL;
    const char *rec1 = "{\"schema\":1,\"task\":0,\"local_pct\":99.5,\"summary\":\"task 0 ok\"}\n";
    const char *rec2 = "{\"schema\":1,\"task\":1,\"local_pct\":12.0,\"summary\":\"task 1 bad\"}\n";
    ng_audit_append(dir, "12.json", rec1, err, sizeof(err));
    ng_audit_append(dir, "12.json", rec2, err, sizeof(err));
    CHECK(ng_audit_summarize(dir, 12, 80, &text, err, sizeof(err)) == 0, "%s", err);
    CHECK(text && strstr(text, "job 12 task 0 ok\n") && strstr(text, "task 1 bad  [WARNING")
          && strstr(text, "2 task record(s), 1 below 80%"), "summary:\n%s", text ? text : "");
    free(text);
    t_end();

    snprintf(p, sizeof(p), "rm -rf %s", dir);
    if (system(p) != 0)
        fprintf(stderr, "cleanup failed\n");
}

static void perf_reason(void)
{
    t_begin("audit/perf-counters-or-a-reason");
    int fds[2];
    char why[192] = "";
    if (ng_perf_open(getpid(), fds, why, sizeof(why)) == 0) {
        unsigned long long a = 0, m = 0;
        CHECK(ng_perf_read(fds, &a, &m) == 0 && m <= a, "read %llu/%llu", m, a);
        ng_perf_close(fds);
    } else {
        CHECK(!strncmp(why, "unavailable: ", 13) && strlen(why) > 20, "reason '%s'", why);
        CHECK(fds[0] == -1 && fds[1] == -1, "fds left open");
    }
    t_end();
}

/* A full disk (a one-page tmpfs): the record that does not fit is refused
 * with the reason and no partial line stays in the file. Root only. */
static void full_disk(void)
{
    if (geteuid() != 0) {
        t_skip("audit/full-disk-no-partial-line", "needs root to mount a tmpfs");
        return;
    }
    char dir[] = "/tmp/ng-audit-full.XXXXXX", err[NG_ERRLEN], cmd[256];
    t_begin("audit/full-disk-no-partial-line");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=4k,mode=0755 ng-audit-full %s", dir);
    if (system(cmd) != 0) {
        rmdir(dir);
        t_end();
        return;
    }
    char big[4001], small[301];
    memset(big, 'a', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\0';
    memset(small, 'b', sizeof(small) - 2);
    small[sizeof(small) - 2] = '\n';
    small[sizeof(small) - 1] = '\0';
    CHECK(ng_audit_append(dir, "1.json", big, err, sizeof(err)) == 0, "%s", err);
    CHECK(ng_audit_append(dir, "1.json", small, err, sizeof(err)) < 0 &&
          strstr(err, "No space left") && strstr(err, "nothing partial"), "%s", err);
    char p[128];
    snprintf(p, sizeof(p), "%s/1.json", dir);
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == (off_t)strlen(big), "file has %lld bytes, want %zu",
          (long long)st.st_size, strlen(big));
    snprintf(cmd, sizeof(cmd), "umount %s && rmdir %s", dir, dir);
    CHECK(system(cmd) == 0, "cleanup");
    t_end();
}

static void audit_step(void)
{
    char dir[] = "/tmp/ng-astep-XXXXXX", err[NG_ERRLEN], xml[4096], path[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    chmod(dir, 0755);
    snprintf(xml, sizeof(xml), "%s/llnl-pascal-2s-bdw-2xp100-pcie.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots r = { 0 };
    ng_rank_gpus rows[2] = { { 0, NULL }, { 0, NULL } };
    ng_plan p = { 0 };
    int ok = t && ng_plan_compute(t, NULL, NULL, 2, rows, NG_MODE_PREFER, &p, err, sizeof(err)) == 0;
    (void)r;
    ng_audit_conf c = { dir, 0, 80, NG_METHOD_AUTO, 4096 };

    t_begin("audit-step/one-record-per-task-filled-in-the-child");
    ng_audit_step *a = ok ? ng_audit_step_new(&c, 77, 3, "n1", 2, NG_MODE_PREFER, NULL, err,
                                              sizeof(err)) : NULL;
    CHECK(a != NULL, "%s", err);
    for (int i = 0; a && i < 2; i++) {
        pid_t pid = fork();
        if (pid == 0) {           /* the task: fills its slot, then exits */
            ng_audit_step_fill(a, i, &p, NULL, "CUDA_VISIBLE_DEVICES=");
            _exit(0);
        }
        ng_audit_step_forked(a, i, pid);
        waitpid(pid, NULL, 0);
        CHECK(ng_audit_step_exit(a, i, 10 + i, err, sizeof(err)) == 0, "%s", err);
    }
    snprintf(path, sizeof(path), "%s/77.json", dir);
    char line[8192];
    FILE *f = fopen(path, "r");
    int n = 0, good = 0;
    while (f && fgets(line, sizeof(line), f)) {
        double task = -1, global = -1;
        char v[32], mode[32];
        n++;
        good += ng_json_num(line, "task", &task) == 0 && task == n - 1 &&
                ng_json_num(line, "global_task", &global) == 0 && global == 10 + n - 1 &&
                ng_json_str(line, "verdict", v, sizeof(v)) == 0 && !strcmp(v, "nogpu") &&
                ng_json_str(line, "mode", mode, sizeof(mode)) == 0 && !strcmp(mode, "prefer");
    }
    if (f)
        fclose(f);
    CHECK(n == 2 && good == 2, "%d lines, %d as expected: %s", n, good, line);
    ng_audit_step_free(a);
    t_end();

    t_begin("audit-step/skipped-step-says-why-escaped");
    a = ng_audit_step_new(&c, 78, 0, "n1", 1, NG_MODE_STRICT, "daemon \"orted\" step", err,
                          sizeof(err));
    CHECK(a && ng_audit_step_exit(a, 0, 0, err, sizeof(err)) == 0, "%s", err);
    snprintf(path, sizeof(path), "%s/78.json", dir);
    f = fopen(path, "r");
    char reason[128] = "", v[32] = "";
    if (f && fgets(line, sizeof(line), f)) {
        ng_json_str(line, "reason", reason, sizeof(reason));
        ng_json_str(line, "verdict", v, sizeof(v));
    }
    if (f)
        fclose(f);
    CHECK(!strcmp(v, "skipped") && !strcmp(reason, "daemon \"orted\" step"), "'%s' '%s'", v,
          reason);
    ng_audit_step_free(a);
    t_end();

    t_begin("audit-step/limits-and-job-end-summary");
    CHECK(!ng_audit_step_new(&c, 79, 0, "n1", 0, NG_MODE_PREFER, NULL, err, sizeof(err)) &&
          strstr(err, "0 local tasks"), "0 tasks: %s", err);
    CHECK(!ng_audit_step_new(&c, 79, 0, "n1", NG_AUDIT_MAX_TASKS + 1, NG_MODE_PREFER, NULL, err,
                             sizeof(err)) && strstr(err, "4097"), "4097 tasks: %s", err);
    ng_audit_step_forked(NULL, 0, 1);            /* no audit: no-ops */
    CHECK(ng_audit_step_exit(NULL, 0, 0, err, sizeof(err)) == 0, "NULL exit");
    char *text = NULL;
    CHECK(ng_audit_job_end(dir, 77, 80, &text, err, sizeof(err)) == 0 && text &&
          strstr(text, "job 77: 2 task record(s)"), "%s", err);
    free(text);
    snprintf(path, sizeof(path), "%s/77.summary", dir);
    CHECK(access(path, F_OK) == 0, "no %s", path);
    CHECK(ng_audit_job_end(dir, 12345, 80, &text, err, sizeof(err)) == 1 && !text, "no records");
    t_end();
    if (ok)
        ng_plan_free(&p);
    ng_topo_free(t);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* The GPU members of one of our JSON lines: from "gpus" up to "gpu_source". */
static int gpu_members(const char *line, char *out, size_t len)
{
    const char *a = line ? strstr(line, "\"gpus\":[") : NULL;
    const char *e = a ? strstr(a, ",\"gpu_source\":") : NULL;
    if (!e)
        return -1;
    snprintf(out, len, "%.*s", (int)(e - a), a);
    return 0;
}

/* One shape for a rank's GPUs: plan --json, the task record and audit --pid
 * write the same bytes for the same GPUs (one writer, ng_json_rank_gpus). */
static void one_gpu_shape(void)
{
    char err[NG_ERRLEN], xml[4096], g1[1024] = "", g2[1024] = "", g3[1024] = "";
    static const char want[] = "\"gpus\":[{\"pci_busid\":\"0000:5f:00.0\",\"numa_nodes\":[1],"
        "\"locality\":\"known\"},{\"pci_busid\":\"0000:4e:00.0\",\"numa_nodes\":[3],"
        "\"locality\":\"known\"}],\"gpu_nodes\":[1,3]";
    snprintf(xml, sizeof(xml), "%s/dell-xe8640-2s-xeon8480-snc4-4xh100.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    char bus[2][NG_BUSID_LEN] = { "0000:5f:00.0", "0000:4e:00.0" };
    ng_rank_gpus g = { 2, bus };
    ng_plan p = { 0 };
    t_begin("gpu-shape/plan-record-and-pid-write-the-same-gpus");
    int ok = t && ng_plan_compute(t, NULL, NULL, 1, &g, NG_MODE_PREFER, &p, err,
                                  sizeof(err)) == 0;
    CHECK(ok, "%s", err);
    char *pl = ok ? ng_plan_json_line(&p, 0) : NULL;
    char *tj = ok ? ng_audit_task_json(&p, 0, NULL, "CUDA_VISIBLE_DEVICES") : NULL;
    pid_t c = fork();
    if (c == 0) {   /* a process whose environment names the two GPUs */
        char *env[] = { "CUDA_VISIBLE_DEVICES=0000:5f:00.0,0000:4e:00.0", NULL };
        execle("/bin/sleep", "sleep", "30", (char *)NULL, env);
        _exit(127);
    }
    /* Until the exec is done, /proc/<pid>/environ is the test's own. */
    char path[64], envbuf[256] = "";
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)c);
    for (int i = 0; c > 0 && i < 200 && !strstr(envbuf, "CUDA_VISIBLE_DEVICES=0000:5f"); i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(envbuf, 1, sizeof(envbuf) - 1, f) : 0;
        envbuf[n] = '\0';
        if (f)
            fclose(f);
        usleep(10000);
    }
    ng_roots r = { 0 };
    ng_proc_audit a;
    char *pj = NULL;
    if (ok && c > 0 &&
        ng_proc_audit_run(t, &r, c, NG_METHOD_AUTO, 64, 80, &a, err, sizeof(err)) == 0) {
        pj = ng_proc_audit_json(&a);
        ng_proc_audit_clear(&a);
    }
    if (c > 0) {
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
    }
    CHECK(gpu_members(pl, g1, sizeof(g1)) == 0 && gpu_members(tj, g2, sizeof(g2)) == 0 &&
          gpu_members(pj, g3, sizeof(g3)) == 0, "plan %s\nrecord %s\npid %s", pl, tj, pj);
    CHECK(!strcmp(g1, want) && !strcmp(g2, want) && !strcmp(g3, want),
          "\nplan   %s\nrecord %s\npid    %s", g1, g2, g3);
    /* Where they came from: the record and --pid know, the plan is given them. */
    CHECK(pl && strstr(pl, "\"gpu_source\":null,") && tj &&
          strstr(tj, "\"gpu_source\":\"CUDA_VISIBLE_DEVICES\",") && pj &&
          strstr(pj, "\"gpu_source\":\"CUDA_VISIBLE_DEVICES\","), "%s\n%s\n%s", pl, tj, pj);
    t_end();
    free(pl);
    free(tj);
    free(pj);
    ng_plan_free(&p);
    ng_topo_free(t);
}

int main(void)
{
    audit_step();
    one_gpu_shape();
    secure_append();
    perf_reason();
    full_disk();
    T_EXIT();
}
