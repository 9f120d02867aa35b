/* The planner: (topology, allowed cpus/mems, GPUs per rank, mode) -> per-rank
 * cpus, memory nodes, memory policy, verdict and reason. Pure: it reads only
 * its arguments, so every placement decision is unit-testable here.
 *
 * Rules, in order:
 *  1. A rank's home is the set of NUMA nodes with CPUs that its GPUs are local
 *     to (memory-only nodes never become a CPU home).
 *  2. A home with no allowed CPUs is replaced by the nearest allowed node
 *     (hwloc distances) -> verdict remote; a partly usable home -> partial;
 *     GPUs without locality -> unknown. strict refuses all three.
 *  3. Ranks without GPUs (or with unknown locality) spread evenly over the
 *     nodes no GPU rank uses, or over all nodes if none is left.
 *  4. Each node's allowed cores are split evenly between the ranks whose home
 *     includes it: whole cores first (SMT siblings only when ranks outnumber
 *     cores), a rank's share taken first under its GPU's nearest cache/group.
 *  5. Memory: home nodes within the allowed mems, policy from the mode.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/cpuopt.h"
#include "private/util.h"

static const char *const mode_names[] = { "off", "prefer", "strict", "interleave", "explain" };

int ng_mode_parse(const char *s, ng_mode *out)
{
    int i = ng_enum_parse(mode_names, NG_NAMES_N(mode_names), s);
    if (i >= 0)
        *out = (ng_mode)i;
    return i < 0 ? -1 : 0;
}

const char *ng_mode_name(ng_mode m)
{
    return ng_enum_name(mode_names, NG_NAMES_N(mode_names), (int)m);
}

const char *ng_mempol_name(ng_mempol p)
{
    static const char *n[] = { "none", "bind", "preferred", "interleave" };
    return (unsigned)p < 4 ? n[p] : "?";
}

const char *ng_verdict_name(ng_verdict v)
{
    static const char *n[] = { "local", "partial", "remote", "unknown", "nogpu", "overcommit" };
    return (unsigned)v < 6 ? n[v] : "?";
}

typedef struct {
    hwloc_obj_t obj;
    unsigned os;
    int has_cpus;          /* the node has CPUs at all (not memory-only) */
    hwloc_bitmap_t cpus;   /* its allowed PUs */
    int used;              /* some GPU rank calls it home */
} node_info;

typedef struct {
    const ng_topo *t;
    hwloc_topology_t h;
    hwloc_bitmap_t cpus, mems;   /* allowed */
    int nnodes;
    node_info *nodes;
    const ng_cpuopt *co;         /* the user's CPU requests; NULL none */
} ctx;

static node_info *node_by_os(ctx *c, unsigned os)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i].os == os)
            return &c->nodes[i];
    return NULL;
}

/* Nearest node among candidates to any node of from; -1 if none. */
static int nearest(ctx *c, hwloc_const_bitmap_t from, hwloc_const_bitmap_t cand,
                   unsigned *dist_out)
{
    int best = -1;
    unsigned bd = ~0u;
    int i, j;
    hwloc_bitmap_foreach_begin(j, cand) {
        unsigned d = ~0u;
        hwloc_bitmap_foreach_begin(i, from) {
            unsigned x = ng_topo_node_distance(c->t, (unsigned)i, (unsigned)j);
            if (x < d)
                d = x;
        } hwloc_bitmap_foreach_end();
        if (hwloc_bitmap_iszero(from))
            d = 0;
        if (d < bd) {
            bd = d;
            best = j;
        }
    } hwloc_bitmap_foreach_end();
    if (dist_out)
        *dist_out = bd;
    return best;
}

static void usable_nodes(ctx *c, hwloc_bitmap_t out)
{
    hwloc_bitmap_zero(out);
    for (int i = 0; i < c->nnodes; i++)
        if (!hwloc_bitmap_iszero(c->nodes[i].cpus))
            hwloc_bitmap_set(out, c->nodes[i].os);
}

static void append_reason(ng_rank_plan *rp, const char *fmt, const char *a,
                          const char *b)
{
    size_t off = strlen(rp->reason);
    snprintf(rp->reason + off, sizeof(rp->reason) - off, fmt, a, b);
}

/* Rules 1-2 for a rank with GPUs. Returns -1 on a GPU not in the topology. */
static int place_gpu_rank(ctx *c, ng_rank_plan *rp, const ng_rank_gpus *g,
                          char *err, size_t errlen)
{
    rp->ngpus = g->ngpus;
    rp->gpus = calloc((size_t)g->ngpus, sizeof(ng_accel));
    if (!rp->gpus)
        return ng_err(err, errlen, "out of memory");
    hwloc_bitmap_t want = hwloc_bitmap_alloc(), usable = hwloc_bitmap_alloc();
    int unknown = 0;
    char buf[256];
    for (int i = 0; i < g->ngpus; i++) {
        if (ng_accel_lookup(c->t, g->busids[i], &rp->gpus[i], err, errlen) < 0) {
            rp->ngpus = i;
            hwloc_bitmap_free(want);
            hwloc_bitmap_free(usable);
            return -1;
        }
        if (rp->gpus[i].locality == NG_LOC_UNKNOWN)
            unknown++;
        int n;
        hwloc_bitmap_foreach_begin(n, rp->gpus[i].nodes) {
            node_info *ni = node_by_os(c, (unsigned)n);
            if (ni && ni->has_cpus)
                hwloc_bitmap_set(want, (unsigned)n);
        } hwloc_bitmap_foreach_end();
    }
    usable_nodes(c, usable);
    hwloc_bitmap_t home = rp->home;
    hwloc_bitmap_and(home, want, usable);
    size_t off = 0;
    if (unknown == g->ngpus) {
        rp->verdict = NG_V_UNKNOWN;
        rp->infeasible = 1;
        snprintf(rp->reason, sizeof(rp->reason), "no PCI locality known for %s "
                 "(firmware gives none); placed like a rank without GPUs",
                 g->ngpus == 1 ? rp->gpus[0].busid : "its GPUs");
        hwloc_bitmap_zero(home);
    } else if (hwloc_bitmap_iszero(home)) {
        unsigned d;
        int n = nearest(c, want, usable, &d);
        rp->verdict = NG_V_REMOTE;
        rp->infeasible = 1;
        snprintf(rp->reason, sizeof(rp->reason), "GPU node(s) %s "
                                "have no allowed CPUs; nearest allowed node %d "
                                "(distance %u) instead; the scheduler gave this job cores "
                                "away from its GPU: gres.conf Cores= (numa-gpu gres-conf) "
                                "and --gres-flags=enforce-binding keep them together",
                                ng_list_str(want, buf, sizeof(buf)), n, d);
        if (n >= 0)
            hwloc_bitmap_set(home, (unsigned)n);
    } else {
        int partial = unknown > 0 || !hwloc_bitmap_isequal(home, want);
        rp->verdict = partial ? NG_V_PARTIAL : NG_V_LOCAL;
        rp->infeasible = partial;
        char hb[256];
        off += (size_t)snprintf(rp->reason, sizeof(rp->reason), "GPU%s%s local to "
                                "NUMA node %s", g->ngpus > 1 ? "s" : " ",
                                g->ngpus == 1 ? rp->gpus[0].busid : "",
                                ng_list_str(want, hb, sizeof(hb)));
        if (partial)
            snprintf(rp->reason + off, sizeof(rp->reason) - off, "; only node %s "
                     "usable%s", ng_list_str(home, buf, sizeof(buf)),
                     unknown ? ", some GPUs have no known locality" : "");
    }
    if (g->ngpus > 1 && rp->verdict != NG_V_UNKNOWN) {
        /* Name every GPU in the reason when there are several. */
        char list[256] = "";
        for (int i = 0; i < g->ngpus; i++) {
            size_t u = strlen(list);
            snprintf(list + u, sizeof(list) - u, "%s%s", i ? "," : "", rp->gpus[i].busid);
        }
        append_reason(rp, " [%s]%s", list, "");
    }
    hwloc_bitmap_free(want);
    hwloc_bitmap_free(usable);
    return 0;
}

/* Rule 3: CPU-only (and unknown-locality) ranks, spread evenly. -1 when
 * such ranks exist and no NUMA node has a usable CPU (a corrupt tree, or
 * every allowed CPU reserved by the admin's core policy). */
static int place_spread_ranks(ctx *c, ng_plan *p)
{
    hwloc_bitmap_t free_nodes = hwloc_bitmap_alloc();
    usable_nodes(c, free_nodes);
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i].used)
            hwloc_bitmap_clr(free_nodes, c->nodes[i].os);
    if (hwloc_bitmap_iszero(free_nodes))
        usable_nodes(c, free_nodes);
    int nfree = hwloc_bitmap_weight(free_nodes), count = 0, k = 0;
    for (int r = 0; r < p->nranks; r++)
        if (hwloc_bitmap_iszero(p->ranks[r].home))
            count++;
    if (count > 0 && nfree <= 0) {
        hwloc_bitmap_free(free_nodes);
        return -1;
    }
    /* In proportion to each node's usable PUs, in node order: node j takes
     * the ranks k with ceil(count * W<j / W) <= k < ceil(count * W<=j / W)
     * (equal nodes: k * nfree / count, as before weights counted). A
     * 2990WX's node 0 with 48 PUs takes three times node 2's share. */
    long wsum = 0;
    int n;
    hwloc_bitmap_foreach_begin(n, free_nodes) {
        node_info *ni = node_by_os(c, (unsigned)n);
        wsum += ni ? hwloc_bitmap_weight(ni->cpus) : 0;
    } hwloc_bitmap_foreach_end();
    n = -1;
    long wcum = 0, upto = 0;   /* ranks [0, upto) go to node n or earlier */
    for (int r = 0; r < p->nranks; r++) {
        ng_rank_plan *rp = &p->ranks[r];
        if (!hwloc_bitmap_iszero(rp->home))
            continue;
        while (k >= upto) {
            int next = hwloc_bitmap_next(free_nodes, n);
            if (next < 0)   /* cannot happen: the last node's bound is count */
                break;
            n = next;
            node_info *ni = node_by_os(c, (unsigned)n);
            wcum += ni ? hwloc_bitmap_weight(ni->cpus) : 0;
            upto = wsum > 0 ? (long)(((long long)count * wcum + wsum - 1) / wsum) : count;
        }
        k++;
        hwloc_bitmap_set(rp->home, (unsigned)n);
        if (rp->verdict == NG_V_NOGPU)
            snprintf(rp->reason, sizeof(rp->reason), "no GPUs; spread over NUMA "
                     "nodes: node %d", n);
    }
    hwloc_bitmap_free(free_nodes);
    return 0;
}

/* The allowed PUs of node ni grouped by core ("units"), in hwloc order.
 * Machines whose topology has no Core level use PUs as units. */
static int node_units(ctx *c, node_info *ni, hwloc_bitmap_t **units)
{
    hwloc_obj_type_t ut = hwloc_get_type_depth(c->h, HWLOC_OBJ_CORE) >= 0
        ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int max = hwloc_get_nbobjs_by_type(c->h, ut), n = 0;
    *units = calloc(max > 0 ? (size_t)max : 1, sizeof(hwloc_bitmap_t));
    if (!*units)
        return 0;
    hwloc_obj_t o = NULL;
    while ((o = hwloc_get_next_obj_by_type(c->h, ut, o))) {
        if (!hwloc_bitmap_intersects(o->cpuset, ni->cpus))
            continue;
        (*units)[n] = hwloc_bitmap_alloc();
        hwloc_bitmap_and((*units)[n], o->cpuset, ni->cpus);
        n++;
    }
    return n;
}

/* Rule 4 on one node: split its units among the sharing ranks. Returns 1 if
 * the ranks outnumber the node's PUs (they then share PUs). */
static int split_node(ctx *c, node_info *ni, ng_plan *p, int *sharers, int k,
                      int *smt)
{
    hwloc_bitmap_t *units;
    int nu = node_units(c, ni, &units), over = 0;
    int npu = hwloc_bitmap_weight(ni->cpus);
    if (k > nu) {
        /* More ranks than cores: SMT siblings become the units, core-major
         * so a rank's PUs stay on as few cores as possible. */
        *smt = 1;
        for (int u = 0; u < nu; u++)
            hwloc_bitmap_free(units[u]);
        free(units);
        units = calloc(npu > 0 ? (size_t)npu : 1, sizeof(hwloc_bitmap_t));
        nu = 0;
        hwloc_obj_t o = NULL;
        /* nu < npu: two PUs of a corrupt tree may claim one OS index */
        while (units && nu < npu && (o = hwloc_get_next_obj_by_type(c->h, HWLOC_OBJ_PU, o)))
            if (hwloc_bitmap_isset(ni->cpus, o->os_index))
                hwloc_bitmap_only(units[nu++] = hwloc_bitmap_alloc(), o->os_index);
    }
    if (!units)
        return 0;
    if (nu == 0) {
        /* A corrupt tree (an empty cache cpuset): CPUs without a core or PU
         * object. Share them whole rather than divide by zero. */
        free(units);
        for (int s = 0; s < k; s++)
            hwloc_bitmap_or(p->ranks[sharers[s]].cpus, p->ranks[sharers[s]].cpus, ni->cpus);
        return k > 1;
    }
    if (k > nu) {
        over = 1;
        for (int s = 0; s < k; s++)
            hwloc_bitmap_or(p->ranks[sharers[s]].cpus, p->ranks[sharers[s]].cpus,
                            units[s % nu]);
    } else {
        char *taken = calloc(nu > 0 ? (size_t)nu : 1, 1);
        int *quota = calloc(k > 0 ? (size_t)k : 1, sizeof(int));
        for (int s = 0; s < k; s++)
            quota[s] = nu / k + (s < nu % k);
        /* Pass 1: units under the rank's GPUs' nearest non-I/O ancestor,
         * when that is finer than the node (an L3, a Group). */
        for (int s = 0; s < k && taken && quota; s++) {
            ng_rank_plan *rp = &p->ranks[sharers[s]];
            hwloc_bitmap_t near = hwloc_bitmap_alloc();
            for (int g = 0; g < rp->ngpus; g++)
                if (rp->gpus[g].locality == NG_LOC_KNOWN)
                    hwloc_bitmap_or(near, near, rp->gpus[g].near_cpus);
            hwloc_bitmap_and(near, near, ni->cpus);
            if (!hwloc_bitmap_iszero(near) && !hwloc_bitmap_isequal(near, ni->cpus))
                for (int u = 0; u < nu && quota[s] > 0; u++)
                    if (!taken[u] && hwloc_bitmap_isincluded(units[u], near)) {
                        taken[u] = 1;
                        quota[s]--;
                        hwloc_bitmap_or(rp->cpus, rp->cpus, units[u]);
                    }
            hwloc_bitmap_free(near);
        }
        /* Pass 2: the rest, in topology order. */
        for (int s = 0, u = 0; s < k && taken && quota; s++)
            for (; quota[s] > 0 && u < nu; u++)
                if (!taken[u]) {
                    taken[u] = 1;
                    quota[s]--;
                    hwloc_bitmap_or(p->ranks[sharers[s]].cpus,
                                    p->ranks[sharers[s]].cpus, units[u]);
                }
        free(taken);
        free(quota);
    }
    for (int u = 0; u < nu; u++)
        hwloc_bitmap_free(units[u]);
    free(units);
    return over;
}

/* OMP_PLACES: one place per core of the rank ("{0,56},{1,57}"), the cores
 * of its home node(s) first: with fewer threads than places (a thread count
 * asked for, cpus=package) OMP_PROC_BIND=close keeps them next to the GPU.
 * A list longer than the field is "cores"; omp_threads counts every core. */
static void omp_places(ctx *c, ng_rank_plan *rp)
{
    size_t off = 0;
    int places = 0, full = 0;
    rp->omp_places[0] = '\0';
    hwloc_bitmap_t seen = hwloc_bitmap_alloc(), order[2] = { hwloc_bitmap_alloc(),
                                                            hwloc_bitmap_alloc() };
    int n;
    hwloc_bitmap_foreach_begin(n, rp->home) {
        node_info *ni = node_by_os(c, (unsigned)n);
        if (ni)
            hwloc_bitmap_or(order[0], order[0], ni->cpus);
    } hwloc_bitmap_foreach_end();
    hwloc_bitmap_and(order[0], order[0], rp->cpus);
    hwloc_bitmap_andnot(order[1], rp->cpus, order[0]);
    for (int pass = 0; pass < 2; pass++) {
        int pu;
        hwloc_bitmap_foreach_begin(pu, order[pass]) {
            if (hwloc_bitmap_isset(seen, (unsigned)pu))
                continue;
            hwloc_obj_t o = hwloc_get_pu_obj_by_os_index(c->h, (unsigned)pu);
            hwloc_obj_t core = o ? hwloc_get_ancestor_obj_by_type(c->h, HWLOC_OBJ_CORE, o)
                             : NULL;
            hwloc_bitmap_t place = hwloc_bitmap_alloc();
            if (core)
                hwloc_bitmap_and(place, core->cpuset, rp->cpus);
            else
                hwloc_bitmap_only(place, (unsigned)pu);
            hwloc_bitmap_or(seen, seen, place);
            /* OpenMP places list PUs explicitly: "{0,56}". */
            char lb[256];
            size_t w = 0;
            int x;
            lb[0] = '\0';
            hwloc_bitmap_foreach_begin(x, place) {
                if (w < sizeof(lb) - 12)
                    w += (size_t)snprintf(lb + w, sizeof(lb) - w, "%s%d", w ? "," : "", x);
            } hwloc_bitmap_foreach_end();
            hwloc_bitmap_free(place);
            places++;
            if (full)
                continue;
            int k = snprintf(rp->omp_places + off, sizeof(rp->omp_places) - off, "%s{%s}",
                             places > 1 ? "," : "", lb);
            if (k < 0 || (size_t)k >= sizeof(rp->omp_places) - off) {
                snprintf(rp->omp_places, sizeof(rp->omp_places), "cores");
                full = 1;
            } else {
                off += (size_t)k;
            }
        } hwloc_bitmap_foreach_end();
    }
    hwloc_bitmap_free(seen);
    hwloc_bitmap_free(order[0]);
    hwloc_bitmap_free(order[1]);
    rp->omp_threads = places;
}

/* At most k PUs of each core of the rank (the first ones, as Slurm takes
 * them for --hint=nomultithread); 1 when that removed some. */
static int smt_trim(ctx *c, ng_rank_plan *rp, int k)
{
    int ncores = hwloc_get_nbobjs_by_type(c->h, HWLOC_OBJ_CORE), trimmed = 0;
    if (ncores <= 0)
        return 0;
    int *seen = calloc((size_t)ncores, sizeof(int));
    hwloc_obj_t o = NULL;
    while (seen && (o = hwloc_get_next_obj_by_type(c->h, HWLOC_OBJ_PU, o))) {
        if (!hwloc_bitmap_isset(rp->cpus, o->os_index))
            continue;
        hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(c->h, HWLOC_OBJ_CORE, o);
        if (!core || core->logical_index >= (unsigned)ncores)
            continue;
        if (++seen[core->logical_index] > k) {
            hwloc_bitmap_clr(rp->cpus, o->os_index);
            trimmed = 1;
        }
    }
    free(seen);
    return trimmed;
}

/* cpus=package: the allowed cpus of each package that no rank holds are
 * shared, by whole cores in topology order, between the ranks whose home
 * is in that package (rank order). Memory and verdicts stay as they are. */
static void spread_package(ctx *c, ng_plan *p)
{
    hwloc_obj_t pk = NULL;
    hwloc_bitmap_t held = hwloc_bitmap_alloc(), idle = hwloc_bitmap_alloc();
    int *rk = malloc(sizeof(int) * (size_t)p->nranks);
    if (!held || !idle || !rk)
        goto out;
    for (int r = 0; r < p->nranks; r++)
        hwloc_bitmap_or(held, held, p->ranks[r].cpus);
    while ((pk = hwloc_get_next_obj_by_type(c->h, HWLOC_OBJ_PACKAGE, pk))) {
        hwloc_bitmap_and(idle, pk->cpuset, c->cpus);
        hwloc_bitmap_andnot(idle, idle, held);
        int k = 0;
        for (int r = 0; r < p->nranks; r++) {
            int n, in = 0;
            hwloc_bitmap_foreach_begin(n, p->ranks[r].home) {
                node_info *ni = node_by_os(c, (unsigned)n);
                if (ni && ni->has_cpus && hwloc_bitmap_isincluded(ni->obj->cpuset, pk->cpuset))
                    in = 1;
            } hwloc_bitmap_foreach_end();
            if (in)
                rk[k++] = r;
        }
        if (k == 0 || hwloc_bitmap_iszero(idle))
            continue;
        node_info whole = { .obj = pk, .os = pk->os_index, .has_cpus = 1, .cpus = idle };
        hwloc_bitmap_t *units;
        int nu = node_units(c, &whole, &units);
        char b[256];
        for (int s = 0, u = 0; s < k && units; s++) {
            ng_rank_plan *rp = &p->ranks[rk[s]];
            hwloc_bitmap_t got = hwloc_bitmap_alloc();
            for (int q = nu / k + (s < nu % k); q > 0 && u < nu; q--, u++)
                hwloc_bitmap_or(got, got, units[u]);
            if (!hwloc_bitmap_iszero(got)) {
                hwloc_bitmap_or(rp->cpus, rp->cpus, got);
                char pb[32];
                snprintf(pb, sizeof(pb), "%u", pk->logical_index);
                append_reason(rp, "; with package %s's idle cpus %s", pb,
                              ng_list_str(got, b, sizeof(b)));
            }
            hwloc_bitmap_free(got);
        }
        for (int u = 0; u < nu; u++)
            hwloc_bitmap_free(units[u]);
        free(units);
    }
out:
    free(rk);
    hwloc_bitmap_free(held);
    hwloc_bitmap_free(idle);
}

/* Rule 5 and the final wording. */
static void finish_rank(ctx *c, ng_plan *p, ng_rank_plan *rp)
{
    char cb[256], mb[256];
    hwloc_bitmap_and(rp->mems, rp->home, c->mems);
    if (!hwloc_bitmap_iszero(rp->mems) && !hwloc_bitmap_isequal(rp->mems, rp->home)) {
        /* Some of the home nodes' memory is outside the allowed mems. */
        if (rp->verdict == NG_V_LOCAL) {
            rp->verdict = NG_V_PARTIAL;
            rp->infeasible = 1;
        }
        hwloc_bitmap_t lost = hwloc_bitmap_alloc();
        hwloc_bitmap_andnot(lost, rp->home, rp->mems);
        append_reason(rp, "; memory of node %s not allowed%s",
                      ng_list_str(lost, cb, sizeof(cb)), "");
        hwloc_bitmap_free(lost);
    } else if (hwloc_bitmap_iszero(rp->mems)) {
        hwloc_bitmap_t cand = hwloc_bitmap_alloc(), with_cpus = hwloc_bitmap_alloc();
        for (int i = 0; i < c->nnodes; i++)
            if (c->nodes[i].has_cpus)
                hwloc_bitmap_set(with_cpus, c->nodes[i].os);
        hwloc_bitmap_and(cand, c->mems, with_cpus);
        if (hwloc_bitmap_iszero(cand))
            hwloc_bitmap_copy(cand, c->mems);
        int n = nearest(c, rp->home, cand, NULL);
        if (n >= 0)
            hwloc_bitmap_only(rp->mems, (unsigned)n);
        if (rp->verdict == NG_V_LOCAL) {
            rp->verdict = NG_V_PARTIAL;
            rp->infeasible = 1;
        }
        append_reason(rp, "; memory of node %s%s not allowed, using nearest allowed",
                      ng_list_str(rp->home, cb, sizeof(cb)), "");
        hwloc_bitmap_free(cand);
        hwloc_bitmap_free(with_cpus);
    }
    switch (p->mode) {
    case NG_MODE_STRICT: rp->policy = NG_POL_BIND; break;
    case NG_MODE_INTERLEAVE: rp->policy = NG_POL_INTERLEAVE; break;
    case NG_MODE_OFF: rp->policy = NG_POL_NONE; break;
    default: rp->policy = NG_POL_PREFERRED; break;
    }
    const ng_cpuopt *co = c->co;
    if (co && co->threads_per_core > 0 && smt_trim(c, rp, co->threads_per_core)) {
        char tb[160];
        if (co->threads_per_core == 1)
            snprintf(tb, sizeof(tb), "; one hardware thread per core (%s)", co->why);
        else
            snprintf(tb, sizeof(tb), "; at most %d hardware threads per core (%s)",
                     co->threads_per_core, co->why);
        append_reason(rp, "%s%s", tb, "");
    }
    omp_places(c, rp);
    if (co && co->cpus_per_task > 0) {
        /* The thread count the user asked for; the cpuset stays the node's. */
        char nb[64];
        snprintf(nb, sizeof(nb), "%d", co->cpus_per_task);
        append_reason(rp, "; %s OpenMP threads as asked (cpus per task), on all these "
                      "cores%s", nb, "");
        rp->omp_threads = co->cpus_per_task;
    }
    append_reason(rp, "; cpus %s, memory %s", ng_list_str(rp->cpus, cb, sizeof(cb)),
                  "");
    size_t off = strlen(rp->reason);
    snprintf(rp->reason + off, sizeof(rp->reason) - off, "%s %s",
             ng_mempol_name(rp->policy), ng_list_str(rp->mems, mb, sizeof(mb)));
    if (rp->infeasible && p->mode == NG_MODE_STRICT && p->ok) {
        p->ok = 0;
        snprintf(p->error, sizeof(p->error), "rank %d: %s (strict mode refuses; "
                 "prefer mode runs it on the nearest allowed node)",
                 rp->rank, rp->reason);
    } else if (rp->infeasible && p->mode != NG_MODE_STRICT) {
        off = strlen(rp->reason);
        snprintf(rp->reason + off, sizeof(rp->reason) - off, "; warning: not fully local");
    }
}

static int init_ctx(ctx *c, const ng_topo *t, hwloc_const_bitmap_t cpus,
                    hwloc_const_bitmap_t mems, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->h = ng_topo_hwloc(t);
    c->cpus = hwloc_bitmap_dup(ng_topo_allowed_cpus(t));
    c->mems = hwloc_bitmap_dup(ng_topo_allowed_mems(t));
    if (cpus)
        hwloc_bitmap_and(c->cpus, c->cpus, cpus);
    if (mems)
        hwloc_bitmap_and(c->mems, c->mems, mems);
    int nn = hwloc_get_nbobjs_by_type(c->h, HWLOC_OBJ_NUMANODE);
    c->nnodes = nn > 0 ? nn : 0;
    c->nodes = calloc((size_t)c->nnodes + 1, sizeof(node_info));
    if (!c->nodes)
        return ng_err(err, errlen, "out of memory");
    for (int i = 0; i < c->nnodes; i++) {
        node_info *ni = &c->nodes[i];
        ni->obj = hwloc_get_obj_by_type(c->h, HWLOC_OBJ_NUMANODE, (unsigned)i);
        ni->os = ni->obj->os_index;
        ni->has_cpus = hwloc_bitmap_isset(ng_topo_cpu_nodes(t), ni->os);
        ni->cpus = hwloc_bitmap_alloc();
        if (ni->has_cpus && ng_topo_node_cpus(t, ni->os))
            hwloc_bitmap_and(ni->cpus, ng_topo_node_cpus(t, ni->os), c->cpus);
    }
    char b[256];
    if (hwloc_bitmap_iszero(c->cpus))
        return ng_err(err, errlen, "no allowed CPUs in the topology (allowed cpus "
                      "'%s')", cpus ? ng_list_str(cpus, b, sizeof(b)) : "");
    if (hwloc_bitmap_iszero(c->mems))
        return ng_err(err, errlen, "no allowed memory node in the topology (allowed "
                      "mems '%s')", mems ? ng_list_str(mems, b, sizeof(b)) : "");
    return 0;
}

static void free_ctx(ctx *c)
{
    for (int i = 0; i < c->nnodes && c->nodes; i++)
        hwloc_bitmap_free(c->nodes[i].cpus);
    free(c->nodes);
    hwloc_bitmap_free(c->cpus);
    hwloc_bitmap_free(c->mems);
}

static int plan_nics(const ng_topo *t, ng_plan *p, char *err, size_t errlen);

int ng_reserve_parse(const char *s, ng_reserve *out)
{
    if (!strcmp(s, "off"))
        *out = NG_RESERVE_OFF;
    else if (!strcmp(s, "l3"))
        *out = NG_RESERVE_L3;
    else if (!strcmp(s, "numa"))
        *out = NG_RESERVE_NUMA;
    else
        return -1;
    return 0;
}

const char *ng_reserve_name(ng_reserve r)
{
    return r == NG_RESERVE_L3 ? "l3" : r == NG_RESERVE_NUMA ? "numa" : "off";
}

/* The first core (all its PUs) of each L3 or NUMA node, within cpus. */
static void first_cores(const ng_topo *t, ng_reserve r, hwloc_const_bitmap_t cpus,
                        hwloc_bitmap_t out)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    hwloc_obj_type_t ty = r == NG_RESERVE_L3 ? HWLOC_OBJ_L3CACHE : HWLOC_OBJ_NUMANODE;
    hwloc_obj_type_t unit = hwloc_get_type_depth(h, HWLOC_OBJ_CORE) >= 0 ? HWLOC_OBJ_CORE
                          : HWLOC_OBJ_PU;
    hwloc_obj_t o = NULL;
    while ((o = hwloc_get_next_obj_by_type(h, ty, o))) {
        hwloc_const_bitmap_t set = ty == HWLOC_OBJ_NUMANODE && ng_topo_node_cpus(t, o->os_index)
                                 ? ng_topo_node_cpus(t, o->os_index) : o->cpuset;
        if (!set || hwloc_bitmap_iszero(set))
            continue;
        hwloc_obj_t core = hwloc_get_next_obj_inside_cpuset_by_type(h, set, unit, NULL);
        if (core && hwloc_bitmap_intersects(core->cpuset, cpus))
            hwloc_bitmap_or(out, out, core->cpuset);
    }
    hwloc_bitmap_and(out, out, cpus);
}

/* Take the policy's cores out of c->cpus, saying what was done. */
static void apply_policy(const ng_topo *t, ctx *c, const ng_plan_policy *pol, ng_plan *p)
{
    char b1[1024], b2[1024], b3[1024];
    size_t u = 0;
    p->reserved = hwloc_bitmap_alloc();
    if (!pol || !p->reserved)
        return;
    hwloc_bitmap_t iso = hwloc_bitmap_alloc(), first = hwloc_bitmap_alloc();
    if (pol->isolated)
        hwloc_bitmap_and(iso, pol->isolated, c->cpus);
    if (pol->reserve_first_core_per != NG_RESERVE_OFF)
        first_cores(t, pol->reserve_first_core_per, c->cpus, first);
    if (!hwloc_bitmap_iszero(first))
        u += (size_t)snprintf(p->policy_note + u, sizeof(p->policy_note) - u,
                              "first core of each %s kept free (reserve_first_core_per=%s): "
                              "cpus %s", pol->reserve_first_core_per == NG_RESERVE_L3 ? "L3"
                              : "NUMA node", ng_reserve_name(pol->reserve_first_core_per),
                              ng_list_str(first, b1, sizeof(b1)));
    else if (pol->reserve_first_core_per == NG_RESERVE_L3 &&
             hwloc_get_nbobjs_by_type(c->h, HWLOC_OBJ_L3CACHE) == 0)
        u += (size_t)snprintf(p->policy_note + u, sizeof(p->policy_note) - u,
                              "reserve_first_core_per=l3: this topology shows no L3, "
                              "nothing reserved");
    if (!hwloc_bitmap_iszero(iso) && u < sizeof(p->policy_note))
        u += (size_t)snprintf(p->policy_note + u, sizeof(p->policy_note) - u,
                              "%sisolated cpus %s %s", u ? "; " : "",
                              ng_list_str(iso, b2, sizeof(b2)), pol->use_isolated
                              ? "used (isolated=use)" : "avoided (isolated=avoid)");
    if (pol->nohz_full && hwloc_bitmap_intersects(pol->nohz_full, c->cpus) &&
        u < sizeof(p->policy_note)) {
        hwloc_bitmap_t nz = hwloc_bitmap_alloc();
        hwloc_bitmap_and(nz, pol->nohz_full, c->cpus);
        u += (size_t)snprintf(p->policy_note + u, sizeof(p->policy_note) - u,
                              "%snohz_full cpus %s stay usable (one busy thread each)",
                              u ? "; " : "", ng_list_str(nz, b3, sizeof(b3)));
        hwloc_bitmap_free(nz);
    }
    hwloc_bitmap_or(p->reserved, first, pol->use_isolated ? first : iso);
    hwloc_bitmap_t left = hwloc_bitmap_alloc();
    hwloc_bitmap_andnot(left, c->cpus, p->reserved);
    if (hwloc_bitmap_iszero(left) && !hwloc_bitmap_iszero(p->reserved)) {
        if (u < sizeof(p->policy_note))
            snprintf(p->policy_note + u, sizeof(p->policy_note) - u, "%severy allowed cpu is "
                     "reserved or isolated: using them", u ? "; " : "");
        hwloc_bitmap_zero(p->reserved);
    } else if (!hwloc_bitmap_iszero(p->reserved)) {
        hwloc_bitmap_copy(c->cpus, left);
        for (int i = 0; i < c->nnodes; i++)
            hwloc_bitmap_andnot(c->nodes[i].cpus, c->nodes[i].cpus, p->reserved);
    }
    hwloc_bitmap_free(left);
    hwloc_bitmap_free(iso);
    hwloc_bitmap_free(first);
}

int ng_plan_compute(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                    hwloc_const_bitmap_t allowed_mems, int nranks,
                    const ng_rank_gpus *gpus, ng_mode mode, ng_plan *p,
                    char *err, size_t errlen)
{
    return ng_plan_compute_policy(t, allowed_cpus, allowed_mems, nranks, gpus, mode, NULL, p,
                                  err, errlen);
}

int ng_plan_compute_policy(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                           hwloc_const_bitmap_t allowed_mems, int nranks,
                           const ng_rank_gpus *gpus, ng_mode mode, const ng_plan_policy *pol,
                           ng_plan *p, char *err, size_t errlen)
{
    return ng_plan_compute_cpuopt(t, allowed_cpus, allowed_mems, nranks, gpus, mode, pol, NULL,
                                  p, err, errlen);
}

int ng_plan_compute_cpuopt(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                           hwloc_const_bitmap_t allowed_mems, int nranks,
                           const ng_rank_gpus *gpus, ng_mode mode, const ng_plan_policy *pol,
                           const ng_cpuopt *co, ng_plan *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (nranks < 1 || nranks > 65536)
        return ng_err(err, errlen, "number of ranks %d out of range (1..65536)", nranks);
    ctx c;
    if (init_ctx(&c, t, allowed_cpus, allowed_mems, err, errlen) < 0) {
        free_ctx(&c);
        return -1;
    }
    apply_policy(t, &c, pol, p);
    c.co = co;
    p->mode = mode;
    p->ok = 1;
    p->allowed_cpus = hwloc_bitmap_dup(c.cpus);
    p->allowed_mems = hwloc_bitmap_dup(c.mems);
    p->nranks = nranks;
    p->ranks = calloc((size_t)nranks, sizeof(ng_rank_plan));
    int rc = p->ranks ? 0 : ng_err(err, errlen, "out of memory");
    for (int r = 0; r < nranks && rc == 0; r++) {
        ng_rank_plan *rp = &p->ranks[r];
        rp->rank = r;
        rp->home = hwloc_bitmap_alloc();
        rp->cpus = hwloc_bitmap_alloc();
        rp->mems = hwloc_bitmap_alloc();
        if (gpus && gpus[r].ngpus > 0)
            rc = place_gpu_rank(&c, rp, &gpus[r], err, errlen);
        else
            rp->verdict = NG_V_NOGPU;
        int n;
        hwloc_bitmap_foreach_begin(n, rp->home) {
            node_by_os(&c, (unsigned)n)->used = 1;
        } hwloc_bitmap_foreach_end();
    }
    if (rc == 0 && place_spread_ranks(&c, p) < 0) {
        char cb[256];
        rc = ng_err(err, errlen, "no NUMA node has a usable CPU (allowed cpus %s, after the "
                    "core policy): nowhere to place a rank", ng_list_str(c.cpus, cb, sizeof(cb)));
    }
    if (rc == 0) {
        int *sharers = malloc(sizeof(int) * (size_t)nranks);
        for (int i = 0; i < c.nnodes && sharers; i++) {
            int k = 0, smt = 0;
            for (int r = 0; r < nranks; r++)
                if (hwloc_bitmap_isset(p->ranks[r].home, c.nodes[i].os))
                    sharers[k++] = r;
            if (k == 0 || split_node(&c, &c.nodes[i], p, sharers, k, &smt) == 0) {
                for (int s = 0; s < k && smt; s++)
                    append_reason(&p->ranks[sharers[s]], "; %s ranks share node's "
                                  "cores (SMT siblings split)%s", "more", "");
                continue;
            }
            for (int s = 0; s < k; s++) {
                ng_rank_plan *rp = &p->ranks[sharers[s]];
                rp->verdict = NG_V_OVERCOMMIT;
                rp->infeasible = 1;
                append_reason(rp, "; %s ranks than allowed CPUs on this node: "
                              "ranks share CPUs%s", "more", "");
            }
        }
        free(sharers);
        if (co && co->scope == NG_SCOPE_PACKAGE)
            spread_package(&c, p);
        for (int r = 0; r < nranks; r++)
            finish_rank(&c, p, &p->ranks[r]);
        rc = plan_nics(t, p, err, errlen);
    }
    free_ctx(&c);
    if (rc < 0)
        ng_plan_free(p);
    return rc;
}

/* Each rank's nearest NICs (a function of the topology and its GPUs). */
static int plan_nics(const ng_topo *t, ng_plan *p, char *err, size_t errlen)
{
    ng_nic *nics;
    int n;
    if (ng_nic_list(t, &nics, &n) < 0)
        return ng_err(err, errlen, "out of memory");
    for (int r = 0; r < p->nranks; r++) {
        ng_rank_plan *rp = &p->ranks[r];
        if (ng_nics_near(t, nics, n, rp->gpus, rp->ngpus, rp->home, &rp->nics, &rp->nnics) < 0) {
            ng_nic_list_free(nics, n);
            return ng_err(err, errlen, "out of memory");
        }
    }
    ng_nic_list_free(nics, n);
    return 0;
}

void ng_plan_free(ng_plan *p)
{
    for (int r = 0; p->ranks && r < p->nranks; r++) {
        ng_rank_plan *rp = &p->ranks[r];
        hwloc_bitmap_free(rp->home);
        hwloc_bitmap_free(rp->cpus);
        hwloc_bitmap_free(rp->mems);
        for (int g = 0; g < rp->ngpus; g++)
            ng_accel_clear(&rp->gpus[g]);
        free(rp->gpus);
        free(rp->nics);
    }
    free(p->ranks);
    hwloc_bitmap_free(p->allowed_cpus);
    hwloc_bitmap_free(p->allowed_mems);
    hwloc_bitmap_free(p->reserved);
    memset(p, 0, sizeof(*p));
}

static const char *const memopt_names[] = { "local", "interleave", "tiered", "hbm" };

int ng_memopt_parse(const char *s, ng_memopt *out)
{
    int i = ng_enum_parse(memopt_names, NG_NAMES_N(memopt_names), s);
    if (i >= 0)
        *out = (ng_memopt)i;
    return i < 0 ? -1 : 0;
}

const char *ng_memopt_name(ng_memopt m)
{
    return ng_enum_name(memopt_names, NG_NAMES_N(memopt_names), (int)m);
}

/* Memory placement beyond "local DDR": interleave over the rank's nodes,
 * tiered (preferred-many: local DDR, then its nearest memory-only node) or
 * hbm (the nearest HBM/MCDRAM node). A tier that does not exist here is an
 * error naming what the machine has. */
int ng_plan_memory(const ng_topo *t, ng_plan *p, ng_memopt m, char *err, size_t errlen)
{
    p->mem = m;
    if (m == NG_MEM_LOCAL)
        return 0;
    for (int r = 0; r < p->nranks; r++) {
        ng_rank_plan *rp = &p->ranks[r];
        char hb[256], mb[256];
        if (rp->policy == NG_POL_NONE)
            continue;
        if (m == NG_MEM_INTERLEAVE) {
            rp->policy = NG_POL_INTERLEAVE;
            append_reason(rp, "; memory interleaved over %s%s", ng_list_str(rp->mems, mb, sizeof(mb)), "");
            continue;
        }
        int far = ng_topo_nearest_memory_only(t, rp->mems, p->allowed_mems,
                                              m == NG_MEM_HBM ? "hbm" : NULL);
        if (far < 0) {
            ng_buf b = { 0 };
            hwloc_obj_t n = NULL;
            while ((n = hwloc_get_next_obj_by_type(ng_topo_hwloc(t), HWLOC_OBJ_NUMANODE, n)))
                if (!hwloc_bitmap_isset(ng_topo_cpu_nodes(t), n->os_index))
                    ng_buf_add(&b, "%s%u (%s%s)", b.len ? ", " : "", n->os_index,
                               ng_topo_node_tier(t, n->os_index, NULL),
                               hwloc_bitmap_isset(p->allowed_mems, n->os_index) ? "" : ", not allowed");
            char *have = ng_buf_take(&b);
            ng_err(err, errlen, "memory policy %s: no %s node usable near node %s (memory-only "
                   "nodes here: %s)", ng_memopt_name(m), m == NG_MEM_HBM ? "HBM" : "memory-only",
                   ng_list_str(rp->mems, mb, sizeof(mb)), *have ? have : "none");
            free(have);
            return -1;
        }
        if (m == NG_MEM_TIERED) {
            hwloc_bitmap_set(rp->mems, (unsigned)far);
            rp->policy = NG_POL_PREFERRED;
        } else {
            hwloc_bitmap_only(rp->mems, (unsigned)far);
            rp->policy = p->mode == NG_MODE_STRICT ? NG_POL_BIND : NG_POL_PREFERRED;
        }
        snprintf(hb, sizeof(hb), "%d", far);
        append_reason(rp, m == NG_MEM_TIERED ? "; memory tiered: local DDR first, then %s node %s"
                                             : "; memory on the %s node %s",
                      ng_topo_node_tier(t, (unsigned)far, NULL), hb);
    }
    return 0;
}
