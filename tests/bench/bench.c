/* bench: the measurements behind `make bench` that need no cluster.
 *   bench load FILE...          median topology load time per file (ms)
 *   bench plan FILE MAXRANKS    median plan time for 1,2,4..MAXRANKS ranks (us)
 *   bench quality XML...        fraction of ranks on their GPU's node:
 *                               numa-gpu vs Slurm block vs GPU-blind spread
 *   bench slurm XML...          the same against Slurm's best configurations
 *                               (lib/assign.c's rules per binding and release)
 * Output: one tab-separated record per line, for tests/bench/run.sh. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "numagpu.h"
#include "private/assign.h"
#include "private/audit.h"
#include "private/step.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return v[n / 2];
}

static int cmd_load(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *f = strcmp(argv[i], "live") ? argv[i] : NULL;
        double t[15];
        char err[NG_ERRLEN];
        for (int k = 0; k < 15; k++) {
            double t0 = now_us();
            ng_topo *tp = ng_topo_load(f, err, sizeof(err));
            t[k] = now_us() - t0;
            if (!tp) {
                fprintf(stderr, "bench: %s\n", err);
                return 1;
            }
            ng_topo_free(tp);
        }
        printf("load\t%s\t%.3f\n", f ? f : "live", median(t, 15) / 1000.0);
    }
    return 0;
}

static void gpu_ranks(ng_topo *t, int n, ng_rank_gpus *g, ng_accel **v, int *ng)
{
    ng_accel_list(t, v, ng);
    for (int r = 0; r < n; r++) {
        g[r].ngpus = *ng ? 1 : 0;
        g[r].busids = *ng ? malloc(NG_BUSID_LEN) : NULL;
        if (*ng)
            memcpy(g[r].busids[0], (*v)[r % *ng].busid, NG_BUSID_LEN);
    }
}

static int cmd_plan(const char *file, int maxr)
{
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(file, err, sizeof(err));
    if (!t) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    hwloc_topology_t h = ng_topo_hwloc(t);
    for (int n = 1; n <= maxr; n *= 2) {
        ng_rank_gpus *g = calloc((size_t)n, sizeof(*g));
        ng_accel *v;
        int ng;
        gpu_ranks(t, n, g, &v, &ng);
        int iters = n <= 16 ? 201 : 41;
        double *tm = malloc(sizeof(double) * (size_t)iters);
        for (int k = 0; k < iters; k++) {
            ng_plan p;
            double t0 = now_us();
            if (ng_plan_compute(t, NULL, NULL, n, g, NG_MODE_PREFER, &p, err, sizeof(err)) < 0) {
                fprintf(stderr, "bench: %s\n", err);
                return 1;
            }
            tm[k] = now_us() - t0;
            ng_plan_free(&p);
        }
        printf("plan\t%s\t%d\t%d\t%d\t%d\t%.2f\n", file, hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU),
               hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE), ng, n, median(tm, iters));
        free(tm);
        for (int r = 0; r < n; r++)
            free(g[r].busids);
        free(g);
        ng_accel_list_free(v, ng);
    }
    ng_topo_free(t);
    return 0;
}

/* CPUs of the NUMA nodes in set. */
static void nodes_cpus(ng_topo *t, hwloc_const_bitmap_t nodes, hwloc_bitmap_t out)
{
    hwloc_bitmap_zero(out);
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(ng_topo_hwloc(t), HWLOC_OBJ_NUMANODE, n)))
        if (hwloc_bitmap_isset(nodes, n->os_index) && hwloc_bitmap_isset(ng_topo_cpu_nodes(t), n->os_index))
            hwloc_bitmap_or(out, out, n->cpuset);
}

/* Memory node(s) first touch gives a rank running on cpus: their CPU nodes. */
static void touch_nodes(ng_topo *t, hwloc_const_bitmap_t cpus, hwloc_bitmap_t out)
{
    hwloc_bitmap_zero(out);
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(ng_topo_hwloc(t), HWLOC_OBJ_NUMANODE, n)))
        if (hwloc_bitmap_isset(ng_topo_cpu_nodes(t), n->os_index) && hwloc_bitmap_intersects(n->cpuset, cpus))
            hwloc_bitmap_set(out, n->os_index);
}

static int on_gpu_node(ng_topo *t, hwloc_const_bitmap_t gpu_nodes, hwloc_const_bitmap_t cpus,
                       hwloc_const_bitmap_t mems)
{
    hwloc_bitmap_t gc = hwloc_bitmap_alloc();
    nodes_cpus(t, gpu_nodes, gc);
    int ok = !hwloc_bitmap_iszero(cpus) && hwloc_bitmap_isincluded(cpus, gc) &&
             !hwloc_bitmap_iszero(mems) && hwloc_bitmap_isincluded(mems, gpu_nodes);
    hwloc_bitmap_free(gc);
    return ok;
}

/* The allowed cores, in Slurm's (topology) order (malloc'ed). */
static hwloc_obj_t *allowed_cores(const ng_topo *t, int *n)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    int maxc = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
    hwloc_obj_t *cores = calloc((size_t)maxc + 1, sizeof(*cores));
    *n = 0;
    for (hwloc_obj_t c = NULL; cores && (c = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, c));)
        if (hwloc_bitmap_intersects(c->cpuset, ng_topo_allowed_cpus(t)))
            cores[(*n)++] = c;
    return cores;
}

static int cmd_quality(int argc, char **argv)
{
    long tot = 0, good[3] = { 0, 0, 0 };
    for (int f = 0; f < argc; f++) {
        char err[NG_ERRLEN];
        ng_topo *t = ng_topo_load(argv[f], err, sizeof(err));
        if (!t)
            continue;
        ng_accel *v;
        int ng;
        ng_accel_list(t, &v, &ng);
        hwloc_const_bitmap_t allowed = ng_topo_allowed_cpus(t);
        int ncores;
        hwloc_obj_t *cores = allowed_cores(t, &ncores);
        int nnodes = ng_topo_cpu_node_count(t);
        long ftot = 0, fgood[3] = { 0, 0, 0 };
        for (int n = 1; ng && n <= 2 * ng; n++) {
            ng_rank_gpus *g = calloc((size_t)n, sizeof(*g));
            ng_accel *vv;
            int ng2;
            gpu_ranks(t, n, g, &vv, &ng2);
            ng_plan p;
            if (ng_plan_compute(t, NULL, NULL, n, g, NG_MODE_PREFER, &p, err, sizeof(err)) == 0) {
                for (int r = 0; r < n; r++) {
                    ng_accel *a = &p.ranks[r].gpus[0];
                    hwloc_bitmap_t gn = hwloc_bitmap_dup(a->nodes), gc = hwloc_bitmap_alloc();
                    hwloc_bitmap_and(gn, gn, ng_topo_cpu_nodes(t));
                    nodes_cpus(t, gn, gc);
                    /* Feasible: locality known and the GPU node has allowed CPUs and mems. */
                    int feasible = a->locality == NG_LOC_KNOWN && hwloc_bitmap_intersects(gc, allowed) &&
                                   hwloc_bitmap_isincluded(gn, ng_topo_allowed_mems(t));
                    if (feasible && ncores >= n) {
                        ftot++;
                        /* (a) numa-gpu */
                        fgood[0] += on_gpu_node(t, gn, p.ranks[r].cpus, p.ranks[r].mems);
                        /* (b) Slurm block: consecutive cores, memory by first touch */
                        hwloc_bitmap_t bc = hwloc_bitmap_alloc(), bm = hwloc_bitmap_alloc();
                        int per = ncores / n;
                        for (int c = r * per; c < (r + 1) * per && c < ncores; c++)
                            hwloc_bitmap_or(bc, bc, cores[c]->cpuset);
                        hwloc_bitmap_and(bc, bc, allowed);
                        touch_nodes(t, bc, bm);
                        fgood[1] += on_gpu_node(t, gn, bc, bm);
                        /* (c) GPU-blind round robin over NUMA nodes */
                        int want = r % nnodes, k = 0, i;
                        hwloc_bitmap_zero(bm);
                        hwloc_bitmap_foreach_begin(i, ng_topo_cpu_nodes(t)) {
                            if (k++ == want)
                                hwloc_bitmap_set(bm, (unsigned)i);
                        } hwloc_bitmap_foreach_end();
                        nodes_cpus(t, bm, bc);
                        hwloc_bitmap_and(bc, bc, allowed);
                        fgood[2] += on_gpu_node(t, gn, bc, bm);
                        hwloc_bitmap_free(bc);
                        hwloc_bitmap_free(bm);
                    }
                    hwloc_bitmap_free(gn);
                    hwloc_bitmap_free(gc);
                }
                ng_plan_free(&p);
            }
            for (int r = 0; r < n; r++)
                free(g[r].busids);
            free(g);
            ng_accel_list_free(vv, ng2);
        }
        if (ftot)
            printf("quality\t%s\t%ld\t%ld\t%ld\t%ld\n", argv[f], ftot, fgood[0], fgood[1], fgood[2]);
        tot += ftot;
        for (int i = 0; i < 3; i++)
            good[i] += fgood[i];
        free(cores);
        ng_accel_list_free(v, ng);
        ng_topo_free(t);
    }
    printf("quality\tALL\t%ld\t%ld\t%ld\t%ld\n", tot, good[0], good[1], good[2]);
    return 0;
}

/* Slurm's best against numa-gpu. The node's GPUs all in the step (an
 * exclusive node), n = 1..2xGPUs tasks on consecutive cores (block,
 * --cpu-bind=cores), memory local to the task's cpus (--mem-bind=local).
 * Which GPU(s) a task has is Slurm's rule as lib/assign.c models it (GRES
 * index = PCI order). A task counts when its cpus and memory are all on its
 * GPUs' node(s). Columns:
 *   0 numa-gpu: the GPUs of column 1, cpus and memory as the planner says
 *   1 --gpu-bind=closest, gres.conf Cores= per NUMA node (numa_node_as_socket)
 *   2 --gpu-bind=closest, Cores= per socket (no numa_node_as_socket)
 *   3 --gpus-per-task=1 (per_task:1), Cores= per NUMA node, 23.11+ rules
 *   4 the same on 23.02 rules (index order)
 * Columns 3-4 need n <= GPUs; the record counts their tasks apart. */
#define SLURM_COLS 5
/* The GPUs task r uses, as positions [from, from + cnt) of its list: all
 * of them, or, when other tasks see some of the same GPUs (no per-task
 * binding, closest on a node shared by several tasks), its home chunk as
 * the application picks it (cuda:LOCAL_RANK, local_rank % count): the
 * convention numa-gpu places by too (ng_home_chunk), so both columns
 * count the same GPU. */
static void used_of(const ng_assignment *a, int r, int *from, int *cnt)
{
    int shared = 0;
    for (int o = 0; o < a->ntasks && !shared; o++)
        for (int i = 0; o != r && i < a->n[o] && !shared; i++)
            for (int j = 0; j < a->n[r] && !shared; j++)
                shared = a->gres[o][i] == a->gres[r][j];
    *from = 0;
    *cnt = a->n[r];
    if (shared && a->n[r] > 1)
        ng_home_chunk(r, a->ntasks, a->n[r], from, cnt);
}

static int cmd_slurm(int argc, char **argv)
{
    long tot = 0, good[SLURM_COLS] = { 0 }, tot_pt = 0;
    for (int f = 0; f < argc; f++) {
        char err[NG_ERRLEN];
        ng_topo *t = ng_topo_load(argv[f], err, sizeof(err));
        if (!t)
            continue;
        ng_accel *v;
        int ng;
        ng_accel_list(t, &v, &ng);
        hwloc_topology_t h = ng_topo_hwloc(t);
        hwloc_const_bitmap_t allowed = ng_topo_allowed_cpus(t);
        int ncores, known = ng > 0;
        hwloc_obj_t *cores = allowed_cores(t, &ncores);
        /* Cores= per GPU: its NUMA node(s), or its package(s). */
        unsigned *idx = calloc((size_t)ng + 1, sizeof(unsigned));
        hwloc_bitmap_t *numa = calloc((size_t)ng + 1, sizeof(*numa));
        hwloc_bitmap_t *sock = calloc((size_t)ng + 1, sizeof(*sock));
        for (int g = 0; g < ng; g++) {
            idx[g] = (unsigned)g;
            numa[g] = hwloc_bitmap_alloc();
            sock[g] = hwloc_bitmap_alloc();
            nodes_cpus(t, v[g].nodes, numa[g]);
            /* Only machines where every GPU's node can be used (as quality's
             * "feasible"): otherwise nobody can be right and the row says nothing. */
            hwloc_bitmap_t gm = hwloc_bitmap_dup(v[g].nodes);
            hwloc_bitmap_and(gm, gm, ng_topo_cpu_nodes(t));
            known &= v[g].locality == NG_LOC_KNOWN && hwloc_bitmap_intersects(numa[g], allowed) &&
                     hwloc_bitmap_isincluded(gm, ng_topo_allowed_mems(t));
            hwloc_bitmap_free(gm);
            int n;
            hwloc_bitmap_foreach_begin(n, v[g].nodes) {
                hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(h, (unsigned)n);
                hwloc_obj_t pk = o ? hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, o) : NULL;
                hwloc_bitmap_or(sock[g], sock[g], pk ? pk->cpuset : numa[g]);
            } hwloc_bitmap_foreach_end();
        }
        long ftot = 0, fgood[SLURM_COLS] = { 0 }, fpt = 0;
        for (int n = 1; known && n <= 2 * ng && ncores >= n; n++) {
            hwloc_bitmap_t *tc = calloc((size_t)n, sizeof(*tc)), *tm = calloc((size_t)n, sizeof(*tm));
            int per = ncores / n;
            for (int r = 0; r < n; r++) {
                tc[r] = hwloc_bitmap_alloc();
                tm[r] = hwloc_bitmap_alloc();
                for (int c = r * per; c < (r + 1) * per && c < ncores; c++)
                    hwloc_bitmap_or(tc[r], tc[r], cores[c]->cpuset);
                hwloc_bitmap_and(tc[r], tc[r], allowed);
                touch_nodes(t, tc[r], tm[r]);
            }
            struct { const char *bind; hwloc_bitmap_t *gc; unsigned rel; } mode[4] = {
                { "gres/gpu:closest", numa, 0 }, { "gres/gpu:closest", sock, 0 },
                { "gres/gpu:per_task:1", numa, 0 }, { "gres/gpu:per_task:1", numa, NG_RELEASE(23, 2, 8) } };
            ng_assignment a[4];
            int have[4];
            for (int m = 0; m < 4; m++) {
                ng_assign_in in = { .ngres = ng, .gres = idx, .ntasks = n, .bind = mode[m].bind,
                                    .task_cpus = (hwloc_const_bitmap_t const *)tc,
                                    .gres_cpus = (hwloc_const_bitmap_t const *)mode[m].gc,
                                    .ngres_cpus = ng, .release = mode[m].rel };
                have[m] = (m < 2 || n <= ng) && ng_assign(&in, &a[m], err, sizeof(err)) == 0 &&
                          !a[m].unknown;
            }
            /* numa-gpu: the GPUs closest gives (column 1's), placed by the planner */
            ng_rank_gpus *rg = calloc((size_t)n, sizeof(*rg));
            for (int r = 0; have[0] && r < n; r++) {
                int from, cnt;
                used_of(&a[0], r, &from, &cnt);
                rg[r].ngpus = cnt;
                rg[r].busids = calloc((size_t)cnt + 1, NG_BUSID_LEN);
                for (int j = 0; j < cnt; j++)
                    memcpy(rg[r].busids[j], v[a[0].gres[r][from + j]].busid, NG_BUSID_LEN);
            }
            ng_plan p;
            int planned = have[0] && ng_plan_compute(t, NULL, NULL, n, rg, NG_MODE_PREFER, &p, err,
                                                     sizeof(err)) == 0;
            for (int r = 0; planned && r < n; r++) {
                ftot++;
                fpt += n <= ng;
                for (int m = 0; m < SLURM_COLS; m++) {
                    ng_assignment *am = &a[m ? m - 1 : 0];
                    if (m && !have[m - 1])
                        continue;
                    hwloc_bitmap_t gn = hwloc_bitmap_alloc();
                    int from, cnt;
                    used_of(am, r, &from, &cnt);
                    for (int j = from; j < from + cnt; j++)
                        hwloc_bitmap_or(gn, gn, v[am->gres[r][j]].nodes);
                    hwloc_bitmap_and(gn, gn, ng_topo_cpu_nodes(t));
                    fgood[m] += am->n[r] > 0 && (m == 0 ? on_gpu_node(t, gn, p.ranks[r].cpus, p.ranks[r].mems)
                                                        : on_gpu_node(t, gn, tc[r], tm[r]));
                    hwloc_bitmap_free(gn);
                }
            }
            if (planned)
                ng_plan_free(&p);
            for (int r = 0; r < n; r++) {
                free(rg[r].busids);
                hwloc_bitmap_free(tc[r]);
                hwloc_bitmap_free(tm[r]);
            }
            for (int m = 0; m < 4; m++)
                if (have[m] || (m < 2 || n <= ng))
                    if (a[m].n)
                        ng_assignment_free(&a[m]);
            free(rg);
            free(tc);
            free(tm);
        }
        if (ftot)
            printf("slurm\t%s\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\n", argv[f], ftot, fpt, fgood[0],
                   fgood[1], fgood[2], fgood[3], fgood[4]);
        tot += ftot;
        tot_pt += fpt;
        for (int m = 0; m < SLURM_COLS; m++)
            good[m] += fgood[m];
        for (int g = 0; g < ng; g++) {
            hwloc_bitmap_free(numa[g]);
            hwloc_bitmap_free(sock[g]);
        }
        free(numa);
        free(sock);
        free(idx);
        free(cores);
        ng_accel_list_free(v, ng);
        ng_topo_free(t);
    }
    printf("slurm\tALL\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\n", tot, tot_pt, good[0], good[1], good[2],
           good[3], good[4]);
    return 0;
}

/* sample PID METHOD N: N samples of pid by method in this process; prints
 * "cpu_ms_per_sample node0_pct" (CPU of this process: the sampler's cost). */
static int cmd_sample(int pid, const char *method, int n)
{
    ng_method m;
    if (ng_method_parse(method, &m) < 0 || n < 1)
        return 2;
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    ng_pages p = { 0 };
    char err[NG_ERRLEN];
    for (int i = 0; i < n; i++)
        if (ng_sample_task(NULL, NULL, pid, m, 4096, 1, &p, err, sizeof(err)) < 0) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
    getrusage(RUSAGE_SELF, &b);
    double ms = ((double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec + b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1e3 +
                 (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec + b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1e3) / n;
    hwloc_bitmap_t n0 = hwloc_bitmap_alloc();
    hwloc_bitmap_set(n0, 0);
    printf("%.2f %.1f %s\n", ms, ng_pages_local_pct(&p, n0), ng_method_name((ng_method)p.method));
    hwloc_bitmap_free(n0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "sample"))
        return cmd_sample(atoi(argv[2]), argv[3], atoi(argv[4]));
    if (argc >= 3 && !strcmp(argv[1], "load"))
        return cmd_load(argc - 2, argv + 2);
    if (argc == 4 && !strcmp(argv[1], "plan"))
        return cmd_plan(argv[2], atoi(argv[3]));
    if (argc >= 3 && !strcmp(argv[1], "quality"))
        return cmd_quality(argc - 2, argv + 2);
    if (argc >= 3 && !strcmp(argv[1], "slurm"))
        return cmd_slurm(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench load FILE...|live; bench plan FILE MAXRANKS; bench quality XML...; "
            "bench slurm XML...\n");
    return 2;
}
