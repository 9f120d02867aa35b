/* The cluster-wide report: audit records read from files and directories
 * (a shared audit_dir, one directory per node, copies), filtered, counted
 * once each, and summed per job, per node and per user. Every line that is
 * not a record is counted and the first ones are named by file:line. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "private/report.h"
#include "private/util.h"

#define NAMED_MAX 20          /* problems kept by name, per kind */
#define MAX_DEPTH 8           /* directory levels walked */
#define READ_CHUNK (1 << 20)

/* ------------------------------------------------------------ hashing */

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    h ^= 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return mix(h);
}

/* A set of 64-bit hashes (0 means empty, so 0 is stored as 1). With 64
 * bits, a million records collide with odds of about 1 in 10^7. */
typedef struct {
    uint64_t *v;
    size_t cap, n;
} hset;

static int hset_grow(hset *s);

/* 1 when h was new, 0 when present, -1 out of memory. */
static int hset_add(hset *s, uint64_t h)
{
    if (!h)
        h = 1;
    if ((s->n + 1) * 2 > s->cap && hset_grow(s) < 0)
        return -1;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->v[i] == h)
            return 0;
        if (!s->v[i]) {
            s->v[i] = h;
            s->n++;
            return 1;
        }
    }
}

static int hset_grow(hset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *nv = calloc(cap, sizeof(uint64_t)), *old = s->v;
    if (!nv)
        return -1;
    size_t oldcap = s->cap;
    s->v = nv;
    s->cap = cap;
    s->n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            hset_add(s, old[i]);
    free(old);
    return 0;
}

/* Rows by name: an index of row numbers keyed by the name's hash. */
typedef struct {
    ng_report_row *rows;
    size_t n, cap;
    struct { uint64_t h; size_t row; } *idx;
    size_t icap;
    int sorted;
} table;

static ng_report_row *table_row(table *t, const char *name, int *fresh)
{
    uint64_t h = hash_str(0, name);
    h = h ? h : 1;
    *fresh = 0;
    if ((t->n + 1) * 2 > t->icap) {
        size_t cap = t->icap ? t->icap * 2 : 256;
        void *ni = calloc(cap, sizeof(*t->idx));
        if (!ni)
            return NULL;
        free(t->idx);
        t->idx = ni;
        t->icap = cap;
        for (size_t r = 0; r < t->n; r++) {
            uint64_t rh = hash_str(0, t->rows[r].name);
            rh = rh ? rh : 1;
            size_t i = rh & (cap - 1);
            while (t->idx[i].h)
                i = (i + 1) & (cap - 1);
            t->idx[i].h = rh;
            t->idx[i].row = r;
        }
    }
    size_t i = h & (t->icap - 1);
    for (; t->idx[i].h; i = (i + 1) & (t->icap - 1))
        if (t->idx[i].h == h && !strcmp(t->rows[t->idx[i].row].name, name))
            return &t->rows[t->idx[i].row];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        ng_report_row *nr = realloc(t->rows, cap * sizeof(*nr));
        if (!nr)
            return NULL;
        t->rows = nr;
        t->cap = cap;
    }
    ng_report_row *w = &t->rows[t->n];
    memset(w, 0, sizeof(*w));
    snprintf(w->name, sizeof(w->name), "%s", name);
    w->worst_pct = -1;
    w->first = w->last = -1;
    t->idx[i].h = h;
    t->idx[i].row = t->n++;
    t->sorted = 0;
    *fresh = 1;
    return w;
}

/* ------------------------------------------------------------ the report */

typedef struct {
    struct { char *file, *why; unsigned long line; } at[NAMED_MAX];   /* line 0: the file */
    int n;
} named;

struct ng_report {
    ng_report_filter f;
    ng_report_input in;
    table t[NG_BY_COUNT];
    ng_report_row total;
    hset seen, files, job_node, user_job, steps, users;
    named named[NG_PROB_COUNT];
    char *buf;          /* the read buffer */
    int oom;
};

const char *ng_problem_name(ng_problem p)
{
    static const char *const names[NG_PROB_COUNT] = { "damaged", "too_long", "future",
                                                      "invalid", "duplicate", "unreadable" };
    return p < NG_PROB_COUNT ? names[p] : "?";
}

unsigned long ng_report_row_bad(const ng_report_row *w)
{
    return w->cls[NG_CLASS_PARTIAL] + w->cls[NG_CLASS_REMOTE] + w->cls[NG_CLASS_UNBOUND] +
           w->cls[NG_CLASS_REFUSED];
}

ng_report *ng_report_new(const ng_report_filter *f)
{
    ng_report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (f)
        r->f = *f;
    else
        r->f.since = -1;
    r->total.worst_pct = -1;
    r->total.first = r->total.last = -1;
    snprintf(r->total.name, sizeof(r->total.name), "total");
    return r;
}

void ng_report_free(ng_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < NG_BY_COUNT; i++) {
        free(r->t[i].rows);
        free(r->t[i].idx);
    }
    hset *sets[] = { &r->seen, &r->files, &r->job_node, &r->user_job, &r->steps, &r->users };
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        free(sets[i]->v);
    for (int k = 0; k < NG_PROB_COUNT; k++)
        for (int i = 0; i < r->named[k].n; i++) {
            free(r->named[k].at[i].file);
            free(r->named[k].at[i].why);
        }
    free(r->buf);
    free(r);
}

static void problem(ng_report *r, ng_problem k, const char *file, unsigned long line,
                    const char *why)
{
    r->in.problems[k]++;
    named *n = &r->named[k];
    if (n->n == NAMED_MAX)
        return;
    char *f = strdup(file), *w = strdup(why);
    if (!f || !w) {
        free(f);
        free(w);
        return;
    }
    n->at[n->n].file = f;
    n->at[n->n].why = w;
    n->at[n->n++].line = line;
}

static int keep(const ng_report *r, const ng_record *rec, long long mtime)
{
    const ng_report_filter *f = &r->f;
    int ok = !f->njobs;
    for (int i = 0; i < f->njobs && !ok; i++)
        ok = f->jobs[i] == rec->job;
    if (!ok)
        return 0;
    if (f->nusers) {
        char uid[24] = "";
        if (rec->uid >= 0)
            snprintf(uid, sizeof(uid), "%lld", rec->uid);
        ok = 0;
        for (int i = 0; i < f->nusers && !ok; i++)
            ok = (rec->user[0] && !strcmp(f->users[i], rec->user)) ||
                 (uid[0] && !strcmp(f->users[i], uid));
        if (!ok)
            return 0;
    }
    if (f->nnodes) {
        ok = 0;
        for (int i = 0; i < f->nnodes && !ok; i++)
            ok = fnmatch(f->nodes[i], rec->host, 0) == 0;
        if (!ok)
            return 0;
    }
    long long t = rec->time >= 0 ? rec->time : mtime;
    return f->since < 0 || t >= f->since;
}

static void add_to(ng_report_row *w, const ng_record *rec, ng_verdict_class c)
{
    w->tasks++;
    w->cls[c]++;
    w->errors += rec->has_error;
    if (rec->pages) {
        w->sampled++;
        w->pages += rec->pages;
        w->local_pages += rec->local_pages;
    }
    if (rec->local_pct >= 0 && (w->worst_pct < 0 || rec->local_pct < w->worst_pct))
        w->worst_pct = rec->local_pct;
    if (rec->hp.pagesize_kb) {
        w->hp_reserved_kb += rec->hp.pages * rec->hp.pagesize_kb;
        if (rec->hp.released > 0)
            w->hp_released_kb += (unsigned long long)rec->hp.released * rec->hp.pagesize_kb;
    }
    if (rec->plugin_ms >= 0) {
        w->plugin_ms_sum += rec->plugin_ms;
        w->plugin_n++;
        if (rec->plugin_ms > w->plugin_ms_max)
            w->plugin_ms_max = rec->plugin_ms;
    }
    if (rec->time >= 0) {
        if (w->first < 0 || rec->time < w->first)
            w->first = rec->time;
        if (rec->time > w->last)
            w->last = rec->time;
    }
}

static void add_record(ng_report *r, const ng_record *rec, const char *file, unsigned long line,
                       long long mtime)
{
    r->in.records++;
    r->in.by_schema[rec->schema]++;
    if (!keep(r, rec, mtime)) {
        r->in.filtered++;
        return;
    }
    /* The same task of the same run, read twice (a copy, a path given twice). */
    uint64_t h = hash_str(rec->job * 0x9e3779b97f4a7c15ULL ^ rec->step, rec->host);
    h = mix(h ^ (uint64_t)rec->task ^ (uint64_t)rec->pid << 20 ^ (uint64_t)rec->time << 40);
    int fresh = hset_add(&r->seen, h);
    if (fresh < 0) {
        r->oom = 1;
        return;
    }
    if (!fresh) {
        char why[128];
        snprintf(why, sizeof(why), "job %lu step %lu task %ld on %.64s already counted",
                 rec->job, rec->step, rec->task, rec->host);
        problem(r, NG_PROB_DUPLICATE, file, line, why);
        return;
    }
    r->in.used++;
    char jname[24];
    snprintf(jname, sizeof(jname), "%lu", rec->job);
    int fj, fn, fu;
    ng_report_row *j = table_row(&r->t[NG_BY_JOB], jname, &fj);
    ng_report_row *n = table_row(&r->t[NG_BY_NODE], rec->host, &fn);
    ng_report_row *u = table_row(&r->t[NG_BY_USER], rec->user, &fu);
    if (!j || !n || !u) {
        r->oom = 1;
        return;
    }
    j->job = rec->job;
    if (!j->user[0] && rec->user[0])
        snprintf(j->user, sizeof(j->user), "%s", rec->user);
    ng_verdict_class c = ng_verdict_classify(rec->verdict);
    add_to(j, rec, c);
    add_to(n, rec, c);
    add_to(u, rec, c);
    add_to(&r->total, rec, c);
    uint64_t jh = hash_str(rec->job + 1, rec->host);
    if (hset_add(&r->job_node, jh) == 1) {
        j->nodes++;
        n->jobs++;
    }
    if (hset_add(&r->user_job, hash_str(rec->job + 7, rec->user)) == 1)
        u->jobs++;
    /* IRQs are the step's on that host: counted once, whatever its tasks say. */
    if (rec->irqs_steered > 0 && hset_add(&r->steps, mix(jh ^ rec->step)) == 1) {
        j->irqs += (unsigned long)rec->irqs_steered;
        n->irqs += (unsigned long)rec->irqs_steered;
        u->irqs += (unsigned long)rec->irqs_steered;
        r->total.irqs += (unsigned long)rec->irqs_steered;
    }
}

static void add_line(ng_report *r, const char *file, unsigned long lineno, const char *line,
                     size_t len, long long mtime, int last_without_newline)
{
    ng_record rec;
    char why[320];
    ng_rec_status st = ng_record_parse(line, len, &rec, why, sizeof(why));
    r->in.lines++;
    switch (st) {
    case NG_REC_OK:
        add_record(r, &rec, file, lineno, mtime);
        return;
    case NG_REC_DAMAGED:
        if (last_without_newline) {
            size_t u = strlen(why);
            snprintf(why + u, sizeof(why) - u, "; the file ends without a newline: a partial "
                     "write?");
        }
        problem(r, NG_PROB_DAMAGED, file, lineno, why);
        return;
    case NG_REC_FUTURE:
        problem(r, NG_PROB_FUTURE, file, lineno, why);
        return;
    case NG_REC_INVALID:
        problem(r, NG_PROB_INVALID, file, lineno, why);
        return;
    }
}

static void too_long(ng_report *r, const char *file, unsigned long lineno, unsigned long long len)
{
    char why[128];
    snprintf(why, sizeof(why), "line of %llu bytes, longer than any record (limit %d): skipped",
             len, NG_RECORD_MAX_LINE);
    r->in.lines++;
    problem(r, NG_PROB_TOO_LONG, file, lineno, why);
}

void ng_report_add_text(ng_report *r, const char *name, const char *text, size_t len,
                        long long mtime)
{
    unsigned long lineno = 0;
    r->in.files++;
    for (size_t pos = 0; pos < len; ) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        if (end - pos > NG_RECORD_MAX_LINE)
            too_long(r, name, lineno, end - pos);
        else if (end > pos)
            add_line(r, name, lineno, text + pos, end - pos, mtime, !nl);
        pos = end + 1;
    }
}

/* One file, streamed: lines longer than NG_RECORD_MAX_LINE are skipped
 * without being held, so a file with no newline at all costs one buffer. */
static int read_fd(ng_report *r, int fd, const char *name, long long mtime)
{
    const size_t cap = NG_RECORD_MAX_LINE + READ_CHUNK;
    if (!r->buf && !(r->buf = malloc(cap)))
        return -1;
    char *buf = r->buf;
    size_t have = 0;
    unsigned long lineno = 0;
    unsigned long long skipping = 0;   /* bytes of an over-long line so far */
    int eof = 0;
    r->in.files++;
    while (!eof) {
        ssize_t got = read(fd, buf + have, cap - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        eof = got == 0;
        have += (size_t)got;
        size_t pos = 0;
        for (;;) {
            const char *nl = memchr(buf + pos, '\n', have - pos);
            if (!nl)
                break;
            size_t end = (size_t)(nl - buf);
            lineno++;
            if (skipping) {
                too_long(r, name, lineno, skipping + (end - pos));
                skipping = 0;
            } else if (end - pos > NG_RECORD_MAX_LINE) {
                too_long(r, name, lineno, end - pos);
            } else if (end > pos) {
                add_line(r, name, lineno, buf + pos, end - pos, mtime, 0);
            }
            pos = end + 1;
        }
        size_t rest = have - pos;
        if (eof) {
            if (skipping || rest > NG_RECORD_MAX_LINE)
                too_long(r, name, ++lineno, skipping + rest);
            else if (rest)
                add_line(r, name, ++lineno, buf + pos, rest, mtime, 1);
            break;
        }
        if (skipping || rest > NG_RECORD_MAX_LINE) {
            skipping += rest;   /* an over-long line: drop what we have of it */
            rest = 0;
        }
        memmove(buf, buf + pos, rest);
        have = rest;
    }
    return 0;
}

/* Open a file of records: regular files only (a FIFO never blocks us),
 * each (device, inode) once. 1: already read. */
static int read_file(ng_report *r, int dirfd, const char *rel, const char *name, char *err,
                     size_t errlen)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0)
        return ng_err(err, errlen, "%s: %s", name, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ng_err(err, errlen, "%s: not a regular file or a directory", name);
    }
    int fresh = hset_add(&r->files, mix((uint64_t)st.st_dev * 0x9e3779b97f4a7c15ULL ^
                                        (uint64_t)st.st_ino));
    if (fresh <= 0) {
        close(fd);
        return fresh < 0 ? ng_err(err, errlen, "out of memory") : 1;
    }
    int rc = read_fd(r, fd, name, (long long)st.st_mtime);
    int e = errno;
    close(fd);
    return rc < 0 ? ng_err(err, errlen, "%s: %s", name, strerror(e)) : 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int by_dname(const void *a, const void *b)
{
    return strcmp((*(struct dirent *const *)a)->d_name, (*(struct dirent *const *)b)->d_name);
}

static int walk(ng_report *r, int dirfd, const char *dirname, int depth)
{
    struct dirent **ents = NULL;
    char err[NG_ERRLEN];
    int fd2 = dup(dirfd);
    DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
    if (!d) {
        if (fd2 >= 0)
            close(fd2);
        problem(r, NG_PROB_UNREADABLE, dirname, 0, strerror(errno));
        return 0;
    }
    /* Sorted, so problems and ties come out the same every run. */
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)); ) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            struct dirent **ne = realloc(ents, (size_t)(cap = cap ? 2 * cap : 64) * sizeof(*ne));
            if (!ne)
                break;
            ents = ne;
        }
        size_t sz = offsetof(struct dirent, d_name) + strlen(e->d_name) + 1;
        if (!(ents[n] = malloc(sz > sizeof(*e) ? sz : sizeof(*e))))
            break;
        memcpy(ents[n++], e, sz);
    }
    closedir(d);
    if (n)
        qsort(ents, (size_t)n, sizeof(*ents), by_dname);
    for (int i = 0; i < n; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dirname, ents[i]->d_name);
        if (fstatat(dirfd, ents[i]->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            problem(r, NG_PROB_UNREADABLE, path, 0, strerror(errno));
        } else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
            int sub = openat(dirfd, ents[i]->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                             O_CLOEXEC);
            if (sub < 0) {
                problem(r, NG_PROB_UNREADABLE, path, 0, strerror(errno));
            } else {
                walk(r, sub, path, depth + 1);
                close(sub);
            }
        } else if (!ends_with(ents[i]->d_name, ".json")) {
            /* .summary and anything else: not records */
        } else if (!S_ISREG(st.st_mode)) {
            problem(r, NG_PROB_UNREADABLE, path, 0, S_ISLNK(st.st_mode) ? "a symlink: not followed"
                    : "not a regular file: skipped");
        } else if (read_file(r, dirfd, ents[i]->d_name, path, err, sizeof(err)) < 0) {
            const char *why = strstr(err, ": ");
            problem(r, NG_PROB_UNREADABLE, path, 0, why ? why + 2 : err);
        }
        free(ents[i]);
    }
    free(ents);
    return 0;
}

int ng_report_add_path(ng_report *r, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return ng_err(err, errlen, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return ng_err(err, errlen, "%s: %s", path, strerror(errno));
        /* "dir/" names its files "dir/x.json", not "dir//x.json". */
        char name[4096];
        snprintf(name, sizeof(name), "%s", path);
        for (size_t l = strlen(name); l > 1 && name[l - 1] == '/'; l--)
            name[l - 1] = '\0';
        walk(r, fd, name, 0);
        close(fd);
    } else if (read_file(r, AT_FDCWD, path, path, err, errlen) < 0) {
        return -1;
    }
    return r->oom ? ng_err(err, errlen, "out of memory reading %s", path) : 0;
}

const ng_report_input *ng_report_input_counts(const ng_report *r)
{
    return &r->in;
}

/* ------------------------------------------------------------ ordering */

static double share(const ng_report_row *w)
{
    return w->pages ? 100.0 * (double)w->local_pages / (double)w->pages : 101.0;
}

static int by_name(const ng_report_row *a, const ng_report_row *b)
{
    if (a->job != b->job)
        return a->job < b->job ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int worst_first(const void *pa, const void *pb)
{
    const ng_report_row *a = pa, *b = pb;
    unsigned long ba = ng_report_row_bad(a), bb = ng_report_row_bad(b);
    if (ba != bb)
        return ba > bb ? -1 : 1;
    double sa = share(a), sb = share(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (a->errors != b->errors)
        return a->errors > b->errors ? -1 : 1;
    return by_name(a, b);
}

int ng_report_rows(ng_report *r, ng_report_by by, const ng_report_row **rows)
{
    table *t = &r->t[by];
    if (!t->sorted && t->n) {
        qsort(t->rows, t->n, sizeof(*t->rows), worst_first);
        /* The index points at the old order: rebuild it on the next insert. */
        free(t->idx);
        t->idx = NULL;
        t->icap = 0;
        t->sorted = 1;
    }
    *rows = t->rows;
    return (int)t->n;
}

const ng_report_row *ng_report_total(ng_report *r)
{
    r->total.jobs = r->t[NG_BY_JOB].n;
    r->total.nodes = r->t[NG_BY_NODE].n;
    r->total.users = r->t[NG_BY_USER].n;
    return &r->total;
}

char *ng_report_problems(const ng_report *r, int max)
{
    ng_buf b = { 0 };
    for (int k = 0; k < NG_PROB_COUNT; k++) {
        const named *n = &r->named[k];
        for (int i = 0; i < n->n && i < max; i++) {
            if (n->at[i].line)
                ng_buf_add(&b, "%s:%lu: %s\n", n->at[i].file, n->at[i].line, n->at[i].why);
            else
                ng_buf_add(&b, "%s: %s\n", n->at[i].file, n->at[i].why);
        }
        unsigned long shown = (unsigned long)(n->n < max ? n->n : max);
        if (r->in.problems[k] > shown)
            ng_buf_add(&b, "... and %lu more %s\n", r->in.problems[k] - shown,
                       ng_problem_name((ng_problem)k));
    }
    char *s = ng_buf_take(&b);
    return s ? s : strdup("");
}

/* ------------------------------------------------------------ output */

static void mib(char *out, size_t len, unsigned long long kb)
{
    if (kb % 1024 == 0)
        snprintf(out, len, "%llu", kb / 1024);
    else
        snprintf(out, len, "%.1f", (double)kb / 1024.0);
}

static void row_text(ng_buf *b, const ng_report_row *w, ng_report_by by, int namew)
{
    char pct[16] = "-", worst[16] = "-", res[32], rel[32], c2[80];
    if (w->pages)
        snprintf(pct, sizeof(pct), "%.1f", share(w));
    if (w->worst_pct >= 0)
        snprintf(worst, sizeof(worst), "%.1f", w->worst_pct);
    mib(res, sizeof(res), w->hp_reserved_kb);
    mib(rel, sizeof(rel), w->hp_released_kb);
    if (by == NG_BY_JOB)
        snprintf(c2, sizeof(c2), "%-12s %5lu", w->user[0] ? w->user : "?", w->nodes);
    else
        snprintf(c2, sizeof(c2), "%5lu", w->jobs);
    ng_buf_add(b, "%-*s %s %6lu %6lu %7lu %6lu %7lu %7lu %6lu %6s %6s %7s %7s %5lu %4lu\n",
               namew, by == NG_BY_USER && !w->name[0] ? "?" : w->name, c2, w->tasks,
               w->cls[NG_CLASS_LOCAL], w->cls[NG_CLASS_PARTIAL], w->cls[NG_CLASS_REMOTE],
               w->cls[NG_CLASS_UNBOUND], w->cls[NG_CLASS_REFUSED], w->cls[NG_CLASS_OTHER], pct,
               worst, res, rel, w->irqs, w->errors);
}

static const char *const by_title[NG_BY_COUNT] = { "job", "node", "user" };

static void header(ng_buf *b, const ng_report *r, int json)
{
    const ng_report_input *in = &r->in;
    if (json) {
        ng_buf_add(b, "{\"schema\":1,\"kind\":\"input\",\"files\":%lu,\"lines\":%lu,"
                   "\"records\":%lu,\"used\":%lu,\"filtered\":%lu,\"by_schema\":{", in->files,
                   in->lines, in->records, in->used, in->filtered);
        for (int s = 1; s <= NG_AUDIT_SCHEMA; s++)
            ng_buf_add(b, "%s\"%d\":%lu", s > 1 ? "," : "", s, in->by_schema[s]);
        ng_buf_add(b, "}");
        for (int k = 0; k < NG_PROB_COUNT; k++)
            ng_buf_add(b, ",\"%s\":%lu", ng_problem_name((ng_problem)k), in->problems[k]);
        ng_buf_add(b, "}\n");
        for (int k = 0; k < NG_PROB_COUNT; k++)
            for (int i = 0; i < r->named[k].n; i++) {
                ng_buf_add(b, "{\"schema\":1,\"kind\":\"problem\",\"problem\":\"%s\",\"file\":",
                           ng_problem_name((ng_problem)k));
                ng_buf_json_str(b, r->named[k].at[i].file);
                if (r->named[k].at[i].line)
                    ng_buf_add(b, ",\"line\":%lu,\"why\":", r->named[k].at[i].line);
                else
                    ng_buf_add(b, ",\"line\":null,\"why\":");
                ng_buf_json_str(b, r->named[k].at[i].why);
                ng_buf_add(b, "}\n");
            }
        return;
    }
    ng_buf_add(b, "%lu record(s) counted of %lu read from %lu file(s) (", in->used, in->records,
               in->files);
    int first = 1;
    for (int s = 1; s <= NG_AUDIT_SCHEMA; s++)
        if (in->by_schema[s]) {
            ng_buf_add(b, "%sschema %d: %lu", first ? "" : ", ", s, in->by_schema[s]);
            first = 0;
        }
    ng_buf_add(b, "%s)", first ? "no records" : "");
    if (in->filtered)
        ng_buf_add(b, "; %lu not matching the filters", in->filtered);
    unsigned long bad = 0;
    for (int k = 0; k < NG_PROB_COUNT; k++)
        bad += in->problems[k];
    if (bad) {
        ng_buf_add(b, "; skipped:");
        for (int k = 0, sep = 0; k < NG_PROB_COUNT; k++)
            if (in->problems[k])
                ng_buf_add(b, "%s %lu %s", sep++ ? "," : "", in->problems[k],
                           ng_problem_name((ng_problem)k));
        ng_buf_add(b, " (named on stderr)");
    }
    ng_buf_add(b, "\n");
}

char *ng_report_text(ng_report *r, int top)
{
    ng_buf b = { 0 };
    header(&b, r, 0);
    for (int by = 0; by < NG_BY_COUNT; by++) {
        const ng_report_row *rows;
        int n = ng_report_rows(r, (ng_report_by)by, &rows), shown = top > 0 && top < n ? top : n;
        int namew = 8;
        for (int i = 0; i < shown; i++)
            if ((int)strlen(rows[i].name) > namew)
                namew = (int)strlen(rows[i].name) > 40 ? 40 : (int)strlen(rows[i].name);
        ng_buf_add(&b, "\nper %s (%d%s), worst first:\n", by_title[by], n,
                   shown < n ? ", top shown" : "");
        char name[16];
        snprintf(name, sizeof(name), "%s", by == NG_BY_JOB ? "JOB" : by == NG_BY_NODE ? "NODE"
                 : "USER");
        ng_buf_add(&b, "%-*s %s  TASKS  LOCAL PARTIAL REMOTE UNBOUND REFUSED  OTHER PAGES%%   "
                   "MIN%%  HP-RES  HP-REL  IRQS  ERR\n", namew, name,
                   by == NG_BY_JOB ? "USER         NODES" : " JOBS");
        for (int i = 0; i < shown; i++)
            row_text(&b, &rows[i], (ng_report_by)by, namew);
    }
    const ng_report_row *t = ng_report_total(r);
    char pct[16] = "-", res[32], rel[32];
    if (t->pages)
        snprintf(pct, sizeof(pct), "%.1f", share(t));
    mib(res, sizeof(res), t->hp_reserved_kb);
    mib(rel, sizeof(rel), t->hp_released_kb);
    ng_buf_add(&b, "\ntotal: %lu job(s), %lu node(s), %lu user(s), %lu task(s): %lu local, %lu "
               "partial, %lu remote, %lu unbound, %lu refused, %lu other\n       pages local %s%%; "
               "hugepages %s MiB reserved, %s MiB released; %lu IRQ(s) steered; %lu task(s) "
               "with a plugin error\n", t->jobs, t->nodes, t->users, t->tasks,
               t->cls[NG_CLASS_LOCAL], t->cls[NG_CLASS_PARTIAL], t->cls[NG_CLASS_REMOTE],
               t->cls[NG_CLASS_UNBOUND], t->cls[NG_CLASS_REFUSED], t->cls[NG_CLASS_OTHER], pct,
               res, rel, t->irqs, t->errors);
    ng_buf_add(&b, "PAGES%%: sampled pages on the GPUs' nodes (all tasks' pages); MIN%%: the "
               "worst task; HP-RES/HP-REL: hugepages reserved / given back at task exit, MiB\n");
    return ng_buf_take(&b);
}

static void num_or_null(ng_buf *b, const char *key, int have, double v)
{
    if (have)
        ng_buf_add(b, ",\"%s\":%.1f", key, v);
    else
        ng_buf_add(b, ",\"%s\":null", key);
}

static void row_json(ng_buf *b, const ng_report_row *w, const char *kind)
{
    ng_buf_add(b, "{\"schema\":1,\"kind\":\"%s\",", kind);
    if (!strcmp(kind, "job")) {
        ng_buf_add(b, "\"job\":%lu,\"user\":", w->job);
        if (w->user[0])
            ng_buf_json_str(b, w->user);
        else
            ng_buf_add(b, "null");
        ng_buf_add(b, ",\"nodes\":%lu", w->nodes);
    } else if (!strcmp(kind, "total")) {
        ng_buf_add(b, "\"jobs\":%lu,\"nodes\":%lu,\"users\":%lu", w->jobs, w->nodes, w->users);
    } else {
        ng_buf_add(b, "\"%s\":", kind);
        if (w->name[0])
            ng_buf_json_str(b, w->name);
        else
            ng_buf_add(b, "null");
        ng_buf_add(b, ",\"jobs\":%lu", w->jobs);
    }
    ng_buf_add(b, ",\"tasks\":%lu", w->tasks);
    for (int c = 0; c < NG_CLASS_COUNT; c++)
        ng_buf_add(b, ",\"%s\":%lu", ng_verdict_class_name((ng_verdict_class)c), w->cls[c]);
    ng_buf_add(b, ",\"bad\":%lu,\"errors\":%lu,\"sampled_tasks\":%lu,\"pages\":%llu,"
               "\"local_pages\":%llu", ng_report_row_bad(w), w->errors, w->sampled, w->pages,
               w->local_pages);
    num_or_null(b, "local_pages_pct", w->pages > 0, share(w));
    num_or_null(b, "worst_local_pct", w->worst_pct >= 0, w->worst_pct);
    ng_buf_add(b, ",\"hugepages_reserved_kb\":%llu,\"hugepages_released_kb\":%llu,"
               "\"irqs_steered\":%lu", w->hp_reserved_kb, w->hp_released_kb, w->irqs);
    if (w->plugin_n)
        ng_buf_add(b, ",\"plugin_ms_mean\":%.3f,\"plugin_ms_max\":%.3f",
                   w->plugin_ms_sum / (double)w->plugin_n, w->plugin_ms_max);
    else
        ng_buf_add(b, ",\"plugin_ms_mean\":null,\"plugin_ms_max\":null");
    if (w->first >= 0)
        ng_buf_add(b, ",\"first_time\":%lld,\"last_time\":%lld}\n", w->first, w->last);
    else
        ng_buf_add(b, ",\"first_time\":null,\"last_time\":null}\n");
}

char *ng_report_json(ng_report *r, int top)
{
    ng_buf b = { 0 };
    header(&b, r, 1);
    for (int by = 0; by < NG_BY_COUNT; by++) {
        const ng_report_row *rows;
        int n = ng_report_rows(r, (ng_report_by)by, &rows);
        for (int i = 0; i < n && (top <= 0 || i < top); i++)
            row_json(&b, &rows[i], by_title[by]);
    }
    row_json(&b, ng_report_total(r), "total");
    return ng_buf_take(&b);
}

/* ------------------------------------------------------------ --since */

static int date_part(const char *s, struct tm *tm, int *utc)
{
    int n = 0, y, mo, d, h = 0, mi = 0, sec = 0;
    memset(tm, 0, sizeof(*tm));
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    s += n;
    if (*s == 'T' || *s == ' ') {
        int m = 0;
        if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5)
            return -1;
        s += 1 + m;
        if (*s == ':') {
            if (sscanf(s + 1, "%2d%n", &sec, &m) != 1 || m != 2)
                return -1;
            s += 3;
        }
    }
    *utc = *s == 'Z';
    s += *utc;
    if (*s || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || h < 0 || mi < 0 || sec < 0)
        return -1;
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = sec;
    tm->tm_isdst = -1;
    return 0;
}

int ng_since_parse(const char *s, long long now, long long *out, char *err, size_t errlen)
{
    static const char expect[] = "expected a duration back from now (90s, 30m, 12h, 7d, 2w) or "
                                 "a date (2025-11-30, 2025-11-30T08:00[:SS], local time unless "
                                 "it ends in Z)";
    size_t len = strlen(s);
    unsigned long long v;
    if (len > 1 && strchr("smhdw", s[len - 1]) && strspn(s, "0123456789") == len - 1) {
        static const char units[] = "smhdw";
        static const unsigned long long secs[] = { 1, 60, 3600, 86400, 604800 };
        unsigned long long unit = secs[strchr(units, s[len - 1]) - units];
        char digits[32];
        snprintf(digits, sizeof(digits), "%.*s", (int)(len - 1), s);
        if (len - 1 >= sizeof(digits) || ng_parse_u64(digits, 1, 3153600000ULL / unit, &v) < 0)
            return ng_err(err, errlen, "'%s' is out of range (1s to 100 years back)", s);
        *out = now - (long long)(v * unit);
        return 0;
    }
    if (s[0] == '@') {
        if (ng_parse_u64(s + 1, 0, (unsigned long long)(now > 0 ? now : 0), &v) < 0)
            return ng_err(err, errlen, "'%s' is not a time in seconds since the epoch up to now",
                          s);
        *out = (long long)v;
        return 0;
    }
    struct tm tm;
    int utc = 0;
    if (date_part(s, &tm, &utc) < 0)
        return ng_err(err, errlen, "'%s' is not a duration or a date: %s", s, expect);
    struct tm want = tm;
    time_t t = utc ? timegm(&tm) : mktime(&tm);
    /* mktime normalizes 2025-02-30 into March: refuse what it had to move. */
    if (t == (time_t)-1 || tm.tm_mday != want.tm_mday || tm.tm_mon != want.tm_mon)
        return ng_err(err, errlen, "'%s' is not a date of the calendar", s);
    if ((long long)t > now)
        return ng_err(err, errlen, "'%s' is in the future", s);
    *out = (long long)t;
    return 0;
}
