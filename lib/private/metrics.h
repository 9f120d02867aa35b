/* Prometheus metrics of a node (lib/metrics.c): running totals folded from
 * the audit records of each job that ended here, kept in a small state file
 * under the state directory, plus what the hugepage and IRQ ledgers hold
 * now, written as a node_exporter textfile-collector file.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_METRICS_H
#define NG_PRIVATE_METRICS_H

#include <stddef.h>
#include "private/util.h"   /* NG_MAX_NODES */

/* The verdict label's values: a record's verdict, or "other" for one this
 * version does not know (labels stay bounded whatever a record says). */
enum { NG_MET_OTHER = 9, NG_MET_NVERDICTS = 10 };
extern const char *const ng_met_verdicts[NG_MET_NVERDICTS];
/* Why a line was not counted (the reason label): ng_rec_status - 1. */
enum { NG_MET_NSKIPS = 3 };
extern const char *const ng_met_skips[NG_MET_NSKIPS];

/* A histogram with fixed upper bounds in the record's unit (percent,
 * milliseconds: a record's "80.0" falls in le 80 exactly, as a reader of
 * the record expects), exposed divided by unit (ratio, seconds). count[i]
 * holds the observations in (le[i-1], le[i]], count[n] those above le[n-1]
 * (not cumulative here); sum is in the exposed unit. */
#define NG_MET_MAX_BUCKETS 12
typedef struct {
    int n;
    const double *le;
    double unit;
    unsigned long long count[NG_MET_MAX_BUCKETS + 1];
    double sum;
} ng_hist;

/* Jobs remembered with how many lines of their record file were counted:
 * the epilog run twice, or a requeued job appending to the same file,
 * never counts a line twice. The oldest are forgotten first. */
#define NG_MET_JOBS 1024
typedef struct {
    unsigned long job;
    unsigned long lines;           /* lines of DIR/<job>.json read */
    int counted;                   /* some were this host's records */
} ng_met_job;

typedef struct {
    unsigned long long tasks[NG_MET_NVERDICTS];
    ng_hist local;                 /* local_pct, exposed as a ratio */
    ng_hist plugin;                /* plugin_ms, exposed in seconds */
    unsigned long long errors;     /* records with an "error" */
    unsigned long long skipped[NG_MET_NSKIPS];   /* damaged, future, invalid lines */
    unsigned long long jobs;       /* job files with lines of this host */
    unsigned long long irqs;       /* irqs_steered, once per step */
    unsigned long long hp_bytes[NG_MAX_NODES];   /* hugepages by_node x page size */
    int njobs;
    ng_met_job job[NG_MET_JOBS];   /* oldest first */
} ng_metrics;

/* Zero totals with the histograms' bounds (the one layout of state v1). */
void ng_metrics_init(ng_metrics *m);
/* Count one audit line (lib/record.c reads it) of host: 1 counted, 0
 * another host's, -1 not counted (skipped[reason]). A step's
 * irqs_steered (the same in each of its task records) is counted by
 * ng_metrics_fold_job, once per step: *step and *irqs give it (-1: none). */
int ng_metrics_add_line(ng_metrics *m, const char *line, size_t len, const char *host,
                        unsigned long *step, long *irqs);
/* Count the lines of DIR/<job>.json not counted before. *counted and
 * *skipped say what this call added; a job without a file adds nothing
 * (0). -1 when the file cannot be read safely (err). */
int ng_metrics_fold_job(ng_metrics *m, const char *dir, unsigned long job, const char *host,
                        int *counted, int *skipped, char *err, size_t errlen);

/* The state file's text, and reading it back (-1 naming the bad line). */
char *ng_metrics_state_str(const ng_metrics *m);
int ng_metrics_state_parse(const char *text, ng_metrics *m, char *err, size_t errlen);

/* What the ledgers hold now; a ledger that could not be read is left out. */
typedef struct {
    int hp_ok, irq_ok;
    int node_known[NG_MAX_NODES];             /* nodes of this machine */
    unsigned long long hp_bytes[NG_MAX_NODES];
    long irqs;
} ng_met_gauges;

/* The exposition text (HELP and TYPE lines, every verdict and known node,
 * cumulative buckets). */
char *ng_metrics_format(const ng_metrics *m, const ng_met_gauges *g);
/* Replace path (a name ending in .prom) with text the way node_exporter
 * wants it: a temp file in the same directory (a dot name it never reads),
 * mode 0644, fsync, rename, fsync of the directory. */
int ng_metrics_write_file(const char *path, const char *text, char *err, size_t errlen);

typedef struct {
    const char *audit_dir;      /* the plugin's audit_dir */
    const char *state_dir;      /* the plugin's state_dir: ledgers, metrics.state */
    const char *sysfs;          /* NULL = /sys: the machine's NUMA nodes */
    const char *host;           /* records of this host only */
    const char *output;         /* FILE.prom, or NULL: *text gets it */
    const unsigned long *jobs;  /* jobs to fold first */
    int njobs;
} ng_met_opts;
/* Under DIR/metrics.lock: load the totals, fold the jobs, read the ledgers,
 * save the totals, then write the file (so a concurrent run never leaves an
 * older total behind a newer one). note says what was folded or left out:
 * 0, or 1 when something was left out (a ledger or a job file that could
 * not be read; the rest is written); -1 with err when nothing was written. */
int ng_metrics_run(const ng_met_opts *o, char **text, char *note, size_t notelen, char *err,
                   size_t errlen);

#endif
