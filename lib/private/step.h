/* A step's ranks, the one plan path, and putting a rank's plan into effect
 * (lib/step.c, lib/apply.c, lib/cgroup.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_STEP_H
#define NG_PRIVATE_STEP_H

#include "numagpu.h"
#include "private/assign.h"

/* ------------------------------------------------------------------- allowed */

/* The cpus and memory nodes the process pid (0 = self) may use: its cpuset
 * cgroup (v2 or v1), not its current affinity mask. Falls back to all online
 * CPUs and Mems_allowed_list. procfs/sysfs NULL = /proc, /sys. */
int ng_allowed_read(const char *procfs, const char *sysfs, int pid,
                    hwloc_bitmap_t cpus, hwloc_bitmap_t mems, char *err,
                    size_t errlen);

/* --------------------------------------------------------------------- apply */

typedef struct {
    hwloc_bitmap_t cpus;      /* effective, read back from the kernel */
    hwloc_bitmap_t mems;
    ng_mempol policy;
} ng_effective;

/* Bind the calling process (all its threads' future children) to the rank's
 * cpus and memory policy, then read back what the kernel did into eff (may
 * be NULL). On failure nothing is left half-applied: the previous affinity
 * and policy are restored. */
int ng_apply(const ng_topo *t, const ng_rank_plan *rp, ng_effective *eff,
             char *err, size_t errlen);
/* Only set the calling thread's CPU affinity (e.g. widen an MPI daemon). */
int ng_bind_cpus(hwloc_const_bitmap_t cpus, char *err, size_t errlen);
/* Read the calling process's (pid 0) or another process's affinity and
 * the caller's memory policy. */
int ng_effective_read(int pid, ng_effective *eff, char *err, size_t errlen);
void ng_effective_clear(ng_effective *eff);

/* ---------------------------------------------------------------------- step */

/* The GPUs of every local rank of a step, as the plugin and `numa-gpu exec`
 * see them. Every local task builds the same step, so all compute the same
 * plan and ranks sharing a node get disjoint cores. */
typedef struct {
    int nranks;
    ng_rank_gpus *ranks;
    int self;            /* the calling task's local rank, -1 if none */
    char source[64];     /* where the GPU ids came from */
} ng_step;

/* --gpus "0,1:2,3": ids by ',', ranks by ':' (a ':' inside a PCI bus id is
 * part of the id). ntasks > groups adds ranks without GPUs. */
int ng_step_from_spec(const ng_topo *t, const ng_roots *r, const char *spec,
                      int ntasks, ng_step *st, char *err, size_t errlen);
/* ntasks ranks, rank i gets GRES indexes i*k .. i*k+k-1. */
int ng_step_from_count(const ng_topo *t, const ng_roots *r, int ntasks, int k,
                       ng_step *st, char *err, size_t errlen);
/* From a task's environment (a launcher's ranks, the batch script).
 * ntasks <= 0 / local_rank < 0: read LOCAL_WORLD_SIZE/LOCAL_RANK (torchrun),
 * OMPI_COMM_WORLD_LOCAL_SIZE/_RANK, SLURM_STEP_NUM_TASKS.../SLURM_LOCALID.
 * The step's GPUs are split in equal consecutive chunks over the ranks; the
 * calling task's row is always the GPUs its own environment names. */
int ng_step_from_env(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn,
                     void *ctx, int ntasks, int local_rank, ng_step *st, char *err,
                     size_t errlen);
const char *ng_step_getenv_process(const char *name, void *ctx);
/* The step from Slurm's assignment (ng_assign): rank i gets task i's GPUs
 * resolved to bus ids. A shared assignment (no per-task binding) follows the
 * local-rank convention: rank i takes chunk i when the list splits evenly,
 * GPU i / (tasks per GPU) when tasks share GPUs evenly, else all of them. */
int ng_step_from_assignment(const ng_topo *t, const ng_roots *r, const ng_assignment *a,
                            int self, ng_step *st, char *err, size_t errlen);
/* GRES index g (a Slurm device index) -> its PCI bus id. */
int ng_gres_resolve(const ng_topo *t, const ng_roots *r, unsigned g, char b[NG_BUSID_LEN],
                    char *err, size_t errlen);
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
/* The one plan path: step -> plan -> memory tier (mem), with the mode's
 * rule for a tier this node lacks (strict: error; otherwise local memory is
 * kept and warn says why). Used by the plugin, exec and hints alike. */
int ng_step_plan(const ng_topo *t, const ng_step *st, hwloc_const_bitmap_t cpus,
                 hwloc_const_bitmap_t mems, ng_mode mode, ng_memopt mem,
                 const ng_plan_policy *pol, ng_plan *p, char *warn, size_t warnlen, char *err,
                 size_t errlen);
/* The kernel's isolated CPUs (isolcpus=) and nohz_full CPUs from
 * SYSFS/devices/system/cpu (sysfs NULL = /sys); missing files are empty
 * sets. -1 only for a file that does not parse (err names it). */
int ng_isolated_read(const char *sysfs, hwloc_bitmap_t isolated, hwloc_bitmap_t nohz_full,
                     char *err, size_t errlen);

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

void ng_step_free(ng_step *st);

/* Apply rank `self` of plan p to the calling task, verify it by reading the
 * kernel's view back, and export NUMA_GPU_NODE, NUMA_GPU_CPUS and (only if
 * unset) OMP_NUM_THREADS, OMP_PLACES, OMP_PROC_BIND through setenv_fn; with
 * NICs near the rank (unless nic_off) NUMA_GPU_NICS and, only if unset,
 * UCX_NET_DEVICES, NCCL_IB_HCA (RDMA devices, exact names) and, for a rank
 * with GPUs, MPICH_OFI_NIC_POLICY=GPU.
 * strict: any refusal or mismatch returns -1 and nothing stays applied.
 * prefer/interleave: problems are warnings; the task runs unbound if the
 * placement could not be applied. explain/off: nothing is applied.
 * Messages go to log_fn (level 0 info, 1 warning, 2 error). */
typedef int (*ng_setenv_fn)(const char *name, const char *val, int overwrite,
                            void *ctx);
typedef void (*ng_log_fn)(int level, const char *msg, void *ctx);
typedef struct {
    ng_getenv_fn getenv_fn;
    ng_setenv_fn setenv_fn;
    ng_log_fn log_fn;
    void *ctx;
    int verbose;
    int nic_off;           /* nic=off: export no NIC variables */
} ng_task_io;
int ng_task_apply(const ng_topo *t, const ng_plan *p, int self,
                  const ng_task_io *io, ng_effective *eff, char *err,
                  size_t errlen);

#endif
