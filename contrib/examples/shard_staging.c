/* shard-staging: stage model shards in a buffer pool on each GPU's NUMA
 * node (hot, MPOL_BIND to local DDR) and keep a cold cache on the
 * memory-only tier (HBM/CXL, MPOL_PREFERRED) -- the libnumagpu pool API in
 * a few lines. Prints where the kernel put the pages, one key=value a line.
 *
 *   cc shard_staging.c $(pkg-config --cflags --libs numagpu) -o shard-staging
 *   shard-staging [--topology F] [--procfs-root D] GPU [HOT_MB [COLD_MB]]
 * GPU: CUDA index, GPU-/MIG- UUID or PCI bus id. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <numagpu/pool.h>

/* "node=pages,..." of a buffer, from the kernel's per-page answer. */
static void where(const char *key, const char *buf, size_t bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    int count[64] = { 0 }, other = 0;
    for (size_t off = 0; off < bytes; off += (size_t)page) {
        int n = ng_node_of(buf + off);
        if (n >= 0 && n < 64)
            count[n]++;
        else
            other++;
    }
    printf("%s=", key);
    for (int n = 0, first = 1; n < 64; n++)
        if (count[n]) {
            printf("%s%d:%d", first ? "" : ",", n, count[n]);
            first = 0;
        }
    printf("%s\n", other ? " (some pages not resident)" : "");
}

int main(int argc, char **argv)
{
    const char *topo_file = getenv("NUMA_GPU_TOPOLOGY");
    ng_roots roots = { 0 };
    int a = 1;
    for (; a + 1 < argc && !strncmp(argv[a], "--", 2); a += 2) {
        if (!strcmp(argv[a], "--topology"))
            topo_file = argv[a + 1];
        else if (!strcmp(argv[a], "--procfs-root"))
            roots.procfs = argv[a + 1];
        else
            break;
    }
    if (a >= argc) {
        fprintf(stderr, "usage: shard-staging [--topology F] [--procfs-root D] GPU [HOT_MB [COLD_MB]]\n");
        return 2;
    }
    const char *gpu = argv[a];
    size_t hot = (size_t)(a + 1 < argc ? atol(argv[a + 1]) : 16) << 20;
    size_t cold = (size_t)(a + 2 < argc ? atol(argv[a + 2]) : 0) << 20;
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(topo_file, err, sizeof(err));
    if (!t) {
        fprintf(stderr, "shard-staging: %s\n", err);
        return 1;
    }
    int rc = 0;
    ng_pool *pool = ng_pool_create(t, &roots, gpu, hot, NG_PREFAULT, err, sizeof(err));
    if (!pool) {
        fprintf(stderr, "shard-staging: %s\n", err);
        rc = 1;
    } else {
        printf("gpu_node=%d\n", ng_pool_node(pool));
        /* Four shards staged back to back. */
        char *shard[4];
        for (int i = 0; i < 4; i++)
            shard[i] = ng_pool_alloc(pool, hot / 4 - 64);
        printf("shards=%d used=%zu\n", shard[3] ? 4 : 0, ng_pool_used(pool));
        where("hot_pages", shard[0], hot - 256);
        if (cold) {
            char *c = ng_alloc_cold(t, ng_pool_node(pool), cold, NG_PREFAULT, err, sizeof(err));
            if (!c) {
                fprintf(stderr, "shard-staging: %s\n", err);
                rc = 1;
            } else {
                where("cold_pages", c, cold);
                ng_free(c, cold);
            }
        }
        ng_pool_destroy(pool);
    }
    ng_topo_free(t);
    return rc;
}
