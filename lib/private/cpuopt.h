/* What the user asked of the CPU binding besides the GPU: hardware threads
 * per core (--hint=nomultithread, --threads-per-core), the thread count
 * (--cpus-per-task) and whether a rank may spread over its package's idle
 * cores (lib/cpuopt.c; the planner, lib/plan.c, keeps them).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_CPUOPT_H
#define NG_PRIVATE_CPUOPT_H

#include "numagpu.h"

/* smt: auto = what the user told Slurm (ng_cpuopt_from_env), 1 = one
 * hardware thread per core, all = every thread of the rank's cores. */
typedef enum { NG_SMT_AUTO = 0, NG_SMT_ONE, NG_SMT_ALL } ng_smt;
#define NG_SMT_NAMES "auto|1|all"
int ng_smt_parse(const char *s, ng_smt *out);
const char *ng_smt_name(ng_smt s);

/* cpus: node = the cores of the GPU's NUMA node(s) (the default); package
 * = also the package's cores no rank of the step uses, shared between the
 * package's ranks (memory stays on the GPU's node). */
typedef enum { NG_SCOPE_NODE = 0, NG_SCOPE_PACKAGE } ng_cpu_scope;
#define NG_SCOPE_NAMES "node|package"
int ng_cpu_scope_parse(const char *s, ng_cpu_scope *out);
const char *ng_cpu_scope_name(ng_cpu_scope s);

#define NG_MAX_THREADS_PER_CORE 16   /* POWER9 has 4, no machine has 16 */
#define NG_MAX_CPUS_PER_TASK 65536

typedef struct ng_cpuopt_s {
    int threads_per_core;   /* 0: every hardware thread; k: at most k a core */
    ng_cpu_scope scope;
    int cpus_per_task;      /* > 0: the rank's OMP_NUM_THREADS */
    int from_slurm;         /* threads_per_core read from Slurm's variables */
    char why[96];           /* what asked for threads_per_core (explain) */
} ng_cpuopt;

/* The options resolved against what the user told Slurm, read through fn:
 * smt auto takes SLURM_HINT=nomultithread (1 a core) or
 * SLURM_THREADS_PER_CORE=k; cpus_per_task <= 0 takes SLURM_CPUS_PER_TASK.
 * A value Slurm would never export (not a number, out of range) is -1 with
 * err naming it and what is allowed; nothing of out is then set. */
int ng_cpuopt_from_env(ng_smt smt, ng_cpu_scope scope, int cpus_per_task, ng_getenv_fn fn,
                       void *ctx, ng_cpuopt *out, char *err, size_t errlen);

/* Slurm's own mask for the task (its affinity when task_init runs) checks
 * a threads_per_core read from Slurm's variables: SLURM_THREADS_PER_CORE=1
 * stays set under --cpu-bind=cores, which widens each chosen PU back to its
 * whole core; when the mask holds more than threads_per_core PUs of a
 * core, the user's binding wins and nothing is trimmed. */
void ng_cpuopt_slurm_mask(ng_cpuopt *co, const ng_topo *t, hwloc_const_bitmap_t mask);

/* --cpu-bind=verbose: the task's SLURM_CPU_BIND_VERBOSE is "verbose", or
 * its SLURM_CPU_BIND has a "verbose" word. */
int ng_cpu_bind_verbose(ng_getenv_fn fn, void *ctx);
/* The mask a task runs with, in the format of Slurm's own verbose line
 * (task_slurm_chkaffinity: "cpu-bind-threads=MASK - node1, task  0  0
 * [1234]: mask 0x3 set"), named NUMA-GPU where Slurm names its bind type.
 * -1 when it does not fit len. */
int ng_cpu_bind_line(const char *host, unsigned gtid, unsigned ltid, unsigned pid,
                     hwloc_const_bitmap_t cpus, char *buf, size_t len);

/* The planner (ng_plan_compute_policy) keeping co (NULL: none). */
int ng_plan_compute_cpuopt(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                           hwloc_const_bitmap_t allowed_mems, int nranks,
                           const ng_rank_gpus *gpus, ng_mode mode, const ng_plan_policy *pol,
                           const ng_cpuopt *co, ng_plan *plan, char *err, size_t errlen);

#endif
