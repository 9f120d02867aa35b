/* What a step may use, from its cgroup: cgroup v2 (Slurm 25.05+ default,
 * system.slice/<host>_slurmstepd.scope/job_N/step_S/user/task_T with
 * cpuset.cpus.effective), cgroup v1 (cpuset hierarchy, effective files or
 * plain cpuset.cpus), an empty leaf file walks up, and the fallback. Fake
 * /proc and /sys roots built here. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "t.h"
#include "numagpu.h"
#include "private/cgroup.h"

static char root[64];

static void put(const char *rel, const char *text)
{
    char p[512], cmd[600];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
    if (system(cmd) != 0)
        abort();
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static const char *allowed(char *buf, size_t len)
{
    char proc[128], sys[128], err[NG_ERRLEN], c[64], m[64];
    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(sys, sizeof(sys), "%s/sys", root);
    hwloc_bitmap_t cpus = hwloc_bitmap_alloc(), mems = hwloc_bitmap_alloc();
    if (ng_allowed_read(proc, sys, 42, cpus, mems, err, sizeof(err)) < 0)
        snprintf(buf, len, "error: %s", err);
    else
        snprintf(buf, len, "%s/%s", ng_list_str(cpus, c, sizeof(c)), ng_list_str(mems, m, sizeof(m)));
    hwloc_bitmap_free(cpus);
    hwloc_bitmap_free(mems);
    return buf;
}

int main(void)
{
    char b[NG_ERRLEN + 16], cmd[128];
    snprintf(root, sizeof(root), "/tmp/ng-cgroup.%d", (int)getpid());
    const char *v2 = "/system.slice/lab1_slurmstepd.scope/job_7/step_0/user/task_1";

    t_begin("cgroup/v2-step-task-effective");
    put("proc/42/cgroup", "0::/system.slice/lab1_slurmstepd.scope/job_7/step_0/user/task_1\n");
    snprintf(b, sizeof(b), "sys/fs/cgroup%s/cpuset.cpus.effective", v2);
    put(b, "2-3,6\n");
    snprintf(b, sizeof(b), "sys/fs/cgroup%s/cpuset.mems.effective", v2);
    put(b, "1\n");
    put("proc/42/status", "Name:\tx\nMems_allowed_list:\t0-3\n");
    put("sys/devices/system/cpu/online", "0-7\n");
    CHECK(!strcmp(allowed(b, sizeof(b)), "2-3,6/1"), "%s", b);
    t_end();

    t_begin("cgroup/v2-empty-leaf-walks-up");
    snprintf(b, sizeof(b), "sys/fs/cgroup%s/cpuset.cpus.effective", v2);
    put(b, "\n");
    put("sys/fs/cgroup/system.slice/lab1_slurmstepd.scope/job_7/cpuset.cpus.effective", "4-7\n");
    CHECK(!strcmp(allowed(b, sizeof(b)), "4-7/1"), "%s", b);
    t_end();

    t_begin("cgroup/v1-cpuset-hierarchy");
    snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/fs/cgroup", root);
    CHECK(system(cmd) == 0, "reset");
    put("proc/42/cgroup", "12:devices:/slurm_lab1/uid_0/job_9/step_0/task_0\n"
        "5:cpuset:/slurm_lab1/uid_0/job_9/step_0\n");
    put("sys/fs/cgroup/cpuset/slurm_lab1/uid_0/job_9/step_0/cpuset.cpus", "1\n");
    put("sys/fs/cgroup/cpuset/slurm_lab1/uid_0/job_9/step_0/cpuset.mems", "0\n");
    CHECK(!strcmp(allowed(b, sizeof(b)), "1/0"), "%s", b);
    t_end();

    t_begin("cgroup/no-cgroup-falls-back");
    put("proc/42/cgroup", "");
    CHECK(!strcmp(allowed(b, sizeof(b)), "0-7/0-3"), "%s", b);
    t_end();

    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK(system(cmd) == 0, "cleanup");
    T_EXIT();
}
