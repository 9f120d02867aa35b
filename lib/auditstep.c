/* The audit of one step on one node: what each task was meant to get and
 * what the kernel gave it (filled by the task), page samples taken by a
 * thread of the root parent, and one JSON record per task at its exit.
 * The slots are shared with the forked tasks (lib/slots.c): a task writes
 * its slot, then marks it filled or done; the parent reads it at exit. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "private/audit.h"
#include "private/auditstep.h"
#include "private/record.h"
#include "private/slots.h"
#include "private/util.h"

/* A slot's marks: what the task wrote in it. */
enum { SLOT_FILLED = 1, SLOT_DONE = 2 };

typedef struct {
    char home[256], cpus[1024];   /* intended */
    char summary[1024];
    char task_json[6144];         /* without verdict and reason */
    char verdict[16];
    char reason[2048];            /* a JSON string literal */
    /* After the plugin's work for the task (ng_audit_step_done). */
    ng_task_outcome outcome;
    double plugin_ms;
    char error[1024];
    char hugepages[512];          /* the NUMA_GPU_HUGEPAGES value */
    int hp_released;              /* the parent gave the pages back */
} slot;

struct ng_audit_step {
    ng_audit_conf conf;
    char dir[1024], host[256];
    unsigned long job, step;
    int n;
    ng_mode mode;
    char user[64];                /* the job's, "" when not known */
    long long uid;                /* -1 when not known */
    int irqs;                     /* steered for the step; -1: irq=apply off */
    ng_slots *slots;              /* shared with the tasks; its thread samples */
    char skip_json[512];          /* the step is not placed: why */
    int *pid, (*perf)[2];
    char (*perf_why)[192];
    ng_pages *samples;
    time_t *sample_at;
    int ticks;                    /* the sampler's, every 100 ms */
    atomic_int forked;            /* tasks started (release: their pid is set) */
    pthread_mutex_t lock;         /* samples, sample_at */
};

static void sample_tick(void *arg)
{
    ng_audit_step *a = arg;
    /* Not while slurmstepd is still forking tasks: a sample then would
     * run concurrently with fork() for nothing. */
    if (++a->ticks % (a->conf.interval * 10) ||
        atomic_load_explicit(&a->forked, memory_order_acquire) < a->n)
        return;
    for (int i = 0; i < a->n && !ng_slots_stopping(a->slots); i++) {
        ng_pages p;
        char err[NG_ERRLEN];
        if (a->pid[i] <= 0 ||
            ng_sample_task(NULL, NULL, a->pid[i], (ng_method)a->conf.method, a->conf.pages,
                           a->n == 1, &p, err, sizeof(err)) < 0 || !p.total)
            continue;
        pthread_mutex_lock(&a->lock);
        a->samples[i] = p;
        a->sample_at[i] = time(NULL);
        pthread_mutex_unlock(&a->lock);
    }
}

ng_audit_step *ng_audit_step_new(const ng_audit_conf *c, unsigned long job, unsigned long step,
                                 const char *host, int ntasks, ng_mode mode,
                                 const char *skipped, char *err, size_t errlen)
{
    if (ntasks < 1 || ntasks > NG_AUDIT_MAX_TASKS) {
        ng_err(err, errlen, "audit: %d local tasks (expected 1..%d)", ntasks,
               NG_AUDIT_MAX_TASKS);
        return NULL;
    }
    ng_audit_step *a = calloc(1, sizeof(*a));
    if (!a) {
        ng_err(err, errlen, "audit: out of memory");
        return NULL;
    }
    a->conf = *c;
    snprintf(a->dir, sizeof(a->dir), "%s", c->dir ? c->dir : "");
    a->conf.dir = a->dir;
    snprintf(a->host, sizeof(a->host), "%s", host ? host : "");
    a->job = job;
    a->step = step;
    a->n = ntasks;
    a->mode = mode;
    a->uid = -1;
    a->irqs = -1;
    atomic_init(&a->forked, 0);
    pthread_mutex_init(&a->lock, NULL);
    a->slots = ng_slots_new(ntasks, sizeof(slot));
    a->pid = calloc((size_t)ntasks, sizeof(int));
    a->perf = calloc((size_t)ntasks, sizeof(*a->perf));
    a->perf_why = calloc((size_t)ntasks, sizeof(*a->perf_why));
    a->samples = calloc((size_t)ntasks, sizeof(ng_pages));
    a->sample_at = calloc((size_t)ntasks, sizeof(time_t));
    if (!a->slots || !a->pid || !a->perf || !a->perf_why || !a->samples || !a->sample_at) {
        ng_audit_step_free(a);
        ng_err(err, errlen, "audit: out of memory; no records for this step");
        return NULL;
    }
    for (int i = 0; i < ntasks; i++)
        a->perf[i][0] = a->perf[i][1] = -1;
    if (skipped) {
        ng_buf b = { 0 };
        ng_buf_add(&b, "\"mode\":\"%s\",\"verdict\":\"skipped\",\"reason\":", ng_mode_name(mode));
        ng_buf_json_str(&b, skipped);
        char *s = ng_buf_take(&b);
        snprintf(a->skip_json, sizeof(a->skip_json), "%s", s ? s : "\"verdict\":\"skipped\"");
        free(s);
    } else if (c->interval > 0) {
        ng_slots_serve(a->slots, 100, NULL, sample_tick, a);   /* no thread: no samples */
    }
    return a;
}

void ng_audit_step_forked(ng_audit_step *a, int local, int pid)
{
    if (!a || local < 0 || local >= a->n)
        return;
    a->pid[local] = pid;
    atomic_fetch_add_explicit(&a->forked, 1, memory_order_release);
    if (!a->skip_json[0] &&
        ng_perf_open(pid, a->perf[local], a->perf_why[local], sizeof(a->perf_why[local])) == 0)
        a->perf_why[local][0] = '\0';
}

void ng_audit_step_owner(ng_audit_step *a, long long uid, const char *user)
{
    if (!a)
        return;
    a->uid = uid;
    snprintf(a->user, sizeof(a->user), "%s", user ? user : "");
}

void ng_audit_step_irqs(ng_audit_step *a, int steered)
{
    if (a)
        a->irqs = steered;
}

void ng_audit_step_fill(ng_audit_step *a, int local, const ng_plan *p, const ng_effective *eff,
                        const char *given)
{
    if (!a || local < 0 || local >= a->n || !p || local >= p->nranks)
        return;
    slot *sl = ng_slots_data(a->slots, local);
    char *j = ng_audit_task_json(p, local, eff, given);
    ng_buf rb = { 0 };
    ng_buf_json_str(&rb, p->ranks[local].reason);
    char *reason = ng_buf_take(&rb);
    /* A record is one valid JSON line or nothing of it: never cut. */
    if (j && reason && strlen(j) < sizeof(sl->task_json) && strlen(reason) < sizeof(sl->reason)) {
        snprintf(sl->task_json, sizeof(sl->task_json), "%s", j);
        snprintf(sl->reason, sizeof(sl->reason), "%s", reason);
    } else {
        snprintf(sl->task_json, sizeof(sl->task_json), "\"mode\":\"%s\"", ng_mode_name(p->mode));
        snprintf(sl->reason, sizeof(sl->reason), "\"task record longer than %zu bytes: not "
                 "kept\"", sizeof(sl->task_json));
    }
    free(j);
    free(reason);
    snprintf(sl->verdict, sizeof(sl->verdict), "%s", ng_verdict_name(p->ranks[local].verdict));
    ng_audit_task_summary(p, local, eff, sl->summary, sizeof(sl->summary));
    ng_list_str(p->ranks[local].home, sl->home, sizeof(sl->home));
    ng_list_str(p->ranks[local].cpus, sl->cpus, sizeof(sl->cpus));
    ng_slots_mark(a->slots, local, SLOT_FILLED);
}

void ng_audit_step_done(ng_audit_step *a, int local, double plugin_ms, const char *hugepages,
                        ng_task_outcome outcome, const char *error)
{
    if (!a || local < 0 || local >= a->n)
        return;
    slot *sl = ng_slots_data(a->slots, local);
    sl->plugin_ms = plugin_ms;
    sl->outcome = outcome;
    snprintf(sl->hugepages, sizeof(sl->hugepages), "%s", hugepages ? hugepages : "");
    snprintf(sl->error, sizeof(sl->error), "%s", error ? error : "");
    ng_slots_mark(a->slots, local, SLOT_DONE);
}

void ng_audit_step_released(ng_audit_step *a, int local, int released)
{
    if (a && local >= 0 && local < a->n)
        ((slot *)ng_slots_data(a->slots, local))->hp_released = released;
}

/* ',"hugepages":{...}' from the NUMA_GPU_HUGEPAGES value the task was given
 * ("0:4x2048kB,1:4x2048kB": what the kernel granted per node); nothing
 * when there is none or it does not read. */
static void hugepages_json(ng_buf *b, const char *env, int released)
{
    unsigned long long total = 0, pages[NG_RECORD_MAX_HP_NODES];
    unsigned long size = 0;
    int nodes[NG_RECORD_MAX_HP_NODES], n = 0;
    for (const char *p = env; *p; ) {
        char *e;
        unsigned long node = strtoul(p, &e, 10);
        if (e == p || *e != ':' || node >= NG_MAX_NODES || n == NG_RECORD_MAX_HP_NODES)
            return;
        p = e + 1;
        unsigned long long count = strtoull(p, &e, 10);
        if (e == p || *e != 'x')
            return;
        p = e + 1;
        unsigned long kb = strtoul(p, &e, 10);
        if (e == p || strncmp(e, "kB", 2) || (size && kb != size) || !kb)
            return;
        size = kb;
        nodes[n] = (int)node;
        pages[n++] = count;
        total += count;
        p = e + 2;
        if (*p == ',')
            p++;
        else if (*p)
            return;
    }
    if (!n)
        return;
    ng_buf_add(b, ",\"hugepages\":{\"pagesize_kb\":%lu,\"pages\":%llu,\"by_node\":{", size, total);
    for (int i = 0; i < n; i++)
        ng_buf_add(b, "%s\"%d\":%llu", i ? "," : "", nodes[i], pages[i]);
    ng_buf_add(b, "},\"released\":%llu}", released ? total : 0);
}

int ng_audit_step_exit(ng_audit_step *a, int local, int global, char *err, size_t errlen)
{
    if (!a || local < 0 || local >= a->n)
        return 0;
    ng_audit_ids ids = { a->job, a->step, local, global, a->pid[local], -1, a->host,
                         a->user[0] ? a->user : NULL, a->uid, (long long)time(NULL) };
    ng_pages s;
    pthread_mutex_lock(&a->lock);
    s = a->samples[local];
    if (a->sample_at[local])
        ids.sample_age = (int)(time(NULL) - a->sample_at[local]);
    pthread_mutex_unlock(&a->lock);
    char perf[256];
    unsigned long long acc = 0, miss = 0;
    if (a->perf_why[local][0])
        snprintf(perf, sizeof(perf), "%s", a->perf_why[local]);
    else if (ng_perf_read(a->perf[local], &acc, &miss) == 0)
        snprintf(perf, sizeof(perf), "%.1f%% of %llu node loads remote",
                 acc ? 100.0 * (double)miss / (double)acc : 0.0, acc);
    else
        snprintf(perf, sizeof(perf), "unavailable: counters could not be read");
    ng_perf_close(a->perf[local]);
    slot *sl = ng_slots_data(a->slots, local);
    int marks = ng_slots_marks(a->slots, local), filled = marks & SLOT_FILLED,
        done = marks & SLOT_DONE;
    int failed = done && sl->outcome != NG_TASK_OK;
    const char *verdict = !failed ? sl->verdict
                        : sl->outcome == NG_TASK_REFUSED ? "refused" : "unbound";
    /* The task part: the plan's, or what the plugin could say of a task it
     * failed before planning, or why the step is not placed. */
    ng_buf tb = { 0 }, xb = { 0 };
    if (filled) {
        ng_buf_add(&tb, "%s,\"verdict\":\"%s\",\"reason\":%s", sl->task_json, verdict, sl->reason);
    } else if (failed) {
        ng_buf_add(&tb, "\"mode\":\"%s\",\"verdict\":\"%s\",\"reason\":", ng_mode_name(a->mode),
                   verdict);
        ng_buf_json_str(&tb, sl->error);
    } else {
        ng_buf_add(&tb, "%s", a->skip_json[0] ? a->skip_json
                   : "\"verdict\":\"skipped\",\"reason\":\"task exited before placement\"");
    }
    if (done)
        ng_buf_add(&xb, ",\"plugin_ms\":%.3f", sl->plugin_ms);
    if (done && sl->hugepages[0])
        hugepages_json(&xb, sl->hugepages, sl->hp_released);
    if (a->irqs >= 0)
        ng_buf_add(&xb, ",\"irqs_steered\":%d", a->irqs);
    if (done && sl->error[0]) {
        ng_buf_add(&xb, ",\"error\":");
        ng_buf_json_str(&xb, sl->error);
    }
    char *task = ng_buf_take(&tb), *extra = ng_buf_take(&xb), summary[1200];
    if (failed)
        snprintf(summary, sizeof(summary), "%s: %.1000s", sl->outcome == NG_TASK_REFUSED
                 ? "refused, not started" : "ran unbound", sl->error);
    else
        snprintf(summary, sizeof(summary), "%s", filled ? sl->summary : "skipped");
    hwloc_bitmap_t home = hwloc_bitmap_alloc(), home_cpus = hwloc_bitmap_alloc();
    ng_list_parse(filled ? sl->home : "", home);
    ng_list_parse(filled ? sl->cpus : "", home_cpus);
    char *rec = task ? ng_audit_record(&ids, task, extra, summary, home, home_cpus,
                                       a->conf.warn_local, &s, perf) : NULL;
    hwloc_bitmap_free(home);
    hwloc_bitmap_free(home_cpus);
    free(task);
    free(extra);
    char name[64];
    snprintf(name, sizeof(name), "%lu.json", a->job);
    int rc = rec ? ng_audit_append(a->dir, name, rec, err, errlen)
                 : ng_err(err, errlen, "audit: out of memory");
    free(rec);
    return rc;
}

void ng_audit_step_free(ng_audit_step *a)
{
    if (!a)
        return;
    ng_slots_free(a->slots);   /* stops the sampler first */
    free(a->pid);
    free(a->perf);
    free(a->perf_why);
    free(a->samples);
    free(a->sample_at);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

int ng_audit_job_end(const char *dir, unsigned long job, int warn_local, char **text,
                     char *err, size_t errlen)
{
    *text = NULL;
    if (ng_audit_summarize(dir, job, warn_local, text, err, errlen) < 0)
        return 1; /* no records: the job did not use numa-gpu */
    char name[64];
    snprintf(name, sizeof(name), "%lu.summary", job);
    return ng_audit_append(dir, name, *text, err, errlen) < 0 ? -1 : 0;
}
