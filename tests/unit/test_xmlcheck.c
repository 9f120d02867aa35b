/* The check of a foreign topology XML (lib/xmlcheck.c): hwloc-info in a
 * spawned child. A file hwloc crashes on is refused naming the signal, a
 * parse error names hwloc's message, a hung checker is killed at the
 * deadline, a missing one is named, and a multi-threaded caller that keeps
 * its allocator busy never hangs (the fork-without-exec deadlock the old
 * probe had under libFuzzer and slurmstepd). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/xmlcheck.h"

#define CRASHER "tests/fuzz/corpus/topology/hwloc-null-complete-cpuset"
#define TRUNCATED "tests/fuzz/corpus/topology/truncated"

static char tmpdir[] = "/tmp/ng-xmlcheck.XXXXXX";

/* A stand-in for hwloc-info: writes its pid to DIR/pid, then runs body. */
static void fake_checker(const char *path, const char *body)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "#!/bin/sh\necho $$ > %s/pid\n%s\n", tmpdir, body);
    fclose(f);
    chmod(path, 0755);
}

static pid_t fake_pid(void)
{
    char p[256], buf[32] = "";
    snprintf(p, sizeof(p), "%s/pid", tmpdir);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    return (pid_t)atoi(buf);
}

static volatile int churn_stop;
static void *churn(void *arg)
{
    (void)arg;
    while (!churn_stop) {
        void *p[64];
        for (int i = 0; i < 64; i++)
            p[i] = malloc((size_t)(16 + i * 97));
        for (int i = 0; i < 64; i++)
            free(p[i]);
    }
    return NULL;
}

int main(void)
{
    char err[NG_ERRLEN], xml[4096], fake[256];
    if (!mkdtemp(tmpdir)) {
        printf("FAIL xmlcheck/setup: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    snprintf(xml, sizeof(xml), "%s/llnl-pascal-2s-bdw-2xp100-pcie.xml", t_corpus());
    if (access(xml, R_OK) != 0)
        snprintf(xml, sizeof(xml), "tests/topologies/regress/synthetic-2990wx-memoryless-dies.xml");

    t_begin("xmlcheck/good-file-passes");
    CHECK(ng_xml_check(xml, 0, err, sizeof(err)) == 0, "%s", err);
    t_end();

    t_begin("xmlcheck/hwloc-crash-refused-naming-signal");
    err[0] = '\0';
    CHECK(ng_xml_check(CRASHER, 0, err, sizeof(err)) < 0, "accepted");
    CHECK(strstr(err, "hwloc crashed reading it (signal 11") && strstr(err, CRASHER), "%s", err);
    t_end();

    t_begin("xmlcheck/topo-load-refuses-crasher-without-dying");
    ng_topo *t = ng_topo_load(CRASHER, err, sizeof(err));
    CHECK(!t && strstr(err, "hwloc crashed"), "%s", t ? "loaded" : err);
    if (t)
        ng_topo_free(t);
    t_end();

    t_begin("xmlcheck/parse-error-names-hwloc-message");
    CHECK(ng_xml_check(TRUNCATED, 0, err, sizeof(err)) < 0, "accepted");
    CHECK(strstr(err, "not usable as hwloc XML") && strstr(err, "parser error"), "%s", err);
    t_end();

    /* A checker that hangs (and ignores TERM) is killed at the deadline. */
    t_begin("xmlcheck/hung-checker-killed-at-deadline");
    snprintf(fake, sizeof(fake), "%s/hang", tmpdir);
    fake_checker(fake, "trap '' TERM\nexec sleep 600");
    setenv("NUMA_GPU_HWLOC_INFO", fake, 1);
    int rc = ng_xml_check(xml, 300, err, sizeof(err));
    CHECK(rc < 0 && strstr(err, "did not finish reading it within 300 ms"), "rc=%d %s", rc, err);
    pid_t p = fake_pid();
    CHECK(p > 0 && kill(p, 0) < 0 && errno == ESRCH, "checker pid %d still there", (int)p);
    t_end();

    /* The child gets a clean environment: no LD_PRELOAD of the caller's. */
    t_begin("xmlcheck/child-environment-is-clean");
    snprintf(fake, sizeof(fake), "%s/env", tmpdir);
    fake_checker(fake, "[ -z \"$LD_PRELOAD\" ] && [ -z \"$NG_SECRET\" ] || { echo \"env leaked\" >&2; exit 3; }\n"
                       "[ \"$HWLOC_PLUGINS_BLACKLIST\" = hwloc_gl,hwloc_opencl,hwloc_pci ] || exit 4");
    setenv("NUMA_GPU_HWLOC_INFO", fake, 1);
    setenv("NG_SECRET", "x", 1);
    rc = ng_xml_check(xml, 0, err, sizeof(err));
    CHECK(rc == 0, "%s", err);
    unsetenv("NG_SECRET");
    t_end();

    t_begin("xmlcheck/missing-checker-named");
    setenv("NUMA_GPU_HWLOC_INFO", "/nonexistent/hwloc-info", 1);
    rc = ng_xml_check(xml, 0, err, sizeof(err));
    CHECK(rc < 0 && strstr(err, "/nonexistent/hwloc-info") && strstr(err, "cannot run") &&
          strstr(err, "save-topology --from"), "rc=%d %s", rc, err);
    t_end();

    t_begin("xmlcheck/relative-override-ignored");
    setenv("NUMA_GPU_HWLOC_INFO", "hwloc-info", 1);
    rc = ng_xml_check(xml, 0, err, sizeof(err));
    CHECK(rc == 0, "%s", err);
    unsetenv("NUMA_GPU_HWLOC_INFO");
    t_end();

    /* 200 checks while four threads keep malloc's locks busy: the old
     * fork-without-exec probe hung about once in 70 runs like this. */
    t_begin("xmlcheck/200-checks-from-a-busy-multithreaded-caller");
    pthread_t th[4];
    int nth = 0;
    for (int i = 0; i < 4; i++)
        if (pthread_create(&th[nth], NULL, churn, NULL) == 0)
            nth++;
    CHECK(nth == 4, "only %d threads", nth);
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        if (ng_xml_check(i % 2 ? xml : CRASHER, 0, err, sizeof(err)) != (i % 2 ? 0 : -1))
            bad++;
    }
    churn_stop = 1;
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    CHECK(bad == 0, "%d of 200 checks gave the wrong verdict (last: %s)", bad, err);
    t_end();

    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    T_EXIT();
}
