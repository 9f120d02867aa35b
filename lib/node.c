/* The node's setup of a step and the placement of its tasks: the one path
 * of the SPANK plugin (and the pieces `numa-gpu exec`/`plan` share). Every
 * rule that decides whether a task is placed, left alone, run unbound or
 * refused lives here; the front-ends only read Slurm and print. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "private/node.h"
#include "private/auditstep.h"
#include "private/cgroup.h"
#include "private/draw.h"
#include "private/gpumap.h"
#include "private/hints.h"
#include "private/hostplans.h"
#include "private/hugepages.h"
#include "private/irq.h"
#include "private/util.h"
#include "private/visible.h"

void ng_user_opts_init(ng_user_opts *u)
{
    memset(u, 0, sizeof(*u));
    u->smt = u->scope = u->visible = -1;
}

static void say(ng_node_log_fn log, void *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(ng_node_log_fn log, void *ctx, int level, const char *fmt, ...)
{
    char msg[2 * NG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log)
        log(level, msg, ctx);
}

/* ------------------------------------------------ shared with the CLI */

int ng_node_allowed(const ng_topo *t, const char *cores, hwloc_bitmap_t cpus,
                    hwloc_bitmap_t mems, char *err, size_t errlen)
{
    if (ng_allowed_read(NULL, NULL, 0, cpus, mems, err, errlen) < 0)
        return -1;
    if (!cores || !*cores)
        return 0;
    if (!t)
        return ng_err(err, errlen, "step cores '%s' given without a topology", cores);
    hwloc_bitmap_t c = hwloc_bitmap_alloc(), pus = hwloc_bitmap_alloc();
    int ok = c && pus && ng_list_parse(cores, c) == 0 && ng_topo_cores_to_pus(t, c, pus) == 0;
    if (ok)
        hwloc_bitmap_and(cpus, cpus, pus);
    hwloc_bitmap_free(c);
    hwloc_bitmap_free(pus);
    if (!ok)
        return ng_err(err, errlen, "step cores '%s' do not match the topology", cores);
    return 0;
}

int ng_node_policy(const ng_config *cfg, int read_kernel, hwloc_bitmap_t isolated,
                   hwloc_bitmap_t nohz, ng_plan_policy *pol, char *err, size_t errlen)
{
    memset(pol, 0, sizeof(*pol));
    if (read_kernel && ng_isolated_read(cfg->sysfs[0] ? cfg->sysfs : NULL, isolated, nohz, err,
                                        errlen) < 0)
        return -1;
    pol->isolated = isolated;
    pol->use_isolated = cfg->use_isolated;
    pol->nohz_full = nohz;
    pol->reserve_first_core_per = (ng_reserve)cfg->reserve_first_core;
    return 0;
}

int ng_node_cpuopt(const ng_config *cfg, int smt, int scope, int cpus_per_task,
                   ng_getenv_fn fn, void *ctx, const ng_topo *t, int own_mask, ng_cpuopt *co,
                   char *err, size_t errlen)
{
    ng_smt m = (ng_smt)(smt >= 0 ? smt : cfg->smt);
    ng_cpu_scope sc = (ng_cpu_scope)(scope >= 0 ? scope : cfg->cpu_scope);
    if (ng_cpuopt_from_env(m, sc, cpus_per_task, fn, ctx, co, err, errlen) < 0)
        return -1;
    /* Slurm's mask is the task's affinity when it is placed. */
    ng_effective now = { 0 };
    char e[NG_ERRLEN];
    if (own_mask && co->from_slurm && ng_effective_read(0, &now, e, sizeof(e)) == 0)
        ng_cpuopt_slurm_mask(co, t, now.cpus);
    ng_effective_clear(&now);
    return 0;
}

/* ------------------------------------------------ before the tasks fork */

static ng_step_kind kind_of(const ng_node_facts *f)
{
    if (f->extern_step)
        return NG_KIND_NONE;
    if (f->batch_step)
        return NG_KIND_BATCH;
    if (f->argv0 && ng_launcher_daemon(f->argv0))
        return NG_KIND_DAEMON;
    return NG_KIND_TASKS;
}

static void audit_start(ng_node *n, const ng_node_facts *f, const char *skipped,
                        ng_node_log_fn log, void *ctx)
{
    char err[NG_ERRLEN];
    const ng_config *c = n->cfg;
    if (!c->audit_dir[0] || f->ntasks <= 0)
        return;
    ng_audit_conf ac = { c->audit_dir, c->audit_interval, c->audit_warn_local, c->audit_method,
                         c->audit_pages };
    n->audit = ng_audit_step_new(&ac, f->job, f->step, f->node ? f->node : "?", f->ntasks,
                                 n->mode, skipped, err, sizeof(err));
    if (!n->audit) {
        say(log, ctx, 2, "numa-gpu: %s", err);
        return;
    }
    if (f->uid >= 0)
        ng_audit_step_owner(n->audit, f->uid, f->user);
}

static void hp_ctx(const ng_config *cfg, ng_hp_ctx *c)
{
    c->sysfs = NULL;   /* the real kernel's counters, never the fake GPU tree */
    c->procfs = NULL;
    c->state_dir = cfg->state_dir;
    c->max_per_job = cfg->hugepages_max_per_job;
    c->max_fraction = cfg->hugepages_max_fraction;
}

static void hp_start(ng_node *n, const ng_node_facts *f, ng_node_log_fn log, void *ctx)
{
    char err[NG_ERRLEN];
    ng_hp_ctx c;
    if (!n->opt.hp_bytes || n->mode == NG_MODE_EXPLAIN || f->ntasks <= 0)
        return;
    hp_ctx(n->cfg, &c);
    n->hp = ng_hp_service_start(&c, f->job, f->step, f->ntasks, n->opt.hp_bytes,
                                n->opt.hp_page_kb, err, sizeof(err));
    if (!n->hp)
        say(log, ctx, 2, "numa-gpu: %s", err);
}

/* explain with picture=: root opens audit_dir/<job>.<step>.<node>.<fmt>
 * before the tasks fork (O_NOFOLLOW, in a directory of root's only); task 0
 * inherits the descriptor (close-on-exec) and lstopo draws onto it, so
 * nothing running as the user ever opens a path there. */
static void picture_open(ng_node *n, const ng_node_facts *f, ng_node_log_fn log, void *ctx)
{
    char host[256], err[NG_ERRLEN];
    const ng_config *c = n->cfg;
    n->picture_fd = -1;
    if (n->mode != NG_MODE_EXPLAIN || c->picture < 0 || !c->audit_dir[0])
        return;
    snprintf(host, sizeof(host), "%s", f->node && *f->node ? f->node : "node");
    for (char *p = host; *p; p++)   /* a file name, whatever the node is called */
        if (*p == '/' || *p < 0x21 || *p > 0x7e)
            *p = '_';
    snprintf(n->picture_name, sizeof(n->picture_name), "%lu.%lu.%.64s.%s", f->job, f->step,
             host, ng_draw_format_name((ng_draw_format)c->picture));
    n->picture_fd = ng_draw_open_in(c->audit_dir, n->picture_name, err, sizeof(err));
    if (n->picture_fd < 0) {
        say(log, ctx, 2, "numa-gpu: %s", err);
        n->picture_name[0] = '\0';
    }
}

/* gres.conf's records of node for the step's GPUs (Cores=, File=). */
static int read_gres_facts(ng_node *n, const char *node, char *err, size_t errlen)
{
    ng_roots roots;
    ng_config_roots(n->cfg, &roots);
    ng_gres_facts_free(&n->gres_facts);
    snprintf(n->gres_node, sizeof(n->gres_node), "%s", node ? node : "");
    if (ng_gres_facts_read(n->topo, &roots, n->slurm_conf[0] ? n->slurm_conf : NULL, node, n->cfg->gres_cores, n->gres,
                           n->slurm.ngres, &n->gres_facts, err, errlen) < 0)
        return -1;
    n->slurm.gres_cpus = (hwloc_const_bitmap_t const *)n->gres_facts.cpus;
    n->slurm.ngres_cpus = n->gres_facts.n;
    n->slurm.gres_dev = (const char *const *)n->gres_facts.dev;
    n->slurm.ngres_dev = n->gres_facts.n;
    /* 26.05 Flags=env_uuid: map/mask ids are global even under
     * ConstrainDevices (src/interfaces/gres.c, GRES_CONF_UUID). */
    if (n->gres_facts.env_uuid && n->slurm.release >= NG_RELEASE(26, 5, 0))
        n->slurm.local_index = 0;
    return 0;
}

/* The step's facts the library needs to know which task has which GPU:
 * the step's whole GPU list (global GRES indexes in every configuration),
 * how Slurm numbers and binds them, and gres.conf. */
static int read_slurm_step(ng_node *n, const ng_node_facts *f, ng_node_log_fn log, void *ctx,
                           char *err, size_t errlen)
{
    const ng_config *c = n->cfg;
    if (f->step_gpus && strcmp(f->step_gpus, "NoDevFiles") &&
        ng_gres_list_parse(f->step_gpus, &n->gres, &n->slurm.ngres, err, errlen) < 0)
        return -1;
    n->slurm.gres = n->gres;
    if (f->slurm_conf && strlen(f->slurm_conf) >= sizeof(n->slurm_conf))
        return ng_err(err, errlen, "SLURM_CONF is longer than %zu bytes", sizeof(n->slurm_conf) - 1);
    snprintf(n->slurm_conf, sizeof(n->slurm_conf), "%s", f->slurm_conf ? f->slurm_conf : "");
    n->slurm.local_index = c->constrain_devices >= 0 ? c->constrain_devices
                         : ng_slurm_local_index(f->slurm_conf);
    n->slurm.task_affinity = ng_slurm_task_affinity(f->slurm_conf);
    n->slurm.device_check = c->device_check;
    /* bind_rules= pins the rules of a release (see lib/assign.c). */
    n->slurm.release = c->bind_rules >= 0 ? (unsigned)c->bind_rules : f->release;
    if (n->slurm.ngres) {
        if (read_gres_facts(n, f->node, err, errlen) < 0)
            return -1;
        if (n->verbose)
            say(log, ctx, 1, "numa-gpu: %s", n->gres_facts.note);
    }
    return 0;
}

static int exclusive_job(const ng_node *n, const char *job_cores)
{
    if (!job_cores)
        return 0;
    hwloc_bitmap_t c = hwloc_bitmap_alloc();
    int k = c && ng_list_parse(job_cores, c) == 0 ? hwloc_bitmap_weight(c) : -1;
    hwloc_bitmap_free(c);
    return k == hwloc_get_nbobjs_by_type(ng_topo_hwloc(n->topo), HWLOC_OBJ_CORE);
}

static int load_topology(ng_node *n, char *err, size_t errlen, ng_node_log_fn log, void *ctx)
{
    const ng_config *c = n->cfg;
    n->topo = ng_topo_load(c->topology[0] ? c->topology : NULL, err, errlen);
    if (!n->topo && c->topology[0]) {
        say(log, ctx, 1, "numa-gpu: %s; discovering the live topology", err);
        n->topo = ng_topo_load(NULL, err, errlen);
    }
    if (!n->topo)
        return -1;
    /* Measured locality (numa-gpu calibrate --write-map) replaces the firmware's. */
    int mapped, skipped;
    char e[NG_ERRLEN];
    if (c->gpu_map[0] && ng_gpu_map_locality(n->topo, c->gpu_map, &mapped, &skipped, e,
                                             sizeof(e)) < 0)
        say(log, ctx, 2, "numa-gpu: %s; GPU locality stays the firmware's", e);
    return 0;
}

int ng_node_prepare(ng_node *n, const ng_config *cfg, const ng_user_opts *u,
                    const ng_node_facts *f, ng_node_log_fn log, void *ctx)
{
    char note[NG_ERRLEN], err[NG_ERRLEN];
    memset(n, 0, sizeof(*n));
    n->cfg = cfg;
    n->opt = *u;
    n->job = f->job;
    n->step = f->step;
    n->irqs_steered = -1;
    n->picture_fd = -1;
    n->mode = ng_config_job_mode(cfg, u->given, u->mode, u->verbose, f->numa_gpu_env,
                                 &n->verbose, note, sizeof(note));
    if (note[0])
        say(log, ctx, 1, "numa-gpu: %s", note);
    ng_step_kind kind = kind_of(f);
    if (n->mode == NG_MODE_OFF || kind == NG_KIND_NONE)
        return 0;
    /* A setup failure fails only a strict step of tasks; the rest run. */
    int fail = n->mode == NG_MODE_STRICT && kind == NG_KIND_TASKS ? -1 : 0;
    n->cpus = hwloc_bitmap_alloc();
    n->mems = hwloc_bitmap_alloc();
    n->isolated = hwloc_bitmap_alloc();
    n->nohz = hwloc_bitmap_alloc();
    if (!n->cpus || !n->mems || !n->isolated || !n->nohz) {
        say(log, ctx, 2, "numa-gpu: out of memory");
        return fail;
    }
    if (load_topology(n, err, sizeof(err), log, ctx) < 0) {
        say(log, ctx, 2, "numa-gpu: %s", err);
        return fail;
    }
    if (kind != NG_KIND_DAEMON &&
        ng_node_policy(cfg, 1, n->isolated, n->nohz, &n->policy, err, sizeof(err)) < 0) {
        say(log, ctx, 2, "numa-gpu: %s", err);
        return fail;
    }
    /* Daemons are widened to the whole job; the rest get the step's cores. */
    if (ng_node_allowed(n->topo, kind == NG_KIND_DAEMON ? f->job_cores : f->step_cores, n->cpus,
                        n->mems, err, sizeof(err)) < 0) {
        say(log, ctx, 2, "numa-gpu: %s", err);
        return fail;
    }
    if (kind == NG_KIND_DAEMON) {
        say(log, ctx, 1, "numa-gpu: MPI launcher daemon step: not bound to a GPU node; its "
            "affinity is widened to the job's cpus so the launcher's own binding can place "
            "ranks");
        audit_start(n, f, "MPI launcher daemon step", log, ctx);
        n->kind = kind;
        return 0;
    }
    if (kind == NG_KIND_BATCH) {
        n->kind = kind;
        return 0;
    }
    if (cfg->exclusive_only && !exclusive_job(n, f->job_cores)) {
        say(log, ctx, 1, "numa-gpu: job does not own the whole node (exclusive_only=yes): left "
            "alone");
        audit_start(n, f, "job does not own the whole node (exclusive_only=yes)", log, ctx);
        return 0;
    }
    if (read_slurm_step(n, f, log, ctx, err, sizeof(err)) < 0) {
        say(log, ctx, 2, "numa-gpu: SLURM_STEP_GPUS: %s", err);
        return fail;
    }
    n->kind = NG_KIND_TASKS;
    n->irq_pending = cfg->irq != NG_IRQ_OFF && n->slurm.ngres > 0;
    audit_start(n, f, NULL, log, ctx);
    hp_start(n, f, log, ctx);
    picture_open(n, f, log, ctx);
    return 0;
}

static void irq_ctx(const ng_config *cfg, ng_irq_ctx *c)
{
    c->procfs = cfg->procfs[0] ? cfg->procfs : NULL;
    c->sysfs = cfg->sysfs[0] ? cfg->sysfs : NULL;
    c->state_dir = cfg->state_dir;
}

/* irq=check|apply: the interrupts of the step's GPUs and their nearest NICs;
 * apply steers the remote ones to the devices' nodes away from the step's
 * cpus, and the job's end restores them. */
static void step_irqs(ng_node *n, ng_node_log_fn log, void *ctx)
{
    char err[NG_ERRLEN], msg[NG_ERRLEN];
    ng_roots roots;
    ng_irq_ctx c;
    ng_config_roots(n->cfg, &roots);
    irq_ctx(n->cfg, &c);
    int apply = n->cfg->irq == NG_IRQ_APPLY;
    int rc = ng_irq_step(n->topo, &roots, &c, n->gres, n->slurm.ngres, apply, n->job, n->cpus,
                         msg, sizeof(msg), err, sizeof(err));
    if (rc < 0)
        say(log, ctx, 2, "numa-gpu: irq: %s%s", err, apply ? "; nothing changed" : "");
    else if (msg[0])
        say(log, ctx, 1, "numa-gpu: irq: %s", msg);
    /* For the audit records: how many this step steered ("steered N IRQ(s)..."). */
    if (apply && (rc < 0 || sscanf(msg, "steered %d IRQ", &n->irqs_steered) != 1))
        n->irqs_steered = 0;
}

void ng_node_task_forked(ng_node *n, int local, int pid, ng_node_log_fn log, void *ctx)
{
    if (n->irq_pending) {
        n->irq_pending = 0;
        step_irqs(n, log, ctx);
        if (n->irqs_steered >= 0)
            ng_audit_step_irqs(n->audit, n->irqs_steered);
    }
    if (n->audit && local >= 0)
        ng_audit_step_forked(n->audit, local, pid);
}

/* ------------------------------------------------------------- the tasks */

static void tsay(const ng_task_io *io, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tsay(const ng_task_io *io, int level, const char *fmt, ...)
{
    char msg[2 * NG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (io->log_fn)
        io->log_fn(level, msg, io->ctx);
}

/* What the user asked of the CPU binding, in a task or the batch step: -c
 * is the value the step really launched with (SLURM_CPUS_PER_TASK can be a
 * stale sbatch -c that srun ignored, up to 23.02), when the job said -c at
 * all. A variable Slurm would never set is said and left out. */
static const ng_cpuopt *task_cpuopt(const ng_node *n, const ng_task_facts *tf,
                                    const ng_task_io *io, ng_cpuopt *co)
{
    char err[NG_ERRLEN];
    unsigned cpt = tf->step_cpus_per_task;
    if (!io->getenv_fn("SLURM_CPUS_PER_TASK", io->ctx) || cpt > NG_MAX_CPUS_PER_TASK)
        cpt = 0;
    if (ng_node_cpuopt(n->cfg, n->opt.smt, n->opt.scope, (int)cpt, io->getenv_fn, io->ctx,
                       n->topo, n->kind == NG_KIND_TASKS, co, err, sizeof(err)) == 0)
        return co;
    tsay(io, 1, "numa-gpu: %s; ignored", err);
    return ng_node_cpuopt(n->cfg, n->opt.smt, n->opt.scope, 0, NULL, NULL, n->topo, 0, co, err,
                          sizeof(err)) == 0 ? co : NULL;
}

/* The batch script: the plan of this node for the job's tasks, rendered
 * for mpirun & co. (never overriding what the user set), and a rankfile;
 * the job's nodes of another type (topology_dir=) from their own
 * topology, with their own task counts. */
static void batch_hints(ng_node *n, const ng_task_facts *tf, const ng_task_io *io,
                        const char *const *hosts, int nh)
{
    char err[NG_ERRLEN], warn[NG_ERRLEN] = "", path[128];
    ng_roots roots;
    ng_step st;
    ng_plan plan = { 0 };
    ng_cpuopt co;
    const ng_cpuopt *cop = task_cpuopt(n, tf, io, &co);
    ng_config_roots(n->cfg, &roots);
    int rc = ng_step_from_batch(n->topo, &roots, io->getenv_fn, io->ctx, 0, &st, err,
                                sizeof(err));
    if (rc == 0) {
        rc = ng_step_plan(n->topo, &st, n->cpus, n->mems, n->mode, n->opt.mem, &n->policy, cop,
                          &plan, warn, sizeof(warn), err, sizeof(err));
        ng_step_free(&st);
    }
    if (rc < 0) {
        tsay(io, 1, "%s", err);
        return;
    }
    if (warn[0])
        tsay(io, 1, "%s", warn);
    ng_host_plans hp = { 0 };
    int *tpn = n->cfg->topology_dir[0] && nh > 0 ? calloc((size_t)nh, sizeof(int)) : NULL;   /* hosts[0] exists */
    if (tpn) {
        const char *v = io->getenv_fn("SLURM_TASKS_PER_NODE", io->ctx);
        char note[NG_ERRLEN];
        if (!v || ng_tasks_per_node_list(v, nh, tpn, err, sizeof(err)) < 0)
            for (int i = 0; i < nh; i++)
                tpn[i] = plan.nranks;
        if (ng_host_plans_make(n->cfg->topology_dir, hosts, nh, tpn, ng_plan_gpu_count(&plan),
                               tf->node && *tf->node ? tf->node : hosts[0], &plan, n->mode,
                               cop, &hp, note, sizeof(note), err, sizeof(err)) < 0)
            tsay(io, 1, "numa-gpu: %s", err);
        else if (note[0] && n->verbose)
            tsay(io, 0, "numa-gpu: %s", note);
        free(tpn);
    }
    ng_hints h;
    if (ng_hints_batch(&plan, hp.plan, hosts, nh, n->job, NG_MPI_ALL, &h, path, sizeof(path),
                       err, sizeof(err)) == 0) {
        for (int i = 0; i < h.n; i++)
            /* the user's own value stays */
            if (io->getenv_fn(h.v[i].name, io->ctx)) {
                if (n->verbose)
                    tsay(io, 0, "numa-gpu: keeping your %s", h.v[i].name);
            } else {
                io->setenv_fn(h.v[i].name, h.v[i].value, 0, io->ctx);
            }
        io->setenv_fn("NUMA_GPU_RANKFILE", path, 1, io->ctx);
        ng_hints_free(&h);
    } else {
        tsay(io, 1, "numa-gpu: %s", err);
    }
    ng_host_plans_free(&hp);
    ng_plan_free(&plan);
}

/* In the task (as the user): slurmstepd reserves the pages of our row. */
static int task_hugepages(ng_node *n, int self, const ng_rank_plan *rp, const ng_task_io *io,
                          char *given, size_t givenlen, char *err, size_t errlen)
{
    char warn[NG_ERRLEN];
    if (ng_hp_service_ask(n->hp, self, rp->mems, n->mode == NG_MODE_STRICT, 10000, given,
                          givenlen, warn, sizeof(warn), err, errlen) < 0)
        return -1;
    if (warn[0])
        tsay(io, 1, "%s", warn);
    io->setenv_fn("NUMA_GPU_HUGEPAGES", given, 1, io->ctx);
    if (n->cfg->hugepages_mount[0])
        io->setenv_fn("NUMA_GPU_HUGETLBFS", n->cfg->hugepages_mount, 1, io->ctx);
    return 0;
}

/* In task 0, after its placement is timed: lstopo draws the node's plan
 * (5 s deadline); a failure is said and leaves the file empty, which
 * slurmstepd removes at the step's end. */
static void picture_draw(ng_node *n, ng_plan *plan, const ng_task_io *io)
{
    char err[NG_ERRLEN], title[256];
    char *xml = NULL;
    size_t len = 0;
    snprintf(title, sizeof(title), "%s: %s", ng_topo_source(n->topo), n->picture_name);
    int rc = ng_draw_xml(n->topo, plan, title, &xml, &len, err, sizeof(err));
    if (rc == 0)
        rc = ng_draw_render(xml, len, (ng_draw_format)n->cfg->picture, n->picture_fd, 5000, err,
                            sizeof(err));
    free(xml);
    if (rc < 0) {
        if (ftruncate(n->picture_fd, 0) < 0)
            snprintf(err + strlen(err), sizeof(err) - strlen(err), " (truncate failed)");
        tsay(io, 1, "numa-gpu explain: no picture: %s", err);
    } else {
        tsay(io, 0, "numa-gpu explain: the picture of this node's plan is %s/%s",
             n->cfg->audit_dir, n->picture_name);
    }
}

/* Every local task computes the same plan from the same step-wide inputs,
 * so rows are disjoint and agree between tasks; this task applies its row.
 * *plan is kept for the picture; hp_given/task_err for the audit. */
static int place_task(ng_node *n, const ng_task_facts *tf, const ng_task_io *io, ng_plan *plan,
                      char *hp_given, size_t hplen, char *task_err, size_t telen, char *err,
                      size_t errlen)
{
    int self = tf->self;
    char warn[NG_ERRLEN] = "";
    ng_roots roots;
    ng_step st;
    ng_config_roots(n->cfg, &roots);
    /* slurmstepd may not know Slurm's node name before fork (22.05); every
     * task has it: gres.conf's NodeName= lines are read for that name. */
    if (n->slurm.ngres && tf->node && tf->node[0] && strcmp(tf->node, n->gres_node) &&
        read_gres_facts(n, tf->node, err, errlen) < 0)
        return -1;
    if (ng_step_from_slurm(n->topo, &roots, &n->slurm, tf->ntasks, self, n->mode, io->getenv_fn,
                           io->ctx, &st, warn, sizeof(warn), err, errlen) < 0)
        return -1;
    if (warn[0])
        tsay(io, 1, "%s", warn);
    char source[sizeof(st.source)];
    snprintf(source, sizeof(source), "%s", st.source);
    ng_cpuopt co;
    int rc = ng_step_plan(n->topo, &st, n->cpus, n->mems, n->mode, n->opt.mem, &n->policy,
                          task_cpuopt(n, tf, io, &co), plan, warn, sizeof(warn), err, errlen);
    /* The task's home GPU among those it sees (and first or alone, if
     * asked): before it runs, whatever the placement's outcome. */
    if (rc == 0 && n->mode != NG_MODE_EXPLAIN) {
        char note[NG_ERRLEN];
        ng_visible vis = (ng_visible)(n->opt.visible >= 0 ? n->opt.visible : n->cfg->visible);
        ng_visible_apply(&st, vis, io->getenv_fn, io->setenv_fn, io->ctx, note, sizeof(note));
        if (note[0])
            tsay(io, 1, "numa-gpu: task %d: %s", self, note);
    }
    ng_step_free(&st);
    if (rc < 0)
        return -1;
    if (warn[0])
        tsay(io, 1, "%s", warn);
    ng_effective eff = { 0 };
    /* explain: local task 0 prints the node's plan once */
    if (n->mode != NG_MODE_EXPLAIN || self == 0)
        rc = ng_task_apply(n->topo, plan, self, io, &eff, err, errlen);
    /* --cpu-bind=verbose: Slurm printed the mask it set; say the one the
     * task runs with, in Slurm's format, right after. */
    if (rc == 0 && n->mode != NG_MODE_EXPLAIN && eff.cpus &&
        ng_cpu_bind_verbose(io->getenv_fn, io->ctx)) {
        char host[256], line[NG_ERRLEN + 256];
        if (tf->node && *tf->node)
            snprintf(host, sizeof(host), "%s", tf->node);
        else if (gethostname(host, sizeof(host) - 1) < 0)
            snprintf(host, sizeof(host), "?");
        host[sizeof(host) - 1] = '\0';
        if (ng_cpu_bind_line(host, tf->global_id, (unsigned)self, (unsigned)getpid(), eff.cpus,
                             line, sizeof(line)) == 0)
            tsay(io, 3, "%s", line);
    }
    if (n->mode == NG_MODE_EXPLAIN && self == 0)
        tsay(io, 0, "numa-gpu explain: the step's cores come from Slurm, which never gives out "
             "the node's specialized cores (CoreSpecCount, CpuSpecList)");
    if (rc == 0 && n->opt.hp_bytes && n->mode != NG_MODE_EXPLAIN &&
        task_hugepages(n, self, &plan->ranks[self], io, hp_given, hplen, err, errlen) < 0) {
        if (n->mode == NG_MODE_STRICT) {
            rc = -1;
        } else {
            tsay(io, 1, "numa-gpu: %s", err);
            snprintf(task_err, telen, "%s", err);
        }
    }
    if (n->audit) {
        char given[512];
        const char *val = io->getenv_fn(source, io->ctx);
        snprintf(given, sizeof(given), "%s%s%s", source, val ? "=" : "", val ? val : "");
        ng_audit_step_fill(n->audit, self, plan, &eff, given);
    }
    ng_effective_clear(&eff);
    return rc;
}

int ng_node_task(ng_node *n, const ng_task_facts *tf, const ng_task_io *io,
                 const char *const *hosts, int nhosts)
{
    char err[NG_ERRLEN], hp_given[NG_ERRLEN] = "", task_err[NG_ERRLEN] = "";
    if (n->kind == NG_KIND_DAEMON) {
        if (ng_bind_cpus(n->cpus, err, sizeof(err)) < 0)
            tsay(io, 2, "numa-gpu: widening the MPI daemon: %s", err);
        return 0;
    }
    if (n->kind == NG_KIND_BATCH && hosts)   /* an empty list is refused by ng_hints_batch */
        batch_hints(n, tf, io, hosts, nhosts);
    if (n->kind != NG_KIND_TASKS)
        return 0;
    struct timespec t0, t1;
    ng_plan plan = { 0 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = place_task(n, tf, io, &plan, hp_given, sizeof(hp_given), task_err,
                        sizeof(task_err), err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0 && n->mode == NG_MODE_EXPLAIN && tf->self == 0 && n->picture_name[0])
        picture_draw(n, &plan, io);
    ng_plan_free(&plan);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    tsay(io, -1, "numa-gpu: task placed in %.3f ms", ms);
    int strict = n->mode == NG_MODE_STRICT;   /* for the record; the rule is ng_task_failed's */
    /* The audit record: the plugin's time for this task and how it ended. */
    if (n->audit)
        ng_audit_step_done(n->audit, tf->self, ms, hp_given[0] ? hp_given : NULL,
                           rc == 0 ? NG_TASK_OK : strict ? NG_TASK_REFUSED : NG_TASK_UNBOUND,
                           rc == 0 ? (task_err[0] ? task_err : NULL) : err);
    return rc == 0 ? 0 : ng_task_failed(n->mode, err, io);
}

int ng_task_failed(ng_mode mode, const char *err, const ng_task_io *io)
{
    int strict = mode == NG_MODE_STRICT;
    tsay(io, strict ? 2 : 1, "numa-gpu: %s: %s",
         strict ? "strict mode, task not started" : "running unbound", err);
    return strict ? -1 : 0;
}

void ng_node_task_exit(ng_node *n, int local, int global, ng_node_log_fn log, void *ctx)
{
    char err[NG_ERRLEN];
    if (!n->audit && !n->hp)
        return;
    /* slurmstepd (root): the task's hugepages go back as soon as it is gone
     * (the step's end gives back whatever is left), so its record says so. */
    if (n->hp) {
        ng_hp_ctx c;
        int k = 0;
        hp_ctx(n->cfg, &c);
        /* Released: none of its pages left in the ledger (k is 0 when another
         * release, e.g. of an owner found dead, got there first). */
        if (ng_hp_release(&c, n->job, (long)n->step, local, &k, err, sizeof(err)) < 0)
            say(log, ctx, 2, "numa-gpu: %s", err);
        else
            ng_audit_step_released(n->audit, local, 1);
    }
    if (n->audit && ng_audit_step_exit(n->audit, local, global, err, sizeof(err)) < 0)
        say(log, ctx, 2, "numa-gpu: audit: %s", err);
}

void ng_node_close(ng_node *n, int root, ng_node_log_fn log, void *ctx)
{
    ng_audit_step_free(n->audit);
    n->audit = NULL;
    if (n->hp && root) {
        /* slurmstepd (root) at step end: give back this step's pages. */
        char err[NG_ERRLEN];
        ng_hp_ctx c;
        hp_ctx(n->cfg, &c);
        if (ng_hp_release(&c, n->job, (long)n->step, -1, NULL, err, sizeof(err)) < 0)
            say(log, ctx, 2, "numa-gpu: %s", err);
    }
    ng_hp_service_stop(n->hp);
    n->hp = NULL;
    if (n->picture_name[0] && root)
        ng_draw_close_in(n->cfg->audit_dir, n->picture_name, n->picture_fd);
    n->picture_name[0] = '\0';
    free(n->gres);
    n->gres = NULL;
    ng_gres_facts_free(&n->gres_facts);
    memset(&n->slurm, 0, sizeof(n->slurm));
    ng_topo_free(n->topo);
    hwloc_bitmap_free(n->cpus);
    hwloc_bitmap_free(n->mems);
    hwloc_bitmap_free(n->isolated);
    hwloc_bitmap_free(n->nohz);
    n->topo = NULL;
    n->cpus = n->mems = n->isolated = n->nohz = NULL;
    memset(&n->policy, 0, sizeof(n->policy));
    n->kind = NG_KIND_NONE;
}

void ng_job_end(const ng_config *cfg, unsigned long job, ng_node_log_fn log, void *ctx)
{
    char *text = NULL, err[NG_ERRLEN];
    if (!cfg->hugepages_off && access(cfg->state_dir, F_OK) == 0) {
        ng_hp_ctx c;
        int k = 0;
        hp_ctx(cfg, &c);
        if (ng_hp_release(&c, job, -1, -1, &k, err, sizeof(err)) < 0)
            say(log, ctx, 2, "numa-gpu: %s", err);
        else if (k)
            say(log, ctx, 1, "numa-gpu: job %lu: released %d hugepage reservation(s) left at "
                "job end", job, k);
    }
    if (ng_rankfiles_remove(job, err, sizeof(err)) > 0)
        say(log, ctx, 1, "numa-gpu: %s", err);
    if (cfg->irq == NG_IRQ_APPLY) {
        ng_irq_ctx c;
        int k = 0;
        char note[NG_ERRLEN];
        irq_ctx(cfg, &c);
        if (ng_irq_restore(&c, job, &k, note, sizeof(note), err, sizeof(err)) < 0)
            say(log, ctx, 2, "numa-gpu: irq: %s", err);
        else if (k || note[0])
            say(log, ctx, 1, "numa-gpu: job %lu: restored %d IRQ(s)%s%s", job, k,
                note[0] ? "; " : "", note);
    }
    if (!cfg->audit_dir[0])
        return;
    int rc = ng_audit_job_end(cfg->audit_dir, job, cfg->audit_warn_local, &text, err,
                              sizeof(err));
    for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save)) {
        char *msg = NULL;   /* a summary line of any length, never cut */
        if (asprintf(&msg, "numa-gpu: %s", l) >= 0 && log)
            log(1, msg, ctx);
        free(msg);
    }
    if (rc < 0)
        say(log, ctx, 2, "numa-gpu: audit: %s", err);
    free(text);
}
