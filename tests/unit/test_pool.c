/* The allocation API on this host (one NUMA node): pools on a GPU's node,
 * hot/cold allocations, and clear errors for nodes and tiers that are not
 * here. Multi-node page placement is proven in the QEMU guest. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "numagpu/pool.h"

static int all_on(const char *buf, size_t bytes, int node)
{
    for (size_t off = 0; off < bytes; off += 4096)
        if (ng_node_of(buf + off) != node)
            return 0;
    return 1;
}

int main(void)
{
    char err[NG_ERRLEN], xml[4096];
    /* pascal: both GPUs on node 0, which this host has; no memory-only node. */
    snprintf(xml, sizeof(xml), "%s/llnl-pascal-2s-bdw-2xp100-pcie.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots r = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };
    const char *bus = "0000:04:00.0";
    t_begin("pool/on-the-gpu-node-prefaulted");
    CHECK(t, "%s", err);
    if (t) {
        int node = -1;
        CHECK(ng_gpu_node(t, &r, bus, &node, err, sizeof(err)) == 0, "%s", err);
        ng_pool *p = ng_pool_create(t, &r, bus, 4 << 20, NG_PREFAULT, err, sizeof(err));
        CHECK(p && ng_pool_node(p) == node, "pool: %s", err);
        if (p) {
            char *a = ng_pool_alloc(p, 1000), *b = ng_pool_alloc(p, 1000);
            CHECK(a && b && b - a == 1024 && ((uintptr_t)a & 63) == 0, "alignment");
            CHECK(ng_pool_alloc(p, 4 << 20) == NULL, "overfull pool allocation");
            CHECK(all_on(a, 4 << 20, node), "pages not all on node %d", node);
            ng_pool_reset(p);
            CHECK(ng_pool_used(p) == 0, "reset");
            ng_pool_destroy(p);
        }
    }
    t_end();

    t_begin("pool/hot-on-ddr-cold-needs-a-memory-tier");
    void *h = t ? ng_alloc_hot(t, 0, 2 << 20, NG_PREFAULT, err, sizeof(err)) : NULL;
    CHECK(h && all_on(h, 2 << 20, 0), "hot: %s", err);
    ng_free(h, 2 << 20);
    void *c = t ? ng_alloc_cold(t, 0, 2 << 20, 0, err, sizeof(err)) : NULL;
    int has_memory_only = t && ng_topo_nearest_memory_only(t, ng_topo_cpu_nodes(t), NULL, NULL) >= 0;
    if (!has_memory_only)
        CHECK(!c && strstr(err, "no memory-only (HBM/CXL) node usable near node 0"), "cold: %s", err);
    ng_free(c, 2 << 20);
    t_end();

    t_begin("pool/errors-name-the-problem");
    ng_topo *x = t;
    CHECK(x && !ng_alloc_hot(x, 1, 4096, 0, err, sizeof(err)) && strstr(err, "node 1"),
          "hot on node 1: %s", err);
    CHECK(x && !ng_pool_create(x, &r, "0000:99:00.0", 4096, 0, err, sizeof(err)) &&
          strstr(err, "0000:99:00.0"), "unknown GPU: %s", err);
    snprintf(xml, sizeof(xml), "%s/jsc-juropa3-2s-snb-2xk20-no-pci-locality-hwloc1.xml", t_corpus());
    ng_topo *j = ng_topo_load(xml, err, sizeof(err));
    CHECK(j && !ng_pool_create(j, &r, "0000:01:00.0", 4096, 0, err, sizeof(err)) &&
          strstr(err, "locality unknown"), "no locality: %s", err);
    CHECK(t && !ng_alloc_hot(t, 0, 0, 0, err, sizeof(err)) && strstr(err, "zero"), "zero: %s", err);
    ng_topo_free(j);
    t_end();
    ng_topo_free(t);
    T_EXIT();
}
