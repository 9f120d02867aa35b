/* The user's CPU requests kept by the planner (issue 30): one hardware
 * thread per core, the thread count, cpus=package; and what Slurm's
 * variables say the user asked. Checked on corpus machines with SMT (Dell
 * SNC4, Tioga, Corona) against hwloc's own cores and packages, never
 * against numbers written here. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "numagpu.h"
#include "private/cpuopt.h"

static const char *smt_machines[] = {
    "dell-xe8640-2s-xeon8480-snc4-4xh100.xml",
    "llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml",
    "llnl-corona-2s-epyc7401-nps4-4xmi50-nogpuosdev.xml",
};

/* nranks ranks, rank r driving the topology's GPU r % ngpus (all of them
 * when nranks >= ngpus; the first nranks otherwise). */
static ng_rank_gpus *gpus_of(const ng_topo *t, int nranks, int *ngpus)
{
    ng_accel *v = NULL;
    int n = 0;
    ng_accel_list(t, &v, &n);
    *ngpus = n;
    ng_rank_gpus *g = calloc((size_t)nranks, sizeof(*g));
    for (int r = 0; g && n > 0 && r < nranks; r++) {
        g[r].ngpus = 1;
        g[r].busids = calloc(1, NG_BUSID_LEN);
        memcpy(g[r].busids[0], v[r % n].busid, NG_BUSID_LEN);
    }
    ng_accel_list_free(v, n);
    return g;
}

static void gpus_free(ng_rank_gpus *g, int nranks)
{
    for (int r = 0; g && r < nranks; r++)
        free(g[r].busids);
    free(g);
}

static int plan(const ng_topo *t, int nranks, const ng_rank_gpus *g, const ng_cpuopt *co,
                ng_plan *p)
{
    char err[NG_ERRLEN];
    int rc = ng_plan_compute_cpuopt(t, NULL, NULL, nranks, g, NG_MODE_PREFER, NULL, co, p, err,
                                    sizeof(err));
    if (rc < 0)
        t_fail(__FILE__, __LINE__, "plan: %s", err);
    return rc;
}

/* PUs of set per core: the largest count, and the number of cores. */
static void per_core(hwloc_topology_t h, hwloc_const_bitmap_t set, int *maxpu, int *cores)
{
    *maxpu = *cores = 0;
    hwloc_obj_t c = NULL;
    hwloc_bitmap_t x = hwloc_bitmap_alloc();
    while ((c = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, c))) {
        hwloc_bitmap_and(x, c->cpuset, set);
        int w = hwloc_bitmap_weight(x);
        if (w > 0)
            (*cores)++;
        if (w > *maxpu)
            *maxpu = w;
    }
    hwloc_bitmap_free(x);
}

static void smt_one(const char *name)
{
    ng_topo *t = t_load_corpus(name);
    t_begin("cpuopt/smt-1/%s", name);
    CHECK(t, "cannot load");
    int ngpus = 0;
    ng_rank_gpus *g = t ? gpus_of(t, 4, &ngpus) : NULL;
    ng_plan all, one;
    ng_cpuopt co = { .threads_per_core = 1 };
    snprintf(co.why, sizeof(co.why), "test");
    if (t && ngpus >= 4 && plan(t, 4, g, NULL, &all) == 0) {
        if (plan(t, 4, g, &co, &one) == 0) {
            hwloc_topology_t h = ng_topo_hwloc(t);
            for (int r = 0; r < 4; r++) {
                int m0, c0, m1, c1;
                per_core(h, all.ranks[r].cpus, &m0, &c0);
                per_core(h, one.ranks[r].cpus, &m1, &c1);
                /* the machine has SMT, so the test can fail */
                CHECK(m0 >= 2, "rank %d: %d PUs a core without smt=1: no SMT here", r, m0);
                CHECK(m1 == 1 && c1 == c0, "rank %d: %d cores of up to %d PUs, was %d cores", r,
                      c1, m1, c0);
                CHECK(hwloc_bitmap_isincluded(one.ranks[r].cpus, all.ranks[r].cpus) &&
                      hwloc_bitmap_isequal(one.ranks[r].mems, all.ranks[r].mems) &&
                      one.ranks[r].verdict == all.ranks[r].verdict,
                      "rank %d: moved off its node or memory", r);
                /* the first PU of each core: the lowest logical index */
                hwloc_obj_t c = NULL;
                while ((c = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, c))) {
                    if (!hwloc_bitmap_intersects(c->cpuset, one.ranks[r].cpus))
                        continue;
                    hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(h, c->cpuset,
                                                                              HWLOC_OBJ_PU, NULL);
                    CHECK(pu && hwloc_bitmap_isset(one.ranks[r].cpus, pu->os_index),
                          "rank %d: core L#%u keeps a sibling, not its first PU", r,
                          c->logical_index);
                }
                CHECK(one.ranks[r].omp_threads == c1 && strstr(one.ranks[r].reason,
                                                                "one hardware thread per core"),
                      "rank %d: %d threads on %d cores; %s", r, one.ranks[r].omp_threads, c1,
                      one.ranks[r].reason);
            }
            ng_plan_free(&one);
        }
        ng_plan_free(&all);
    } else if (t) {
        CHECK(ngpus >= 4, "%d GPUs", ngpus);
    }
    t_end();
    gpus_free(g, 4);
    ng_topo_free(t);
}

/* The package of rank r's home node (NULL when not one). */
static hwloc_obj_t home_package(const ng_topo *t, const ng_rank_plan *rp)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    int n = hwloc_bitmap_first(rp->home);
    hwloc_obj_t node = n < 0 ? NULL : hwloc_get_numanode_obj_by_os_index(h, (unsigned)n);
    return node ? hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, node) : NULL;
}

static void package(void)
{
    const char *name = "llnl-corona-2s-epyc7401-nps4-4xmi50-nogpuosdev.xml";
    ng_topo *t = t_load_corpus(name);
    ng_cpuopt co = { .scope = NG_SCOPE_PACKAGE };
    ng_plan node, pk;
    int ngpus = 0;

    t_begin("cpuopt/package/one-rank-gets-its-whole-package");
    ng_rank_gpus *g = t ? gpus_of(t, 1, &ngpus) : NULL;
    CHECK(t && ngpus > 0, "no GPU in %s", name);
    if (!t_case_failed && plan(t, 1, g, NULL, &node) == 0) {
        if (plan(t, 1, g, &co, &pk) == 0) {
            hwloc_obj_t p = home_package(t, &pk.ranks[0]);
            CHECK(p && hwloc_bitmap_isequal(pk.ranks[0].cpus, p->cpuset),
                  "cpus are not the package's");
            CHECK(!hwloc_bitmap_isequal(node.ranks[0].cpus, pk.ranks[0].cpus) &&
                  hwloc_bitmap_isincluded(node.ranks[0].cpus, pk.ranks[0].cpus),
                  "node scope already had the package, or package lost the node");
            CHECK(hwloc_bitmap_isequal(node.ranks[0].mems, pk.ranks[0].mems) &&
                  pk.ranks[0].verdict == NG_V_LOCAL, "memory moved");
            /* OMP places start on the GPU's node: close binding stays near it */
            unsigned first = (unsigned)atoi(pk.ranks[0].omp_places + 1);
            CHECK(pk.ranks[0].omp_places[0] == '{' &&
                  hwloc_bitmap_isset(node.ranks[0].cpus, first),
                  "first place %s is off the GPU's node", pk.ranks[0].omp_places);
            ng_plan_free(&pk);
        }
        ng_plan_free(&node);
    }
    t_end();
    gpus_free(g, 1);

    t_begin("cpuopt/package/ranks-share-the-idle-cores-disjointly");
    g = t ? gpus_of(t, 2, &ngpus) : NULL;
    if (t && plan(t, 2, g, &co, &pk) == 0) {
        hwloc_obj_t p0 = home_package(t, &pk.ranks[0]), p1 = home_package(t, &pk.ranks[1]);
        hwloc_bitmap_t u = hwloc_bitmap_alloc();
        hwloc_bitmap_or(u, pk.ranks[0].cpus, pk.ranks[1].cpus);
        CHECK(p0 && p0 == p1, "the first two GPUs are not in one package: the case tests nothing");
        CHECK(!hwloc_bitmap_intersects(pk.ranks[0].cpus, pk.ranks[1].cpus), "ranks overlap");
        CHECK(p0 && hwloc_bitmap_isequal(u, p0->cpuset), "the package is not fully used");
        int m0, c0, m1, c1;
        per_core(ng_topo_hwloc(t), pk.ranks[0].cpus, &m0, &c0);
        per_core(ng_topo_hwloc(t), pk.ranks[1].cpus, &m1, &c1);
        CHECK(c0 == c1, "uneven: %d and %d cores", c0, c1);
        hwloc_bitmap_free(u);
        ng_plan_free(&pk);
    }
    t_end();
    gpus_free(g, 2);

    t_begin("cpuopt/package/every-node-used-nothing-changes");
    ng_topo *tg = t_load_corpus("llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml");
    g = tg ? gpus_of(tg, 8, &ngpus) : NULL;
    if (tg && plan(tg, 8, g, NULL, &node) == 0) {
        if (plan(tg, 8, g, &co, &pk) == 0) {
            for (int r = 0; r < 8; r++)
                CHECK(hwloc_bitmap_isequal(node.ranks[r].cpus, pk.ranks[r].cpus),
                      "rank %d changed", r);
            ng_plan_free(&pk);
        }
        ng_plan_free(&node);
    }
    t_end();
    gpus_free(g, 8);

    t_begin("cpuopt/package/reserved-cores-stay-reserved");
    ng_plan_policy pol = { NULL, 0, NULL, NG_RESERVE_NUMA };
    char err[NG_ERRLEN];
    g = t ? gpus_of(t, 1, &ngpus) : NULL;
    if (t && ng_plan_compute_cpuopt(t, NULL, NULL, 1, g, NG_MODE_PREFER, &pol, &co, &pk, err,
                                    sizeof(err)) == 0) {
        CHECK(!hwloc_bitmap_iszero(pk.reserved) &&
              !hwloc_bitmap_intersects(pk.ranks[0].cpus, pk.reserved), "a reserved core used");
        ng_plan_free(&pk);
    } else {
        CHECK(0, "plan: %s", err);
    }
    t_end();
    gpus_free(g, 1);
    ng_topo_free(tg);
    ng_topo_free(t);
}

static void threads(void)
{
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    int ngpus = 0;
    ng_rank_gpus *g = t ? gpus_of(t, 4, &ngpus) : NULL;
    ng_plan a, b;
    ng_cpuopt co = { .cpus_per_task = 3 };
    t_begin("cpuopt/cpus-per-task-sets-threads-not-cpus");
    if (t && plan(t, 4, g, NULL, &a) == 0) {
        if (plan(t, 4, g, &co, &b) == 0) {
            for (int r = 0; r < 4; r++)
                CHECK(b.ranks[r].omp_threads == 3 && a.ranks[r].omp_threads > 3 &&
                      hwloc_bitmap_isequal(a.ranks[r].cpus, b.ranks[r].cpus) &&
                      strstr(b.ranks[r].reason, "3 OpenMP threads as asked"),
                      "rank %d: %d threads (%d without), %s", r, b.ranks[r].omp_threads,
                      a.ranks[r].omp_threads, b.ranks[r].reason);
            ng_plan_free(&b);
        }
        ng_plan_free(&a);
    }
    t_end();
    gpus_free(g, 4);
    ng_topo_free(t);
}

static void from_env(void)
{
    char err[NG_ERRLEN];
    ng_cpuopt co;
    struct { const char *name, *hint, *tpc, *cpt; ng_smt smt; int cli_cpt, rc, want_tpc, want_cpt;
             const char *msg; } c[] = {
        { "nothing-asked", NULL, NULL, NULL, NG_SMT_AUTO, 0, 0, 0, 0, NULL },
        { "hint-nomultithread", "nomultithread", NULL, NULL, NG_SMT_AUTO, 0, 0, 1, 0, NULL },
        { "hint-list", "compute_bound,nomultithread", NULL, NULL, NG_SMT_AUTO, 0, 0, 1, 0, NULL },
        { "hint-multithread", "multithread", NULL, NULL, NG_SMT_AUTO, 0, 0, 0, 0, NULL },
        { "hint-word-inside-another", "nomultithreadx", NULL, NULL, NG_SMT_AUTO, 0, 0, 0, 0, NULL },
        { "threads-per-core-2", NULL, "2", NULL, NG_SMT_AUTO, 0, 0, 2, 0, NULL },
        { "smt-all-ignores-slurm", "nomultithread", "1", NULL, NG_SMT_ALL, 0, 0, 0, 0, NULL },
        { "smt-1-without-slurm", NULL, NULL, NULL, NG_SMT_ONE, 0, 0, 1, 0, NULL },
        { "cpus-per-task", NULL, NULL, "3", NG_SMT_AUTO, 0, 0, 0, 3, NULL },
        { "option-beats-env", NULL, NULL, "3", NG_SMT_AUTO, 5, 0, 0, 5, NULL },
        { "bad-cpus-per-task", NULL, NULL, "3x", NG_SMT_AUTO, 0, -1, 0, 0,
          "SLURM_CPUS_PER_TASK='3x' is not a count 1..65536" },
        { "zero-cpus-per-task", NULL, NULL, "0", NG_SMT_AUTO, 0, -1, 0, 0, "'0'" },
        { "huge-threads-per-core", NULL, "99999999999", NULL, NG_SMT_AUTO, 0, -1, 0, 0,
          "SLURM_THREADS_PER_CORE='99999999999' is not a count 1..16" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        t_begin("cpuopt/from-env/%s", c[i].name);
        t_env e = { { "SLURM_HINT", "SLURM_THREADS_PER_CORE", "SLURM_CPUS_PER_TASK" },
                    { c[i].hint, c[i].tpc, c[i].cpt } };
        memset(&co, 0x5a, sizeof(co));
        err[0] = '\0';
        int rc = ng_cpuopt_from_env(c[i].smt, NG_SCOPE_PACKAGE, c[i].cli_cpt, t_getenv, &e, &co,
                                    err, sizeof(err));
        CHECK(rc == c[i].rc, "rc %d: %s", rc, err);
        if (rc == 0)
            CHECK(co.threads_per_core == c[i].want_tpc && co.cpus_per_task == c[i].want_cpt &&
                  co.scope == NG_SCOPE_PACKAGE, "threads per core %d, cpus per task %d",
                  co.threads_per_core, co.cpus_per_task);
        else
            CHECK(c[i].msg && strstr(err, c[i].msg), "error '%s'", err);
        t_end();
    }
    t_begin("cpuopt/names-round-trip");
    ng_smt s;
    ng_cpu_scope sc;
    CHECK(ng_smt_parse("1", &s) == 0 && s == NG_SMT_ONE && !strcmp(ng_smt_name(s), "1") &&
          ng_smt_parse("2", &s) < 0 && ng_smt_parse(NULL, &s) < 0 &&
          ng_cpu_scope_parse("package", &sc) == 0 && sc == NG_SCOPE_PACKAGE &&
          ng_cpu_scope_parse("socket", &sc) < 0, "parse/name");
    t_end();
}

/* The verbose line against Slurm's format and an independent hex render
 * (printf's %llx of the same mask, cpus below 64). */
static void verbose_line(void)
{
    const char *lists[] = { "0-1", "4-5", "0,2,4,6", "63", "", "8-15,40" };
    char line[512], want[512];
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        t_begin("cpuopt/cpu-bind-line/%s", lists[i][0] ? lists[i] : "empty");
        hwloc_bitmap_t b = hwloc_bitmap_alloc();
        hwloc_bitmap_list_sscanf(b, lists[i]);
        unsigned long long m = 0;
        int c;
        hwloc_bitmap_foreach_begin(c, b) {
            m |= 1ull << c;
        } hwloc_bitmap_foreach_end();
        snprintf(want, sizeof(want), "cpu-bind=NUMA-GPU - gpu07, task %2u %2u [%u]: mask 0x%llx set",
                 12u, 3u, 4321u, m);
        CHECK(ng_cpu_bind_line("gpu07", 12, 3, 4321, b, line, sizeof(line)) == 0 &&
              !strcmp(line, want), "got '%s', want '%s'", line, want);
        hwloc_bitmap_free(b);
        t_end();
    }
    t_begin("cpuopt/cpu-bind-line/above-64-cpus-and-too-small");
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    hwloc_bitmap_list_sscanf(b, "1,200");
    CHECK(ng_cpu_bind_line("n", 0, 0, 1, b, line, sizeof(line)) == 0 &&
          strstr(line, "mask 0x1") && strlen(strstr(line, "0x") + 2) == 51 + 4 &&
          strstr(line, "0002 set"), "%s", line);
    CHECK(ng_cpu_bind_line("n", 0, 0, 1, b, line, 20) < 0, "a short buffer is not an error");
    hwloc_bitmap_free(b);
    t_end();
    t_begin("cpuopt/cpu-bind-verbose-asked");
    t_env v1 = { { "SLURM_CPU_BIND_VERBOSE" }, { "verbose" } };
    t_env v2 = { { "SLURM_CPU_BIND" }, { "verbose,mask_cpu:0x1,0x2" } };
    t_env q1 = { { "SLURM_CPU_BIND_VERBOSE", "SLURM_CPU_BIND" }, { "quiet", "quiet,cores" } };
    t_env q2 = { { "SLURM_CPU_BIND" }, { "map_cpu:0,1,noverbose" } };
    CHECK(ng_cpu_bind_verbose(t_getenv, &v1) && ng_cpu_bind_verbose(t_getenv, &v2) &&
          !ng_cpu_bind_verbose(t_getenv, &q1) && !ng_cpu_bind_verbose(t_getenv, &q2) &&
          !ng_cpu_bind_verbose(NULL, NULL), "verbose read wrong");
    t_end();
}

/* SLURM_THREADS_PER_CORE=1 under --cpu-bind=cores: Slurm's mask holds
 * whole cores, and the user's binding wins. */
static void slurm_mask(void)
{
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    t_begin("cpuopt/slurm-mask-with-whole-cores-keeps-them");
    CHECK(t != NULL, "no topology");
    if (t) {
        hwloc_topology_t h = ng_topo_hwloc(t);
        hwloc_bitmap_t first = hwloc_bitmap_alloc(), whole = hwloc_bitmap_alloc();
        hwloc_obj_t c = NULL;
        for (int i = 0; i < 4 && (c = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, c)); i++) {
            hwloc_bitmap_set(first, hwloc_bitmap_first(c->cpuset));
            hwloc_bitmap_or(whole, whole, c->cpuset);
        }
        t_env e = { { "SLURM_THREADS_PER_CORE" }, { "1" } };
        char err[NG_ERRLEN];
        ng_cpuopt co;
        CHECK(ng_cpuopt_from_env(NG_SMT_AUTO, NG_SCOPE_NODE, 0, t_getenv, &e, &co, err,
                                 sizeof(err)) == 0 && co.threads_per_core == 1 && co.from_slurm,
              "%s", err);
        ng_cpuopt_slurm_mask(&co, t, first);
        CHECK(co.threads_per_core == 1, "one PU a core in Slurm's mask dropped the request");
        ng_cpuopt_slurm_mask(&co, t, whole);
        CHECK(co.threads_per_core == 0, "whole cores in Slurm's mask still trimmed");
        /* the user's own --numa-gpu-smt=1 is not second-guessed */
        CHECK(ng_cpuopt_from_env(NG_SMT_ONE, NG_SCOPE_NODE, 0, NULL, NULL, &co, err,
                                 sizeof(err)) == 0, "%s", err);
        ng_cpuopt_slurm_mask(&co, t, whole);
        CHECK(co.threads_per_core == 1 && !co.from_slurm, "smt=1 overruled by the mask");
        hwloc_bitmap_free(first);
        hwloc_bitmap_free(whole);
    }
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    slurm_mask();
    verbose_line();
    for (size_t i = 0; i < sizeof(smt_machines) / sizeof(smt_machines[0]); i++)
        smt_one(smt_machines[i]);
    package();
    threads();
    from_env();
    T_EXIT();
}
