/* Putting a rank's plan into effect in the calling task and reading back
 * what the kernel did (lib/apply.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_APPLY_H
#define NG_PRIVATE_APPLY_H

#include "numagpu.h"

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
