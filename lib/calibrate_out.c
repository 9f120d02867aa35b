/* What numa-gpu calibrate's numbers say, as pure functions of them: a
 * verdict per GPU against the firmware's locality, the gpu_map text the
 * plugin reads, the node x GPU matrix and JSON lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "private/calibrate.h"
#include "private/gpumap.h"
#include "private/util.h"

const char *ng_cal_verdict_name(ng_cal_verdict v)
{
    switch (v) {
    case NG_CAL_AGREES: return "agrees";
    case NG_CAL_DISAGREES: return "disagrees";
    case NG_CAL_FILLED: return "filled";
    case NG_CAL_TOO_CLOSE: return "too-close";
    default: return "not-enough";
    }
}

void ng_cal_decision_clear(ng_cal_decision *d)
{
    hwloc_bitmap_free(d->firmware);
    hwloc_bitmap_free(d->best);
    hwloc_bitmap_free(d->map);
    d->firmware = d->best = d->map = NULL;
}

int ng_cal_decide(const ng_topo *t, const ng_cal_result *res, int g, double tolerance_pct,
                  ng_cal_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->firmware = hwloc_bitmap_alloc();
    d->best = hwloc_bitmap_alloc();
    d->map = hwloc_bitmap_alloc();
    hwloc_bitmap_t measured = hwloc_bitmap_alloc();
    if (!d->firmware || !d->best || !d->map || !measured) {
        hwloc_bitmap_free(measured);
        ng_cal_decision_clear(d);
        return -1;
    }
    d->worst = -1;
    ng_accel a;
    if (ng_accel_lookup(t, res->gpus[g].busid, &a, NULL, 0) == 0) {
        d->in_topology = 1;
        if (a.locality == NG_LOC_KNOWN)
            hwloc_bitmap_copy(d->firmware, a.nodes);
        ng_accel_clear(&a);
    }
    for (int r = 0; r < res->nrows; r++) {
        size_t k = (size_t)g * (size_t)res->nrows + (size_t)r;
        if (res->rows[r].node < 0 || !res->rows[r].measured || res->h2d[k] <= 0 ||
            res->d2h[k] <= 0)
            continue;
        double s = (res->h2d[k] + res->d2h[k]) / 2;
        if (hwloc_bitmap_iszero(measured) || s > d->best_score)
            d->best_score = s;
        if (hwloc_bitmap_iszero(measured) || s < d->worst_score) {
            d->worst_score = s;
            d->worst = res->rows[r].node;
        }
        hwloc_bitmap_set(measured, (unsigned)res->rows[r].node);
    }
    for (int r = 0; r < res->nrows; r++) {
        size_t k = (size_t)g * (size_t)res->nrows + (size_t)r;
        if (res->rows[r].node >= 0 && hwloc_bitmap_isset(measured, (unsigned)res->rows[r].node)
            && (res->h2d[k] + res->d2h[k]) / 2 >= d->best_score * (1 - tolerance_pct / 100))
            hwloc_bitmap_set(d->best, (unsigned)res->rows[r].node);
    }
    int known = !hwloc_bitmap_iszero(d->firmware);
    if (hwloc_bitmap_weight(measured) < 2 ||
        (known && !hwloc_bitmap_intersects(d->firmware, measured)))
        d->verdict = NG_CAL_NOT_ENOUGH;        /* nothing, or not the firmware's node */
    else if (hwloc_bitmap_isequal(d->best, measured))
        d->verdict = NG_CAL_TOO_CLOSE;
    else if (!known)
        d->verdict = NG_CAL_FILLED;
    else if (hwloc_bitmap_intersects(d->firmware, d->best))
        d->verdict = NG_CAL_AGREES;
    else
        d->verdict = NG_CAL_DISAGREES;
    if (d->verdict == NG_CAL_AGREES)
        hwloc_bitmap_and(d->map, d->firmware, d->best);
    else if (d->verdict == NG_CAL_DISAGREES || d->verdict == NG_CAL_FILLED)
        hwloc_bitmap_copy(d->map, d->best);
    hwloc_bitmap_free(measured);
    return 0;
}

/* Marks the comment lines calibrate writes, so a rewrite replaces them. */
#define MAP_MARK "# numa-gpu calibrate:"

static double at(const double *v, const ng_cal_result *r, int g, int row)
{
    return v[(size_t)g * (size_t)r->nrows + (size_t)row];
}

static double score(const ng_cal_result *r, int g, int row)
{
    return (at(r->h2d, r, g, row) + at(r->d2h, r, g, row)) / 2;
}

/* The highest score among the measured rows of nodes in set (0: none). */
static double best_of(const ng_cal_result *r, int g, hwloc_const_bitmap_t set)
{
    double b = 0;
    for (int row = 0; row < r->nrows; row++)
        if (r->rows[row].measured && r->rows[row].node >= 0 &&
            hwloc_bitmap_isset(set, (unsigned)r->rows[row].node) && score(r, g, row) > b)
            b = score(r, g, row);
    return b;
}

static const char *set_or(hwloc_const_bitmap_t b, const char *none, char *buf, size_t len)
{
    if (!b || hwloc_bitmap_iszero(b))
        return none;
    return ng_list_str(b, buf, len);
}

/* One sentence about GPU g. */
static void say_gpu(ng_buf *o, const ng_cal_result *r, int g, const ng_cal_decision *d,
                    double tol)
{
    char fw[256], best[256];
    const char *b = r->gpus[g].busid;
    set_or(d->firmware, "unknown", fw, sizeof(fw));
    set_or(d->best, "-", best, sizeof(best));
    double fws = best_of(r, g, d->firmware);
    switch (d->verdict) {
    case NG_CAL_AGREES:
        ng_buf_add(o, "GPU %s: agrees: nearest node(s) %s (%.2f GB/s) include the firmware's "
                   "%s; the worst, node %d, gives %.2f GB/s (%.2fx less)\n", b, best,
                   d->best_score, fw, d->worst, d->worst_score,
                   d->worst_score > 0 ? d->best_score / d->worst_score : 0);
        break;
    case NG_CAL_DISAGREES:
        ng_buf_add(o, "GPU %s: DISAGREES: the firmware says node %s (%.2f GB/s), but node(s) "
                   "%s give %.2f GB/s (%.2fx more): the firmware's locality is wrong\n", b, fw,
                   fws, best, d->best_score, fws > 0 ? d->best_score / fws : 0);
        break;
    case NG_CAL_FILLED:
        ng_buf_add(o, "GPU %s: FILLED: %s; measured nearest node(s) %s (%.2f GB/s; the "
                   "worst, node %d, %.2fx less)\n", b, d->in_topology ? "the firmware gives "
                   "no locality" : "not in the topology", best,
                   d->best_score, d->worst,
                   d->worst_score > 0 ? d->best_score / d->worst_score : 0);
        break;
    case NG_CAL_TOO_CLOSE:
        ng_buf_add(o, "GPU %s: too close to call: every node within %g%% (%.2f..%.2f GB/s); "
                   "the firmware's %s stands\n", b, tol, d->worst_score, d->best_score, fw);
        break;
    default:
        ng_buf_add(o, "GPU %s: no verdict: fewer than two nodes measured, or not the "
                   "firmware's node %s\n", b, fw);
    }
}

char *ng_cal_table(const ng_topo *t, const ng_cal_result *r, double tol)
{
    ng_buf o = { 0 };
    char nb[256], fw[256], best[256], cpus[256];
    int count[NG_CAL_NOT_ENOUGH + 1] = { 0 };
    ng_buf_add(&o, "runtime: %s\n", r->runtime);
    ng_buf_add(&o, "copies: %zu MiB pinned buffer %s, median of %d per direction; "
               "GB/s = 1e9 bytes/s\n", r->bytes >> 20,
               r->nrows && r->rows[0].node < 0 ? "where this process is placed" : "per node",
               r->repeat);
    ng_buf_add(&o, "topology: %s (FIRMWARE = hwloc's locality, as numa-gpu topo shows it)\n\n",
               ng_topo_source(t));
    ng_buf_add(&o, "%-4s %-13s %-4s", "GPU", "PCI", "DIR");
    for (int row = 0; row < r->nrows; row++) {
        if (r->rows[row].node < 0)
            ng_buf_add(&o, " %9s", "here");
        else
            ng_buf_add(&o, " %9s", (snprintf(nb, sizeof(nb), "node %d", r->rows[row].node), nb));
    }
    ng_buf_add(&o, "  %-9s %-9s %s\n", "FIRMWARE", "MEASURED", "VERDICT");
    for (int g = 0; g < r->ngpus; g++) {
        ng_cal_decision d;
        if (ng_cal_decide(t, r, g, tol, &d) < 0)
            continue;
        count[d.verdict]++;
        for (int dir = 0; dir < 2; dir++) {
            if (dir == 0)
                ng_buf_add(&o, "%-4d %-13s %-4s", r->gpus[g].ordinal, r->gpus[g].busid, "H2D");
            else
                ng_buf_add(&o, "%-4s %-13s %-4s", "", "", "D2H");
            for (int row = 0; row < r->nrows; row++) {
                double v = at(dir ? r->d2h : r->h2d, r, g, row);
                if (r->rows[row].measured)
                    ng_buf_add(&o, " %9.2f", v);
                else
                    ng_buf_add(&o, " %9s", "-");
            }
            if (dir == 0)
                ng_buf_add(&o, "  %-9s %-9s %s", set_or(d.firmware, "unknown", fw, sizeof(fw)),
                           set_or(d.best, "-", best, sizeof(best)),
                           r->rows[0].node < 0 ? "-" : ng_cal_verdict_name(d.verdict));
            ng_buf_add(&o, "\n");
        }
        ng_cal_decision_clear(&d);
    }
    ng_buf_add(&o, "\n");
    for (int row = 0; row < r->nrows; row++) {
        const ng_cal_row *w = &r->rows[row];
        char who[32];
        if (w->node < 0)
            snprintf(who, sizeof(who), "here");
        else
            snprintf(who, sizeof(who), "node %d", w->node);
        if (!w->measured)
            ng_buf_add(&o, "%s: not measured: %s\n", who, w->why);
        else if (w->why[0])
            ng_buf_add(&o, "%s: note: %s\n", who, w->why);
        if (w->measured && w->node < 0)
            ng_buf_add(&o, "here: cpus %s, buffer mostly on node %d\n",
                       ng_list_str(w->cpus, cpus, sizeof(cpus)), w->buffer_node);
    }
    for (int g = 0; g < r->ngpus && r->rows[0].node >= 0; g++) {
        ng_cal_decision d;
        if (ng_cal_decide(t, r, g, tol, &d) == 0) {
            say_gpu(&o, r, g, &d, tol);
            ng_cal_decision_clear(&d);
        }
    }
    if (r->rows[0].node >= 0)
        ng_buf_add(&o, "summary: %d GPU(s): %d agree with the firmware, %d disagree, %d filled "
                   "(no firmware locality), %d too close to call, %d without a verdict\n",
                   r->ngpus, count[NG_CAL_AGREES], count[NG_CAL_DISAGREES],
                   count[NG_CAL_FILLED], count[NG_CAL_TOO_CLOSE], count[NG_CAL_NOT_ENOUGH]);
    return ng_buf_take(&o);
}

static void json_set(ng_buf *o, const char *key, hwloc_const_bitmap_t b)
{
    char s[256];
    if (!b || hwloc_bitmap_iszero(b))
        ng_buf_add(o, ",\"%s\":null", key);
    else
        ng_buf_add(o, ",\"%s\":\"%s\"", key, ng_list_str(b, s, sizeof(s)));
}

char *ng_cal_json(const ng_topo *t, const ng_cal_result *r, double tol)
{
    ng_buf o = { 0 };
    char cpus[1024];
    for (int g = 0; g < r->ngpus; g++) {
        ng_cal_decision d;
        if (ng_cal_decide(t, r, g, tol, &d) < 0)
            continue;
        ng_buf_add(&o, "{\"schema\":1,\"gpu\":%d,\"busid\":\"%s\",\"name\":", r->gpus[g].ordinal,
                   r->gpus[g].busid);
        ng_buf_json_str(&o, r->gpus[g].name);
        ng_buf_add(&o, ",\"runtime\":\"%s\",\"bytes\":%zu,\"repeat\":%d,\"tolerance_pct\":%g,"
                   "\"rows\":[", r->kind, r->bytes, r->repeat, tol);
        for (int row = 0; row < r->nrows; row++) {
            const ng_cal_row *w = &r->rows[row];
            if (w->node < 0)
                ng_buf_add(&o, "%s{\"node\":null", row ? "," : "");
            else
                ng_buf_add(&o, "%s{\"node\":%d", row ? "," : "", w->node);
            ng_buf_add(&o, ",\"measured\":%s", w->measured ? "true" : "false");
            if (w->measured)
                ng_buf_add(&o, ",\"h2d_gbps\":%.3f,\"d2h_gbps\":%.3f", at(r->h2d, r, g, row),
                           at(r->d2h, r, g, row));
            ng_buf_add(&o, ",\"cpus\":\"%s\"", ng_list_str(w->cpus, cpus, sizeof(cpus)));
            if (w->on_node >= 0)
                ng_buf_add(&o, ",\"buffer_on_node\":%.3f", w->on_node);
            if (w->buffer_node >= 0)
                ng_buf_add(&o, ",\"buffer_node\":%d", w->buffer_node);
            else
                ng_buf_add(&o, ",\"buffer_node\":null");
            ng_buf_add(&o, ",\"note\":");
            ng_buf_json_str(&o, w->why);
            ng_buf_add(&o, "}");
        }
        ng_buf_add(&o, "]");
        json_set(&o, "firmware_nodes", d.firmware);
        json_set(&o, "measured_nodes", d.best);
        json_set(&o, "map_nodes", d.map);
        if (d.worst >= 0)
            ng_buf_add(&o, ",\"worst_node\":%d,\"best_gbps\":%.3f,\"worst_gbps\":%.3f", d.worst,
                       d.best_score, d.worst_score);
        ng_buf_add(&o, ",\"verdict\":\"%s\"}\n", r->rows[0].node < 0 ? "here"
                   : ng_cal_verdict_name(d.verdict));
        ng_cal_decision_clear(&d);
    }
    return ng_buf_take(&o);
}

/* Is this line one calibrate owns (a locality line or its comment)? */
static int ours(const char *line)
{
    size_t sp = strspn(line, " \t");
    char after = line[sp + strnlen(line + sp, strlen(NG_MAP_NUMA_KEY))];
    return !strncmp(line + sp, MAP_MARK, strlen(MAP_MARK)) ||
           (!strncmp(line + sp, NG_MAP_NUMA_KEY, strlen(NG_MAP_NUMA_KEY)) &&
            (after == ' ' || after == '\t'));
}

char *ng_cal_map_text(const ng_topo *t, const ng_cal_result *r, double tol, const char *old,
                      const char *host)
{
    ng_buf o = { 0 };
    char when[64], fw[256], nodes[256];
    for (const char *l = old; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (!ours(l)) {
            ng_buf_add(&o, "%.*s\n", (int)len, l);
        }
        l += len + (nl != NULL);
    }
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
    ng_buf_add(&o, "%s %s %s, %s, %zu MiB x %d, tolerance %g%%; '%s BUSID NODES' replaces "
               "the firmware's locality\n", MAP_MARK, host ? host : "?", when, r->runtime,
               r->bytes >> 20, r->repeat, tol, NG_MAP_NUMA_KEY);
    for (int g = 0; g < r->ngpus; g++) {
        ng_cal_decision d;
        if (ng_cal_decide(t, r, g, tol, &d) < 0)
            continue;
        ng_buf_add(&o, "%s GPU %s %s (firmware %s, measured %s: %.2f GB/s, worst node %d: "
                   "%.2f GB/s)\n", MAP_MARK, r->gpus[g].busid, ng_cal_verdict_name(d.verdict),
                   set_or(d.firmware, "unknown", fw, sizeof(fw)),
                   set_or(d.best, "-", nodes, sizeof(nodes)), d.best_score, d.worst,
                   d.worst_score);
        if (!hwloc_bitmap_iszero(d.map))
            ng_buf_add(&o, "%s %s %s\n", NG_MAP_NUMA_KEY, r->gpus[g].busid,
                       ng_list_str(d.map, nodes, sizeof(nodes)));
        ng_cal_decision_clear(&d);
    }
    return ng_buf_take(&o);
}

int ng_cal_write_map(const ng_topo *t, const ng_cal_result *r, double tol, const char *path,
                     char *err, size_t errlen)
{
    char host[256] = "?";
    char *old = NULL;
    struct stat st;
    mode_t mode = 0644;
    if (stat(path, &st) == 0) {
        FILE *f = S_ISREG(st.st_mode) && st.st_size < (1 << 20) ? fopen(path, "re") : NULL;
        old = f ? calloc(1, (size_t)st.st_size + 1) : NULL;
        int ok = old && fread(old, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
        if (f)
            fclose(f);
        if (!ok) {
            free(old);
            return ng_err(err, errlen, "gpu_map %s: cannot read the existing map (a regular "
                          "file under 1 MiB whose other lines are kept)", path);
        }
        mode = st.st_mode & 0777;
    }
    gethostname(host, sizeof(host) - 1);
    char *text = ng_cal_map_text(t, r, tol, old, host);
    free(old);
    int rc = text ? ng_write_replace(path, text, "gpu_map", err, errlen)
                  : ng_err(err, errlen, "out of memory");
    free(text);
    if (rc == 0 && chmod(path, mode) < 0)
        rc = ng_err(err, errlen, "gpu_map %s: chmod: %s", path, strerror(errno));
    return rc;
}
