/* What the kubelet topology manager would decide for a plan's ranks
 * (lib/k8s.c), for `numa-gpu explain --k8s`.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_K8S_H
#define NG_PRIVATE_K8S_H

#include "numagpu.h"

/* One line per policy (best-effort, restricted, single-numa-node) with each
 * rank's NUMA nodes or "rejected", and numa-gpu's line below (malloc'ed). */
char *ng_k8s_explain(const ng_topo *t, const ng_plan *p);

#endif
