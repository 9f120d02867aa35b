/* Where a task's pages are (lib/sample.c): numa_maps parsing on files
 * captured from a real process that binds and touches memory, malformed
 * input, the memory cgroup's numa_stat (v1 and v2), and the sampled count
 * against the full walk on a real process. */
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
#include "private/sample.h"

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
    t_begin("sample/numa-maps-captured-from-a-bound-process");
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
    t_begin("sample/numa-maps-malformed");
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
    t_begin("sample/memcg-numa-stat-v1-and-v2");
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

    t_begin("sample/sampled-vs-full-walk-on-a-real-process");
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
int main(void)
{
    numa_maps_real();
    numa_maps_malformed();
    memcg_numa_stat();
    T_EXIT();
}
