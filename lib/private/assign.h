/* Which of the step's GPUs Slurm gives each task (lib/assign.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_ASSIGN_H
#define NG_PRIVATE_ASSIGN_H

#include "numagpu.h"

/* Which of the step's GPUs Slurm gives each local task, mirroring Slurm's
 * GRES binding (--gpus-per-task, --ntasks-per-gpu, --gpu-bind=none|closest|
 * single:N|per_task:N|map_gpu:...|mask_gpu:...), from step-wide facts only so
 * every task of a node computes the same rows. */
typedef struct {
    int ngres;
    const unsigned *gres;      /* the step's GPUs on this node: GRES indexes,
                                  ascending (SLURM_STEP_GPUS before fork) */
    int ntasks;                /* local tasks */
    const char *bind;          /* tres binding as Slurm passes it
                                  ("gres/gpu:map_gpu:1,0", "gpu:per_task:1");
                                  NULL/"" = none */
    int local_index;           /* task/cgroup + ConstrainDevices: map/mask ids
                                  are positions among the step's GPUs */
    hwloc_const_bitmap_t const *task_cpus; /* ntasks cpusets, NULL = unknown */
    hwloc_const_bitmap_t const *gres_cpus; /* per node GRES index: its
                                  gres.conf Cores= as cpus; NULL = none */
    int ngres_cpus;
    unsigned release;          /* the Slurm release whose rules apply,
                                  NG_RELEASE(major, minor, micro); 0 = newest */
} ng_assign_in;
/* A Slurm release as SLURM_VERSION_NUM numbers it. Slurm changed how it
 * picks a task's GPUs at 23.02.0, 23.02.2, 23.02.4 and 23.11.0 (per mode,
 * see lib/assign.c and contrib/docs/slurm-releases.md). */
#define NG_RELEASE(a, b, c) ((unsigned)(a) << 16 | (unsigned)(b) << 8 | (unsigned)(c))
#define NG_RELEASE_OLDEST NG_RELEASE(22, 5, 0)
/* "23.02", "23.02.4", "26.05.3" -> NG_RELEASE; -1 names what is allowed. */
int ng_release_parse(const char *s, unsigned *release, char *err, size_t errlen);
/* "23.02.4" (micro omitted when -1 < 0); 0 prints "newest". */
const char *ng_release_str(unsigned release, char *buf, size_t len);

typedef struct {
    int ntasks;
    int *n;                    /* GPUs of task i */
    unsigned **gres;           /* their GRES indexes, ascending */
    int shared;                /* no per-task binding: all tasks, all GPUs */
    int fallback;              /* a binding named no GPU of the step: Slurm
                                  gave that task the step's first GPU */
    int unknown;               /* Slurm's rows cannot be computed from the
                                  step's facts (how says why): only what
                                  each task observes tells its GPUs */
    int mask_env_differs;      /* mask_gpu on a release whose task env under
                                  ConstrainDevices counts other GPUs than its
                                  device cgroup (before 24.11.5) */
    char how[240];             /* the binding and how it was read */
} ng_assignment;

int ng_assign(const ng_assign_in *in, ng_assignment *out, char *err, size_t errlen);
void ng_assignment_free(ng_assignment *a);
/* Slurm's task cpus (task/affinity get_cpuset): SLURM_CPU_BIND_TYPE
 * (mask_cpu:, map_cpu:, mask_ldom:, map_ldom:, rank_ldom) + SLURM_CPU_BIND_LIST
 * -> one cpuset per task (lists shorter than ntasks are reused, as Slurm
 * does); sets[] preallocated. node_cpus[i] = cpus of NUMA node OS index i
 * (nnodes entries) for the ldom forms; may be NULL otherwise. */
int ng_cpu_bind_list(const char *type, const char *list, int ntasks, hwloc_bitmap_t *sets,
                     hwloc_const_bitmap_t const *node_cpus, int nnodes, char *err, size_t errlen);

#endif
