/*
 * libnumagpu memory for applications and inference servers: a pool bound to
 * a GPU's NUMA node, hot (DDR) and cold (HBM/CXL) buffers, and where a page
 * lives. Link with `pkg-config --libs numagpu`.
 */
#ifndef NUMAGPU_POOL_H
#define NUMAGPU_POOL_H

#include <numagpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Memory for applications and inference servers (link with
 * `pkg-config --libs numagpu`). */
#define NG_PREFAULT 1u   /* touch every page so it is resident on return */

/* NUMA node of a GPU named by CUDA index, GPU-/MIG- UUID or PCI bus id. */
int ng_gpu_node(const ng_topo *t, const ng_roots *r, const char *gpu, int *node,
                     char *err, size_t errlen);
/* A pool of bytes bound (MPOL_BIND) to the GPU's node; ng_pool_alloc hands
 * out 64-byte aligned pieces, NULL when full. */
typedef struct ng_pool ng_pool;
ng_pool *ng_pool_create(const ng_topo *t, const ng_roots *r, const char *gpu, size_t bytes,
                        unsigned flags, char *err, size_t errlen);
void *ng_pool_alloc(ng_pool *p, size_t bytes);
void ng_pool_reset(ng_pool *p);
int ng_pool_node(const ng_pool *p);
size_t ng_pool_used(const ng_pool *p);
void ng_pool_destroy(ng_pool *p);
/* Hot: MPOL_BIND to DDR node `node`. Cold: MPOL_PREFERRED on the nearest
 * memory-only node to `node` (error if the machine has none). Free with
 * ng_free(p, bytes). */
void *ng_alloc_hot(const ng_topo *t, int node, size_t bytes, unsigned flags, char *err,
                        size_t errlen);
void *ng_alloc_cold(const ng_topo *t, int node, size_t bytes, unsigned flags, char *err,
                         size_t errlen);
void ng_free(void *p, size_t bytes);
/* Node a resident page lives on (move_pages query), -1 if unknown. */
int ng_node_of(const void *addr);

#ifdef __cplusplus
}
#endif
#endif
