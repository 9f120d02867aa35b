/* Nearest NICs: corpus machines whose PCI trees put HCAs under the GPUs'
 * switches (Dell XE8640, JUWELS Booster), in another NUMA node of the same
 * package, or only beside a management port (Tioga, Slingshot); and the
 * variables a task gets, never overwriting the user's. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "numagpu.h"
#include "private/apply.h"


/* The NICs of the GPU at busid (or of the GPU-less rank on node): names
 * joined, and the nearness of the first. */
static int nics_of(ng_topo *t, const char *busid, int node, char *out, size_t len,
                   ng_nearness *near)
{
    ng_nic *v;
    int n, k = 0;
    ng_rank_nic *r = NULL;
    ng_accel a;
    char err[NG_ERRLEN];
    hwloc_bitmap_t home = hwloc_bitmap_alloc();
    out[0] = '\0';
    *near = NG_NEAR_FAR;
    if (ng_nic_list(t, &v, &n) < 0)
        return -1;
    int have = busid && ng_accel_lookup(t, busid, &a, err, sizeof(err)) == 0;
    if (node >= 0)
        hwloc_bitmap_set(home, (unsigned)node);
    int rc = ng_nics_near(t, v, n, have ? &a : NULL, have ? 1 : 0, home, &r, &k);
    for (int i = 0; i < k; i++) {
        size_t u = strlen(out);
        snprintf(out + u, len - u, "%s%s", i ? "," : "", r[i].name);
    }
    *near = k ? r[0].near : NG_NEAR_FAR;
    free(r);
    if (have)
        ng_accel_clear(&a);
    hwloc_bitmap_free(home);
    ng_nic_list_free(v, n);
    return rc;
}

static void corpus(void)
{
    char got[256];
    ng_nearness d = NG_NEAR_FAR;
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    t_begin("nic/list-kinds-ports-links");
    ng_nic *v;
    int n = 0, rdma = 0, eth = 0;
    CHECK(t && ng_nic_list(t, &v, &n) == 0 && n > 0, "no NICs");
    for (int i = 0; t && i < n; i++) {
        rdma += v[i].kind == NG_NIC_RDMA && v[i].port >= 1 && v[i].linkspeed > 0;
        eth += v[i].kind == NG_NIC_ETHERNET && v[i].port == 0;
    }
    CHECK(rdma == 4 && eth >= 1, "rdma %d eth %d", rdma, eth);
    if (t)
        ng_nic_list_free(v, n);
    t_end();

    t_begin("nic/same-switch-first-dual-port-hca");
    /* cuda0 = 4e:00.0 shares its switch with both ports of 4d:00.x */
    CHECK(t && nics_of(t, "0000:4e:00.0", -1, got, sizeof(got), &d) == 0 &&
          !strncmp(got, "mlx5_0,mlx5_1,", 14) && d == NG_NEAR_SWITCH, "%s %s", got,
          ng_nearness_name(d));
    t_end();

    t_begin("nic/no-switch-nic-then-package");
    /* cb:00.0 (node 7) has no NIC under its switch; mlx5_3 is node 5's. */
    CHECK(t && nics_of(t, "0000:cb:00.0", -1, got, sizeof(got), &d) == 0 &&
          !strcmp(got, "mlx5_3") && d == NG_NEAR_PACKAGE, "%s %s", got, ng_nearness_name(d));
    t_end();

    t_begin("nic/gpu-less-rank-by-its-node");
    CHECK(t && nics_of(t, NULL, 5, got, sizeof(got), &d) == 0 && !strcmp(got, "mlx5_3") &&
          d == NG_NEAR_NODE, "%s %s", got, ng_nearness_name(d));
    t_end();
    ng_topo_free(t);

    t = t_load_corpus("llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml");
    t_begin("nic/management-port-never-stands-for-the-fabric");
    /* d1:00.0 is on node 0 with hsi2 and the 1 GbE ens2 (x1 link). */
    CHECK(t && nics_of(t, "0000:d1:00.0", -1, got, sizeof(got), &d) == 0 &&
          !strncmp(got, "hsi2,", 5) && !strstr(got, "ens2") && d == NG_NEAR_NODE, "%s", got);
    t_end();
    ng_topo_free(t);

    t = t_load_corpus("jsc-juropa3-2s-snb-2xk20-no-pci-locality-hwloc1.xml");
    t_begin("nic/unknown-locality-still-names-the-fabric");
    /* Neither the GPU nor the HCA has locality: nothing is near, but the
     * machine's one RDMA NIC is still the rank's (far: no preference). */
    ng_accel *g;
    int ng = 0;
    CHECK(t && ng_accel_list(t, &g, &ng) == 0 && ng > 0, "gpus");
    if (t && ng > 0) {
        CHECK(nics_of(t, g[0].busid, -1, got, sizeof(got), &d) == 0 && !strcmp(got, "mlx4_0") &&
              d == NG_NEAR_FAR, "%s %s", got, ng_nearness_name(d));
        ng_accel_list_free(g, ng);
    }
    t_end();
    ng_topo_free(t);

    t = t_load_corpus("hp-sl390s-2s-westmere-3xm2070-interleaved-cpus.xml");
    t_begin("nic/other-socket-nic-when-none-is-nearer");
    /* mlx4_0 hangs off node 0: a rank on node 1 (GPU or not) gets it, far. */
    CHECK(t && nics_of(t, NULL, 1, got, sizeof(got), &d) == 0 && !strcmp(got, "mlx4_0") &&
          d == NG_NEAR_FAR, "%s %s", got, ng_nearness_name(d));
    CHECK(t && nics_of(t, NULL, 0, got, sizeof(got), &d) == 0 && !strcmp(got, "mlx4_0") &&
          d == NG_NEAR_NODE, "node 0: %s %s", got, ng_nearness_name(d));
    t_end();
    ng_topo_free(t);
}

/* Done-when of issue 28: on every corpus machine with an RDMA NIC, every
 * rank of a GPU-per-rank plan and of a CPU-only plan names an RDMA NIC. */
static void every_rank_one(const char *xml, const char *name)
{
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_nic *v = NULL;
    int n = 0, rdma = 0;
    if (!t || ng_nic_list(t, &v, &n) < 0) {
        ng_topo_free(t);
        return;
    }
    for (int i = 0; i < n; i++)
        rdma |= v[i].kind == NG_NIC_RDMA;
    ng_nic_list_free(v, n);
    if (!rdma) {
        ng_topo_free(t);
        return;
    }
    t_begin("nic/every-rank-names-an-rdma-nic/%s", name);
    ng_accel *g = NULL;
    int ng = 0;
    ng_accel_list(t, &g, &ng);
    int nr = ng > 0 ? ng : 2;
    ng_rank_gpus *rg = calloc((size_t)nr, sizeof(*rg));
    for (int r = 0; r < ng; r++) {
        rg[r].ngpus = 1;
        rg[r].busids = calloc(1, NG_BUSID_LEN);
        memcpy(rg[r].busids[0], g[r].busid, NG_BUSID_LEN);
    }
    for (int pass = 0; pass < 2; pass++) {
        ng_plan p;
        int ranks = pass ? hwloc_bitmap_weight(ng_topo_cpu_nodes(t)) : nr;
        if (ranks < 1)
            ranks = 1;
        if (ng_plan_compute(t, NULL, NULL, ranks, pass ? NULL : rg, NG_MODE_PREFER, &p, err,
                            sizeof(err)) < 0) {
            CHECK(0, "plan: %s", err);
            continue;
        }
        for (int r = 0; r < p.nranks; r++)
            CHECK(p.ranks[r].nnics > 0 && p.ranks[r].nics[0].kind == NG_NIC_RDMA,
                  "%s rank %d (home node %d) names no RDMA NIC", pass ? "cpu-only" : "gpu",
                  r, hwloc_bitmap_first(p.ranks[r].home));
        ng_plan_free(&p);
    }
    for (int r = 0; r < ng; r++)
        free(rg[r].busids);
    free(rg);
    ng_accel_list_free(g, ng);
    t_end();
    ng_topo_free(t);
}

typedef struct { char names[8][64], vals[8][600]; int n; } sink;

static int sink_set(const char *name, const char *val, int overwrite, void *ctx)
{
    sink *s = ctx;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) {
            if (overwrite)
                snprintf(s->vals[i], sizeof(s->vals[i]), "%s", val);
            return 0;
        }
    if (s->n < 8 && (!strncmp(name, "UCX", 3) || !strncmp(name, "NCCL", 4) ||
                     !strncmp(name, "MPICH", 5) || !strcmp(name, "NUMA_GPU_NICS"))) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
        snprintf(s->vals[s->n++], sizeof(s->vals[0]), "%s", val);
    }
    return 0;
}

static const char *sink_get(const sink *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return s->vals[i];
    return NULL;
}

/* The exports, on this machine's own plan (applying it is harmless) with
 * NICs put into its row. */
static void exports(void)
{
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(NULL, err, sizeof(err));
    ng_plan p = { 0 };
    int ok = t && ng_plan_compute(t, NULL, NULL, 1, NULL, NG_MODE_PREFER, &p, err,
                                  sizeof(err)) == 0;
    ng_rank_gpus none = { 0, NULL };
    (void)none;
    t_begin("nic/task-exports-nearest-keeps-users");
    CHECK(ok, "%s", err);
    if (ok) {
        ng_rank_plan *rp = &p.ranks[0];
        free(rp->nics);
        rp->nics = calloc(3, sizeof(ng_rank_nic));
        rp->nnics = rp->nics ? 3 : 0;
        const char *names[] = { "mlx5_2", "mlx5_3", "mlx5_0" };
        ng_nearness near[] = { NG_NEAR_SWITCH, NG_NEAR_SWITCH, NG_NEAR_PACKAGE };
        for (int i = 0; i < rp->nnics; i++) {
            snprintf(rp->nics[i].name, sizeof(rp->nics[i].name), "%s", names[i]);
            rp->nics[i].port = i == 1 ? 2 : 1;
            rp->nics[i].kind = NG_NIC_RDMA;
            rp->nics[i].near = near[i];
        }
        sink s = { .n = 0 };
        ng_task_io io = { NULL, sink_set, NULL, &s, 0, 0 };
        CHECK(ng_task_apply(t, &p, 0, &io, NULL, err, sizeof(err)) == 0, "%s", err);
        const char *u = sink_get(&s, "UCX_NET_DEVICES"), *h = sink_get(&s, "NCCL_IB_HCA"),
                   *all = sink_get(&s, "NUMA_GPU_NICS");
        CHECK(u && !strcmp(u, "mlx5_2:1,mlx5_3:2") && h && !strcmp(h, "=mlx5_2:1,mlx5_3:2") &&
              all && !strcmp(all, "mlx5_2:1,mlx5_3:2,mlx5_0:1") &&
              !sink_get(&s, "MPICH_OFI_NIC_POLICY"),
              "UCX %s NCCL %s all %s (a GPU-less rank gets no MPICH policy)", u, h, all);
        /* The user's own choice stays. */
        sink mine = { .n = 1 };
        snprintf(mine.names[0], sizeof(mine.names[0]), "UCX_NET_DEVICES");
        snprintf(mine.vals[0], sizeof(mine.vals[0]), "mlx5_9:1");
        io.ctx = &mine;
        CHECK(ng_task_apply(t, &p, 0, &io, NULL, err, sizeof(err)) == 0 &&
              !strcmp(sink_get(&mine, "UCX_NET_DEVICES"), "mlx5_9:1"), "overwritten");
        /* nic=off: none of them. */
        sink off = { .n = 0 };
        io.ctx = &off;
        io.nic_off = 1;
        CHECK(ng_task_apply(t, &p, 0, &io, NULL, err, sizeof(err)) == 0 && off.n == 0,
              "%d NIC variables with nic=off", off.n);
        ng_plan_free(&p);
    }
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    t_each_corpus_xml("nic", every_rank_one);
    corpus();
    exports();
    T_EXIT();
}
