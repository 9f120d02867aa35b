/*
 * libnumagpu: place GPU ranks on their GPUs' NUMA domain.
 *
 * The public API, one concept per section (in the spirit of hwloc):
 *   topology      load / save a machine description (live or hwloc XML)
 *   accelerators  GPU-like PCI devices and their NUMA locality
 *   nics          network devices and how near each is to a rank's GPUs
 *   gpu ids       turn what a job sees (GRES index, CUDA/ROCR/ZE env, UUID,
 *                 PCI bus id) into PCI bus ids
 *   plan          pure function: (topology, allowed sets, GPUs per rank,
 *                 mode) -> cpus, mems and memory policy per rank, with why
 *   request       the plan through an opaque handle (ng_request_new, its
 *                 setters, ng_plan_make, accessors): what new code uses
 *   output        text and JSON renderings shared by the CLI and the plugin
 * Memory for applications (pools, hot/cold buffers): <numagpu/pool.h>.
 *
 * No Slurm dependency. All sets are hwloc bitmaps of OS indexes.
 * Functions that can fail return 0 on success and -1 on failure, with a
 * one-line message in the caller's buffer (char *err, size_t errlen).
 * Every exported symbol starts with ng_ (types, functions) or NG_ (macros).
 */
#ifndef NUMAGPU_H
#define NUMAGPU_H

#include <stddef.h>
#include <hwloc.h>

/* The API these headers describe: 0xMMmmpp00 (major, minor, patch). A
 * program checks it at build time; ng_get_api_version() is the library's
 * at run time (the major must match). 1.1 added the request handle: only
 * new functions, so programs built for 1.0 run unchanged. */
#define NUMAGPU_API_VERSION 0x00010100
#define NUMAGPU_API_MAJOR(v) ((v) >> 24)

#ifdef __cplusplus
extern "C" {
#endif

unsigned ng_get_api_version(void);
/* The package version ("0.2.0"), the same as `numa-gpu --version`. */
const char *ng_version(void);

#define NG_ERRLEN 1024
#define NG_BUSID_LEN 16 /* "0000:5f:00.0" + NUL */

/* ------------------------------------------------------------------ topology */

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

/* ---------------------------------------------------------------------- nics */

/* Network devices: a PCI device with an OpenFabrics OS device (InfiniBand,
 * RoCE, Omni-Path, EFA: kind RDMA) or only a network interface (Ethernet). */
typedef enum { NG_NIC_RDMA = 0, NG_NIC_ETHERNET = 1 } ng_nic_kind;
typedef struct {
    char busid[NG_BUSID_LEN];
    char name[32];              /* OpenFabrics name ("mlx5_2"), else the
                                   network interface ("eth0") */
    char netdev[32];            /* its network interface, "" if none */
    int port;                   /* RDMA: the lowest active port (1 if none
                                   is known to be active); Ethernet: 0 */
    ng_nic_kind kind;
    float linkspeed;            /* PCIe link, GB/s (0 when unknown) */
    hwloc_bitmap_t nodes;       /* local NUMA nodes, empty when unknown */
} ng_nic;
int ng_nic_list(const ng_topo *t, ng_nic **out, int *n);  /* PCI order */
void ng_nic_list_free(ng_nic *v, int n);

/* How near a NIC is to a rank's GPUs (or, without GPUs, to its home). */
typedef enum {
    NG_NEAR_SWITCH = 0,         /* under the same PCIe switch */
    NG_NEAR_NODE,               /* on the same NUMA node */
    NG_NEAR_PACKAGE,            /* in the same package */
    NG_NEAR_FAR
} ng_nearness;
const char *ng_nearness_name(ng_nearness d); /* "pci-switch", "numa-node", ... */

typedef struct {
    char name[32];
    int port;
    ng_nic_kind kind;
    ng_nearness near;
} ng_rank_nic;
/* The NICs within the package of a rank's GPUs, nearest first, ties in PCI
 * order; when none is, the ones nearest by NUMA distance (near
 * NG_NEAR_FAR), so a machine with a fabric NIC always gives one. Fabric
 * NICs only: the RDMA ones when the machine has any, else
 * the Ethernet ones whose PCIe link is at least half the fastest one's (a
 * 1 GbE management port on a x1 link never stands for a 200 Gb/s NIC).
 * *out malloc'ed. */
int ng_nics_near(const ng_topo *t, const ng_nic *nics, int nnics, const ng_accel *gpus,
                 int ngpus, hwloc_const_bitmap_t home, ng_rank_nic **out, int *n);

/* ------------------------------------------------------------------- gpu ids */

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

/* The structs of this section (ng_rank_gpus, ng_rank_plan, ng_plan,
 * ng_plan_policy) stay for source compatibility with 1.0 programs, but
 * their layout is not meant to grow: new code builds a plan with
 * ng_request_new / ng_plan_make and reads it through the ng_plan_rank_*
 * accessors (section "request"), which survive a layout change. */
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
    int nnics;
    ng_rank_nic *nics;        /* ng_nics_near: nearest first */
} ng_rank_plan;

typedef struct {
    ng_mode mode;
    int nranks;
    ng_rank_plan *ranks;
    hwloc_bitmap_t allowed_cpus, allowed_mems; /* what the plan could use */
    int mem;                  /* ng_memopt applied by ng_plan_memory */
    hwloc_bitmap_t reserved;  /* allowed CPUs the policy kept ranks off */
    char policy_note[512];    /* what the policy did, for explain ("" none) */
    int ok;                   /* 0: strict mode refuses the plan */
    char error[NG_ERRLEN];    /* first refusal, for the user */
} ng_plan;

/* Cores an admin keeps ranks off: the kernel's isolated CPUs (isolcpus=,
 * outside the scheduler's load balancing) unless use_isolated, and the
 * first core of each L3 or NUMA node (a low-noise core for the OS, as on
 * LUMI). nohz_full CPUs are meant for one busy thread each, a rank's: they
 * stay usable and are only shown. */
typedef enum { NG_RESERVE_OFF = 0, NG_RESERVE_L3, NG_RESERVE_NUMA } ng_reserve;
typedef struct {
    hwloc_const_bitmap_t isolated;   /* NULL: none */
    int use_isolated;
    hwloc_const_bitmap_t nohz_full;  /* NULL: none */
    ng_reserve reserve_first_core_per;
} ng_plan_policy;
int ng_reserve_parse(const char *s, ng_reserve *out);   /* "l3", "numa", "off" */
const char *ng_reserve_name(ng_reserve r);

/* The planner: a pure function of its arguments. allowed_cpus/allowed_mems
 * may be NULL (= the topology's allowed sets); they are intersected with the
 * topology's. Returns -1 only on bad input (err says why); an infeasible
 * strict plan returns 0 with plan->ok == 0. */
int ng_plan_compute(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                    hwloc_const_bitmap_t allowed_mems, int nranks,
                    const ng_rank_gpus *gpus, ng_mode mode, ng_plan *plan,
                    char *err, size_t errlen);
/* The same with an admin's policy (NULL = none): reserved and isolated CPUs
 * are taken out of the allowed ones, unless nothing would be left (then
 * they are used, and the plan says so). */
int ng_plan_compute_policy(const ng_topo *t, hwloc_const_bitmap_t allowed_cpus,
                           hwloc_const_bitmap_t allowed_mems, int nranks,
                           const ng_rank_gpus *gpus, ng_mode mode, const ng_plan_policy *pol,
                           ng_plan *plan, char *err, size_t errlen);
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

/* ------------------------------------------------------------------- request */

/* The plan as the plugin and the CLI make it (the same code path: GPUs of
 * each rank -> CPU options -> planner -> memory tier), through an opaque
 * handle, so that a new option is a new setter and never a struct change
 * (in the style of hwloc and mpibind). Unset, a request is: mode prefer,
 * memory local, the topology's allowed sets, no reserved cores, isolated
 * CPUs none, smt auto (every hardware thread: a request reads no
 * environment), cpus scope node, no thread count, GPU ids resolved as
 * `numa-gpu plan` does (a topology file: never this machine's /proc, /sys).
 * Every setter copies what it is given, checks it, and returns -1 with err
 * naming the bad value and what is allowed (the request is then unchanged). */
typedef struct ng_request ng_request;
/* NULL if t is NULL or out of memory. The topology must outlive it. */
ng_request *ng_request_new(const ng_topo *t);
void ng_request_free(ng_request *rq);

/* The ranks' GPUs, either a spec as --gpus takes ("0,1:2,3": ids by ',',
 * ranks by ':', an empty rank or "none" is a rank without GPU; ids are GRES
 * indexes, GPU- UUIDs or PCI bus ids) or k GPUs per rank (rank i gets
 * indexes i*k .. i*k+k-1; 0 = no GPUs). The later call wins. */
int ng_request_set_gpus(ng_request *rq, const char *spec, char *err, size_t errlen);
int ng_request_set_gpus_per_task(ng_request *rq, int k, char *err, size_t errlen);
/* The number of ranks (1..65536; 0 = as many as the spec names). Needed
 * with ng_request_set_gpus_per_task; more than the spec names adds ranks
 * without GPUs. */
int ng_request_set_ntasks(ng_request *rq, int ntasks, char *err, size_t errlen);
/* How GPU ids are read (ng_roots, copied); NULL = the default. Set it
 * before the GPU spec, whose ids ng_request_set_gpus resolves to check. */
int ng_request_set_roots(ng_request *rq, const ng_roots *r, char *err, size_t errlen);

/* CPUs and memory nodes the ranks may use (a job's cgroup), as a bitmap or
 * a Linux list ("0-15,32"); NULL = the topology's allowed sets. Must be
 * non-empty and name only CPUs / nodes of the topology. */
int ng_request_set_cpus(ng_request *rq, hwloc_const_bitmap_t cpus, char *err, size_t errlen);
int ng_request_set_cpus_list(ng_request *rq, const char *list, char *err, size_t errlen);
int ng_request_set_mems(ng_request *rq, hwloc_const_bitmap_t mems, char *err, size_t errlen);
int ng_request_set_mems_list(ng_request *rq, const char *list, char *err, size_t errlen);

int ng_request_set_mode(ng_request *rq, ng_mode mode, char *err, size_t errlen);
int ng_request_set_memory(ng_request *rq, ng_memopt mem, char *err, size_t errlen);
/* The admin's policy (ng_plan_policy's fields): the kernel's isolated and
 * nohz_full CPUs (NULL = none) and whether ranks may use the isolated ones,
 * and the first core of each L3 / NUMA node kept for the OS. */
int ng_request_set_isolated(ng_request *rq, hwloc_const_bitmap_t isolated,
                            hwloc_const_bitmap_t nohz_full, int use_isolated, char *err,
                            size_t errlen);
int ng_request_set_reserve(ng_request *rq, ng_reserve reserve, char *err, size_t errlen);
/* The user's CPU requests, by the CLI's names: smt "auto|1|all" (hardware
 * threads a core), scope "node|package" (package: also the package's idle
 * cores), cpus_per_task 0 (unset) or 1..65536 (the rank's OpenMP threads). */
int ng_request_set_smt(ng_request *rq, const char *smt, char *err, size_t errlen);
int ng_request_set_cpu_scope(ng_request *rq, const char *scope, char *err, size_t errlen);
int ng_request_set_cpus_per_task(ng_request *rq, int n, char *err, size_t errlen);

/* Make the plan: *out is malloc'ed, free it with ng_plan_destroy. -1 on
 * bad input (err says why, *out NULL). An infeasible strict plan is made
 * with ng_plan_feasible() == 0. On success err is "" or a warning (a memory
 * tier this node lacks: local memory kept). */
int ng_plan_make(const ng_request *rq, ng_plan **out, char *err, size_t errlen);
void ng_plan_destroy(ng_plan *p);

/* The plan without its layout. A rank out of range gives NULL / -1. */
int ng_plan_nranks(const ng_plan *p);
int ng_plan_feasible(const ng_plan *p);         /* 0: strict mode refuses */
const char *ng_plan_refusal(const ng_plan *p);  /* why, "" when feasible */
hwloc_const_bitmap_t ng_plan_rank_cpus(const ng_plan *p, int rank);
hwloc_const_bitmap_t ng_plan_rank_mems(const ng_plan *p, int rank);
int ng_plan_rank_ngpus(const ng_plan *p, int rank);
const char *ng_plan_rank_gpu(const ng_plan *p, int rank, int i);  /* a bus id */
int ng_plan_rank_policy(const ng_plan *p, int rank);    /* an ng_mempol */
int ng_plan_rank_verdict(const ng_plan *p, int rank);   /* an ng_verdict */
const char *ng_plan_rank_reason(const ng_plan *p, int rank);
int ng_plan_rank_omp_threads(const ng_plan *p, int rank);
const char *ng_plan_rank_omp_places(const ng_plan *p, int rank);

/* -------------------------------------------------------------------- output */

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
/* A rank's NICs as UCX names them ("mlx5_2:1,eth0"), all or only the
 * nearest ones; whole names only, into buf. */
char *ng_plan_nic_list(const ng_rank_plan *rp, int nearest, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
