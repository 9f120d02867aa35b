/* The cluster-wide report (lib/report.c): audit records from many nodes
 * (directories, files) summarized per job, per node and per user, worst
 * offenders first. Lines that are not records are counted and named
 * (file:line), never fatal.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_REPORT_H
#define NG_PRIVATE_REPORT_H

#include "private/record.h"

/* Which records count; f and what it points to must outlive the report. */
typedef struct {
    const unsigned long *jobs;
    int njobs;                   /* 0: every job */
    const char *const *users;    /* names, or uids in decimal */
    int nusers;
    const char *const *nodes;    /* host names or shell patterns (gpu[0-3]*) */
    int nnodes;
    long long since;             /* s since the epoch, -1: no limit. A record without
                                    "time" (schema < 3) counts at its file's mtime */
} ng_report_filter;

typedef enum { NG_PROB_DAMAGED = 0, NG_PROB_TOO_LONG, NG_PROB_FUTURE, NG_PROB_INVALID,
               NG_PROB_DUPLICATE, NG_PROB_UNREADABLE, NG_PROB_COUNT } ng_problem;
const char *ng_problem_name(ng_problem p);

typedef struct {
    unsigned long files, lines;
    unsigned long records;                    /* read whole (every schema) */
    unsigned long by_schema[NG_AUDIT_SCHEMA + 1];
    unsigned long filtered, used;             /* records: not matching, counted */
    unsigned long problems[NG_PROB_COUNT];
} ng_report_input;

/* One row of a table. */
typedef struct {
    char name[256];          /* job id, host, or user ("" when not recorded) */
    char user[64];           /* a job's user */
    unsigned long job;       /* a job's id */
    unsigned long tasks, cls[NG_CLASS_COUNT], errors, sampled;
    unsigned long long pages, local_pages;   /* sampled pages, of them on the GPUs' nodes */
    double worst_pct;        /* lowest local_pct of a task; -1: none sampled */
    unsigned long long hp_reserved_kb, hp_released_kb;
    unsigned long irqs;      /* once per step and host */
    unsigned long jobs, nodes, users;   /* distinct: node and user rows' jobs, a job's
                                           nodes; the total row has all three */
    double plugin_ms_sum, plugin_ms_max;
    unsigned long plugin_n;
    long long first, last;   /* record times; -1: none */
} ng_report_row;

/* bad = partial + remote + unbound + refused: the sort key. */
unsigned long ng_report_row_bad(const ng_report_row *w);

typedef enum { NG_BY_JOB = 0, NG_BY_NODE, NG_BY_USER, NG_BY_COUNT } ng_report_by;

typedef struct ng_report ng_report;
ng_report *ng_report_new(const ng_report_filter *f);
void ng_report_free(ng_report *r);
/* A file, or a directory: its *.json files and its subdirectories' (no
 * symlinks followed, hidden names skipped), each file read once. -1 (err
 * names it) when path itself cannot be read; a file inside that cannot is
 * counted as a problem. */
int ng_report_add_path(ng_report *r, const char *path, char *err, size_t errlen);
/* Lines of text as if read from a file called name, modified at mtime. */
void ng_report_add_text(ng_report *r, const char *name, const char *text, size_t len,
                        long long mtime);

const ng_report_input *ng_report_input_counts(const ng_report *r);
/* The rows of one table, worst first (bad tasks, then lowest share of
 * local pages, then errors, then name); the total row. */
int ng_report_rows(ng_report *r, ng_report_by by, const ng_report_row **rows);
const ng_report_row *ng_report_total(ng_report *r);
/* The problems named (file:line: kind: why), at most max per kind, and a
 * count of the rest; "" when none. */
char *ng_report_problems(const ng_report *r, int max);

/* The tables as text, or one JSON object per line (input, problems, rows,
 * total); top > 0 keeps the top rows of each table. */
char *ng_report_text(ng_report *r, int top);
char *ng_report_json(ng_report *r, int top);

/* --since: a duration back from now ("90s", "30m", "12h", "7d", "2w", at
 * most 100 years) or a date "YYYY-MM-DD[THH:MM[:SS]][Z]" (local time unless
 * Z; a space may replace the T), or "@EPOCH"; never after now. */
int ng_since_parse(const char *s, long long now, long long *out, char *err, size_t errlen);

#endif
