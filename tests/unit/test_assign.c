/* Slurm's per-task GPU binding as ng_assign mirrors it (src/interfaces/gres.c):
 * each bind form, both index spaces (global ids; allocation-relative under
 * ConstrainDevices), lists shorter than the task count, steps holding only
 * some of the node's GPUs, Cores=-aware modes, and bad input named. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "t_assign.h"
#include "numagpu.h"
#include "private/assign.h"
#include "private/config.h"
#include "private/slurmstep.h"


/* assign STEP-GPUS NTASKS BIND LOCAL -> rows or "error: ..." */
static unsigned rel = 0;   /* the newest rules */

static const char *assign(const char *step, int ntasks, const char *bind, int local,
                          hwloc_const_bitmap_t const *tc, hwloc_const_bitmap_t const *gc, int ngc)
{
    static char out[NG_ERRLEN + 16];
    unsigned *g = NULL;
    int n = 0;
    char err[NG_ERRLEN];
    if (ng_gres_list_parse(step, &g, &n, err, sizeof(err)) < 0)
        return snprintf(out, sizeof(out), "error: %s", err), out;
    ng_assign_in in = { n, g, ntasks, bind, local, tc, gc, ngc, rel };
    ng_assignment a;
    if (ng_assign(&in, &a, err, sizeof(err)) < 0)
        snprintf(out, sizeof(out), "error: %s", err);
    else
        t_rows(&a, out, sizeof(out)), ng_assignment_free(&a);
    free(g);
    return out;
}

#define EXPECT(got, want) CHECK(!strcmp((got), (want)), "got '%s' want '%s'", (got), (want))

int main(void)
{
    t_begin("assign/no-binding-shares-all");
    EXPECT(assign("0,1", 2, NULL, 0, NULL, NULL, 0), "0,1;0,1");
    EXPECT(assign("0,1", 2, "gpu:none", 0, NULL, NULL, 0), "0,1;0,1");
    t_end();

    t_begin("assign/per-task-in-index-order");
    EXPECT(assign("0,1,2,3", 4, "gpu:per_task:1", 0, NULL, NULL, 0), "0;1;2;3");
    EXPECT(assign("0,1,2,3", 2, "gres/gpu:per_task:2", 1, NULL, NULL, 0), "0,1;2,3");
    /* a step holding GPUs 2,3 of the node */
    EXPECT(assign("2,3", 2, "gres/gpu:per_task:1", 1, NULL, NULL, 0), "2;3");
    t_end();

    t_begin("assign/map-gpu-global-vs-relative");
    EXPECT(assign("0,1", 2, "gpu:map_gpu:1,0", 0, NULL, NULL, 0), "1;0");
    EXPECT(assign("0,1", 2, "gpu:map_gpu:1,0", 1, NULL, NULL, 0), "1;0");
    /* step on GPUs 2,3: relative ids 1,0 are GPUs 3,2; global ids 3,2 */
    EXPECT(assign("2,3", 2, "gres/gpu:map_gpu:1,0", 1, NULL, NULL, 0), "3;2");
    EXPECT(assign("2,3", 2, "gres/gpu:map_gpu:3,2", 0, NULL, NULL, 0), "3;2");
    /* a global id outside the step: Slurm binds the step's first GPU */
    EXPECT(assign("2,3", 2, "gres/gpu:map_gpu:1,3", 0, NULL, NULL, 0), "2;3");
    t_end();

    t_begin("assign/short-lists-reused");
    EXPECT(assign("0,1", 4, "gpu:map_gpu:1,0", 0, NULL, NULL, 0), "1;0;1;0");
    EXPECT(assign("0,1,2,3", 4, "gpu:map_gpu:3", 0, NULL, NULL, 0), "3;3;3;3");
    EXPECT(assign("0,1", 4, "gpu:map_gpu:1*3,0", 0, NULL, NULL, 0), "1;1;1;0");
    EXPECT(assign("0,1,2,3", 3, "gpu:mask_gpu:0x3,0xc", 0, NULL, NULL, 0), "0,1;2,3;0,1");
    EXPECT(assign("4,5,6,7", 2, "gpu:mask_gpu:0x2,0x1", 1, NULL, NULL, 0), "5;4");
    t_end();

    t_begin("assign/tres-bind-with-other-tres-and-verbose");
    EXPECT(assign("0,1", 2, "gres/nic:closest+gres/gpu:verbose,map_gpu:1,0", 0, NULL, NULL, 0),
           "1;0");
    t_end();

    /* Cores=-aware modes: GPU 0 near cpus 0-3, GPU 1 near 4-7; task 0 runs
     * on cpu 5, task 1 on cpu 1. */
    hwloc_bitmap_t g0 = hwloc_bitmap_alloc(), g1 = hwloc_bitmap_alloc();
    hwloc_bitmap_t c0 = hwloc_bitmap_alloc(), c1 = hwloc_bitmap_alloc();
    hwloc_bitmap_set_range(g0, 0, 3);
    hwloc_bitmap_set_range(g1, 4, 7);
    hwloc_bitmap_set(c0, 5);
    hwloc_bitmap_set(c1, 1);
    hwloc_const_bitmap_t gc[2] = { g0, g1 }, tc[2] = { c0, c1 };

    t_begin("assign/per-task-closest-first");
    EXPECT(assign("0,1", 2, "gpu:per_task:1", 0, tc, gc, 2), "1;0");
    /* without Cores= every GPU is close: index order */
    EXPECT(assign("0,1", 2, "gpu:per_task:1", 0, tc, NULL, 0), "0;1");
    t_end();

    /* Slurm 22.05: per_task in index order whatever the cpus; single by
     * block over the close GPUs (its src/common/gres.c). */
    t_begin("assign/slurm-22.05-rules");
    rel = NG_RELEASE(22, 5, 8);
    EXPECT(assign("0,1", 2, "gpu:per_task:1", 0, tc, gc, 2), "0;1");
    EXPECT(assign("0,1,2,3", 2, "gpu:per_task:2", 0, tc, gc, 2), "0,1;2,3");
    EXPECT(assign("0,1", 4, "gpu:single:2", 0, NULL, NULL, 0), "0;0;1;1");
    EXPECT(assign("0,1", 2, "gpu:single:1", 0, tc, gc, 2), "1;0");
    EXPECT(assign("0,1", 2, "gpu:map_gpu:1,0", 0, tc, gc, 2), "1;0");
    /* typed --gpus-per-task: "per_task:a100:1" reads as 0, no binding */
    EXPECT(assign("0,1", 2, "gpu:per_task:a100:1", 0, tc, gc, 2), "0,1;0,1");
    /* map:/mask: are 23.11 names: older releases ignore them */
    EXPECT(assign("0,1", 2, "gpu:map:1,0", 0, NULL, NULL, 0), "0,1;0,1");
    rel = 0;
    t_end();

    t_begin("assign/release-names");
    {
        unsigned r;
        char e[NG_ERRLEN], b[24];
        CHECK(ng_release_parse("23.02.4", &r, e, sizeof(e)) == 0 && r == NG_RELEASE(23, 2, 4),
              "23.02.4");
        CHECK(ng_release_parse("24.11", &r, e, sizeof(e)) == 0 && r == NG_RELEASE(24, 11, 0),
              "24.11");
        CHECK(!strcmp(ng_release_str(NG_RELEASE(23, 2, 4), b, sizeof(b)), "23.02.4"), "%s", b);
        CHECK(ng_release_parse("23", &r, e, sizeof(e)) < 0 && strstr(e, "'23'") &&
              strstr(e, "MAJOR.MINOR"), "%s", e);
        CHECK(ng_release_parse("21.08.8", &r, e, sizeof(e)) < 0, "before 22.05");
        CHECK(ng_release_parse("23.02.4x", &r, e, sizeof(e)) < 0, "trailing junk");
        CHECK(ng_release_parse("23.1000", &r, e, sizeof(e)) < 0, "range");
    }
    t_end();

    t_begin("assign/single-and-closest");
    EXPECT(assign("0,1", 2, "gpu:single:1", 0, tc, gc, 2), "1;0");
    EXPECT(assign("0,1", 4, "gpu:single:2", 0, NULL, NULL, 0), "0;0;1;1");
    EXPECT(assign("0,1", 2, "gpu:closest", 0, tc, gc, 2), "1;0");
    EXPECT(assign("0,1", 2, "gpu:closest", 0, NULL, NULL, 0), "0,1;0,1");
    t_end();

    t_begin("assign/cpu-bind-list");
    hwloc_bitmap_t s[3] = { hwloc_bitmap_alloc(), hwloc_bitmap_alloc(), hwloc_bitmap_alloc() };
    char err[NG_ERRLEN], b[64];
    CHECK(ng_cpu_bind_list("mask_cpu:", "0x1,0x30", 3, s, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(!strcmp(ng_list_str(s[1], b, sizeof(b)), "4-5") && hwloc_bitmap_isequal(s[0], s[2]),
          "mask list: %s", b);
    CHECK(ng_cpu_bind_list("map_cpu:", "3,0", 3, s, NULL, 0, err, sizeof(err)) == 0 &&
          hwloc_bitmap_first(s[0]) == 3 && hwloc_bitmap_first(s[2]) == 3, "map list");
    CHECK(ng_cpu_bind_list("mask_cpu:", "0x1,zz", 2, s, NULL, 0, err, sizeof(err)) < 0 && strstr(err, "'zz'"),
          "%s", err);
    CHECK(ng_cpu_bind_list("none", "", 2, s, NULL, 0, err, sizeof(err)) < 0, "none lists nothing");
    /* map_cpu is decimal unless 0x (get_cpuset): "010" is cpu 10 */
    CHECK(ng_cpu_bind_list("map_cpu:", "010,0x10", 2, s, NULL, 0, err, sizeof(err)) == 0 &&
          hwloc_bitmap_first(s[0]) == 10 && hwloc_bitmap_first(s[1]) == 16, "map decimal/hex");
    /* "cores,mask_cpu:" (a binding level before the type) */
    CHECK(ng_cpu_bind_list("cores,mask_cpu:", "0x2", 1, s, NULL, 0, err, sizeof(err)) == 0 &&
          hwloc_bitmap_first(s[0]) == 1, "%s", err);
    /* the ldom forms: NUMA node n (mod the node count) */
    {
        hwloc_bitmap_t n0 = hwloc_bitmap_alloc(), n1 = hwloc_bitmap_alloc();
        hwloc_bitmap_set_range(n0, 0, 3);
        hwloc_bitmap_set_range(n1, 4, 7);
        hwloc_const_bitmap_t nodes[2] = { n0, n1 };
        CHECK(ng_cpu_bind_list("map_ldom:", "1,0", 3, s, nodes, 2, err, sizeof(err)) == 0 &&
              hwloc_bitmap_isequal(s[0], n1) && hwloc_bitmap_isequal(s[1], n0) &&
              hwloc_bitmap_isequal(s[2], n1), "map_ldom %s", err);
        CHECK(ng_cpu_bind_list("rank_ldom", "", 3, s, nodes, 2, err, sizeof(err)) == 0 &&
              hwloc_bitmap_isequal(s[0], n0) && hwloc_bitmap_isequal(s[1], n1) &&
              hwloc_bitmap_isequal(s[2], n0), "rank_ldom %s", err);
        CHECK(ng_cpu_bind_list("mask_ldom:", "0x3", 1, s, nodes, 2, err, sizeof(err)) == 0 &&
              hwloc_bitmap_weight(s[0]) == 8, "mask_ldom %s", err);
        CHECK(ng_cpu_bind_list("map_ldom:", "1", 1, s, NULL, 0, err, sizeof(err)) < 0 &&
              strstr(err, "NUMA nodes"), "%s", err);
        hwloc_bitmap_free(n0);
        hwloc_bitmap_free(n1);
    }
    for (int i = 0; i < 3; i++)
        hwloc_bitmap_free(s[i]);
    t_end();

    t_begin("assign/bad-input-named");
    CHECK(strstr(assign("0,1", 2, "gpu:map_gpu:x", 0, NULL, NULL, 0), "'x' is not a GPU index"),
          "%s", assign("0,1", 2, "gpu:map_gpu:x", 0, NULL, NULL, 0));
    /* what Slurm does not bind by binds nothing, as in Slurm */
    EXPECT(assign("0,1", 2, "gpu:per_task:0", 0, NULL, NULL, 0), "0;0");   /* 23.11+: first GPU */
    EXPECT(assign("0,1", 2, "gpu:fastest", 0, NULL, NULL, 0), "0,1;0,1");
    CHECK(strstr(assign("0,1", 2, "gpu:map_gpu:", 0, NULL, NULL, 0), "empty list"), "empty");
    CHECK(strstr(assign("0,x", 2, NULL, 0, NULL, NULL, 0), "not a list of GRES indexes"), "step");
    CHECK(strstr(assign("0,1", 0, NULL, 0, NULL, NULL, 0), "0 local tasks"), "ntasks");
    t_end();

    t_begin("assign/cross-check-with-task-env");
    {
        unsigned gl[2] = { 0, 1 };
        ng_assign_in in = { 2, gl, 2, "gpu:map_gpu:1,0", 0, NULL, NULL, 0, 0 };
        ng_assignment a;
        char why[NG_ERRLEN];
        CHECK(ng_assign(&in, &a, why, sizeof(why)) == 0, "%s", why);
        t_env agree = { { "SLURM_STEP_GPUS" }, { "1" } }, differ = { { "SLURM_STEP_GPUS" }, { "0" } };
        t_env two = { { "SLURM_STEP_GPUS" }, { "0,1" } };
        CHECK(ng_assign_check(&a, 0, 0, t_getenv, &agree, why, sizeof(why)) == 0, "agree");
        CHECK(ng_assign_check(&a, 0, 0, t_getenv, &differ, why, sizeof(why)) < 0 &&
              strstr(why, "SLURM_STEP_GPUS=0 differs from GRES 1"), "%s", why);
        /* ConstrainDevices: "0" is the task's own GPU renumbered; counts only */
        CHECK(ng_assign_check(&a, 0, 1, t_getenv, &differ, why, sizeof(why)) == 0, "local agree");
        CHECK(ng_assign_check(&a, 0, 1, t_getenv, &two, why, sizeof(why)) < 0 &&
              strstr(why, "sees 2 GPU(s)"), "%s", why);
        ng_assignment_free(&a);
    }
    t_end();

    t_begin("assign/slurm-config-files");
    {
        char dir[] = "/tmp/ng-assign-XXXXXX", p[256];
        CHECK(mkdtemp(dir) != NULL, "mkdtemp");
        snprintf(p, sizeof(p), "%s/slurm.conf", dir);
        FILE *f = fopen(p, "w");
        fprintf(f, "# TaskPlugin=task/none\nProctrackType=proctrack/cgroup TaskPlugin=task/cgroup,task/affinity\n");
        fclose(f);
        CHECK(ng_slurm_local_index(p) == 0, "no cgroup.conf: global ids");
        char q[300];
        snprintf(q, sizeof(q), "%s/cgroup.conf", dir);
        f = fopen(q, "w");
        fprintf(f, "constraindevices=Yes\n");
        fclose(f);
        CHECK(ng_slurm_local_index(p) == 1, "task/cgroup + ConstrainDevices: local ids");
        /* Slurm's booleans: true, 1 and up are yes too */
        const char *yes[] = { "true", "1", "UP" }, *no[] = { "no", "false", "0", "maybe" };
        for (int i = 0; i < 3; i++) {
            f = fopen(q, "w");
            fprintf(f, "ConstrainDevices=%s\n", yes[i]);
            fclose(f);
            CHECK(ng_slurm_local_index(p) == 1, "ConstrainDevices=%s", yes[i]);
        }
        for (int i = 0; i < 4; i++) {
            f = fopen(q, "w");
            fprintf(f, "ConstrainDevices=%s\n", no[i]);
            fclose(f);
            CHECK(ng_slurm_local_index(p) == 0, "ConstrainDevices=%s", no[i]);
        }
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0, "cleanup");
    }
    t_end();

    hwloc_bitmap_free(g0);
    hwloc_bitmap_free(g1);
    hwloc_bitmap_free(c0);
    hwloc_bitmap_free(c1);
    T_EXIT();
}
