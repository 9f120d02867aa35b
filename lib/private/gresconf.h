/* gres.conf Cores= lines from a topology (lib/gresconf.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_GRESCONF_H
#define NG_PRIVATE_GRESCONF_H

#include "numagpu.h"

/* gres.conf text (AutoDetect=off, one Name=gpu File= Cores= line per GPU)
 * with Cores= as Slurm core indexes of each GPU's NUMA node. When a node is
 * smaller than its package the text says SlurmdParameters=numa_node_as_socket
 * is needed (and numbers cores as Slurm then does); per_package gives whole
 * packages instead, which Slurm accepts without it. */
int ng_gres_conf(const ng_topo *t, int per_package, char **text, char *err, size_t errlen);

/* The cpus of Slurm core indexes (gres.conf Cores=), numbered as slurmd
 * numbers them: socket by socket, each NUMA node a socket when
 * numa_sockets (SlurmdParameters=numa_node_as_socket). */
void ng_slurm_core_cpus(const ng_topo *t, hwloc_const_bitmap_t cores, int numa_sockets,
                        hwloc_bitmap_t cpus);

#endif
