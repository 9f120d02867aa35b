/* Audit: what each task was meant to get and what it got. numa_maps
 * sampling (pages per node), the per-task JSON record, a root-safe append
 * into the admin's audit directory, and the per-job summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private/audit.h"
#include "private/record.h"   /* NG_AUDIT_SCHEMA */
#include "private/apply.h"
#include "private/gpujson.h"
#include "private/util.h"

/* ------------------------------------------------------------- records */

char *ng_audit_task_json(const ng_plan *p, int self, const ng_effective *eff,
                         const char *gpu_source)
{
    const ng_rank_plan *rp = &p->ranks[self];
    ng_buf b = { 0 };
    char c1[4096], m1[1024], h[1024];
    ng_buf_add(&b, "\"mode\":\"%s\",", ng_mode_name(p->mode));
    ng_json_rank_gpus(&b, rp->gpus, rp->ngpus, gpu_source ? gpu_source : "");
    ng_buf_add(&b, ",\"intended\":{\"home\":\"%s\",\"cpus\":\"%s\",\"mems\":\"%s\",\"policy\":\"%s\"}",
               ng_list_str(rp->home, h, sizeof(h)), ng_list_str(rp->cpus, c1, sizeof(c1)),
               ng_list_str(rp->mems, m1, sizeof(m1)), ng_mempol_name(rp->policy));
    if (eff && eff->cpus)
        ng_buf_add(&b, ",\"effective\":{\"cpus\":\"%s\",\"mems\":\"%s\",\"policy\":\"%s\"}",
                   ng_list_str(eff->cpus, c1, sizeof(c1)), ng_list_str(eff->mems, m1, sizeof(m1)),
                   ng_mempol_name(eff->policy));
    ng_buf_add(&b, ",\"nics\":[");
    for (int i = 0; i < rp->nnics; i++) {
        ng_buf_add(&b, "%s", i ? "," : "");
        ng_buf_json_str(&b, rp->nics[i].name);
    }
    ng_buf_add(&b, "],\"nic_near\":\"%s\"", rp->nnics ? ng_nearness_name(rp->nics[0].near) : "");
    return ng_buf_take(&b);
}

/* Append one line to DIR/NAME as root without following anything a user
 * could have planted: the directory must be root's and not writable by
 * others, the file is opened relative to it with O_NOFOLLOW, must be a
 * regular root-owned file with one link, and the write is one O_APPEND
 * write under an exclusive flock. */
int ng_audit_append(const char *dir, const char *name, const char *line, char *err,
                    size_t errlen)
{
    if (strchr(name, '/') || name[0] == '.')
        return ng_err(err, errlen, "audit file name '%s' refused", name);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return ng_err(err, errlen, "audit_dir '%s': %s", dir, strerror(errno));
    struct stat st;
    if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
        close(dfd);
        return ng_err(err, errlen, "audit_dir '%s' refused: must be owned by uid %d and "
                      "not group/world-writable", dir, (int)geteuid());
    }
    int fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    int e = errno;
    close(dfd);
    if (fd < 0)
        return ng_err(err, errlen, "audit file %s/%s: %s%s", dir, name, strerror(e),
                      e == ELOOP ? " (a symlink: refused)" : "");
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        st.st_uid != geteuid()) {
        close(fd);
        return ng_err(err, errlen, "audit file %s/%s refused: not a plain file of ours", dir, name);
    }
    flock(fd, LOCK_EX);
    size_t len = strlen(line);
    off_t was = lseek(fd, 0, SEEK_END);
    ssize_t w = write(fd, line, len);
    e = w < 0 ? errno : ENOSPC;
    /* A full disk: take back the partial line, the file keeps whole lines. */
    if (w != (ssize_t)len && was >= 0 && ftruncate(fd, was) < 0)
        e = errno;
    flock(fd, LOCK_UN);
    close(fd);
    if (w != (ssize_t)len)
        return ng_err(err, errlen, "audit file %s/%s: record not written (%s); nothing partial "
                      "left", dir, name, strerror(e));
    return 0;
}

/* Value of "key": in one of our JSON lines (first occurrence). */
int ng_json_str(const char *line, const char *key, char *out, size_t len)
{
    char pat[80];
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    const char *s = strstr(line, pat);
    if (!s)
        return -1;
    s += strlen(pat);
    size_t o = 0;
    for (; *s && *s != '"' && o + 1 < len; s++) {
        if (*s == '\\' && s[1])
            s++;
        out[o++] = *s;
    }
    out[o] = '\0';
    return 0;
}

int ng_json_num(const char *line, const char *key, double *out)
{
    char pat[80];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *s = strstr(line, pat);
    if (!s)
        return -1;
    char *end;
    *out = strtod(s + strlen(pat), &end);
    return end == s + strlen(pat) ? -1 : 0;
}

int ng_audit_summarize(const char *dir, unsigned long jobid, int warn_local, char **text,
                       char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%lu.json", dir, jobid);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ng_err(err, errlen, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "r");
    ng_buf b = { 0 };
    char line[16384], sum[2048];
    int n = 0, flagged = 0;
    while (f && fgets(line, sizeof(line), f)) {
        double pct = -1;
        if (ng_json_str(line, "summary", sum, sizeof(sum)) < 0)
            continue;
        int low = ng_json_num(line, "local_pct", &pct) == 0 && pct >= 0 && pct < warn_local;
        ng_buf_add(&b, "job %lu %s%s\n", jobid, sum, low ? "  [WARNING: below audit_warn_local]" : "");
        n++;
        flagged += low;
    }
    if (f)
        fclose(f);
    ng_buf_add(&b, "job %lu: %d task record(s), %d below %d%% local pages\n", jobid, n, flagged,
               warn_local);
    *text = ng_buf_take(&b);
    return 0;
}

const char *ng_sample_verdict(const ng_pages *s, hwloc_const_bitmap_t home,
                              hwloc_const_bitmap_t home_cpus, int warn_local)
{
    hwloc_bitmap_t c = hwloc_bitmap_alloc();
    int parsed = ng_list_parse(s->cpus, c) == 0 && !hwloc_bitmap_iszero(c);
    int inside = parsed && hwloc_bitmap_isincluded(c, home_cpus);
    int touches = parsed && hwloc_bitmap_intersects(c, home_cpus);
    hwloc_bitmap_free(c);
    double pct = ng_pages_local_pct(s, home);
    if (!parsed || !s->total)
        return "unknown";
    if (inside && pct >= warn_local)
        return "local";
    if (!touches && pct < warn_local)
        return "remote";
    return "partial";
}

char *ng_audit_record(const ng_audit_ids *ids, const char *task_json, const char *extra_json,
                      const char *summary, hwloc_const_bitmap_t home,
                      hwloc_const_bitmap_t home_cpus, int warn_local, const ng_pages *sample,
                      const char *perf)
{
    ng_buf b = { 0 };
    char pb[2048], hb[256], sum[2048];
    double pct = sample && sample->total ? ng_pages_local_pct(sample, home) : -1;
    ng_buf_add(&b, "{\"schema\":%d,\"job\":%lu,\"step\":%lu,\"task\":%d,\"global_task\":%d,"
               "\"host\":", NG_AUDIT_SCHEMA, ids->job, ids->step, ids->task, ids->global_task);
    ng_buf_json_str(&b, ids->host);
    if (ids->user) {
        ng_buf_add(&b, ",\"user\":");
        ng_buf_json_str(&b, ids->user);
    }
    if (ids->uid >= 0)
        ng_buf_add(&b, ",\"uid\":%lld", ids->uid);
    if (ids->time >= 0)
        ng_buf_add(&b, ",\"time\":%lld", ids->time);
    ng_buf_add(&b, ",\"pid\":%d,%s%s", ids->pid, task_json, extra_json ? extra_json : "");
    if (sample && sample->total) {
        ng_buf_add(&b, ",\"sample\":{\"method\":\"%s\",\"age_s\":%d,\"processes\":%d,"
                   "\"cpus\":\"%s\",\"pages\":\"%s\",\"numa_maps_policy\":\"%s\",",
                   ng_method_name(sample->method), ids->sample_age, sample->nprocs,
                   sample->cpus, ng_pages_str(sample, pb, sizeof(pb)), sample->policy);
        if (sample->method == NG_METHOD_CGROUP)
            ng_buf_add(&b, "\"cgroup\":\"%s\",", sample->level);
        if (sample->method == NG_METHOD_SAMPLED)
            ng_buf_add(&b, "\"sample_pages\":%u,\"resident_hits\":%u,\"ci95\":%.1f,",
                       sample->sampled, sample->hits, ng_pages_ci95(sample, home));
        ng_buf_add(&b, "\"verdict\":\"%s\"}", ng_sample_verdict(sample, home, home_cpus,
                                                                warn_local));
    }
    else
        ng_buf_add(&b, ",\"sample\":null");
    ng_buf_add(&b, ",\"local_pct\":");
    if (pct >= 0)
        ng_buf_add(&b, "%.1f", pct);
    else
        ng_buf_add(&b, "null");
    ng_buf_add(&b, ",\"perf\":");
    ng_buf_json_str(&b, perf ? perf : "unavailable: not sampled");
    snprintf(sum, sizeof(sum), "task %d %s, pages %s, remote accesses %s", ids->task,
             summary ? summary : "", pct >= 0 ? (snprintf(hb, sizeof(hb), "%.1f%% local on node %s",
             pct, ng_list_str(home, pb, sizeof(pb))), hb) : "not sampled",
             perf && strncmp(perf, "unavailable", 11) ? perf : "unavailable");
    ng_buf_add(&b, ",\"summary\":");
    ng_buf_json_str(&b, sum);
    ng_buf_add(&b, "}\n");
    return ng_buf_take(&b);
}

char *ng_audit_task_summary(const ng_plan *p, int self, const ng_effective *eff, char *buf,
                            size_t len)
{
    const ng_rank_plan *rp = &p->ranks[self];
    char g[512] = "", gn[256], c[1024], m[256], h[256];
    hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
    for (int i = 0; i < rp->ngpus; i++) {
        size_t u = strlen(g);
        snprintf(g + u, sizeof(g) - u, "%s%s", i ? "," : "", rp->gpus[i].busid);
        hwloc_bitmap_or(nodes, nodes, rp->gpus[i].nodes);
    }
    int applied = eff && eff->cpus;
    snprintf(buf, len, "gpu %s node %s: cpus %s (node %s), mem %s %s [%s]",
             rp->ngpus ? g : "-", rp->ngpus ? ng_list_str(nodes, gn, sizeof(gn)) : "-",
             ng_list_str(applied ? eff->cpus : rp->cpus, c, sizeof(c)),
             ng_list_str(rp->home, h, sizeof(h)),
             ng_mempol_name(applied ? eff->policy : rp->policy),
             ng_list_str(applied ? eff->mems : rp->mems, m, sizeof(m)),
             ng_verdict_name(rp->verdict));
    hwloc_bitmap_free(nodes);
    return buf;
}

/* ------------------------------------------------- one process, on demand */

/* Environment of another process, for the GPU variables. */
typedef struct { char *buf; size_t len; } environ_blob;

static const char *environ_get(const char *name, void *ctx)
{
    environ_blob *e = ctx;
    size_t nl = strlen(name);
    for (size_t off = 0; off < e->len; off += strlen(e->buf + off) + 1)
        if (!strncmp(e->buf + off, name, nl) && e->buf[off + nl] == '=')
            return e->buf + off + nl + 1;
    return NULL;
}

int ng_proc_audit_run(const ng_topo *t, const ng_roots *r, int pid, ng_method m,
                      unsigned pages, int warn_local, ng_proc_audit *a, char *err,
                      size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->pid = pid;
    if (ng_sample_task(NULL, NULL, pid, m, pages, 0, &a->pages, err, errlen) < 0)
        return -1;
    a->home = hwloc_bitmap_alloc();
    a->home_cpus = hwloc_bitmap_alloc();
    environ_blob env = { malloc(1 << 20), 0 };
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", pid);
    FILE *f = env.buf ? fopen(path, "re") : NULL;
    if (f) {
        env.len = fread(env.buf, 1, (1 << 20) - 1, f);
        env.buf[env.len] = '\0';
        fclose(f);
    }
    char (*bus)[NG_BUSID_LEN] = NULL;
    const char *src = "";
    char e[NG_ERRLEN];
    if (env.buf &&
        ng_gpu_from_env(t, r, environ_get, &env, &bus, &a->ngpus, &src, e, sizeof(e)) < 0)
        snprintf(a->problem, sizeof(a->problem), "pid %d: %.990s", pid, e);
    snprintf(a->source, sizeof(a->source), "%s", src);
    int unknown = 0;
    a->accel = calloc((size_t)a->ngpus + 1, sizeof(ng_accel));
    if (!a->accel)
        a->ngpus = 0;
    hwloc_bitmap_t cpu_nodes = hwloc_bitmap_alloc();
    for (int i = 0; i < a->ngpus; i++) {
        ng_accel *acc = &a->accel[i];
        size_t u = strlen(a->gpus);
        snprintf(a->gpus + u, sizeof(a->gpus) - u, "%s%s", i ? "," : "", bus[i]);
        if (ng_accel_lookup(t, bus[i], acc, e, sizeof(e)) < 0) {
            /* Still listed, as the variable named it: no locality known. */
            snprintf(a->problem, sizeof(a->problem), "%s", e);
            snprintf(acc->busid, sizeof(acc->busid), "%s", bus[i]);
            acc->vendor = "other";
            acc->locality = NG_LOC_UNKNOWN;
            acc->nodes = hwloc_bitmap_alloc();
            acc->near_cpus = hwloc_bitmap_alloc();
            continue;
        }
        unknown += acc->locality == NG_LOC_UNKNOWN;
        /* The verdict's home: the GPUs' nodes that have CPUs. */
        hwloc_bitmap_and(cpu_nodes, acc->nodes, ng_topo_cpu_nodes(t));
        hwloc_bitmap_or(a->home, a->home, cpu_nodes);
    }
    hwloc_bitmap_free(cpu_nodes);
    unsigned node;
    hwloc_bitmap_foreach_begin(node, a->home) {
        hwloc_const_bitmap_t c = ng_topo_node_cpus(t, node);
        if (c)
            hwloc_bitmap_or(a->home_cpus, a->home_cpus, c);
    } hwloc_bitmap_foreach_end();
    a->verdict = a->ngpus == 0 ? "nogpu" : unknown == a->ngpus ? "unknown"
               : ng_sample_verdict(&a->pages, a->home, a->home_cpus, warn_local);
    a->local_pct = ng_pages_local_pct(&a->pages, a->home);
    a->ci95 = a->pages.method == NG_METHOD_SAMPLED ? ng_pages_ci95(&a->pages, a->home) : 0.0;
    free(bus);
    free(env.buf);
    return 0;
}

char *ng_proc_audit_json(const ng_proc_audit *a)
{
    char pb[1024];
    ng_buf b = { 0 };
    ng_buf_add(&b, "{\"schema\":%d,\"pid\":%d,", NG_PROC_AUDIT_SCHEMA, a->pid);
    ng_json_rank_gpus(&b, a->accel, a->accel ? a->ngpus : 0, a->source);
    ng_buf_add(&b, ",\"cpus\":");
    ng_buf_json_str(&b, a->pages.cpus);
    ng_buf_add(&b, ",\"method\":\"%s\",\"policy\":", ng_method_name(a->pages.method));
    ng_buf_json_str(&b, a->pages.policy);
    ng_buf_add(&b, ",\"pages\":\"%s\",\"local_pct\":%.1f,\"ci95\":%.1f,\"verdict\":\"%s\"}\n",
               ng_pages_str(&a->pages, pb, sizeof(pb)), a->local_pct, a->ci95, a->verdict);
    return ng_buf_take(&b);
}

char *ng_proc_audit_text(const ng_proc_audit *a)
{
    char nb[256], pb[1024];
    ng_buf b = { 0 };
    ng_buf_add(&b, "pid %d: GPUs %s (from %s) on node %s; cpus %s; memory policy %s; pages "
               "per node %s (%.1f%% on the GPU node, %s); verdict %s\n", a->pid,
               a->gpus[0] ? a->gpus : "none", a->source[0] ? a->source : "no GPU variables",
               a->ngpus ? ng_list_str(a->home, nb, sizeof(nb)) : "-", a->pages.cpus,
               a->pages.policy[0] ? a->pages.policy : "-", ng_pages_str(&a->pages, pb, sizeof(pb)),
               a->local_pct, ng_method_name(a->pages.method), a->verdict);
    return ng_buf_take(&b);
}

void ng_proc_audit_clear(ng_proc_audit *a)
{
    for (int i = 0; a->accel && i < a->ngpus; i++)
        ng_accel_clear(&a->accel[i]);
    free(a->accel);
    a->accel = NULL;
    hwloc_bitmap_free(a->home);
    hwloc_bitmap_free(a->home_cpus);
    a->home = a->home_cpus = NULL;
}
