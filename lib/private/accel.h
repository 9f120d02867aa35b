/* GPU-like PCI devices beyond the public ng_accel API (lib/accel.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_ACCEL_H
#define NG_PRIVATE_ACCEL_H
#include "numagpu.h"

/* The CPUs of a GPU's NUMA node(s) (the union of the nodes' cpusets). */
void ng_accel_node_cpus(const ng_topo *t, const ng_accel *a, hwloc_bitmap_t cpus);

#endif
