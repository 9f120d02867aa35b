/* The home GPU among the GPUs a task sees (see private/visible.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/visible.h"
#include "private/util.h"

static const char *const names[] = { "keep", "all", "own" };

int ng_visible_parse(const char *s, ng_visible *out)
{
    int i = ng_enum_parse(names, NG_NAMES_N(names), s);
    if (i >= 0)
        *out = (ng_visible)i;
    return i < 0 ? -1 : 0;
}

const char *ng_visible_name(ng_visible v)
{
    return ng_enum_name(names, NG_NAMES_N(names), (int)v);
}

/* The order positions are listed in for mode: home first, then (all) the
 * peers by PCI bus id. Returns how many. */
static int order_of(const ng_step *st, ng_visible mode, int *ord)
{
    int n = 0;
    for (int j = st->home_from; j < st->home_from + st->home_cnt; j++)
        ord[n++] = j;
    if (mode == NG_VISIBLE_OWN)
        return n;
    if (mode == NG_VISIBLE_KEEP) {
        for (int j = 0; j < st->nvisible; j++)
            ord[j] = j;
        return st->nvisible;
    }
    int first = n;
    for (int j = 0; j < st->nvisible; j++)
        if (j < st->home_from || j >= st->home_from + st->home_cnt) {
            int k = n++;
            while (k > first && strcmp(st->visible[ord[k - 1]], st->visible[j]) > 0) {
                ord[k] = ord[k - 1];
                k--;
            }
            ord[k] = j;
        }
    return n;
}

int ng_visible_value(const ng_step *st, ng_visible mode, const char *value, char *out,
                     size_t len, char *why, size_t whylen)
{
    int n = 1;
    for (const char *p = value; p && *p; p++)
        n += *p == ',';
    if (!value || !*value || n != st->nvisible || st->nvisible <= 0)
        return ng_err(why, whylen, "lists %d id(s), the task has %d GPU(s)",
                      value && *value ? n : 0, st->nvisible);
    char *copy = strdup(value);
    const char **tok = calloc((size_t)n, sizeof(*tok));
    int *ord = calloc((size_t)n, sizeof(int));
    if (!copy || !tok || !ord) {
        free(copy);
        free(tok);
        free(ord);
        return ng_err(why, whylen, "out of memory");
    }
    int rc = 0, k = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && k < n; t = strtok_r(NULL, ",", &save))
        tok[k++] = t;
    if (k != n)
        rc = ng_err(why, whylen, "has an empty id");
    if (rc == 0) {
        int m = order_of(st, mode, ord);
        size_t u = 0;
        for (int i = 0; i < m && rc == 0; i++) {
            int w = snprintf(out + u, len - u, "%s%s", i ? "," : "", tok[ord[i]]);
            if (w < 0 || (size_t)w >= len - u)
                rc = ng_err(why, whylen, "does not fit %zu bytes", len);
            else
                u += (size_t)w;
        }
    }
    free(copy);
    free(tok);
    free(ord);
    return rc;
}

int ng_visible_apply(const ng_step *st, ng_visible mode, ng_getenv_fn get, ng_setenv_fn set,
                     void *ctx, char *note, size_t notelen)
{
    static const char *const vars[] = { "CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
        "HIP_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "ZE_AFFINITY_MASK" };
    if (note && notelen)
        note[0] = '\0';
    if (!st || st->nvisible <= 0 || st->home_cnt <= 0 || !get || !set)
        return 0;
    int done = 0, ok = 0;
    size_t un = 0;
    for (size_t v = 0; mode != NG_VISIBLE_KEEP && v < sizeof(vars) / sizeof(vars[0]); v++) {
        const char *val = get(vars[v], ctx);
        if (!val)
            continue;
        char out[4096], why[256];
        if (ng_visible_value(st, mode, val, out, sizeof(out), why, sizeof(why)) < 0) {
            if (note && un < notelen)
                un += (size_t)snprintf(note + un, notelen - un, "%s%s='%.64s' %s: left as it is",
                                       un ? "; " : "", vars[v], val, why);
            continue;
        }
        ok++;
        if (strcmp(out, val) && set(vars[v], out, 1, ctx) == 0)
            done++;
    }
    /* The home's positions in what the task now sees (Slurm's order when
     * nothing was rewritten). */
    int moved = mode != NG_VISIBLE_KEEP && ok > 0;
    char home[4096] = "", idx[1024] = "";
    size_t uh = 0, ui = 0;
    for (int i = 0; i < st->home_cnt; i++) {
        uh += (size_t)snprintf(home + uh, uh < sizeof(home) ? sizeof(home) - uh : 0, "%s%s",
                               i ? "," : "", st->visible[st->home_from + i]);
        ui += (size_t)snprintf(idx + ui, ui < sizeof(idx) ? sizeof(idx) - ui : 0, "%s%d",
                               i ? "," : "", moved ? i : st->home_from + i);
    }
    if (uh < sizeof(home) && ui < sizeof(idx)) {
        set("NUMA_GPU_HOME_GPUS", home, 1, ctx);
        set("NUMA_GPU_HOME_INDEX", idx, 1, ctx);
    }
    return done;
}
