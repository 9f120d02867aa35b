/* Which of a step's GPUs Slurm gives each local task: a mirror of Slurm's GRES
 * binding (src/interfaces/gres.c, _get_usable_gres and helpers, 22.05-26.05),
 * computed from step-wide facts only, so every task of a node computes the
 * same rows. A task's own environment cannot tell this under ConstrainDevices
 * (every task sees index 0), so it is only used to cross-check. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/assign.h"
#include "private/util.h"

#define MAX_GRES 4096   /* GRES indexes per node we accept */

void ng_assignment_free(ng_assignment *a)
{
    for (int i = 0; a->gres && i < a->ntasks; i++)
        free(a->gres[i]);
    free(a->gres);
    free(a->n);
    memset(a, 0, sizeof(*a));
}

/* The gpu part of a tres bind string, as the release reads it. 23.11 and
 * later (src/interfaces/gres.c, _get_usable_gres: "gres/<plugin>:" per
 * '+'-separated GRES): "gres/gpu:map_gpu:1,0+gres/nic:closest". 22.05 and
 * 23.02 (_parse_tres_bind: the first "gpu:" anywhere): "gpu:map_gpu:1,0".
 * *shared_bind is set when a shared GRES (shard, mps) is bound per task:
 * from 23.11 that picks GPUs by shard counts this mirror does not have
 * (_get_shared_gres_per_task). NULL when the string binds no GPU. */
static const char *gpu_part(const char *bind, unsigned rel, char *buf, size_t len,
                            int *shared_bind)
{
    *shared_bind = 0;
    if (rel && rel < NG_RELEASE(23, 11, 0)) {
        const char *g = strstr(bind, "gpu:");
        if (!g || strlen(g + 4) >= len)
            return NULL;
        snprintf(buf, len, "%s", g + 4);
        char *s = buf;
        if (!strncmp(s, "verbose,", 8))
            s += 8;
        return s;
    }
    const char *found = NULL;
    for (const char *p = bind; p && *p;) {
        size_t n = strcspn(p, "+");
        const char *s = p;
        if (!strncmp(s, "gres/", 5))
            s += 5;
        if (!found && !strncmp(s, "gpu:", 4) && n < len) {
            memcpy(buf, p, n);
            buf[n] = '\0';
            found = buf + (s - p) + 4;
            if (!strncasecmp(found, "verbose,", 8))
                found += 8;
        } else if (!strncmp(s, "shard:", 6) || !strncmp(s, "mps:", 4)) {
            const char *m = strchr(s, ':') + 1;
            if (!strncasecmp(m, "verbose,", 8))
                m += 8;
            if (!strncasecmp(m, "per_task:", 9))
                *shared_bind = 1;
        }
        p += n;
        if (*p)
            p++;
    }
    return found;
}

/* A strictly checked non-negative number (base 0 like Slurm's strtol). */
static int parse_num(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!isdigit((unsigned char)tmp[0]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tmp, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int in_step(const ng_assign_in *in, unsigned g)
{
    for (int i = 0; i < in->ngres; i++)
        if (in->gres[i] == g)
            return 1;
    return 0;
}

/* Set of node GRES indexes as a bitmap (hwloc bitmaps are handy sets). */
static hwloc_bitmap_t step_set(const ng_assign_in *in)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    for (int i = 0; b && i < in->ngres; i++)
        hwloc_bitmap_set(b, in->gres[i]);
    return b;
}

/* gres.conf Cores= of GRES g overlaps the task's cpus (no Cores, or unknown
 * task cpus: every GRES is "close", as in Slurm). */
static int close_to(const ng_assign_in *in, unsigned g, int task)
{
    if (!in->gres_cpus || (int)g >= in->ngres_cpus || !in->gres_cpus[g])
        return 1;
    if (!in->task_cpus || !in->task_cpus[task])
        return 1;
    return hwloc_bitmap_intersects(in->gres_cpus[g], in->task_cpus[task]);
}

/* map/mask lists: entry for task t, "*N" repeats, the list is reused
 * cyclically. Returns the entry text in tok. */
/* Repetition count of one entry ("3*4" -> 4), 1 when absent or 0. */
static int entry_mult(const char *p, size_t n, unsigned long long *mult)
{
    const char *star = memchr(p, '*', n);
    *mult = 1;
    if (star && parse_num(star + 1, n - (size_t)(star + 1 - p), 1u << 20, mult) < 0)
        return -1;
    if (*mult == 0)
        *mult = 1;   /* Slurm: "Repetition count of 0 not allowed ... using 1" */
    return 0;
}

static int list_entry(const char *list, int task, char *tok, size_t len, char *err, size_t errlen)
{
    unsigned long long total = 0, mult;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (entry_mult(p, n, &mult) < 0)
            return ng_err(err, errlen, "bad repetition in '%.*s' (expected ID*COUNT)", (int)n, p);
        total += mult;
        p += n + (p[n] != '\0');
    }
    if (total == 0)
        return ng_err(err, errlen, "empty list");
    unsigned long long want = (unsigned long long)task % total, at = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        entry_mult(p, n, &mult);
        if (want < at + mult) {
            const char *star = memchr(p, '*', n);
            size_t vn = star ? (size_t)(star - p) : n;
            if (vn >= len)
                return ng_err(err, errlen, "entry '%.*s' is too long", (int)n, p);
            memcpy(tok, p, vn);
            tok[vn] = '\0';
            return 0;
        }
        at += mult;
        p += n + (p[n] != '\0');
    }
    return ng_err(err, errlen, "no entry for task %d", task);
}

/* map_gpu/mask_gpu for one task into row (node GRES indexes). */
static int map_or_mask(const ng_assign_in *in, const char *list, int is_map, int task,
                       hwloc_bitmap_t row, char *err, size_t errlen)
{
    char tok[64];
    unsigned long long v;
    if (list_entry(list, task, tok, sizeof(tok), err, errlen) < 0)
        return -1;
    if (parse_num(tok, strlen(tok), is_map ? MAX_GRES - 1 : ~0ull, &v) < 0 || (!is_map && v == 0))
        return ng_err(err, errlen, "'%s' is not a GPU %s", tok, is_map ? "index" : "mask");
    hwloc_bitmap_t ids = hwloc_bitmap_alloc();
    if (is_map)
        hwloc_bitmap_set(ids, (unsigned)v);
    else
        for (unsigned b = 0; b < 64; b++)
            if (v >> b & 1)
                hwloc_bitmap_set(ids, b);
    /* ConstrainDevices: ids are positions among the step's GPUs; otherwise
     * node indexes, of which only the step's count. */
    for (int i = 0; i < in->ngres; i++)
        if (in->local_index ? hwloc_bitmap_isset(ids, (unsigned)i)
                            : hwloc_bitmap_isset(ids, in->gres[i]))
            hwloc_bitmap_set(row, in->gres[i]);
    hwloc_bitmap_free(ids);
    return 0;
}

/* per_task:N (--gpus-per-task): tasks in order take N GPUs, close ones first,
 * then any left, lowest index first (_get_gres_per_task). */
static void per_task(const ng_assign_in *in, unsigned long long k, hwloc_bitmap_t *rows)
{
    hwloc_bitmap_t avail = step_set(in);
    for (int t = 0; t < in->ntasks; t++) {
        unsigned long long need = k;
        for (int pass = 0; pass < 2; pass++)
            for (int g = hwloc_bitmap_first(avail); g >= 0 && need > 0;
                 g = hwloc_bitmap_next(avail, g)) {
                if (pass == 0 && !close_to(in, (unsigned)g, t))
                    continue;
                hwloc_bitmap_clr(avail, (unsigned)g);
                hwloc_bitmap_set(rows[t], (unsigned)g);
                need--;
            }
    }
    hwloc_bitmap_free(avail);
}

/* Slurm 22.05 rules (src/common/gres.c of 22.05.8): per_task:N takes the
 * task's chunk of the step's GPUs in index order, whatever its cpus; single:N
 * takes GPU (task / N) mod count among the GPUs close to the task's cpus. */
static void per_task_2205(const ng_assign_in *in, unsigned long long k, hwloc_bitmap_t *rows)
{
    for (int t = 0; t < in->ntasks; t++)
        for (unsigned long long j = (unsigned long long)t * k; j < (unsigned long long)(t + 1) * k; j++)
            if (j < (unsigned long long)in->ngres)
                hwloc_bitmap_set(rows[t], in->gres[j]);
}

static void single_2205(const ng_assign_in *in, unsigned long long per, hwloc_bitmap_t *rows)
{
    for (int t = 0; t < in->ntasks; t++) {
        unsigned nc = 0;
        for (int i = 0; i < in->ngres; i++)
            nc += close_to(in, in->gres[i], t) != 0;
        if (nc == 0)
            continue;          /* Slurm then binds the first GPU */
        unsigned want = nc == 1 ? 0 : (unsigned)(((unsigned long long)t / per) % nc);
        for (int i = 0; i < in->ngres; i++)
            if (close_to(in, in->gres[i], t) && want-- == 0) {
                hwloc_bitmap_set(rows[t], in->gres[i]);
                break;
            }
    }
}

/* single:N (--ntasks-per-gpu): N task slots per GPU; each task in order takes
 * a free slot of the GPU whose Cores contain its cpus, else one they
 * overlap, else the first free (_get_single_usable_gres). */
static void single(const ng_assign_in *in, unsigned long long per, hwloc_bitmap_t *rows)
{
    if (in->ngres <= 1) {
        for (int t = 0; t < in->ntasks; t++)
            for (int i = 0; i < in->ngres; i++)
                hwloc_bitmap_set(rows[t], in->gres[i]);
        return;
    }
    unsigned max = 0;
    for (int i = 0; i < in->ngres; i++)
        if (in->gres[i] > max)
            max = in->gres[i];
    unsigned long long *left = calloc(max + 1, sizeof(*left));
    if (!left)
        return;
    for (int i = 0; i < in->ngres; i++)
        left[in->gres[i]] = per;
    for (int t = 0; t < in->ntasks; t++) {
        int best = -1, overlap = 0;
        for (unsigned g = 0; g <= max; g++) {
            if (!left[g])
                continue;
            int has_cores = in->gres_cpus && (int)g < in->ngres_cpus && in->gres_cpus[g];
            if (has_cores && in->task_cpus && in->task_cpus[t]) {
                if (hwloc_bitmap_isincluded(in->task_cpus[t], in->gres_cpus[g])) {
                    best = (int)g;
                    break;
                }
                if (overlap)
                    continue;
                if (hwloc_bitmap_intersects(in->task_cpus[t], in->gres_cpus[g])) {
                    best = (int)g;
                    overlap = 1;
                    continue;
                }
            } else if (has_cores && (!in->task_cpus || !in->task_cpus[t])) {
                /* unknown task cpus count as all cpus: super set only if
                 * Cores cover them, which we cannot tell; take as overlap. */
                if (!overlap) {
                    best = (int)g;
                    overlap = 1;
                }
                continue;
            }
            if (best < 0)
                best = (int)g;
        }
        if (best >= 0) {
            left[best]--;
            hwloc_bitmap_set(rows[t], (unsigned)best);
        } else {   /* Slurm: "Can't find free slot ... block distribution" */
            hwloc_bitmap_set(rows[t], in->gres[t % in->ngres]);
        }
    }
    free(left);
}

/* single:N on 23.02.0-23.02.3 (src/interfaces/gres.c of 23.02.3,
 * _get_single_usable_gres: _assign_gres_to_task(task_cpu_set, ...) inside
 * the replay loop): every replayed task 0..t uses task t's cpus, so they all
 * scan the GPUs in the same order: the slots of GPUs whose Cores contain
 * those cpus, then of the first overlapping GPUs, then the rest, each in
 * index order; task t takes slot t. Out of slots: 23.02.2-3 fall back to
 * GPU t mod count (151f7621d8); 23.02.0-1 clear bit -1 (undefined), which
 * makes *undefined true. */
static void single_2302_early(const ng_assign_in *in, unsigned long long per, hwloc_bitmap_t *rows,
                              int *undefined)
{
    if (in->ngres <= 1) {
        single(in, per, rows);
        return;
    }
    for (int t = 0; t < in->ntasks; t++) {
        unsigned long long pos = (unsigned long long)t, seen = 0;
        int pick = -1;
        for (int cls = 0; cls < 3 && pick < 0; cls++)
            for (int i = 0; i < in->ngres && pick < 0; i++) {
                unsigned g = in->gres[i];
                int has_cores = in->gres_cpus && (int)g < in->ngres_cpus && in->gres_cpus[g];
                int known = in->task_cpus && in->task_cpus[t];
                int c = 2;
                if (has_cores && known)
                    c = hwloc_bitmap_isincluded(in->task_cpus[t], in->gres_cpus[g]) ? 0
                        : hwloc_bitmap_intersects(in->task_cpus[t], in->gres_cpus[g]) ? 1 : 2;
                else if (has_cores)
                    c = 1;
                if (c != cls)
                    continue;
                if (pos < seen + per)
                    pick = (int)g;
                seen += per;
            }
        if (pick < 0) {
            if (in->release < NG_RELEASE(23, 2, 2))
                *undefined = 1;
            pick = (int)in->gres[t % in->ngres];
        }
        hwloc_bitmap_set(rows[t], (unsigned)pick);
    }
}

int ng_assign(const ng_assign_in *in, ng_assignment *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (in->ntasks < 1 || in->ntasks > 65536)
        return ng_err(err, errlen, "%d local tasks (expected 1..65536)", in->ntasks);
    if (in->ngres < 0 || in->ngres > MAX_GRES)
        return ng_err(err, errlen, "%d step GPUs (at most %d)", in->ngres, MAX_GRES);
    for (int i = 0; i < in->ngres; i++)
        if (in->gres[i] >= MAX_GRES || (i && in->gres[i] <= in->gres[i - 1]))
            return ng_err(err, errlen, "step GPU list is not ascending GRES indexes below %d",
                          MAX_GRES);
    char buf[1024];
    unsigned rel = in->release;
    int shared_bind = 0, undefined = 0;
    const char *b = in->bind && *in->bind ? gpu_part(in->bind, rel, buf, sizeof(buf),
                                                     &shared_bind) : NULL;
    int old = rel && rel < NG_RELEASE(23, 11, 0);   /* 22.05, 23.02: _parse_tres_bind */
    hwloc_bitmap_t *rows = calloc((size_t)in->ntasks, sizeof(*rows));
    if (!rows)
        return ng_err(err, errlen, "out of memory");
    for (int t = 0; t < in->ntasks; t++)
        if (!(rows[t] = hwloc_bitmap_alloc())) {
            for (int u = 0; u < t; u++)
                hwloc_bitmap_free(rows[u]);
            free(rows);
            return ng_err(err, errlen, "out of memory");
        }
    int rc = 0;
    unsigned long long k = 0;
    char e[NG_ERRLEN] = "", relbuf[24];
    const char *how = "no per-task binding: every task has all the step's GPUs";
    int is_map = b && (!strncasecmp(b, "map_gpu:", 8) || (!old && !strncasecmp(b, "map:", 4)));
    int is_mask = b && (!strncasecmp(b, "mask_gpu:", 9) || (!old && !strncasecmp(b, "mask:", 5)));
    int is_per_task = b && !strncasecmp(b, "per_task:", 9);
    /* per_task:TYPE:N (typed --gpus-per-task on 22.05 and 23.02) reads as 0
     * (strtoul) and binds nothing there. From 23.11 a count of 0 selects no
     * GPU, so every task gets the step's first (_get_usable_gres: "Binding
     * to the first device"). */
    int per_task_zero = is_per_task && (parse_num(b + 9, strlen(b + 9), ~0ull, &k) < 0 || k == 0);
    if (per_task_zero && !old) {
        for (int t = 0; t < in->ntasks; t++)
            if (in->ngres > 0)
                hwloc_bitmap_set(rows[t], in->gres[0]);
        out->fallback = in->ngres > 0;
        snprintf(e, sizeof(e), "per_task:%.64s is not a GPU count: Slurm %s gives every task "
                 "the step's first GPU", b + 9, ng_release_str(rel, relbuf, sizeof(relbuf)));
        how = e;
        is_per_task = 0;
    } else if (per_task_zero) {
        is_per_task = 0;
        snprintf(e, sizeof(e), "per_task:%.64s is not a GPU count, so Slurm %s binds nothing",
                 b + 9, ng_release_str(rel, relbuf, sizeof(relbuf)));
        how = e;
        b = NULL;
    }
    if (b && !out->fallback && !is_map && !is_mask && !is_per_task && strncasecmp(b, "single:", 7) &&
        strncasecmp(b, "closest", 7) && strncasecmp(b, "none", 4)) {
        /* 22.05/23.02 ignore what they do not know; 23.11+ fail the task's
         * binding (SLURM_ERROR): no per-task env, no per-task devices. */
        snprintf(e, sizeof(e), "unknown GPU binding '%.64s': Slurm %s binds nothing", b,
                 ng_release_str(rel, relbuf, sizeof(relbuf)));
        how = e;
        b = NULL;
    }
    if (!b && shared_bind) {
        /* --tres-per-task=gres/shard:N (or mps): Slurm picks each task's GPU
         * from shard counts; only the task's own view can tell. */
        out->unknown = 1;
        how = "shared GRES (shard/mps) bound per task: GPUs picked by shard counts";
    }
    if (out->fallback) {
        /* rows set above */
    } else if (!b || !strncasecmp(b, "none", 4)) {
        out->shared = !out->unknown;
        for (int t = 0; t < in->ntasks; t++)
            for (int i = 0; i < in->ngres; i++)
                hwloc_bitmap_set(rows[t], in->gres[i]);
        if (b)
            how = "gpu-bind=none: every task has all the step's GPUs";
    } else if (is_map || is_mask) {
        const char *list = strchr(b, ':') + 1;
        for (int t = 0; rc == 0 && t < in->ntasks; t++)
            rc = map_or_mask(in, list, is_map, t, rows[t], e, sizeof(e));
        how = in->local_index ? "ids relative to the step's GPUs (ConstrainDevices)"
                              : "ids are node GRES indexes";
        /* Up to 24.11.4 the task env under ConstrainDevices ANDs the step
         * positions with global ids (1512ccd042 / 284af4264a fixed it). */
        out->mask_env_differs = is_mask && in->local_index &&
                                (rel && rel < NG_RELEASE(24, 11, 5));
    } else if (is_per_task) {
        if (k > MAX_GRES)
            k = MAX_GRES;
        /* Index order up to 23.02.x; closest first from 23.11.0 (675237ff71,
         * src/interfaces/gres.c _get_gres_per_task). */
        if (old)
            per_task_2205(in, k, rows);
        else
            per_task(in, k, rows);
        how = old ? "per task, GPUs in index order" : "per task, GPUs close to the task's cpus first";
    } else if (!strncasecmp(b, "single:", 7)) {
        /* strtol, and a count below 1 is 1 (_parse_tres_bind, _get_usable_gres) */
        if (parse_num(b + 7, strlen(b + 7), 65536, &k) < 0 || k == 0)
            k = 1;
        if (rel && rel < NG_RELEASE(23, 2, 0))
            single_2205(in, k, rows);
        else if (rel && rel < NG_RELEASE(23, 2, 4))
            single_2302_early(in, k, rows, &undefined);
        else
            single(in, k, rows);
        how = "one GPU per task, close to the task's cpus";
        if (undefined) {   /* NEWS 23.02.2: "Fix --gpu-bind=single ... crash" */
            out->unknown = 1;
            how = "single: more tasks than GPU slots, which Slurm 23.02.0-1 does not define";
        }
    } else {   /* closest: _get_closest_usable_gres, the same in every release */
        for (int t = 0; t < in->ntasks; t++)
            for (int i = 0; i < in->ngres; i++)
                if (close_to(in, in->gres[i], t))
                    hwloc_bitmap_set(rows[t], in->gres[i]);
        how = "the step's GPUs close to the task's cpus";
    }
    if (rc == 0) {
        out->ntasks = in->ntasks;
        out->n = calloc((size_t)in->ntasks, sizeof(int));
        out->gres = calloc((size_t)in->ntasks, sizeof(unsigned *));
        if (!out->n || !out->gres) {
            ng_err(e, sizeof(e), "out of memory");
            rc = -1;
        }
    }
    for (int t = 0; rc == 0 && t < in->ntasks; t++) {
        /* Slurm: a binding naming no GPU of the step gets the first one. */
        if (hwloc_bitmap_iszero(rows[t]) && in->ngres > 0) {
            hwloc_bitmap_set(rows[t], in->gres[0]);
            out->fallback = 1;
        }
        int n = hwloc_bitmap_weight(rows[t]), j = 0;
        unsigned g;
        out->gres[t] = calloc((size_t)(n > 0 ? n : 1), sizeof(unsigned));
        if (!out->gres[t]) {
            rc = ng_err(e, sizeof(e), "out of memory");
            break;
        }
        hwloc_bitmap_foreach_begin(g, rows[t]) {
            if (in_step(in, g))
                out->gres[t][j++] = g;
        } hwloc_bitmap_foreach_end();
        out->n[t] = j;
    }
    /* Every task got every GPU of the step (closest without Cores=, a
     * single-GPU step): the same as no per-task binding. */
    if (rc == 0 && !out->shared && in->ngres > 1) {
        int all = 1;
        for (int t = 0; all && t < in->ntasks; t++)
            all = out->n[t] == in->ngres;
        out->shared = all;
    }
    for (int t = 0; t < in->ntasks; t++)
        hwloc_bitmap_free(rows[t]);
    free(rows);
    if (rc < 0) {
        out->ntasks = in->ntasks;
        ng_assignment_free(out);
        return ng_err(err, errlen, "GPU binding '%s': %s", in->bind ? in->bind : "", e);
    }
    snprintf(out->how, sizeof(out->how), "%.64s%s%.160s", b ? b : "none", b ? ": " : " (", how);
    if (!b)
        strncat(out->how, ")", sizeof(out->how) - strlen(out->how) - 1);
    return 0;
}

/* One hex mask of any length into set: bit i of the number sets member i
 * (Slurm's task_str_to_cpuset and mask_ldom loop; "0x" optional). */
static int hex_mask(const char *p, size_t len, hwloc_bitmap_t set, char *err, size_t errlen)
{
    const char *s = p;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return ng_err(err, errlen, "empty mask in cpu bind list");
    for (size_t d = 0; d < len; d++) {
        char c = s[len - 1 - d];
        if (!isxdigit((unsigned char)c))
            return ng_err(err, errlen, "bad mask '%.*s' in cpu bind list", (int)len, s);
        int v = isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
        for (int bit = 0; bit < 4; bit++)
            if (v >> bit & 1)
                hwloc_bitmap_set(set, (unsigned)(d * 4 + (size_t)bit));
    }
    return 0;
}

/* A map entry as get_cpuset reads it: "0x" hex, else decimal (never
 * octal: "010" is 10). */
static int map_entry(const char *p, size_t len, unsigned long long *v)
{
    char tmp[32];
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    int hex = len > 2 && tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X');
    const char *d = tmp + (hex ? 2 : 0);
    if (!*d || strspn(d, hex ? "0123456789abcdefABCDEF" : "0123456789") != strlen(d))
        return -1;
    errno = 0;
    *v = strtoull(d, NULL, hex ? 16 : 10);
    return errno || *v > (1u << 20) ? -1 : 0;
}

/* The locality domain ldom as _bind_ldom takes it: NUMA node ldom mod
 * (highest node + 1), by OS index. */
static void ldom_cpus(unsigned long long ldom, hwloc_const_bitmap_t const *node_cpus, int nnodes,
                      hwloc_bitmap_t set)
{
    if (nnodes <= 0)
        return;
    unsigned long long n = ldom % (unsigned long long)nnodes;
    if (node_cpus[n])
        hwloc_bitmap_or(set, set, node_cpus[n]);
}

/* Slurm's task cpus (task/affinity get_cpuset) from SLURM_CPU_BIND_TYPE
 * ("mask_cpu:", "map_cpu:", "map_ldom:", "mask_ldom:", "rank_ldom", maybe
 * after "cores," and the like) and SLURM_CPU_BIND_LIST: entry t mod len for
 * task t. node_cpus[i]: the cpus of NUMA node OS index i (NULL: none), for
 * the ldom forms. */
int ng_cpu_bind_list(const char *type, const char *list, int ntasks, hwloc_bitmap_t *sets,
                     hwloc_const_bitmap_t const *node_cpus, int nnodes, char *err, size_t errlen)
{
    const char *ty = type ? strrchr(type, ',') : NULL;
    ty = ty ? ty + 1 : type ? type : "";
    int is_mask = !strncmp(ty, "mask_cpu", 8), is_map = !strncmp(ty, "map_cpu", 7);
    int ld_mask = !strncmp(ty, "mask_ldom", 9), ld_map = !strncmp(ty, "map_ldom", 8);
    int ld_rank = !strcmp(ty, "rank_ldom");
    if ((ld_mask || ld_map || ld_rank) && (!node_cpus || nnodes <= 0))
        return ng_err(err, errlen, "cpu binding '%s' needs the node's NUMA nodes", ty);
    if (ld_rank) {
        for (int t = 0; t < ntasks; t++) {
            hwloc_bitmap_zero(sets[t]);
            ldom_cpus((unsigned long long)t, node_cpus, nnodes, sets[t]);
        }
        return 0;
    }
    if (!is_mask && !is_map && !ld_mask && !ld_map)
        return ng_err(err, errlen, "cpu binding '%s' lists no cpus per task", type ? type : "");
    /* Slurm exports lists up to its MAX_ENV_STRLEN (128 KiB) */
    if (!list || !*list || strlen(list) > 131072)
        return ng_err(err, errlen, "empty or oversized cpu bind list");
    int n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    for (int t = 0; t < ntasks; t++) {
        int want = t % n, i = 0;
        const char *p = list;
        while (i < want) {
            p = strchr(p, ',') + 1;
            i++;
        }
        size_t len = strcspn(p, ",");
        hwloc_bitmap_zero(sets[t]);
        unsigned long long v;
        if (is_map || ld_map) {
            if (map_entry(p, len, &v) < 0)
                return ng_err(err, errlen, "bad %s id '%.*s' in cpu bind list",
                              is_map ? "cpu" : "ldom", (int)len, p);
            if (is_map)
                hwloc_bitmap_set(sets[t], (unsigned)v);
            else
                ldom_cpus(v, node_cpus, nnodes, sets[t]);
            continue;
        }
        if (is_mask) {
            if (hex_mask(p, len, sets[t], err, errlen) < 0)
                return -1;
            continue;
        }
        hwloc_bitmap_t ld = hwloc_bitmap_alloc();   /* mask_ldom: a mask of ldoms */
        if (!ld || hex_mask(p, len, ld, err, errlen) < 0) {
            hwloc_bitmap_free(ld);
            return ld ? -1 : ng_err(err, errlen, "out of memory");
        }
        unsigned d;
        hwloc_bitmap_foreach_begin(d, ld) {
            if (d > 4096)
                break;
            ldom_cpus(d, node_cpus, nnodes, sets[t]);
        } hwloc_bitmap_foreach_end();
        hwloc_bitmap_free(ld);
    }
    return 0;
}

int ng_release_parse(const char *s, unsigned *release, char *err, size_t errlen)
{
    unsigned long long v[3] = { 0, 0, 0 };
    int n = 0;
    const char *p = s ? s : "";
    while (n < 3) {
        size_t len = strspn(p, "0123456789");
        if (len == 0 || len > 3 || parse_num(p, len, 255, &v[n]) < 0)
            break;
        p += len;
        n++;
        if (*p != '.')
            break;
        p++;
    }
    if (n < 2 || *p || v[0] < 22 || v[0] > 99)
        return ng_err(err, errlen, "Slurm release '%.32s' (expected MAJOR.MINOR[.MICRO] from "
                      "22.05 on, e.g. 23.02.4)", s ? s : "");
    *release = NG_RELEASE(v[0], v[1], v[2]);
    return 0;
}

const char *ng_release_str(unsigned release, char *buf, size_t len)
{
    if (!release)
        snprintf(buf, len, "(newest rules)");
    else
        snprintf(buf, len, "%u.%02u.%u", release >> 16, release >> 8 & 255, release & 255);
    return buf;
}
