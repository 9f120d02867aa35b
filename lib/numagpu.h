/*
 * libnumagpu: place GPU ranks on their GPUs' NUMA domain.
 *
 * One header, one concept per section (in the spirit of hwloc):
 *   topology    load / save a machine description (live or hwloc XML)
 *   accelerators  GPU-like PCI devices and their NUMA locality
 *   gpu ids     turn what a job sees (GRES index, CUDA/ROCR/ZE env, UUID,
 *               PCI bus id) into PCI bus ids
 *   plan        pure function: (topology, allowed sets, GPUs per rank, mode)
 *               -> cpus, mems and memory policy per rank, with a reason
 *   apply       put one rank's plan into effect on the calling process
 *   output      text and JSON renderings shared by the CLI and the plugin
 *
 * No Slurm dependency. All sets are hwloc bitmaps of OS indexes.
 * Functions that can fail return 0 on success and -1 on failure, with a
 * one-line message in the caller's buffer (char *err, size_t errlen).
 */
#ifndef NUMAGPU_H
#define NUMAGPU_H

#include <stddef.h>
#include <hwloc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version ("0.2.0"), the same as `numa-gpu --version` and the
 * packages'. */
const char *numagpu_version(void);

#define NG_ERRLEN 1024
#define NG_BUSID_LEN 16 /* "0000:5f:00.0" + NUL */

/* ---------------------------------------------------------------- topology */

typedef struct ng_topo ng_topo;

/* Load an hwloc XML file (xml_path != NULL) or discover the live machine.
 * PCI devices and OS devices are kept; disallowed CPUs/nodes are kept too so
 * a topology exported inside a restricted cpuset still shows where GPUs are. */
ng_topo *ng_topo_load(const char *xml_path, char *err, size_t errlen);
/* Write the topology as XML (atomically: temp file + rename). */
int ng_topo_save(const ng_topo *t, const char *path, char *err, size_t errlen);
void ng_topo_free(ng_topo *t);
hwloc_topology_t ng_topo_hwloc(const ng_topo *t);
/* Where it came from: the XML path, or "live". */
const char *ng_topo_source(const ng_topo *t);

/* CPUs and memory nodes the topology says may be used (a restricted export
 * carries its cpuset here). Owned by the topology, do not free. */
hwloc_const_bitmap_t ng_topo_allowed_cpus(const ng_topo *t);
hwloc_const_bitmap_t ng_topo_allowed_mems(const ng_topo *t);

/* NUMA nodes that own CPUs; the others are memory-only (HBM, MCDRAM, CXL,
 * GPU memory) even where hwloc gives them their parent's cpuset. */
hwloc_const_bitmap_t ng_topo_cpu_nodes(const ng_topo *t);
int ng_topo_cpu_node_count(const ng_topo *t);
/* The CPUs CPU node os owns: its cpuset plus CPUs that hwloc places under no
 * NUMA node (memory-less dies), given to the nearest CPU node in the tree.
 * NULL for an unknown node; empty for a memory-only node. */
hwloc_const_bitmap_t ng_topo_node_cpus(const ng_topo *t, unsigned os);

/* Memory tier of a node: "dram" (has CPUs), "hbm", "cxl", "gpu", "nvm";
 * *heuristic = 1 when guessed from the tree (no hwloc subtype). */
const char *ng_topo_node_tier(const ng_topo *t, unsigned os, int *heuristic);
/* Nearest memory-only node (of tier, NULL = any) to the nodes in from,
 * within allowed (NULL = any); -1 if none. */
int ng_topo_nearest_memory_only(const ng_topo *t, hwloc_const_bitmap_t from,
                                hwloc_const_bitmap_t allowed, const char *tier);

/* Slurm core indexes (the i-th core in topology order) -> PU OS indexes;
 * -1 if an index is beyond the topology's cores. */
int ng_topo_cores_to_pus(const ng_topo *t, hwloc_const_bitmap_t cores, hwloc_bitmap_t pus);

/* Distance from NUMA node a to b (OS indexes): hwloc's latency matrix when
 * the topology has one, otherwise derived from the depth of the nodes'
 * common ancestor (10 same node, larger = farther). */
unsigned ng_topo_node_distance(const ng_topo *t, unsigned a, unsigned b);

/* -------------------------------------------------------------- accelerators */

typedef enum { NG_LOC_KNOWN = 0, NG_LOC_UNKNOWN = 1 } ng_locality;

typedef struct {
    char busid[NG_BUSID_LEN];   /* normalized "dddd:bb:dd.f" */
    unsigned vendor_id, device_id, class_id;
    const char *vendor;         /* "NVIDIA", "AMD", "Intel" or "other" */
    char osdevs[128];           /* names hwloc gave it: "cuda0,nvml0" */
    ng_locality locality;
    hwloc_bitmap_t nodes;       /* local NUMA nodes, empty when unknown */
    hwloc_bitmap_t near_cpus;   /* cpuset of nearest non-I/O ancestor
                                   (finer than NUMA: an L3, a Group) */
} ng_accel;

/* Locality of any PCI device by bus id, whatever its class or vendor. */
int ng_accel_lookup(const ng_topo *t, const char *busid, ng_accel *out,
                    char *err, size_t errlen);
/* All GPU-like devices (display/3D/processing-accelerator class from a GPU
 * vendor, or any device with a GPU/co-processor OS device), in PCI order. */
int ng_accel_list(const ng_topo *t, ng_accel **out, int *n);
void ng_accel_clear(ng_accel *a);
void ng_accel_list_free(ng_accel *a, int n);

/* ------------------------------------------------------------------ gpu ids */

/* Filesystem roots (tests point them at generated fake trees). */
typedef struct {
    const char *procfs;  /* default "/proc" */
    const char *sysfs;   /* default "/sys" */
    const char *gpu_map; /* admin map file "KEY BUSID" per line, or NULL */
    int pci_order;       /* admin opt-in: index N = N-th accelerator in PCI
                            order when nothing else identifies it */
    int offline;         /* the topology is a file, not this machine: never
                            read this machine's NVIDIA/DRM entries */
} ng_roots;

/* How to read an index: a Slurm GRES index / device minor, or an ordinal of
 * a vendor runtime (CUDA, ROCm, Level Zero). */
typedef enum { NG_IDX_GRES, NG_IDX_CUDA, NG_IDX_ROCM, NG_IDX_ZE } ng_idx_kind;

/* Normalize a PCI bus id ("5f:00.0", "00000000:5F:00.0") into out.
 * Returns 0 if id is a bus id, -1 if not. */
int ng_busid_parse(const char *id, char out[NG_BUSID_LEN]);

/* Resolve one id (index, GPU-/MIG- UUID, bus id) to a PCI bus id. */
int ng_gpu_resolve(const ng_topo *t, const ng_roots *r, ng_idx_kind kind,
                   const char *id, char busid[NG_BUSID_LEN], char *err,
                   size_t errlen);

/* The GPUs of a task, read from its environment: SLURM_STEP_GPUS, then
 * SLURM_JOB_GPUS (GRES indexes), then CUDA_VISIBLE_DEVICES,
 * ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES, ZE_AFFINITY_MASK,
 * GPU_DEVICE_ORDINAL. getenv_fn lets the plugin read the job's env.
 * On success *busids is a malloc'ed array of *n bus ids (n may be 0) and
 * *source names the variable used (static string, "" when none). */
typedef const char *(*ng_getenv_fn)(const char *name, void *ctx);
int ng_gpu_from_env(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn,
                    void *ctx, char (**busids)[NG_BUSID_LEN], int *n,
                    const char **source, char *err, size_t errlen);
/* Resolve a comma-separated list (as in CUDA_VISIBLE_DEVICES); duplicates
 * are dropped. what names the source in error messages. */
int ng_gpu_parse_list(const ng_topo *t, const ng_roots *r, ng_idx_kind kind,
                      const char *what, const char *val,
                      char (**busids)[NG_BUSID_LEN], int *n, char *err,
                      size_t errlen);

/* --------------------------------------------------------------- assignment */

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

/* ---------------------------------------------------------------------- plan */

typedef enum {
    NG_MODE_OFF = 0, NG_MODE_PREFER, NG_MODE_STRICT, NG_MODE_INTERLEAVE,
    NG_MODE_EXPLAIN
} ng_mode;
#define NG_MODE_NAMES "off|prefer|strict|interleave|explain"
int ng_mode_parse(const char *s, ng_mode *out);
const char *ng_mode_name(ng_mode m);

typedef enum {
    NG_POL_NONE = 0, NG_POL_BIND, NG_POL_PREFERRED, NG_POL_INTERLEAVE
} ng_mempol;
const char *ng_mempol_name(ng_mempol p);

typedef enum {
    NG_V_LOCAL = 0,  /* cores and memory on the GPUs' node(s) */
    NG_V_PARTIAL,    /* some of it: a GPU node or its memory not allowed */
    NG_V_REMOTE,     /* GPUs' node unusable: nearest allowed node instead */
    NG_V_UNKNOWN,    /* firmware gives no locality for a GPU */
    NG_V_NOGPU,      /* no GPUs: CPU-only NUMA spreading */
    NG_V_OVERCOMMIT  /* more ranks than CPUs: ranks share CPUs */
} ng_verdict;
const char *ng_verdict_name(ng_verdict v);

typedef struct {
    int ngpus;
    char (*busids)[NG_BUSID_LEN];
} ng_rank_gpus;

typedef struct {
    int rank;
    int ngpus;
    ng_accel *gpus;           /* resolved locality of each GPU */
    hwloc_bitmap_t home;      /* NUMA nodes the rank belongs to */
    hwloc_bitmap_t cpus;      /* PUs (OS indexes) */
    hwloc_bitmap_t mems;      /* memory nodes (OS indexes) */
    ng_mempol policy;
    ng_verdict verdict;
    int infeasible;           /* strict mode refuses this rank */
    int omp_threads;
    char omp_places[1024];    /* "{0,56},{1,57}" one place per core */
    char reason[512];
} ng_rank_plan;

typedef struct {
    ng_mode mode;
    int nranks;
    ng_rank_plan *ranks;
    hwloc_bitmap_t allowed_cpus, allowed_mems; /* what the plan could use */
    int mem;                  /* ng_memopt applied by ng_plan_memory */
    int ok;                   /* 0: strict mode refuses the plan */
    char error[NG_ERRLEN];    /* first refusal, for the user */
} ng_plan;

/* The planner: a pure function of its arguments. allowed_cpus/allowed_mems
 * may be NULL (= the topology's allowed sets); they are intersected with the
 * topology's. Returns -1 only on bad input (err says why); an infeasible
 * strict plan returns 0 with plan->ok == 0. */
int ng_plan_compute(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                    hwloc_const_bitmap_t allowed_mems, int nranks,
                    const ng_rank_gpus *gpus, ng_mode mode, ng_plan *plan,
                    char *err, size_t errlen);
void ng_plan_free(ng_plan *plan);

/* Memory option (--numa-gpu-mem): local (default), interleave, tiered
 * (preferred-many: local DDR then the nearest memory-only node; plain
 * preferred where the kernel lacks MPOL_PREFERRED_MANY), hbm (the nearest
 * HBM/MCDRAM node). Rewrites each rank's mems/policy; -1 with a message
 * naming the machine's memory-only nodes when the tier does not exist. */
typedef enum { NG_MEM_LOCAL = 0, NG_MEM_INTERLEAVE, NG_MEM_TIERED, NG_MEM_HBM } ng_memopt;
#define NG_MEM_NAMES "local|interleave|tiered|hbm"
int ng_memopt_parse(const char *s, ng_memopt *out);
const char *ng_memopt_name(ng_memopt m);
int ng_plan_memory(const ng_topo *t, ng_plan *p, ng_memopt m, char *err, size_t errlen);

/* ------------------------------------------------------------------- config */

/* Cluster policy (plugstack.conf arguments) and user choices, parsed the
 * same way by the plugin and the CLI. */
typedef struct {
    ng_mode default_mode;     /* default=MODE (off unless set) */
    unsigned allowed;         /* allowed=MODE,... as bits 1<<ng_mode */
    int exclusive_only;       /* act only on jobs that own the whole node */
    int verbose;
    int pci_order;            /* gpu_order=pci */
    char topology[1024];      /* topology=PATH (cached XML) */
    char procfs[1024], sysfs[1024], gpu_map[1024];
    char audit_dir[1024];     /* audit_dir=PATH: per-job JSON records */
    int audit_interval;       /* seconds between numa_maps samples, 0 = off */
    int audit_warn_local;     /* flag tasks below this % of local pages */
    int hugepages_off;        /* hugepages=off */
    unsigned long long hugepages_max_per_job; /* bytes, 0 = no cap */
    double hugepages_max_fraction;            /* 0 = no cap */
    char hugepages_mount[1024];               /* hugetlbfs mount to tell tasks */
    char state_dir[1024];     /* state_dir=PATH (ledger), default /run/numa-gpu */
    int constrain_devices;    /* auto (-1): read slurm.conf/cgroup.conf */
    int gres_cores;           /* gres.conf gives Cores= (or AutoDetect): -1 auto */
    int bind_rules;           /* NG_BIND_RULES_*, -1 auto (from the release) */
    int audit_method;         /* ng_method for the audit samples */
    unsigned audit_pages;     /* pages per sample for the sampled method */
} ng_config;

void ng_config_init(ng_config *c);
/* One plugstack argument ("default=prefer", "verbose", ...). */
int ng_config_arg(ng_config *c, const char *arg, char *err, size_t errlen);
/* Cross-argument checks, after all arguments. */
int ng_config_check(const ng_config *c, char *err, size_t errlen);
int ng_config_mode_allowed(const ng_config *c, ng_mode m, char *err, size_t errlen);
void ng_config_roots(const ng_config *c, ng_roots *r);
/* Slurm-style "Key=Value" file lookup (keys case-insensitive); -1 absent. */
int ng_conf_get(const char *path, const char *key, char *out, size_t len);
/* What Slurm does with the files beside slurm_conf (NULL: /etc/slurm):
 * device ids relative to the allocation (task/cgroup + ConstrainDevices),
 * and whether gres.conf gives GPUs Cores= (or AutoDetect does). */
int ng_slurm_local_index(const char *slurm_conf);
int ng_slurm_gres_cores(const char *slurm_conf);
/* "strict,verbose" -> mode + verbose flag; the error names the bad part. */
int ng_mode_option_parse(const char *s, ng_mode *mode, int *verbose, char *err,
                         size_t errlen);

/* ------------------------------------------------------------------ allowed */

/* The cpus and memory nodes the process pid (0 = self) may use: its cpuset
 * cgroup (v2 or v1), not its current affinity mask. Falls back to all online
 * CPUs and Mems_allowed_list. procfs/sysfs NULL = /proc, /sys. */
int ng_allowed_read(const char *procfs, const char *sysfs, int pid,
                    hwloc_bitmap_t cpus, hwloc_bitmap_t mems, char *err,
                    size_t errlen);

/* -------------------------------------------------------------------- apply */

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

/* --------------------------------------------------------------------- step */

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
/* From a task's environment. step_gpus (may be NULL) is the step's whole GPU
 * list on this node as GRES indexes, when known (the plugin reads it before
 * tasks start).
 * ntasks <= 0 / local_rank < 0: read LOCAL_WORLD_SIZE/LOCAL_RANK (torchrun),
 * OMPI_COMM_WORLD_LOCAL_SIZE/_RANK, SLURM_STEP_NUM_TASKS.../SLURM_LOCALID.
 * The step's GPUs are split in equal consecutive chunks over the ranks; the
 * calling task's row is always the GPUs its own environment names. */
int ng_step_from_env(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn,
                     void *ctx, const char *step_gpus, int ntasks,
                     int local_rank, ng_step *st, char *err, size_t errlen);
const char *ng_step_getenv_process(const char *name, void *ctx);
/* The step from Slurm's assignment (ng_assign): rank i gets task i's GPUs
 * resolved to bus ids. A shared assignment (no per-task binding) follows the
 * local-rank convention: rank i takes chunk i when the list splits evenly,
 * GPU i / (tasks per GPU) when tasks share GPUs evenly, else all of them. */
int ng_step_from_assignment(const ng_topo *t, const ng_roots *r, const ng_assignment *a,
                            int self, ng_step *st, char *err, size_t errlen);
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
/* The one plan path: step -> plan -> memory tier (mem), with the mode's
 * rule for a tier this node lacks (strict: error; otherwise local memory is
 * kept and warn says why). Used by the plugin, exec and hints alike. */
int ng_step_plan(const ng_topo *t, const ng_step *st, hwloc_const_bitmap_t cpus,
                 hwloc_const_bitmap_t mems, ng_mode mode, ng_memopt mem, ng_plan *p,
                 char *warn, size_t warnlen, char *err, size_t errlen);

void ng_step_free(ng_step *st);

/* Apply rank `self` of plan p to the calling task, verify it by reading the
 * kernel's view back, and export NUMA_GPU_NODE, NUMA_GPU_CPUS and (only if
 * unset) OMP_NUM_THREADS, OMP_PLACES, OMP_PROC_BIND through setenv_fn.
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
} ng_task_io;
int ng_task_apply(const ng_topo *t, const ng_plan *p, int self,
                  const ng_task_io *io, ng_effective *eff, char *err,
                  size_t errlen);

/* -------------------------------------------------------------------- audit */

#define NG_MAX_NODES 256
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

/* Node-level load counters of a task; -1 with why ("unavailable: ...") when
 * the machine has none. */
int ng_perf_open(int pid, int fds[2], char *why, size_t len);
int ng_perf_read(int fds[2], unsigned long long *accesses, unsigned long long *misses);
void ng_perf_close(int fds[2]);

/* The task part of an audit record: mode, gpus, intended, effective,
 * verdict, reason (JSON members without braces, malloc'ed). */
char *ng_audit_task_json(const ng_plan *p, int self, const ng_effective *eff,
                         const char *gpu_source);
/* "gpu 0000:5f:00.0 node 1: cpus 8-15 (node 1), mem bind 1 [local]" from
 * the effective placement (the intended one when eff is NULL). */
char *ng_audit_task_summary(const ng_plan *p, int self, const ng_effective *eff,
                            char *buf, size_t len);
typedef struct {
    unsigned long job, step;
    int task, global_task, pid, sample_age;
    const char *host;
} ng_audit_ids;
/* One complete record line (JSON + '\n'): ids, the task part, the last
 * numa_maps sample with the % of pages on home, perf result or reason, and a
 * one-line human summary (summary = "gpu ... node N: cpus ..., mem ..."). */
char *ng_audit_record(const ng_audit_ids *ids, const char *task_json,
                      const char *summary, hwloc_const_bitmap_t home,
                      hwloc_const_bitmap_t home_cpus, int warn_local,
                      const ng_pages *sample, const char *perf);
/* Verdict of a sample: local (cpus within home_cpus, >= warn_local % pages
 * on home), remote (no cpu of home_cpus and below), partial otherwise. */
const char *ng_sample_verdict(const ng_pages *s, hwloc_const_bitmap_t home,
                              hwloc_const_bitmap_t home_cpus, int warn_local);
/* Append line to DIR/NAME safely as root (no symlinks, no foreign files,
 * directory not writable by others), atomically under flock. */
int ng_audit_append(const char *dir, const char *name, const char *line,
                    char *err, size_t errlen);
/* Summary of DIR/<jobid>.json, one line per task record. */
int ng_audit_summarize(const char *dir, unsigned long jobid, int warn_local,
                       char **text, char *err, size_t errlen);
/* Field of one of our JSON lines. */
int ng_json_str(const char *line, const char *key, char *out, size_t len);
int ng_json_num(const char *line, const char *key, double *out);

/* ---------------------------------------------------------------- hugepages */

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
unsigned long long ng_proc_start_time(const char *procfs, int pid);

/* -------------------------------------------------------------------- hints */

/* Launchers that bind ranks themselves. */
#define NG_MPI_OMPI4 1u
#define NG_MPI_OMPI5 2u
#define NG_MPI_IMPI 4u
#define NG_MPI_MPICH 8u
#define NG_MPI_TORCHRUN 16u
#define NG_MPI_ALL 31u
int ng_mpi_parse(const char *s, unsigned *mask, char *err, size_t errlen);

typedef struct {
    char name[64];
    char *value;
} ng_hint;
typedef struct {
    int n;
    ng_hint *v;          /* environment variables, in order */
    char *rankfile;      /* Open MPI rankfile text for all hosts */
} ng_hints;
/* Render plan p (one node's ranks) for hosts[0..nhosts-1]. */
int ng_hints_build(const ng_plan *p, const char *const *hosts, int nhosts,
                   const char *rankfile_path, unsigned mpis, ng_hints *h, char *err,
                   size_t errlen);
void ng_hints_free(ng_hints *h);

/* --------------------------------------------------------------------- pool */

/* Memory for applications and inference servers (link with
 * `pkg-config --libs numagpu`). */
#define NG_PREFAULT 1u   /* touch every page so it is resident on return */

/* NUMA node of a GPU named by CUDA index, GPU-/MIG- UUID or PCI bus id. */
int numagpu_gpu_node(const ng_topo *t, const ng_roots *r, const char *gpu, int *node,
                     char *err, size_t errlen);
/* A pool of bytes bound (MPOL_BIND) to the GPU's node; ng_pool_alloc hands
 * out 64-byte aligned pieces, NULL when full. */
typedef struct ng_pool ng_pool;
ng_pool *ng_pool_create(const ng_topo *t, const ng_roots *r, const char *gpu, size_t bytes,
                        unsigned flags, char *err, size_t errlen);
void *ng_pool_alloc(ng_pool *p, size_t bytes);
void ng_pool_reset(ng_pool *p);
int ng_pool_node(const ng_pool *p);
size_t ng_pool_used(const ng_pool *p);
void ng_pool_destroy(ng_pool *p);
/* Hot: MPOL_BIND to DDR node `node`. Cold: MPOL_PREFERRED on the nearest
 * memory-only node to `node` (error if the machine has none). Free with
 * numagpu_free(p, bytes). */
void *numagpu_alloc_hot(const ng_topo *t, int node, size_t bytes, unsigned flags, char *err,
                        size_t errlen);
void *numagpu_alloc_cold(const ng_topo *t, int node, size_t bytes, unsigned flags, char *err,
                         size_t errlen);
void numagpu_free(void *p, size_t bytes);
/* Node a resident page lives on (move_pages query), -1 if unknown. */
int numagpu_node_of(const void *addr);

/* ---------------------------------------------------------------- gres-conf */

/* gres.conf text (AutoDetect=off, one Name=gpu File= Cores= line per GPU)
 * with Cores= as Slurm core indexes of each GPU's NUMA node. When a node is
 * smaller than its package the text says SlurmdParameters=numa_node_as_socket
 * is needed (and numbers cores as Slurm then does); per_package gives whole
 * packages instead, which Slurm accepts without it. */
int ng_gres_conf(const ng_topo *t, int per_package, char **text, char *err, size_t errlen);

/* ------------------------------------------------------------------- output */

/* A strict decimal number in [min, max]: digits only (no sign, space or
 * suffix); 0 or -1. */
int ng_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                 unsigned long long *out);
/* Tasks on the first node from SLURM_NTASKS_PER_NODE / SLURM_TASKS_PER_NODE
 * ("4", "2(x3),1"): 1..65536, else -1 naming the value. */
int ng_tasks_per_node_parse(const char *s, int *n, char *err, size_t errlen);

/* Linux cpulist syntax ("0-3,8") of a bitmap into buf. */
char *ng_list_str(hwloc_const_bitmap_t b, char *buf, size_t len);
/* Parse a Linux cpulist ("0-3,8,10-11"); -1 on syntax error. */
int ng_list_parse(const char *s, hwloc_bitmap_t out);

/* Render: one JSON object per line / a table / plain-words explanation.
 * Each returns a malloc'ed string. */
char *ng_plan_json_line(const ng_plan *p, int rank);
char *ng_plan_table(const ng_plan *p);
char *ng_plan_explain(const ng_topo *t, const ng_plan *p);
char *ng_accel_json_line(const ng_accel *a);

#ifdef __cplusplus
}
#endif
#endif
