/* Measured host<->GPU bandwidth per NUMA node (lib/calibrate.c measures,
 * lib/calibrate_out.c judges and renders): pinned
 * buffers on each node, copied from a thread bound to that node's CPUs, to
 * and from every GPU, through a vendor runtime loaded at run time
 * (private/gpurt.h); then which node each GPU is nearest, against what the
 * firmware says (hwloc), and the gpu_map lines that correct it.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_CALIBRATE_H
#define NG_PRIVATE_CALIBRATE_H

#include "numagpu.h"
#include "private/gpurt.h"

#define NG_CAL_MIN_BYTES (1ULL << 20)    /* smaller copies measure latency */
#define NG_CAL_MAX_BYTES (4ULL << 30)    /* pinned on every node in turn */
#define NG_CAL_DEFAULT_BYTES (64ULL << 20)
#define NG_CAL_MAX_REPEAT 1000
#define NG_CAL_DEFAULT_REPEAT 10
#define NG_CAL_DEFAULT_TOLERANCE 5       /* percent */

typedef struct {
    size_t bytes;               /* per copy */
    int repeat;                 /* timed copies per direction (median kept) */
    hwloc_const_bitmap_t nodes; /* NUMA nodes (OS indexes); NULL = every CPU node */
    const int *gpus;            /* runtime ordinals; NULL = all */
    int ngpus;
    int here;                   /* measure as this process is placed: no binding,
                                   no memory policy; one row, node -1 */
} ng_cal_opts;

typedef struct {
    int node;                   /* OS index; -1 for a --here row */
    int measured;               /* 0: skipped, why says why */
    char why[256];              /* skipped, or a caveat of a measured row */
    hwloc_bitmap_t cpus;        /* the thread's affinity, read back */
    double on_node;             /* share of the buffer's pages on node, -1 unknown */
    int buffer_node;            /* the node most of the buffer is on, -1 unknown */
} ng_cal_row;

typedef struct {
    int ordinal;                /* runtime's device number */
    char busid[NG_BUSID_LEN];
    char name[96];
} ng_cal_gpu;

typedef struct {
    char runtime[256];          /* ng_gpurt_describe */
    char kind[8];               /* "cuda" | "hip" */
    size_t bytes;
    int repeat;
    int nrows, ngpus;
    ng_cal_row *rows;
    ng_cal_gpu *gpus;
    double *h2d, *d2h;          /* GB/s (1e9 bytes/s) at [g * nrows + r]; 0 = none */
} ng_cal_result;

/* "64M", "1G", "1048576": bytes in NG_CAL_MIN_BYTES..NG_CAL_MAX_BYTES. */
int ng_cal_size_parse(const char *s, size_t *out, char *err, size_t errlen);

/* The runtime's GPUs, in its order, with bus ids (for --list and --gpus). */
int ng_cal_gpus(ng_gpurt *rt, ng_cal_gpu **out, int *n, char *err, size_t errlen);
/* "0,3" or "0000:4e:00.0,..." (runtime ordinals or bus ids) -> ordinals. */
int ng_cal_gpu_list(const ng_cal_gpu *g, int n, const char *spec, int **out, int *nout,
                    char *err, size_t errlen);

/* Measure. Topology: the NUMA nodes and their CPUs. Nodes are measured one
 * after the other, each from its own thread. A node that cannot be
 * measured (none of its CPUs allowed, memory refused) is a row with
 * measured = 0 and why, not a failure; a runtime error is (-1). */
int ng_cal_run(const ng_topo *t, ng_gpurt *rt, const ng_cal_opts *o, ng_cal_result *res,
               char *err, size_t errlen);
void ng_cal_result_free(ng_cal_result *res);

/* What the numbers say about one GPU. */
typedef enum {
    NG_CAL_AGREES,      /* the firmware's node is among the measured nearest */
    NG_CAL_DISAGREES,   /* another node is measurably nearer */
    NG_CAL_FILLED,      /* firmware gives no locality (or the topology lacks
                           the GPU); the measurement fills it */
    NG_CAL_TOO_CLOSE,   /* every node within the tolerance: cannot tell */
    NG_CAL_NOT_ENOUGH   /* fewer than two nodes measured */
} ng_cal_verdict;
const char *ng_cal_verdict_name(ng_cal_verdict v);

typedef struct {
    ng_cal_verdict verdict;
    hwloc_bitmap_t firmware;    /* hwloc's nodes for the GPU; empty = unknown */
    hwloc_bitmap_t best;        /* measured nodes within tolerance of the best */
    hwloc_bitmap_t map;         /* the gpu_map's nodes; empty = no line */
    int in_topology;            /* the topology has the GPU's bus id */
    int worst;                  /* the measured node with the lowest score */
    double best_score, worst_score;  /* mean of H2D and D2H, GB/s */
} ng_cal_decision;

/* Pure: score = mean of the two directions per measured node; the nearest
 * are those within tolerance_pct of the highest. The map says firmware ∩
 * nearest when they meet (the finer of the two), else the nearest. */
int ng_cal_decide(const ng_topo *t, const ng_cal_result *res, int g, double tolerance_pct,
                  ng_cal_decision *d);
void ng_cal_decision_clear(ng_cal_decision *d);

/* The gpu_map text: lines of an existing map that are not locality lines
 * (its "ID BUSID" entries) kept as they are, then one "numa_node BUSID
 * NODES" line per decided GPU. old may be NULL. Malloc'ed. */
char *ng_cal_map_text(const ng_topo *t, const ng_cal_result *res, double tolerance_pct,
                      const char *old, const char *host);

/* Write path's map (atomically; its other lines and its mode kept, 0644 for
 * a new file): ng_cal_map_text with this host's name. */
int ng_cal_write_map(const ng_topo *t, const ng_cal_result *res, double tolerance_pct,
                     const char *path, char *err, size_t errlen);

/* Renderings: the node x GPU matrix with the verdicts, and one JSON line
 * per GPU. Malloc'ed. */
char *ng_cal_table(const ng_topo *t, const ng_cal_result *res, double tolerance_pct);
char *ng_cal_json(const ng_topo *t, const ng_cal_result *res, double tolerance_pct);

#endif
