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
 *   task_post_fork/exit    slurmstepd (root): with audit_dir=, sample each
 *                          task's numa_maps every audit_interval s and write
 *                          its JSON record when it exits
 *   slurm_spank_job_epilog once per node per job: summary into the slurmd log
 *                          and audit_dir/<jobid>.summary
 * Never exit(), never crash slurmstepd: failures become messages; strict
 * mode fails the task, other modes let it run unbound. */
#define _GNU_SOURCE
#include <stdint.h>
#include <slurm/slurm.h>
#include <slurm/spank.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "numagpu.h"
#include "private/assign.h"
#include "private/audit.h"
#include "private/config.h"
#include "private/hints.h"
#include "private/hugepages.h"
#include "private/step.h"
#include "private/util.h"

SPANK_PLUGIN(numa_gpu, 1);

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* Our init never fails (a bad plugstack line leaves the plugin inert); should
 * it ever, the job is at fault, never the node: do not drain it. */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

#define BATCH_STEP 0xfffffffbu  /* SLURM_BATCH_SCRIPT */
#define EXTERN_STEP 0xfffffffcu /* SLURM_EXTERN_CONT */

static ng_config cfg;
static int inert;                  /* bad plugstack arguments */
static int opt_given, opt_verbose;
static ng_mode opt_mode;
/* Step state, set in slurmstepd before tasks fork. */
static int active;             /* a step of tasks we place */
static int widen;              /* an MPI daemon step: widen to the job's cpus */
static int batch_hints;        /* the batch script: export launcher hints */
static ng_mode mode;
static int verbose;
static ng_topo *topo;
static hwloc_bitmap_t allowed_cpus, allowed_mems;
static unsigned *step_gres;        /* the step's GPUs on this node (GRES indexes) */
static int nstep_gres;
static int local_index;            /* Slurm numbers devices per allocation */
static int bind_rules;             /* how this release binds GPUs to tasks */
static hwloc_bitmap_t *gres_cpus;  /* gres.conf Cores= per GRES, when the site has them */
static int ngres_cpus;

/* Hugepages are reserved by root in slurmstepd, for the rows of the final
 * plan: each task (already the user) posts its nodes in a shared slot and a
 * slurmstepd thread reserves them. The binding that decides a task's GPU is
 * only visible in task_init on some releases, after privileges are dropped. */
typedef struct {
    volatile int state;            /* 0 idle, 1 asked, 2 done, 3 failed */
    int strict;
    char nodes[256];               /* "1" or "0,1" */
    char result[NG_ERRLEN];        /* env value, or the error */
    char warn[NG_ERRLEN];          /* prefer: what was short, for the task's stderr */
} hp_slot;
static hp_slot *hp_slots;
static int nhp_slots;
static pthread_t hp_thread;
static int hp_thread_on;
static volatile int hp_stop;

/* Audit state. slots are shared with the forked tasks (MAP_SHARED): each
 * task writes what it was meant to get and what the kernel gave it; the
 * root parent adds samples and writes the record. */
typedef struct {
    int filled;
    char home[256], cpus[1024];   /* intended */
    char summary[1024];
    char task_json[6144];
} audit_slot;
static audit_slot *slots;
static int nslots, audit_skipped;
static char skip_json[512];
static int *task_pid, (*perf_fd)[2];
static char (*perf_why)[192];
static ng_pages *samples;
static time_t *sample_at;
static pthread_t sampler;
static volatile int nforked;   /* tasks forked so far: sample only once all are */
static int sampler_on;
static volatile int sampler_stop;
static pthread_mutex_t sample_lock = PTHREAD_MUTEX_INITIALIZER;
static ng_audit_ids ids;
static char host[256];

static int opt_cb(int val, const char *optarg, int remote);
static void hp_setup(spank_t sp);

static int hp_cb(int val, const char *optarg, int remote);
static int mem_cb(int val, const char *optarg, int remote);
static ng_memopt memopt;      /* --numa-gpu-mem */
static unsigned long long hp_bytes;  /* --numa-gpu-hugepages, per task */
static unsigned long hp_page_kb;

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
    SPANK_OPTIONS_TABLE_END
};

static int mem_cb(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    if (ng_memopt_parse(optarg, &memopt) < 0) {
        slurm_error("numa-gpu: unknown --numa-gpu-mem '%s' (expected %s)", optarg, NG_MEM_NAMES);
        return -1;
    }
    return 0;
}

static int hp_cb(int val, const char *optarg, int remote)
{
    (void)val;
    char err[NG_ERRLEN];
    if (inert)
        return 0;
    if (ng_hp_parse_size(optarg, &hp_bytes, &hp_page_kb, err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        return -1;
    }
    if (cfg.hugepages_off) {
        slurm_error("numa-gpu: hugepages are disabled on this cluster (hugepages=off)");
        hp_bytes = 0;
        return remote ? 0 : -1;
    }
    if (cfg.hugepages_max_per_job && hp_bytes > cfg.hugepages_max_per_job) {
        slurm_error("numa-gpu: --numa-gpu-hugepages=%s is above the cap hugepages_max_per_job=%llu MiB",
                    optarg, cfg.hugepages_max_per_job >> 20);
        hp_bytes = 0;
        return remote ? 0 : -1;
    }
    return 0;
}

static void hp_ctx(ng_hp_ctx *c)
{
    c->sysfs = NULL;   /* the real kernel's counters, never the fake GPU tree */
    c->procfs = NULL;
    c->state_dir = cfg.state_dir;
    c->max_per_job = cfg.hugepages_max_per_job;
    c->max_fraction = cfg.hugepages_max_fraction;
}

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

/* Parse the plugstack arguments once per process; a bad one makes the
 * plugin inert (logged where an admin looks: slurmd/slurmstepd). */
static void load_config(int ac, char **av)
{
    static int loaded;
    char err[NG_ERRLEN];
    if (loaded++)
        return;
    ng_config_init(&cfg);
    for (int i = 0; i < ac && !inert; i++)
        if (ng_config_arg(&cfg, av[i], err, sizeof(err)) < 0)
            inert = 1;
    if (!inert && ng_config_check(&cfg, err, sizeof(err)) < 0)
        inert = 1;
    if (inert && spank_context() != S_CTX_LOCAL && spank_context() != S_CTX_ALLOCATOR)
        slurm_error("numa-gpu: plugstack.conf: %s; plugin disabled, jobs run unbound", err);
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    load_config(ac, av);
    for (struct spank_option *o = options; o->name; o++)
        spank_option_register(sp, o);
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

/* What kind of step this is. */
enum { STEP_TASKS, STEP_BATCH, STEP_EXTERN, STEP_DAEMON };
static int step_kind(spank_t sp)
{
    uint32_t step = 0;
    int argc = 0;
    char **argv = NULL;
    if (spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS &&
        (step == BATCH_STEP || step == EXTERN_STEP))
        return step == BATCH_STEP ? STEP_BATCH : STEP_EXTERN;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) == ESPANK_SUCCESS && argc > 0) {
        const char *b = basename_of(argv[0]);
        /* MPI launcher daemons fork the real ranks; binding them would pin
         * every rank to the daemon's slice. */
        if (!strcmp(b, "orted") || !strcmp(b, "prted") || !strcmp(b, "hydra_pmi_proxy") ||
            !strcmp(b, "pmi_proxy"))
            return STEP_DAEMON;
    }
    return STEP_TASKS;
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

/* Cores of the step (or job) on this node (Slurm core indexes -> PUs)
 * within the cgroup's cpuset; mems from the cgroup. */
static int read_allowed(spank_t sp, spank_item_t cores_item, char *err, size_t errlen)
{
    allowed_cpus = hwloc_bitmap_alloc();
    allowed_mems = hwloc_bitmap_alloc();
    if (ng_allowed_read(NULL, NULL, 0, allowed_cpus, allowed_mems, err, errlen) < 0)
        return -1;
    char *cores = NULL;
    if (spank_get_item(sp, cores_item, &cores) == ESPANK_SUCCESS && cores && *cores) {
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

static void *sampler_main(void *arg)
{
    (void)arg;
    for (int tick = 1; !sampler_stop; tick++) {
        usleep(100000);
        /* Not while slurmstepd is still forking tasks: a sample then would
         * run concurrently with fork() for nothing. */
        if (tick % (cfg.audit_interval * 10) || nforked < nslots)
            continue;
        for (int i = 0; i < nslots && !sampler_stop; i++) {
            ng_pages p;
            char err[NG_ERRLEN];
            if (task_pid[i] <= 0 ||
                ng_sample_task(NULL, NULL, task_pid[i], (ng_method)cfg.audit_method,
                               cfg.audit_pages, nslots == 1, &p, err, sizeof(err)) < 0 ||
                !p.total)
                continue;
            pthread_mutex_lock(&sample_lock);
            samples[i] = p;
            sample_at[i] = time(NULL);
            pthread_mutex_unlock(&sample_lock);
        }
    }
    return NULL;
}

/* Audit this step (audit_dir= set): shared slots for the tasks, per-task
 * pids, perf counters and samples in slurmstepd. */
static void audit_setup(spank_t sp, const char *skipped)
{
    uint32_t n = 0, job = 0, step = 0;
    if (!cfg.audit_dir[0] || spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &n) != ESPANK_SUCCESS ||
        n == 0 || n > 4096)
        return;
    spank_get_item(sp, S_JOB_ID, &job);
    spank_get_item(sp, S_JOB_STEPID, &step);
    if (spank_getenv(sp, "SLURMD_NODENAME", host, sizeof(host)) != ESPANK_SUCCESS)
        gethostname(host, sizeof(host) - 1);
    ids.job = job;
    ids.step = step;
    ids.host = host;
    slots = mmap(NULL, n * sizeof(audit_slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    task_pid = calloc(n, sizeof(int));
    perf_fd = calloc(n, sizeof(*perf_fd));
    perf_why = calloc(n, sizeof(*perf_why));
    samples = calloc(n, sizeof(ng_pages));
    sample_at = calloc(n, sizeof(time_t));
    if (slots == MAP_FAILED || !task_pid || !perf_fd || !perf_why || !samples || !sample_at) {
        slurm_error("numa-gpu: audit: out of memory; no records for this step");
        slots = NULL;
        return;
    }
    nslots = (int)n;
    for (int i = 0; i < nslots; i++)
        perf_fd[i][0] = perf_fd[i][1] = -1;
    if (skipped) {
        audit_skipped = 1;
        snprintf(skip_json, sizeof(skip_json), "\"mode\":\"%s\",\"verdict\":\"skipped\","
                 "\"reason\":\"%s\"", ng_mode_name(mode), skipped);
    } else if (cfg.audit_interval > 0 &&
               pthread_create(&sampler, NULL, sampler_main, NULL) == 0) {
        sampler_on = 1;
    }
}

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int local = -1;
    pid_t pid = 0;
    if (!slots || spank_get_item(sp, S_TASK_ID, &local) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_TASK_PID, &pid) != ESPANK_SUCCESS || local < 0 || local >= nslots)
        return 0;
    task_pid[local] = pid;
    __sync_fetch_and_add(&nforked, 1);
    if (!audit_skipped && ng_perf_open(pid, perf_fd[local], perf_why[local],
                                       sizeof(perf_why[local])) == 0)
        perf_why[local][0] = '\0';
    return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    int local = -1;
    uint32_t global = 0;
    if (!slots || spank_get_item(sp, S_TASK_ID, &local) != ESPANK_SUCCESS || local < 0 ||
        local >= nslots)
        return 0;
    spank_get_item(sp, S_TASK_GLOBAL_ID, &global);
    ng_pages s;
    pthread_mutex_lock(&sample_lock);
    s = samples[local];
    ids.sample_age = sample_at[local] ? (int)(time(NULL) - sample_at[local]) : -1;
    pthread_mutex_unlock(&sample_lock);
    char perf[256];
    unsigned long long acc = 0, miss = 0;
    if (perf_why[local][0])
        snprintf(perf, sizeof(perf), "%s", perf_why[local]);
    else if (ng_perf_read(perf_fd[local], &acc, &miss) == 0)
        snprintf(perf, sizeof(perf), "%.1f%% of %llu node loads remote",
                 acc ? 100.0 * (double)miss / (double)acc : 0.0, acc);
    else
        snprintf(perf, sizeof(perf), "unavailable: counters could not be read");
    ng_perf_close(perf_fd[local]);
    ids.task = local;
    ids.global_task = (int)global;
    ids.pid = task_pid[local];
    audit_slot *sl = &slots[local];
    hwloc_bitmap_t home = hwloc_bitmap_alloc(), home_cpus = hwloc_bitmap_alloc();
    ng_list_parse(sl->filled ? sl->home : "", home);
    ng_list_parse(sl->filled ? sl->cpus : "", home_cpus);
    char *rec = ng_audit_record(&ids, sl->filled ? sl->task_json : audit_skipped ? skip_json
                                : "\"verdict\":\"skipped\",\"reason\":\"task exited before placement\"",
                                sl->filled ? sl->summary : "skipped", home, home_cpus,
                                cfg.audit_warn_local, &s, perf);
    hwloc_bitmap_free(home);
    hwloc_bitmap_free(home_cpus);
    char name[64], err[NG_ERRLEN];
    snprintf(name, sizeof(name), "%lu.json", ids.job);
    if (rec && ng_audit_append(cfg.audit_dir, name, rec, err, sizeof(err)) < 0)
        slurm_error("numa-gpu: audit: %s", err);
    free(rec);
    return 0;
}

/* Job end (root): the batch step's rankfiles of this job. unlink() never
 * follows a symlink, and only names of our own pattern are touched. */
static void remove_rankfiles(uint32_t job)
{
    char pat[96];
    glob_t g;
    snprintf(pat, sizeof(pat), "/tmp/numa-gpu-rankfile.%u.??????", job);
    if (glob(pat, GLOB_NOSORT, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++)
        if (unlink(g.gl_pathv[i]) < 0)
            slurm_info("numa-gpu: cannot remove %s: %m", g.gl_pathv[i]);
    globfree(&g);
}

int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
    uint32_t job = 0;
    char *text = NULL, err[NG_ERRLEN], name[64];
    load_config(ac, av); /* Slurm 22.05 calls no slurm_spank_init here */
    if (!inert && !cfg.hugepages_off && spank_get_item(sp, S_JOB_ID, &job) == ESPANK_SUCCESS &&
        access(cfg.state_dir, F_OK) == 0) {
        ng_hp_ctx c;
        int n = 0;
        hp_ctx(&c);
        if (ng_hp_release(&c, job, -1, -1, &n, err, sizeof(err)) < 0)
            slurm_error("numa-gpu: %s", err);
        else if (n)
            slurm_info("numa-gpu: job %u: released %d hugepage reservation(s) left at job end", job, n);
    }
    if (!inert && spank_get_item(sp, S_JOB_ID, &job) == ESPANK_SUCCESS)
        remove_rankfiles(job);
    if (inert || !cfg.audit_dir[0] || spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS)
        return 0;
    if (ng_audit_summarize(cfg.audit_dir, job, cfg.audit_warn_local, &text, err, sizeof(err)) < 0)
        return 0; /* no records: the job did not use numa-gpu */
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        slurm_info("numa-gpu: %s", l);
        l[strlen(l)] = '\n'; /* strtok_r cut it; restore for the file */
    }
    snprintf(name, sizeof(name), "%u.summary", job);
    if (ng_audit_append(cfg.audit_dir, name, text, err, sizeof(err)) < 0)
        slurm_error("numa-gpu: audit: %s", err);
    free(text);
    return 0;
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (inert || spank_context() != S_CTX_REMOTE)
        return 0;
    mode = job_mode(sp);
    int kind = step_kind(sp);
    if (mode == NG_MODE_OFF || kind == STEP_EXTERN)
        return 0;
    char err[NG_ERRLEN];
    topo = ng_topo_load(cfg.topology[0] ? cfg.topology : NULL, err, sizeof(err));
    if (!topo && cfg.topology[0]) {
        slurm_info("numa-gpu: %s; discovering the live topology", err);
        topo = ng_topo_load(NULL, err, sizeof(err));
    }
    /* Daemons are widened to the whole job; the rest get the step's cores. */
    spank_item_t cores = kind == STEP_DAEMON ? S_JOB_ALLOC_CORES : S_STEP_ALLOC_CORES;
    if (!topo || read_allowed(sp, cores, err, sizeof(err)) < 0) {
        slurm_error("numa-gpu: %s", err);
        return mode == NG_MODE_STRICT && kind == STEP_TASKS ? -1 : 0;
    }
    if (kind == STEP_DAEMON) {
        slurm_info("numa-gpu: MPI launcher daemon step: not bound to a GPU node; its affinity "
                   "is widened to the job's cpus so the launcher's own binding can place ranks");
        audit_setup(sp, "MPI launcher daemon step");
        widen = 1;
        return 0;
    }
    if (kind == STEP_BATCH) {
        batch_hints = 1;
        return 0;
    }
    if (cfg.exclusive_only && !exclusive_job(sp)) {
        slurm_info("numa-gpu: job does not own the whole node (exclusive_only=yes): left alone");
        audit_setup(sp, "job does not own the whole node (exclusive_only=yes)");
        return 0;
    }
    /* The step's whole GPU list, global GRES indexes in every configuration
     * (inside a task it can be renumbered per task under ConstrainDevices). */
    char *step_gpus = job_getenv_alloc(sp, "SLURM_STEP_GPUS");
    int bad = step_gpus && strcmp(step_gpus, "NoDevFiles") &&
              ng_gres_list_parse(step_gpus, &step_gres, &nstep_gres, err, sizeof(err)) < 0;
    free(step_gpus);
    if (bad) {
        slurm_error("numa-gpu: SLURM_STEP_GPUS: %s", err);
        return mode == NG_MODE_STRICT ? -1 : 0;
    }
    const char *conf = getenv("SLURM_CONF");
    local_index = cfg.constrain_devices >= 0 ? cfg.constrain_devices : ng_slurm_local_index(conf);
    char *vmaj = NULL, *vmin = NULL;
    bind_rules = cfg.bind_rules >= 0 ? cfg.bind_rules
               : spank_get_item(sp, S_SLURM_VERSION_MAJOR, &vmaj) == ESPANK_SUCCESS &&
                 spank_get_item(sp, S_SLURM_VERSION_MINOR, &vmin) == ESPANK_SUCCESS && vmaj && vmin
               ? ng_bind_rules_for(atoi(vmaj), atoi(vmin))
               : ng_bind_rules_for(SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER),
                                   SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER));
    if (nstep_gres && (cfg.gres_cores > 0 || (cfg.gres_cores < 0 && ng_slurm_gres_cores(conf)))) {
        ng_roots roots;
        ng_config_roots(&cfg, &roots);
        ng_gres_local_cpus(topo, &roots, step_gres, nstep_gres, &gres_cpus, &ngres_cpus);
    }
    active = 1;
    audit_setup(sp, NULL);
    hp_setup(sp);
    return 0;
}

/* In the task: record what was meant and what the kernel gave. */
static void audit_fill(spank_t sp, const ng_plan *p, int local, const ng_effective *eff,
                       const char *source)
{
    if (!slots || local < 0 || local >= nslots)
        return;
    audit_slot *sl = &slots[local];
    char given[512];
    const char *val = job_getenv(source, sp);
    snprintf(given, sizeof(given), "%s%s%s", source, val ? "=" : "", val ? val : "");
    char *j = ng_audit_task_json(p, local, eff, given);
    if (j) {
        snprintf(sl->task_json, sizeof(sl->task_json), "%s", j);
        free(j);
    }
    ng_audit_task_summary(p, local, eff, sl->summary, sizeof(sl->summary));
    ng_list_str(p->ranks[local].home, sl->home, sizeof(sl->home));
    ng_list_str(p->ranks[local].cpus, sl->cpus, sizeof(sl->cpus));
    sl->filled = 1;
}

/* The task's plan, computed once in the task process. */
static ng_plan tplan;
static int tplan_state = -1;   /* -1 not computed, 0 ok, 1 failed */
static char tplan_err[NG_ERRLEN], tsource[64];
static int tlocal;

/* Step-wide inputs of Slurm's GPU binding, identical in every task. */
static int task_assignment(spank_t sp, int ntasks, ng_assignment *a, char *err, size_t errlen)
{
    const char *bind = job_getenv("SLURMD_TRES_BIND", sp);
    char bindbuf[1024] = "";
    if (!bind)
        bind = job_getenv("SLURM_TRES_BIND", sp);
    if (bind)
        snprintf(bindbuf, sizeof(bindbuf), "%s", bind);
    hwloc_bitmap_t *tc = calloc((size_t)ntasks, sizeof(*tc));
    int have_tc = tc != NULL;
    for (int i = 0; have_tc && i < ntasks; i++)
        have_tc = (tc[i] = hwloc_bitmap_alloc()) != NULL;
    const char *type = job_getenv("SLURM_CPU_BIND_TYPE", sp);
    char typebuf[64] = "";
    if (type)
        snprintf(typebuf, sizeof(typebuf), "%s", type);
    char e[NG_ERRLEN];
    if (have_tc && ng_cpu_bind_list(typebuf, job_getenv("SLURM_CPU_BIND_LIST", sp), ntasks, tc,
                                    e, sizeof(e)) < 0)
        have_tc = 0;   /* no per-task cpu list: Slurm then treats cpus as all */
    ng_assign_in in = { nstep_gres, step_gres, ntasks, bindbuf, local_index,
                        have_tc ? (hwloc_const_bitmap_t const *)tc : NULL,
                        (hwloc_const_bitmap_t const *)gres_cpus, ngres_cpus, bind_rules };
    int rc = ng_assign(&in, a, err, errlen);
    for (int i = 0; tc && i < ntasks; i++)
        hwloc_bitmap_free(tc[i]);
    free(tc);
    return rc;
}

/* The task's plan: every local task computes the same plan from the same
 * step-wide inputs (the step's GPU list read before fork, Slurm's binding,
 * the tasks' cpu lists), so rows are disjoint and agree between tasks. */
static int task_plan(spank_t sp)
{
    if (tplan_state >= 0)
        return tplan_state ? -1 : 0;
    uint32_t ntasks = 1;
    spank_get_item(sp, S_TASK_ID, &tlocal);
    spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks);
    ng_roots roots;
    ng_config_roots(&cfg, &roots);
    ng_step st;
    int rc;
    if (nstep_gres > 0) {
        ng_assignment a;
        rc = task_assignment(sp, (int)ntasks, &a, tplan_err, sizeof(tplan_err));
        char why[NG_ERRLEN];
        if (rc == 0 && ng_assign_check(&a, tlocal, local_index, job_getenv, sp, why,
                                       sizeof(why)) < 0) {
            /* Never bind next to another task's GPU on a guess. */
            if (mode == NG_MODE_STRICT) {
                snprintf(tplan_err, sizeof(tplan_err), "cannot tell which GPU this task has: "
                         "%.900s", why);
                rc = -1;
            } else {
                char msg[NG_ERRLEN + 128];
                snprintf(msg, sizeof(msg), "numa-gpu: task %d: %s; placing it on the nodes of "
                         "all the step's GPUs", tlocal, why);
                task_log(1, msg, NULL);
                free(a.gres[tlocal]);
                a.gres[tlocal] = calloc((size_t)nstep_gres, sizeof(unsigned));
                if (a.gres[tlocal])
                    memcpy(a.gres[tlocal], step_gres, (size_t)nstep_gres * sizeof(unsigned));
                a.n[tlocal] = a.gres[tlocal] ? nstep_gres : 0;
            }
        }
        if (rc == 0)
            rc = ng_step_from_assignment(topo, &roots, &a, tlocal, &st, tplan_err,
                                         sizeof(tplan_err));
        if (rc == 0)
            snprintf(st.source, sizeof(st.source), "%.63s", a.how);
        if (a.n)
            ng_assignment_free(&a);
    } else {
        rc = ng_step_from_env(topo, &roots, job_getenv, sp, (int)ntasks, tlocal, &st,
                              tplan_err, sizeof(tplan_err));
    }
    if (rc == 0) {
        char warn[NG_ERRLEN];
        snprintf(tsource, sizeof(tsource), "%s", st.source);
        rc = ng_step_plan(topo, &st, allowed_cpus, allowed_mems, mode, memopt, &tplan, warn,
                          sizeof(warn), tplan_err, sizeof(tplan_err));
        ng_step_free(&st);
        if (rc == 0 && warn[0])
            task_log(1, warn, NULL);
    }
    tplan_state = rc < 0;
    return rc;
}

static int task_fail(const char *err)
{
    char msg[NG_ERRLEN + 64];
    snprintf(msg, sizeof(msg), "numa-gpu: %s: %s", mode == NG_MODE_STRICT
             ? "strict mode, task not started" : "running unbound", err);
    task_log(mode == NG_MODE_STRICT ? 2 : 1, msg, NULL);
    return mode == NG_MODE_STRICT ? -1 : 0;
}

/* Root, in slurmstepd: reserve task `local`'s pages on `nodes`, SIZE split
 * evenly between them. Strict: all or nothing. */
static int reserve_hugepages(uint32_t job, uint32_t step, int local, const char *nodes,
                             int strict, char *env, size_t envlen, char *err, size_t errlen,
                             char *warn, size_t warnlen)
{
    ng_hp_ctx c;
    hp_ctx(&c);
    hwloc_bitmap_t mems = hwloc_bitmap_alloc();
    if (!mems || ng_list_parse(nodes, mems) < 0 || hwloc_bitmap_iszero(mems)) {
        hwloc_bitmap_free(mems);
        return snprintf(err, errlen, "hugepages: no memory node to reserve on"), -1;
    }
    int nn = hwloc_bitmap_weight(mems), n, rc = 0;
    unsigned long long page = (unsigned long long)hp_page_kb << 10;
    long want = (long)((hp_bytes + page * (unsigned long long)nn - 1) / (page * (unsigned long long)nn));
    env[0] = '\0';
    err[0] = '\0';
    hwloc_bitmap_foreach_begin(n, mems) {
        ng_hp_req r = { job, step, local, n, hp_page_kb, want, (int)getpid() };
        long got = 0;
        char e[NG_ERRLEN];
        if (ng_hp_reserve(&c, &r, &got, e, sizeof(e)) < 0) {
            snprintf(err, errlen, "%s", e);
            rc = -1;
        } else if (got < want) {
            snprintf(err, errlen, "hugepages: node %d: asked %ld x %lukB, granted %ld", n, want,
                     hp_page_kb, got);
            rc = -1;
        }
        size_t u = strlen(env);
        snprintf(env + u, envlen - u, "%s%d:%ldx%lukB", u ? "," : "", n, got, hp_page_kb);
        if (rc < 0 && strict)
            break;
        if (rc < 0) {
            slurm_info("numa-gpu: task %d: %s", local, err);
            snprintf(warn, warnlen, "numa-gpu: task %d: %.900s", local, err);
        }
        rc = 0;
    } hwloc_bitmap_foreach_end();
    hwloc_bitmap_free(mems);
    if (rc < 0)   /* strict: nothing half-applied */
        ng_hp_release(&c, job, step, local, NULL, NULL, 0);
    return rc;
}

static uint32_t hp_job, hp_step;

static void *hp_main(void *arg)
{
    (void)arg;
    while (!hp_stop) {
        for (int i = 0; i < nhp_slots; i++) {
            hp_slot *sl = &hp_slots[i];
            if (sl->state != 1)
                continue;
            __sync_synchronize();
            char env[NG_ERRLEN], err[NG_ERRLEN];
            sl->warn[0] = '\0';
            int rc = reserve_hugepages(hp_job, hp_step, i, sl->nodes, sl->strict, env,
                                       sizeof(env), err, sizeof(err), sl->warn, sizeof(sl->warn));
            snprintf(sl->result, sizeof(sl->result), "%s", rc == 0 ? env : err);
            __sync_synchronize();
            sl->state = rc == 0 ? 2 : 3;
        }
        usleep(2000);
    }
    return NULL;
}

static void hp_setup(spank_t sp)
{
    uint32_t n = 0;
    if (!hp_bytes || mode == NG_MODE_EXPLAIN ||
        spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &n) != ESPANK_SUCCESS || n == 0 || n > 4096)
        return;
    spank_get_item(sp, S_JOB_ID, &hp_job);
    spank_get_item(sp, S_JOB_STEPID, &hp_step);
    hp_slots = mmap(NULL, n * sizeof(hp_slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                    -1, 0);
    if (hp_slots == MAP_FAILED) {
        hp_slots = NULL;
        slurm_error("numa-gpu: hugepages: out of memory; none reserved for this step");
        return;
    }
    nhp_slots = (int)n;
    if (pthread_create(&hp_thread, NULL, hp_main, NULL) == 0)
        hp_thread_on = 1;
}

/* In the task (as the user): ask slurmstepd for the pages of our plan row
 * and wait, at most 10 s, for the answer. */
static int task_hugepages(spank_t sp, const ng_rank_plan *rp, char *err, size_t errlen)
{
    if (!hp_slots || !hp_thread_on || tlocal < 0 || tlocal >= nhp_slots)
        return snprintf(err, errlen, "hugepages: the reservation service of this step "
                        "did not start"), -1;
    hp_slot *sl = &hp_slots[tlocal];
    ng_list_str(rp->mems, sl->nodes, sizeof(sl->nodes));
    sl->strict = mode == NG_MODE_STRICT;
    __sync_synchronize();
    sl->state = 1;
    for (int i = 0; i < 5000 && (sl->state == 1); i++)
        usleep(2000);
    __sync_synchronize();
    if (sl->state != 2) {
        snprintf(err, errlen, "%s", sl->state == 3 ? sl->result
                 : "hugepages: no answer from slurmstepd within 10 s");
        return -1;
    }
    if (sl->warn[0])
        task_log(1, sl->warn, NULL);
    spank_setenv(sp, "NUMA_GPU_HUGEPAGES", sl->result, 1);
    if (cfg.hugepages_mount[0])
        spank_setenv(sp, "NUMA_GPU_HUGETLBFS", cfg.hugepages_mount, 1);
    return 0;
}

/* The batch script: the plan of this node for the job's tasks, rendered
 * for mpirun & co. (never overriding what the user set), and a rankfile. */
static void export_hints(spank_t sp)
{
    char err[NG_ERRLEN], tpn[256], job[32];
    char *nodelist = job_getenv_alloc(sp, "SLURM_JOB_NODELIST");
    if (!nodelist || spank_getenv(sp, "SLURM_JOB_ID", job, sizeof(job)) != ESPANK_SUCCESS) {
        free(nodelist);
        return;
    }
    int ntasks = 1;
    if ((spank_getenv(sp, "SLURM_NTASKS_PER_NODE", tpn, sizeof(tpn)) == ESPANK_SUCCESS ||
         spank_getenv(sp, "SLURM_TASKS_PER_NODE", tpn, sizeof(tpn)) == ESPANK_SUCCESS) &&
        ng_tasks_per_node_parse(tpn, &ntasks, err, sizeof(err)) < 0) {
        task_log(1, err, NULL);
        free(nodelist);
        return;
    }
    ng_roots roots;
    ng_config_roots(&cfg, &roots);
    ng_step st;
    ng_plan plan;
    if (ng_step_from_env(topo, &roots, job_getenv, sp, ntasks, 0, &st,
                         err, sizeof(err)) < 0) {
        task_log(1, err, NULL);
        free(nodelist);
        return;
    }
    char warn[NG_ERRLEN];
    int rc = ng_step_plan(topo, &st, allowed_cpus, allowed_mems, mode, memopt, &plan, warn,
                          sizeof(warn), err, sizeof(err));
    ng_step_free(&st);
    if (rc == 0 && warn[0])
        task_log(1, warn, NULL);
    if (rc < 0) {
        task_log(1, err, NULL);
        free(nodelist);
        return;
    }
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
    char path[128];
    snprintf(path, sizeof(path), "/tmp/numa-gpu-rankfile.%s.XXXXXX", job);
    ng_hints h;
    int fd = mkstemp(path);
    if (fd >= 0 && ng_hints_build(&plan, (const char *const *)hosts, nh, path, NG_MPI_ALL, &h,
                                  err, sizeof(err)) == 0) {
        size_t len = strlen(h.rankfile);
        if (write(fd, h.rankfile, len) != (ssize_t)len)
            task_log(1, "numa-gpu: cannot write the rankfile", NULL);
        for (int i = 0; i < h.n; i++)
            if (spank_setenv(sp, h.v[i].name, h.v[i].value, 0) == ESPANK_ENV_EXISTS && verbose) {
                char msg[256];
                snprintf(msg, sizeof(msg), "numa-gpu: keeping your %s", h.v[i].name);
                task_log(0, msg, NULL);
            }
        spank_setenv(sp, "NUMA_GPU_RANKFILE", path, 1);
        ng_hints_free(&h);
    }
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < nh; i++)
        free(hosts[i]);
    free(hosts);
    ng_plan_free(&plan);
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (widen) {
        char err[NG_ERRLEN];
        if (ng_bind_cpus(allowed_cpus, err, sizeof(err)) < 0)
            slurm_error("numa-gpu: widening the MPI daemon: %s", err);
        return 0;
    }
    if (batch_hints) {
        export_hints(sp);
        return 0;
    }
    if (!active)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[NG_ERRLEN];
    ng_task_io io = { job_getenv, job_setenv, task_log, sp, verbose };
    ng_effective eff = { 0 };
    int rc = task_plan(sp);
    if (rc < 0) {
        snprintf(err, sizeof(err), "%s", tplan_err);
    } else {
        if (mode == NG_MODE_EXPLAIN && tlocal != 0)
            rc = 0; /* local task 0 prints the node's plan once */
        else
            rc = ng_task_apply(topo, &tplan, tlocal, &io, &eff, err, sizeof(err));
        if (rc == 0 && hp_bytes && mode != NG_MODE_EXPLAIN &&
            task_hugepages(sp, &tplan.ranks[tlocal], err, sizeof(err)) < 0) {
            if (mode == NG_MODE_STRICT) {
                rc = -1;
            } else {
                char msg[NG_ERRLEN + 32];
                snprintf(msg, sizeof(msg), "numa-gpu: %s", err);
                task_log(1, msg, NULL);
            }
        }
        audit_fill(sp, &tplan, tlocal, &eff, tsource);
        ng_plan_free(&tplan);
    }
    ng_effective_clear(&eff);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    slurm_debug("numa-gpu: task %d placed in %.3f ms", tlocal,
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return rc == 0 ? 0 : task_fail(err);
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (sampler_on) {
        sampler_stop = 1;
        pthread_join(sampler, NULL);
        sampler_on = 0;
    }
    if (hp_thread_on) {
        hp_stop = 1;
        pthread_join(hp_thread, NULL);
        hp_thread_on = 0;
    }
    if (hp_slots) {
        munmap(hp_slots, (size_t)nhp_slots * sizeof(hp_slot));
        hp_slots = NULL;
    }
    free(step_gres);
    step_gres = NULL;
    nstep_gres = 0;
    ng_gres_local_cpus_free(gres_cpus, ngres_cpus);
    gres_cpus = NULL;
    ngres_cpus = 0;
    if (active && hp_bytes && spank_context() == S_CTX_REMOTE) {
        /* slurmstepd (root) at step end: give back this step's pages. */
        uint32_t job = 0, step = 0;
        char err[NG_ERRLEN];
        ng_hp_ctx c;
        hp_ctx(&c);
        spank_get_item(sp, S_JOB_ID, &job);
        spank_get_item(sp, S_JOB_STEPID, &step);
        if (ng_hp_release(&c, job, step, -1, NULL, err, sizeof(err)) < 0)
            slurm_error("numa-gpu: %s", err);
    }
    if (slots) {
        munmap(slots, (size_t)nslots * sizeof(audit_slot));
        slots = NULL;
    }
    free(task_pid);
    free(perf_fd);
    free(perf_why);
    free(samples);
    free(sample_at);
    task_pid = NULL;
    perf_fd = NULL;
    perf_why = NULL;
    samples = NULL;
    sample_at = NULL;
    ng_topo_free(topo);
    hwloc_bitmap_free(allowed_cpus);
    hwloc_bitmap_free(allowed_mems);
    topo = NULL;
    allowed_cpus = allowed_mems = NULL;
    return 0;
}
