/* Reading one audit record line (lib/record.c): the reader's view of what
 * lib/audit.c writes, for `numa-gpu report` and `numa-gpu metrics`. Any
 * schema from 1 to NG_AUDIT_SCHEMA is read; a newer one is refused (its
 * fields may mean something else), never guessed.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_RECORD_H
#define NG_PRIVATE_RECORD_H

#include <stddef.h>

/* The audit record schema written by this numa-gpu (and the newest read):
 * 1 the first records, 2 sample methods (sample.method, ci95, ...), 3
 * user/uid/time, plugin_ms, hugepages, irqs_steered, error, and the
 * verdicts "refused" and "unbound", 4 the GPUs in the shared shape of
 * every output (private/gpujson.h: numa_nodes an array, gpu_nodes,
 * locality). The reader takes 1 to 4 alike: it keeps no GPU field. */
#define NG_AUDIT_SCHEMA 4

/* Lines longer than this are not records (ours stay below 16 KiB). */
#define NG_RECORD_MAX_LINE 65536
#define NG_RECORD_MAX_HP_NODES 64

typedef enum {
    NG_REC_OK = 0,
    NG_REC_DAMAGED,   /* not one JSON object: truncated, garbage */
    NG_REC_FUTURE,    /* schema newer than NG_AUDIT_SCHEMA */
    NG_REC_INVALID    /* JSON, but a required field is missing, mistyped or out of range */
} ng_rec_status;

typedef struct {
    int schema;
    unsigned long job, step;
    long task, global_task, pid;      /* pid -1: not recorded */
    char host[256];
    char user[64];                    /* "" before schema 3 */
    long long uid;                    /* -1: not recorded */
    long long time;                   /* task exit, s since the epoch; -1: not recorded */
    char mode[16], verdict[16];
    double local_pct;                 /* -1: no sample */
    /* The sample's pages (4 KiB units) and of them those on intended.home;
     * both 0 without a sample. */
    unsigned long long pages, local_pages;
    double plugin_ms;                 /* -1: not recorded */
    struct {
        unsigned long pagesize_kb;    /* 0: no reservation recorded */
        unsigned long long pages;
        long long released;           /* pages given back at task exit; -1: not recorded */
        int nnodes;
        struct { int node; unsigned long long pages; } by_node[NG_RECORD_MAX_HP_NODES];
    } hp;
    long irqs_steered;                /* per step and host (the same in each task's
                                         record); -1: not recorded */
    int has_error;
    char error[512];
} ng_record;

/* Parse one line (without its newline; need not be NUL-terminated). On
 * anything but NG_REC_OK, why says what is wrong (naming the field). */
ng_rec_status ng_record_parse(const char *line, size_t len, ng_record *r, char *why,
                              size_t whylen);

/* The report's classes of a verdict: local, partial, remote, unbound
 * (ran without numa-gpu's binding after an error), refused (not started),
 * other (unknown, nogpu, overcommit, skipped, anything else). */
typedef enum { NG_CLASS_LOCAL = 0, NG_CLASS_PARTIAL, NG_CLASS_REMOTE, NG_CLASS_UNBOUND,
               NG_CLASS_REFUSED, NG_CLASS_OTHER, NG_CLASS_COUNT } ng_verdict_class;
ng_verdict_class ng_verdict_classify(const char *verdict);
const char *ng_verdict_class_name(ng_verdict_class c);

#endif
