/* Prometheus metrics (lib/metrics.c): records counted by verdict and host,
 * bucket edges in the records' own units, a job file counted once however
 * often it is folded (and only its new lines after a requeue), the state
 * file's round trip and its corrupt forms refused, the exposition's
 * families, the .prom file replaced atomically with mode 0644, gauges from
 * the hugepage and IRQ ledgers (a corrupt one left out, the rest written),
 * and 8 concurrent runs whose totals add up. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>
#include "t.h"
#include "private/metrics.h"
#include "private/record.h"

static char root[64];

static void put(const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A schema-3 record line of host (fields as lib/audit.c writes them). */
static char *rec(char *buf, size_t len, const char *host, unsigned long job, int step, int task,
                 const char *verdict, const char *extra)
{
    snprintf(buf, len, "{\"schema\":3,\"job\":%lu,\"step\":%d,\"task\":%d,\"global_task\":%d,"
             "\"host\":\"%s\",\"pid\":%d,\"mode\":\"prefer\",\"verdict\":\"%s\"%s%s}\n", job, step,
             task, task, host, 100 + task, verdict, extra[0] ? "," : "", extra);
    return buf;
}

static int add(ng_metrics *m, const char *line, const char *host)
{
    unsigned long step;
    long irqs;
    return ng_metrics_add_line(m, line, strlen(line) - (line[strlen(line) - 1] == '\n'), host,
                               &step, &irqs);
}

static void verdicts_and_hosts(void)
{
    ng_metrics *m = malloc(sizeof(*m));
    char b[2048];
    t_begin("metrics/counts-by-verdict-of-this-host-only");
    ng_metrics_init(m);
    CHECK(add(m, rec(b, sizeof(b), "n1", 1, 0, 0, "local", ""), "n1") == 1, "local");
    CHECK(add(m, rec(b, sizeof(b), "n1", 1, 0, 1, "remote", ""), "n1") == 1, "remote");
    CHECK(add(m, rec(b, sizeof(b), "n1", 1, 0, 2, "refused", "\"error\":\"no memory on node 1\""),
              "n1") == 1, "refused");
    CHECK(add(m, rec(b, sizeof(b), "n1", 1, 0, 3, "from-the-future", ""), "n1") == 1, "other");
    CHECK(add(m, rec(b, sizeof(b), "n2", 1, 0, 4, "local", ""), "n1") == 0, "n2 is not ours");
    CHECK(m->tasks[0] == 1 && m->tasks[2] == 1 && m->tasks[7] == 1 && m->tasks[NG_MET_OTHER] == 1,
          "local %llu remote %llu refused %llu other %llu", m->tasks[0], m->tasks[2], m->tasks[7],
          m->tasks[NG_MET_OTHER]);
    CHECK(!strcmp(ng_met_verdicts[7], "refused") && !strcmp(ng_met_verdicts[NG_MET_OTHER], "other"),
          "verdict names moved");
    CHECK(m->errors == 1, "errors %llu", m->errors);
    t_end();

    /* Schema 4 (the GPUs' shared shape) counts as schema 3 did. */
    t_begin("metrics/schema-3-and-4-gpus-count-alike");
    ng_metrics_init(m);
    static const char gpus3[] = "\"gpu_source\":\"g\",\"gpus\":[{\"pci_busid\":\"0000:01:00.0\","
        "\"numa_nodes\":\"0\"}],\"local_pct\":50.0";
    static const char gpus4[] = "\"gpus\":[{\"pci_busid\":\"0000:01:00.0\",\"numa_nodes\":[0],"
        "\"locality\":\"known\"}],\"gpu_nodes\":[0],\"gpu_source\":\"g\",\"local_pct\":50.0";
    CHECK(add(m, rec(b, sizeof(b), "n1", 2, 0, 0, "partial", gpus3), "n1") == 1, "v3");
    rec(b, sizeof(b), "n1", 2, 0, 1, "partial", gpus4);
    memcpy(strstr(b, "\"schema\":3"), "\"schema\":4", 10);
    CHECK(add(m, b, "n1") == 1, "v4: %s", b);
    CHECK(m->tasks[1] == 2 && m->skipped[0] + m->skipped[1] + m->skipped[2] == 0,
          "partial %llu", m->tasks[1]);
    t_end();

    t_begin("metrics/damaged-future-invalid-lines-skipped-by-reason");
    ng_metrics_init(m);
    CHECK(add(m, "{\"schema\":3,\"job\":1,\"step\":0,\"ta", "n1") < 0, "cut short counted");
    CHECK(add(m, "{\"schema\":99,\"job\":1,\"step\":0,\"task\":0,\"host\":\"n1\",\"verdict\":\"local\"}",
              "n1") < 0, "future counted");
    CHECK(add(m, "{\"schema\":3,\"job\":1,\"step\":0,\"task\":0,\"host\":\"n1\"}", "n1") < 0,
          "no verdict counted");
    CHECK(add(m, rec(b, sizeof(b), "n1", 1, 0, 0, "local", "\"local_pct\":1e300"), "n1") < 0,
          "local_pct 1e300 counted");
    unsigned long long total = 0;
    for (int i = 0; i < NG_MET_NVERDICTS; i++)
        total += m->tasks[i];
    CHECK(m->skipped[0] == 1 && m->skipped[1] == 1 && m->skipped[2] == 2 && total == 0,
          "damaged %llu future %llu invalid %llu tasks %llu", m->skipped[0], m->skipped[1],
          m->skipped[2], total);
    t_end();
    free(m);
}

static void buckets(void)
{
    ng_metrics *m = malloc(sizeof(*m));
    char b[2048];
    t_begin("metrics/bucket-edges-in-record-units");
    ng_metrics_init(m);
    /* le is inclusive: 80.0 % is in le 0.8, 80.1 % in 0.9; 0.1 ms in 0.0001 s. */
    const char *ex[] = { "\"local_pct\":80.0,\"plugin_ms\":0.1",
                         "\"local_pct\":80.1,\"plugin_ms\":0.11",
                         "\"local_pct\":100.0,\"plugin_ms\":1000",
                         "\"local_pct\":0.0,\"plugin_ms\":1000.5",
                         "\"local_pct\":null" };
    for (int i = 0; i < 5; i++)
        add(m, rec(b, sizeof(b), "n1", 1, 0, i, "local", ex[i]), "n1");
    CHECK(m->local.count[3] == 1 && m->local.count[4] == 1 && m->local.count[7] == 1 &&
          m->local.count[0] == 1 && m->local.count[8] == 0,
          "local buckets %llu %llu %llu %llu", m->local.count[0], m->local.count[3],
          m->local.count[4], m->local.count[7]);
    CHECK(m->plugin.count[0] == 1 && m->plugin.count[1] == 1 && m->plugin.count[9] == 1 &&
          m->plugin.count[10] == 1, "plugin buckets %llu %llu %llu %llu", m->plugin.count[0],
          m->plugin.count[1], m->plugin.count[9], m->plugin.count[10]);
    double want = (80.0 + 80.1 + 100.0) / 100;
    CHECK(m->local.sum > want - 1e-9 && m->local.sum < want + 1e-9, "local sum %g", m->local.sum);
    t_end();

    t_begin("metrics/exposition-cumulative-with-help-and-type");
    ng_met_gauges g = { 0 };
    g.hp_ok = g.irq_ok = 1;
    g.node_known[0] = g.node_known[3] = 1;
    g.hp_bytes[3] = 8 << 20;
    g.irqs = 5;
    char *s = ng_metrics_format(m, &g);
    CHECK(s && strstr(s, "# HELP numa_gpu_tasks_total ") &&
          strstr(s, "# TYPE numa_gpu_tasks_total counter\n"), "tasks family");
    CHECK(s && strstr(s, "numa_gpu_task_local_pages_ratio_bucket{le=\"0.8\"} 2\n") &&
          strstr(s, "numa_gpu_task_local_pages_ratio_bucket{le=\"0.9\"} 3\n") &&
          strstr(s, "numa_gpu_task_local_pages_ratio_bucket{le=\"+Inf\"} 4\n") &&
          strstr(s, "numa_gpu_task_local_pages_ratio_count 4\n"), "cumulative local: %s",
          s ? s : "(null)");
    CHECK(s && strstr(s, "numa_gpu_plugin_task_seconds_bucket{le=\"0.0001\"} 1\n") &&
          strstr(s, "numa_gpu_plugin_task_seconds_bucket{le=\"1\"} 3\n") &&
          strstr(s, "numa_gpu_plugin_task_seconds_bucket{le=\"+Inf\"} 4\n"), "plugin buckets");
    CHECK(s && strstr(s, "numa_gpu_hugepages_reserved_bytes{node=\"3\"} 8388608\n") &&
          strstr(s, "numa_gpu_hugepages_reserved_bytes{node=\"0\"} 0\n") &&
          !strstr(s, "{node=\"1\"}") && strstr(s, "numa_gpu_irqs_steered 5\n"), "gauges");
    int fams = 0, types = 0;
    for (const char *p = s; p && (p = strstr(p, "# HELP ")); p++)
        fams++;
    for (const char *p = s; p && (p = strstr(p, "# TYPE ")); p++)
        types++;
    CHECK(fams == 10 && types == 10, "%d HELP, %d TYPE lines", fams, types);
    for (int i = 0; i < NG_MET_NVERDICTS; i++) {
        char want_line[128];
        snprintf(want_line, sizeof(want_line), "numa_gpu_tasks_total{verdict=\"%s\"} ",
                 ng_met_verdicts[i]);
        CHECK(s && strstr(s, want_line), "no %s", want_line);
    }
    free(s);
    g.hp_ok = g.irq_ok = 0;   /* an unreadable ledger: its family is left out */
    s = ng_metrics_format(m, &g);
    CHECK(s && !strstr(s, "numa_gpu_hugepages_reserved_bytes{") && !strstr(s, "numa_gpu_irqs_steered ")
          && strstr(s, "numa_gpu_tasks_total{"), "families left out");
    free(s);
    t_end();
    free(m);
}

static void fold(void)
{
    char dir[128], path[256], b[2048];
    ng_metrics *m = malloc(sizeof(*m));
    snprintf(dir, sizeof(dir), "%s/audit", root);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/7.json", dir);
    const char *hp = "\"local_pct\":100.0,\"irqs_steered\":3,"
                     "\"hugepages\":{\"pagesize_kb\":2048,\"pages\":4,\"by_node\":{\"1\":4}}";
    put(path, rec(b, sizeof(b), "n1", 7, 0, 0, "local", hp), "w");
    put(path, rec(b, sizeof(b), "n1", 7, 0, 1, "local", hp), "a");
    put(path, rec(b, sizeof(b), "n1", 7, 1, 0, "partial", "\"irqs_steered\":2"), "a");
    put(path, rec(b, sizeof(b), "n2", 7, 0, 2, "local", hp), "a");
    int counted, skipped;
    char err[NG_ERRLEN];

    t_begin("metrics/fold-counts-a-job-once");
    ng_metrics_init(m);
    CHECK(ng_metrics_fold_job(m, dir, 7, "n1", &counted, &skipped, err, sizeof(err)) == 0 &&
          counted == 3 && skipped == 0, "%s counted %d", err, counted);
    /* The step's irqs_steered is in each of its records: once per step. */
    CHECK(m->irqs == 5 && m->hp_bytes[1] == 2 * 4 * 2048 * 1024ull && m->jobs == 1,
          "irqs %llu hp %llu jobs %llu", m->irqs, m->hp_bytes[1], m->jobs);
    CHECK(ng_metrics_fold_job(m, dir, 7, "n1", &counted, &skipped, err, sizeof(err)) == 0 &&
          counted == 0 && m->tasks[0] == 2 && m->jobs == 1, "second fold counted %d", counted);
    /* A requeued job appends to the same file: only the new lines count. */
    put(path, rec(b, sizeof(b), "n1", 7, 0, 0, "remote", "\"irqs_steered\":3"), "a");
    put(path, "{\"schema\":3,\"job\":7,\"st", "a");
    CHECK(ng_metrics_fold_job(m, dir, 7, "n1", &counted, &skipped, err, sizeof(err)) == 0 &&
          counted == 1 && skipped == 1 && m->tasks[2] == 1 && m->tasks[0] == 2 && m->irqs == 8 &&
          m->jobs == 1, "requeue counted %d skipped %d irqs %llu", counted, skipped, m->irqs);
    CHECK(ng_metrics_fold_job(m, dir, 8, "n1", &counted, &skipped, err, sizeof(err)) == 0 &&
          counted == 0 && m->njobs == 1, "a job without records: %s", err);
    t_end();

    t_begin("metrics/fold-refuses-symlink-and-fifo");
    snprintf(path, sizeof(path), "%s/9.json", dir);
    if (symlink("/etc/passwd", path) == 0)
        CHECK(ng_metrics_fold_job(m, dir, 9, "n1", &counted, &skipped, err, sizeof(err)) < 0 &&
              strstr(err, "symlink"), "symlink: %s", err);
    snprintf(path, sizeof(path), "%s/10.json", dir);
    if (mkfifo(path, 0600) == 0)
        CHECK(ng_metrics_fold_job(m, dir, 10, "n1", &counted, &skipped, err, sizeof(err)) < 0 &&
              strstr(err, "not a regular file"), "fifo: %s", err);
    t_end();

    t_begin("metrics/job-table-keeps-the-newest-1024");
    ng_metrics_init(m);
    for (unsigned long j = 100; j < 100 + NG_MET_JOBS + 6; j++) {
        snprintf(path, sizeof(path), "%s/%lu.json", dir, j);
        put(path, rec(b, sizeof(b), "n1", j, 0, 0, "local", ""), "w");
        ng_metrics_fold_job(m, dir, j, "n1", &counted, &skipped, err, sizeof(err));
    }
    CHECK(m->njobs == NG_MET_JOBS && m->job[0].job == 106 &&
          m->job[NG_MET_JOBS - 1].job == 100 + NG_MET_JOBS + 5 && m->jobs == NG_MET_JOBS + 6,
          "njobs %d first %lu jobs %llu", m->njobs, m->job[0].job, m->jobs);
    t_end();
    free(m);
}

static void state(void)
{
    ng_metrics *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2));
    char b[2048], err[NG_ERRLEN];
    t_begin("metrics/state-round-trip");
    ng_metrics_init(m);
    add(m, rec(b, sizeof(b), "n1", 1, 0, 0, "partial",
               "\"local_pct\":55.5,\"plugin_ms\":0.3,\"error\":\"x\","
               "\"hugepages\":{\"pagesize_kb\":1048576,\"pages\":1,\"by_node\":{\"255\":1}}"), "n1");
    add(m, "garbage", "n1");
    int counted, skipped;
    ng_metrics_fold_job(m, "/nonexistent", 5, "n1", &counted, &skipped, err, sizeof(err));
    ng_met_job j = { 77, 12, 1 };
    m->job[m->njobs++] = j;
    char *s = ng_metrics_state_str(m);
    CHECK(ng_metrics_state_parse(s, m2, err, sizeof(err)) == 0, "%s", err);
    char *s2 = ng_metrics_state_str(m2);
    CHECK(s && s2 && !strcmp(s, s2), "differs:\n%s\n---\n%s", s, s2);
    CHECK(m2->local.sum == m->local.sum && m2->plugin.sum == m->plugin.sum &&
          m2->hp_bytes[255] == 1ull << 30 && m2->njobs == 1 && m2->job[0].lines == 12,
          "sums %g %g", m2->local.sum, m2->plugin.sum);
    free(s2);
    t_end();

    t_begin("metrics/corrupt-state-refused-naming-the-line");
    const char *bad[] = { "# other header\n", "# numa-gpu metrics state v1\ntasks local -1\n",
                          "# numa-gpu metrics state v1\ntasks bogus 1\n",
                          "# numa-gpu metrics state v1\nlocal 9 1\n",
                          "# numa-gpu metrics state v1\nlocal_sum nan\n",
                          "# numa-gpu metrics state v1\nhugepages 256 1\n",
                          "# numa-gpu metrics state v1\nerrors 1 2\n",
                          "# numa-gpu metrics state v1\nerrors 1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK(ng_metrics_state_parse(bad[i], m2, err, sizeof(err)) < 0 && strstr(err, "line"),
              "accepted '%s' (%s)", bad[i], err);
    }
    free(s);
    t_end();
    free(m);
    free(m2);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");   /* temp files are dot names */
    if (d)
        closedir(d);
    return n;
}

static void write_file(void)
{
    char dir[128], path[256], err[NG_ERRLEN];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s/tf", root);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/numa_gpu.prom", dir);
    t_begin("metrics/file-replaced-0644-nothing-left-behind");
    mode_t old = umask(077);
    CHECK(ng_metrics_write_file(path, "a 1\n", err, sizeof(err)) == 0, "%s", err);
    CHECK(ng_metrics_write_file(path, "a 2\n", err, sizeof(err)) == 0, "%s", err);
    umask(old);
    char got[16] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(got, sizeof(got), f))
            got[0] = '\0';
        fclose(f);
    }
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644 && !strcmp(got, "a 2\n"),
          "mode %o '%s'", st.st_mode & 0777, got);
    CHECK(count_entries(dir) == 1, "%d entries in %s", count_entries(dir), dir);
    snprintf(path, sizeof(path), "%s/numa_gpu.txt", dir);
    CHECK(ng_metrics_write_file(path, "a 1\n", err, sizeof(err)) < 0 && strstr(err, ".prom"),
          "accepted %s", path);
    snprintf(path, sizeof(path), "%s/missing/numa_gpu.prom", root);
    CHECK(ng_metrics_write_file(path, "a 1\n", err, sizeof(err)) < 0 && strstr(err, "missing"),
          "missing dir: %s", err);
    t_end();
}

/* value of the exposition line starting with name (-1: none) */
static double value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static void run(void)
{
    char st[128], audit[128], sys[160], path[512], b[2048], err[NG_ERRLEN], note[4096];
    snprintf(st, sizeof(st), "%s/state", root);
    snprintf(audit, sizeof(audit), "%s/audit", root);
    snprintf(sys, sizeof(sys), "%s/sys", root);
    snprintf(path, sizeof(path), "mkdir -p %s/devices/system/node/node0 %s/devices/system/node/node1",
             sys, sys);
    if (system(path) != 0)
        return;
    mkdir(st, 0700);
    /* What the plugin's ledgers hold (their own formats, lib/hugepages.c and lib/irq.c). */
    snprintf(path, sizeof(path), "%s/hugepages.ledger", st);
    put(path, "# numa-gpu hugepage ledger v1: job step task node page_kB added owner_pid owner_start\n"
              "50 0 0 1 2048 4 1 1\n50 0 1 1 2048 2 1 1\n51 0 0 0 1048576 1 1 1\n", "w");
    snprintf(path, sizeof(path), "%s/irq.ledger", st);
    put(path, "# numa-gpu irq ledger v1: job irq busid old_affinity new_affinity\n"
              "50 300 0000:01:00.0 0-3 0-1\n50 301 0000:01:00.0 0-3 0-1\n", "w");
    snprintf(path, sizeof(path), "%s/300.json", audit);
    put(path, rec(b, sizeof(b), "n1", 300, 0, 0, "local", "\"local_pct\":90.0"), "w");
    unsigned long jobs[] = { 300 };
    ng_met_opts o = { audit, st, sys, "n1", NULL, jobs, 1 };
    char *text = NULL;

    t_begin("metrics/run-gauges-from-the-ledgers");
    int rc = ng_metrics_run(&o, &text, note, sizeof(note), err, sizeof(err));
    CHECK(rc == 0 && text, "rc %d %s", rc, err);
    CHECK(text && value(text, "numa_gpu_hugepages_reserved_bytes{node=\"1\"}") == 6 * 2048 * 1024.0
          && value(text, "numa_gpu_hugepages_reserved_bytes{node=\"0\"}") == 1024 * 1048576.0 &&
          value(text, "numa_gpu_irqs_steered") == 2 &&
          value(text, "numa_gpu_tasks_total{verdict=\"local\"}") == 1, "%s", text);
    CHECK(strstr(note, "job 300: 1 record(s) of n1 counted"), "note '%s'", note);
    free(text);
    t_end();

    t_begin("metrics/run-corrupt-ledger-left-out-rest-written");
    snprintf(path, sizeof(path), "%s/irq.ledger", st);
    put(path, "50 not-an-irq\n", "a");
    o.jobs = NULL;
    o.njobs = 0;
    rc = ng_metrics_run(&o, &text, note, sizeof(note), err, sizeof(err));
    CHECK(rc == 1 && text && !strstr(text, "numa_gpu_irqs_steered ") &&
          value(text, "numa_gpu_tasks_total{verdict=\"local\"}") == 1 &&
          strstr(note, "IRQ gauge left out") && strstr(note, "corrupt"), "rc %d note '%s'", rc, note);
    free(text);
    unlink(path);
    t_end();

    t_begin("metrics/run-corrupt-state-writes-nothing");
    char out[256], sp[256];
    snprintf(out, sizeof(out), "%s/tf/numa_gpu.prom", root);
    snprintf(sp, sizeof(sp), "%s/metrics.state", st);
    put(sp, "tasks local five\n", "a");
    o.output = out;
    unlink(out);
    rc = ng_metrics_run(&o, NULL, note, sizeof(note), err, sizeof(err));
    CHECK(rc < 0 && strstr(err, "corrupt") && strstr(err, "metrics.state") && access(out, F_OK) < 0,
          "rc %d err '%s'", rc, err);
    unlink(sp);
    t_end();

    /* 8 epilogs at once, each counting its own job 4 times over: the lock
     * keeps every total exact. */
    t_begin("metrics/concurrent-runs-add-up");
    for (int j = 0; j < 8; j++) {
        snprintf(path, sizeof(path), "%s/%d.json", audit, 400 + j);
        for (int t = 0; t < 3; t++)
            put(path, rec(b, sizeof(b), "n1", 400 + j, 0, t, "partial", "\"plugin_ms\":0.2"), "a");
    }
    pid_t kids[8];
    for (int j = 0; j < 8; j++) {
        if ((kids[j] = fork()) == 0) {
            unsigned long mine[] = { 400 + (unsigned long)j };
            ng_met_opts k = o;
            k.jobs = mine;
            k.njobs = 1;
            int bad = 0;
            for (int r = 0; r < 4; r++)
                bad |= ng_metrics_run(&k, NULL, note, sizeof(note), err, sizeof(err)) != 0;
            _exit(bad);
        }
    }
    int failed = 0;
    for (int j = 0; j < 8; j++) {
        int ws = 0;
        waitpid(kids[j], &ws, 0);
        failed += !WIFEXITED(ws) || WEXITSTATUS(ws);
    }
    o.output = NULL;
    rc = ng_metrics_run(&o, &text, note, sizeof(note), err, sizeof(err));
    CHECK(failed == 0 && rc == 0 && text &&
          value(text, "numa_gpu_tasks_total{verdict=\"partial\"}") == 24 &&
          value(text, "numa_gpu_plugin_task_seconds_count") == 24 &&
          value(text, "numa_gpu_jobs_total") == 8, "failed %d rc %d %s", failed, rc,
          text ? text : err);
    free(text);
    t_end();
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/ng-metrics-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    verdicts_and_hosts();
    buckets();
    fold();
    state();
    write_file();
    run();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        return 1;
    T_EXIT();
}
