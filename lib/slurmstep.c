/* The step as Slurm runs it: each task's GPUs from the step's GRES list and
 * Slurm's binding (lib/assign.c), checked against what the task can see and
 * open; gres.conf facts; batch steps and MPI launcher daemons. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/accel.h"
#include "private/assign.h"
#include "private/config.h"
#include "private/devcheck.h"
#include "private/gpudev.h"
#include "private/gresconf.h"
#include "private/gresread.h"
#include "private/slurmstep.h"
#include "private/util.h"

int ng_gres_resolve(const ng_topo *t, const ng_roots *r, unsigned g, const char *dev,
                    char b[NG_BUSID_LEN], char *err, size_t errlen)
{
    /* The device file gres.conf gives index g is what Slurm means by it;
     * without one (or one this machine cannot resolve), the index. */
    if (dev && ng_gpu_resolve_file(r, dev, b, err, errlen) == 0)
        return 0;
    char id[16];
    snprintf(id, sizeof(id), "%u", g);
    return ng_gpu_resolve(t, r, NG_IDX_GRES, id, b, err, errlen);
}

int ng_step_from_assignment(const ng_topo *t, const ng_roots *r, const ng_assignment *a,
                            const char *const *dev, int ndev, int self, ng_step *st, char *err,
                            size_t errlen)
{
    if (self >= a->ntasks)
        return ng_err(err, errlen, "local task %d is not below the number of local tasks %d",
                      self, a->ntasks);
    if (ng_step_alloc(st, a->ntasks, err, errlen) < 0)
        return -1;
    st->self = self;
    snprintf(st->source, sizeof(st->source), "%s", a->shared ? "step GPUs, shared" :
             "step GPUs, Slurm's binding");
    for (int i = 0; i < a->ntasks; i++) {
        int n = a->n[i], from = 0, cnt = n;
        /* Shared list (every task sees all the step's GPUs): the local-rank
         * convention, each task's home its chunk (ng_home_chunk). */
        if (a->shared)
            ng_home_chunk(i, a->ntasks, n, &from, &cnt);
        /* The task's own variables list all its n GPUs in this order. */
        char (*vis)[NG_BUSID_LEN] = i == self && n > 0 ? calloc((size_t)n, NG_BUSID_LEN) : NULL;
        int ok = i != self || n == 0 || vis;
        for (int j = 0; ok && j < n; j++) {
            char b[NG_BUSID_LEN];
            unsigned g = a->gres[i][j];
            int home = j >= from && j < from + cnt;
            if (!home && i != self)
                continue;
            if (ng_gres_resolve(t, r, g, dev && (int)g < ndev ? dev[g] : NULL, b, err, errlen) < 0 ||
                (home && ng_step_add_gpu(&st->ranks[i], b) < 0))
                ok = 0;
            else if (vis)
                memcpy(vis[j], b, NG_BUSID_LEN);
        }
        if (ok && vis && ng_step_set_visible(st, vis, n, from, cnt) < 0)
            ok = 0;
        free(vis);
        if (!ok) {
            ng_step_free(st);
            return err && !*err ? ng_err(err, errlen, "out of memory") : -1;
        }
    }
    return 0;
}

/* Parse "0,1,3" (GRES indexes) into a sorted, deduplicated set. */
static int gres_list(const char *s, hwloc_bitmap_t set)
{
    hwloc_bitmap_zero(set);
    if (!s || !*s)
        return -1;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)*p))
            return -1;
        unsigned long v = strtoul(p, &end, 10);
        if (errno || v >= 4096 || (*end && *end != ','))
            return -1;
        hwloc_bitmap_set(set, (unsigned)v);
        p = *end ? end + 1 : end;
    }
    return 0;
}

int ng_gres_list_parse(const char *s, unsigned **out, int *n, char *err, size_t errlen)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    *out = NULL;
    *n = 0;
    if (!set || gres_list(s, set) < 0) {
        hwloc_bitmap_free(set);
        return ng_err(err, errlen, "'%s' is not a list of GRES indexes below 4096", s ? s : "");
    }
    int w = hwloc_bitmap_weight(set), i = 0;
    unsigned g;
    *out = calloc((size_t)w, sizeof(unsigned));
    if (!*out) {
        hwloc_bitmap_free(set);
        return ng_err(err, errlen, "out of memory");
    }
    hwloc_bitmap_foreach_begin(g, set) {
        (*out)[i++] = g;
    } hwloc_bitmap_foreach_end();
    *n = w;
    hwloc_bitmap_free(set);
    return 0;
}

int ng_assign_check(const ng_assignment *a, int self, int local_index, ng_getenv_fn fn,
                    void *ctx, char *why, size_t len)
{
    if (self < 0 || self >= a->ntasks)
        return ng_err(why, len, "task %d is not in the assignment", self);
    const char *v = fn("SLURM_STEP_GPUS", ctx);
    if (!v || !*v)
        return 0;   /* e.g. --gpu-bind=none on 22.05 sets no GPU variables */
    hwloc_bitmap_t have = hwloc_bitmap_alloc(), want = hwloc_bitmap_alloc();
    int rc = 0;
    if (gres_list(v, have) < 0) {
        rc = ng_err(why, len, "the task's SLURM_STEP_GPUS='%.64s' is not a GRES index list", v);
    } else if (local_index) {
        /* ConstrainDevices: the task sees its own GPUs renumbered; only the
         * count can be compared. */
        if (hwloc_bitmap_weight(have) != a->n[self])
            rc = ng_err(why, len, "the task sees %d GPU(s) (SLURM_STEP_GPUS=%.64s) but Slurm's "
                        "binding gives it %d", hwloc_bitmap_weight(have), v, a->n[self]);
    } else {
        for (int j = 0; j < a->n[self]; j++)
            hwloc_bitmap_set(want, a->gres[self][j]);
        if (!hwloc_bitmap_isequal(have, want)) {
            char w[256];
            ng_list_str(want, w, sizeof(w));
            rc = ng_err(why, len, "the task's SLURM_STEP_GPUS=%.64s differs from GRES %s "
                        "computed from the step's binding", v, w);
        }
    }
    hwloc_bitmap_free(have);
    hwloc_bitmap_free(want);
    return rc;
}

int ng_gres_local_cpus(const ng_topo *t, const ng_roots *r, const unsigned *gres, int n,
                       hwloc_bitmap_t **out, int *nout)
{
    unsigned max = 0;
    for (int i = 0; i < n; i++)
        if (gres[i] > max)
            max = gres[i];
    *out = NULL;
    *nout = 0;
    if (n <= 0)
        return 0;
    hwloc_bitmap_t *v = calloc(max + 1, sizeof(*v));
    if (!v)
        return -1;
    for (int i = 0; i < n; i++) {
        char b[NG_BUSID_LEN], e[NG_ERRLEN];
        ng_accel a;
        if (ng_gres_resolve(t, r, gres[i], NULL, b, e, sizeof(e)) < 0 ||
            ng_accel_lookup(t, b, &a, e, sizeof(e)) < 0)
            continue;
        if (a.locality == NG_LOC_KNOWN && !hwloc_bitmap_iszero(a.nodes)) {
            v[gres[i]] = hwloc_bitmap_alloc();
            ng_accel_node_cpus(t, &a, v[gres[i]]);
        }
        ng_accel_clear(&a);
    }
    *out = v;
    *nout = (int)max + 1;
    return 0;
}

void ng_gres_local_cpus_free(hwloc_bitmap_t *v, int n)
{
    for (int i = 0; v && i < n; i++)
        hwloc_bitmap_free(v[i]);
    free(v);
}

void ng_gres_facts_free(ng_gres_facts *f)
{
    ng_gres_local_cpus_free(f->cpus, f->n);
    for (int i = 0; f->dev && i < f->n; i++)
        free(f->dev[i]);
    free(f->dev);
    memset(f, 0, sizeof(*f));
}

int ng_gres_facts_read(const ng_topo *t, const ng_roots *r, const char *slurm_conf,
                       const char *node, int gres_cores, const unsigned *gres, int ngres,
                       ng_gres_facts *f, char *err, size_t errlen)
{
    char path[4200], params[1024] = "";
    ng_gres_node g;
    memset(f, 0, sizeof(*f));
    if (ngres <= 0)
        return 0;
    ng_slurm_gres_conf_path(slurm_conf, path, sizeof(path));
    if (ng_gres_read(path, node, &g, err, errlen) < 0)
        return -1;
    hwloc_bitmap_t *numa = NULL;
    int nnuma = 0;
    if (ng_gres_local_cpus(t, r, gres, ngres, &numa, &nnuma) < 0) {
        ng_gres_node_free(&g);
        return ng_err(err, errlen, "out of memory");
    }
    f->n = nnuma;
    f->cpus = calloc((size_t)nnuma, sizeof(*f->cpus));
    f->dev = calloc((size_t)nnuma, sizeof(*f->dev));
    if (!f->cpus || !f->dev) {
        ng_gres_local_cpus_free(numa, nnuma);
        ng_gres_node_free(&g);
        ng_gres_facts_free(f);
        return ng_err(err, errlen, "out of memory");
    }
    /* Slurm numbers cores socket by socket; numa_node_as_socket makes each
     * NUMA node a socket (slurmd's xcpuinfo). */
    const char *conf = slurm_conf && *slurm_conf ? slurm_conf : "/etc/slurm/slurm.conf";
    ng_conf_get(conf, "SlurmdParameters", params, sizeof(params));
    int numa_sockets = strstr(params, "numa_node_as_socket") != NULL;
    int ncores = 0;
    for (int i = 0; i < ngres; i++) {
        unsigned x = gres[i];
        const ng_gres_rec *rec = (int)x < g.n ? &g.rec[x] : NULL;
        if (rec && rec->file[0] && !(f->dev[x] = strdup(rec->file)))
            break;
        if (rec)
            f->env_uuid |= rec->env_uuid;
        if (gres_cores == 1 || (gres_cores < 0 && rec && !rec->cores && g.autodetect)) {
            f->cpus[x] = numa[x];   /* the driver's affinity: the GPU's node */
            numa[x] = NULL;
        } else if (gres_cores < 0 && rec && rec->cores && (f->cpus[x] = hwloc_bitmap_alloc())) {
            ng_slurm_core_cpus(t, rec->cores, numa_sockets, f->cpus[x]);
            ncores++;
        }
    }
    snprintf(f->note, sizeof(f->note), "%.120s: %d GPU record(s) for %.64s, %d step GPU(s) with "
             "Cores=%s%s", path, g.n, node ? node : "?", ncores,
             g.autodetect ? ", AutoDetect" : "", numa_sockets ? ", numa_node_as_socket" : "");
    ng_gres_local_cpus_free(numa, nnuma);
    ng_gres_node_free(&g);
    return 0;
}

int ng_tasks_per_node_parse(const char *s, int *n, char *err, size_t errlen)
{
    /* "4", "2(x3)", "2(x3),1": the first node's count (the batch node). */
    char num[32];
    size_t k = s ? strspn(s, "0123456789") : 0;
    unsigned long long v;
    if (!s || k == 0 || k >= sizeof(num) ||
        (s[k] && s[k] != '(' && s[k] != ','))
        return ng_err(err, errlen, "tasks per node '%.64s' (expected N, N(xM) or a list of "
                      "them, N in 1..65536)", s ? s : "");
    memcpy(num, s, k);
    num[k] = '\0';
    if (ng_parse_u64(num, 1, 65536, &v) < 0)
        return ng_err(err, errlen, "tasks per node '%.64s' (expected N, N(xM) or a list of "
                      "them, N in 1..65536)", s);
    *n = (int)v;
    return 0;
}

/* ---------------------------------------------------- steps Slurm starts */

int ng_launcher_daemon(const char *argv0)
{
    if (!argv0)
        return 0;
    const char *b = strrchr(argv0, '/');
    b = b ? b + 1 : argv0;
    /* MPI launcher daemons fork the real ranks; binding them would pin
     * every rank to the daemon's slice. */
    return !strcmp(b, "orted") || !strcmp(b, "prted") || !strcmp(b, "hydra_pmi_proxy") ||
           !strcmp(b, "pmi_proxy");
}

/* A variable copied out of the getenv callback's (possibly rotating) buffer. */
static void env_copy(ng_getenv_fn fn, void *ctx, const char *name, const char *alt, char *out,
                     size_t len)
{
    const char *v = fn(name, ctx);
    if (!v && alt)
        v = fn(alt, ctx);
    snprintf(out, len, "%s", v ? v : "");
}

/* Slurm's binding from step-wide facts: the same rows in every task. */
static int slurm_assignment(const ng_topo *t, const ng_slurm_step *s, int ntasks,
                            ng_getenv_fn fn, void *ctx, ng_assignment *a, char *err,
                            size_t errlen)
{
    char bind[1024], type[64];
    /* Only slurmstepd's SLURMD_TRES_BIND: srun's SLURM_TRES_BIND is not what
     * Slurm applied (up to 25.05 slurmstepd drops the binding of a node that
     * runs one task of the step, mgr.c job_manager; then there is none). */
    env_copy(fn, ctx, "SLURMD_TRES_BIND", NULL, bind, sizeof(bind));
    env_copy(fn, ctx, "SLURM_CPU_BIND_TYPE", NULL, type, sizeof(type));
    hwloc_bitmap_t *tc = calloc((size_t)ntasks, sizeof(*tc));
    /* From 23.02 Slurm's task cpus are task/affinity's cpu_set: without
     * task/affinity they are all cpus (NULL), whatever the env lists. */
    int have_tc = tc != NULL && (s->task_affinity || (s->release && s->release < NG_RELEASE(23, 2, 0)));
    for (int i = 0; have_tc && i < ntasks; i++)
        have_tc = (tc[i] = hwloc_bitmap_alloc()) != NULL;
    char e[NG_ERRLEN];
    /* the ldom forms name NUMA nodes by OS index */
    hwloc_topology_t h = ng_topo_hwloc(t);
    int nn = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, o));)
        if ((int)o->os_index >= nn && o->os_index < NG_MAX_NODES)
            nn = (int)o->os_index + 1;
    hwloc_const_bitmap_t *nc = calloc((size_t)(nn > 0 ? nn : 1), sizeof(*nc));
    for (int i = 0; nc && i < nn; i++)
        nc[i] = ng_topo_node_cpus(t, (unsigned)i);
    if (have_tc && ng_cpu_bind_list(type, fn("SLURM_CPU_BIND_LIST", ctx), ntasks, tc,
                                    (hwloc_const_bitmap_t const *)nc, nc ? nn : 0, e,
                                    sizeof(e)) < 0)
        have_tc = 0;   /* no per-task cpu list: Slurm then treats cpus as all */
    free(nc);
    ng_assign_in in = { s->ngres, s->gres, ntasks, bind, s->local_index,
                        have_tc ? (hwloc_const_bitmap_t const *)tc : NULL,
                        s->gres_cpus, s->ngres_cpus, s->release };
    int rc = ng_assign(&in, a, err, errlen);
    for (int i = 0; tc && i < ntasks; i++)
        hwloc_bitmap_free(tc[i]);
    free(tc);
    return rc;
}

/* The step's GPUs this task may open, by the kernel's device cgroup:
 * 1 with *open filled when some GPU is denied (a per-task restriction is in
 * place, so the allowed ones are the task's GPUs), 0 when every GPU is
 * allowed or something is unknown (no file, file permissions): no answer. */
static int devices_open(const ng_slurm_step *s, hwloc_bitmap_t open, char *seen, size_t len)
{
    int denied = 0;
    size_t at = 0;
    hwloc_bitmap_zero(open);
    seen[0] = '\0';
    for (int i = 0; i < s->ngres; i++) {
        unsigned g = s->gres[i];
        const char *path = s->gres_dev && (int)g < s->ngres_dev ? s->gres_dev[g] : NULL;
        int e;
        ng_dev_access acc = s->dev_check ? (ng_dev_access)s->dev_check(path, &e)
                                         : ng_dev_check(path, &e);
        if (acc == NG_DEV_UNKNOWN)
            return 0;
        if (acc == NG_DEV_ALLOWED)
            hwloc_bitmap_set(open, g);
        denied |= acc == NG_DEV_DENIED;
        if (at < len)
            at += (size_t)snprintf(seen + at, len - at, "%s%s %s", i ? ", " : "", path,
                                   acc == NG_DEV_ALLOWED ? "opens" : "EPERM");
    }
    return denied;
}

/* The step's GPUs as a set (in scratch). */
static hwloc_const_bitmap_t row_of_step(const ng_slurm_step *s, hwloc_bitmap_t scratch)
{
    hwloc_bitmap_zero(scratch);
    for (int i = 0; i < s->ngres; i++)
        hwloc_bitmap_set(scratch, s->gres[i]);
    return scratch;
}

static int set_row(ng_assignment *a, int self, hwloc_const_bitmap_t set)
{
    int n = hwloc_bitmap_weight(set), j = 0;
    unsigned g;
    unsigned *v = calloc((size_t)(n > 0 ? n : 1), sizeof(unsigned));
    if (!v)
        return -1;
    hwloc_bitmap_foreach_begin(g, set) {
        v[j++] = g;
    } hwloc_bitmap_foreach_end();
    free(a->gres[self]);
    a->gres[self] = v;
    a->n[self] = n;
    return 0;
}

int ng_step_from_slurm(const ng_topo *t, const ng_roots *r, const ng_slurm_step *s, int ntasks,
                       int self, ng_mode mode, ng_getenv_fn fn, void *ctx, ng_step *st,
                       char *warn, size_t warnlen, char *err, size_t errlen)
{
    warn[0] = '\0';
    if (ntasks < 1 || self < 0 || self >= ntasks)
        return ng_err(err, errlen, "task %d of %d local tasks", self, ntasks);
    if (s->ngres <= 0)   /* no GPUs in the step: what the task's env names */
        return ng_step_from_env(t, r, fn, ctx, ntasks, self, st, err, errlen);
    ng_assignment a = { 0 };
    char why[NG_ERRLEN] = "", seen[512], rel[24];
    int rc = slurm_assignment(t, s, ntasks, fn, ctx, &a, err, errlen);
    hwloc_bitmap_t open = hwloc_bitmap_alloc(), row = hwloc_bitmap_alloc();
    if (!open || !row)
        rc = rc < 0 ? rc : ng_err(err, errlen, "out of memory");
    /* What the kernel lets this task open is the truth about its GPUs when
     * a per-task device restriction is in place (ConstrainDevices). */
    int known = rc == 0 && s->device_check && s->local_index && devices_open(s, open, seen,
                                                                             sizeof(seen));
    int bad = 0;
    if (rc == 0) {
        for (int j = 0; j < a.n[self]; j++)
            hwloc_bitmap_set(row, a.gres[self][j]);
        ng_release_str(s->release, rel, sizeof(rel));
        if (known && !hwloc_bitmap_isincluded(row, open)) {
            char w[128], o[128];
            ng_list_str(row, w, sizeof(w));
            ng_list_str(open, o, sizeof(o));
            if (hwloc_bitmap_iszero(open)) {
                bad = 1;
                snprintf(why, sizeof(why), "Slurm %s's binding (%.200s) gives it GPU %s, but the "
                         "device cgroup lets it open none of the step's GPUs (%.300s)", rel,
                         a.how, w, seen);
            } else {
                /* Never next to a GPU it cannot open: the kernel wins. */
                snprintf(warn, warnlen, "numa-gpu: task %d: Slurm %s's binding (%.200s) as read "
                         "gives GPU %s, but the device cgroup lets the task open GPU %s (%.300s): "
                         "placing it next to GPU %s", self, rel, a.how, w, o, seen, o);
                if (set_row(&a, self, open) < 0)
                    rc = ng_err(err, errlen, "out of memory");
            }
        } else if (known && a.unknown && !hwloc_bitmap_isequal(row, open)) {
            if (set_row(&a, self, open) < 0)   /* shard and the like: the kernel tells */
                rc = ng_err(err, errlen, "out of memory");
        } else if (!known && a.unknown) {
            bad = 1;
            snprintf(why, sizeof(why), "%.200s, and %s", a.how, s->local_index
                     ? "no device check tells which GPUs it can open"
                     : "Slurm's env is read instead");
            if (!s->local_index)
                bad = 0;   /* global ids: the task's own SLURM_STEP_GPUS decides below */
        }
    }
    /* The env cross-check: global ids must match; under ConstrainDevices only
     * the count can be compared, and not for mask_gpu before 24.11.5 (its env
     * counts other GPUs than its cgroup); a device answer supersedes both. */
    if (rc == 0 && !bad && !known && !(s->local_index && a.mask_env_differs) &&
        ng_assign_check(&a, self, s->local_index, fn, ctx, why, sizeof(why)) < 0) {
        /* Without ConstrainDevices the task's SLURM_STEP_GPUS holds global
         * ids of the GPUs Slurm set up for it: the truth about this task
         * (--accel-bind=g, which no variable shows, lands here). */
        hwloc_bitmap_t have = hwloc_bitmap_alloc();
        const char *v = fn("SLURM_STEP_GPUS", ctx);
        if (!s->local_index && have && gres_list(v, have) == 0 &&
            hwloc_bitmap_isincluded(have, row_of_step(s, open)) && set_row(&a, self, have) == 0) {
            if (!a.unknown)
                snprintf(warn, warnlen, "numa-gpu: task %d: %.700s: placing it next to the GPUs "
                         "its SLURM_STEP_GPUS names", self, why);
            why[0] = '\0';
        }
        hwloc_bitmap_free(have);
        bad = why[0] != '\0';
    }
    if (rc == 0 && bad) {
        /* Never bind next to another task's GPU on a guess. */
        if (mode == NG_MODE_STRICT) {
            rc = ng_err(err, errlen, "cannot tell which GPU this task has: %.900s", why);
        } else {
            snprintf(warn, warnlen, "numa-gpu: task %d: %.900s; placing it on the nodes of all "
                     "the step's GPUs", self, why);
            free(a.gres[self]);
            a.gres[self] = calloc((size_t)s->ngres, sizeof(unsigned));
            if (a.gres[self])
                memcpy(a.gres[self], s->gres, (size_t)s->ngres * sizeof(unsigned));
            a.n[self] = a.gres[self] ? s->ngres : 0;
        }
    }
    hwloc_bitmap_free(open);
    hwloc_bitmap_free(row);
    if (rc == 0)
        rc = ng_step_from_assignment(t, r, &a, s->gres_dev, s->ngres_dev, self, st, err, errlen);
    if (rc == 0)
        snprintf(st->source, sizeof(st->source), "%.63s", a.how);
    if (a.n)
        ng_assignment_free(&a);
    return rc;
}

int ng_step_from_batch(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn, void *ctx,
                       int ntasks, ng_step *st, char *err, size_t errlen)
{
    if (ntasks <= 0) {
        const char *tpn = fn("SLURM_NTASKS_PER_NODE", ctx);
        if (!tpn)
            tpn = fn("SLURM_TASKS_PER_NODE", ctx);
        ntasks = 1;
        if (tpn && ng_tasks_per_node_parse(tpn, &ntasks, err, errlen) < 0)
            return -1;
    }
    return ng_step_from_env(t, r, fn, ctx, ntasks, 0, st, err, errlen);
}
