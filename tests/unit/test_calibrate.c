/* numa-gpu calibrate without a GPU: the verdicts and the map over made-up
 * bandwidth matrices on corpus machines whose firmware is right, wrong,
 * silent (JUROPA-3: GPUs under the Machine) or coarse (SNC-4 sub-nodes that
 * measure the same), the gpu_map lines read back into a topology (what the
 * plugin then places by), and every option parser's bounds. The runs
 * through a runtime are tests/cli/test_calibrate.sh (stand-in library). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/calibrate.h"
#include "private/gpumap.h"

#define XE8640 "dell-xe8640-2s-xeon8480-snc4-4xh100.xml"
#define JUROPA "jsc-juropa3-2s-snb-2xk20-no-pci-locality-hwloc1.xml"
#define UV2000 "sgi-uv2000-restricted-2gpu-empty-locality.xml"
#define PASCAL "llnl-pascal-2s-bdw-2xp100-pcie.xml"


/* A result of ngpus GPUs x nrows nodes; score[g][r] GB/s in both
 * directions (0: the node was not measured). */
static void mk(ng_cal_result *r, int ngpus, const char *const *bus, int nrows,
               const int *nodes, const double *score)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->runtime, sizeof(r->runtime), "made up");
    snprintf(r->kind, sizeof(r->kind), "cuda");
    r->bytes = 64 << 20;
    r->repeat = 10;
    r->ngpus = ngpus;
    r->nrows = nrows;
    r->gpus = calloc((size_t)ngpus, sizeof(*r->gpus));
    r->rows = calloc((size_t)nrows, sizeof(*r->rows));
    r->h2d = calloc((size_t)(ngpus * nrows), sizeof(double));
    r->d2h = calloc((size_t)(ngpus * nrows), sizeof(double));
    for (int g = 0; g < ngpus; g++) {
        r->gpus[g].ordinal = g;
        snprintf(r->gpus[g].busid, NG_BUSID_LEN, "%s", bus[g]);
    }
    for (int i = 0; i < nrows; i++) {
        r->rows[i].node = nodes[i];
        r->rows[i].cpus = hwloc_bitmap_alloc();
        r->rows[i].on_node = 1;
        r->rows[i].buffer_node = nodes[i];
        for (int g = 0; g < ngpus; g++)
            if (score[g * nrows + i] > 0)
                r->rows[i].measured = 1;
    }
    for (int k = 0; k < ngpus * nrows; k++) {
        r->h2d[k] = score[k];
        r->d2h[k] = score[k];
    }
}

static const char *str(hwloc_const_bitmap_t b, char *buf, size_t len)
{
    return hwloc_bitmap_iszero(b) ? "" : ng_list_str(b, buf, len);
}

/* Decide GPU g and compare verdict, measured-best and map nodes. */
static void expect(const ng_topo *t, const ng_cal_result *r, int g, ng_cal_verdict v,
                   const char *best, const char *map)
{
    ng_cal_decision d;
    char b[64], m[64];
    CHECK(ng_cal_decide(t, r, g, NG_CAL_DEFAULT_TOLERANCE, &d) == 0, "decide failed");
    if (!d.best)
        return;
    CHECK(d.verdict == v, "GPU %s: verdict %s, want %s", r->gpus[g].busid,
          ng_cal_verdict_name(d.verdict), ng_cal_verdict_name(v));
    CHECK(!strcmp(str(d.best, b, sizeof(b)), best), "GPU %s: best '%s', want '%s'",
          r->gpus[g].busid, b, best);
    CHECK(!strcmp(str(d.map, m, sizeof(m)), map), "GPU %s: map '%s', want '%s'",
          r->gpus[g].busid, m, map);
    ng_cal_decision_clear(&d);
}

static void test_verdicts(void)
{
    ng_cal_result r;
    ng_topo *t = t_load_corpus(UV2000);
    t_begin("calibrate/uv2000-firmware-wrong-for-one-gpu");
    if (t) {
        /* firmware: 0002:01:00.0 on node 4, 0004:01:00.0 on node 7 */
        static const char *const bus[] = { "0002:01:00.0", "0004:01:00.0" };
        static const int nodes[] = { 4, 5, 7 };
        static const double s[] = { 6.0, 11.8, 6.1,     /* node 5 is nearest: a lie */
                                    5.0, 5.1, 12.0 };   /* node 7: right */
        mk(&r, 2, bus, 3, nodes, s);
        expect(t, &r, 0, NG_CAL_DISAGREES, "5", "5");
        expect(t, &r, 1, NG_CAL_AGREES, "7", "7");
        ng_cal_result_free(&r);
    }
    t_end();
    t_begin("calibrate/uv2000-firmware-node-not-measured-no-verdict");
    if (t) {
        static const char *const bus[] = { "0002:01:00.0" };
        static const int nodes[] = { 5, 6 };
        static const double s[] = { 12.0, 6.0 };
        mk(&r, 1, bus, 2, nodes, s);
        expect(t, &r, 0, NG_CAL_NOT_ENOUGH, "5", "");
        ng_cal_result_free(&r);
    }
    t_end();
    ng_topo_free(t);

    t = t_load_corpus(JUROPA);
    t_begin("calibrate/juropa-no-locality-filled");
    if (t) {
        static const char *const bus[] = { "0000:01:00.0", "0000:82:00.0", "0000:99:00.0" };
        static const int nodes[] = { 0, 1 };
        static const double s[] = { 10.2, 7.9, 7.8, 10.4, 3.0, 9.0 };
        mk(&r, 3, bus, 2, nodes, s);
        expect(t, &r, 0, NG_CAL_FILLED, "0", "0");
        expect(t, &r, 1, NG_CAL_FILLED, "1", "1");
        expect(t, &r, 2, NG_CAL_FILLED, "1", "1");   /* not in the topology at all */
        ng_cal_result_free(&r);
    }
    t_end();
    t_begin("calibrate/juropa-within-tolerance-too-close-no-line");
    if (t) {
        static const char *const bus[] = { "0000:01:00.0" };
        static const int nodes[] = { 0, 1 };
        static const double s[] = { 10.0, 9.6 };     /* 4% apart, tolerance 5% */
        mk(&r, 1, bus, 2, nodes, s);
        expect(t, &r, 0, NG_CAL_TOO_CLOSE, "0-1", "");
        ng_cal_result_free(&r);
    }
    t_end();
    t_begin("calibrate/one-node-measured-no-verdict");
    if (t) {
        static const char *const bus[] = { "0000:01:00.0" };
        static const int nodes[] = { 0, 1 };
        static const double s[] = { 10.0, 0 };       /* node 1 skipped */
        mk(&r, 1, bus, 2, nodes, s);
        expect(t, &r, 0, NG_CAL_NOT_ENOUGH, "0", "");
        ng_cal_result_free(&r);
    }
    t_end();
    ng_topo_free(t);

    t = t_load_corpus(XE8640);
    t_begin("calibrate/snc4-tied-sub-nodes-keep-the-firmware-node");
    if (t) {
        /* 0000:4e:00.0 is on node 3; nodes 2 and 3 (one socket) measure the same */
        static const char *const bus[] = { "0000:4e:00.0" };
        static const int nodes[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
        static const double s[] = { 20, 20, 25.1, 25.0, 19, 19, 19, 19 };
        mk(&r, 1, bus, 8, nodes, s);
        expect(t, &r, 0, NG_CAL_AGREES, "2-3", "3");
        ng_cal_result_free(&r);
    }
    t_end();
    ng_topo_free(t);
}

static void test_map_round_trip(void)
{
    ng_cal_result r;
    char err[NG_ERRLEN], path[] = "/tmp/numa-gpu-calmap.XXXXXX";
    int fd = mkstemp(path);
    ng_topo *t = t_load_corpus(UV2000), *t2 = t_load_corpus(UV2000);
    t_begin("calibrate/map-written-read-back-moves-the-gpu");
    if (t && t2 && fd >= 0) {
        static const char *const bus[] = { "0002:01:00.0", "0004:01:00.0" };
        static const int nodes[] = { 4, 5, 7 };
        static const double s[] = { 6.0, 11.8, 6.1, 5.0, 5.1, 12.0 };
        mk(&r, 2, bus, 3, nodes, s);
        const char *old = "# the admin's ids\nGPU-aaaa 0002:01:00.0\n"
                          "numa_node 0004:01:00.0 0\n# numa-gpu calibrate: old run\n";
        char *text = ng_cal_map_text(t, &r, NG_CAL_DEFAULT_TOLERANCE, old, "host");
        CHECK(text && strstr(text, "GPU-aaaa 0002:01:00.0\n") &&
              strstr(text, "# the admin's ids\n"), "the admin's lines are gone: %s", text ? text : "");
        CHECK(text && !strstr(text, "numa_node 0004:01:00.0 0\n") &&
              !strstr(text, "old run"), "the old locality lines stayed: %s", text ? text : "");
        CHECK(text && strstr(text, "\nnuma_node 0002:01:00.0 5\n") &&
              strstr(text, "\nnuma_node 0004:01:00.0 7\n"), "map lines: %s", text ? text : "");
        FILE *f = fdopen(fd, "w");
        fputs(text ? text : "", f);
        fclose(f);
        fd = -1;
        free(text);
        int applied = -1, skipped = -1;
        CHECK(ng_gpu_map_locality(t2, path, &applied, &skipped, err, sizeof(err)) == 0,
              "%s", err);
        CHECK(applied == 2 && skipped == 0, "applied %d skipped %d", applied, skipped);
        ng_accel a;
        char nb[64], cb[64];
        if (ng_accel_lookup(t2, "0002:01:00.0", &a, err, sizeof(err)) == 0) {
            CHECK(a.locality == NG_LOC_KNOWN && !strcmp(ng_list_str(a.nodes, nb, sizeof(nb)), "5"),
                  "0002:01:00.0 on %s, want 5 (the map)", nb);
            CHECK(hwloc_bitmap_isequal(a.near_cpus, ng_topo_node_cpus(t2, 5)),
                  "near cpus %s, want node 5's", ng_list_str(a.near_cpus, cb, sizeof(cb)));
            ng_accel_clear(&a);
        }
        /* the raw topology still says what the firmware says */
        if (ng_accel_lookup(t, "0002:01:00.0", &a, err, sizeof(err)) == 0) {
            CHECK(!strcmp(ng_list_str(a.nodes, nb, sizeof(nb)), "4"), "firmware %s", nb);
            ng_accel_clear(&a);
        }
        ng_cal_result_free(&r);
    }
    t_end();
    if (fd >= 0)
        close(fd);
    unlink(path);
    ng_topo_free(t);
    ng_topo_free(t2);
}

/* Write text as a map and load it into a fresh UV2000 topology. */
static int try_map(const char *text, int *applied, int *skipped, char *err, size_t errlen,
                   int *left)
{
    char path[] = "/tmp/numa-gpu-calmap.XXXXXX";
    int fd = mkstemp(path);
    ng_topo *t = t_load_corpus(UV2000);
    if (fd < 0 || !t || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        ng_topo_free(t);
        return -2;
    }
    close(fd);
    int rc = ng_gpu_map_locality(t, path, applied, skipped, err, errlen);
    *left = ng_topo_gpu_nodes(t, "0002:01:00.0") != NULL;
    unlink(path);
    ng_topo_free(t);
    return rc;
}

static void test_map_errors(void)
{
    static const struct { const char *name, *text, *want, *line; } bad[] = {
        { "bad-busid", "numa_node 0002:01:00 5\n", "not a PCI bus id", "line 3" },
        { "bad-nodes", "numa_node 0002:01:00.0 five\n", "not a list of NUMA nodes", "line 3" },
        { "missing-nodes", "numa_node 0002:01:00.0\n", "expected 'numa_node BUSID NODES'",
          "line 3" },
        { "extra-words", "numa_node 0002:01:00.0 5 # why\n", "extra words", "line 3" },
        { "node-not-there", "numa_node 0002:01:00.0 9\n", "not NUMA nodes with CPUs", "line 3" },
        { "twice", "numa_node 0002:01:00.0 5\nnuma_node 0002:01:00.0 6\n", "listed twice",
          "line 4" },
    };
    char err[NG_ERRLEN];
    int applied, skipped, left;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t_begin("calibrate/map-refused-%s", bad[i].name);
        /* a good line first: all or none */
        char text[512];
        snprintf(text, sizeof(text), "0 0002:01:00.0\nnuma_node 0004:01:00.0 7\n%s", bad[i].text);
        err[0] = '\0';
        int rc = try_map(text, &applied, &skipped, err, sizeof(err), &left);
        CHECK(rc == -1 && strstr(err, bad[i].want) && strstr(err, bad[i].line),
              "rc %d err '%s', want '%s' on %s", rc, err, bad[i].want, bad[i].line);
        CHECK(!left, "a refused map left locality behind");
        t_end();
    }
    t_begin("calibrate/map-other-machines-gpus-skipped");
    int rc = try_map("numa_node 0002:01:00.0 5\nnuma_node 0000:4e:00.0 3\n", &applied,
                     &skipped, err, sizeof(err), &left);
    CHECK(rc == 0 && applied == 1 && skipped == 1 && left, "rc %d applied %d skipped %d: %s",
          rc, applied, skipped, err);
    t_end();
    t_begin("calibrate/map-missing-file-named");
    ng_topo *t = t_load_corpus(UV2000);
    rc = t ? ng_gpu_map_locality(t, "/nonexistent/map", &applied, &skipped, err, sizeof(err))
           : -1;
    CHECK(rc == -1 && strstr(err, "/nonexistent/map") && strstr(err, "No such file"), "%s", err);
    ng_topo_free(t);
    t_end();
}

static void test_parsers(void)
{
    static const struct { const char *s; size_t want; } good[] = {
        { "64M", 64 << 20 }, { "1m", 1 << 20 }, { "1048576", 1 << 20 }, { "4G", 4ULL << 30 },
        { "2048K", 2 << 20 }, { "64MiB", 64 << 20 }, { "64MB", 64 << 20 },
    };
    static const char *const bad[] = { "", "0", "512K", "1048575", "5G", "4097M", "64X", "-1",
                                       "64 M", "M", "99999999999999999999G", "64MiBs" };
    char err[NG_ERRLEN];
    size_t v;
    t_begin("calibrate/size-parse");
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(ng_cal_size_parse(good[i].s, &v, err, sizeof(err)) == 0 && v == good[i].want,
              "'%s' -> %zu, want %zu (%s)", good[i].s, v, good[i].want, err);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(ng_cal_size_parse(bad[i], &v, err, sizeof(err)) == -1 && strstr(err, bad[i]) &&
              strstr(err, "1M..4G"), "'%s' accepted or unclear: %s", bad[i], err);
    t_end();

    ng_cal_gpu g[3] = { { 0, "0000:01:00.0", "a" }, { 1, "0000:02:00.0", "b" },
                        { 2, "0000:81:00.0", "c" } };
    int *sel = NULL, n = 0;
    t_begin("calibrate/gpu-list");
    CHECK(ng_cal_gpu_list(g, 3, "2,0000:01:00.0,81:00.0", &sel, &n, err, sizeof(err)) == -1 &&
          strstr(err, "named twice"), "81:00.0 is GPU 2 twice: %s", err);
    CHECK(ng_cal_gpu_list(g, 3, "2,01:00.0", &sel, &n, err, sizeof(err)) == 0 && n == 2 &&
          sel[0] == 2 && sel[1] == 0, "2,01:00.0 -> %d GPUs", n);
    free(sel);
    sel = NULL;
    CHECK(ng_cal_gpu_list(g, 3, "3", &sel, &n, err, sizeof(err)) == -1 &&
          strstr(err, "'3'") && strstr(err, "0..2"), "3 of 3: %s", err);
    CHECK(ng_cal_gpu_list(g, 3, "0000:03:00.0", &sel, &n, err, sizeof(err)) == -1 &&
          strstr(err, "0000:03:00.0"), "unknown bus id: %s", err);
    CHECK(ng_cal_gpu_list(g, 3, ",", &sel, &n, err, sizeof(err)) == -1 &&
          strstr(err, "no GPU"), "empty list: %s", err);
    free(sel);
    t_end();
}

int main(void)
{
    test_verdicts();
    test_map_round_trip();
    test_map_errors();
    test_parsers();
    T_EXIT();
}
