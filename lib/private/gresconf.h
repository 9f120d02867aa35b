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

#endif
