/* What the kubelet's topology manager would decide for the same request,
 * one container per rank, side by side with our plan (`numa-gpu explain
 * --k8s`). A model of its documented behaviour: the CPU manager (static
 * policy) and the device manager each give NUMA-affinity hints for the
 * container (every node mask that can hold the request; the narrowest ones
 * preferred), the topology manager merges them (the narrowest non-empty
 * intersection, preferred only if both hints were), and the policy admits:
 *   best-effort       always, on the merged mask (any node if none);
 *   restricted        only a preferred merged mask;
 *   single-numa-node  only a preferred merged mask of one node.
 * Containers are admitted in rank order and consume what they get. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/k8s.h"
#include "private/util.h"

#define MAX_K8S_NODES 8    /* the model enumerates every pair of node masks */

typedef struct {
    int n;                      /* CPU nodes */
    unsigned os[MAX_K8S_NODES]; /* their OS indexes */
    int cpus[MAX_K8S_NODES];    /* free PUs */
    int gpus[MAX_K8S_NODES];    /* free GPUs (by their node) */
} pool;

static int popcount(unsigned m)
{
    int k = 0;
    for (; m; m &= m - 1)
        k++;
    return k;
}

static int sum(const int *v, int n, unsigned m)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        if (m & (1u << i))
            s += v[i];
    return s;
}

/* The narrowest size of a mask holding need of v[] (0: no need). */
static int narrowest(const pool *p, const int *v, int need)
{
    int best = 0;
    if (need <= 0)
        return 0;
    for (unsigned m = 1; m < (1u << p->n); m++)
        if (sum(v, p->n, m) >= need && (!best || popcount(m) < best))
            best = popcount(m);
    return best;
}

/* Merge the two providers' hints: the narrowest feasible intersection,
 * preferred ones first. 0 = no mask (nothing fits). */
static unsigned merge(const pool *p, int ngpus, int ncpus, int *preferred)
{
    int gmin = narrowest(p, p->gpus, ngpus), cmin = narrowest(p, p->cpus, ncpus);
    unsigned best = 0, full = (1u << p->n) - 1;
    int best_pref = 0;
    *preferred = 0;
    if ((ngpus > 0 && !gmin) || (ncpus > 0 && !cmin))
        return 0;
    for (unsigned g = 1; g <= full; g++) {
        if (ngpus > 0 && sum(p->gpus, p->n, g) < ngpus)
            continue;
        if (ngpus == 0 && g != full)
            continue;   /* no device request: one "any" hint */
        for (unsigned c = 1; c <= full; c++) {
            if (ncpus > 0 && sum(p->cpus, p->n, c) < ncpus)
                continue;
            if (ncpus == 0 && c != full)
                continue;
            unsigned m = g & c;
            /* what the merged mask must still hold */
            if (!m || (ngpus && sum(p->gpus, p->n, m) < ngpus) ||
                (ncpus && sum(p->cpus, p->n, m) < ncpus))
                continue;
            int pref = (ngpus == 0 || popcount(g) == gmin) && (ncpus == 0 || popcount(c) == cmin);
            if (!best || (pref && !best_pref) ||
                (pref == best_pref && (popcount(m) < popcount(best) ||
                                       (popcount(m) == popcount(best) && m < best)))) {
                best = m;
                best_pref = pref;
            }
        }
    }
    *preferred = best_pref;
    return best;
}

static void take(int *v, int n, unsigned m, int need)
{
    for (int i = 0; i < n && need > 0; i++)
        if (m & (1u << i)) {
            int k = v[i] < need ? v[i] : need;
            v[i] -= k;
            need -= k;
        }
}

static const char *policy_names[] = { "best-effort", "restricted", "single-numa-node" };

char *ng_k8s_explain(const ng_topo *t, const ng_plan *p)
{
    ng_buf b = { 0 };
    hwloc_const_bitmap_t cn = ng_topo_cpu_nodes(t);
    if (hwloc_bitmap_weight(cn) > MAX_K8S_NODES) {
        ng_buf_add(&b, "kubelet topology manager: not modelled beyond %d NUMA nodes (this "
                   "machine has %d)\n", MAX_K8S_NODES, hwloc_bitmap_weight(cn));
        return ng_buf_take(&b);
    }
    ng_buf_add(&b, "kubelet topology manager (CPU manager static, one container per rank "
               "with its GPUs and as many CPUs as numa-gpu gives it):\n");
    for (int pol = 0; pol < 3; pol++) {
        pool pl = { 0 };
        unsigned os;
        hwloc_bitmap_foreach_begin(os, cn) {
            pl.os[pl.n] = os;
            hwloc_const_bitmap_t c = ng_topo_node_cpus(t, os);
            hwloc_bitmap_t a = hwloc_bitmap_alloc();
            if (c)
                hwloc_bitmap_and(a, c, p->allowed_cpus);
            pl.cpus[pl.n++] = hwloc_bitmap_weight(a);
            hwloc_bitmap_free(a);
        } hwloc_bitmap_foreach_end();
        /* Every GPU of the plan, once, on its node. */
        ng_buf seen = { 0 };
        for (int r = 0; r < p->nranks; r++)
            for (int g = 0; g < p->ranks[r].ngpus; g++) {
                const ng_accel *a = &p->ranks[r].gpus[g];
                if (seen.s && strstr(seen.s, a->busid))
                    continue;
                ng_buf_add(&seen, "%s ", a->busid);
                for (int i = 0; i < pl.n; i++)
                    if (a->locality == NG_LOC_KNOWN && hwloc_bitmap_isset(a->nodes, pl.os[i])) {
                        pl.gpus[i]++;
                        break;
                    }
            }
        free(ng_buf_take(&seen));
        int same = 0, admitted = 0;
        ng_buf_add(&b, "  %-17s", policy_names[pol]);
        for (int r = 0; r < p->nranks; r++) {
            const ng_rank_plan *rp = &p->ranks[r];
            int ncpus = hwloc_bitmap_weight(rp->cpus), pref = 0;
            unsigned m = merge(&pl, rp->ngpus, ncpus > 0 ? ncpus : 0, &pref);
            int ok = pol == 0 ? 1 : pol == 1 ? (m && pref) : (m && pref && popcount(m) == 1);
            if (!ok) {
                ng_buf_add(&b, " r%d:rejected", r);
                continue;
            }
            admitted++;
            if (!m) {
                ng_buf_add(&b, " r%d:any", r);
                continue;
            }
            take(pl.gpus, pl.n, m, rp->ngpus);
            take(pl.cpus, pl.n, m, ncpus);
            hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
            for (int i = 0; i < pl.n; i++)
                if (m & (1u << i))
                    hwloc_bitmap_set(nodes, pl.os[i]);
            char nb[256];
            same += popcount(m) == 1;
            ng_buf_add(&b, " r%d:%s", r, ng_list_str(nodes, nb, sizeof(nb)));
            hwloc_bitmap_free(nodes);
        }
        ng_buf_add(&b, "  (%d of %d admitted, %d on one node)\n", admitted, p->nranks, same);
    }
    ng_buf_add(&b, "  %-17s", "numa-gpu");
    int local = 0;
    for (int r = 0; r < p->nranks; r++) {
        char nb[256];
        ng_buf_add(&b, " r%d:%s", r, ng_list_str(p->ranks[r].home, nb, sizeof(nb)));
        local += p->ranks[r].verdict == NG_V_LOCAL || p->ranks[r].verdict == NG_V_NOGPU;
    }
    ng_buf_add(&b, "  (%d of %d with their CPUs on their GPUs' nodes; kubelet picks the GPUs "
               "itself, numa-gpu places the ones Slurm gave)\n", local, p->nranks);
    return ng_buf_take(&b);
}
