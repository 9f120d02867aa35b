/* The user's CPU requests besides the GPU, by name and as Slurm exports
 * them to a task (see private/cpuopt.h; which release exports which
 * variable: contrib/docs/slurm-releases.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/cpuopt.h"
#include "private/util.h"

static const char *const smt_names[] = { "auto", "1", "all" };
static const char *const scope_names[] = { "node", "package" };

int ng_smt_parse(const char *s, ng_smt *out)
{
    int i = ng_enum_parse(smt_names, NG_NAMES_N(smt_names), s);
    if (i >= 0)
        *out = (ng_smt)i;
    return i < 0 ? -1 : 0;
}

const char *ng_smt_name(ng_smt s)
{
    return ng_enum_name(smt_names, NG_NAMES_N(smt_names), (int)s);
}

int ng_cpu_scope_parse(const char *s, ng_cpu_scope *out)
{
    int i = ng_enum_parse(scope_names, NG_NAMES_N(scope_names), s);
    if (i >= 0)
        *out = (ng_cpu_scope)i;
    return i < 0 ? -1 : 0;
}

const char *ng_cpu_scope_name(ng_cpu_scope s)
{
    return ng_enum_name(scope_names, NG_NAMES_N(scope_names), (int)s);
}

/* A decimal count lo..hi in a variable; 0 when unset or empty. */
static int env_count(ng_getenv_fn fn, void *ctx, const char *name, long lo, long hi, int *out,
                     char *err, size_t errlen)
{
    const char *v = fn ? fn(name, ctx) : NULL;
    *out = 0;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return ng_err(err, errlen, "%s='%.32s' is not a count %ld..%ld", name, v, lo, hi);
    *out = (int)n;
    return 0;
}

/* SLURM_HINT holds srun's --hint value(s), comma separated. */
static int hint_has(const char *hint, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = hint; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, word, n))
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int ng_cpuopt_from_env(ng_smt smt, ng_cpu_scope scope, int cpus_per_task, ng_getenv_fn fn,
                       void *ctx, ng_cpuopt *out, char *err, size_t errlen)
{
    ng_cpuopt o;
    memset(&o, 0, sizeof(o));
    o.scope = scope;
    if (cpus_per_task > 0)
        o.cpus_per_task = cpus_per_task;
    else if (env_count(fn, ctx, "SLURM_CPUS_PER_TASK", 1, NG_MAX_CPUS_PER_TASK,
                       &o.cpus_per_task, err, errlen) < 0)
        return -1;
    if (smt == NG_SMT_ONE) {
        o.threads_per_core = 1;
        snprintf(o.why, sizeof(o.why), "smt 1");
    } else if (smt == NG_SMT_AUTO) {
        int tpc = 0;
        const char *hint = fn ? fn("SLURM_HINT", ctx) : NULL;
        if (env_count(fn, ctx, "SLURM_THREADS_PER_CORE", 1, NG_MAX_THREADS_PER_CORE, &tpc, err,
                      errlen) < 0)
            return -1;
        if (hint && hint_has(hint, "nomultithread")) {
            o.threads_per_core = 1;
            snprintf(o.why, sizeof(o.why), "hint nomultithread");
        } else if (tpc > 0) {
            o.threads_per_core = tpc;
            snprintf(o.why, sizeof(o.why), "threads per core %d", tpc);
        }
        o.from_slurm = o.threads_per_core > 0;
    }
    *out = o;
    return 0;
}

int ng_cpu_bind_verbose(ng_getenv_fn fn, void *ctx)
{
    const char *v = fn ? fn("SLURM_CPU_BIND_VERBOSE", ctx) : NULL;
    if (v && !strcmp(v, "verbose"))
        return 1;
    return hint_has(fn ? fn("SLURM_CPU_BIND", ctx) : NULL, "verbose");
}

int ng_cpu_bind_line(const char *host, unsigned gtid, unsigned ltid, unsigned pid,
                     hwloc_const_bitmap_t cpus, char *buf, size_t len)
{
    /* Slurm's task_cpuset_to_str: lowercase hex, no leading zeros, "0"
     * for an empty mask. */
    int last = cpus ? hwloc_bitmap_last(cpus) : -1;
    size_t nd = last < 0 ? 1 : (size_t)last / 4 + 1;
    char *hex = malloc(nd + 1);
    if (!hex)
        return -1;
    for (size_t d = 0; d < nd; d++) {
        unsigned v = 0, base = (unsigned)(nd - 1 - d) * 4;
        for (unsigned b = 0; b < 4 && last >= 0; b++)
            if (hwloc_bitmap_isset(cpus, base + b))
                v |= 1u << b;
        hex[d] = "0123456789abcdef"[v];
    }
    hex[nd] = '\0';
    int n = snprintf(buf, len, "cpu-bind=NUMA-GPU - %s, task %2u %2u [%u]: mask 0x%s set",
                     host ? host : "?", gtid, ltid, pid, hex);
    free(hex);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void ng_cpuopt_slurm_mask(ng_cpuopt *co, const ng_topo *t, hwloc_const_bitmap_t mask)
{
    if (!co || !co->from_slurm || co->threads_per_core <= 0 || !t || !mask ||
        hwloc_bitmap_iszero(mask))
        return;
    hwloc_topology_t h = ng_topo_hwloc(t);
    hwloc_bitmap_t x = hwloc_bitmap_alloc();
    hwloc_obj_t c = NULL;
    int wider = 0;
    while (x && !wider && (c = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, c))) {
        hwloc_bitmap_and(x, c->cpuset, mask);
        wider = hwloc_bitmap_weight(x) > co->threads_per_core;
    }
    hwloc_bitmap_free(x);
    if (wider) {
        co->threads_per_core = 0;
        co->from_slurm = 0;
    }
}
