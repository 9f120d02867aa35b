/* A step's ranks and their GPUs, and the one plan path (lib/step.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_STEP_H
#define NG_PRIVATE_STEP_H

#include "numagpu.h"

/* The GPUs of every local rank of a step, as the plugin and `numa-gpu exec`
 * see them. Every local task builds the same step, so all compute the same
 * plan and ranks sharing a node get disjoint cores. */
typedef struct {
    int nranks;
    ng_rank_gpus *ranks;
    int self;            /* the calling task's local rank, -1 if none */
    char source[64];     /* where the GPU ids came from */
    /* The GPUs the calling task's own variables list (CUDA_VISIBLE_DEVICES
     * and kin), in their order, and which of them are its home (the row
     * it is placed by): positions home_from .. home_from + home_cnt - 1.
     * nvisible 0: not known (lib/visible.c then leaves them alone). */
    int nvisible, home_from, home_cnt;
    char (*visible)[NG_BUSID_LEN];
} ng_step;

/* Home GPUs when ntasks tasks share a list of n GPUs (the local-rank
 * convention, cuda:LOCAL_RANK): task i takes positions [from, from + cnt):
 * balanced consecutive chunks when n >= ntasks, else GPU i % n (what
 * local_rank % device_count picks); no GPU is home to two tasks while
 * another is home to none. */
void ng_home_chunk(int i, int ntasks, int n, int *from, int *cnt);
/* Record the calling task's visible list (n bus ids, copied) and its home
 * positions in st. */
int ng_step_set_visible(ng_step *st, char (*busids)[NG_BUSID_LEN], int n, int from, int cnt);

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
/* The one plan path: step -> plan (keeping the user's CPU requests co,
 * private/cpuopt.h; NULL none) -> memory tier (mem), with the mode's rule
 * for a tier this node lacks (strict: error; otherwise local memory is
 * kept and warn says why). Used by the plugin, exec and hints alike. */
struct ng_cpuopt_s;
int ng_step_plan(const ng_topo *t, const ng_step *st, hwloc_const_bitmap_t cpus,
                 hwloc_const_bitmap_t mems, ng_mode mode, ng_memopt mem,
                 const ng_plan_policy *pol, const struct ng_cpuopt_s *co, ng_plan *p,
                 char *warn, size_t warnlen, char *err, size_t errlen);
void ng_step_free(ng_step *st);
/* For the modules that build steps (lib/slurmstep.c): n ranks without
 * GPUs; one more GPU for a rank. */
int ng_step_alloc(ng_step *st, int n, char *err, size_t errlen);
int ng_step_add_gpu(ng_rank_gpus *g, const char busid[NG_BUSID_LEN]);

#endif
