/* Hugepage reservations on a node, with a ledger (lib/hugepages.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_HUGEPAGES_H
#define NG_PRIVATE_HUGEPAGES_H

#include "numagpu.h"

typedef struct {
    const char *sysfs;               /* NULL = /sys */
    const char *procfs;              /* NULL = /proc (owner liveness) */
    const char *state_dir;           /* ledger and lock, root-only */
    unsigned long long max_per_job;  /* bytes per job per node, 0 = no cap */
    double max_fraction;             /* of a node's MemTotal, 0 = no cap */
} ng_hp_ctx;

typedef struct {
    unsigned long job, step;
    int task, node;
    unsigned long page_kb;
    long count;                      /* pages wanted */
    int owner;                       /* pid whose life bounds the reservation */
} ng_hp_req;

/* "8G", "4096M:2M", "2G:1G" -> bytes and page size in kB (default 2048). */
int ng_hp_parse_size(const char *s, unsigned long long *bytes, unsigned long *page_kb,
                     char *err, size_t errlen);
/* Page sizes a node offers ("2048kB,1048576kB"). */
int ng_hp_page_sizes(const char *sysfs, int node, char *out, size_t len);
/* A counter of node/page size: "nr_hugepages", "free_hugepages". */
int ng_hp_read(const char *sysfs, int node, unsigned long page_kb, const char *file, long *out);
/* Raise the node's count by r->count under the ledger lock; *granted is
 * what the kernel actually gave (may be less). Reconciles dead owners first.
 * A cap or a corrupt ledger refuses with a message naming it. */
int ng_hp_reserve(const ng_hp_ctx *c, const ng_hp_req *r, long *granted, char *err,
                  size_t errlen);
/* Give back what job added (one step/task, or all with -1), and what
 * steps whose owner is gone added; job 0 = only the latter (reconcile). */
int ng_hp_release(const ng_hp_ctx *c, unsigned long job, long step, int task,
                  int *released, char *err, size_t errlen);
/* Human listing of the ledger; *failed = 1 when it could not be read
 * (corrupt, unsafe, unlockable): the text then says why. */
char *ng_hp_status(const ng_hp_ctx *c, int *failed);
/* Bytes the ledger holds reserved now, added into bytes[node] (an array of
 * NG_MAX_NODES), read under the ledger lock (metrics). */
int ng_hp_reserved_bytes(const ng_hp_ctx *c, unsigned long long *bytes, char *err,
                         size_t errlen);
unsigned long long ng_proc_start_time(const char *procfs, int pid);

/* Reserve task local's share of bytes on nodes (split evenly, rounded up
 * to whole pages) for owner. env gets "node:countxsizekB,..." (what the
 * kernel granted). strict: every page or nothing (rolled back, -1);
 * otherwise a shortfall is a warning and 0. */
int ng_hp_reserve_rank(const ng_hp_ctx *c, unsigned long job, unsigned long step, int local,
                       hwloc_const_bitmap_t nodes, unsigned long long bytes,
                       unsigned long page_kb, int owner, int strict, char *env, size_t envlen,
                       char *warn, size_t warnlen, char *err, size_t errlen);

/* Reservations for a step's tasks, made by root on their behalf: started in
 * the root parent before tasks fork (its pid owns the pages), asked from
 * each task once it knows its plan row (possibly after dropping
 * privileges), stopped at step end. */
typedef struct ng_hp_service ng_hp_service;
ng_hp_service *ng_hp_service_start(const ng_hp_ctx *c, unsigned long job, unsigned long step,
                                   int ntasks, unsigned long long bytes, unsigned long page_kb,
                                   char *err, size_t errlen);
/* In task local: reserve on nodes and wait at most timeout_ms; env is the
 * NUMA_GPU_HUGEPAGES value, warn a prefer-mode shortfall ("" if none). */
int ng_hp_service_ask(ng_hp_service *s, int local, hwloc_const_bitmap_t nodes, int strict,
                      int timeout_ms, char *env, size_t envlen, char *warn, size_t warnlen,
                      char *err, size_t errlen);
void ng_hp_service_stop(ng_hp_service *s);

#endif
