/* The public plan request (numagpu.h, section "request"): an opaque handle
 * whose setters check and copy, and ng_plan_make, which takes the one plan
 * path the plugin and the CLI take (ng_step_from_spec / _count, then
 * ng_step_plan). No planning happens here: only argument checking. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/gpudev.h"
#include "private/step.h"
#include "private/cpuopt.h"
#include "private/util.h"

#define NG_MAX_TASKS 65536   /* what the planner accepts (lib/plan.c) */

struct ng_request {
    const ng_topo *topo;
    int has_roots;          /* 0: the default (offline for a file) */
    ng_roots roots;         /* its strings are owned copies */
    char *gpus;             /* a --gpus spec, or NULL: gpus_per_task */
    int gpus_per_task, ntasks;
    hwloc_bitmap_t cpus, mems;          /* NULL: the topology's */
    hwloc_bitmap_t isolated, nohz_full; /* NULL: none */
    int use_isolated;
    ng_reserve reserve;
    ng_mode mode;
    ng_memopt mem;
    ng_smt smt;
    ng_cpu_scope scope;
    int cpus_per_task;
};

ng_request *ng_request_new(const ng_topo *t)
{
    if (!t)
        return NULL;
    ng_request *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return NULL;
    rq->topo = t;
    rq->mode = NG_MODE_PREFER;   /* what `numa-gpu plan` does unasked */
    return rq;
}

static void roots_clear(ng_roots *r)
{
    free((char *)r->procfs);
    free((char *)r->sysfs);
    free((char *)r->gpu_map);
    memset(r, 0, sizeof(*r));
}

void ng_request_free(ng_request *rq)
{
    if (!rq)
        return;
    roots_clear(&rq->roots);
    free(rq->gpus);
    hwloc_bitmap_free(rq->cpus);
    hwloc_bitmap_free(rq->mems);
    hwloc_bitmap_free(rq->isolated);
    hwloc_bitmap_free(rq->nohz_full);
    free(rq);
}

/* The roots GPU ids are resolved with. Unset on a topology file, like
 * `numa-gpu plan --topology`: never this machine's /proc and /sys, and
 * where the file names no GPU by index, index N is the N-th GPU in PCI
 * order. */
static ng_roots effective_roots(const ng_request *rq)
{
    if (rq->has_roots)
        return rq->roots;
    ng_roots r = { 0 };
    if (strcmp(ng_topo_source(rq->topo), "live") != 0)
        ng_roots_for_file(rq->topo, &r);
    return r;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

int ng_request_set_roots(ng_request *rq, const ng_roots *r, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if (!r) {
        roots_clear(&rq->roots);
        rq->has_roots = 0;
        return 0;
    }
    int oom = 0;
    ng_roots c = *r;
    c.procfs = dup_or_null(r->procfs, &oom);
    c.sysfs = dup_or_null(r->sysfs, &oom);
    c.gpu_map = dup_or_null(r->gpu_map, &oom);
    if (oom) {
        roots_clear(&c);
        return ng_err(err, errlen, "out of memory");
    }
    roots_clear(&rq->roots);
    rq->roots = c;
    rq->has_roots = 1;
    return 0;
}

int ng_request_set_gpus(ng_request *rq, const char *spec, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    /* Resolve it now, so a bad id is named here rather than at make. */
    ng_roots r = effective_roots(rq);
    ng_step st;
    if (ng_step_from_spec(rq->topo, &r, spec, 0, &st, err, errlen) < 0)
        return -1;
    ng_step_free(&st);
    char *d = strdup(spec);
    if (!d)
        return ng_err(err, errlen, "out of memory");
    free(rq->gpus);
    rq->gpus = d;
    return 0;
}

int ng_request_set_gpus_per_task(ng_request *rq, int k, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if (k < 0 || k > NG_MAX_TASKS)
        return ng_err(err, errlen, "GPUs per task %d out of range (0..%d)", k, NG_MAX_TASKS);
    free(rq->gpus);
    rq->gpus = NULL;
    rq->gpus_per_task = k;
    return 0;
}

int ng_request_set_ntasks(ng_request *rq, int ntasks, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if (ntasks < 0 || ntasks > NG_MAX_TASKS)
        return ng_err(err, errlen, "ntasks %d out of range (1..%d, or 0: as many as the "
                      "GPU spec names)", ntasks, NG_MAX_TASKS);
    rq->ntasks = ntasks;
    return 0;
}

/* Replace *slot by a copy of set (NULL: unset), which must be non-empty
 * and inside whole (the topology's CPUs or nodes). */
static int set_bitmap(hwloc_bitmap_t *slot, hwloc_const_bitmap_t set, hwloc_const_bitmap_t whole,
                      const char *what, char *err, size_t errlen)
{
    char a[256], w[256];
    if (set && hwloc_bitmap_iszero(set))
        return ng_err(err, errlen, "allowed %s: an empty set (expected some of %s, or NULL "
                      "for the topology's)", what, ng_list_str(whole, w, sizeof(w)));
    if (set && !hwloc_bitmap_isincluded(set, whole)) {
        hwloc_bitmap_t out = hwloc_bitmap_alloc();
        if (!out)
            return ng_err(err, errlen, "out of memory");
        hwloc_bitmap_andnot(out, set, whole);
        ng_list_str(out, a, sizeof(a));
        hwloc_bitmap_free(out);
        return ng_err(err, errlen, "allowed %s: %s not in the topology (it has %s)", what, a,
                      ng_list_str(whole, w, sizeof(w)));
    }
    hwloc_bitmap_t d = NULL;
    if (set && !(d = hwloc_bitmap_dup(set)))
        return ng_err(err, errlen, "out of memory");
    hwloc_bitmap_free(*slot);
    *slot = d;
    return 0;
}

/* The same from a Linux list ("0-3,8"). */
static int set_list(hwloc_bitmap_t *slot, const char *list, hwloc_const_bitmap_t whole,
                    const char *what, char *err, size_t errlen)
{
    if (!list)
        return set_bitmap(slot, NULL, whole, what, err, errlen);
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    if (!b)
        return ng_err(err, errlen, "out of memory");
    int rc = ng_list_parse(list, b) < 0
        ? ng_err(err, errlen, "allowed %s '%.64s': not a list (expected e.g. 0-3,8)", what, list)
        : set_bitmap(slot, b, whole, what, err, errlen);
    hwloc_bitmap_free(b);
    return rc;
}

static hwloc_const_bitmap_t topo_cpus(const ng_request *rq)
{
    return hwloc_topology_get_complete_cpuset(ng_topo_hwloc(rq->topo));
}

static hwloc_const_bitmap_t topo_mems(const ng_request *rq)
{
    return hwloc_topology_get_complete_nodeset(ng_topo_hwloc(rq->topo));
}

int ng_request_set_cpus(ng_request *rq, hwloc_const_bitmap_t cpus, char *err, size_t errlen)
{
    return rq ? set_bitmap(&rq->cpus, cpus, topo_cpus(rq), "cpus", err, errlen)
              : ng_err(err, errlen, "no request");
}

int ng_request_set_cpus_list(ng_request *rq, const char *list, char *err, size_t errlen)
{
    return rq ? set_list(&rq->cpus, list, topo_cpus(rq), "cpus", err, errlen)
              : ng_err(err, errlen, "no request");
}

int ng_request_set_mems(ng_request *rq, hwloc_const_bitmap_t mems, char *err, size_t errlen)
{
    return rq ? set_bitmap(&rq->mems, mems, topo_mems(rq), "mems", err, errlen)
              : ng_err(err, errlen, "no request");
}

int ng_request_set_mems_list(ng_request *rq, const char *list, char *err, size_t errlen)
{
    return rq ? set_list(&rq->mems, list, topo_mems(rq), "mems", err, errlen)
              : ng_err(err, errlen, "no request");
}

int ng_request_set_mode(ng_request *rq, ng_mode mode, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if ((int)mode < 0 || mode > NG_MODE_EXPLAIN)
        return ng_err(err, errlen, "mode %d is not one of " NG_MODE_NAMES " (0..%d)",
                      (int)mode, (int)NG_MODE_EXPLAIN);
    rq->mode = mode;
    return 0;
}

int ng_request_set_memory(ng_request *rq, ng_memopt mem, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if ((int)mem < 0 || mem > NG_MEM_HBM)
        return ng_err(err, errlen, "memory option %d is not one of " NG_MEM_NAMES " (0..%d)",
                      (int)mem, (int)NG_MEM_HBM);
    rq->mem = mem;
    return 0;
}

int ng_request_set_reserve(ng_request *rq, ng_reserve reserve, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if ((int)reserve < 0 || reserve > NG_RESERVE_NUMA)
        return ng_err(err, errlen, "reserve %d is not one of off|l3|numa (0..%d)",
                      (int)reserve, (int)NG_RESERVE_NUMA);
    rq->reserve = reserve;
    return 0;
}

int ng_request_set_isolated(ng_request *rq, hwloc_const_bitmap_t isolated,
                            hwloc_const_bitmap_t nohz_full, int use_isolated, char *err,
                            size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if (use_isolated != 0 && use_isolated != 1)
        return ng_err(err, errlen, "use_isolated %d is not 0 (avoid) or 1 (use)", use_isolated);
    /* Copies first, so a failure leaves the request as it was. */
    hwloc_bitmap_t i = isolated ? hwloc_bitmap_dup(isolated) : NULL;
    hwloc_bitmap_t n = nohz_full ? hwloc_bitmap_dup(nohz_full) : NULL;
    if ((isolated && !i) || (nohz_full && !n)) {
        hwloc_bitmap_free(i);
        hwloc_bitmap_free(n);
        return ng_err(err, errlen, "out of memory");
    }
    hwloc_bitmap_free(rq->isolated);
    hwloc_bitmap_free(rq->nohz_full);
    rq->isolated = i;
    rq->nohz_full = n;
    rq->use_isolated = use_isolated;
    return 0;
}

int ng_request_set_smt(ng_request *rq, const char *smt, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    ng_smt v;
    if (!smt || ng_smt_parse(smt, &v) < 0)
        return ng_err(err, errlen, "smt '%.32s' is not one of " NG_SMT_NAMES,
                      smt ? smt : "(null)");
    rq->smt = v;
    return 0;
}

int ng_request_set_cpu_scope(ng_request *rq, const char *scope, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    ng_cpu_scope v;
    if (!scope || ng_cpu_scope_parse(scope, &v) < 0)
        return ng_err(err, errlen, "cpu scope '%.32s' is not one of " NG_SCOPE_NAMES,
                      scope ? scope : "(null)");
    rq->scope = v;
    return 0;
}

int ng_request_set_cpus_per_task(ng_request *rq, int n, char *err, size_t errlen)
{
    if (!rq)
        return ng_err(err, errlen, "no request");
    if (n < 0 || n > NG_MAX_CPUS_PER_TASK)
        return ng_err(err, errlen, "cpus per task %d out of range (1..%d, or 0: unset)", n,
                      NG_MAX_CPUS_PER_TASK);
    rq->cpus_per_task = n;
    return 0;
}

int ng_plan_make(const ng_request *rq, ng_plan **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return ng_err(err, errlen, "no place for the plan (out is NULL)");
    *out = NULL;
    if (!rq)
        return ng_err(err, errlen, "no request");
    if (!rq->gpus && rq->ntasks < 1)
        return ng_err(err, errlen, "no ranks: set a GPU spec (ng_request_set_gpus) or a "
                      "number of tasks (ng_request_set_ntasks)");
    ng_roots r = effective_roots(rq);
    ng_step st;
    int rc = rq->gpus
        ? ng_step_from_spec(rq->topo, &r, rq->gpus, rq->ntasks, &st, err, errlen)
        : ng_step_from_count(rq->topo, &r, rq->ntasks, rq->gpus_per_task, &st, err, errlen);
    if (rc < 0)
        return -1;
    /* No environment: a request is a pure description (smt auto = all). */
    ng_cpuopt co;
    ng_plan_policy pol = { rq->isolated, rq->use_isolated, rq->nohz_full, rq->reserve };
    ng_plan *p = calloc(1, sizeof(*p));
    if (!p)
        rc = ng_err(err, errlen, "out of memory");
    else if (ng_cpuopt_from_env(rq->smt, rq->scope, rq->cpus_per_task, NULL, NULL, &co, err,
                                errlen) < 0 ||
             ng_step_plan(rq->topo, &st, rq->cpus, rq->mems, rq->mode, rq->mem, &pol, &co, p,
                          err, errlen, err, errlen) < 0) {
        free(p);
        p = NULL;
        rc = -1;
    }
    ng_step_free(&st);
    *out = p;
    return rc;
}

void ng_plan_destroy(ng_plan *p)
{
    if (!p)
        return;
    ng_plan_free(p);
    free(p);
}

/* ------------------------------------------------------------- accessors */

static const ng_rank_plan *rank_of(const ng_plan *p, int rank)
{
    return p && p->ranks && rank >= 0 && rank < p->nranks ? &p->ranks[rank] : NULL;
}

int ng_plan_nranks(const ng_plan *p)
{
    return p ? p->nranks : -1;
}

int ng_plan_feasible(const ng_plan *p)
{
    return p ? p->ok : 0;
}

const char *ng_plan_refusal(const ng_plan *p)
{
    return p ? (p->ok ? "" : p->error) : NULL;
}

hwloc_const_bitmap_t ng_plan_rank_cpus(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? rp->cpus : NULL;
}

hwloc_const_bitmap_t ng_plan_rank_mems(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? rp->mems : NULL;
}

int ng_plan_rank_ngpus(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? rp->ngpus : -1;
}

const char *ng_plan_rank_gpu(const ng_plan *p, int rank, int i)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp && i >= 0 && i < rp->ngpus ? rp->gpus[i].busid : NULL;
}

int ng_plan_rank_policy(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? (int)rp->policy : -1;
}

int ng_plan_rank_verdict(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? (int)rp->verdict : -1;
}

const char *ng_plan_rank_reason(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? rp->reason : NULL;
}

int ng_plan_rank_omp_threads(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? rp->omp_threads : -1;
}

const char *ng_plan_rank_omp_places(const ng_plan *p, int rank)
{
    const ng_rank_plan *rp = rank_of(p, rank);
    return rp ? rp->omp_places : NULL;
}
