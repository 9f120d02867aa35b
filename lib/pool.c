/* Memory for applications: buffer pools on a GPU's NUMA node, and hot/cold
 * allocations (hot: MPOL_BIND to the local DDR node; cold: MPOL_PREFERRED
 * on the nearest memory-only tier, HBM/CXL). Pages are placed with mbind(2)
 * before first touch and, with NG_PREFAULT, touched so they are resident
 * where asked when the call returns. */
#define _GNU_SOURCE
#include <errno.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "numagpu/pool.h"
#include "private/cgroup.h"
#include "private/util.h"

struct ng_pool {
    char *base;
    size_t size, used;
    int node;
};

static int node_allowed(int node, char *err, size_t errlen)
{
    hwloc_bitmap_t c = hwloc_bitmap_alloc(), m = hwloc_bitmap_alloc();
    char e[NG_ERRLEN], mb[256];
    int ok = ng_allowed_read(NULL, NULL, 0, c, m, e, sizeof(e)) == 0 &&
             hwloc_bitmap_isset(m, (unsigned)node);
    if (!ok)
        ng_err(err, errlen, "NUMA node %d is not one this process may use (allowed mems %s)",
               node, ng_list_str(m, mb, sizeof(mb)));
    hwloc_bitmap_free(c);
    hwloc_bitmap_free(m);
    return ok ? 0 : -1;
}

/* mmap + mbind + optional prefault. */
static void *placed_alloc(size_t bytes, int mode, int node, unsigned flags, char *err,
                          size_t errlen)
{
    if (bytes == 0)
        return ng_err(err, errlen, "zero-byte allocation"), NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return ng_err(err, errlen, "mmap %zu bytes: %s", bytes, strerror(errno)), NULL;
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
    mask[node / (int)(8 * sizeof(unsigned long))] |= 1UL << (node % (int)(8 * sizeof(unsigned long)));
    if (mbind(p, bytes, mode, mask, 1024, 0) < 0) {
        int e = errno;
        munmap(p, bytes);
        return ng_err(err, errlen, "mbind(node %d): %s", node, strerror(e)), NULL;
    }
    if (flags & NG_PREFAULT) {
        long page = sysconf(_SC_PAGESIZE);
        for (size_t off = 0; off < bytes; off += (size_t)page)
            ((volatile char *)p)[off] = 0;
    }
    return p;
}

int ng_gpu_node(const ng_topo *t, const ng_roots *r, const char *gpu, int *node, char *err,
                     size_t errlen)
{
    char bus[NG_BUSID_LEN];
    ng_accel a;
    if (ng_gpu_resolve(t, r, NG_IDX_CUDA, gpu, bus, err, errlen) < 0 ||
        ng_accel_lookup(t, bus, &a, err, errlen) < 0)
        return -1;
    hwloc_bitmap_and(a.nodes, a.nodes, ng_topo_cpu_nodes(t));
    int n = hwloc_bitmap_first(a.nodes);
    int unknown = a.locality == NG_LOC_UNKNOWN;
    ng_accel_clear(&a);
    if (unknown || n < 0)
        return ng_err(err, errlen, "GPU %s (%s): NUMA locality unknown (firmware gives none); "
                      "give the node explicitly", gpu, bus);
    *node = n;
    return 0;
}

ng_pool *ng_pool_create(const ng_topo *t, const ng_roots *r, const char *gpu, size_t bytes,
                        unsigned flags, char *err, size_t errlen)
{
    int node = -1;
    if (ng_gpu_node(t, r, gpu, &node, err, errlen) < 0 || node_allowed(node, err, errlen) < 0)
        return NULL;
    ng_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return ng_err(err, errlen, "out of memory"), NULL;
    p->base = placed_alloc(bytes, MPOL_BIND, node, flags, err, errlen);
    if (!p->base) {
        free(p);
        return NULL;
    }
    p->size = bytes;
    p->node = node;
    return p;
}

void *ng_pool_alloc(ng_pool *p, size_t bytes)
{
    size_t off = (p->used + 63) & ~(size_t)63; /* cache-line aligned */
    if (off > p->size || bytes > p->size - off)
        return NULL;
    p->used = off + bytes;
    return p->base + off;
}

void ng_pool_reset(ng_pool *p) { p->used = 0; }
int ng_pool_node(const ng_pool *p) { return p->node; }
size_t ng_pool_used(const ng_pool *p) { return p->used; }

void ng_pool_destroy(ng_pool *p)
{
    if (!p)
        return;
    munmap(p->base, p->size);
    free(p);
}

void *ng_alloc_hot(const ng_topo *t, int node, size_t bytes, unsigned flags, char *err,
                        size_t errlen)
{
    if (!hwloc_bitmap_isset(ng_topo_cpu_nodes(t), (unsigned)node))
        return ng_err(err, errlen, "hot memory: node %d is not a DDR (CPU) node", node), NULL;
    if (node_allowed(node, err, errlen) < 0)
        return NULL;
    return placed_alloc(bytes, MPOL_BIND, node, flags, err, errlen);
}

void *ng_alloc_cold(const ng_topo *t, int node, size_t bytes, unsigned flags, char *err,
                         size_t errlen)
{
    hwloc_bitmap_t from = hwloc_bitmap_alloc(), c = hwloc_bitmap_alloc(), m = hwloc_bitmap_alloc();
    char e[NG_ERRLEN];
    hwloc_bitmap_only(from, (unsigned)node);
    int far = ng_allowed_read(NULL, NULL, 0, c, m, e, sizeof(e)) == 0
              ? ng_topo_nearest_memory_only(t, from, m, NULL) : -1;
    hwloc_bitmap_free(from);
    hwloc_bitmap_free(c);
    hwloc_bitmap_free(m);
    if (far < 0)
        return ng_err(err, errlen, "cold memory: no memory-only (HBM/CXL) node usable near node %d "
                      "on this machine", node), NULL;
    return placed_alloc(bytes, MPOL_PREFERRED, far, flags, err, errlen);
}

void ng_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

int ng_node_of(const void *addr)
{
    int node = -1;
    void *pages[1] = { (void *)((uintptr_t)addr & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1)) };
    int status[1] = { -1 };
    if (move_pages(0, 1, pages, NULL, status, 0) == 0)
        node = status[0];
    return node;
}
