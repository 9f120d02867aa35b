/* numa_gpu.so: the SPANK front-end of libnumagpu. It only translates Slurm's
 * view (options, plugstack arguments, step items, task environment) into
 * library calls; every placement decision lives in lib/.
 *
 * Hooks (Slurm 22.05):
 *   slurm_spank_init       every context: parse plugstack args, register
 *                          --numa-gpu (a bad argument leaves the plugin inert)
 *   option callback        srun/sbatch/salloc: reject a bad or disallowed mode
 *                          at submission (exit 255 with our message)
 *   slurm_spank_user_init  slurmstepd, before tasks fork: decide whether this
 *                          step is ours, load the topology once, read the
 *                          step's cores/cgroup and GPU list; tasks inherit it
 *   slurm_spank_task_init  each task, after task/affinity, before exec: plan
 *                          all local ranks (same inputs -> same plan), apply
 *                          ours, verify, export NUMA_GPU_* and OMP_*
 * Never exit(), never crash slurmstepd: failures become messages; strict
 * mode fails the task, other modes let it run unbound. */
#define _GNU_SOURCE
#include <stdint.h>
#include <slurm/spank.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "numagpu.h"

SPANK_PLUGIN(numa_gpu, 1);

#define BATCH_STEP 0xfffffffbu  /* SLURM_BATCH_SCRIPT */
#define EXTERN_STEP 0xfffffffcu /* SLURM_EXTERN_CONT */

static ng_config cfg;
static int inert;                  /* bad plugstack arguments */
static int opt_given, opt_verbose;
static ng_mode opt_mode;
/* Step state, set in slurmstepd before tasks fork. */
static int active;
static ng_mode mode;
static int verbose;
static ng_topo *topo;
static hwloc_bitmap_t allowed_cpus, allowed_mems;
static char step_gpus[4096];

static int opt_cb(int val, const char *optarg, int remote);

static struct spank_option options[] = {
    { "numa-gpu", "MODE",
      "Bind each task to its GPUs' NUMA node: off|prefer|strict|interleave|explain "
      "(add ,verbose to print the placement)", 1, 0, opt_cb },
    SPANK_OPTIONS_TABLE_END
};

static int opt_cb(int val, const char *optarg, int remote)
{
    (void)val;
    char err[NG_ERRLEN];
    if (ng_mode_option_parse(optarg, &opt_mode, &opt_verbose, err, sizeof(err)) < 0 ||
        (!inert && ng_config_mode_allowed(&cfg, opt_mode, err, sizeof(err)) < 0)) {
        slurm_error("numa-gpu: %s", err);
        return remote && inert ? 0 : -1;
    }
    opt_given = 1;
    return 0;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    char err[NG_ERRLEN];
    ng_config_init(&cfg);
    for (int i = 0; i < ac && !inert; i++)
        if (ng_config_arg(&cfg, av[i], err, sizeof(err)) < 0)
            inert = 1;
    if (!inert && ng_config_check(&cfg, err, sizeof(err)) < 0)
        inert = 1;
    if (inert && spank_context() != S_CTX_LOCAL && spank_context() != S_CTX_ALLOCATOR)
        slurm_error("numa-gpu: plugstack.conf: %s; plugin disabled, jobs run unbound", err);
    spank_option_register(sp, options);
    return 0;
}

/* spank_getenv into rotating buffers, for the library's getenv callback. */
static const char *job_getenv(const char *name, void *ctx)
{
    static char bufs[4][4608];
    static int next;
    char *b = bufs[next++ & 3];
    if (spank_getenv((spank_t)ctx, name, b, sizeof(bufs[0])) != ESPANK_SUCCESS)
        return NULL;
    return b;
}

static int job_setenv(const char *name, const char *val, int overwrite, void *ctx)
{
    return spank_setenv((spank_t)ctx, name, val, overwrite) == ESPANK_SUCCESS ? 0 : -1;
}

/* User-visible messages go to the task's stderr (srun shows them); errors
 * also to the slurmd log. */
static void task_log(int level, const char *msg, void *ctx)
{
    (void)ctx;
    if (level >= 2) {
        slurm_error("%s", msg); /* in a task, Slurm shows it on stderr too */
        return;
    }
    if (level == 1)
        slurm_info("%s", msg);
    if (level > 0 || verbose || mode == NG_MODE_EXPLAIN)
        fprintf(stderr, "%s\n", msg);
}

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Why this step is not ours, or NULL. */
static const char *skip_reason(spank_t sp)
{
    uint32_t step = 0;
    int argc = 0;
    char **argv = NULL;
    if (spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS &&
        (step == BATCH_STEP || step == EXTERN_STEP))
        return step == BATCH_STEP ? "batch script step" : "extern step";
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) == ESPANK_SUCCESS && argc > 0) {
        const char *b = basename_of(argv[0]);
        /* MPI launcher daemons fork the real ranks; binding them would pin
         * every rank to the daemon's slice. */
        if (!strcmp(b, "orted") || !strcmp(b, "prted") || !strcmp(b, "hydra_pmi_proxy") ||
            !strcmp(b, "pmi_proxy"))
            return "MPI launcher daemon step";
    }
    return NULL;
}

static ng_mode job_mode(spank_t sp)
{
    ng_mode m = opt_given ? opt_mode : cfg.default_mode;
    verbose = cfg.verbose || (opt_given && opt_verbose);
    char v[16], err[NG_ERRLEN];
    if (spank_getenv(sp, "NUMA_GPU", v, sizeof(v)) == ESPANK_SUCCESS && !strcmp(v, "off")) {
        if (ng_config_mode_allowed(&cfg, NG_MODE_OFF, err, sizeof(err)) == 0)
            return NG_MODE_OFF;
        slurm_info("numa-gpu: NUMA_GPU=off ignored: %s", err);
    }
    return m;
}

/* Cores of the step on this node (Slurm core indexes -> PUs) within the
 * cgroup's cpuset; mems from the cgroup. */
static int read_allowed(spank_t sp, char *err, size_t errlen)
{
    allowed_cpus = hwloc_bitmap_alloc();
    allowed_mems = hwloc_bitmap_alloc();
    if (ng_allowed_read(NULL, NULL, 0, allowed_cpus, allowed_mems, err, errlen) < 0)
        return -1;
    char *cores = NULL;
    if (spank_get_item(sp, S_STEP_ALLOC_CORES, &cores) == ESPANK_SUCCESS && cores && *cores) {
        hwloc_bitmap_t c = hwloc_bitmap_alloc(), pus = hwloc_bitmap_alloc();
        int rc = ng_list_parse(cores, c) == 0 && ng_topo_cores_to_pus(topo, c, pus) == 0;
        if (rc)
            hwloc_bitmap_and(allowed_cpus, allowed_cpus, pus);
        hwloc_bitmap_free(c);
        hwloc_bitmap_free(pus);
        if (!rc)
            return snprintf(err, errlen, "step cores '%s' do not match the topology", cores), -1;
    }
    return 0;
}

static int exclusive_job(spank_t sp)
{
    char *cores = NULL;
    if (spank_get_item(sp, S_JOB_ALLOC_CORES, &cores) != ESPANK_SUCCESS || !cores)
        return 0;
    hwloc_bitmap_t c = hwloc_bitmap_alloc();
    int n = ng_list_parse(cores, c) == 0 ? hwloc_bitmap_weight(c) : -1;
    hwloc_bitmap_free(c);
    return n == hwloc_get_nbobjs_by_type(ng_topo_hwloc(topo), HWLOC_OBJ_CORE);
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (inert || spank_context() != S_CTX_REMOTE)
        return 0;
    mode = job_mode(sp);
    const char *why = skip_reason(sp);
    if (mode == NG_MODE_OFF || why) {
        if (why && mode != NG_MODE_OFF)
            slurm_info("numa-gpu: %s: left alone", why);
        return 0;
    }
    char err[NG_ERRLEN];
    topo = ng_topo_load(cfg.topology[0] ? cfg.topology : NULL, err, sizeof(err));
    if (!topo && cfg.topology[0]) {
        slurm_info("numa-gpu: %s; discovering the live topology", err);
        topo = ng_topo_load(NULL, err, sizeof(err));
    }
    if (!topo || read_allowed(sp, err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        if (mode == NG_MODE_STRICT)
            return -1;
        return 0;
    }
    if (cfg.exclusive_only && !exclusive_job(sp)) {
        slurm_info("numa-gpu: job does not own the whole node (exclusive_only=yes): left alone");
        return 0;
    }
    if (spank_getenv(sp, "SLURM_STEP_GPUS", step_gpus, sizeof(step_gpus)) != ESPANK_SUCCESS)
        step_gpus[0] = '\0';
    active = 1;
    return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!active)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int local = 0;
    uint32_t ntasks = 1;
    spank_get_item(sp, S_TASK_ID, &local);
    spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks);
    ng_roots roots;
    ng_config_roots(&cfg, &roots);
    char err[NG_ERRLEN];
    ng_step st;
    ng_plan plan;
    ng_task_io io = { job_getenv, job_setenv, task_log, sp, verbose };
    int rc = ng_step_from_env(topo, &roots, job_getenv, sp, step_gpus, (int)ntasks, local,
                              &st, err, sizeof(err));
    if (rc == 0) {
        rc = ng_plan_compute(topo, allowed_cpus, allowed_mems, st.nranks, st.ranks, mode,
                             &plan, err, sizeof(err));
        ng_step_free(&st);
        if (rc == 0) {
            if (mode == NG_MODE_EXPLAIN && local != 0)
                rc = 0; /* local task 0 prints the node's plan once */
            else
                rc = ng_task_apply(topo, &plan, local, &io, NULL, err, sizeof(err));
            ng_plan_free(&plan);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    slurm_debug("numa-gpu: task %d placed in %.3f ms", local,
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    if (rc == 0)
        return 0;
    char msg[NG_ERRLEN + 64];
    snprintf(msg, sizeof(msg), "numa-gpu: %s: %s", mode == NG_MODE_STRICT
             ? "strict mode, task not started" : "running unbound", err);
    task_log(mode == NG_MODE_STRICT ? 2 : 1, msg, NULL);
    return mode == NG_MODE_STRICT ? -1 : 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)sp;
    (void)ac;
    (void)av;
    ng_topo_free(topo);
    hwloc_bitmap_free(allowed_cpus);
    hwloc_bitmap_free(allowed_mems);
    topo = NULL;
    allowed_cpus = allowed_mems = NULL;
    return 0;
}
