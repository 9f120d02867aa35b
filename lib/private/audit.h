/* What a task got: perf counters and audit records (lib/audit.c,
 * lib/perf.c) over the page samples of private/sample.h.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_AUDIT_H
#define NG_PRIVATE_AUDIT_H

#include "numagpu.h"
#include "private/apply.h"
#include "private/sample.h"
#include "private/util.h"

/* Node-level load counters of a task; -1 with why ("unavailable: ...") when
 * the machine has none. */
int ng_perf_open(int pid, int fds[2], char *why, size_t len);
int ng_perf_read(int fds[2], unsigned long long *accesses, unsigned long long *misses);
void ng_perf_close(int fds[2]);

/* The task part of an audit record: mode, gpu_source, gpus, intended,
 * effective, nics (JSON members without braces, malloc'ed); the caller
 * adds the verdict and reason. */
char *ng_audit_task_json(const ng_plan *p, int self, const ng_effective *eff,
                         const char *gpu_source);
/* "gpu 0000:5f:00.0 node 1: cpus 8-15 (node 1), mem bind 1 [local]" from
 * the effective placement (the intended one when eff is NULL). */
char *ng_audit_task_summary(const ng_plan *p, int self, const ng_effective *eff,
                            char *buf, size_t len);
typedef struct {
    unsigned long job, step;
    int task, global_task, pid, sample_age;
    const char *host;
    const char *user;         /* the job's user name; NULL: not known */
    long long uid, time;      /* -1: not known; time: s since the epoch */
} ng_audit_ids;
/* One complete record line (JSON + '\n', schema NG_AUDIT_SCHEMA): ids, the
 * task part, extra members (",\"plugin_ms\":..." or NULL), the last sample
 * with the % of pages on home, perf result or reason, and a one-line human
 * summary (summary = "gpu ... node N: cpus ..., mem ..."). */
char *ng_audit_record(const ng_audit_ids *ids, const char *task_json, const char *extra_json,
                      const char *summary, hwloc_const_bitmap_t home,
                      hwloc_const_bitmap_t home_cpus, int warn_local,
                      const ng_pages *sample, const char *perf);
/* Verdict of a sample: local (cpus within home_cpus, >= warn_local % pages
 * on home), remote (no cpu of home_cpus and below), partial otherwise. */
const char *ng_sample_verdict(const ng_pages *s, hwloc_const_bitmap_t home,
                              hwloc_const_bitmap_t home_cpus, int warn_local);
/* Append line to DIR/NAME safely as root (no symlinks, no foreign files,
 * directory not writable by others), atomically under flock. */
int ng_audit_append(const char *dir, const char *name, const char *line,
                    char *err, size_t errlen);
/* Summary of DIR/<jobid>.json, one line per task record. */
int ng_audit_summarize(const char *dir, unsigned long jobid, int warn_local,
                       char **text, char *err, size_t errlen);
/* Field of one of our JSON lines. */
int ng_json_str(const char *line, const char *key, char *out, size_t len);
int ng_json_num(const char *line, const char *key, double *out);

/* Flag tasks below this % of pages on their GPUs' nodes (audit_warn_local
 * default; `numa-gpu audit --pid` uses it too). */
#define NG_AUDIT_WARN_LOCAL 80

/* A live process's placement against its GPUs' nodes (`numa-gpu audit
 * --pid`): its GPU variables from /proc/<pid>/environ resolved through r,
 * a sample by method m, and the same verdict rule as the task records. */
typedef struct {
    int pid;
    ng_pages pages;
    int ngpus;
    char gpus[512];           /* bus ids, "" when none */
    ng_accel *accel;          /* ngpus of them; one not in the topology has
                                 locality unknown and no nodes */
    char source[64];          /* the GPU variable used */
    hwloc_bitmap_t home, home_cpus;
    const char *verdict;      /* nogpu|unknown|local|partial|remote */
    double local_pct, ci95;
    char problem[NG_ERRLEN];  /* a GPU that could not be resolved, or "" */
} ng_proc_audit;
int ng_proc_audit_run(const ng_topo *t, const ng_roots *r, int pid, ng_method m,
                      unsigned pages, int warn_local, ng_proc_audit *a, char *err,
                      size_t errlen);
/* `audit --pid --json`: 2 had "gpus" and "gpu_nodes" as cpulist-like
 * strings; 3 the shared GPU shape (private/gpujson.h). */
#define NG_PROC_AUDIT_SCHEMA 3
char *ng_proc_audit_json(const ng_proc_audit *a);   /* one line, escaped */
char *ng_proc_audit_text(const ng_proc_audit *a);
void ng_proc_audit_clear(ng_proc_audit *a);

#endif
