/* Where a task's pages are: its memory cgroup, sampled pages, or the full
 * numa_maps walk (lib/sample.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_SAMPLE_H
#define NG_PRIVATE_SAMPLE_H

#include "numagpu.h"
#include "private/util.h"   /* NG_MAX_NODES */

/* Pages per NUMA node (in 4 KiB units, huge pages counted by size). */
typedef struct {
    unsigned long pages[NG_MAX_NODES];
    unsigned long total;
    char policy[64];   /* numa_maps policy of the largest area ("bind:1") */
    char cpus[512];    /* Cpus_allowed_list of the sampled process */
    int nprocs;        /* processes sampled */
    unsigned sampled;  /* sampled method: pages asked */
    unsigned hits;     /* sampled method: of them resident (total is the
                          estimate of resident pages) */
    int method;        /* ng_method that produced it */
    char level[16];    /* cgroup method: "task", "step", ... */
} ng_pages;

/* How a task's pages are counted: auto picks cgroup (the task's own memory
 * cgroup), else sampled; numa_maps (the full walk) only when asked. */
typedef enum { NG_METHOD_AUTO = 0, NG_METHOD_CGROUP, NG_METHOD_SAMPLED,
               NG_METHOD_NUMA_MAPS } ng_method;
const char *ng_method_name(ng_method m);
int ng_method_parse(const char *s, ng_method *m);
/* memory.numa_stat (v1 "anon=.. N0=.." pages, v2 "anon N0=.." bytes) ->
 * anonymous pages per node; -1 if no anon line parses. */
int ng_memcg_numa_stat_parse(const char *text, ng_pages *p);
/* The memory cgroup of pid and its anon pages per node; level says which
 * Slurm cgroup it is ("task", "step", "job", "other"). */
int ng_sample_cgroup(const char *procfs, const char *sysfs, int pid, ng_pages *p, char *level,
                     size_t levlen, char *err, size_t errlen);
/* About npages random pages of pid's readable mappings (spread by each
 * mapping's estimated resident size) asked with move_pages in batches of
 * 64; pages[] and total estimate resident pages per node. */
int ng_sample_pages(const char *procfs, int pid, unsigned npages, unsigned seed, ng_pages *p,
                    char *err, size_t errlen);
/* The placement of task pid by method m (auto: its own memory cgroup, or
 * its step's when alone; else npages sampled over it and its children;
 * numa_maps: the full walk of it and its children), with its cpus. */
int ng_sample_task(const char *procfs, const char *sysfs, int pid, ng_method m, unsigned npages,
                   int alone, ng_pages *p, char *err, size_t errlen);
/* Half-width of the 95 % confidence interval of local_pct, in points. */
double ng_pages_ci95(const ng_pages *p, hwloc_const_bitmap_t nodes);

/* Add a numa_maps text into p; returns lines parsed, -1 if nothing parsed
 * and something was malformed. */
int ng_numa_maps_parse(const char *text, ng_pages *p);
/* Sample /proc/<pid>/numa_maps (and its descendants if children). */
int ng_sample_pid(const char *procfs, int pid, int children, ng_pages *p,
                  char *err, size_t errlen);
double ng_pages_local_pct(const ng_pages *p, hwloc_const_bitmap_t nodes);
char *ng_pages_str(const ng_pages *p, char *buf, size_t len); /* "0:12,1:3" */

#endif
