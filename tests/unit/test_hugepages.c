/* Hugepage reservations: ledger arithmetic against a fake sysfs root,
 * caps, corrupt ledgers, 8 concurrent reservers, kill -9 and reconcile,
 * and the real kernel's node0 counters when /sys is writable. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/hugepages.h"

static char root[64], state[96];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* node0: 2048kB; node1: 2048kB and 1GB; 1 GiB of memory each. */
static void make_root(void)
{
    char p[256], cmd[512];
    snprintf(root, sizeof(root), "/tmp/ng-hp-XXXXXX");
    if (!mkdtemp(root))
        exit(1);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/devices/system/node/node0/hugepages/hugepages-2048kB "
             "%s/devices/system/node/node1/hugepages/hugepages-2048kB "
             "%s/devices/system/node/node1/hugepages/hugepages-1048576kB", root, root, root);
    if (system(cmd) != 0)
        exit(1);
    const char *files[] = { "node0/hugepages/hugepages-2048kB", "node1/hugepages/hugepages-2048kB",
                            "node1/hugepages/hugepages-1048576kB" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/devices/system/node/%s/nr_hugepages", root, files[i]);
        put(p, "0\n");
    }
    for (int n = 0; n < 2; n++) {
        snprintf(p, sizeof(p), "%s/devices/system/node/node%d/meminfo", root, n);
        put(p, n ? "Node 1 MemTotal:        1048576 kB\n" : "Node 0 MemTotal:        1048576 kB\n");
    }
    snprintf(state, sizeof(state), "%s/state", root);
}

static long nr(int node, unsigned long kb)
{
    long v = -1;
    ng_hp_read(root, node, kb, "nr_hugepages", &v);
    return v;
}

static ng_hp_req req(unsigned long job, int node, long count)
{
    ng_hp_req r = { job, 0, 0, node, 2048, count, getpid() };
    return r;
}

static void arithmetic(void)
{
    ng_hp_ctx c = { root, NULL, state, 0, 0 };
    char err[NG_ERRLEN];
    long g;
    t_begin("hugepages/reserve-release-exactly-what-was-added");
    ng_hp_req a = req(1, 1, 3), b = req(2, 1, 2);
    CHECK(ng_hp_reserve(&c, &a, &g, err, sizeof(err)) == 0 && g == 3, "%s g=%ld", err, g);
    CHECK(ng_hp_reserve(&c, &b, &g, err, sizeof(err)) == 0 && g == 2, "%s", err);
    CHECK(nr(1, 2048) == 5 && nr(0, 2048) == 0, "node1 %ld node0 %ld", nr(1, 2048), nr(0, 2048));
    /* Someone else (an admin) adds 4 pages by hand: never ours to take. */
    char p[256];
    snprintf(p, sizeof(p), "%s/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", root);
    put(p, "9\n");
    int n = 0;
    CHECK(ng_hp_release(&c, 1, -1, -1, &n, err, sizeof(err)) == 0 && n == 1, "%s n=%d", err, n);
    CHECK(nr(1, 2048) == 6, "after job 1: %ld (want 9-3)", nr(1, 2048));
    CHECK(ng_hp_release(&c, 2, -1, -1, &n, err, sizeof(err)) == 0 && n == 1 && nr(1, 2048) == 4,
          "after job 2: %ld", nr(1, 2048));
    CHECK(ng_hp_release(&c, 2, -1, -1, &n, err, sizeof(err)) == 0 && n == 0 && nr(1, 2048) == 4,
          "double release took more");
    put(p, "0\n");
    t_end();

    t_begin("hugepages/page-size-must-exist-on-node");
    ng_hp_req big = req(3, 0, 1);
    big.page_kb = 1048576;
    CHECK(ng_hp_reserve(&c, &big, &g, err, sizeof(err)) < 0 && strstr(err, "node 0") &&
          strstr(err, "1048576kB") && strstr(err, "offers: 2048kB"), "%s", err);
    big.node = 1;
    CHECK(ng_hp_reserve(&c, &big, &g, err, sizeof(err)) == 0 && g == 1 && nr(1, 1048576) == 1, "%s", err);
    ng_hp_release(&c, 3, -1, -1, NULL, err, sizeof(err));
    CHECK(nr(1, 1048576) == 0, "1G not released");
    t_end();

    t_begin("hugepages/caps-refuse-and-name-the-cap");
    ng_hp_ctx capped = c;
    capped.max_per_job = 4ULL << 20;  /* 2 pages of 2 MiB */
    ng_hp_req r3 = req(4, 0, 3);
    CHECK(ng_hp_reserve(&capped, &r3, &g, err, sizeof(err)) < 0 &&
          strstr(err, "hugepages_max_per_job=4 MiB") && nr(0, 2048) == 0, "%s", err);
    capped.max_per_job = 0;
    capped.max_fraction = 0.01;       /* 10 MiB of the 1 GiB node = 5 pages */
    ng_hp_req r6 = req(4, 0, 6);
    CHECK(ng_hp_reserve(&capped, &r6, &g, err, sizeof(err)) < 0 &&
          strstr(err, "hugepages_max_fraction=0.01") && nr(0, 2048) == 0, "%s", err);
    ng_hp_req r5 = req(4, 0, 5);
    CHECK(ng_hp_reserve(&capped, &r5, &g, err, sizeof(err)) == 0 && g == 5, "%s", err);
    ng_hp_release(&c, 4, -1, -1, NULL, err, sizeof(err));
    t_end();

    t_begin("hugepages/corrupt-ledger-refused-counts-untouched");
    char lp[256], before[512], after[512];
    snprintf(lp, sizeof(lp), "%s/hugepages.ledger", state);
    put(lp, "# numa-gpu hugepage ledger v1\n1 0 0 1 2048 3 123\n");
    FILE *f = fopen(lp, "r");
    size_t bn = f ? fread(before, 1, sizeof(before) - 1, f) : 0;
    before[bn] = '\0';
    if (f)
        fclose(f);
    ng_hp_req r1 = req(5, 0, 1);
    CHECK(ng_hp_reserve(&c, &r1, &g, err, sizeof(err)) < 0 && strstr(err, "corrupt at line 2"),
          "%s", err);
    CHECK(ng_hp_release(&c, 1, -1, -1, NULL, err, sizeof(err)) < 0 && nr(0, 2048) == 0 && nr(1, 2048) == 0,
          "release on a corrupt ledger changed counts");
    f = fopen(lp, "r");
    size_t an = f ? fread(after, 1, sizeof(after) - 1, f) : 0;
    after[an] = '\0';
    if (f)
        fclose(f);
    CHECK(!strcmp(before, after), "corrupt ledger was rewritten");
    unlink(lp);
    t_end();
}

static void concurrency(void)
{
    ng_hp_ctx c = { root, NULL, state, 0, 0 };
    char err[NG_ERRLEN];
    t_begin("hugepages/8-concurrent-reservers-end-at-original-counts");
    for (int w = 0; w < 8; w++)
        if (fork() == 0) {
            for (int i = 0; i < 20; i++) {
                long g;
                ng_hp_req r = req((unsigned long)(100 + w), w % 2, 1 + i % 3);
                if (ng_hp_reserve(&c, &r, &g, err, sizeof(err)) < 0 || g != r.count)
                    _exit(1);
                if (ng_hp_release(&c, r.job, -1, -1, NULL, err, sizeof(err)) < 0)
                    _exit(2);
            }
            _exit(0);
        }
    int bad = 0, st;
    for (int w = 0; w < 8; w++) {
        wait(&st);
        bad += !WIFEXITED(st) || WEXITSTATUS(st);
    }
    CHECK(!bad && nr(0, 2048) == 0 && nr(1, 2048) == 0, "bad=%d node0=%ld node1=%ld", bad,
          nr(0, 2048), nr(1, 2048));
    int failed = 0;
    char *s = ng_hp_status(&c, &failed);
    CHECK(s && strstr(s, "no reservations") && !failed, "ledger not empty: %s", s);
    free(s);
    t_end();

    t_begin("hugepages/kill-9-then-reconcile-restores");
    int pipefd[2];
    CHECK(pipe(pipefd) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        long g;
        ng_hp_req r = req(200, 1, 7);
        r.owner = getpid();
        int ok = ng_hp_reserve(&c, &r, &g, err, sizeof(err)) == 0 && g == 7;
        if (write(pipefd[1], ok ? "y" : "n", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char ch = 'n';
    CHECK(read(pipefd[0], &ch, 1) == 1 && ch == 'y', "child reserve failed");
    CHECK(nr(1, 2048) == 7, "reserved %ld", nr(1, 2048));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* A reservation by another job reconciles the dead owner first. */
    long g;
    ng_hp_req r = req(201, 1, 1);
    CHECK(ng_hp_reserve(&c, &r, &g, err, sizeof(err)) == 0 && nr(1, 2048) == 1,
          "after reconcile %ld (want 1)", nr(1, 2048));
    int n;
    CHECK(ng_hp_release(&c, 201, -1, -1, &n, err, sizeof(err)) == 0 && nr(1, 2048) == 0, "%s", err);
    close(pipefd[0]);
    close(pipefd[1]);
    t_end();
}

static void real_kernel(void)
{
    long before;
    if (geteuid() != 0 || ng_hp_read(NULL, 0, 2048, "nr_hugepages", &before) < 0 ||
        access("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", W_OK) < 0) {
        t_skip("hugepages/real-kernel-node0", "not root or /sys node0 2 MiB counter not writable");
        return;
    }
    char st[128], err[NG_ERRLEN];
    snprintf(st, sizeof(st), "%s/real-state", root);
    ng_hp_ctx c = { NULL, NULL, st, 0, 0 };
    long g;
    t_begin("hugepages/real-kernel-node0-reserve-release");
    ng_hp_req r = req(300, 0, 4);
    CHECK(ng_hp_reserve(&c, &r, &g, err, sizeof(err)) == 0, "%s", err);
    long during = -1;
    ng_hp_read(NULL, 0, 2048, "nr_hugepages", &during);
    CHECK(during == before + g && g > 0, "before %ld during %ld granted %ld", before, during, g);
    ng_hp_release(&c, 300, -1, -1, NULL, err, sizeof(err));
    long after = -1;
    ng_hp_read(NULL, 0, 2048, "nr_hugepages", &after);
    CHECK(after == before, "after %ld before %ld", after, before);
    t_end();

    t_begin("hugepages/real-kernel-grants-less-than-asked");
    ng_hp_req huge = req(301, 0, 1L << 22); /* 8 TiB of 2 MiB pages */
    CHECK(ng_hp_reserve(&c, &huge, &g, err, sizeof(err)) == 0 && g < huge.count,
          "granted %ld of %ld: %s", g, huge.count, err);
    ng_hp_release(&c, 301, -1, -1, NULL, err, sizeof(err));
    ng_hp_read(NULL, 0, 2048, "nr_hugepages", &after);
    CHECK(after == before, "after %ld before %ld", after, before);
    t_end();
}

static void sizes(void)
{
    unsigned long long b;
    unsigned long kb;
    char err[NG_ERRLEN];
    t_begin("hugepages/size-syntax");
    CHECK(ng_hp_parse_size("8G", &b, &kb, err, sizeof(err)) == 0 && b == 8ULL << 30 && kb == 2048, "8G");
    CHECK(ng_hp_parse_size("4096M:2M", &b, &kb, err, sizeof(err)) == 0 && b == 4096ULL << 20 && kb == 2048, "4096M:2M");
    CHECK(ng_hp_parse_size("2G:1G", &b, &kb, err, sizeof(err)) == 0 && kb == 1048576, "2G:1G");
    const char *bad[] = { "", "G", "8X", "0", "-1G", "8G:3M", "8G:", "8G:1G:2M", "99999999999T" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(ng_hp_parse_size(bad[i], &b, &kb, err, sizeof(err)) < 0 && strstr(err, "hugepages"),
              "'%s' accepted", bad[i]);
    t_end();
}

/* A task's share over its nodes, strict rollback, and the service a task
 * (after dropping privileges) asks from slurmstepd. */
static void per_rank(void)
{
    ng_hp_ctx c = { root, NULL, state, 0, 0 };
    char env[256], warn[NG_ERRLEN], err[NG_ERRLEN];
    hwloc_bitmap_t both = hwloc_bitmap_alloc();
    hwloc_bitmap_set_range(both, 0, 1);

    t_begin("hugepages/rank-share-split-over-nodes");
    CHECK(ng_hp_reserve_rank(&c, 10, 0, 0, both, 8u << 20, 2048, getpid(), 1, env, sizeof(env),
                             warn, sizeof(warn), err, sizeof(err)) == 0 &&
          !strcmp(env, "0:2x2048kB,1:2x2048kB") && nr(0, 2048) == 2 && nr(1, 2048) == 2,
          "%s env '%s' %ld/%ld", err, env, nr(0, 2048), nr(1, 2048));
    ng_hp_release(&c, 10, -1, -1, NULL, err, sizeof(err));
    CHECK(nr(0, 2048) == 0 && nr(1, 2048) == 0, "not released");
    t_end();

    /* Half of a node's memory at most; node 1 shrunk to 4 MiB: node 0's
     * 4 MiB fit, node 1's 4 MiB do not. */
    char mp[256];
    snprintf(mp, sizeof(mp), "%s/devices/system/node/node1/meminfo", root);
    put(mp, "Node 1 MemTotal:        4096 kB\n");
    ng_hp_ctx capped = { root, NULL, state, 0, 0.5 };
    t_begin("hugepages/rank-strict-all-or-nothing");
    err[0] = '\0';
    CHECK(ng_hp_reserve_rank(&capped, 11, 0, 0, both, 8u << 20, 2048, getpid(), 1, env,
                             sizeof(env), warn, sizeof(warn), err, sizeof(err)) < 0 &&
          strstr(err, "node 1") && nr(0, 2048) == 0 && nr(1, 2048) == 0,
          "'%s': %ld/%ld left", err, nr(0, 2048), nr(1, 2048));
    ng_hp_release(&c, 11, -1, -1, NULL, err, sizeof(err));
    t_end();

    t_begin("hugepages/rank-prefer-keeps-what-it-got-and-warns");
    CHECK(ng_hp_reserve_rank(&capped, 12, 0, 3, both, 8u << 20, 2048, getpid(), 0, env,
                             sizeof(env), warn, sizeof(warn), err, sizeof(err)) == 0 &&
          !strcmp(env, "0:2x2048kB,1:0x2048kB") && strstr(warn, "task 3") &&
          strstr(warn, "node 1") && nr(0, 2048) == 2,
          "env '%s' warn '%s'", env, warn);
    ng_hp_release(&c, 12, -1, -1, NULL, err, sizeof(err));
    put(mp, "Node 1 MemTotal:        1048576 kB\n");
    t_end();

    t_begin("hugepages/service-answers-a-forked-task");
    ng_hp_service *s = ng_hp_service_start(&c, 13, 2, 2, 4u << 20, 2048, err, sizeof(err));
    CHECK(s != NULL, "%s", err);
    if (s) {
        pid_t pid = fork();
        if (pid == 0) {   /* the task: asks for its row, node 1 */
            hwloc_bitmap_t one = hwloc_bitmap_alloc();
            hwloc_bitmap_set(one, 1);
            int rc = ng_hp_service_ask(s, 1, one, 1, 5000, env, sizeof(env), warn, sizeof(warn),
                                       err, sizeof(err));
            _exit(rc == 0 && !strcmp(env, "1:2x2048kB") ? 0 : 1);
        }
        int st = -1;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && nr(1, 2048) == 2, "task saw failure, nr %ld",
              nr(1, 2048));
        CHECK(ng_hp_service_ask(s, 2, both, 1, 100, env, sizeof(env), warn, sizeof(warn), err,
                                sizeof(err)) < 0 && strstr(err, "did not start"),
              "task 2 of 2 accepted");
        ng_hp_service_stop(s);
        ng_hp_release(&c, 13, 2, -1, NULL, err, sizeof(err));
        CHECK(nr(1, 2048) == 0, "step release left %ld", nr(1, 2048));
    }
    t_end();
    hwloc_bitmap_free(both);
}

int main(void)
{
    make_root();
    sizes();
    arithmetic();
    per_rank();
    concurrency();
    real_kernel();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        return 1;
    T_EXIT();
}
