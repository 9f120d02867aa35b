/* numa_gpu.so: the SPANK front-end of libnumagpu. It only translates Slurm's
 * view (options, plugstack arguments, step items, task environment) into
 * library calls; every decision (the job's mode, what the step is to us,
 * the allowed sets, strict/prefer/explain) lives in lib/node.c and below.
 *
 * Hooks (Slurm 22.05):
 *   slurm_spank_init       every context: parse plugstack args, register
 *                          --numa-gpu (a bad argument leaves the plugin inert)
 *   option callback        srun/sbatch/salloc: reject a bad or disallowed mode
 *                          at submission (exit 255 with our message)
 *   slurm_spank_user_init  slurmstepd, before tasks fork: Slurm's facts of
 *                          the step into ng_node_prepare; tasks inherit it
 *   task_post_fork         slurmstepd (root): ng_node_task_forked (irq=,
 *                          the audit's pids)
 *   slurm_spank_task_init  each task, after task/affinity, before exec:
 *                          ng_node_task plans, applies and verifies its row
 *                          (the batch step: hints for mpirun & co.)
 *   slurm_spank_task_exit  slurmstepd (root): ng_node_task_exit (hugepages
 *                          back, the task's audit record)
 *   slurm_spank_exit       ng_node_close
 *   slurm_spank_job_epilog once per node per job: ng_job_end (summary into
 *                          the slurmd log and audit_dir/<jobid>.summary)
 * Never exit(), never crash slurmstepd: failures become messages; strict
 * mode fails the task, other modes let it run unbound. */
#define _GNU_SOURCE
#include <pwd.h>
#include <stdint.h>
#include <slurm/slurm.h>
#include <slurm/spank.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "numagpu.h"
#include "private/config.h"
#include "private/hugepages.h"
#include "private/node.h"

SPANK_PLUGIN(numa_gpu, 1);

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* Our init never fails (a bad plugstack line leaves the plugin inert); should
 * it ever, the job is at fault, never the node: do not drain it. */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

#define BATCH_STEP 0xfffffffbu  /* SLURM_BATCH_SCRIPT */
#define EXTERN_STEP 0xfffffffcu /* SLURM_EXTERN_CONT */

/* Everything the plugin holds: the cluster's config, the user's options
 * and the step on this node (lib/node.c), filled in slurmstepd before the
 * tasks fork (each task inherits a copy). */
static struct {
    ng_config cfg;                 /* plugstack.conf arguments */
    int loaded, inert;             /* inert: a bad argument, plugin off */
    ng_user_opts opt;              /* --numa-gpu and kin */
    ng_node node;
} S;

static int opt_cb(int val, const char *optarg, int remote);
static int hp_cb(int val, const char *optarg, int remote);
static int mem_cb(int val, const char *optarg, int remote);
static int setting_cb(int val, const char *optarg, int remote);

/* The user options that take a plugstack setting's values (the settings
 * table parses them): option val -> setting key, and where it goes. */
enum { OPT_SMT, OPT_CPUS, OPT_VISIBLE };
static const char *const opt_key[] = { "smt", "cpus", "visible" };
static int *const opt_field[] = { &S.opt.smt, &S.opt.scope, &S.opt.visible };

static struct spank_option options[] = {
    { "numa-gpu", "MODE",
      "Bind each task to its GPUs' NUMA node: off|prefer|strict|interleave|explain "
      "(add ,verbose to print the placement)", 1, 0, opt_cb },
    { "numa-gpu-hugepages", "SIZE[:PAGESIZE]",
      "Reserve SIZE of hugepages per task on its GPU's NUMA node (e.g. 8G, 4096M:2M, 2G:1G)",
      1, 0, hp_cb },
    { "numa-gpu-mem", "POLICY",
      "Memory placement with --numa-gpu: local|interleave|tiered (DDR then HBM/CXL)|hbm", 1, 0,
      mem_cb },
    { "numa-gpu-smt", "auto|1|all",
      "Hardware threads per core with --numa-gpu: 1 = one, all = every one, auto = what you "
      "asked Slurm (--hint=nomultithread, --threads-per-core)", 1, OPT_SMT, setting_cb },
    { "numa-gpu-cpus", "node|package",
      "Cores with --numa-gpu: node = the GPU's NUMA node(s); package = also the package's "
      "cores no task uses (memory stays on the GPU's node)", 1, OPT_CPUS, setting_cb },
    { "numa-gpu-visible", "keep|all|own",
      "When every task sees all the step's GPUs: keep the visible-device variables, list the "
      "task's home GPU first (all), or only it (own)", 1, OPT_VISIBLE, setting_cb },
    SPANK_OPTIONS_TABLE_END
};

/* ------------------------------------------------------ options and config */

static int mem_cb(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    if (ng_memopt_parse(optarg, &S.opt.mem) < 0) {
        slurm_error("numa-gpu: unknown --numa-gpu-mem '%s' (expected %s)", optarg, NG_MEM_NAMES);
        return -1;
    }
    return 0;
}

static int setting_cb(int val, const char *optarg, int remote)
{
    (void)remote;
    char err[NG_ERRLEN];
    static ng_config c;   /* a scratch config: only the setting's field is read */
    const ng_setting *st = val >= OPT_SMT && val <= OPT_VISIBLE ? ng_setting_find(opt_key[val])
                                                                : NULL;
    if (!st)
        return -1;
    ng_config_init(&c);
    if (ng_setting_set(&c, st, optarg, err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: unknown --numa-gpu-%s '%s' (expected %s)",
                    val == OPT_CPUS ? "cpus" : opt_key[val], optarg, st->allowed);
        return -1;
    }
    *opt_field[val] = *(const int *)((const char *)&c + st->field);
    return 0;
}

static int hp_cb(int val, const char *optarg, int remote)
{
    (void)val;
    char err[NG_ERRLEN];
    if (S.inert)
        return 0;
    if (ng_hp_parse_size(optarg, &S.opt.hp_bytes, &S.opt.hp_page_kb, err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        return -1;
    }
    if (ng_config_hugepages_check(&S.cfg, optarg, &S.opt.hp_bytes, &S.opt.hp_page_kb, err,
                                  sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        S.opt.hp_bytes = 0;
        return remote ? 0 : -1;
    }
    return 0;
}

static int opt_cb(int val, const char *optarg, int remote)
{
    (void)val;
    char err[NG_ERRLEN];
    if (ng_mode_option_parse(optarg, &S.opt.mode, &S.opt.verbose, err, sizeof(err)) < 0 ||
        (!S.inert && ng_config_mode_allowed(&S.cfg, S.opt.mode, err, sizeof(err)) < 0)) {
        slurm_error("numa-gpu: %s", err);
        return remote && S.inert ? 0 : -1;
    }
    S.opt.given = 1;
    return 0;
}

/* Parse the plugstack arguments once per process; a bad one makes the
 * plugin inert (logged where an admin looks: slurmd/slurmstepd). */
static void load_config(int ac, char **av)
{
    char err[NG_ERRLEN];
    if (S.loaded++)
        return;
    ng_config_init(&S.cfg);
    ng_user_opts_init(&S.opt);
    for (int i = 0; i < ac && !S.inert; i++)
        if (ng_config_arg(&S.cfg, av[i], err, sizeof(err)) < 0)
            S.inert = 1;
    if (!S.inert && ng_config_check(&S.cfg, err, sizeof(err)) < 0)
        S.inert = 1;
    if (S.inert && spank_context() != S_CTX_LOCAL && spank_context() != S_CTX_ALLOCATOR)
        slurm_error("numa-gpu: plugstack.conf: %s; plugin disabled, jobs run unbound", err);
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    load_config(ac, av);
    for (struct spank_option *o = options; o->name; o++)
        spank_option_register(sp, o);
    return 0;
}

/* ------------------------------------------------------ Slurm's items, env */

/* A job variable of any length (a 10,000-node SLURM_JOB_NODELIST), up to
 * 16 MiB; NULL when unset. */
static char *job_getenv_alloc(spank_t sp, const char *name)
{
    for (size_t len = 4096; len <= (16u << 20); len *= 4) {
        char *b = malloc(len);
        if (!b)
            return NULL;
        spank_err_t e = spank_getenv(sp, name, b, (int)len);
        if (e == ESPANK_SUCCESS)
            return b;
        free(b);
        if (e != ESPANK_NOSPACE)
            return NULL;
    }
    slurm_error("numa-gpu: %s is longer than 16 MiB; ignored", name);
    return NULL;
}

/* The library's getenv callback: the job's variables, at any length; each
 * value stays valid for the next three calls. */
static const char *job_getenv(const char *name, void *ctx)
{
    static char *bufs[4];
    static unsigned next;
    char **b = &bufs[next++ & 3];
    free(*b);
    *b = job_getenv_alloc((spank_t)ctx, name);
    return *b;
}

static int job_setenv(const char *name, const char *val, int overwrite, void *ctx)
{
    return spank_setenv((spank_t)ctx, name, val, overwrite) == ESPANK_SUCCESS ? 0 : -1;
}

/* A task's messages: user-visible ones on its stderr (srun shows them),
 * errors also in the slurmd log; level 3 is a line of the task's own
 * output, -1 a debug line. */
static void task_log(int level, const char *msg, void *ctx)
{
    (void)ctx;
    if (level >= 3) {
        fprintf(stderr, "%s\n", msg);
    } else if (level == 2) {
        slurm_error("%s", msg); /* in a task, Slurm shows it on stderr too */
    } else if (level < 0) {
        slurm_debug("%s", msg);
    } else {
        if (level == 1)
            slurm_info("%s", msg);
        if (level > 0 || S.node.verbose || S.node.mode == NG_MODE_EXPLAIN)
            fprintf(stderr, "%s\n", msg);
    }
}

static unsigned long item_u32(spank_t sp, spank_item_t item)
{
    uint32_t v = 0;
    return spank_get_item(sp, item, &v) == ESPANK_SUCCESS ? v : 0;
}

/* Slurm's node name: slurmstepd exports it into its own environment
 * (several slurmds on one host keep their names, unlike gethostname); else
 * the job's, else the short host name. */
static void node_name(spank_t sp, char *host, size_t len)
{
    const char *nodename = getenv("SLURMD_NODENAME");
    if (nodename && *nodename)
        snprintf(host, len, "%s", nodename);
    else if (spank_getenv(sp, "SLURMD_NODENAME", host, (int)len) != ESPANK_SUCCESS) {
        if (gethostname(host, len - 1) < 0)
            snprintf(host, len, "?");
        host[len - 1] = '\0';
        host[strcspn(host, ".")] = '\0';
    }
    host[len - 1] = '\0';
}

/* Messages of slurmstepd (the step's setup, task exits, the epilog) go to
 * the slurmd log. */
static void step_log(int level, const char *msg, void *ctx)
{
    (void)ctx;
    if (level >= 2)
        slurm_error("%s", msg);
    else if (level >= 0)
        slurm_info("%s", msg);
    else
        slurm_debug("%s", msg);
}

/* The running release, micro included: Slurm's rules changed within 23.02
 * (see lib/assign.c); the headers' when slurmstepd does not say. */
static unsigned slurm_release(spank_t sp)
{
    char *v[3] = { NULL, NULL, NULL };
    if (spank_get_item(sp, S_SLURM_VERSION_MAJOR, &v[0]) == ESPANK_SUCCESS &&
        spank_get_item(sp, S_SLURM_VERSION_MINOR, &v[1]) == ESPANK_SUCCESS &&
        spank_get_item(sp, S_SLURM_VERSION_MICRO, &v[2]) == ESPANK_SUCCESS && v[0] && v[1] && v[2])
        return NG_RELEASE(atoi(v[0]) & 255, atoi(v[1]) & 255, atoi(v[2]) & 255);
    return NG_RELEASE(SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER),
                      SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER),
                      SLURM_VERSION_MICRO(SLURM_VERSION_NUMBER));
}

/* ------------------------------------------------------ slurmstepd (root) */

/* Slurm's view of the step before its tasks fork, for lib/node.c. */
static int user_init(spank_t sp)
{
    uint32_t step = 0, ntasks = 0;
    int argc = 0;
    char **argv = NULL, *step_cores = NULL, *job_cores = NULL, env[16], host[256];
    char user[256] = "", pwbuf[16384];
    uid_t uid;
    struct passwd pw, *res = NULL;
    ng_node_facts f = { 0 };
    f.job = item_u32(sp, S_JOB_ID);
    if (spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS) {
        f.batch_step = step == BATCH_STEP;
        f.extern_step = step == EXTERN_STEP;
    }
    f.step = step;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) == ESPANK_SUCCESS && argc > 0)
        f.argv0 = argv[0];
    if (spank_get_item(sp, S_STEP_ALLOC_CORES, &step_cores) == ESPANK_SUCCESS)
        f.step_cores = step_cores;
    if (spank_get_item(sp, S_JOB_ALLOC_CORES, &job_cores) == ESPANK_SUCCESS)
        f.job_cores = job_cores;
    /* The step's whole GPU list, global GRES indexes in every configuration
     * (inside a task it can be renumbered per task under ConstrainDevices). */
    char *gpus = job_getenv_alloc(sp, "SLURM_STEP_GPUS");
    f.step_gpus = gpus;
    if (spank_getenv(sp, "NUMA_GPU", env, sizeof(env)) == ESPANK_SUCCESS)
        f.numa_gpu_env = env;
    f.release = slurm_release(sp);
    f.slurm_conf = getenv("SLURM_CONF");
    node_name(sp, host, sizeof(host));
    f.node = host;
    if (spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks) == ESPANK_SUCCESS)
        f.ntasks = (int)ntasks;
    /* The job's user, for reports by user (slurmstepd has resolved it
     * already: the lookup is served from the name service's cache). */
    f.uid = -1;
    if (S.cfg.audit_dir[0] && spank_get_item(sp, S_JOB_UID, &uid) == ESPANK_SUCCESS) {
        f.uid = (long long)uid;
        if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res) {
            snprintf(user, sizeof(user), "%s", pw.pw_name);
            f.user = user;
        }
    }
    int rc = ng_node_prepare(&S.node, &S.cfg, &S.opt, &f, step_log, NULL);
    free(gpus);
    return rc;
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (S.inert || spank_context() != S_CTX_REMOTE)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = user_init(sp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    slurm_debug("numa-gpu: step prepared in %.3f ms",
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return rc;
}

/* Slurm runs user_init with the job user's effective uid: /proc/irq and
 * the IRQ ledger need root, which slurmstepd has again here (the tasks
 * wait to exec until every post_fork has returned). */
int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int local = -1;
    pid_t pid = 0;
    if (spank_get_item(sp, S_TASK_ID, &local) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_TASK_PID, &pid) != ESPANK_SUCCESS)
        local = -1;
    ng_node_task_forked(&S.node, local, (int)pid, step_log, NULL);
    return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int local = -1;
    if (spank_get_item(sp, S_TASK_ID, &local) == ESPANK_SUCCESS)
        ng_node_task_exit(&S.node, local, (int)item_u32(sp, S_TASK_GLOBAL_ID), step_log, NULL);
    return 0;
}

int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
    uint32_t job = 0;
    load_config(ac, av); /* Slurm 22.05 calls no slurm_spank_init here */
    if (!S.inert && spank_get_item(sp, S_JOB_ID, &job) == ESPANK_SUCCESS)
        ng_job_end(&S.cfg, job, step_log, NULL);
    return 0;
}

/* ------------------------------------------------------------- the tasks */

/* The job's nodes, every one whatever the job's size (the batch step's
 * rankfile); NULL when SLURM_JOB_NODELIST is unset. */
static char **job_hosts(spank_t sp, int *nh)
{
    int maxh = 0;
    char **hosts = NULL, *nodelist = job_getenv_alloc(sp, "SLURM_JOB_NODELIST");
    *nh = 0;
    if (!nodelist || !(hosts = calloc(1, sizeof(char *)))) {
        free(nodelist);
        return NULL;
    }
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
    hostlist_t *hl = slurm_hostlist_create(nodelist);   /* opaque since 23.11 */
#else
    hostlist_t hl = slurm_hostlist_create(nodelist);
#endif
    for (char *h; hl && (h = slurm_hostlist_shift(hl)); ) {
        if (*nh == maxh) {
            char **nhs = realloc(hosts, (size_t)(maxh = maxh ? 2 * maxh : 64) * sizeof(char *));
            if (!nhs) {
                free(h);
                break;
            }
            hosts = nhs;
        }
        hosts[(*nh)++] = h;
    }
    if (hl)
        slurm_hostlist_destroy(hl);
    free(nodelist);
    return hosts;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    uint32_t ntasks = 1, cpt = 0;
    char node[256] = "";
    ng_task_facts tf = { 0 };
    if (S.node.kind == NG_KIND_NONE)
        return 0;
    spank_get_item(sp, S_TASK_ID, &tf.self);
    spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks);
    spank_get_item(sp, S_TASK_GLOBAL_ID, &tf.global_id);
    tf.ntasks = (int)ntasks;
    if (spank_get_item(sp, S_STEP_CPUS_PER_TASK, &cpt) == ESPANK_SUCCESS)
        tf.step_cpus_per_task = cpt;
    if (spank_getenv(sp, "SLURMD_NODENAME", node, sizeof(node)) == ESPANK_SUCCESS)
        tf.node = node;
    ng_task_io io = { job_getenv, job_setenv, task_log, sp, S.node.verbose, S.cfg.nic_off };
    int nh = 0;
    char **hosts = S.node.kind == NG_KIND_BATCH ? job_hosts(sp, &nh) : NULL;
    int rc = ng_node_task(&S.node, &tf, &io, (const char *const *)hosts, nh);
    for (int i = 0; i < nh; i++)
        free(hosts[i]);
    free(hosts);
    return rc;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)sp;
    (void)ac;
    (void)av;
    ng_node_close(&S.node, spank_context() == S_CTX_REMOTE, step_log, NULL);
    return 0;
}
