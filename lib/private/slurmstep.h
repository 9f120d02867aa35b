/* Slurm's side of a step: which GPUs Slurm gave each task (from the step's
 * GRES list, binding, gres.conf and what the task can open), batch steps and
 * launcher daemons (lib/slurmstep.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_SLURMSTEP_H
#define NG_PRIVATE_SLURMSTEP_H

#include "numagpu.h"
#include "private/assign.h"
#include "private/step.h"

/* The step from Slurm's assignment (ng_assign): rank i gets task i's GPUs
 * resolved to bus ids. A shared assignment (no per-task binding) follows the
 * local-rank convention: rank i takes chunk i when the list splits evenly,
 * GPU i / (tasks per GPU) when tasks share GPUs evenly, else all of them. */
int ng_step_from_assignment(const ng_topo *t, const ng_roots *r, const ng_assignment *a,
                            const char *const *dev, int ndev, int self, ng_step *st, char *err,
                            size_t errlen);
/* GRES index g (a Slurm device index) -> its PCI bus id: through dev, the
 * device file gres.conf gives g (NULL: none known), else the index. */
int ng_gres_resolve(const ng_topo *t, const ng_roots *r, unsigned g, const char *dev,
                    char b[NG_BUSID_LEN], char *err, size_t errlen);
/* "0,1,3" -> ascending unique GRES indexes (malloc'ed). */
int ng_gres_list_parse(const char *s, unsigned **out, int *n, char *err, size_t errlen);
/* Cross-check row self against the task's own SLURM_STEP_GPUS: the same
 * GRES indexes (global ids), or the same count (local_index). 0 when they
 * agree or the task names none; -1 with why. */
int ng_assign_check(const ng_assignment *a, int self, int local_index, ng_getenv_fn fn,
                    void *ctx, char *why, size_t len);
/* What gres.conf Cores= (or AutoDetect) says for each step GPU: the cpus of
 * its NUMA node(s) in the topology; out[g] NULL where unknown. */
int ng_gres_local_cpus(const ng_topo *t, const ng_roots *r, const unsigned *gres, int n,
                       hwloc_bitmap_t **out, int *nout);
void ng_gres_local_cpus_free(hwloc_bitmap_t *v, int n);
/* gres.conf as slurmd reads it for node, per node GRES index: the device
 * file and the cpus Slurm tests for "close" (the record's Cores= through
 * Slurm's core numbering; with AutoDetect and no Cores= the GPU's NUMA node
 * cpus, as the driver reports them; else NULL: close to every cpu).
 * gres_cores 1 takes the NUMA node cpus for every GPU, 0 none (admin
 * overrides). */
typedef struct {
    int n;                    /* entries: highest step GRES index + 1 */
    hwloc_bitmap_t *cpus;     /* NULL entries: no Cores */
    char **dev;               /* NULL entries: no device file */
    int env_uuid;             /* a GPU record has Flags=env_uuid */
    char note[320];           /* how it was read (for verbose logs) */
} ng_gres_facts;
int ng_gres_facts_read(const ng_topo *t, const ng_roots *r, const char *slurm_conf,
                       const char *node, int gres_cores, const unsigned *gres, int ngres,
                       ng_gres_facts *f, char *err, size_t errlen);
void ng_gres_facts_free(ng_gres_facts *f);
/* What slurmstepd knows of a step before its tasks fork, the same for every
 * task: its GPUs on this node and how Slurm numbers and binds them. */
typedef struct {
    int ngres;
    const unsigned *gres;      /* GRES indexes, ascending; 0 GPUs: none */
    int local_index;           /* ConstrainDevices: ids relative to the step */
    unsigned release;          /* NG_RELEASE of the running Slurm */
    hwloc_const_bitmap_t const *gres_cpus; /* gres.conf Cores= per index */
    int ngres_cpus;
    int task_affinity;         /* TaskPlugin has task/affinity: from 23.02
                                  Slurm's "close" uses the task's cpus only
                                  then (else all cpus) */
    const char *const *gres_dev; /* per node GRES index: its device file
                                  (gres.conf File=), NULL = unknown */
    int ngres_dev;
    int device_check;          /* ask the kernel which of the step's GPUs
                                  the task can open (ConstrainDevices) */
    int (*dev_check)(const char *path, int *errnum); /* NULL: ng_dev_check
                                  (tests give their own kernel answers) */
} ng_slurm_step;
/* The step as task self of ntasks sees it: Slurm's per-task binding
 * (SLURMD_TRES_BIND, SLURM_CPU_BIND_TYPE/LIST) for every row, cross-checked
 * with the task's own SLURM_STEP_GPUS. When they disagree strict fails
 * and the other modes put the task on the nodes of all the step's GPUs
 * (warn says so). A step without GPUs reads the task's environment. */
int ng_step_from_slurm(const ng_topo *t, const ng_roots *r, const ng_slurm_step *s, int ntasks,
                       int self, ng_mode mode, ng_getenv_fn fn, void *ctx, ng_step *st,
                       char *warn, size_t warnlen, char *err, size_t errlen);
/* The batch script's node (the plugin's batch step, `numa-gpu hints` in an
 * allocation): ntasks (<= 0: SLURM_NTASKS_PER_NODE, else
 * SLURM_TASKS_PER_NODE, else 1) ranks over the GPUs the environment names. */
int ng_step_from_batch(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn, void *ctx,
                       int ntasks, ng_step *st, char *err, size_t errlen);
/* argv[0] of an MPI launcher daemon (orted, prted, hydra_pmi_proxy, ...):
 * a step that must not be bound to one GPU node. */
int ng_launcher_daemon(const char *argv0);

/* Tasks on the first node from SLURM_NTASKS_PER_NODE / SLURM_TASKS_PER_NODE
 * ("4", "2(x3),1"): 1..65536, else -1 naming the value. */
int ng_tasks_per_node_parse(const char *s, int *n, char *err, size_t errlen);

#endif
