/* GPU locality from the admin's gpu_map (lib/gpu.c reads it, lib/topo.c
 * keeps it, lib/accel.c uses it): "numa_node BUSID NODES" lines, written by
 * numa-gpu calibrate from measured bandwidth, replace the locality that
 * firmware gave hwloc. The map's "ID BUSID" lines are unaffected.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_GPUMAP_H
#define NG_PRIVATE_GPUMAP_H

#include "numagpu.h"

#define NG_MAP_NUMA_KEY "numa_node"

/* Read path's locality lines into t (all or none). Every node named must be
 * a NUMA node with CPUs in t; a bus id t does not have is skipped (a map
 * shared by several machine types), counted in *skipped. *applied counts
 * the GPUs whose locality now comes from the map. -1 with the line named. */
int ng_gpu_map_locality(ng_topo *t, const char *path, int *applied, int *skipped, char *err,
                        size_t errlen);

/* The store in the topology (topo.c). set copies nodes; get returns NULL
 * for a GPU the map does not name. */
int ng_topo_gpu_nodes_set(ng_topo *t, const char *busid, hwloc_const_bitmap_t nodes);
hwloc_const_bitmap_t ng_topo_gpu_nodes(const ng_topo *t, const char *busid);
void ng_topo_gpu_nodes_clear(ng_topo *t);

#endif
