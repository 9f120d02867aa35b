/* Prometheus metrics of one node for node_exporter's textfile collector.
 *
 * Counters must only grow, so they are running totals: the job epilog
 * folds the job's audit records (DIR/<jobid>.json, this host's lines) into
 * <state_dir>/metrics.state under <state_dir>/metrics.lock, remembering how
 * many lines of each job file it read (a second epilog run or a requeued
 * job never counts a line twice). Deriving totals from the whole audit
 * directory instead would cost every epilog all records ever written (all
 * nodes' on a shared directory) and would make counters fall whenever
 * admins rotate old records. The default state_dir, /run/numa-gpu, is
 * emptied by a reboot: the counters restart from 0 then, which Prometheus
 * reads as the reset it is (rate() and increase() handle it).
 * Gauges come from the hugepage and IRQ ledgers at the time of the run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private/hugepages.h"
#include "private/irq.h"
#include "private/metrics.h"
#include "private/record.h"
#include "private/util.h"

#define STATE_HEADER "# numa-gpu metrics state v1\n"
#define STATE_MAX (1 << 20)

const char *const ng_met_verdicts[NG_MET_NVERDICTS] = {
    "local", "partial", "remote", "unknown", "nogpu", "overcommit", "skipped", "refused",
    "unbound", "other" };
const char *const ng_met_skips[NG_MET_NSKIPS] = { "damaged", "future", "invalid" };

/* Percent, around audit_warn_local's default (80): where "mostly local" ends. */
static const double local_le[] = { 10, 25, 50, 80, 90, 95, 99, 100 };
/* Milliseconds: the plugin's budget is 1 ms a task (median 0.1 ms measured). */
static const double plugin_le[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 100, 1000 };
#define NLE(a) ((int)(sizeof(a) / sizeof((a)[0])))

void ng_metrics_init(ng_metrics *m)
{
    memset(m, 0, sizeof(*m));
    m->local.n = NLE(local_le);
    m->local.le = local_le;
    m->local.unit = 100;
    m->plugin.n = NLE(plugin_le);
    m->plugin.le = plugin_le;
    m->plugin.unit = 1000;
}

static void hist_add(ng_hist *h, double v)
{
    int i = 0;
    while (i < h->n && v > h->le[i])
        i++;
    h->count[i]++;
    h->sum += v / h->unit;
}

static int verdict_index(const char *v)
{
    for (int i = 0; i < NG_MET_OTHER; i++)
        if (!strcmp(v, ng_met_verdicts[i]))
            return i;
    return NG_MET_OTHER;
}

int ng_metrics_add_line(ng_metrics *m, const char *line, size_t len, const char *host,
                        unsigned long *step, long *irqs)
{
    ng_record *r = malloc(sizeof(*r));
    char why[256];
    *step = 0;
    *irqs = -1;
    if (!r)
        return -1;
    ng_rec_status st = ng_record_parse(line, len, r, why, sizeof(why));
    int rc = 1;
    if (st != NG_REC_OK) {
        int k = (int)st - 1;   /* damaged, future, invalid */
        m->skipped[k >= 0 && k < NG_MET_NSKIPS ? k : 0]++;
        rc = -1;
    } else if (strcmp(r->host, host)) {
        rc = 0;
    } else {
        m->tasks[verdict_index(r->verdict)]++;
        if (r->local_pct >= 0 && r->local_pct <= 100)
            hist_add(&m->local, r->local_pct);
        if (r->plugin_ms >= 0 && isfinite(r->plugin_ms))
            hist_add(&m->plugin, r->plugin_ms);
        m->errors += r->has_error != 0;
        for (int i = 0; r->hp.pagesize_kb && i < r->hp.nnodes; i++)
            if (r->hp.by_node[i].node >= 0 && r->hp.by_node[i].node < NG_MAX_NODES)
                m->hp_bytes[r->hp.by_node[i].node] +=
                    r->hp.by_node[i].pages * r->hp.pagesize_kb * 1024ull;
        *step = r->step;
        *irqs = r->irqs_steered;
    }
    free(r);
    return rc;
}

/* ------------------------------------------------------------ job files */

static ng_met_job *job_find(ng_metrics *m, unsigned long job)
{
    for (int i = 0; i < m->njobs; i++)
        if (m->job[i].job == job)
            return &m->job[i];
    return NULL;
}

/* Remember job as the newest entry (the oldest goes when the table is full). */
static void job_remember(ng_metrics *m, const ng_met_job *j)
{
    ng_met_job copy = *j, *old = job_find(m, j->job);
    if (old) {
        int i = (int)(old - m->job);
        memmove(&m->job[i], &m->job[i + 1], (size_t)(m->njobs - i - 1) * sizeof(ng_met_job));
        m->njobs--;
    }
    if (m->njobs == NG_MET_JOBS) {
        memmove(&m->job[0], &m->job[1], (size_t)(NG_MET_JOBS - 1) * sizeof(ng_met_job));
        m->njobs--;
    }
    m->job[m->njobs++] = copy;
}

/* One line into buf (newline dropped): its length, -1 at the end; a line
 * longer than a record can be is read to its end and given as too long. */
static long read_line(FILE *f, char *buf, size_t cap, int *too_long)
{
    *too_long = 0;
    if (!fgets(buf, (int)cap, f))
        return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f)) {
        int c;
        *too_long = 1;
        while ((c = fgetc(f)) != EOF && c != '\n')
            ;
    }
    return (long)n;
}

int ng_metrics_fold_job(ng_metrics *m, const char *dir, unsigned long job, const char *host,
                        int *counted, int *skipped, char *err, size_t errlen)
{
    char path[4200];
    *counted = *skipped = 0;
    snprintf(path, sizeof(path), "%s/%lu.json", dir, job);
    /* O_NONBLOCK and a regular file only: a FIFO planted there never hangs
     * an epilog; O_NOFOLLOW: no symlink is followed out of the directory. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 0 : ng_err(err, errlen, "audit file %s: %s%s", path,
                                            strerror(errno), errno == ELOOP ? " (a symlink: refused)" : "");
    struct stat st;
    FILE *f = NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
        close(fd);
        return ng_err(err, errlen, "audit file %s: not a regular file; refused", path);
    }
    flock(fd, LOCK_SH);   /* the plugin appends whole lines under LOCK_EX */
    ng_met_job *known = job_find(m, job), j = { job, 0, 0 };
    if (known)
        j = *known;
    unsigned long seen = j.lines, n = 0;
    char *buf = malloc(NG_RECORD_MAX_LINE + 2);
    unsigned long *steps = NULL;
    int nsteps = 0, rc = buf ? 0 : ng_err(err, errlen, "out of memory");
    long len;
    int too_long;
    while (buf && (len = read_line(f, buf, NG_RECORD_MAX_LINE + 2, &too_long)) >= 0) {
        if (n++ < seen)
            continue;
        unsigned long step;
        long irqs;
        int r = too_long ? (m->skipped[NG_REC_DAMAGED - 1]++, -1)
                         : ng_metrics_add_line(m, buf, (size_t)len, host, &step, &irqs);
        *counted += r > 0;
        *skipped += r < 0;
        if (r <= 0 || irqs < 0)
            continue;
        /* The step's count is in each of its task records: count it once. */
        int dup = 0;
        for (int i = 0; i < nsteps; i++)
            dup |= steps[i] == step;
        unsigned long *ns = dup ? NULL : realloc(steps, (size_t)(nsteps + 1) * sizeof(*steps));
        if (ns) {
            steps = ns;
            steps[nsteps++] = step;
            m->irqs += (unsigned long long)irqs;
        }
    }
    free(steps);
    free(buf);
    fclose(f);   /* and the lock */
    if (rc == 0 && n > seen) {
        m->jobs += *counted && !j.counted;
        j.lines = n;
        j.counted |= *counted > 0;
        job_remember(m, &j);
    }
    return rc;
}

/* ---------------------------------------------------------- state file */

char *ng_metrics_state_str(const ng_metrics *m)
{
    ng_buf b = { 0 };
    ng_buf_add(&b, "%s", STATE_HEADER);
    for (int i = 0; i < NG_MET_NVERDICTS; i++)
        ng_buf_add(&b, "tasks %s %llu\n", ng_met_verdicts[i], m->tasks[i]);
    const ng_hist *h[2] = { &m->local, &m->plugin };
    const char *hn[2] = { "local", "plugin" };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i <= h[k]->n; i++)
            ng_buf_add(&b, "%s %d %llu\n", hn[k], i, h[k]->count[i]);
        ng_buf_add(&b, "%s_sum %.17g\n", hn[k], h[k]->sum);
    }
    ng_buf_add(&b, "errors %llu\njobs %llu\nirqs %llu\n", m->errors, m->jobs, m->irqs);
    for (int i = 0; i < NG_MET_NSKIPS; i++)
        ng_buf_add(&b, "skipped %s %llu\n", ng_met_skips[i], m->skipped[i]);
    for (int i = 0; i < NG_MAX_NODES; i++)
        if (m->hp_bytes[i])
            ng_buf_add(&b, "hugepages %d %llu\n", i, m->hp_bytes[i]);
    for (int i = 0; i < m->njobs; i++)
        ng_buf_add(&b, "job %lu %lu %d\n", m->job[i].job, m->job[i].lines, m->job[i].counted);
    return ng_buf_take(&b);
}

#define U64MAX 18446744073709551615ull

/* One "KEY [NAME] NUMBER..." line into m; -1 when it is not one we write. */
static int state_line(char *line, ng_metrics *m)
{
    char *t[4] = { "" }, *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (n == 4)
            return -1;
        t[n++] = tok;
    }
    if (n < 2)
        return -1;
    unsigned long long v, w, x;
    if (n == 3 && !strcmp(t[0], "tasks") && ng_parse_u64(t[2], 0, U64MAX, &v) == 0) {
        int i = verdict_index(t[1]);
        if (strcmp(ng_met_verdicts[i], t[1]))
            return -1;
        m->tasks[i] = v;
        return 0;
    }
    if (n == 3 && !strcmp(t[0], "skipped") && ng_parse_u64(t[2], 0, U64MAX, &v) == 0) {
        for (int i = 0; i < NG_MET_NSKIPS; i++)
            if (!strcmp(t[1], ng_met_skips[i])) {
                m->skipped[i] = v;
                return 0;
            }
        return -1;
    }
    if (n == 3 && (!strcmp(t[0], "local") || !strcmp(t[0], "plugin"))) {
        ng_hist *h = t[0][0] == 'l' ? &m->local : &m->plugin;
        if (ng_parse_u64(t[1], 0, (unsigned long long)h->n, &w) < 0 ||
            ng_parse_u64(t[2], 0, U64MAX, &v) < 0)
            return -1;
        h->count[w] = v;
        return 0;
    }
    if (n == 2 && (!strcmp(t[0], "local_sum") || !strcmp(t[0], "plugin_sum"))) {
        char *end;
        double d = strtod(t[1], &end);
        if (*end || !isfinite(d) || d < 0)
            return -1;
        (t[0][0] == 'l' ? &m->local : &m->plugin)->sum = d;
        return 0;
    }
    unsigned long long *one = !strcmp(t[0], "errors") ? &m->errors : !strcmp(t[0], "jobs")
                            ? &m->jobs : !strcmp(t[0], "irqs") ? &m->irqs : NULL;
    if (n == 2 && one)
        return ng_parse_u64(t[1], 0, U64MAX, one);
    if (n == 3 && !strcmp(t[0], "hugepages") &&
        ng_parse_u64(t[1], 0, NG_MAX_NODES - 1, &w) == 0 && ng_parse_u64(t[2], 0, U64MAX, &v) == 0) {
        m->hp_bytes[w] = v;
        return 0;
    }
    if (n == 4 && !strcmp(t[0], "job") && ng_parse_u64(t[1], 0, 4294967295ull, &w) == 0 &&
        ng_parse_u64(t[2], 0, U64MAX, &v) == 0 && ng_parse_u64(t[3], 0, 1, &x) == 0) {
        ng_met_job j = { (unsigned long)w, (unsigned long)v, (int)x };
        job_remember(m, &j);
        return 0;
    }
    return -1;
}

int ng_metrics_state_parse(const char *text, ng_metrics *m, char *err, size_t errlen)
{
    ng_metrics_init(m);
    if (strncmp(text, STATE_HEADER, strlen(STATE_HEADER)))
        return ng_err(err, errlen, "line 1 is not '%.*s'", (int)strlen(STATE_HEADER) - 1,
                      STATE_HEADER);
    int lineno = 1;
    for (const char *p = text + strlen(STATE_HEADER); *p; lineno++) {
        const char *nl = strchr(p, '\n');
        char line[256];
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (!nl || len >= sizeof(line))
            return ng_err(err, errlen, "line %d is cut short or too long", lineno + 1);
        memcpy(line, p, len);
        line[len] = '\0';
        if (state_line(line, m) < 0)
            return ng_err(err, errlen, "line %d is not a metrics total", lineno + 1);
        p = nl + 1;
    }
    return 0;
}

/* DIR/metrics.state into m (a fresh start when there is none). */
static int state_load(const char *dir, ng_metrics *m, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/metrics.state", dir);
    ng_metrics_init(m);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 0 : ng_err(err, errlen, "metrics state %s: %s", path,
                                            strerror(errno));
    struct stat st;
    char *text = NULL;
    ssize_t got = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        st.st_size < STATE_MAX && (text = malloc((size_t)st.st_size + 1)))
        got = read(fd, text, (size_t)st.st_size);
    close(fd);
    char why[NG_ERRLEN] = "not a regular file of ours below 1 MiB";
    int rc = -1;
    if (text && got == st.st_size) {
        text[got] = '\0';
        rc = strlen(text) == (size_t)got ? ng_metrics_state_parse(text, m, why, sizeof(why))
                                         : (snprintf(why, sizeof(why), "a NUL byte"), -1);
    }
    free(text);
    if (rc < 0)
        return ng_err(err, errlen, "metrics state %s is corrupt (%s); refusing to write "
                      "counters that would go backwards: check it, then remove it (the counters "
                      "restart from 0, which Prometheus reads as a reset)", path, why);
    return 0;
}

/* ------------------------------------------------------------ exposition */

static void family(ng_buf *b, const char *name, const char *type, const char *help)
{
    ng_buf_add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(ng_buf *b, const char *name, const char *help, const ng_hist *h)
{
    unsigned long long cum = 0;
    family(b, name, "histogram", help);
    for (int i = 0; i < h->n; i++) {
        cum += h->count[i];
        ng_buf_add(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[i] / h->unit, cum);
    }
    cum += h->count[h->n];
    ng_buf_add(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.12g\n%s_count %llu\n", name, cum, name,
               h->sum, name, cum);
}

char *ng_metrics_format(const ng_metrics *m, const ng_met_gauges *g)
{
    ng_buf b = { 0 };
    family(&b, "numa_gpu_tasks_total", "counter",
           "Tasks numa-gpu recorded on this node, by placement verdict (audit records).");
    for (int i = 0; i < NG_MET_NVERDICTS; i++)
        ng_buf_add(&b, "numa_gpu_tasks_total{verdict=\"%s\"} %llu\n", ng_met_verdicts[i],
                   m->tasks[i]);
    histogram(&b, "numa_gpu_task_local_pages_ratio",
              "Share of a sampled task's pages on its GPUs' NUMA nodes (local_pct / 100).",
              &m->local);
    histogram(&b, "numa_gpu_plugin_task_seconds",
              "Time the plugin spent on a task in slurmstepd (plugin_ms).", &m->plugin);
    family(&b, "numa_gpu_plugin_errors_total", "counter",
           "Task records with an error: refused, or left unbound after a failure.");
    ng_buf_add(&b, "numa_gpu_plugin_errors_total %llu\n", m->errors);
    /* Every node of the machine, so a series reads 0 rather than vanishing. */
    int node[NG_MAX_NODES];
    for (int i = 0; i < NG_MAX_NODES; i++)
        node[i] = g->node_known[i] || m->hp_bytes[i] || (g->hp_ok && g->hp_bytes[i]);
    family(&b, "numa_gpu_task_hugepages_reserved_bytes_total", "counter",
           "Hugepage bytes reserved for tasks, by NUMA node (audit records).");
    for (int i = 0; i < NG_MAX_NODES; i++)
        if (node[i])
            ng_buf_add(&b, "numa_gpu_task_hugepages_reserved_bytes_total{node=\"%d\"} %llu\n", i,
                       m->hp_bytes[i]);
    if (g->hp_ok) {
        family(&b, "numa_gpu_hugepages_reserved_bytes", "gauge",
               "Hugepage bytes numa-gpu holds reserved for running jobs now, by NUMA node "
               "(hugepage ledger).");
        for (int i = 0; i < NG_MAX_NODES; i++)
            if (node[i])
                ng_buf_add(&b, "numa_gpu_hugepages_reserved_bytes{node=\"%d\"} %llu\n", i,
                           g->hp_bytes[i]);
    }
    family(&b, "numa_gpu_step_irqs_steered_total", "counter",
           "IRQs of GPUs and NICs steered to their device's node, summed over job steps "
           "(audit records).");
    ng_buf_add(&b, "numa_gpu_step_irqs_steered_total %llu\n", m->irqs);
    if (g->irq_ok) {
        family(&b, "numa_gpu_irqs_steered", "gauge",
               "IRQs numa-gpu holds steered for running jobs now (IRQ ledger).");
        ng_buf_add(&b, "numa_gpu_irqs_steered %ld\n", g->irqs);
    }
    family(&b, "numa_gpu_jobs_total", "counter",
           "Jobs with task records of this node counted.");
    ng_buf_add(&b, "numa_gpu_jobs_total %llu\n", m->jobs);
    family(&b, "numa_gpu_audit_lines_skipped_total", "counter",
           "Audit lines not counted: damaged (cut short, not JSON), future (a newer schema), "
           "invalid (a field missing or out of range).");
    for (int i = 0; i < NG_MET_NSKIPS; i++)
        ng_buf_add(&b, "numa_gpu_audit_lines_skipped_total{reason=\"%s\"} %llu\n",
                   ng_met_skips[i], m->skipped[i]);
    return ng_buf_take(&b);
}

int ng_metrics_write_file(const char *path, const char *text, char *err, size_t errlen)
{
    size_t pl = strlen(path);
    if (pl < 6 || strcmp(path + pl - 5, ".prom") || path[pl - 6] == '/')
        return ng_err(err, errlen, "metrics file '%s': the name must end in .prom "
                      "(node_exporter's textfile collector reads only *.prom)", path);
    char d[4200], base[4200], tmp[8500];
    snprintf(d, sizeof(d), "%s", path);
    snprintf(base, sizeof(base), "%s", path);
    const char *dir = dirname(d), *name = basename(base);
    /* A dot name that is no .prom: node_exporter never reads it half-written. */
    snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid());
    unlink(tmp);   /* one a crash left behind (never followed: O_EXCL) */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return ng_err(err, errlen, "metrics file %s: %s", tmp, strerror(errno));
    size_t len = strlen(text);
    /* node_exporter runs as its own user: it must be able to read it. */
    int ok = fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    if (close(fd) < 0 && ok)
        ok = 0, e = errno;
    if (!ok || rename(tmp, path) < 0) {
        e = ok ? errno : e;
        unlink(tmp);
        return ng_err(err, errlen, "metrics file %s: cannot replace: %s", path, strerror(e));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {   /* the rename itself survives a crash */
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* ------------------------------------------------------------------ run */

static void read_gauges(const ng_met_opts *o, ng_met_gauges *g, ng_buf *note)
{
    char p[4200], err[NG_ERRLEN];
    memset(g, 0, sizeof(*g));
    snprintf(p, sizeof(p), "%s/devices/system/node", o->sysfs ? o->sysfs : "/sys");
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned long long n;
        if (!strncmp(e->d_name, "node", 4) && ng_parse_u64(e->d_name + 4, 0, NG_MAX_NODES - 1,
                                                           &n) == 0)
            g->node_known[n] = 1;
    }
    if (d)
        closedir(d);
    ng_hp_ctx hc = { o->sysfs, NULL, o->state_dir, 0, 0 };
    g->hp_ok = ng_hp_reserved_bytes(&hc, g->hp_bytes, err, sizeof(err)) == 0;
    if (!g->hp_ok)
        ng_buf_add(note, "%shugepage gauge left out: %s", note->len ? "; " : "", err);
    ng_irq_ctx ic = { NULL, NULL, o->state_dir };
    int n = 0;
    g->irq_ok = ng_irq_steered(&ic, &n, err, sizeof(err)) == 0;
    g->irqs = n;
    if (!g->irq_ok)
        ng_buf_add(note, "%sIRQ gauge left out: %s", note->len ? "; " : "", err);
}

int ng_metrics_run(const ng_met_opts *o, char **text, char *note, size_t notelen, char *err,
                   size_t errlen)
{
    if (text)
        *text = NULL;
    note[0] = '\0';
    int lk = ng_state_lock(o->state_dir, "metrics.lock", "metrics", err, errlen);
    if (lk < 0)
        return -1;
    ng_metrics *m = malloc(sizeof(*m));
    ng_met_gauges *g = malloc(sizeof(*g));
    if (!m || !g) {
        free(m);
        free(g);
        ng_state_unlock(lk);
        return ng_err(err, errlen, "out of memory");
    }
    ng_buf nb = { 0 };
    int rc = state_load(o->state_dir, m, err, errlen), partial = 0;
    for (int i = 0; rc == 0 && i < o->njobs; i++) {
        int counted = 0, skipped = 0;
        char e[NG_ERRLEN];
        if (ng_metrics_fold_job(m, o->audit_dir, o->jobs[i], o->host, &counted, &skipped, e,
                                sizeof(e)) < 0) {
            ng_buf_add(&nb, "%sjob %lu left out: %s", nb.len ? "; " : "", o->jobs[i], e);
            partial = 1;
            continue;
        }
        ng_buf_add(&nb, "%sjob %lu: %d record(s) of %s counted", nb.len ? "; " : "", o->jobs[i],
                   counted, o->host);
        if (skipped)
            ng_buf_add(&nb, ", %d line(s) skipped (damaged or unreadable)", skipped);
    }
    if (rc == 0) {
        size_t before = nb.len;
        read_gauges(o, g, &nb);
        partial |= nb.len != before;
        char path[4200], *s = ng_metrics_state_str(m);
        snprintf(path, sizeof(path), "%s/metrics.state", o->state_dir);
        rc = s ? ng_write_replace(path, s, "metrics state", err, errlen) : -1;
        free(s);
    }
    if (rc == 0) {
        char *prom = ng_metrics_format(m, g);
        if (!prom)
            rc = ng_err(err, errlen, "out of memory");
        else if (o->output)
            rc = ng_metrics_write_file(o->output, prom, err, errlen);
        if (rc == 0 && !o->output && text) {
            *text = prom;
            prom = NULL;
        }
        free(prom);
    }
    ng_state_unlock(lk);
    char *ns = ng_buf_take(&nb);
    snprintf(note, notelen, "%s", ns ? ns : "");
    free(ns);
    free(m);
    free(g);
    return rc < 0 ? -1 : partial;
}
