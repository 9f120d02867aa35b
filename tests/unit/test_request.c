/* The public request handle gives exactly the plan of the internal path
 * the plugin and the CLI take (ng_step_from_spec / _count + ng_step_plan),
 * rank by rank, on corpus machines; and every setter refuses a bad value
 * with a message naming it, leaving the request as it was. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "numagpu.h"
#include "private/step.h"
#include "private/cpuopt.h"

/* One configuration, applied to both paths. */
typedef struct {
    const char *name, *xml;
    const char *gpus;           /* spec, or NULL: gpus_per_task */
    int ntasks, gpus_per_task;
    const char *cpus, *mems;    /* lists, NULL: the topology's */
    ng_mode mode;
    ng_memopt mem;
    ng_reserve reserve;
    const char *isolated;       /* list, NULL: none */
    int use_isolated;
    ng_smt smt;
    ng_cpu_scope scope;
    int cpus_per_task;
} config;

/* Offline roots, GPU index N = N-th GPU in PCI order: the same ids on both
 * paths whatever OS devices the file has. */
static const ng_roots ROOTS = { .procfs = "/nonexistent", .sysfs = "/nonexistent",
                                .pci_order = 1, .offline = 1 };

static hwloc_bitmap_t list_or_null(const char *s)
{
    hwloc_bitmap_t b = NULL;
    if (s && (b = hwloc_bitmap_alloc()) && ng_list_parse(s, b) < 0) {
        hwloc_bitmap_free(b);
        b = NULL;
    }
    return b;
}

/* The internal path, as contrib/numa-gpu/common.c takes it. */
static int internal_plan(const ng_topo *t, const config *c, ng_plan *p, char *err, size_t len)
{
    ng_step st;
    int rc = c->gpus ? ng_step_from_spec(t, &ROOTS, c->gpus, c->ntasks, &st, err, len)
                     : ng_step_from_count(t, &ROOTS, c->ntasks, c->gpus_per_task, &st, err, len);
    if (rc < 0)
        return -1;
    hwloc_bitmap_t cpus = list_or_null(c->cpus), mems = list_or_null(c->mems);
    hwloc_bitmap_t iso = list_or_null(c->isolated);
    ng_plan_policy pol = { iso, c->use_isolated, NULL, c->reserve };
    ng_cpuopt co;
    char warn[NG_ERRLEN];
    rc = ng_cpuopt_from_env(c->smt, c->scope, c->cpus_per_task, NULL, NULL, &co, err, len);
    if (rc == 0)
        rc = ng_step_plan(t, &st, cpus, mems, c->mode, c->mem, &pol, &co, p, warn,
                          sizeof(warn), err, len);
    hwloc_bitmap_free(cpus);
    hwloc_bitmap_free(mems);
    hwloc_bitmap_free(iso);
    ng_step_free(&st);
    return rc;
}

/* The public path: names only what numagpu.h declares. */
static int request_plan(const ng_topo *t, const config *c, ng_plan **p, char *err, size_t len)
{
    static const char *const smt[] = { "auto", "1", "all" }, *const scope[] = { "node", "package" };
    ng_request *rq = ng_request_new(t);
    hwloc_bitmap_t iso = list_or_null(c->isolated);
    int rc = rq ? 0 : -1;
    rc = rc ? rc : ng_request_set_roots(rq, &ROOTS, err, len);
    rc = rc ? rc : ng_request_set_ntasks(rq, c->ntasks, err, len);
    rc = rc ? rc : c->gpus ? ng_request_set_gpus(rq, c->gpus, err, len)
                           : ng_request_set_gpus_per_task(rq, c->gpus_per_task, err, len);
    rc = rc ? rc : ng_request_set_cpus_list(rq, c->cpus, err, len);
    rc = rc ? rc : ng_request_set_mems_list(rq, c->mems, err, len);
    rc = rc ? rc : ng_request_set_mode(rq, c->mode, err, len);
    rc = rc ? rc : ng_request_set_memory(rq, c->mem, err, len);
    rc = rc ? rc : ng_request_set_reserve(rq, c->reserve, err, len);
    rc = rc ? rc : ng_request_set_isolated(rq, iso, NULL, c->use_isolated, err, len);
    rc = rc ? rc : ng_request_set_smt(rq, smt[c->smt], err, len);
    rc = rc ? rc : ng_request_set_cpu_scope(rq, scope[c->scope], err, len);
    rc = rc ? rc : ng_request_set_cpus_per_task(rq, c->cpus_per_task, err, len);
    hwloc_bitmap_free(iso);   /* the request keeps its own copy */
    rc = rc ? rc : ng_plan_make(rq, p, err, len);
    ng_request_free(rq);
    return rc;
}

/* Rank by rank: cpus, mems, GPUs, policy, verdict, reason, OpenMP places. */
static void same_plans(const ng_plan *a, const ng_plan *b)
{
    char x[256], y[256];
    CHECK(ng_plan_nranks(a) == b->nranks && ng_plan_feasible(a) == b->ok, "ranks %d/%d ok %d/%d",
          ng_plan_nranks(a), b->nranks, ng_plan_feasible(a), b->ok);
    for (int r = 0; r < b->nranks && r < ng_plan_nranks(a); r++) {
        const ng_rank_plan *rp = &b->ranks[r];
        CHECK(hwloc_bitmap_isequal(ng_plan_rank_cpus(a, r), rp->cpus), "rank %d cpus %s vs %s",
              r, ng_list_str(ng_plan_rank_cpus(a, r), x, sizeof(x)),
              ng_list_str(rp->cpus, y, sizeof(y)));
        CHECK(hwloc_bitmap_isequal(ng_plan_rank_mems(a, r), rp->mems), "rank %d mems %s vs %s",
              r, ng_list_str(ng_plan_rank_mems(a, r), x, sizeof(x)),
              ng_list_str(rp->mems, y, sizeof(y)));
        CHECK(ng_plan_rank_ngpus(a, r) == rp->ngpus, "rank %d: %d vs %d GPUs", r,
              ng_plan_rank_ngpus(a, r), rp->ngpus);
        for (int g = 0; g < rp->ngpus && g < ng_plan_rank_ngpus(a, r); g++)
            CHECK(!strcmp(ng_plan_rank_gpu(a, r, g), rp->gpus[g].busid), "rank %d GPU %d: %s "
                  "vs %s", r, g, ng_plan_rank_gpu(a, r, g), rp->gpus[g].busid);
        CHECK(ng_plan_rank_policy(a, r) == (int)rp->policy &&
              ng_plan_rank_verdict(a, r) == (int)rp->verdict &&
              ng_plan_rank_omp_threads(a, r) == rp->omp_threads &&
              !strcmp(ng_plan_rank_reason(a, r), rp->reason) &&
              !strcmp(ng_plan_rank_omp_places(a, r), rp->omp_places),
              "rank %d: policy/verdict/reason/places differ: '%s' vs '%s'", r,
              ng_plan_rank_reason(a, r), rp->reason);
    }
}

static void same_as_internal(const config *c)
{
    char xml[4096], err[NG_ERRLEN], e2[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/%s", t_corpus(), c->xml);
    t_begin("request/same-plan-as-internal-path/%s", c->name);
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    CHECK(t, "%s", err);
    ng_plan want, *got = NULL;
    if (t && internal_plan(t, c, &want, e2, sizeof(e2)) < 0) {
        CHECK(0, "internal path: %s", e2);
    } else if (t) {
        CHECK(request_plan(t, c, &got, err, sizeof(err)) == 0 && got, "request: %s", err);
        CHECK(want.nranks == (c->ntasks ? c->ntasks : want.nranks) && want.nranks > 1,
              "a plan of %d ranks proves little", want.nranks);
        if (got)
            same_plans(got, &want);
        ng_plan_free(&want);
        ng_plan_destroy(got);
    }
    ng_topo_free(t);
    t_end();
}

/* A setter refusing v: -1, its message names v. */
#define REFUSED(call, v) do {                                                       \
        err[0] = '\0';                                                              \
        CHECK((call) == -1 && strstr(err, (v)), "%s: rc/message '%s' (want %s)", #call, \
              err, (v));                                                            \
    } while (0)

static void bad_setters(void)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/dell-xe8640-2s-xeon8480-snc4-4xh100.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    t_begin("request/bad-setters-refused-naming-the-value");
    CHECK(t, "%s", err);
    ng_request *rq = t ? ng_request_new(t) : NULL;
    CHECK(rq && ng_request_new(NULL) == NULL, "new");
    if (rq) {
        REFUSED(ng_request_set_gpus(rq, "0,97", err, sizeof(err)), "97");
        REFUSED(ng_request_set_gpus(rq, NULL, err, sizeof(err)), "empty");
        REFUSED(ng_request_set_gpus_per_task(rq, -2, err, sizeof(err)), "-2");
        REFUSED(ng_request_set_ntasks(rq, 70000, err, sizeof(err)), "70000");
        REFUSED(ng_request_set_cpus_list(rq, "0-3,9999", err, sizeof(err)), "9999");
        REFUSED(ng_request_set_cpus_list(rq, "zz", err, sizeof(err)), "'zz'");
        REFUSED(ng_request_set_mems_list(rq, "0,63", err, sizeof(err)), "63");
        hwloc_bitmap_t empty = hwloc_bitmap_alloc();
        REFUSED(ng_request_set_cpus(rq, empty, err, sizeof(err)), "empty");
        hwloc_bitmap_free(empty);
        REFUSED(ng_request_set_mode(rq, (ng_mode)42, err, sizeof(err)), "mode 42");
        REFUSED(ng_request_set_memory(rq, (ng_memopt)9, err, sizeof(err)), "option 9");
        REFUSED(ng_request_set_reserve(rq, (ng_reserve)5, err, sizeof(err)), "reserve 5");
        REFUSED(ng_request_set_isolated(rq, NULL, NULL, 2, err, sizeof(err)), "use_isolated 2");
        REFUSED(ng_request_set_smt(rq, "2", err, sizeof(err)), "'2'");
        REFUSED(ng_request_set_smt(rq, "2", err, sizeof(err)), "auto|1|all");
        REFUSED(ng_request_set_cpu_scope(rq, "socket", err, sizeof(err)), "'socket'");
        REFUSED(ng_request_set_cpus_per_task(rq, -3, err, sizeof(err)), "-3");
        /* Nothing set yet: no ranks, said so. */
        ng_plan dummy, *p = &dummy;
        REFUSED(ng_plan_make(rq, &p, err, sizeof(err)), "no ranks");
        CHECK(p == NULL, "a refused plan leaves *out NULL");
        /* A refused setter leaves the request as it was: cpus 0-3 stay. */
        CHECK(ng_request_set_cpus_list(rq, "0-3", err, sizeof(err)) == 0, "%s", err);
        CHECK(ng_request_set_cpus_list(rq, "0-3,9999", err, sizeof(err)) == -1, "refused");
        CHECK(ng_request_set_ntasks(rq, 2, err, sizeof(err)) == 0 &&
              ng_plan_make(rq, &p, err, sizeof(err)) == 0 && p, "%s", err);
        hwloc_bitmap_t used = hwloc_bitmap_alloc();
        for (int r = 0; p && r < ng_plan_nranks(p); r++)
            hwloc_bitmap_or(used, used, ng_plan_rank_cpus(p, r));
        char b[64];
        CHECK(p && hwloc_bitmap_weight(used) > 0 && hwloc_bitmap_last(used) <= 3,
              "ranks on %s, not inside 0-3", ng_list_str(used, b, sizeof(b)));
        CHECK(p && ng_plan_rank_cpus(p, 2) == NULL && ng_plan_rank_gpu(p, 0, 0) == NULL &&
              ng_plan_rank_ngpus(p, -1) == -1, "out-of-range accessors");
        hwloc_bitmap_free(used);
        ng_plan_destroy(p);
    }
    ng_request_free(rq);
    ng_topo_free(t);
    t_end();
}

/* Unset roots on a topology file: GPU ids resolve as `numa-gpu plan`
 * resolves them (the file's indexes), never through this machine. */
static void default_roots(void)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/dell-xe8640-2s-xeon8480-snc4-4xh100.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    t_begin("request/default-roots-resolve-the-file-s-gpus");
    ng_request *rq = t ? ng_request_new(t) : NULL;
    ng_plan *p = NULL;
    CHECK(rq && ng_request_set_gpus(rq, "0:1:2:3", err, sizeof(err)) == 0 &&
          ng_plan_make(rq, &p, err, sizeof(err)) == 0, "%s", err);
    CHECK(p && ng_plan_nranks(p) == 4 && ng_plan_rank_ngpus(p, 3) == 1 &&
          ng_plan_rank_verdict(p, 3) == NG_V_LOCAL, "4 local ranks: %s",
          p ? ng_plan_rank_reason(p, 3) : err);
    ng_plan_destroy(p);
    ng_request_free(rq);
    ng_topo_free(t);
    t_end();
}

int main(void)
{
    static const config cases[] = {
        /* per-rank GPUs, a rank without one, restricted cpus, strict, the
         * OS's first core per L3, one thread a core, 2 threads a rank */
        { "dell-spec-strict-reserve-smt1", "dell-xe8640-2s-xeon8480-snc4-4xh100.xml",
          "0,1:2::3", 5, 0, "0-47,56-103", NULL, NG_MODE_STRICT, NG_MEM_LOCAL,
          NG_RESERVE_L3, NULL, 0, NG_SMT_ONE, NG_SCOPE_NODE, 2 },
        /* a count, interleaved memory, package scope, isolated CPUs avoided */
        { "corona-count-interleave-package", "llnl-corona-2s-epyc7402-8xmi50-rsmi-opencl.xml",
          NULL, 4, 2, NULL, NULL, NG_MODE_PREFER, NG_MEM_INTERLEAVE, NG_RESERVE_OFF,
          "0-3", 0, NG_SMT_ALL, NG_SCOPE_PACKAGE, 0 },
        /* restricted memory nodes, NUMA-reserved cores, isolated CPUs used */
        { "corona-spec-mems-numa-reserve", "llnl-corona-2s-epyc7402-8xmi50-rsmi-opencl.xml",
          "0:2:4:6", 0, 0, NULL, "0,1", NG_MODE_PREFER, NG_MEM_LOCAL, NG_RESERVE_NUMA,
          "8-11", 1, NG_SMT_AUTO, NG_SCOPE_NODE, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        same_as_internal(&cases[i]);
    bad_setters();
    default_roots();
    T_EXIT();
}
