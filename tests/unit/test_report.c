/* Audit records as written (schema 3 fields through the step audit) and as
 * read back (lib/record.c: damaged, future, invalid, older schemas), the
 * report's sums per job, node and user (IRQs once per step and host,
 * duplicates once, worst first, filters), reading trees of files (hidden,
 * symlinks, FIFOs, over-long lines, no final newline) and --since. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/audit.h"
#include "private/auditstep.h"
#include "private/record.h"
#include "private/report.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *s = calloc(1, 1 << 20);
    size_t n = s ? fread(s, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

/* Line i (0-based) of text, without its newline, into out. */
static int line_of(const char *text, int i, char *out, size_t len)
{
    for (; i > 0 && text; i--)
        text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
    if (!text || !*text)
        return -1;
    size_t n = strcspn(text, "\n");
    snprintf(out, len, "%.*s", (int)n, text);
    return 0;
}

/* The step audit writes the new fields; the reader gets them back. */
static void written_and_read(void)
{
    char dir[] = "/tmp/ng-report-XXXXXX", err[NG_ERRLEN], xml[4096], path[600], line[16384];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    chmod(dir, 0755);
    snprintf(xml, sizeof(xml), "%s/llnl-pascal-2s-bdw-2xp100-pcie.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_rank_gpus rows[3] = { { 0, NULL }, { 0, NULL }, { 0, NULL } };
    ng_plan p = { 0 };
    int ok = t && ng_plan_compute(t, NULL, NULL, 3, rows, NG_MODE_PREFER, &p, err,
                                  sizeof(err)) == 0;
    ng_audit_conf c = { dir, 0, 80, NG_METHOD_AUTO, 4096 };
    long long before = (long long)time(NULL);

    t_begin("record/schema-3-fields-written-and-read-back");
    ng_audit_step *a = ok ? ng_audit_step_new(&c, 91, 2, "gpu07", 3, NG_MODE_PREFER, NULL, err,
                                              sizeof(err)) : NULL;
    CHECK(a != NULL, "%s", err);
    ng_audit_step_owner(a, 4242, "al\"ice");
    ng_audit_step_irqs(a, 5);
    for (int i = 0; a && i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {   /* the task: its plan row, then how it ended */
            if (i != 1)
                ng_audit_step_fill(a, i, &p, NULL, "CUDA_VISIBLE_DEVICES=0");
            if (i == 0)
                ng_audit_step_done(a, i, 0.25, "0:3x2048kB,1:4x2048kB", NG_TASK_OK, NULL);
            else if (i == 1)
                ng_audit_step_done(a, i, 1.5, NULL, NG_TASK_REFUSED, "GPU \"x\" not usable");
            else
                ng_audit_step_done(a, i, 2.0, NULL, NG_TASK_UNBOUND, "set_mempolicy: EPERM");
            _exit(0);
        }
        ng_audit_step_forked(a, i, pid);
        waitpid(pid, NULL, 0);
        ng_audit_step_released(a, i, i == 0);
        CHECK(ng_audit_step_exit(a, i, 30 + i, err, sizeof(err)) == 0, "%s", err);
    }
    ng_audit_step_free(a);
    snprintf(path, sizeof(path), "%s/91.json", dir);
    char *text = slurp(path);
    ng_record r;
    char why[256];
    CHECK(text && line_of(text, 0, line, sizeof(line)) == 0, "no record 0");
    CHECK(ng_record_parse(line, strlen(line), &r, why, sizeof(why)) == NG_REC_OK, "%s: %s", why,
          line);
    CHECK(r.schema == NG_AUDIT_SCHEMA && r.job == 91 && r.step == 2 && r.task == 0 &&
          r.global_task == 30 && !strcmp(r.host, "gpu07") && !strcmp(r.user, "al\"ice") &&
          r.uid == 4242 && r.time >= before && r.time <= (long long)time(NULL) + 1 &&
          r.plugin_ms == 0.25 && r.irqs_steered == 5 && !r.has_error &&
          !strcmp(r.verdict, "nogpu") && !strcmp(r.mode, "prefer"), "%s", line);
    CHECK(r.hp.pagesize_kb == 2048 && r.hp.pages == 7 && r.hp.released == 7 && r.hp.nnodes == 2 &&
          r.hp.by_node[0].node == 0 && r.hp.by_node[0].pages == 3 && r.hp.by_node[1].node == 1 &&
          r.hp.by_node[1].pages == 4, "hugepages: %s", line);
    /* The old readers still find what they read: the first "verdict" is the task's. */
    char v[32];
    CHECK(ng_json_str(line, "verdict", v, sizeof(v)) == 0 && !strcmp(v, "nogpu"), "%s", v);
    t_end();

    t_begin("record/refused-before-planning-and-unbound-after");
    CHECK(text && line_of(text, 1, line, sizeof(line)) == 0 &&
          ng_record_parse(line, strlen(line), &r, why, sizeof(why)) == NG_REC_OK, "%s", why);
    CHECK(!strcmp(r.verdict, "refused") && r.has_error && !strcmp(r.error, "GPU \"x\" not usable") &&
          !strcmp(r.mode, "prefer") && r.hp.pagesize_kb == 0 && r.plugin_ms == 1.5 &&
          strstr(line, "\"summary\":\"task 1 refused, not started: GPU"), "%s", line);
    CHECK(text && line_of(text, 2, line, sizeof(line)) == 0 &&
          ng_record_parse(line, strlen(line), &r, why, sizeof(why)) == NG_REC_OK, "%s", why);
    CHECK(!strcmp(r.verdict, "unbound") && !strcmp(r.error, "set_mempolicy: EPERM") &&
          strstr(line, "\"gpus\":[") && strstr(line, "ran unbound"), "%s", line);
    CHECK(ng_verdict_classify("refused") == NG_CLASS_REFUSED &&
          ng_verdict_classify("unbound") == NG_CLASS_UNBOUND &&
          ng_verdict_classify("skipped") == NG_CLASS_OTHER, "classes");
    t_end();
    free(text);
    ng_plan_free(&p);
    ng_topo_free(t);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK(system(path) == 0, "cleanup");
}

static const char *REC =
    "{\"schema\":3,\"job\":7,\"step\":0,\"task\":1,\"global_task\":1,\"host\":\"n1\",\"user\":\"bob\","
    "\"uid\":1000,\"time\":1700000000,\"pid\":99,\"mode\":\"prefer\",\"intended\":{\"home\":\"0-1\","
    "\"cpus\":\"0\"},\"verdict\":\"partial\",\"reason\":\"r\",\"plugin_ms\":0.5,"
    "\"hugepages\":{\"pagesize_kb\":2048,\"pages\":2,\"by_node\":{\"1\":2},\"released\":2},"
    "\"irqs_steered\":3,\"sample\":{\"pages\":\"0:10,1:5,2:5\",\"verdict\":\"local\"},"
    "\"local_pct\":75.0,\"summary\":\"s \\u00e9\\ud83d\\ude00\"}";

static void parse_cases(void)
{
    ng_record r;
    char why[256], buf[4096];
    size_t n = strlen(REC);

    t_begin("record/parse-fields-and-pages-on-home");
    CHECK(ng_record_parse(REC, n, &r, why, sizeof(why)) == NG_REC_OK, "%s", why);
    CHECK(r.pages == 20 && r.local_pages == 15 && r.local_pct == 75.0 && r.hp.released == 2 &&
          r.irqs_steered == 3 && r.uid == 1000 && r.time == 1700000000 && r.pid == 99,
          "pages %llu local %llu", r.pages, r.local_pages);
    t_end();

    t_begin("record/every-cut-is-damaged");
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++)
        bad += ng_record_parse(REC, cut, &r, why, sizeof(why)) != NG_REC_DAMAGED;
    CHECK(bad == 0, "%d prefixes not damaged", bad);
    CHECK(ng_record_parse(REC, n / 2, &r, why, sizeof(why)) == NG_REC_DAMAGED &&
          strstr(why, "at byte"), "%s", why);
    t_end();

    t_begin("record/damaged-lines-say-why");
    static const struct { const char *line, *why; } dmg[] = {
        { "garbage", "not a JSON object" },
        { "", "empty line" },
        { "{\"schema\":3}{\"schema\":3}", "more after the record" },
        { "{\"schema\":3,\"host\":\"a\tb\"}", "control character" },
        { "{\"schema\":3,\"host\":\"\\q\"}", "unknown escape" },
        { "{\"schema\":3,\"job\":01}", "expected ',' or '}'" },
        { "{\"schema\":3,\"job\":1.}", "bad number" },
        { "{\"schema\":3,\"x\":[1,2,}", "unexpected character" },
        { "{\"schema\":3,\"x\":tru}", "unexpected character" },
        { "{\"schema\":3 \"job\":1}", "expected ',' or '}'" },
        { "[1]", "not a JSON object" },
    };
    for (size_t i = 0; i < sizeof(dmg) / sizeof(dmg[0]); i++)
        CHECK(ng_record_parse(dmg[i].line, strlen(dmg[i].line), &r, why, sizeof(why)) ==
              NG_REC_DAMAGED && strstr(why, dmg[i].why), "'%s': %s", dmg[i].line, why);
    /* Nesting is bounded: 5000 brackets are refused, not recursed into. */
    char *deep = malloc(10100);
    if (deep) {
        memcpy(deep, "{\"x\":", 5);
        memset(deep + 5, '[', 5000);
        memset(deep + 5005, ']', 5000);
        memcpy(deep + 10005, "}", 2);
        CHECK(ng_record_parse(deep, strlen(deep), &r, why, sizeof(why)) == NG_REC_DAMAGED &&
              strstr(why, "nested too deep"), "%s", why);
        free(deep);
    }
    t_end();

    t_begin("record/future-schema-refused-by-number");
    CHECK(ng_record_parse("{\"schema\":99,\"what\":\"new\"}", 26, &r, why, sizeof(why)) ==
          NG_REC_FUTURE && strstr(why, "schema 99") && strstr(why, "1..4"), "%s", why);
    t_end();

    t_begin("record/invalid-names-the-field");
    static const char *const req[] = { "schema", "job", "step", "task", "host", "verdict" };
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        /* The record without that member. */
        char key[32];
        snprintf(key, sizeof(key), "\"%s\":", req[i]);
        const char *at = strstr(REC, key), *end = at ? strpbrk(at + strlen(key), ",}") : NULL;
        if (at && *(at + strlen(key)) == '"')
            end = strchr(strchr(at + strlen(key) + 1, '"'), ',');
        CHECK(at && end, "no %s in the sample record", req[i]);
        if (!at || !end)
            continue;
        snprintf(buf, sizeof(buf), "%.*s%s", (int)(at - REC), REC, end + 1);
        CHECK(ng_record_parse(buf, strlen(buf), &r, why, sizeof(why)) == NG_REC_INVALID &&
              strstr(why, req[i]), "without %s: %s (%s)", req[i], why, buf);
    }
    static const struct { const char *member, *why; } inv[] = {
        { "\"job\":-1", "field 'job' out of range" },
        { "\"task\":1e300", "field 'task' out of range" },
        { "\"task\":1.5", "field 'task' out of range" },
        { "\"local_pct\":101", "field 'local_pct' out of range" },
        { "\"job\":\"42\"", "field 'job' is not a number" },
        { "\"host\":7", "field 'host' is not a string" },
        { "\"hugepages\":[]", "field 'hugepages' is not an object" },
        { "\"hugepages\":{\"pagesize_kb\":2048,\"by_node\":{\"x\":1}}", "hugepages.by_node" },
        { "\"sample\":{\"pages\":\"0:a\"}", "sample.pages" },
        { "\"intended\":{\"home\":\"zero\"}", "intended.home" },
    };
    for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++) {
        snprintf(buf, sizeof(buf), "%.*s,%s}", (int)(n - 1), REC, inv[i].member);
        CHECK(ng_record_parse(buf, strlen(buf), &r, why, sizeof(why)) == NG_REC_INVALID &&
              strstr(why, inv[i].why), "%s: %s", inv[i].member, why);
    }
    t_end();

    t_begin("record/older-schemas-read");
    const char *v1 = "{\"schema\":1,\"job\":42,\"step\":0,\"task\":0,\"global_task\":0,\"host\":\"lab1\","
                     "\"pid\":23744,\"mode\":\"prefer\",\"verdict\":\"local\",\"sample\":null,"
                     "\"local_pct\":null,\"summary\":\"x\"}";
    CHECK(ng_record_parse(v1, strlen(v1), &r, why, sizeof(why)) == NG_REC_OK && r.schema == 1 &&
          !r.user[0] && r.uid == -1 && r.time == -1 && r.plugin_ms == -1 && r.irqs_steered == -1 &&
          r.hp.pagesize_kb == 0 && r.local_pct == -1 && r.pages == 0, "%s", why);
    t_end();

    /* Schema 4 took the GPUs' shared shape; the same task in either shape is
     * the same record and the same report (but for the schema counted). */
    t_begin("record/schema-3-and-4-gpus-read-alike");
    static const char head[] = "\"job\":8,\"step\":0,\"task\":0,\"global_task\":0,\"host\":\"n1\","
        "\"user\":\"bob\",\"uid\":1000,\"time\":1700000000,\"pid\":9,\"mode\":\"prefer\",";
    static const char tail[] = ",\"intended\":{\"home\":\"0\",\"cpus\":\"0\"},\"verdict\":\"local\","
        "\"sample\":{\"pages\":\"0:30,1:10\"},\"local_pct\":75.0,\"summary\":\"s\"}\n";
    char l3[1024], l4[1024];
    snprintf(l3, sizeof(l3), "{\"schema\":3,%s\"gpu_source\":\"per_task:1\",\"gpus\":["
             "{\"pci_busid\":\"0000:01:00.0\",\"numa_nodes\":\"0\"},"
             "{\"pci_busid\":\"0000:02:00.0\",\"numa_nodes\":\"0-1\"}]%s", head, tail);
    snprintf(l4, sizeof(l4), "{\"schema\":4,%s\"gpus\":["
             "{\"pci_busid\":\"0000:01:00.0\",\"numa_nodes\":[0],\"locality\":\"known\"},"
             "{\"pci_busid\":\"0000:02:00.0\",\"numa_nodes\":[0,1],\"locality\":\"known\"}],"
             "\"gpu_nodes\":[0,1],\"gpu_source\":\"per_task:1\"%s", head, tail);
    ng_record r3, r4;
    CHECK(ng_record_parse(l3, strlen(l3) - 1, &r3, why, sizeof(why)) == NG_REC_OK, "%s", why);
    CHECK(ng_record_parse(l4, strlen(l4) - 1, &r4, why, sizeof(why)) == NG_REC_OK, "%s", why);
    CHECK(r3.schema == 3 && r4.schema == 4 && r3.job == r4.job && r3.pid == r4.pid &&
          !strcmp(r3.verdict, r4.verdict) && r3.pages == 40 && r4.pages == 40 &&
          r3.local_pages == 30 && r4.local_pages == 30 && r3.local_pct == r4.local_pct,
          "v3 pages %llu/%llu, v4 %llu/%llu", r3.local_pages, r3.pages, r4.local_pages,
          r4.pages);
    ng_report *rep3 = ng_report_new(NULL), *rep4 = ng_report_new(NULL);
    ng_report_add_text(rep3, "a.json", l3, strlen(l3), 0);
    ng_report_add_text(rep4, "a.json", l4, strlen(l4), 0);
    char *j3 = ng_report_json(rep3, 0), *j4 = ng_report_json(rep4, 0);
    char *by = j4 ? strstr(j4, "\"3\":0,\"4\":1") : NULL;
    if (by)
        memcpy(by, "\"3\":1,\"4\":0", 11);   /* the only difference allowed */
    CHECK(j3 && by && !strcmp(j3, j4) && strstr(j3, "\"local_pages\":30"), "\n%s\n%s", j3, j4);
    free(j3);
    free(j4);
    ng_report_free(rep3);
    ng_report_free(rep4);
    t_end();

    t_begin("record/unicode-escapes");
    const char *u = "{\"schema\":3,\"job\":1,\"step\":0,\"task\":0,\"host\":\"n\\u00e9\\ud83d\\ude00\\u0000\","
                    "\"verdict\":\"local\"}";
    CHECK(ng_record_parse(u, strlen(u), &r, why, sizeof(why)) == NG_REC_OK &&
          !strcmp(r.host, "n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd"), "%s %s", why, r.host);
    t_end();
}

/* A record line for the report cases. */
static int rec(char *out, size_t len, unsigned long job, int step, int task, const char *host,
               const char *user, const char *verdict, int irqs, long long when, int err)
{
    return snprintf(out, len, "{\"schema\":3,\"job\":%lu,\"step\":%d,\"task\":%d,\"host\":\"%s\","
                    "\"user\":\"%s\",\"uid\":%d,\"time\":%lld,\"pid\":%d,\"verdict\":\"%s\","
                    "\"intended\":{\"home\":\"1\"},\"sample\":{\"pages\":\"0:%d,1:%d\"},"
                    "\"local_pct\":%d.0,\"irqs_steered\":%d%s}\n", job, step, task, host, user,
                    user[0] == 'a' ? 1001 : 1002, when, 100 + task, verdict, 100 - task * 10,
                    task * 10, task * 10, irqs, err ? ",\"error\":\"e\"" : "");
}

static void report_cases(void)
{
    char text[8192];
    size_t o = 0;
    /* job 5: alice, 2 nodes, steps 0 and 1; job 6: bob, one node, refused. */
    o += (size_t)rec(text + o, sizeof(text) - o, 5, 0, 0, "n1", "alice", "remote", 4, 1000, 0);
    o += (size_t)rec(text + o, sizeof(text) - o, 5, 0, 1, "n1", "alice", "local", 4, 1000, 0);
    o += (size_t)rec(text + o, sizeof(text) - o, 5, 0, 2, "n2", "alice", "partial", 2, 1000, 0);
    o += (size_t)rec(text + o, sizeof(text) - o, 5, 1, 0, "n1", "alice", "local", 1, 2000, 0);
    o += (size_t)rec(text + o, sizeof(text) - o, 6, 0, 9, "n2", "bob", "refused", 0, 3000, 1);
    size_t five = o;
    o += (size_t)rec(text + o, sizeof(text) - o, 5, 0, 0, "n1", "alice", "remote", 4, 1000, 0);

    t_begin("report/sums-per-job-node-user");
    ng_report *r = ng_report_new(NULL);
    ng_report_add_text(r, "t.json", text, o, 0);
    const ng_report_input *in = ng_report_input_counts(r);
    const ng_report_row *rows, *tot = ng_report_total(r);
    CHECK(in->records == 6 && in->used == 5 && in->problems[NG_PROB_DUPLICATE] == 1 &&
          in->by_schema[3] == 6, "records %lu used %lu dup %lu", in->records, in->used,
          in->problems[NG_PROB_DUPLICATE]);
    /* IRQs: job 5 step 0 on n1 (4, said twice), on n2 (2), step 1 on n1 (1). */
    CHECK(tot->tasks == 5 && tot->irqs == 7 && tot->jobs == 2 && tot->nodes == 2 &&
          tot->users == 2 && tot->errors == 1 && tot->cls[NG_CLASS_REFUSED] == 1 &&
          tot->pages == 5 * 100 && tot->local_pages == 0 + 10 + 20 + 0 + 90 &&
          tot->worst_pct == 0.0 && tot->first == 1000 && tot->last == 3000,
          "tasks %lu irqs %lu pages %llu local %llu worst %.1f", tot->tasks, tot->irqs,
          tot->pages, tot->local_pages, tot->worst_pct);
    int n = ng_report_rows(r, NG_BY_JOB, &rows);
    /* job 5 has 2 bad tasks (remote, partial), job 6 one: 5 first. */
    CHECK(n == 2 && rows[0].job == 5 && rows[0].nodes == 2 && rows[0].irqs == 7 &&
          !strcmp(rows[0].user, "alice") && rows[1].job == 6 && ng_report_row_bad(&rows[0]) == 2,
          "%d rows, first %lu", n, n ? rows[0].job : 0);
    n = ng_report_rows(r, NG_BY_NODE, &rows);
    CHECK(n == 2 && !strcmp(rows[0].name, "n2") && rows[0].jobs == 2 && rows[1].irqs == 5,
          "nodes: %s", n ? rows[0].name : "");
    n = ng_report_rows(r, NG_BY_USER, &rows);
    CHECK(n == 2 && !strcmp(rows[0].name, "alice") && rows[0].jobs == 1, "users");
    char *json = ng_report_json(r, 1), *tbl = ng_report_text(r, 0);
    CHECK(json && strstr(json, "\"kind\":\"job\",\"job\":5,\"user\":\"alice\",\"nodes\":2") &&
          !strstr(json, "\"job\":6,") && strstr(json, "\"duplicate\":1"), "%s", json);
    CHECK(tbl && strstr(tbl, "5 record(s) counted of 6 read") && strstr(tbl, "1 duplicate"),
          "%s", tbl);
    free(json);
    free(tbl);
    char *probs = ng_report_problems(r, 20);
    CHECK(probs && strstr(probs, "t.json:6: job 5 step 0 task 0 on n1 already counted"), "%s",
          probs);
    free(probs);
    ng_report_free(r);
    t_end();

    t_begin("report/filters");
    unsigned long jobs[] = { 6 };
    const char *users[] = { "1001" }, *nodes[] = { "n[2-3]" };
    ng_report_filter f = { jobs, 1, NULL, 0, NULL, 0, -1 };
    r = ng_report_new(&f);
    ng_report_add_text(r, "t.json", text, five, 0);
    CHECK(ng_report_total(r)->tasks == 1 && ng_report_input_counts(r)->filtered == 4, "job");
    ng_report_free(r);
    f = (ng_report_filter){ NULL, 0, users, 1, nodes, 1, -1 };
    r = ng_report_new(&f);
    ng_report_add_text(r, "t.json", text, five, 0);
    CHECK(ng_report_total(r)->tasks == 1 && ng_report_total(r)->cls[NG_CLASS_PARTIAL] == 1,
          "uid 1001 on n[2-3]: %lu", ng_report_total(r)->tasks);
    ng_report_free(r);
    /* since: by the record's time, else its file's mtime */
    f = (ng_report_filter){ NULL, 0, NULL, 0, NULL, 0, 2000 };
    r = ng_report_new(&f);
    ng_report_add_text(r, "t.json", text, five, 0);
    const char *old = "{\"schema\":2,\"job\":8,\"step\":0,\"task\":0,\"host\":\"n3\",\"verdict\":\"local\"}\n";
    ng_report_add_text(r, "old.json", old, strlen(old), 2500);
    ng_report_add_text(r, "older.json", old, strlen(old), 1500);
    CHECK(ng_report_total(r)->tasks == 3 && ng_report_total(r)->users == 3, "since: %lu",
          ng_report_total(r)->tasks);
    ng_report_free(r);
    t_end();
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, text, len) != (ssize_t)len)
            t_fail(__FILE__, __LINE__, "short write %s", path);
        close(fd);
    }
}

static void tree_cases(void)
{
    char dir[] = "/tmp/ng-rtree-XXXXXX", p[700], err[NG_ERRLEN], line[2048];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    int n = rec(line, sizeof(line), 1, 0, 0, "a", "alice", "local", 0, 5, 0);

    t_begin("report/tree-files-symlinks-fifos");
    snprintf(p, sizeof(p), "%s/lab1", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/lab1/1.json", dir);
    write_file(p, line, (size_t)n);
    snprintf(p, sizeof(p), "%s/lab1/1.summary", dir);   /* not records */
    write_file(p, "job 1: 1 task record(s)\n", 24);
    snprintf(p, sizeof(p), "%s/.hidden.json", dir);
    write_file(p, line, (size_t)n);
    snprintf(p, sizeof(p), "%s/link.json", dir);        /* not followed */
    CHECK(symlink("lab1/1.json", p) == 0, "symlink");
    snprintf(p, sizeof(p), "%s/fifo.json", dir);        /* named, never blocks */
    CHECK(mkfifo(p, 0644) == 0, "mkfifo");
    snprintf(p, sizeof(p), "%s/2.json", dir);           /* over-long line, then no newline */
    char *big = malloc(2 << 20);
    if (big) {
        memset(big, 'x', (1 << 20) + 7);
        big[(1 << 20) + 7] = '\n';
        int m = rec(big + (1 << 20) + 8, 4096, 2, 0, 0, "b", "bob", "remote", 0, 5, 0);
        write_file(p, big, (size_t)(1 << 20) + 8 + (size_t)m - 1);
        free(big);
    }
    snprintf(p, sizeof(p), "%s/3.json", dir);           /* cut inside a string, at the end */
    write_file(p, line, (size_t)(strstr(line, "\"host\":\"a") - line) + 9);
    ng_report *r = ng_report_new(NULL);
    CHECK(ng_report_add_path(r, dir, err, sizeof(err)) == 0, "%s", err);
    snprintf(p, sizeof(p), "%s/lab1/1.json", dir);      /* named again: read once */
    CHECK(ng_report_add_path(r, p, err, sizeof(err)) == 0, "%s", err);
    const ng_report_input *in = ng_report_input_counts(r);
    char *probs = ng_report_problems(r, 20);
    CHECK(in->used == 2 && in->files == 3 && in->problems[NG_PROB_TOO_LONG] == 1 &&
          in->problems[NG_PROB_UNREADABLE] == 2 && in->problems[NG_PROB_DAMAGED] == 1 &&
          in->problems[NG_PROB_DUPLICATE] == 0, "used %lu files %lu: %s", in->used, in->files,
          probs);
    CHECK(probs && strstr(probs, "2.json:1: line of 1048583 bytes") &&
          strstr(probs, "fifo.json: not a regular file") && strstr(probs, "link.json: a symlink") &&
          strstr(probs, "3.json:1: line ends inside a string") &&
          strstr(probs, "without a newline"), "%s", probs);
    free(probs);
    ng_report_free(r);
    r = ng_report_new(NULL);
    snprintf(p, sizeof(p), "%s/none", dir);
    CHECK(ng_report_add_path(r, p, err, sizeof(err)) < 0 && strstr(err, "none: No such file"),
          "%s", err);
    snprintf(p, sizeof(p), "%s/fifo.json", dir);
    CHECK(ng_report_add_path(r, p, err, sizeof(err)) < 0 && strstr(err, "not a regular file"),
          "%s", err);
    ng_report_free(r);
    t_end();
    snprintf(p, sizeof(p), "rm -rf %s", dir);
    CHECK(system(p) == 0, "cleanup");
}

static void since_cases(void)
{
    long long now = 1764500000, v = 0;   /* 2025-11-30T10:53:20Z */
    char err[NG_ERRLEN];
    setenv("TZ", "UTC", 1);   /* the local-time case */
    tzset();
    t_begin("since/durations-dates-and-errors");
    CHECK(ng_since_parse("7d", now, &v, err, sizeof(err)) == 0 && v == now - 7 * 86400, "7d");
    CHECK(ng_since_parse("90s", now, &v, err, sizeof(err)) == 0 && v == now - 90, "90s");
    CHECK(ng_since_parse("2w", now, &v, err, sizeof(err)) == 0 && v == now - 14 * 86400, "2w");
    CHECK(ng_since_parse("2025-11-30T08:00Z", now, &v, err, sizeof(err)) == 0 &&
          v == 1764489600, "%lld", v);
    CHECK(ng_since_parse("2025-11-29Z", now, &v, err, sizeof(err)) == 0 && v == 1764374400,
          "%lld", v);
    CHECK(ng_since_parse("@1700000000", now, &v, err, sizeof(err)) == 0 && v == 1700000000, "@");
    CHECK(ng_since_parse("2025-11-30 08:00:30", now, &v, err, sizeof(err)) == 0, "%s", err);
    static const struct { const char *s, *why; } bad[] = {
        { "0d", "out of range" }, { "36501d", "out of range" }, { "99999999999999999999w", "out of range" },
        { "2025-02-30", "not a date of the calendar" }, { "2025-13-01", "not a duration or a date" },
        { "2026-01-01", "in the future" }, { "yesterday", "not a duration or a date" },
        { "7", "not a duration or a date" }, { "-7d", "not a duration or a date" },
        { "2025-11-30T8:00", "not a duration or a date" }, { "@99999999999", "seconds since the epoch" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(ng_since_parse(bad[i].s, now, &v, err, sizeof(err)) < 0 && strstr(err, bad[i].why) &&
              strstr(err, bad[i].s), "'%s': %s", bad[i].s, err);
    t_end();
}

int main(void)
{
    written_and_read();
    parse_cases();
    report_cases();
    tree_cases();
    since_cases();
    T_EXIT();
}
