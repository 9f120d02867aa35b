/* Planner properties over the whole topology corpus, for 1..2xGPUs ranks
 * (1..2xNUMA nodes on GPU-less machines), and targeted cases for the rules
 * users expect. Expected outcomes are derived from the topology itself
 * (hwloc sets), never written down per machine. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "numagpu.h"
#include "private/step.h"


/* CPUs of the NUMA nodes in set (OS indexes). */
static hwloc_bitmap_t nodes_cpus(ng_topo *t, hwloc_const_bitmap_t nodes)
{
    hwloc_bitmap_t c = hwloc_bitmap_alloc();
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(ng_topo_hwloc(t), HWLOC_OBJ_NUMANODE, n)))
        if (hwloc_bitmap_isset(nodes, n->os_index))
            hwloc_bitmap_or(c, c, n->cpuset);
    return c;
}

static int cores_in(ng_topo *t, hwloc_const_bitmap_t cpus)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    int n = 0;
    hwloc_obj_t c = NULL;
    while ((c = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, c)))
        n += hwloc_bitmap_intersects(c->cpuset, cpus);
    return n;
}

/* Feasible = every GPU of the rank has known locality and its node(s) have
 * allowed CPUs and allowed memory. */
static int feasible(ng_topo *t, const ng_rank_plan *rp)
{
    if (rp->ngpus == 0)
        return 0;
    for (int g = 0; g < rp->ngpus; g++) {
        if (rp->gpus[g].locality != NG_LOC_KNOWN)
            return 0;
        int n;
        hwloc_bitmap_foreach_begin(n, rp->gpus[g].nodes) {
            hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(ng_topo_hwloc(t), (unsigned)n);
            if (o && hwloc_bitmap_isset(ng_topo_cpu_nodes(t), (unsigned)n) &&
                (!hwloc_bitmap_intersects(o->cpuset, ng_topo_allowed_cpus(t)) ||
                 !hwloc_bitmap_isset(ng_topo_allowed_mems(t), (unsigned)n)))
                return 0;
        } hwloc_bitmap_foreach_end();
    }
    return 1;
}

static void check_properties(ng_topo *t, const ng_plan *p, int nodes_with_cpus)
{
    hwloc_bitmap_t all = hwloc_bitmap_alloc();
    int overcommit = 0;
    for (int r = 0; r < p->nranks; r++)
        overcommit |= p->ranks[r].verdict == NG_V_OVERCOMMIT;
    for (int r = 0; r < p->nranks; r++) {
        const ng_rank_plan *rp = &p->ranks[r];
        char cb[1024];
        CHECK(!hwloc_bitmap_iszero(rp->cpus), "rank %d has no cpus", r);
        CHECK(!hwloc_bitmap_iszero(rp->mems), "rank %d has no mems", r);
        CHECK(hwloc_bitmap_isincluded(rp->cpus, ng_topo_allowed_cpus(t)),
              "rank %d cpus %s outside allowed", r, ng_list_str(rp->cpus, cb, sizeof(cb)));
        CHECK(hwloc_bitmap_isincluded(rp->mems, ng_topo_allowed_mems(t)),
              "rank %d mems outside allowed", r);
        if (!overcommit)
            CHECK(!hwloc_bitmap_intersects(all, rp->cpus), "rank %d cpus %s overlap", r,
                  ng_list_str(rp->cpus, cb, sizeof(cb)));
        hwloc_bitmap_or(all, all, rp->cpus);
        /* Home nodes are CPU nodes, never memory-only ones. */
        hwloc_bitmap_t hc = nodes_cpus(t, rp->home);
        int n;
        hwloc_bitmap_foreach_begin(n, rp->home) {
            CHECK(hwloc_bitmap_isset(ng_topo_cpu_nodes(t), (unsigned)n),
                  "rank %d home node %d is memory-only", r, n);
        } hwloc_bitmap_foreach_end();
        CHECK(hwloc_bitmap_isincluded(rp->cpus, hc), "rank %d cpus outside its home", r);
        hwloc_bitmap_free(hc);
        if (feasible(t, rp) && rp->verdict != NG_V_OVERCOMMIT) {
            hwloc_bitmap_t gn = hwloc_bitmap_alloc();
            for (int g = 0; g < rp->ngpus; g++)
                hwloc_bitmap_or(gn, gn, rp->gpus[g].nodes);
            hwloc_bitmap_t gc = nodes_cpus(t, gn);
            CHECK(rp->verdict == NG_V_LOCAL, "feasible rank %d verdict %s: %s", r,
                  ng_verdict_name(rp->verdict), rp->reason);
            CHECK(hwloc_bitmap_isincluded(rp->cpus, gc), "rank %d cpus not on GPU node", r);
            CHECK(hwloc_bitmap_isincluded(rp->mems, gn), "rank %d mems not on GPU node", r);
            hwloc_bitmap_free(gn);
            hwloc_bitmap_free(gc);
        }
        if (rp->verdict != NG_V_LOCAL && rp->verdict != NG_V_NOGPU)
            CHECK(rp->infeasible, "rank %d verdict %s but not flagged", r,
                  ng_verdict_name(rp->verdict));
    }
    /* Balance: ranks with the same single home node differ by <= 1 core
     * (or PU when ranks outnumber cores). */
    for (int a = 0; a < p->nranks && !overcommit; a++)
        for (int b = a + 1; b < p->nranks; b++) {
            const ng_rank_plan *x = &p->ranks[a], *y = &p->ranks[b];
            if (hwloc_bitmap_weight(x->home) != 1 || !hwloc_bitmap_isequal(x->home, y->home))
                continue;
            int cx = cores_in(t, x->cpus), cy = cores_in(t, y->cpus);
            int px = hwloc_bitmap_weight(x->cpus), py = hwloc_bitmap_weight(y->cpus);
            int ok = abs(cx - cy) <= 1 || (hwloc_bitmap_intersects(x->cpus, y->cpus) == 0 &&
                                           abs(px - py) <= 1);
            CHECK(ok, "ranks %d and %d on node %d unbalanced: %d vs %d cores", a, b,
                  hwloc_bitmap_first(x->home), cx, cy);
        }
    (void)nodes_with_cpus;
    hwloc_bitmap_free(all);
}

static void corpus_properties(const char *path, const char *name)
{
    (void)path; /* t_load_corpus() finds it in the corpus by name */
    ng_topo *t = t_load_corpus(name);
    t_begin("plan/properties/%s", name);
    CHECK(t, "load failed");
    if (!t) {
        t_end();
        return;
    }
    ng_accel *v;
    int ng, nodes = 0, plans = 0;
    ng_accel_list(t, &v, &ng);
    hwloc_obj_t o = NULL;
    /* As in Linux, every CPU belongs to exactly one CPU node. */
    hwloc_bitmap_t part = hwloc_bitmap_alloc();
    o = NULL;
    while ((o = hwloc_get_next_obj_by_type(ng_topo_hwloc(t), HWLOC_OBJ_NUMANODE, o)))
        if (hwloc_bitmap_isset(ng_topo_cpu_nodes(t), o->os_index)) {
            CHECK(!hwloc_bitmap_intersects(part, o->cpuset), "CPU nodes overlap at %u",
                  o->os_index);
            hwloc_bitmap_or(part, part, o->cpuset);
        }
    CHECK(hwloc_bitmap_isequal(part, hwloc_get_root_obj(ng_topo_hwloc(t))->cpuset),
          "CPU nodes do not cover every CPU");
    hwloc_bitmap_free(part);
    nodes = ng_topo_cpu_node_count(t);
    int maxr = ng ? 2 * ng : 2 * nodes;
    for (int n = 1; n <= maxr; n++) {
        ng_rank_gpus *g = calloc((size_t)n, sizeof(*g));
        for (int r = 0; r < n && ng; r++) {
            g[r].ngpus = 1;
            g[r].busids = malloc(NG_BUSID_LEN);
            memcpy(g[r].busids[0], v[r % ng].busid, NG_BUSID_LEN);
        }
        for (int m = NG_MODE_PREFER; m <= NG_MODE_INTERLEAVE; m++) {
            ng_plan p, q;
            char err[NG_ERRLEN];
            int rc = ng_plan_compute(t, NULL, NULL, n, g, (ng_mode)m, &p, err, sizeof(err));
            CHECK(rc == 0, "%d ranks: %s", n, err);
            if (rc)
                continue;
            plans++;
            check_properties(t, &p, nodes);
            /* Pure: the same inputs give the same plan. */
            rc = ng_plan_compute(t, NULL, NULL, n, g, (ng_mode)m, &q, err, sizeof(err));
            for (int r = 0; rc == 0 && r < n; r++)
                CHECK(hwloc_bitmap_isequal(p.ranks[r].cpus, q.ranks[r].cpus) &&
                      !strcmp(p.ranks[r].reason, q.ranks[r].reason), "not deterministic");
            int any = 0;
            for (int r = 0; r < n; r++)
                any |= p.ranks[r].infeasible;
            if (m == NG_MODE_STRICT)
                CHECK(p.ok == !any, "strict ok=%d with infeasible=%d", p.ok, any);
            else
                CHECK(p.ok, "%s refused a plan", ng_mode_name((ng_mode)m));
            if (rc == 0)
                ng_plan_free(&q);
            ng_plan_free(&p);
        }
        for (int r = 0; r < n; r++)
            free(g[r].busids);
        free(g);
    }
    CHECK(plans > 0, "no plans computed");
    ng_accel_list_free(v, ng);
    ng_topo_free(t);
    t_end();
}

/* Helpers for targeted cases. */
static int plan_spec(ng_topo *t, const char *spec, int ntasks, ng_mode m,
                     hwloc_const_bitmap_t cpus, ng_plan *p)
{
    ng_step st;
    char err[NG_ERRLEN];
    ng_roots r = { 0 };
    if (ng_step_from_spec(t, &r, spec, ntasks, &st, err, sizeof(err)) < 0) {
        t_fail(__FILE__, __LINE__, "spec %s: %s", spec, err);
        return -1;
    }
    int rc = ng_plan_compute(t, cpus, NULL, st.nranks, st.ranks, m, p, err, sizeof(err));
    if (rc < 0)
        t_fail(__FILE__, __LINE__, "plan: %s", err);
    ng_step_free(&st);
    return rc;
}

static void targeted(void)
{
    ng_plan p;
    hwloc_bitmap_t c;

    t_begin("plan/two-gpus-on-two-nodes-span-both");
    ng_topo *h100 = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    if (h100 && plan_spec(h100, "0000:4e:00.0,0000:5f:00.0", 0, NG_MODE_STRICT, NULL, &p) == 0) {
        hwloc_bitmap_t want = hwloc_bitmap_alloc();
        ng_accel a, b;
        ng_accel_lookup(h100, "0000:4e:00.0", &a, NULL, 0);
        ng_accel_lookup(h100, "0000:5f:00.0", &b, NULL, 0);
        hwloc_bitmap_or(want, a.nodes, b.nodes);
        CHECK(hwloc_bitmap_isequal(p.ranks[0].home, want) &&
              hwloc_bitmap_isequal(p.ranks[0].mems, want), "home is not both GPU nodes");
        c = nodes_cpus(h100, want);
        CHECK(hwloc_bitmap_isequal(p.ranks[0].cpus, c), "a lone rank gets all cpus of both");
        CHECK(p.ranks[0].policy == NG_POL_BIND && p.ok, "strict binds");
        hwloc_bitmap_free(c);
        hwloc_bitmap_free(want);
        ng_accel_clear(&a);
        ng_accel_clear(&b);
        ng_plan_free(&p);
    }
    t_end();

    t_begin("plan/cpu-outside-allowed-strict-refuses-prefer-falls-back");
    if (h100) {
        ng_accel a;
        ng_accel_lookup(h100, "0000:5f:00.0", &a, NULL, 0);
        hwloc_bitmap_t gc = nodes_cpus(h100, a.nodes);
        c = hwloc_bitmap_dup(ng_topo_allowed_cpus(h100));
        hwloc_bitmap_andnot(c, c, gc);   /* job cgroup without the GPU's node */
        if (plan_spec(h100, "0000:5f:00.0", 0, NG_MODE_STRICT, c, &p) == 0) {
            CHECK(!p.ok && p.ranks[0].verdict == NG_V_REMOTE, "strict ok=%d verdict %s", p.ok,
                  ng_verdict_name(p.ranks[0].verdict));
            CHECK(strstr(p.error, "strict"), "error: %s", p.error);
            ng_plan_free(&p);
        }
        if (plan_spec(h100, "0000:5f:00.0", 0, NG_MODE_PREFER, c, &p) == 0) {
            int home = hwloc_bitmap_first(p.ranks[0].home), gpu = hwloc_bitmap_first(a.nodes);
            /* The fallback is the allowed node nearest by hwloc distances. */
            unsigned best = ~0u;
            hwloc_obj_t o = NULL;
            while ((o = hwloc_get_next_obj_by_type(ng_topo_hwloc(h100), HWLOC_OBJ_NUMANODE, o)))
                if (hwloc_bitmap_intersects(o->cpuset, c)) {
                    unsigned d = ng_topo_node_distance(h100, (unsigned)gpu, o->os_index);
                    best = d < best ? d : best;
                }
            CHECK(p.ok && p.ranks[0].verdict == NG_V_REMOTE, "prefer must run, remote");
            CHECK(ng_topo_node_distance(h100, (unsigned)gpu, (unsigned)home) == best,
                  "fallback node %d is not the nearest", home);
            CHECK(strstr(p.ranks[0].reason, "warning"), "no warning: %s", p.ranks[0].reason);
            ng_plan_free(&p);
        }
        hwloc_bitmap_free(gc);
        hwloc_bitmap_free(c);
        ng_accel_clear(&a);
    }
    t_end();
    ng_topo_free(h100);

    t_begin("plan/follows-l3-under-the-gpu");
    ng_topo *tioga = t_load_corpus("llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml");
    ng_accel *v;
    int n = 0;
    if (tioga) {
        ng_accel_list(tioga, &v, &n);
        char spec[512] = "";
        /* Two GCDs of one node, listed in reverse so order cannot help. */
        for (int i = n - 1; i >= 0; i--)
            if (hwloc_bitmap_isequal(v[i].nodes, v[0].nodes)) {
                size_t u = strlen(spec);
                snprintf(spec + u, sizeof(spec) - u, "%s%s", u ? ":" : "", v[i].busid);
            }
        if (plan_spec(tioga, spec, 0, NG_MODE_PREFER, NULL, &p) == 0) {
            CHECK(p.nranks == 2, "spec %s", spec);
            for (int r = 0; r < p.nranks; r++) {
                const ng_accel *g = &p.ranks[r].gpus[0];
                hwloc_bitmap_t nc = nodes_cpus(tioga, g->nodes);
                CHECK(!hwloc_bitmap_isequal(g->near_cpus, nc),
                      "test premise: GPU ancestor finer than node");
                hwloc_bitmap_free(nc);
                CHECK(hwloc_bitmap_isincluded(p.ranks[r].cpus, g->near_cpus),
                      "rank %d not under its GPU's L3", r);
            }
            ng_plan_free(&p);
        }
        ng_accel_list_free(v, n);
    }
    ng_topo_free(tioga);
    t_end();

    t_begin("plan/cpu-only-ranks-spread-over-nodes");
    ng_topo *jureca = t_load_corpus("jsc-jureca-dc-cpu-2s-epyc7742-nps4-nogpu-hwloc1.xml");
    char err[NG_ERRLEN];
    if (jureca && ng_plan_compute(jureca, NULL, NULL, 4, NULL, NG_MODE_PREFER, &p, err,
                                  sizeof(err)) == 0) {
        hwloc_bitmap_t homes = hwloc_bitmap_alloc();
        for (int r = 0; r < 4; r++) {
            CHECK(p.ranks[r].verdict == NG_V_NOGPU, "verdict");
            hwloc_bitmap_or(homes, homes, p.ranks[r].home);
        }
        CHECK(hwloc_bitmap_weight(homes) == 4, "4 ranks on %d nodes", hwloc_bitmap_weight(homes));
        hwloc_bitmap_free(homes);
        ng_plan_free(&p);
    }
    ng_topo_free(jureca);
    t_end();

    t_begin("plan/gpu-less-ranks-take-the-nodes-gpu-ranks-leave");
    ng_topo *pascal = t_load_corpus("llnl-pascal-2s-bdw-2xp100-pcie.xml");
    if (pascal && plan_spec(pascal, "0000:04:00.0:0000:07:00.0", 3, NG_MODE_PREFER, NULL, &p) == 0) {
        CHECK(p.nranks == 3 && p.ranks[2].verdict == NG_V_NOGPU, "3rd rank has no GPU");
        CHECK(!hwloc_bitmap_intersects(p.ranks[2].home, p.ranks[0].home),
              "GPU-less rank shares the GPU node while another is free");
        ng_plan_free(&p);
    }
    ng_topo_free(pascal);
    t_end();

    t_begin("plan/unknown-locality-is-a-verdict");
    ng_topo *juropa = t_load_corpus("jsc-juropa3-2s-snb-2xk20-no-pci-locality-hwloc1.xml");
    if (juropa && plan_spec(juropa, "0000:01:00.0", 0, NG_MODE_STRICT, NULL, &p) == 0) {
        CHECK(!p.ok && p.ranks[0].verdict == NG_V_UNKNOWN, "verdict %s",
              ng_verdict_name(p.ranks[0].verdict));
        ng_plan_free(&p);
    }
    ng_topo_free(juropa);
    t_end();

    t_begin("plan/memory-only-nodes-never-cpu-home");
    ng_topo *knl = t_load_corpus("jsc-deep-er-knl-1s-snc4-flat-mcdram.xml");
    if (knl && ng_plan_compute(knl, NULL, NULL, 8, NULL, NG_MODE_PREFER, &p, err, sizeof(err)) == 0) {
        /* The smaller (MCDRAM) node of each cluster is memory-only. */
        for (int r = 0; r < 8; r++) {
            hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(ng_topo_hwloc(knl),
                (unsigned)hwloc_bitmap_first(p.ranks[r].home));
            hwloc_obj_t m = NULL;
            while (o && (m = hwloc_get_next_obj_by_type(ng_topo_hwloc(knl), HWLOC_OBJ_NUMANODE, m)))
                if (m->parent == o->parent && m != o)
                    CHECK(o->attr->numanode.local_memory > m->attr->numanode.local_memory,
                          "rank %d on node %u, smaller than sibling %u", r, o->os_index,
                          m->os_index);
        }
        ng_plan_free(&p);
    }
    ng_topo_free(knl);
    t_end();

    t_begin("plan/smt-siblings-only-when-ranks-outnumber-cores");
    ng_topo *lassen = t_load_corpus("llnl-lassen-power9-2s-4xv100-hwloc2.xml");
    if (lassen && plan_spec(lassen, "0004:04:00.0:0004:05:00.0", 0, NG_MODE_PREFER, NULL, &p) == 0) {
        /* Two ranks on one SMT4 node: each gets whole cores. */
        for (int r = 0; r < 2; r++) {
            int cores = cores_in(lassen, p.ranks[r].cpus);
            CHECK(hwloc_bitmap_weight(p.ranks[r].cpus) == 4 * cores, "rank %d split cores", r);
            CHECK(p.ranks[r].omp_threads == cores, "omp threads %d vs cores %d",
                  p.ranks[r].omp_threads, cores);
        }
        ng_plan_free(&p);
    }
    ng_topo_free(lassen);
    t_end();

    t_begin("plan/bad-input");
    ng_topo *q = t_load_corpus("llnl-quartz-2s-bdw-nogpu-smt1.xml");
    hwloc_bitmap_t none = hwloc_bitmap_alloc();
    hwloc_bitmap_set(none, 9999);
    CHECK(q && ng_plan_compute(q, none, NULL, 1, NULL, NG_MODE_PREFER, &p, err, sizeof(err)) < 0
          && strstr(err, "9999"), "allowed cpus outside topology accepted: %s", err);
    CHECK(q && ng_plan_compute(q, NULL, NULL, 0, NULL, NG_MODE_PREFER, &p, err, sizeof(err)) < 0,
          "0 ranks accepted");
    ng_rank_gpus g = { 1, NULL };
    char bus[1][NG_BUSID_LEN] = { "0000:99:00.0" };
    g.busids = bus;
    CHECK(q && ng_plan_compute(q, NULL, NULL, 1, &g, NG_MODE_PREFER, &p, err, sizeof(err)) < 0
          && strstr(err, "0000:99:00.0"), "unknown GPU accepted: %s", err);
    hwloc_bitmap_free(none);
    ng_topo_free(q);
    t_end();
}

/* The memory-only node attached beside CPU node os (same parent), -1. */
static int sibling_memory_node(ng_topo *t, unsigned os)
{
    hwloc_obj_t n = hwloc_get_numanode_obj_by_os_index(ng_topo_hwloc(t), os);
    for (hwloc_obj_t m = n ? n->parent->memory_first_child : NULL; m; m = m->next_sibling)
        if (m != n && !hwloc_bitmap_isset(ng_topo_cpu_nodes(t), m->os_index))
            return (int)m->os_index;
    return -1;
}

static void tiers(void)
{
    const char *files[] = { "jsc-deep-er-knl-1s-snc4-flat-mcdram.xml",
                            "jsc-deep-sea-2s-xeonmax9462-snc4-flat-hbm.xml" };
    char err[NG_ERRLEN];
    for (int f = 0; f < 2; f++) {
        ng_topo *t = t_load_corpus(files[f]);
        t_begin("plan/memory-tiers/%s", files[f]);
        CHECK(t, "load");
        int ncpu = t ? ng_topo_cpu_node_count(t) : 0;
        for (ng_memopt m = NG_MEM_TIERED; t && m <= NG_MEM_HBM; m++) {
            ng_plan p;
            CHECK(ng_plan_compute(t, NULL, NULL, ncpu, NULL, NG_MODE_PREFER, &p, err, sizeof(err)) == 0 &&
                  ng_plan_memory(t, &p, m, err, sizeof(err)) == 0, "%s: %s", ng_memopt_name(m), err);
            for (int r = 0; r < p.nranks; r++) {
                unsigned home = (unsigned)hwloc_bitmap_first(p.ranks[r].home);
                int hbm = sibling_memory_node(t, home);
                hwloc_bitmap_t want = hwloc_bitmap_alloc();
                if (m == NG_MEM_TIERED)
                    hwloc_bitmap_set(want, home);
                if (hbm >= 0)
                    hwloc_bitmap_set(want, (unsigned)hbm);
                char a[64], b[64];
                CHECK(hbm >= 0 && hwloc_bitmap_isequal(p.ranks[r].mems, want) &&
                      p.ranks[r].policy == NG_POL_PREFERRED,
                      "%s rank %d: mems %s want %s", ng_memopt_name(m), r,
                      ng_list_str(p.ranks[r].mems, a, sizeof(a)), ng_list_str(want, b, sizeof(b)));
                CHECK(hbm < 0 || !strcmp(ng_topo_node_tier(t, (unsigned)hbm, NULL), "hbm"),
                      "node %d tier %s", hbm, ng_topo_node_tier(t, (unsigned)hbm, NULL));
                hwloc_bitmap_free(want);
            }
            ng_plan_free(&p);
        }
        ng_topo_free(t);
        t_end();
    }
    t_begin("plan/memory-tier-missing-is-an-error");
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    ng_plan p;
    CHECK(t && ng_plan_compute(t, NULL, NULL, 1, NULL, NG_MODE_STRICT, &p, err, sizeof(err)) == 0, "%s", err);
    CHECK(t && ng_plan_memory(t, &p, NG_MEM_TIERED, err, sizeof(err)) < 0 &&
          strstr(err, "memory policy tiered") && strstr(err, "none"), "%s", err);
    if (t)
        ng_plan_free(&p);
    ng_topo_free(t);
    t_end();
}

/* GPU-less ranks in proportion to each node's usable PUs (issue 28): node
 * 0 of the Dell SNC4 whole (28 PUs) beside 7 PUs of node 1; as many ranks
 * as PUs: no PU carries two ranks while another is idle. */
static void proportional(void)
{
    char err[NG_ERRLEN];
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc(), seen = hwloc_bitmap_alloc();
    t_begin("plan/gpu-less-ranks-in-proportion-to-usable-pus");
    CHECK(t != NULL, "no topology");
    if (t) {
        hwloc_bitmap_and(allowed, ng_topo_node_cpus(t, 0), ng_topo_allowed_cpus(t));
        int extra = 0, c;
        hwloc_bitmap_foreach_begin(c, ng_topo_node_cpus(t, 1)) {
            if (extra++ < 7)
                hwloc_bitmap_set(allowed, (unsigned)c);
        } hwloc_bitmap_foreach_end();
        int npu = hwloc_bitmap_weight(allowed);
        ng_plan p;
        CHECK(npu == hwloc_bitmap_weight(ng_topo_node_cpus(t, 0)) + 7, "%d PUs", npu);
        for (int nr = npu; nr >= npu / 2 && !t_case_failed; nr -= npu / 2) {
            if (ng_plan_compute(t, allowed, NULL, nr, NULL, NG_MODE_PREFER, &p, err,
                                sizeof(err)) < 0) {
                CHECK(0, "%s", err);
                break;
            }
            hwloc_bitmap_zero(seen);
            int shared = 0;
            for (int r = 0; r < p.nranks; r++) {
                shared += hwloc_bitmap_intersects(seen, p.ranks[r].cpus);
                hwloc_bitmap_or(seen, seen, p.ranks[r].cpus);
            }
            /* nr == npu: every PU one rank; fewer ranks: no rank shares a PU */
            CHECK(shared == 0 && (nr < npu || hwloc_bitmap_isequal(seen, allowed)),
                  "%d ranks on %d PUs: %d ranks share a PU, %d PUs used", nr, npu, shared,
                  hwloc_bitmap_weight(seen));
            ng_plan_free(&p);
        }
    }
    t_end();
    hwloc_bitmap_free(allowed);
    hwloc_bitmap_free(seen);
    ng_topo_free(t);
}

int main(void)
{
    proportional();
    if (t_each_corpus_xml("plan", corpus_properties) < 0)
        return 1;
    targeted();
    tiers();
    T_EXIT();
}
