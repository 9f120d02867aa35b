/* A step's ranks and their GPUs, built from a --gpus spec, a count, or a
 * task's environment, and the one plan path every front-end takes. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/step.h"
#include "private/cpuopt.h"
#include "private/util.h"

void ng_step_free(ng_step *st)
{
    for (int i = 0; st->ranks && i < st->nranks; i++)
        free(st->ranks[i].busids);
    free(st->ranks);
    free(st->visible);
    memset(st, 0, sizeof(*st));
}

void ng_home_chunk(int i, int ntasks, int n, int *from, int *cnt)
{
    if (ntasks < 1 || n < 1 || i < 0 || i >= ntasks) {
        *from = *cnt = 0;
        return;
    }
    if (ntasks > n) {   /* what local_rank % device_count picks */
        *from = i % n;
        *cnt = 1;
        return;
    }
    long long f = (long long)i * n / ntasks, to = (long long)(i + 1) * n / ntasks;
    *from = (int)f;
    *cnt = (int)(to - f);
}

int ng_step_set_visible(ng_step *st, char (*busids)[NG_BUSID_LEN], int n, int from, int cnt)
{
    free(st->visible);
    st->visible = NULL;
    st->nvisible = st->home_from = st->home_cnt = 0;
    if (n <= 0 || from < 0 || cnt < 1 || from + cnt > n)
        return 0;
    st->visible = malloc((size_t)n * NG_BUSID_LEN);
    if (!st->visible)
        return -1;
    memcpy(st->visible, busids, (size_t)n * NG_BUSID_LEN);
    st->nvisible = n;
    st->home_from = from;
    st->home_cnt = cnt;
    return 0;
}

int ng_step_alloc(ng_step *st, int n, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    st->self = -1;
    st->ranks = calloc((size_t)n, sizeof(ng_rank_gpus));
    if (!st->ranks)
        return ng_err(err, errlen, "out of memory");
    st->nranks = n;
    return 0;
}

/* Append one resolved id to rank g. */
int ng_step_add_gpu(ng_rank_gpus *g, const char busid[NG_BUSID_LEN])
{
    for (int i = 0; i < g->ngpus; i++)
        if (strcmp(g->busids[i], busid) == 0)
            return 0;
    char (*nb)[NG_BUSID_LEN] = realloc(g->busids, (size_t)(g->ngpus + 1) * NG_BUSID_LEN);
    if (!nb)
        return -1;
    g->busids = nb;
    memcpy(g->busids[g->ngpus++], busid, NG_BUSID_LEN);
    return 0;
}

/* Next id of a spec: a PCI bus id (which may contain ':') or up to , :
 * A bus id with a domain needs the full 4 (or 8) digit domain here, so
 * "0:5f:00.0" is rank 0 = GPU 0, rank 1 = 5f:00.0. */
static size_t spec_token(const char *p, char *tok, size_t len)
{
    const char *dot = strchr(p, '.');
    if (dot && isxdigit((unsigned char)dot[1]) && (size_t)(dot + 2 - p) < len) {
        char b[NG_BUSID_LEN];
        size_t n = (size_t)(dot + 2 - p);
        memcpy(tok, p, n);
        tok[n] = '\0';
        const char *c1 = strchr(tok, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        size_t dom = c2 ? (size_t)(c1 - tok) : 4;
        if (!strchr(tok, ',') && (dom == 4 || dom == 8) && ng_busid_parse(tok, b) == 0)
            return n;
    }
    size_t n = strcspn(p, ",:");
    if (n >= len)
        n = len - 1;
    memcpy(tok, p, n);
    tok[n] = '\0';
    return strcspn(p, ",:");
}

int ng_step_from_spec(const ng_topo *t, const ng_roots *r, const char *spec,
                      int ntasks, ng_step *st, char *err, size_t errlen)
{
    int groups = 1;
    if (!spec || !*spec)
        return ng_err(err, errlen, "empty GPU list");
    /* Count groups with the same tokenizer the parse uses. */
    char tok[256];
    for (const char *p = spec; *p;) {
        p += spec_token(p, tok, sizeof(tok));
        if (*p == ':')
            groups++;
        if (*p)
            p++;
    }
    if (ntasks > 0 && ntasks < groups)
        return ng_err(err, errlen, "GPU list '%s' names %d ranks but the step has %d tasks",
                      spec, groups, ntasks);
    if (ng_step_alloc(st, ntasks > groups ? ntasks : groups, err, errlen) < 0)
        return -1;
    snprintf(st->source, sizeof(st->source), "--gpus");
    int g = 0;
    for (const char *p = spec;;) {
        size_t n = spec_token(p, tok, sizeof(tok));
        char b[NG_BUSID_LEN], e[NG_ERRLEN];
        /* A rank without a GPU: an empty group ("0::1", ":0", "0:") or
         * "none" alone in its group. */
        int group_start = p == spec || p[-1] == ':', group_end = p[n] == ':' || p[n] == '\0';
        if (group_start && group_end && (n == 0 || !strcmp(tok, "none"))) {
            p += n;
            if (*p == '\0')
                break;
            g++;
            p++;
            continue;
        }
        if (n == 0 || ng_gpu_resolve(t, r, NG_IDX_GRES, tok, b, e, sizeof(e)) < 0) {
            ng_err(err, errlen, "GPU list '%s': %s", spec,
                   n == 0 ? "empty GPU id (expected ids separated by ',' and ranks by ':'; "
                   "an empty rank or 'none' is a rank without a GPU)" : e);
            ng_step_free(st);
            return -1;
        }
        if (ng_step_add_gpu(&st->ranks[g], b) < 0) {
            ng_step_free(st);
            return ng_err(err, errlen, "out of memory");
        }
        p += n;
        if (*p == '\0')
            break;
        if (*p == ':')
            g++;
        p++;
    }
    return 0;
}

int ng_step_from_count(const ng_topo *t, const ng_roots *r, int ntasks, int k,
                       ng_step *st, char *err, size_t errlen)
{
    if (ng_step_alloc(st, ntasks, err, errlen) < 0)
        return -1;
    snprintf(st->source, sizeof(st->source), "--gpus-per-task");
    for (int i = 0; i < ntasks; i++)
        for (int j = 0; j < k; j++) {
            char id[32], b[NG_BUSID_LEN];
            snprintf(id, sizeof(id), "%d", i * k + j);
            if (ng_gpu_resolve(t, r, NG_IDX_GRES, id, b, err, errlen) < 0 ||
                ng_step_add_gpu(&st->ranks[i], b) < 0) {
                ng_step_free(st);
                return -1;
            }
        }
    return 0;
}

const char *ng_step_getenv_process(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int env_int(ng_getenv_fn fn, void *ctx, const char *const *names, int dflt)
{
    for (int i = 0; names[i]; i++) {
        const char *v = fn(names[i], ctx);
        char *end;
        if (!v || !*v)
            continue;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (!errno && *end == '\0' && x >= 0 && x <= 65536)
            return (int)x;
    }
    return dflt;
}

int ng_step_from_env(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn,
                     void *ctx, int ntasks, int local_rank, ng_step *st, char *err,
                     size_t errlen)
{
    static const char *const size_vars[] = { "LOCAL_WORLD_SIZE",
        "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", NULL };
    static const char *const rank_vars[] = { "LOCAL_RANK",
        "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", NULL };
    if (ntasks <= 0)
        ntasks = env_int(fn, ctx, size_vars, 1);
    if (local_rank < 0)
        local_rank = env_int(fn, ctx, rank_vars, 0);
    if (ntasks < 1)
        ntasks = 1;
    if (local_rank >= ntasks)
        return ng_err(err, errlen, "local rank %d is not below the number of local "
                      "tasks %d", local_rank, ntasks);
    char (*own)[NG_BUSID_LEN] = NULL;
    int nown = 0;
    const char *src;
    if (ng_gpu_from_env(t, r, fn, ctx, &own, &nown, &src, err, errlen) < 0)
        return -1;
    /* Every task sees the same list (torchrun, --gpus); a per-task binding
     * comes from ng_step_from_assignment instead. */
    char (*all)[NG_BUSID_LEN] = own;
    int nall = nown;
    int rc = ng_step_alloc(st, ntasks, err, errlen);
    st->self = local_rank;
    snprintf(st->source, sizeof(st->source), "%s", *src ? src : "no GPU variables");
    /* At least as many GPUs as tasks: each task's home is its chunk of the
     * shared list (ng_home_chunk). Fewer: the list may be per task (a
     * launcher under a per-task binding), so the other ranks' GPUs are
     * unknown (placed as GPU-less) and ours are all we see. */
    int chunks = nall >= ntasks;
    for (int i = 0; rc == 0 && i < ntasks; i++) {
        int from = 0, cnt = i == local_rank ? nown : 0;
        if (chunks)
            ng_home_chunk(i, ntasks, nall, &from, &cnt);
        for (int j = from; rc == 0 && j < from + cnt; j++)
            if (ng_step_add_gpu(&st->ranks[i], all[j]) < 0)
                rc = ng_err(err, errlen, "out of memory");
        if (rc == 0 && i == local_rank && ng_step_set_visible(st, own, nown, from, cnt) < 0)
            rc = ng_err(err, errlen, "out of memory");
    }
    free(own);
    if (rc < 0)
        ng_step_free(st);
    return rc;
}

int ng_step_plan(const ng_topo *t, const ng_step *st, hwloc_const_bitmap_t cpus,
                 hwloc_const_bitmap_t mems, ng_mode mode, ng_memopt mem,
                 const ng_plan_policy *pol, const ng_cpuopt *co, ng_plan *p, char *warn,
                 size_t warnlen, char *err, size_t errlen)
{
    if (warn && warnlen)
        warn[0] = '\0';
    if (ng_plan_compute_cpuopt(t, cpus, mems, st->nranks, st->ranks, mode, pol, co, p, err,
                               errlen) < 0)
        return -1;
    char merr[NG_ERRLEN];
    if (ng_plan_memory(t, p, mem, merr, sizeof(merr)) < 0) {
        /* A tier this node lacks: strict refuses, the other modes keep
         * local memory and say so. */
        if (mode == NG_MODE_STRICT) {
            ng_plan_free(p);
            return ng_err(err, errlen, "%s", merr);
        }
        if (warn && warnlen)
            snprintf(warn, warnlen, "%s; keeping local memory", merr);
    }
    return 0;
}

