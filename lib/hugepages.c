/* Per-NUMA-node hugepage reservations with a crash-safe ledger.
 *
 * The kernel keeps one counter per node and page size:
 *   <sysfs>/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/nr_hugepages
 * A reservation raises it by what a task needs and reads back what the
 * kernel granted (it may grant less). The ledger (<state>/hugepages.ledger,
 * root-only, under flock on <state>/hugepages.lock, replaced by atomic
 * rename) records what each job step added and which slurmstepd owns it, so
 * concurrent jobs add and subtract correctly and a step whose owner died
 * (kill -9, slurmd crash) is given back by the next reservation, release or
 * epilog: never what others hold. A corrupt ledger is refused, not guessed. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private/hugepages.h"
#include "private/ledger.h"
#include "private/slots.h"
#include "private/util.h"

#define LEDGER_HEADER "# numa-gpu hugepage ledger v1: job step task node page_kB added owner_pid owner_start\n"

int ng_hp_parse_size(const char *s, unsigned long long *bytes, unsigned long *page_kb,
                     char *err, size_t errlen)
{
    char buf[64];
    if (!s || !*s || strlen(s) >= sizeof(buf))
        return ng_err(err, errlen, "hugepages '%s': expected SIZE[:PAGESIZE] like 8G, 4096M:2M, 2G:1G",
                      s ? s : "");
    snprintf(buf, sizeof(buf), "%s", s);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon++ = '\0';
    unsigned long long v[2] = { 0, 2ULL << 20 };
    const char *part[2] = { buf, colon };
    for (int i = 0; i < 2; i++) {
        if (!part[i])
            continue;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(part[i], &end, 10);
        unsigned long long mul = 1;
        switch (toupper((unsigned char)*end)) {
        case 'K': mul = 1ULL << 10; end++; break;
        case 'M': mul = 1ULL << 20; end++; break;
        case 'G': mul = 1ULL << 30; end++; break;
        case 'T': mul = 1ULL << 40; end++; break;
        default: break;
        }
        if (toupper((unsigned char)*end) == 'B' && mul > 1)
            end++;
        if (end == part[i] || *end || errno || x == 0 || x > (1ULL << 50) / mul)
            return ng_err(err, errlen, "hugepages '%s': bad %s '%s' (expected a number with "
                          "K, M, G or T, e.g. 8G, 4096M:2M, 2G:1G)", s, i ? "page size" : "size",
                          part[i]);
        v[i] = x * mul;
    }
    if (v[1] < 4096 || (v[1] & (v[1] - 1)))
        return ng_err(err, errlen, "hugepages '%s': page size must be a power of two like 2M or 1G", s);
    *bytes = v[0];
    *page_kb = (unsigned long)(v[1] >> 10);
    return 0;
}

static void counter_path(const char *sysfs, int node, unsigned long kb, const char *file,
                         char *out, size_t len)
{
    snprintf(out, len, "%s/devices/system/node/node%d/hugepages/hugepages-%lukB/%s",
             sysfs ? sysfs : "/sys", node, kb, file);
}

int ng_hp_read(const char *sysfs, int node, unsigned long page_kb, const char *file, long *out)
{
    char p[4300], t[64];
    counter_path(sysfs, node, page_kb, file, p, sizeof(p));
    if (ng_read_file(p, t, sizeof(t)) <= 0)
        return -1;
    char *end;
    *out = strtol(t, &end, 10);
    return (end == t) ? -1 : 0;
}

static int hp_write(const char *sysfs, int node, unsigned long kb, long value)
{
    char p[4300], t[32];
    counter_path(sysfs, node, kb, "nr_hugepages", p, sizeof(p));
    int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    int n = snprintf(t, sizeof(t), "%ld\n", value < 0 ? 0 : value);
    ssize_t w = write(fd, t, (size_t)n);
    int e = errno;
    close(fd);
    errno = e;
    return w == n ? 0 : -1;
}

int ng_hp_page_sizes(const char *sysfs, int node, char *out, size_t len)
{
    char p[4300];
    snprintf(p, sizeof(p), "%s/devices/system/node/node%d/hugepages", sysfs ? sysfs : "/sys", node);
    DIR *d = opendir(p);
    out[0] = '\0';
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long kb;
        if (sscanf(e->d_name, "hugepages-%lukB", &kb) == 1) {
            size_t u = strlen(out);
            snprintf(out + u, len - u, "%s%lukB", u ? "," : "", kb);
        }
    }
    closedir(d);
    return 0;
}

/* ------------------------------------------------------------------ ledger */

typedef struct {
    unsigned long job, step;
    int task, node;
    unsigned long page_kb;
    long added;
    int owner;
    unsigned long long owner_start;
} entry;

/* Start time of pid (field 22 of /proc/<pid>/stat), 0 if it is gone. */
unsigned long long ng_proc_start_time(const char *procfs, int pid)
{
    char p[4200], t[1024];
    snprintf(p, sizeof(p), "%s/%d/stat", procfs ? procfs : "/proc", pid);
    if (pid <= 0 || ng_read_file(p, t, sizeof(t)) <= 0)
        return 0;
    char *s = strrchr(t, ')'); /* comm may contain spaces */
    if (!s)
        return 0;
    unsigned long long v = 0;
    int field = 2;
    for (char *tok = strtok(s + 1, " "); tok; tok = strtok(NULL, " "))
        if (++field == 22) {
            v = strtoull(tok, NULL, 10);
            break;
        }
    return v;
}

static int owner_alive(const ng_hp_ctx *c, const entry *e)
{
    return e->owner > 0 && ng_proc_start_time(c->procfs, e->owner) == e->owner_start;
}

/* One ledger line: eight fields, each a plain number in its range, and the
 * newline (a line cut short is damaged). */
static int ledger_line(char *line, void *out)
{
    static const unsigned long long max[8] = { 4294967295ull, 4294967295ull, 65535,
        NG_MAX_NODES - 1, 16777216, 2147483647, 4194304, ~0ull };
    entry *e = out;
    unsigned long long v[8];
    size_t len = strlen(line);
    if (!len || line[len - 1] != '\n')
        return -1;
    char *save = NULL, *tok = strtok_r(line, " \n", &save);
    for (int i = 0; i < 8; i++, tok = strtok_r(NULL, " \n", &save))
        if (!tok || ng_parse_u64(tok, i == 4 || i == 6 ? 1 : 0, max[i], &v[i]) < 0)
            return -1;
    if (tok)
        return -1;
    e->job = (unsigned long)v[0];
    e->step = (unsigned long)v[1];
    e->task = (int)v[2];
    e->node = (int)v[3];
    e->page_kb = (unsigned long)v[4];
    e->added = (long)v[5];
    e->owner = (int)v[6];
    e->owner_start = v[7];
    return 0;
}

static void ledger_format(ng_buf *b, const void *p)
{
    const entry *e = p;
    ng_buf_add(b, "%lu %lu %d %d %lu %ld %d %llu\n", e->job, e->step, e->task, e->node,
               e->page_kb, e->added, e->owner, e->owner_start);
}

static const ng_ledger_kind hp_ledger = {
    .file = "hugepages.ledger", .lock = "hugepages.lock", .what = "hugepage",
    .refuse = "change hugepage counts", .header = LEDGER_HEADER, .entry_size = sizeof(entry),
    .max_line = 256, .parse = ledger_line, .format = ledger_format,
};

/* Lock the state directory (created root-only if missing) and load. */
static int ledger_open(const ng_hp_ctx *c, ng_ledger *l, char *err, size_t errlen)
{
    return ng_ledger_open(l, &hp_ledger, c->state_dir, err, errlen);
}

/* Give one entry's pages back: lower the counter by what it added. */
static void give_back(const ng_hp_ctx *c, const entry *e)
{
    long cur;
    if (ng_hp_read(c->sysfs, e->node, e->page_kb, "nr_hugepages", &cur) == 0)
        hp_write(c->sysfs, e->node, e->page_kb, cur - e->added);
}

typedef struct {
    const ng_hp_ctx *c;
    unsigned long job;
    long step;
    int task, dead;
} release_filter;

/* Keep an entry unless it matches; a matching one's pages go back. */
static int keep_unreleased(void *arg, void *p)
{
    const release_filter *f = arg;
    const entry *e = p;
    int match = f->dead ? !owner_alive(f->c, e)
                        : e->job == f->job && (f->step < 0 || e->step == (unsigned long)f->step) &&
                          (f->task < 0 || e->task == f->task);
    if (match)
        give_back(f->c, e);
    return !match;
}

/* Release entries matching (job, step|-1, task|-1) or, with dead, those
 * whose owner is gone. Returns how many were released. */
static int release_where(const ng_hp_ctx *c, ng_ledger *l, unsigned long job, long step, int task,
                         int dead)
{
    release_filter f = { c, job, step, task, dead };
    return ng_ledger_keep(l, keep_unreleased, &f);
}

int ng_hp_reserve(const ng_hp_ctx *c, const ng_hp_req *r, long *granted, char *err, size_t errlen)
{
    *granted = 0;
    long before;
    char sizes[256];
    if (ng_hp_read(c->sysfs, r->node, r->page_kb, "nr_hugepages", &before) < 0) {
        ng_hp_page_sizes(c->sysfs, r->node, sizes, sizeof(sizes));
        return ng_err(err, errlen, "hugepages: node %d has no %lukB pages (offers: %s)", r->node,
                      r->page_kb, sizes[0] ? sizes : "none");
    }
    ng_ledger l;
    if (ledger_open(c, &l, err, errlen) < 0) {   /* a corrupt ledger stays as it is */
        ng_ledger_close(&l);
        return -1;
    }
    int rc = 0;
    release_where(c, &l, 0, -1, -1, 1);
    /* Admin caps: this job's pages on this node, and the node's share. */
    unsigned long long page = (unsigned long long)r->page_kb << 10, job_bytes = 0;
    for (int i = 0; i < l.n; i++) {
        const entry *e = ng_ledger_at(&l, i);
        if (e->job == r->job && e->node == r->node)
            job_bytes += (unsigned long long)e->added * ((unsigned long long)e->page_kb << 10);
    }
    job_bytes += (unsigned long long)r->count * page;
    if (c->max_per_job && job_bytes > c->max_per_job)
        rc = ng_err(err, errlen, "hugepages: job %lu would hold %llu MiB on node %d, above the "
                    "cap hugepages_max_per_job=%llu MiB", r->job, job_bytes >> 20, r->node,
                    c->max_per_job >> 20);
    long cur = 0;
    if (rc == 0 && ng_hp_read(c->sysfs, r->node, r->page_kb, "nr_hugepages", &cur) < 0)
        rc = ng_err(err, errlen, "hugepages: cannot read node %d counter", r->node);
    if (rc == 0 && c->max_fraction > 0) {
        char mp[4200], mt[4096];
        unsigned long long total_kb = 0;
        snprintf(mp, sizeof(mp), "%s/devices/system/node/node%d/meminfo", c->sysfs ? c->sysfs : "/sys",
                 r->node);
        char *m = ng_read_file(mp, mt, sizeof(mt)) > 0 ? strstr(mt, "MemTotal:") : NULL;
        if (m)
            total_kb = strtoull(m + 9, NULL, 10);
        unsigned long long after = (unsigned long long)(cur + r->count) * page;
        if (!total_kb || (double)after > c->max_fraction * (double)(total_kb << 10))
            rc = ng_err(err, errlen, "hugepages: node %d would have %llu MiB of %lukB pages, above "
                        "the cap hugepages_max_fraction=%.2f of its %llu MiB", r->node,
                        after >> 20, r->page_kb, c->max_fraction, total_kb >> 10);
    }
    /* Room for the new entry before the kernel changes: recording it then
     * cannot fail for memory, any ledger length. */
    if (rc == 0 && ng_ledger_room(&l, 1) < 0)
        rc = ng_err(err, errlen, "out of memory growing the hugepage ledger");
    if (rc == 0) {
        if (hp_write(c->sysfs, r->node, r->page_kb, cur + r->count) < 0 && errno != ENOMEM)
            rc = ng_err(err, errlen, "hugepages: node %d: write nr_hugepages: %s", r->node,
                        strerror(errno));
        long now = cur;
        if (rc == 0 && ng_hp_read(c->sysfs, r->node, r->page_kb, "nr_hugepages", &now) == 0)
            *granted = now - cur > 0 ? now - cur : 0;
        if (rc == 0 && *granted > 0) {
            entry *e = ng_ledger_append(&l);
            e->job = r->job;
            e->step = r->step;
            e->task = r->task;
            e->node = r->node;
            e->page_kb = r->page_kb;
            e->added = *granted;
            e->owner = r->owner;
            e->owner_start = ng_proc_start_time(c->procfs, r->owner);
        }
    }
    /* Save even when refusing a cap: entries of dead owners were given back. */
    char e2[NG_ERRLEN];
    if (ng_ledger_save(&l, e2, sizeof(e2)) < 0 && rc == 0) {
        /* Cannot record it: undo rather than leak. */
        if (*granted > 0)
            hp_write(c->sysfs, r->node, r->page_kb, cur);
        *granted = 0;
        rc = ng_err(err, errlen, "%s", e2);
    }
    ng_ledger_close(&l);
    return rc;
}

int ng_hp_release(const ng_hp_ctx *c, unsigned long job, long step, int task, int *released,
                  char *err, size_t errlen)
{
    ng_ledger l;
    int rc = ledger_open(c, &l, err, errlen);
    int n = 0;
    if (rc == 0) {
        n = job ? release_where(c, &l, job, step, task, 0) : 0;
        n += release_where(c, &l, 0, -1, -1, 1);
        rc = ng_ledger_save(&l, err, errlen);
    }
    if (released)
        *released = n;
    ng_ledger_close(&l);
    return rc;
}

char *ng_hp_status(const ng_hp_ctx *c, int *failed)
{
    ng_buf b = { 0 };
    char err[NG_ERRLEN];
    ng_ledger l;
    *failed = 0;
    if (ledger_open(c, &l, err, sizeof(err)) < 0) {
        ng_buf_add(&b, "ledger: %s\n", err);
        *failed = 1;
    }
    for (int i = 0; i < l.n; i++) {   /* after damage: the lines read before it */
        const entry *e = ng_ledger_at(&l, i);
        ng_buf_add(&b, "job %lu step %lu task %d: node %d %ld x %lukB (owner pid %d%s)\n",
                   e->job, e->step, e->task, e->node, e->added, e->page_kb, e->owner,
                   owner_alive(c, e) ? "" : ", gone");
    }
    if (l.n == 0 && !*failed)
        ng_buf_add(&b, "no reservations\n");
    ng_ledger_close(&l);
    return ng_buf_take(&b);
}

int ng_hp_reserved_bytes(const ng_hp_ctx *c, unsigned long long *bytes, char *err,
                         size_t errlen)
{
    ng_ledger l;
    int rc = ledger_open(c, &l, err, errlen);
    for (int i = 0; rc == 0 && i < l.n; i++) {   /* ledger_line bounds node and page_kb */
        const entry *e = ng_ledger_at(&l, i);
        bytes[e->node] += (unsigned long long)e->added * e->page_kb * 1024;
    }
    ng_ledger_close(&l);
    return rc;
}

/* ------------------------------------------------- per-rank reservations */

int ng_hp_reserve_rank(const ng_hp_ctx *c, unsigned long job, unsigned long step, int local,
                       hwloc_const_bitmap_t nodes, unsigned long long bytes,
                       unsigned long page_kb, int owner, int strict, char *env, size_t envlen,
                       char *warn, size_t warnlen, char *err, size_t errlen)
{
    env[0] = '\0';
    if (warn && warnlen)
        warn[0] = '\0';
    int nn = nodes ? hwloc_bitmap_weight(nodes) : 0;
    if (nn <= 0 || page_kb == 0)
        return ng_err(err, errlen, "hugepages: no memory node to reserve on");
    unsigned long long page = (unsigned long long)page_kb << 10;
    unsigned long long per = page * (unsigned long long)nn;
    long want = (long)((bytes + per - 1) / per);
    int n, rc = 0, failed = 0;
    size_t used = 0;
    hwloc_bitmap_foreach_begin(n, nodes) {
        ng_hp_req r = { job, step, local, n, page_kb, want, owner };
        long got = 0;
        char e[NG_ERRLEN];
        rc = ng_hp_reserve(c, &r, &got, e, sizeof(e));
        if (rc == 0 && got < want)
            rc = ng_err(e, sizeof(e), "hugepages: node %d: asked %ld x %lukB, granted %ld", n,
                        want, page_kb, got);
        int w = snprintf(env + used, envlen - used, "%s%d:%ldx%lukB", used ? "," : "", n, got,
                         page_kb);
        if (w < 0 || (size_t)w >= envlen - used)
            rc = ng_err(e, sizeof(e), "hugepages: %d nodes do not fit the %zu-byte answer",
                        nn, envlen);
        else
            used += (size_t)w;
        if (rc < 0) {
            failed = 1;
            snprintf(err, errlen, "%s", e);
            if (strict)
                break;
            if (warn && warnlen && !warn[0])   /* prefer: the first shortfall; the task runs */
                snprintf(warn, warnlen, "numa-gpu: task %d: %s", local, e);
        }
    } hwloc_bitmap_foreach_end();
    if (failed && strict) {   /* nothing half-applied */
        ng_hp_release(c, job, (long)step, local, NULL, NULL, 0);
        return -1;
    }
    return 0;
}

/* The service: tasks (already the job's user) post their nodes in a shared
 * slot; a thread of the root parent reserves them (lib/slots.c). */
typedef struct {
    int strict;
    char nodes[1100];              /* "1" or "0,1": up to NG_MAX_NODES */
    char result[NG_ERRLEN];        /* env value, or the error */
    char warn[NG_ERRLEN];          /* prefer: what was short */
} hp_slot;

struct ng_hp_service {
    ng_hp_ctx ctx;
    char sysfs[1024], procfs[1024], state_dir[1024];
    unsigned long job, step;
    unsigned long long bytes;
    unsigned long page_kb;
    int owner;
    ng_slots *slots;
};

/* In the root parent's thread: reserve what task i asked for. */
static int answer_ask(void *arg, int i, void *data)
{
    ng_hp_service *s = arg;
    hp_slot *sl = data;
    char env[NG_ERRLEN], err[NG_ERRLEN];
    hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
    int rc = nodes && ng_list_parse(sl->nodes, nodes) == 0
           ? ng_hp_reserve_rank(&s->ctx, s->job, s->step, i, nodes, s->bytes, s->page_kb,
                                s->owner, sl->strict, env, sizeof(env), sl->warn,
                                sizeof(sl->warn), err, sizeof(err))
           : ng_err(err, sizeof(err), "hugepages: bad node list '%.64s'", sl->nodes);
    hwloc_bitmap_free(nodes);
    snprintf(sl->result, sizeof(sl->result), "%s", rc == 0 ? env : err);
    return rc;
}

static void copy_str(char *dst, size_t len, const char **field)
{
    if (*field) {
        snprintf(dst, len, "%s", *field);
        *field = dst;
    }
}

ng_hp_service *ng_hp_service_start(const ng_hp_ctx *c, unsigned long job, unsigned long step,
                                   int ntasks, unsigned long long bytes, unsigned long page_kb,
                                   char *err, size_t errlen)
{
    if (ntasks < 1 || ntasks > 4096 || !bytes || !page_kb) {
        ng_err(err, errlen, "hugepages: %d local tasks (expected 1..4096)", ntasks);
        return NULL;
    }
    ng_hp_service *s = calloc(1, sizeof(*s));
    if (!s || !(s->slots = ng_slots_new(ntasks, sizeof(hp_slot)))) {
        free(s);
        ng_err(err, errlen, "hugepages: out of memory; none reserved for this step");
        return NULL;
    }
    s->ctx = *c;
    copy_str(s->sysfs, sizeof(s->sysfs), &s->ctx.sysfs);
    copy_str(s->procfs, sizeof(s->procfs), &s->ctx.procfs);
    copy_str(s->state_dir, sizeof(s->state_dir), &s->ctx.state_dir);
    s->job = job;
    s->step = step;
    s->bytes = bytes;
    s->page_kb = page_kb;
    s->owner = (int)getpid();   /* the step's root parent bounds the pages */
    if (ng_slots_serve(s->slots, 2, answer_ask, NULL, s) < 0) {
        ng_slots_free(s->slots);
        free(s);
        ng_err(err, errlen, "hugepages: cannot start the reservation thread");
        return NULL;
    }
    return s;
}

int ng_hp_service_ask(ng_hp_service *s, int local, hwloc_const_bitmap_t nodes, int strict,
                      int timeout_ms, char *env, size_t envlen, char *warn, size_t warnlen,
                      char *err, size_t errlen)
{
    hp_slot *sl = s ? ng_slots_data(s->slots, local) : NULL;
    if (!sl)
        return ng_err(err, errlen, "hugepages: the reservation service of this step did not "
                      "start");
    if (!ng_list_str(nodes, sl->nodes, sizeof(sl->nodes)) || !sl->nodes[0])
        return ng_err(err, errlen, "hugepages: no memory node to reserve on");
    sl->strict = strict;
    int got = ng_slots_ask(s->slots, local, timeout_ms);
    if (got != NG_SLOT_DONE)
        return ng_err(err, errlen, "%s", got == NG_SLOT_FAILED ? sl->result
                      : "hugepages: no answer from slurmstepd in time");
    snprintf(env, envlen, "%s", sl->result);
    snprintf(warn, warnlen, "%s", sl->warn);
    return 0;
}

void ng_hp_service_stop(ng_hp_service *s)
{
    if (!s)
        return;
    ng_slots_free(s->slots);
    free(s);
}
