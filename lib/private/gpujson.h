/* The one JSON shape of a rank's GPUs (lib/output.c), written alike by
 * `plan --json`, the audit records and `audit --pid`, so that a reader
 * parses it once. Internal to numa-gpu: not installed. */
#ifndef NG_PRIVATE_GPUJSON_H
#define NG_PRIVATE_GPUJSON_H

#include "private/util.h"

/* Appends three members (no leading or trailing comma):
 *   "gpus":[{"pci_busid":"0000:4e:00.0","numa_nodes":[3],"locality":"known"},...],
 *   "gpu_nodes":[3],"gpu_source":"..."
 * gpu_nodes is the union of the GPUs' numa_nodes; gpu_source where the
 * list came from (a GPU variable, a per-task rule), null when source is
 * NULL (the output does not know: `plan` is given its GPUs). */
void ng_json_rank_gpus(ng_buf *b, const ng_accel *gpus, int ngpus, const char *source);

#endif
