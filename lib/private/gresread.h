/* gres.conf read as slurmd reads it, for one node (lib/gresread.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_GRESREAD_H
#define NG_PRIVATE_GRESREAD_H

#include "numagpu.h"

#define NG_GRES_MAX_RECORDS 1024  /* GPU records per node we accept */

/* One GPU of the node: a Name=gpu record with one File (File= ranges make
 * one record per file). Its position in the list is its GRES index. */
typedef struct {
    char file[256];           /* device file, "" when the line had none */
    char type[64];            /* Type=, "" when untyped */
    hwloc_bitmap_t cores;     /* Cores= (or its alias CPUs=) as Slurm core
                                 indexes; NULL when the line has none */
    int env_uuid;             /* Flags=env_uuid (26.05+: map/mask ids are
                                 global even under ConstrainDevices) */
} ng_gres_rec;

typedef struct {
    int n;
    ng_gres_rec *rec;
    int autodetect;           /* AutoDetect= other than off applies to the
                                 node: affinities come from the driver */
} ng_gres_node;

/* The GPU records of gres.conf at path that apply to node (NodeName= absent
 * or a hostlist naming it: "gpu[01-16,20]", "a,b"). Lines that do not parse
 * are refused naming the line (slurmd refuses them too); a missing file is
 * an empty list. */
int ng_gres_read(const char *path, const char *node, ng_gres_node *out, char *err,
                 size_t errlen);
void ng_gres_node_free(ng_gres_node *g);
/* Does the Slurm hostlist expression name host? (1 yes, 0 no) */
int ng_hostlist_has(const char *expr, const char *host);

#endif
