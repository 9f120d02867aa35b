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
    int rules;                 /* NG_BIND_RULES_*: Slurm changed how per_task
                                  and single pick GPUs after 22.05 */
} ng_assign_in;
#define NG_BIND_RULES_CURRENT 0 /* closest-first per_task, slot-based single */
#define NG_BIND_RULES_2205 1    /* per_task in index order, single by block */
/* The rules of a Slurm release: 22.05 rules below 23.02, else current. */
int ng_bind_rules_for(int major, int minor);

typedef struct {
    int ntasks;
    int *n;                    /* GPUs of task i */
    unsigned **gres;           /* their GRES indexes, ascending */
    int shared;                /* no per-task binding: all tasks, all GPUs */
    int fallback;              /* a binding named no GPU of the step: Slurm
                                  gave that task the step's first GPU */
    char how[192];             /* the binding and how it was read */
} ng_assignment;

int ng_assign(const ng_assign_in *in, ng_assignment *out, char *err, size_t errlen);
void ng_assignment_free(ng_assignment *a);
/* SLURM_CPU_BIND_TYPE + SLURM_CPU_BIND_LIST -> one cpuset per task (lists
 * shorter than ntasks are reused, as Slurm does); sets[] preallocated. */
int ng_cpu_bind_list(const char *type, const char *list, int ntasks, hwloc_bitmap_t *sets,
                     char *err, size_t errlen);

#endif
