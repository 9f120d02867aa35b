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
 *   task_post_fork/exit    slurmstepd (root): irq= steers the step's IRQs
 *                          (first post_fork); with audit_dir=, the step's
 *                          audit (lib/auditstep.c) samples each task and
 *                          writes its JSON record when it exits, after
 *                          giving back the task's hugepages
 *   explain + picture=     slurmstepd opens audit_dir/<job>.<step>.<node>.svg
 *                          (root, before the tasks fork); local task 0 draws
 *                          the node's plan onto it with lstopo (lib/draw.c)
 *   slurm_spank_job_epilog once per node per job: summary into the slurmd log
 *                          and audit_dir/<jobid>.summary
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
#include "private/assign.h"
#include "private/auditstep.h"
#include "private/config.h"
#include "private/cpuopt.h"
#include "private/visible.h"
#include "private/draw.h"
#include "private/gpumap.h"
#include "private/hints.h"
#include "private/hostplans.h"
#include "private/hugepages.h"
#include "private/irq.h"
#include "private/apply.h"
#include "private/cgroup.h"
#include "private/slurmstep.h"
#include "private/step.h"

SPANK_PLUGIN(numa_gpu, 1);

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* Our init never fails (a bad plugstack line leaves the plugin inert); should
 * it ever, the job is at fault, never the node: do not drain it. */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

#define BATCH_STEP 0xfffffffbu  /* SLURM_BATCH_SCRIPT */
#define EXTERN_STEP 0xfffffffcu /* SLURM_EXTERN_CONT */

/* What this step is to us. */
typedef enum { STEP_NONE, STEP_TASKS, STEP_DAEMON, STEP_BATCH } step_kind;

/* Everything the plugin holds. Filled in slurmstepd before the tasks fork
 * (each task inherits a copy); the audit and hugepage objects share memory
 * with the tasks. */
static struct {
    ng_config cfg;                 /* plugstack.conf arguments */
    int loaded, inert;             /* inert: a bad argument, plugin off */
    struct {                       /* the user's options */
        int given, verbose;
        ng_mode mode;
        ng_memopt mem;
        int smt, scope, visible;   /* -1: the plugstack default */
        unsigned long long hp_bytes;
        unsigned long hp_page_kb;
    } opt;
    step_kind kind;
    ng_mode mode;
    int verbose;
    ng_topo *topo;
    hwloc_bitmap_t cpus, mems;     /* the step's (a daemon's: the job's) */
    unsigned *gres;                /* the step's GPUs on this node */
    ng_gres_facts gres_facts;      /* gres.conf per GRES index: Cores=, File= */
    char gres_node[256];           /* the node name gres.conf was read for */
    ng_slurm_step slurm;
    hwloc_bitmap_t isolated, nohz; /* the kernel's, for the admin's policy */
    ng_plan_policy policy;
    ng_audit_step *audit;
    ng_hp_service *hp;
    int picture_fd;                /* explain + picture=: the file task 0 draws on */
    char picture_name[128];        /* its name in audit_dir, "" when none */
    int picture_ready;             /* in task 0: picture_plan awaits drawing */
    ng_plan picture_plan;
    int irq_pending;               /* irq=check|apply: at the first task_post_fork */
    int irqs_steered;              /* irq=apply: steered for the step; -1 */
    char hp_env[NG_ERRLEN];        /* in a task: the hugepages it was given */
    char task_err[NG_ERRLEN];      /* in a task: an error it runs through */
} S;

static int opt_cb(int val, const char *optarg, int remote);
static int hp_cb(int val, const char *optarg, int remote);
static int mem_cb(int val, const char *optarg, int remote);
static int smt_cb(int val, const char *optarg, int remote);
static int cpus_cb(int val, const char *optarg, int remote);
static int visible_cb(int val, const char *optarg, int remote);

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
      "asked Slurm (--hint=nomultithread, --threads-per-core)", 1, 0, smt_cb },
    { "numa-gpu-cpus", "node|package",
      "Cores with --numa-gpu: node = the GPU's NUMA node(s); package = also the package's "
      "cores no task uses (memory stays on the GPU's node)", 1, 0, cpus_cb },
    { "numa-gpu-visible", "keep|all|own",
      "When every task sees all the step's GPUs: keep the visible-device variables, list the "
      "task's home GPU first (all), or only it (own)", 1, 0, visible_cb },
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

/* An option whose value is one of a list of names: idx is the parser's
 * answer (-1 refused), stored in *out, or refused naming what is allowed. */
static int named_opt(const char *opt, const char *optarg, const char *allowed, int idx, int *out)
{
    if (idx < 0) {
        slurm_error("numa-gpu: unknown %s '%s' (expected %s)", opt, optarg, allowed);
        return -1;
    }
    *out = idx;
    return 0;
}

static int smt_cb(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    ng_smt m;
    return named_opt("--numa-gpu-smt", optarg, NG_SMT_NAMES,
                     ng_smt_parse(optarg, &m) == 0 ? (int)m : -1, &S.opt.smt);
}

static int cpus_cb(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    ng_cpu_scope sc;
    return named_opt("--numa-gpu-cpus", optarg, NG_SCOPE_NAMES,
                     ng_cpu_scope_parse(optarg, &sc) == 0 ? (int)sc : -1, &S.opt.scope);
}

static int visible_cb(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    ng_visible v;
    return named_opt("--numa-gpu-visible", optarg, NG_VISIBLE_NAMES,
                     ng_visible_parse(optarg, &v) == 0 ? (int)v : -1, &S.opt.visible);
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
    S.opt.smt = S.opt.scope = S.opt.visible = -1;
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
    if (level > 0 || S.verbose || S.mode == NG_MODE_EXPLAIN)
        fprintf(stderr, "%s\n", msg);
}

static unsigned long item_u32(spank_t sp, spank_item_t item)
{
    uint32_t v = 0;
    return spank_get_item(sp, item, &v) == ESPANK_SUCCESS ? v : 0;
}

static step_kind kind_of(spank_t sp)
{
    uint32_t step = 0;
    int argc = 0;
    char **argv = NULL;
    if (spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS &&
        (step == BATCH_STEP || step == EXTERN_STEP))
        return step == BATCH_STEP ? STEP_BATCH : STEP_NONE;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) == ESPANK_SUCCESS && argc > 0 &&
        ng_launcher_daemon(argv[0]))
        return STEP_DAEMON;
    return STEP_TASKS;
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

/* Cores of the step (or job) on this node (Slurm core indexes -> PUs)
 * within the cgroup's cpuset; mems from the cgroup. */
static int read_allowed(spank_t sp, spank_item_t cores_item, char *err, size_t errlen)
{
    S.cpus = hwloc_bitmap_alloc();
    S.mems = hwloc_bitmap_alloc();
    if (ng_allowed_read(NULL, NULL, 0, S.cpus, S.mems, err, errlen) < 0)
        return -1;
    char *cores = NULL;
    if (spank_get_item(sp, cores_item, &cores) == ESPANK_SUCCESS && cores && *cores) {
        hwloc_bitmap_t c = hwloc_bitmap_alloc(), pus = hwloc_bitmap_alloc();
        int rc = ng_list_parse(cores, c) == 0 && ng_topo_cores_to_pus(S.topo, c, pus) == 0;
        if (rc)
            hwloc_bitmap_and(S.cpus, S.cpus, pus);
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
    return n == hwloc_get_nbobjs_by_type(ng_topo_hwloc(S.topo), HWLOC_OBJ_CORE);
}

static void audit_start(spank_t sp, const char *skipped)
{
    uint32_t n = 0;
    char host[256], err[NG_ERRLEN];
    if (!S.cfg.audit_dir[0] || spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &n) != ESPANK_SUCCESS)
        return;
    node_name(sp, host, sizeof(host));
    ng_audit_conf c = { S.cfg.audit_dir, S.cfg.audit_interval, S.cfg.audit_warn_local,
                        S.cfg.audit_method, S.cfg.audit_pages };
    S.audit = ng_audit_step_new(&c, item_u32(sp, S_JOB_ID), item_u32(sp, S_JOB_STEPID), host,
                                (int)n, S.mode, skipped, err, sizeof(err));
    if (!S.audit) {
        slurm_error("numa-gpu: %s", err);
        return;
    }
    /* The job's user, for reports by user (slurmstepd has resolved it
     * already: the lookup is served from the name service's cache). */
    uid_t uid;
    if (spank_get_item(sp, S_JOB_UID, &uid) == ESPANK_SUCCESS) {
        struct passwd pw, *res = NULL;
        char buf[16384];
        ng_audit_step_owner(S.audit, (long long)uid,
                            getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res
                            ? pw.pw_name : NULL);
    }
}

/* explain with picture=: root opens audit_dir/<job>.<step>.<node>.<fmt>
 * before the tasks fork (O_NOFOLLOW, in a directory of root's only); task 0
 * inherits the descriptor (close-on-exec) and lstopo draws onto it, so
 * nothing running as the user ever opens a path there. */
static void picture_open(spank_t sp)
{
    char host[256], err[NG_ERRLEN];
    if (S.mode != NG_MODE_EXPLAIN || S.cfg.picture < 0 || !S.cfg.audit_dir[0])
        return;
    const char *nodename = getenv("SLURMD_NODENAME");
    if (nodename && *nodename)
        snprintf(host, sizeof(host), "%s", nodename);
    else if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "node");
    host[sizeof(host) - 1] = '\0';
    for (char *c = host; *c; c++)   /* a file name, whatever the node is called */
        if (*c == '/' || *c < 0x21 || *c > 0x7e)
            *c = '_';
    snprintf(S.picture_name, sizeof(S.picture_name), "%lu.%lu.%.64s.%s",
             item_u32(sp, S_JOB_ID), item_u32(sp, S_JOB_STEPID), host,
             ng_draw_format_name((ng_draw_format)S.cfg.picture));
    S.picture_fd = ng_draw_open_in(S.cfg.audit_dir, S.picture_name, err, sizeof(err));
    if (S.picture_fd < 0) {
        slurm_error("numa-gpu: %s", err);
        S.picture_name[0] = '\0';
    }
}

/* In task 0, after its placement is timed: lstopo draws the node's plan
 * (5 s deadline); a failure is said and leaves the file empty, which
 * slurmstepd removes at the step's end. */
static void picture_draw(void)
{
    char err[NG_ERRLEN], title[256], msg[NG_ERRLEN + 1200];
    char *xml = NULL;
    size_t len = 0;
    snprintf(title, sizeof(title), "%s: %s", ng_topo_source(S.topo), S.picture_name);
    int rc = ng_draw_xml(S.topo, &S.picture_plan, title, &xml, &len, err, sizeof(err));
    if (rc == 0)
        rc = ng_draw_render(xml, len, (ng_draw_format)S.cfg.picture, S.picture_fd, 5000, err,
                            sizeof(err));
    free(xml);
    if (rc < 0) {
        if (ftruncate(S.picture_fd, 0) < 0)
            snprintf(err + strlen(err), sizeof(err) - strlen(err), " (truncate failed)");
        snprintf(msg, sizeof(msg), "numa-gpu explain: no picture: %s", err);
        task_log(1, msg, NULL);
    } else {
        snprintf(msg, sizeof(msg), "numa-gpu explain: the picture of this node's plan is "
                 "%s/%s", S.cfg.audit_dir, S.picture_name);
        task_log(0, msg, NULL);
    }
    ng_plan_free(&S.picture_plan);
    S.picture_ready = 0;
}

static void hp_ctx(ng_hp_ctx *c)
{
    c->sysfs = NULL;   /* the real kernel's counters, never the fake GPU tree */
    c->procfs = NULL;
    c->state_dir = S.cfg.state_dir;
    c->max_per_job = S.cfg.hugepages_max_per_job;
    c->max_fraction = S.cfg.hugepages_max_fraction;
}

static void hp_start(spank_t sp)
{
    uint32_t n = 0;
    char err[NG_ERRLEN];
    ng_hp_ctx c;
    if (!S.opt.hp_bytes || S.mode == NG_MODE_EXPLAIN ||
        spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &n) != ESPANK_SUCCESS)
        return;
    hp_ctx(&c);
    S.hp = ng_hp_service_start(&c, item_u32(sp, S_JOB_ID), item_u32(sp, S_JOB_STEPID), (int)n,
                               S.opt.hp_bytes, S.opt.hp_page_kb, err, sizeof(err));
    if (!S.hp)
        slurm_error("numa-gpu: %s", err);
}

/* gres.conf's records of this node for the step's GPUs (Cores=, File=). */
static int read_gres_facts(const char *node, char *err, size_t errlen)
{
    ng_roots roots;
    ng_config_roots(&S.cfg, &roots);
    ng_gres_facts_free(&S.gres_facts);
    snprintf(S.gres_node, sizeof(S.gres_node), "%s", node);
    if (ng_gres_facts_read(S.topo, &roots, getenv("SLURM_CONF"), node, S.cfg.gres_cores, S.gres,
                           S.slurm.ngres, &S.gres_facts, err, errlen) < 0)
        return -1;
    S.slurm.gres_cpus = (hwloc_const_bitmap_t const *)S.gres_facts.cpus;
    S.slurm.ngres_cpus = S.gres_facts.n;
    S.slurm.gres_dev = (const char *const *)S.gres_facts.dev;
    S.slurm.ngres_dev = S.gres_facts.n;
    /* 26.05 Flags=env_uuid: map/mask ids are global even under
     * ConstrainDevices (src/interfaces/gres.c, GRES_CONF_UUID). */
    if (S.gres_facts.env_uuid && S.slurm.release >= NG_RELEASE(26, 5, 0))
        S.slurm.local_index = 0;
    return 0;
}

/* The step's facts the library needs to know which task has which GPU. */
static int read_slurm_step(spank_t sp, char *err, size_t errlen)
{
    /* The step's whole GPU list, global GRES indexes in every configuration
     * (inside a task it can be renumbered per task under ConstrainDevices). */
    char *list = job_getenv_alloc(sp, "SLURM_STEP_GPUS");
    int bad = list && strcmp(list, "NoDevFiles") &&
              ng_gres_list_parse(list, &S.gres, &S.slurm.ngres, err, errlen) < 0;
    free(list);
    if (bad)
        return -1;
    S.slurm.gres = S.gres;
    const char *conf = getenv("SLURM_CONF");
    S.slurm.local_index = S.cfg.constrain_devices >= 0 ? S.cfg.constrain_devices
                        : ng_slurm_local_index(conf);
    S.slurm.task_affinity = ng_slurm_task_affinity(conf);
    S.slurm.device_check = S.cfg.device_check;
    /* The running release, micro included: Slurm's rules changed within
     * 23.02 (see lib/assign.c). */
    char *v[3] = { NULL, NULL, NULL };
    if (S.cfg.bind_rules >= 0)
        S.slurm.release = (unsigned)S.cfg.bind_rules;
    else if (spank_get_item(sp, S_SLURM_VERSION_MAJOR, &v[0]) == ESPANK_SUCCESS &&
             spank_get_item(sp, S_SLURM_VERSION_MINOR, &v[1]) == ESPANK_SUCCESS &&
             spank_get_item(sp, S_SLURM_VERSION_MICRO, &v[2]) == ESPANK_SUCCESS &&
             v[0] && v[1] && v[2])
        S.slurm.release = NG_RELEASE(atoi(v[0]) & 255, atoi(v[1]) & 255, atoi(v[2]) & 255);
    else
        S.slurm.release = NG_RELEASE(SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER),
                                     SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER),
                                     SLURM_VERSION_MICRO(SLURM_VERSION_NUMBER));
    if (S.slurm.ngres) {
        char host[256];
        node_name(sp, host, sizeof(host));
        if (read_gres_facts(host, err, errlen) < 0)
            return -1;
        if (S.verbose)
            slurm_info("numa-gpu: %s", S.gres_facts.note);
    }
    return 0;
}

/* The admin's core policy and the kernel's isolated CPUs it refers to. */
static int read_policy(char *err, size_t errlen)
{
    S.isolated = hwloc_bitmap_alloc();
    S.nohz = hwloc_bitmap_alloc();
    if (!S.isolated || !S.nohz ||
        ng_isolated_read(S.cfg.sysfs[0] ? S.cfg.sysfs : NULL, S.isolated, S.nohz, err,
                         errlen) < 0)
        return -1;
    S.policy.isolated = S.isolated;
    S.policy.use_isolated = S.cfg.use_isolated;
    S.policy.nohz_full = S.nohz;
    S.policy.reserve_first_core_per = (ng_reserve)S.cfg.reserve_first_core;
    return 0;
}

static void irq_ctx(ng_irq_ctx *c)
{
    c->procfs = S.cfg.procfs[0] ? S.cfg.procfs : NULL;
    c->sysfs = S.cfg.sysfs[0] ? S.cfg.sysfs : NULL;
    c->state_dir = S.cfg.state_dir;
}

/* irq=check|apply: the interrupts of the step's GPUs and their nearest NICs
 * (root, before the tasks exec); apply steers the remote ones to the
 * devices' nodes away from the step's cpus, and the job epilog restores. */
static void step_irqs(spank_t sp)
{
    char err[NG_ERRLEN], msg[NG_ERRLEN];
    ng_roots roots;
    ng_irq_ctx c;
    ng_config_roots(&S.cfg, &roots);
    irq_ctx(&c);
    int apply = S.cfg.irq == NG_IRQ_APPLY;
    int rc = ng_irq_step(S.topo, &roots, &c, S.gres, S.slurm.ngres, apply,
                         item_u32(sp, S_JOB_ID), S.cpus, msg, sizeof(msg), err, sizeof(err));
    if (rc < 0)
        slurm_error("numa-gpu: irq: %s%s", err, apply ? "; nothing changed" : "");
    else if (msg[0])
        slurm_info("numa-gpu: irq: %s", msg);
    /* For the audit records: how many this step steered ("steered N IRQ(s)..."). */
    if (apply && (rc < 0 || sscanf(msg, "steered %d IRQ", &S.irqs_steered) != 1))
        S.irqs_steered = 0;
}

/* ------------------------------------------------------ slurmstepd (root) */

static int user_init(spank_t sp);

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

static int user_init(spank_t sp)
{
    char env[16], note[NG_ERRLEN], err[NG_ERRLEN];
    S.irqs_steered = -1;
    S.mode = ng_config_job_mode(&S.cfg, S.opt.given, S.opt.mode, S.opt.verbose,
                                spank_getenv(sp, "NUMA_GPU", env, sizeof(env)) == ESPANK_SUCCESS
                                ? env : NULL, &S.verbose, note, sizeof(note));
    if (note[0])
        slurm_info("numa-gpu: %s", note);
    step_kind kind = kind_of(sp);
    if (S.mode == NG_MODE_OFF || kind == STEP_NONE)
        return 0;
    S.topo = ng_topo_load(S.cfg.topology[0] ? S.cfg.topology : NULL, err, sizeof(err));
    if (!S.topo && S.cfg.topology[0]) {
        slurm_info("numa-gpu: %s; discovering the live topology", err);
        S.topo = ng_topo_load(NULL, err, sizeof(err));
    }
    /* Measured locality (numa-gpu calibrate --write-map) replaces the firmware's. */
    int mapped, skipped;
    if (S.topo && S.cfg.gpu_map[0] &&
        ng_gpu_map_locality(S.topo, S.cfg.gpu_map, &mapped, &skipped, err, sizeof(err)) < 0)
        slurm_error("numa-gpu: %s; GPU locality stays the firmware's", err);
    if (kind != STEP_DAEMON && S.topo && read_policy(err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        return S.mode == NG_MODE_STRICT && kind == STEP_TASKS ? -1 : 0;
    }
    /* Daemons are widened to the whole job; the rest get the step's cores. */
    if (!S.topo || read_allowed(sp, kind == STEP_DAEMON ? S_JOB_ALLOC_CORES : S_STEP_ALLOC_CORES,
                                err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        return S.mode == NG_MODE_STRICT && kind == STEP_TASKS ? -1 : 0;
    }
    if (kind == STEP_DAEMON) {
        slurm_info("numa-gpu: MPI launcher daemon step: not bound to a GPU node; its affinity "
                   "is widened to the job's cpus so the launcher's own binding can place ranks");
        audit_start(sp, "MPI launcher daemon step");
        S.kind = kind;
        return 0;
    }
    if (kind == STEP_BATCH) {
        S.kind = kind;
        return 0;
    }
    if (S.cfg.exclusive_only && !exclusive_job(sp)) {
        slurm_info("numa-gpu: job does not own the whole node (exclusive_only=yes): left alone");
        audit_start(sp, "job does not own the whole node (exclusive_only=yes)");
        return 0;
    }
    if (read_slurm_step(sp, err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: SLURM_STEP_GPUS: %s", err);
        return S.mode == NG_MODE_STRICT ? -1 : 0;
    }
    S.kind = STEP_TASKS;
    S.irq_pending = S.cfg.irq != NG_IRQ_OFF && S.slurm.ngres > 0;
    audit_start(sp, NULL);
    hp_start(sp);
    picture_open(sp);
    return 0;
}

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int local = -1;
    pid_t pid = 0;
    /* Slurm runs user_init with the job user's effective uid: /proc/irq and
     * the IRQ ledger need root, which slurmstepd has again here (once per
     * step; the tasks wait to exec until every post_fork has returned). */
    if (S.irq_pending) {
        S.irq_pending = 0;
        step_irqs(sp);
        if (S.irqs_steered >= 0)
            ng_audit_step_irqs(S.audit, S.irqs_steered);
    }
    if (S.audit && spank_get_item(sp, S_TASK_ID, &local) == ESPANK_SUCCESS &&
        spank_get_item(sp, S_TASK_PID, &pid) == ESPANK_SUCCESS)
        ng_audit_step_forked(S.audit, local, pid);
    return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int local = -1;
    char err[NG_ERRLEN];
    if ((!S.audit && !S.hp) || spank_get_item(sp, S_TASK_ID, &local) != ESPANK_SUCCESS)
        return 0;
    /* slurmstepd (root): the task's hugepages go back as soon as it is gone
     * (the step's end gives back whatever is left), so its record says so. */
    if (S.hp) {
        ng_hp_ctx c;
        int n = 0;
        hp_ctx(&c);
        /* Released: none of its pages left in the ledger (n is 0 when another
         * release, e.g. of an owner found dead, got there first). */
        if (ng_hp_release(&c, item_u32(sp, S_JOB_ID), (long)item_u32(sp, S_JOB_STEPID), local,
                          &n, err, sizeof(err)) < 0)
            slurm_error("numa-gpu: %s", err);
        else
            ng_audit_step_released(S.audit, local, 1);
    }
    if (S.audit && ng_audit_step_exit(S.audit, local, (int)item_u32(sp, S_TASK_GLOBAL_ID), err,
                                      sizeof(err)) < 0)
        slurm_error("numa-gpu: audit: %s", err);
    return 0;
}

int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
    uint32_t job = 0;
    char *text = NULL, err[NG_ERRLEN];
    load_config(ac, av); /* Slurm 22.05 calls no slurm_spank_init here */
    if (S.inert || spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS)
        return 0;
    if (!S.cfg.hugepages_off && access(S.cfg.state_dir, F_OK) == 0) {
        ng_hp_ctx c;
        int n = 0;
        hp_ctx(&c);
        if (ng_hp_release(&c, job, -1, -1, &n, err, sizeof(err)) < 0)
            slurm_error("numa-gpu: %s", err);
        else if (n)
            slurm_info("numa-gpu: job %u: released %d hugepage reservation(s) left at job end", job, n);
    }
    if (ng_rankfiles_remove(job, err, sizeof(err)) > 0)
        slurm_info("numa-gpu: %s", err);
    if (S.cfg.irq == NG_IRQ_APPLY) {
        ng_irq_ctx c;
        int n = 0;
        char note[NG_ERRLEN];
        irq_ctx(&c);
        if (ng_irq_restore(&c, job, &n, note, sizeof(note), err, sizeof(err)) < 0)
            slurm_error("numa-gpu: irq: %s", err);
        else if (n || note[0])
            slurm_info("numa-gpu: job %u: restored %d IRQ(s)%s%s", job, n, note[0] ? "; " : "",
                       note);
    }
    if (!S.cfg.audit_dir[0])
        return 0;
    int rc = ng_audit_job_end(S.cfg.audit_dir, job, S.cfg.audit_warn_local, &text, err,
                              sizeof(err));
    for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        slurm_info("numa-gpu: %s", l);
    if (rc < 0)
        slurm_error("numa-gpu: audit: %s", err);
    free(text);
    return 0;
}

/* ------------------------------------------------------------- the tasks */

/* What the user asked of the CPU binding (their option, else the
 * plugstack default; auto and the thread count from Slurm's variables). A
 * variable Slurm would never set is said and left out, the task runs. */
static const ng_cpuopt *cpuopt(spank_t sp, ng_cpuopt *co)
{
    char err[NG_ERRLEN], msg[NG_ERRLEN + 32];
    ng_smt smt = (ng_smt)(S.opt.smt >= 0 ? S.opt.smt : S.cfg.smt);
    ng_cpu_scope sc = (ng_cpu_scope)(S.opt.scope >= 0 ? S.opt.scope : S.cfg.cpu_scope);
    /* -c: the value the step really launched with (SLURM_CPUS_PER_TASK
     * can be a stale sbatch -c that srun ignored, up to 23.02), when the
     * job said -c at all. */
    uint32_t cpt = 0;
    if (!job_getenv("SLURM_CPUS_PER_TASK", sp) ||
        spank_get_item(sp, S_STEP_CPUS_PER_TASK, &cpt) != ESPANK_SUCCESS ||
        cpt > NG_MAX_CPUS_PER_TASK)
        cpt = 0;
    if (ng_cpuopt_from_env(smt, sc, (int)cpt, job_getenv, sp, co, err, sizeof(err)) == 0) {
        /* In a task (not the batch step): Slurm's mask is its affinity now. */
        ng_effective now = { 0 };
        if (S.kind == STEP_TASKS && co->from_slurm && ng_effective_read(0, &now, err, sizeof(err)) == 0)
            ng_cpuopt_slurm_mask(co, S.topo, now.cpus);
        ng_effective_clear(&now);
        return co;
    }
    snprintf(msg, sizeof(msg), "numa-gpu: %s; ignored", err);
    task_log(1, msg, NULL);
    return ng_cpuopt_from_env(smt, sc, 0, NULL, NULL, co, err, sizeof(err)) == 0 ? co : NULL;
}

/* The batch script: the plan of this node for the job's tasks, rendered
 * for mpirun & co. (never overriding what the user set), and a rankfile. */
static void export_hints(spank_t sp)
{
    char err[NG_ERRLEN], warn[NG_ERRLEN] = "", path[128];
    char *nodelist = job_getenv_alloc(sp, "SLURM_JOB_NODELIST");
    ng_roots roots;
    ng_step st;
    ng_plan plan = { 0 };
    if (!nodelist)
        return;
    ng_config_roots(&S.cfg, &roots);
    int rc = ng_step_from_batch(S.topo, &roots, job_getenv, sp, 0, &st, err, sizeof(err));
    if (rc == 0) {
        ng_cpuopt co;
        rc = ng_step_plan(S.topo, &st, S.cpus, S.mems, S.mode, S.opt.mem, &S.policy,
                          cpuopt(sp, &co), &plan, warn, sizeof(warn), err, sizeof(err));
        ng_step_free(&st);
    }
    if (rc < 0) {
        task_log(1, err, NULL);
        free(nodelist);
        return;
    }
    if (warn[0])
        task_log(1, warn, NULL);
    int nh = 0, maxh = 0;
    char **hosts = NULL;
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
    hostlist_t *hl = slurm_hostlist_create(nodelist);   /* opaque since 23.11 */
#else
    hostlist_t hl = slurm_hostlist_create(nodelist);
#endif
    /* Every host, whatever the job's size. */
    for (char *h; hl && (h = slurm_hostlist_shift(hl)); ) {
        if (nh == maxh) {
            char **nhs = realloc(hosts, (size_t)(maxh = maxh ? 2 * maxh : 64) * sizeof(char *));
            if (!nhs) {
                free(h);
                break;
            }
            hosts = nhs;
        }
        hosts[nh++] = h;
    }
    if (hl)
        slurm_hostlist_destroy(hl);
    free(nodelist);
    /* Nodes of another type (topology_dir=): their rankfile rows from
     * their own topology, with their own task counts. */
    ng_host_plans hp = { 0 };
    int *tpn = S.cfg.topology_dir[0] && nh > 0 ? calloc((size_t)nh, sizeof(int)) : NULL;
    if (tpn) {
        char *v = job_getenv_alloc(sp, "SLURM_TASKS_PER_NODE"), note[NG_ERRLEN], host[256] = "";
        ng_cpuopt co2;
        spank_getenv(sp, "SLURMD_NODENAME", host, sizeof(host));
        if (!v || ng_tasks_per_node_list(v, nh, tpn, err, sizeof(err)) < 0)
            for (int i = 0; i < nh; i++)
                tpn[i] = plan.nranks;
        if (ng_host_plans_make(S.cfg.topology_dir, (const char *const *)hosts, nh, tpn,
                               ng_plan_gpu_count(&plan), host[0] ? host : hosts[0], &plan, S.mode,
                               cpuopt(sp, &co2), &hp, note, sizeof(note), err, sizeof(err)) < 0) {
            char msg[NG_ERRLEN + 16];
            snprintf(msg, sizeof(msg), "numa-gpu: %s", err);
            task_log(1, msg, NULL);
        } else if (note[0] && S.verbose) {
            char msg[NG_ERRLEN + 16];
            snprintf(msg, sizeof(msg), "numa-gpu: %s", note);
            task_log(0, msg, NULL);
        }
        free(v);
        free(tpn);
    }
    ng_hints h;
    if (ng_hints_batch(&plan, hp.plan, (const char *const *)hosts, nh, item_u32(sp, S_JOB_ID),
                       NG_MPI_ALL, &h, path, sizeof(path), err, sizeof(err)) == 0) {
        for (int i = 0; i < h.n; i++)
            if (spank_setenv(sp, h.v[i].name, h.v[i].value, 0) == ESPANK_ENV_EXISTS && S.verbose) {
                char msg[256];
                snprintf(msg, sizeof(msg), "numa-gpu: keeping your %s", h.v[i].name);
                task_log(0, msg, NULL);
            }
        spank_setenv(sp, "NUMA_GPU_RANKFILE", path, 1);
        ng_hints_free(&h);
    } else {
        char msg[NG_ERRLEN + 16];
        snprintf(msg, sizeof(msg), "numa-gpu: %s", err);
        task_log(1, msg, NULL);
    }
    ng_host_plans_free(&hp);
    for (int i = 0; i < nh; i++)
        free(hosts[i]);
    free(hosts);
    ng_plan_free(&plan);
}

/* In the task (as the user): slurmstepd reserves the pages of our row. */
static int task_hugepages(spank_t sp, int self, const ng_rank_plan *rp, char *err, size_t errlen)
{
    char env[NG_ERRLEN], warn[NG_ERRLEN];
    if (ng_hp_service_ask(S.hp, self, rp->mems, S.mode == NG_MODE_STRICT, 10000, env,
                          sizeof(env), warn, sizeof(warn), err, errlen) < 0)
        return -1;
    if (warn[0])
        task_log(1, warn, NULL);
    spank_setenv(sp, "NUMA_GPU_HUGEPAGES", env, 1);
    snprintf(S.hp_env, sizeof(S.hp_env), "%s", env);
    if (S.cfg.hugepages_mount[0])
        spank_setenv(sp, "NUMA_GPU_HUGETLBFS", S.cfg.hugepages_mount, 1);
    return 0;
}

/* Every local task computes the same plan from the same step-wide inputs,
 * so rows are disjoint and agree between tasks; this task applies its row. */
static int place_task(spank_t sp, char *err, size_t errlen)
{
    uint32_t ntasks = 1;
    int self = 0;
    char warn[NG_ERRLEN] = "";
    ng_roots roots;
    ng_step st;
    ng_plan plan;
    spank_get_item(sp, S_TASK_ID, &self);
    spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks);
    ng_config_roots(&S.cfg, &roots);
    /* slurmstepd may not know Slurm's node name before fork (22.05); every
     * task has it: gres.conf's NodeName= lines are read for that name. */
    char node[256];
    if (S.slurm.ngres && spank_getenv(sp, "SLURMD_NODENAME", node, sizeof(node)) == ESPANK_SUCCESS &&
        node[0] && strcmp(node, S.gres_node) && read_gres_facts(node, err, errlen) < 0)
        return -1;
    if (ng_step_from_slurm(S.topo, &roots, &S.slurm, (int)ntasks, self, S.mode, job_getenv, sp,
                           &st, warn, sizeof(warn), err, errlen) < 0)
        return -1;
    if (warn[0])
        task_log(1, warn, NULL);
    char source[sizeof(st.source)];
    snprintf(source, sizeof(source), "%s", st.source);
    ng_cpuopt co;
    int rc = ng_step_plan(S.topo, &st, S.cpus, S.mems, S.mode, S.opt.mem, &S.policy,
                          cpuopt(sp, &co), &plan, warn, sizeof(warn), err, errlen);
    /* The task's home GPU among those it sees (and first or alone, if
     * asked): before it runs, whatever the placement's outcome. */
    if (rc == 0 && S.mode != NG_MODE_EXPLAIN) {
        char note[NG_ERRLEN];
        ng_visible vis = (ng_visible)(S.opt.visible >= 0 ? S.opt.visible : S.cfg.visible);
        ng_visible_apply(&st, vis, job_getenv, job_setenv, sp, note, sizeof(note));
        if (note[0]) {
            char msg[NG_ERRLEN + 64];
            snprintf(msg, sizeof(msg), "numa-gpu: task %d: %s", self, note);
            task_log(1, msg, NULL);
        }
    }
    ng_step_free(&st);
    if (rc < 0)
        return -1;
    if (warn[0])
        task_log(1, warn, NULL);
    ng_task_io io = { job_getenv, job_setenv, task_log, sp, S.verbose, S.cfg.nic_off };
    ng_effective eff = { 0 };
    /* explain: local task 0 prints the node's plan once */
    if (S.mode != NG_MODE_EXPLAIN || self == 0)
        rc = ng_task_apply(S.topo, &plan, self, &io, &eff, err, errlen);
    /* --cpu-bind=verbose: Slurm printed the mask it set; say the one the
     * task runs with, in Slurm's format, right after. */
    if (rc == 0 && S.mode != NG_MODE_EXPLAIN && eff.cpus && ng_cpu_bind_verbose(job_getenv, sp)) {
        char host[256] = "", line[NG_ERRLEN + 256];
        uint32_t gtid = 0;
        spank_get_item(sp, S_TASK_GLOBAL_ID, &gtid);
        if (spank_getenv(sp, "SLURMD_NODENAME", host, sizeof(host)) != ESPANK_SUCCESS)
            gethostname(host, sizeof(host) - 1);
        if (ng_cpu_bind_line(host, gtid, (unsigned)self, (unsigned)getpid(), eff.cpus, line,
                             sizeof(line)) == 0)
            fprintf(stderr, "%s\n", line);
    }
    if (S.mode == NG_MODE_EXPLAIN && self == 0)
        task_log(0, "numa-gpu explain: the step's cores come from Slurm, which never gives out "
                 "the node's specialized cores (CoreSpecCount, CpuSpecList)", NULL);
    if (rc == 0 && S.opt.hp_bytes && S.mode != NG_MODE_EXPLAIN &&
        task_hugepages(sp, self, &plan.ranks[self], err, errlen) < 0) {
        if (S.mode == NG_MODE_STRICT) {
            rc = -1;
        } else {
            char msg[NG_ERRLEN + 32];
            snprintf(msg, sizeof(msg), "numa-gpu: %s", err);
            task_log(1, msg, NULL);
            snprintf(S.task_err, sizeof(S.task_err), "%s", err);
        }
    }
    if (S.audit) {
        char given[512];
        const char *val = job_getenv(source, sp);
        snprintf(given, sizeof(given), "%s%s%s", source, val ? "=" : "", val ? val : "");
        ng_audit_step_fill(S.audit, self, &plan, &eff, given);
    }
    ng_effective_clear(&eff);
    if (S.mode == NG_MODE_EXPLAIN && self == 0 && S.picture_name[0]) {
        S.picture_plan = plan;   /* drawn once the task's time is taken */
        S.picture_ready = 1;
    } else {
        ng_plan_free(&plan);
    }
    return rc;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    char err[NG_ERRLEN];
    if (S.kind == STEP_DAEMON) {
        if (ng_bind_cpus(S.cpus, err, sizeof(err)) < 0)
            slurm_error("numa-gpu: widening the MPI daemon: %s", err);
        return 0;
    }
    if (S.kind == STEP_BATCH)
        export_hints(sp);
    if (S.kind != STEP_TASKS)
        return 0;
    struct timespec t0, t1;
    int self = -1;
    S.hp_env[0] = S.task_err[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = place_task(sp, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (S.picture_ready)
        picture_draw();
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    slurm_debug("numa-gpu: task placed in %.3f ms", ms);
    /* The audit record: the plugin's time for this task and how it ended. */
    if (S.audit && spank_get_item(sp, S_TASK_ID, &self) == ESPANK_SUCCESS)
        ng_audit_step_done(S.audit, self, ms, S.hp_env[0] ? S.hp_env : NULL,
                           rc == 0 ? NG_TASK_OK : S.mode == NG_MODE_STRICT ? NG_TASK_REFUSED
                           : NG_TASK_UNBOUND, rc == 0 ? (S.task_err[0] ? S.task_err : NULL) : err);
    if (rc == 0)
        return 0;
    char msg[NG_ERRLEN + 64];
    snprintf(msg, sizeof(msg), "numa-gpu: %s: %s", S.mode == NG_MODE_STRICT
             ? "strict mode, task not started" : "running unbound", err);
    task_log(S.mode == NG_MODE_STRICT ? 2 : 1, msg, NULL);
    return S.mode == NG_MODE_STRICT ? -1 : 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    ng_audit_step_free(S.audit);
    S.audit = NULL;
    if (S.hp && spank_context() == S_CTX_REMOTE) {
        /* slurmstepd (root) at step end: give back this step's pages. */
        char err[NG_ERRLEN];
        ng_hp_ctx c;
        hp_ctx(&c);
        if (ng_hp_release(&c, item_u32(sp, S_JOB_ID), (long)item_u32(sp, S_JOB_STEPID), -1, NULL,
                          err, sizeof(err)) < 0)
            slurm_error("numa-gpu: %s", err);
    }
    ng_hp_service_stop(S.hp);
    S.hp = NULL;
    if (S.picture_name[0] && spank_context() == S_CTX_REMOTE)
        ng_draw_close_in(S.cfg.audit_dir, S.picture_name, S.picture_fd);
    S.picture_name[0] = '\0';
    free(S.gres);
    S.gres = NULL;
    ng_gres_facts_free(&S.gres_facts);
    memset(&S.slurm, 0, sizeof(S.slurm));
    ng_topo_free(S.topo);
    hwloc_bitmap_free(S.cpus);
    hwloc_bitmap_free(S.mems);
    hwloc_bitmap_free(S.isolated);
    hwloc_bitmap_free(S.nohz);
    S.isolated = S.nohz = NULL;
    memset(&S.policy, 0, sizeof(S.policy));
    S.topo = NULL;
    S.cpus = S.mems = NULL;
    S.kind = STEP_NONE;
    return 0;
}
