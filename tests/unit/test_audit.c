/* Audit pieces: numa_maps parsing on files captured from a real process
 * that binds and touches memory, malformed input, the root-safe append
 * (symlinks, foreign files, writable dirs, concurrent writers). */
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

/* A child that binds its memory to node 0, touches mb MiB and waits. */
static pid_t toucher(int mb, const int p[2])
{
    int fd = p[1];
    pid_t pid = fork();
    if (pid == 0) {
        unsigned long mask = 1;
        set_mempolicy(MPOL_BIND, &mask, 8);
        char *m = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        madvise(m, (size_t)mb << 20, MADV_NOHUGEPAGE);
        for (long i = 0; i < (long)mb << 20; i += 4096)
            m[i] = 1;
        if (write(fd, "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    if (read(p[0], &c, 1) != 1)
        fprintf(stderr, "toucher did not start\n");
    return pid;
}

static void numa_maps_real(void)
{
    t_begin("audit/numa-maps-captured-from-a-bound-process");
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    pid_t pid = toucher(16, p);
    /* Capture the file, then parse the capture. */
    char path[64], text[1 << 16];
    snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    ng_pages pg;
    memset(&pg, 0, sizeof(pg));
    int lines = ng_numa_maps_parse(text, &pg);
    CHECK(lines > 3, "parsed %d lines of %zu bytes", lines, n);
    CHECK(pg.pages[0] >= 16 * 256, "node 0 has %lu pages, touched %d", pg.pages[0], 16 * 256);
    CHECK(!strncmp(pg.policy, "bind:0", 6), "policy of the largest area: '%s'", pg.policy);
    /* And through the sampler, which reads the live file and the status. */
    ng_pages live;
    char err[NG_ERRLEN];
    CHECK(ng_sample_pid(NULL, pid, 1, &live, err, sizeof(err)) == 0, "%s", err);
    CHECK(live.pages[0] >= 16 * 256 && live.cpus[0], "live sample %lu pages cpus '%s'",
          live.pages[0], live.cpus);
    hwloc_bitmap_t n0 = hwloc_bitmap_alloc();
    hwloc_bitmap_set(n0, 0);
    CHECK(ng_pages_local_pct(&live, n0) == 100.0, "local %.1f", ng_pages_local_pct(&live, n0));
    hwloc_bitmap_free(n0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
    t_end();
}

static void numa_maps_malformed(void)
{
    ng_pages pg;
    t_begin("audit/numa-maps-malformed");
    memset(&pg, 0, sizeof(pg));
    CHECK(ng_numa_maps_parse("garbage\nmore garbage N0=zz\n", &pg) < 0 && pg.total == 0,
          "garbage accepted");
    memset(&pg, 0, sizeof(pg));
    CHECK(ng_numa_maps_parse("7f00 default anon=3 N999999=3\n", &pg) < 0, "node index overflow");
    memset(&pg, 0, sizeof(pg));
    CHECK(ng_numa_maps_parse("7f00 default N0=12x\n", &pg) < 0, "bad count accepted");
    memset(&pg, 0, sizeof(pg));
    int n = ng_numa_maps_parse("7f00 default anon=2 N0=2 kernelpagesize_kB=4\nnonsense\n"
                               "7f10 bind:1 huge N1=3 kernelpagesize_kB=2048\n", &pg);
    CHECK(n == 2 && pg.pages[0] == 2 && pg.pages[1] == 3 * 512, "mixed: n=%d p0=%lu p1=%lu",
          n, pg.pages[0], pg.pages[1]);
    CHECK(!strcmp(pg.policy, "bind:1"), "largest area policy '%s'", pg.policy);
    memset(&pg, 0, sizeof(pg));
    CHECK(ng_numa_maps_parse("", &pg) == 0 && pg.total == 0, "empty");
    t_end();
}

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

static long slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* memory.numa_stat as cgroup v1 (this host) and v2 (the QEMU guest) write
 * it, and broken ones. */
static void memcg_numa_stat(void)
{
    ng_pages p;
    t_begin("audit/memcg-numa-stat-v1-and-v2");
    CHECK(ng_memcg_numa_stat_parse("total=3205 N0=3205 N1=0\nfile=152 N0=152 N1=0\n"
                                   "anon=374 N0=300 N1=74\nhierarchical_anon=923 N0=923 N1=0\n",
                                   &p) == 1 && p.total == 374 && p.pages[1] == 74, "v1: %lu", p.total);
    CHECK(ng_memcg_numa_stat_parse("anon N0=8192 N1=409600 N2=0 N3=0\nfile N0=4096 N1=0\n",
                                   &p) == 1 && p.total == 102 && p.pages[1] == 100, "v2: %lu", p.total);
    /* Real files: v1 from this host's memory hierarchy, v2 from the QEMU
     * guest's (5 nodes; a process's 12 anon pages on node 1). */
    char text[16384];
    CHECK(slurp("tests/unit/data/memory.numa_stat.v1", text, sizeof(text)) > 0 &&
          ng_memcg_numa_stat_parse(text, &p) == 1 && p.total == 374 && p.pages[0] == 374,
          "real v1: %lu", p.total);
    CHECK(slurp("tests/unit/data/memory.numa_stat.v2", text, sizeof(text)) > 0 &&
          ng_memcg_numa_stat_parse(text, &p) == 1 && p.total == 12 && p.pages[1] == 12,
          "real v2: %lu", p.total);
    CHECK(ng_memcg_numa_stat_parse("file=1 N0=1\n", &p) < 0, "no anon line");
    CHECK(ng_memcg_numa_stat_parse("anon=5 N99999=5\n", &p) < 0, "node out of range");
    CHECK(ng_memcg_numa_stat_parse("anon N0=x\n", &p) < 0, "not a number");
    t_end();

    t_begin("audit/sampled-vs-full-walk-on-a-real-process");
    /* A child with 64 MiB touched: the sample (4096 pages, move_pages) and
     * the full numa_maps walk agree on where the pages are. */
    int fd[2];
    CHECK(pipe(fd) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        size_t n = 64u << 20;
        char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (size_t i = 0; m != MAP_FAILED && i < n; i += 4096)
            m[i] = 1;
        if (write(fd[1], "r", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    CHECK(read(fd[0], &c, 1) == 1, "child ready");
    ng_pages s, f;
    char err[NG_ERRLEN];
    hwloc_bitmap_t n0 = hwloc_bitmap_alloc();
    hwloc_bitmap_set(n0, 0);
    CHECK(ng_sample_task(NULL, NULL, pid, NG_METHOD_SAMPLED, 4096, 0, &s, err, sizeof(err)) == 0 &&
          s.method == NG_METHOD_SAMPLED && s.sampled >= 3000 && s.hits > 2000 && s.total > 12000,
          "sampled: %s total %lu hits %u of %u", err, s.total, s.hits, s.sampled);
    CHECK(ng_sample_task(NULL, NULL, pid, NG_METHOD_NUMA_MAPS, 0, 0, &f, err, sizeof(err)) == 0 &&
          f.total >= 16384, "walk: %s total %lu", err, f.total);
    double d = ng_pages_local_pct(&s, n0) - ng_pages_local_pct(&f, n0);
    CHECK(d < 1 && d > -1 && ng_pages_ci95(&s, n0) >= 0, "sampled %.1f vs walk %.1f",
          ng_pages_local_pct(&s, n0), ng_pages_local_pct(&f, n0));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    hwloc_bitmap_free(n0);
    close(fd[0]);
    close(fd[1]);
    t_end();
}

/* The audit of a step: tasks fill their slot after fork, the parent writes
 * one record per task at its exit, and the job end summarizes them. */
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
    numa_maps_real();
    numa_maps_malformed();
    secure_append();
    perf_reason();
    full_disk();
    memcg_numa_stat();
    T_EXIT();
}
