/* Where a task's pages are, cheaply. numa_maps walks every page table of the
 * process under its mmap lock (48 ms stalls measured at 8 GiB), so the audit
 * prefers, in order:
 *   cgroup   the task's memory cgroup memory.numa_stat (O(nodes), no walk);
 *   sampled  N random pages of its mappings asked with move_pages(2), in
 *            small batches so the lock is held briefly;
 *   numa_maps the full walk, only on request.
 * The cgroup counts anonymous pages (a task's data, not the page cache of
 * the libraries it maps, which sits wherever the first reader put it); the
 * sample and the walk count every resident page of the mappings. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "private/sample.h"
#include "private/util.h"

const char *ng_method_name(ng_method m)
{
    switch (m) {
    case NG_METHOD_CGROUP: return "cgroup";
    case NG_METHOD_SAMPLED: return "sampled";
    case NG_METHOD_NUMA_MAPS: return "numa_maps";
    default: return "auto";
    }
}

int ng_method_parse(const char *s, ng_method *m)
{
    static const ng_method all[] = { NG_METHOD_AUTO, NG_METHOD_CGROUP, NG_METHOD_SAMPLED,
                                     NG_METHOD_NUMA_MAPS };
    for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
        if (!strcmp(s, ng_method_name(all[i]))) {
            *m = all[i];
            return 0;
        }
    return -1;
}

/* memory.numa_stat: v1 "anon=123 N0=100 N1=23" (pages), v2 "anon N0=4096
 * N1=0" (bytes). The anon line only ("hierarchical_anon" in v1 when the
 * cgroup has children is the same for a task's leaf). */
int ng_memcg_numa_stat_parse(const char *text, ng_pages *p)
{
    memset(p, 0, sizeof(*p));
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        int v1 = !strncmp(line, "anon=", 5), v2 = !strncmp(line, "anon ", 5);
        if ((v1 || v2) && len < 4096) {
            char buf[4096];
            memcpy(buf, line, len);
            buf[len] = '\0';
            char *save = NULL;
            int bad = 0, nodes = 0;
            /* v1: "anon=<total> N0=..": skip the total */
            char *first = v1 ? strchr(buf, ' ') : buf + 5;
            if (!first) {
                return -1;
            }
            for (char *t = strtok_r(first, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                char *eq = strchr(t, '='), *end;
                if (t[0] != 'N' || !eq) {
                    bad = 1;
                    break;
                }
                errno = 0;
                unsigned long n = strtoul(t + 1, &end, 10);
                unsigned long long c = strtoull(eq + 1, &end, 10);
                if (errno || n >= NG_MAX_NODES || *end) {
                    bad = 1;
                    break;
                }
                unsigned long pages = (unsigned long)(v2 ? c / 4096 : c);
                p->pages[n] += pages;
                p->total += pages;
                nodes++;
            }
            return bad || !nodes ? -1 : 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

int ng_sample_cgroup(const char *procfs, const char *sysfs, int pid, ng_pages *p, char *level,
                     size_t levlen, char *err, size_t errlen)
{
    procfs = procfs ? procfs : "/proc";
    sysfs = sysfs ? sysfs : "/sys";
    char path[4200], text[8192], file[8400];
    snprintf(path, sizeof(path), "%s/%d/cgroup", procfs, pid);
    if (ng_read_file(path, text, sizeof(text)) <= 0)
        return ng_err(err, errlen, "%s: %s", path, strerror(errno));
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctrl = c1 + 1, *cg = c2 + 1;
        int v1 = !strcmp(ctrl, "memory") || strstr(ctrl, "memory,") || strstr(ctrl, ",memory");
        int v2 = *ctrl == '\0' && l[0] == '0';
        if (!v1 && !v2)
            continue;
        snprintf(file, sizeof(file), "%s/fs/cgroup%s%s/memory.numa_stat", sysfs,
                 v1 ? "/memory" : "", cg);
        char stat[16384];
        if (ng_read_file(file, stat, sizeof(stat)) <= 0 || ng_memcg_numa_stat_parse(stat, p) < 0)
            continue;
        const char *base = strrchr(cg, '/');
        base = base ? base + 1 : cg;
        snprintf(level, levlen, "%s", !strncmp(base, "task_", 5) ? "task"
                 : !strncmp(base, "step_", 5) ? "step" : !strncmp(base, "job_", 4) ? "job"
                 : "other");
        return 0;
    }
    return ng_err(err, errlen, "no memory cgroup with memory.numa_stat for pid %d", pid);
}

typedef struct { unsigned long s, e; } range;

/* Readable, non-special mappings of pid: [s, e) ranges. */
static int mappings(const char *procfs, int pid, range **v, int *n,
                    unsigned long long *total)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%d/maps", procfs, pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t cap = 0;
    char *line = NULL;
    *v = NULL;
    *n = 0;
    *total = 0;
    int max = 0;
    while (getline(&line, &cap, f) > 0) {
        unsigned long s, e;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &s, &e, perms, &off) < 3 || perms[0] != 'r' ||
            e <= s || strstr(line, "[vsyscall]") || strstr(line, "[vvar]") || strstr(line, "[vdso]"))
            continue;
        if (*n == max) {
            max = max ? 2 * max : 64;
            range *nv = realloc(*v, (size_t)max * sizeof(range));
            if (!nv)
                break;
            *v = nv;
        }
        (*v)[*n].s = s;
        (*v)[*n].e = e;
        (*n)++;
        *total += e - s;
    }
    free(line);
    fclose(f);
    return 0;
}

/* Where `n` pages of pid live (status[i] node, or < 0 not resident), in
 * batches small enough that the mmap lock is held briefly. */
static int query(int pid, void **addrs, int *status, unsigned n)
{
    enum { BATCH = 64 };
    for (unsigned done = 0; done < n; done += BATCH) {
        unsigned b = n - done < BATCH ? n - done : BATCH;
        if (move_pages(pid, b, addrs + done, NULL, status + done, 0) < 0)
            return -1;
        /* let a waiting mmap/munmap of the task take the lock between batches */
        if (done + BATCH < n)
            usleep(50);
    }
    return 0;
}

static unsigned long long next_rand(unsigned long long *x)
{
    *x ^= *x << 13;   /* xorshift64: no global rand state in slurmstepd */
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Two phases, so that sparse address spaces (a sanitizer's shadow, a GPU
 * runtime's reservations) do not swallow the sample: a few evenly spaced
 * probes per mapping estimate its resident share, then the pages are spread
 * over mappings by estimated resident size, and each mapping's node counts
 * are weighted back by it (a ratio estimate per mapping). A mapping none of
 * whose probes is resident is left out: sparse touches can be missed, which
 * `numa-gpu audit --full` (the walk) does not. */
int ng_sample_pages(const char *procfs, int pid, unsigned npages, unsigned seed, ng_pages *p,
                    char *err, size_t errlen)
{
    procfs = procfs ? procfs : "/proc";
    memset(p, 0, sizeof(*p));
    range *m = NULL;
    int nm = 0;
    unsigned long long total = 0;
    if (mappings(procfs, pid, &m, &nm, &total) < 0)
        return ng_err(err, errlen, "%s/%d/maps: %s", procfs, pid, strerror(errno));
    if (nm == 0 || total < 4096) {
        free(m);
        return ng_err(err, errlen, "pid %d has no mapped memory", pid);
    }
    if (npages == 0 || npages > (1u << 20))
        npages = 4096;
    /* Up to 8 probes per mapping, fewer when there are many mappings, so
     * the probes never cost more than half the sample. */
    unsigned probes = npages / 2 / (unsigned)nm;
    probes = probes < 1 ? 1 : probes > 8 ? 8 : probes;
    size_t cap = npages > (size_t)nm * probes ? npages : (size_t)nm * probes;
    void **addrs = calloc(cap, sizeof(void *));
    int *status = calloc(cap, sizeof(int));
    double *est = calloc((size_t)nm, sizeof(double));
    int rc = 0;
    if (!addrs || !status || !est) {
        rc = ng_err(err, errlen, "out of memory");
        goto out;
    }
    /* Phase 1: evenly spaced probes. */
    unsigned k = 0;
    for (int i = 0; i < nm; i++) {
        unsigned long pages = (m[i].e - m[i].s) / 4096;
        unsigned pr = pages < probes ? (unsigned)pages : probes;
        for (unsigned j = 0; j < pr; j++)
            addrs[k++] = (void *)(m[i].s + (pages * (2ul * j + 1) / (2ul * pr)) * 4096);
    }
    if (query(pid, addrs, status, k) < 0) {
        rc = ng_err(err, errlen, "move_pages(pid %d): %s", pid, strerror(errno));
        goto out;
    }
    double sum = 0;
    k = 0;
    for (int i = 0; i < nm; i++) {
        unsigned long pages = (m[i].e - m[i].s) / 4096;
        unsigned pr = pages < probes ? (unsigned)pages : probes, hit = 0;
        for (unsigned j = 0; j < pr; j++)
            hit += status[k++] >= 0;
        /* No probe resident: left out (a one-page hit in a terabyte of
         * sanitizer shadow would otherwise swamp the estimate). */
        est[i] = pr && hit ? (double)pages * hit / pr : 0;
        sum += est[i];
    }
    /* Phase 2: npages spread by estimated resident size; node counts of each
     * mapping weighted by its resident share back to pages. */
    unsigned long long x = seed ? seed : 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < nm && sum > 0; i++) {
        unsigned long pages = (m[i].e - m[i].s) / 4096;
        unsigned want = (unsigned)((double)npages * est[i] / sum + 0.5);
        if (want > pages)
            want = (unsigned)pages;
        if (want == 0)
            continue;
        for (unsigned j = 0; j < want; j++)
            addrs[j] = (void *)(m[i].s + (next_rand(&x) % pages) * 4096);
        if (query(pid, addrs, status, want) < 0) {
            rc = ng_err(err, errlen, "move_pages(pid %d): %s", pid, strerror(errno));
            goto out;
        }
        unsigned cnt[NG_MAX_NODES] = { 0 }, hit = 0;
        for (unsigned j = 0; j < want; j++)
            if (status[j] >= 0 && status[j] < NG_MAX_NODES) {
                cnt[status[j]]++;
                hit++;
            }
        p->sampled += want;
        p->hits += hit;
        if (!hit)
            continue;
        double resident = (double)pages * hit / want;   /* this mapping's pages */
        for (int n = 0; n < NG_MAX_NODES; n++)
            if (cnt[n]) {
                unsigned long w = (unsigned long)(resident * cnt[n] / hit + 0.5);
                p->pages[n] += w;
                p->total += w;
            }
    }
out:
    free(addrs);
    free(status);
    free(est);
    free(m);
    return rc;
}

double ng_pages_ci95(const ng_pages *p, hwloc_const_bitmap_t nodes)
{
    if (!p->total)
        return -1;
    double f = ng_pages_local_pct(p, nodes) / 100.0;
    unsigned n = p->hits ? p->hits : (unsigned)p->total;
    return 196.0 * sqrt(f * (1 - f) / (double)n);
}

/* ----------------------------------------- numa_maps and the dispatcher */

/* One numa_maps line: "7f..000 bind:1 anon=16384 dirty=16384 N1=16384
 * kernelpagesize_kB=4". Counts are in pages of kernelpagesize_kB. */
static int parse_line(char *line, ng_pages *p, char *policy, size_t plen)
{
    char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
    if (!tok || strspn(tok, "0123456789abcdef") != strlen(tok))
        return -1;
    tok = strtok_r(NULL, " \t\n", &save);
    if (!tok)
        return -1;
    snprintf(policy, plen, "%s", tok);
    unsigned long kb = 4, counts[NG_MAX_NODES];
    int nodes[NG_MAX_NODES], n = 0;
    while ((tok = strtok_r(NULL, " \t\n", &save))) {
        char *end;
        if (tok[0] == 'N' && tok[1] >= '0' && tok[1] <= '9') {
            errno = 0;
            unsigned long node = strtoul(tok + 1, &end, 10);
            if (*end != '=' || node >= NG_MAX_NODES || n == NG_MAX_NODES)
                return -1;
            unsigned long c = strtoul(end + 1, &end, 10);
            if (*end || errno)
                return -1;
            nodes[n] = (int)node;
            counts[n++] = c;
        } else if (!strncmp(tok, "kernelpagesize_kB=", 18)) {
            kb = strtoul(tok + 18, &end, 10);
            if (*end || kb < 4 || kb % 4)
                return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        unsigned long base = counts[i] * (kb / 4);
        p->pages[nodes[i]] += base;
        p->total += base;
    }
    return 0;
}

int ng_numa_maps_parse(const char *text, ng_pages *p)
{
    char *copy = strdup(text ? text : "");
    if (!copy)
        return -1;
    int lines = 0, bad = 0;
    /* The task's policy: numa_maps shows it on VMAs without their own. */
    char policy[64], best[64] = "";
    unsigned long best_pages = 0;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long before = p->total;
        if (parse_line(l, p, policy, sizeof(policy)) < 0) {
            bad++;
            continue;
        }
        lines++;
        if (p->total - before >= best_pages) {
            best_pages = p->total - before;
            snprintf(best, sizeof(best), "%s", policy);
        }
    }
    free(copy);
    if (best[0])
        snprintf(p->policy, sizeof(p->policy), "%s", best);
    return bad && !lines ? -1 : lines;
}

/* Children of pid via /proc/<pid>/task/<tid>/children. */
static int children_of(const char *procfs, int pid, int *out, int max)
{
    char path[4200], text[8192];
    int n = 0;
    snprintf(path, sizeof(path), "%s/%d/task", procfs, pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.')
            continue;
        char cp[8400];
        snprintf(cp, sizeof(cp), "%s/%s/children", path, e->d_name);
        if (ng_read_file(cp, text, sizeof(text)) <= 0)
            continue;
        for (char *s = NULL, *t = strtok_r(text, " \n", &s); t && n < max; t = strtok_r(NULL, " \n", &s))
            out[n++] = atoi(t);
    }
    if (d)
        closedir(d);
    return n;
}

/* Cpus_allowed_list of pid into p->cpus. */
static void read_cpus(const char *procfs, int pid, ng_pages *p)
{
    char sp[4200], st[8192];
    snprintf(sp, sizeof(sp), "%s/%d/status", procfs, pid);
    char *l = ng_read_file(sp, st, sizeof(st)) > 0 ? strstr(st, "Cpus_allowed_list:") : NULL;
    if (l) {
        l += strlen("Cpus_allowed_list:");
        l += strspn(l, " \t");
        l[strcspn(l, "\n")] = '\0';
        snprintf(p->cpus, sizeof(p->cpus), "%s", l);
    }
}

int ng_sample_pid(const char *procfs, int pid, int children, ng_pages *p, char *err,
                  size_t errlen)
{
    procfs = procfs ? procfs : "/proc";
    int pids[64], n = 1;
    pids[0] = pid;
    /* Breadth-first over descendants, bounded. */
    for (int i = 0; children && i < n && n < 64; i++)
        n += children_of(procfs, pids[i], pids + n, 64 - n);
    memset(p, 0, sizeof(*p));
    size_t cap = 1 << 20;
    char *text = malloc(cap);
    if (!text)
        return ng_err(err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%d/numa_maps", procfs, pids[i]);
        if (ng_read_file(path, text, cap) < 0) {
            if (i == 0) {
                free(text);
                return ng_err(err, errlen, "%s: %s", path, strerror(errno));
            }
            continue;
        }
        if (i == 0)
            read_cpus(procfs, pid, p);
        if (ng_numa_maps_parse(text, p) >= 0)
            p->nprocs++;
    }
    free(text);
    return 0;
}

int ng_sample_task(const char *procfs, const char *sysfs, int pid, ng_method m, unsigned npages,
                   int alone, ng_pages *p, char *err, size_t errlen)
{
    procfs = procfs ? procfs : "/proc";
    char e[NG_ERRLEN], level[16] = "";
    if (m == NG_METHOD_NUMA_MAPS) {
        if (ng_sample_pid(procfs, pid, 1, p, err, errlen) < 0)
            return -1;
        p->method = NG_METHOD_NUMA_MAPS;
        return 0;
    }
    /* The task's own memory cgroup (or its step's when it is the only
     * task): exact and O(nodes). */
    if ((m == NG_METHOD_AUTO || m == NG_METHOD_CGROUP) &&
        ng_sample_cgroup(procfs, sysfs, pid, p, level, sizeof(level), e, sizeof(e)) == 0 &&
        (m == NG_METHOD_CGROUP || !strcmp(level, "task") || (alone && !strcmp(level, "step")))) {
        p->method = NG_METHOD_CGROUP;
        snprintf(p->level, sizeof(p->level), "%s", level);
        p->nprocs = 1;
        read_cpus(procfs, pid, p);
        return 0;
    }
    if (m == NG_METHOD_CGROUP)
        return ng_err(err, errlen, "%s", level[0] ? "the memory cgroup is not the task's own" : e);
    /* Sampled over the task and its descendants (the shell's children do
     * the work), the pages split between them. */
    int pids[64], n = 1;
    pids[0] = pid;
    for (int i = 0; i < n && n < 64; i++)
        n += children_of(procfs, pids[i], pids + n, 64 - n);
    unsigned per = npages ? npages : 4096;
    per = per / (unsigned)n < 256 ? 256 : per / (unsigned)n;
    memset(p, 0, sizeof(*p));
    int got = 0;
    for (int i = 0; i < n; i++) {
        ng_pages one;
        if (ng_sample_pages(procfs, pids[i], per, (unsigned)pids[i] * 2654435761u, &one, e,
                            sizeof(e)) < 0) {
            if (i == 0)
                snprintf(err, errlen, "%s", e);
            continue;
        }
        for (int k = 0; k < NG_MAX_NODES; k++)
            p->pages[k] += one.pages[k];
        p->total += one.total;
        p->sampled += one.sampled;
        p->hits += one.hits;
        got++;
    }
    if (!got)
        return -1;
    p->method = NG_METHOD_SAMPLED;
    p->nprocs = got;
    read_cpus(procfs, pid, p);
    return 0;
}

double ng_pages_local_pct(const ng_pages *p, hwloc_const_bitmap_t nodes)
{
    unsigned long local = 0;
    int i;
    hwloc_bitmap_foreach_begin(i, nodes) {
        if (i < NG_MAX_NODES)
            local += p->pages[i];
    } hwloc_bitmap_foreach_end();
    return p->total ? 100.0 * (double)local / (double)p->total : 0.0;
}

char *ng_pages_str(const ng_pages *p, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < NG_MAX_NODES && off < len; i++)
        if (p->pages[i])
            off += (size_t)snprintf(buf + off, len - off, "%s%d:%lu", off ? "," : "", i, p->pages[i]);
    return buf;
}

