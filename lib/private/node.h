/* The node's setup of a step and the placement of its tasks (lib/node.c):
 * the one path the SPANK plugin and `numa-gpu exec`/`plan` share. It owns
 * the decisions a front-end would otherwise make in its own words: the job's
 * mode, the allowed sets, the admin's core policy, the exclusive-job test,
 * what kind of step this is, the Slurm step, the services a step starts,
 * and the strict/prefer/explain rule of every failure. A front-end reads
 * Slurm (or its options) into ng_node_facts/ng_task_facts and calls these.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed.
 *
 * This is the top of the library's graph: it may include the services'
 * headers (audit, hugepages, irq, draw); nothing below includes it. */
#ifndef NG_PRIVATE_NODE_H
#define NG_PRIVATE_NODE_H
#include "numagpu.h"
#include "private/apply.h"
#include "private/config.h"
#include "private/cpuopt.h"
#include "private/slurmstep.h"

/* What a step is to us: nothing (the extern step, mode off, or left
 * alone), tasks to place, an MPI launcher daemon (widened to the job's
 * cpus), or the batch script (hints for mpirun & co.). */
typedef enum { NG_KIND_NONE, NG_KIND_TASKS, NG_KIND_DAEMON, NG_KIND_BATCH } ng_step_kind;

/* The user's options (--numa-gpu and kin); -1 / 0: not given. */
typedef struct {
    int given, verbose;
    ng_mode mode;
    ng_memopt mem;
    int smt, scope, visible;         /* -1: the config's default */
    unsigned long long hp_bytes;     /* --numa-gpu-hugepages, 0: none */
    unsigned long hp_page_kb;
} ng_user_opts;
void ng_user_opts_init(ng_user_opts *u);

/* What the front-end read of the step before its tasks fork. Strings as
 * Slurm gives them; NULL where unknown. */
typedef struct {
    unsigned long job, step;
    int batch_step, extern_step;     /* the step id says so */
    const char *argv0;               /* the step's program */
    const char *step_cores;          /* Slurm core indexes of the step here */
    const char *job_cores;           /* ... of the job */
    const char *step_gpus;           /* SLURM_STEP_GPUS */
    const char *numa_gpu_env;        /* NUMA_GPU */
    unsigned release;                /* NG_RELEASE of the running Slurm */
    const char *slurm_conf;          /* SLURM_CONF, NULL: /etc/slurm */
    const char *node;                /* Slurm's node name */
    int ntasks;                      /* tasks of the step on this node */
    long long uid;                   /* the job's user, -1 unknown */
    const char *user;
} ng_node_facts;

struct ng_audit_step;
struct ng_hp_service;

/* A step on this node. Filled before the tasks fork; each task inherits a
 * copy (the audit and hugepage services share memory with the tasks). */
typedef struct {
    const ng_config *cfg;
    ng_user_opts opt;
    ng_step_kind kind;
    ng_mode mode;
    int verbose;
    unsigned long job, step;
    ng_topo *topo;
    hwloc_bitmap_t cpus, mems;       /* the step's (a daemon's: the job's) */
    hwloc_bitmap_t isolated, nohz;   /* the kernel's, for the admin's policy */
    ng_plan_policy policy;
    unsigned *gres;                  /* the step's GPUs on this node */
    ng_gres_facts gres_facts;        /* gres.conf per GRES index */
    char gres_node[256];             /* the node gres.conf was read for */
    char slurm_conf[4096];           /* SLURM_CONF, "" the default */
    ng_slurm_step slurm;
    struct ng_audit_step *audit;
    struct ng_hp_service *hp;
    int irq_pending;                 /* irq=: at the first forked task */
    int irqs_steered;                /* irq=apply: steered for the step; -1 */
    int picture_fd;                  /* explain + picture=: task 0 draws */
    char picture_name[128];          /* its name in audit_dir, "" none */
} ng_node;

/* Messages of the step's setup (slurmstepd): level 2 error, 1 info, 0
 * only when verbose. */
typedef void (*ng_node_log_fn)(int level, const char *msg, void *ctx);

/* Set up the step from the cluster's config, the user's options and
 * Slurm's facts. 0: go on (n->kind says with what; NONE: nothing to do);
 * -1: the step must fail (strict mode, tasks to place), said through log. */
int ng_node_prepare(ng_node *n, const ng_config *cfg, const ng_user_opts *u,
                    const ng_node_facts *f, ng_node_log_fn log, void *ctx);

/* The first forked task, slurmstepd as root again: irq= steers the step's
 * interrupts; every forked task is told to the audit. */
void ng_node_task_forked(ng_node *n, int local, int pid, ng_node_log_fn log, void *ctx);

/* What the front-end read of one task (in the task, before exec). */
typedef struct {
    int self, ntasks;                /* local task id, local task count */
    unsigned global_id;
    const char *node;                /* SLURMD_NODENAME in the task's env */
    unsigned step_cpus_per_task;     /* S_STEP_CPUS_PER_TASK, 0 unknown */
} ng_task_facts;

/* In each task: the daemon widened, the batch script's hints, or the
 * task's row planned, applied and verified (with its home GPU, hugepages,
 * audit record, picture). 0: the task runs; -1: it must not (strict),
 * with every message already given through io: levels 0-2 as
 * ng_task_apply's, -1 a debug line (timing), 3 a line of the task's own
 * output (--cpu-bind=verbose), printed as it is. hosts: the job's nodes
 * (the batch step's rankfile; empty when SLURM_JOB_NODELIST named none), NULL
 * when unknown: no hints. */
int ng_node_task(ng_node *n, const ng_task_facts *tf, const ng_task_io *io,
                 const char *const *hosts, int nhosts);

/* A task whose placement failed (err): strict refuses it (-1), the other
 * modes run it unbound (0); said once through io either way. The one
 * rule of the plugin and `numa-gpu exec`. */
int ng_task_failed(ng_mode mode, const char *err, const ng_task_io *io);

/* slurmstepd (root) when a task exits: its hugepages back, its record. */
void ng_node_task_exit(ng_node *n, int local, int global, ng_node_log_fn log, void *ctx);

/* The step's end: what is left given back, everything freed. root: in
 * slurmstepd (not in a task's copy). */
void ng_node_close(ng_node *n, int root, ng_node_log_fn log, void *ctx);

/* The job's end on this node (epilog): hugepages left, rankfiles, steered
 * IRQs, the audit summary. */
void ng_job_end(const ng_config *cfg, unsigned long job, ng_node_log_fn log, void *ctx);

/* Shared with the CLI. The allowed sets: the cgroup's (procfs/sysfs roots,
 * NULL the kernel's) narrowed to Slurm's core indexes (NULL: all). */
int ng_node_allowed(const ng_topo *t, const char *cores, hwloc_bitmap_t cpus,
                    hwloc_bitmap_t mems, char *err, size_t errlen);
/* The admin's core policy (isolated=, reserve_first_core_per=) over the
 * kernel's isolated cpus (sysfs root, NULL the kernel's); read_kernel 0:
 * none isolated (a topology of another machine). */
int ng_node_policy(const ng_config *cfg, int read_kernel, hwloc_bitmap_t isolated,
                   hwloc_bitmap_t nohz, ng_plan_policy *pol, char *err, size_t errlen);
/* What the user asked of the CPU binding: smt/scope (-1: the config's),
 * cpus_per_task (0: SLURM_CPUS_PER_TASK through fn), and in a task under
 * Slurm (own_mask) Slurm's mask, the task's affinity now, checks it. */
int ng_node_cpuopt(const ng_config *cfg, int smt, int scope, int cpus_per_task,
                   ng_getenv_fn fn, void *ctx, const ng_topo *t, int own_mask, ng_cpuopt *co,
                   char *err, size_t errlen);

#endif
