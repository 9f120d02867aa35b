/* The shared front-end layer: plugstack/option parsing (one parser for the
 * plugin and the CLI) and how a step's ranks get their GPUs from a task's
 * environment (per-task narrowing, shared lists, torchrun). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "numagpu.h"
#include "private/config.h"
#include "private/hints.h"
#include "private/step.h"

static void config(void)
{
    ng_config c;
    char err[NG_ERRLEN];
    t_begin("config/good-arguments");
    ng_config_init(&c);
    CHECK(c.default_mode == NG_MODE_OFF && c.audit_interval == 30 && c.audit_warn_local == 80,
          "defaults");
    const char *good[] = { "default=prefer,verbose", "allowed=off,prefer,strict",
                           "exclusive_only=yes", "topology=/var/lib/t.xml", "gpu_order=pci",
                           "audit_dir=/var/log/numa-gpu", "audit_interval=0", "verbose" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(ng_config_arg(&c, good[i], err, sizeof(err)) == 0, "%s: %s", good[i], err);
    CHECK(c.default_mode == NG_MODE_PREFER && c.verbose && c.exclusive_only && c.pci_order &&
          c.audit_interval == 0 && !strcmp(c.topology, "/var/lib/t.xml"), "values");
    CHECK(ng_config_check(&c, err, sizeof(err)) == 0, "%s", err);
    CHECK(ng_config_mode_allowed(&c, NG_MODE_INTERLEAVE, err, sizeof(err)) < 0 &&
          strstr(err, "'interleave'") && strstr(err, "off|prefer|strict"), "%s", err);
    t_end();

    t_begin("config/bad-arguments-named");
    struct { const char *arg, *needle; } bad[] = {
        { "bogus=1", "'bogus=1'" }, { "default=fast", "'fast'" }, { "allowed=prefer,x", "'x'" },
        { "exclusive_only=maybe", "'maybe'" }, { "topology=rel/path", "absolute" },
        { "audit_interval=-1", "0..86400" }, { "audit_warn_local=101", "0..100" },
        { "gpu_order=cuda", "'cuda'" }, { "default", "needs a value" }, { "allowed=", "empty" } };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ng_config_init(&c);
        err[0] = '\0';
        CHECK(ng_config_arg(&c, bad[i].arg, err, sizeof(err)) < 0 && strstr(err, bad[i].needle),
              "%s -> '%s'", bad[i].arg, err);
    }
    ng_config_init(&c);
    ng_config_arg(&c, "allowed=prefer", err, sizeof(err));
    CHECK(ng_config_check(&c, err, sizeof(err)) < 0 && strstr(err, "default=off"),
          "default outside allowed: %s", err);
    t_end();

    t_begin("config/mode-option");
    ng_mode m;
    int v;
    CHECK(ng_mode_option_parse("strict,verbose", &m, &v, err, sizeof(err)) == 0 &&
          m == NG_MODE_STRICT && v, "strict,verbose");
    CHECK(ng_mode_option_parse("x", &m, &v, err, sizeof(err)) < 0 &&
          !strcmp(err, "unknown mode 'x' (expected off|prefer|strict|interleave|explain)"), "%s", err);
    CHECK(ng_mode_option_parse("prefer,loud", &m, &v, err, sizeof(err)) < 0 &&
          strstr(err, "'loud'"), "%s", err);
    t_end();
}


static int same(const ng_rank_gpus *g, const char *a, const char *b)
{
    int n = (a != NULL) + (b != NULL);
    return g->ngpus == n && (!a || !strcmp(g->busids[0], a)) && (!b || !strcmp(g->busids[1], b));
}

static void step_env(void)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/llnl-corona-2s-epyc7402-8xmi50-rsmi-opencl.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots r = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };
    ng_step st;
    const char *A = "0000:03:00.0", *B = "0000:27:00.0", *C = "0000:83:00.0", *D = "0000:a3:00.0";

    t_begin("step/shared-list-split-in-chunks");
    /* --gpus=4 -n2: every task sees all four; rank i takes the i-th pair. */
    t_env e2 = { { "CUDA_VISIBLE_DEVICES" }, { "0000:03:00.0,0000:27:00.0,0000:83:00.0,0000:a3:00.0" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e2, 2, 0, &st, err, sizeof(err)) == 0,
          "%s", err);
    CHECK(same(&st.ranks[0], A, B) && same(&st.ranks[1], C, D), "chunks");
    ng_step_free(&st);
    t_end();

    t_begin("step/torchrun-local-rank-from-env");
    t_env e3 = { { "LOCAL_RANK", "LOCAL_WORLD_SIZE", "ROCR_VISIBLE_DEVICES" },
               { "1", "2", "0000:03:00.0,0000:83:00.0" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e3, 0, -1, &st, err, sizeof(err)) == 0,
          "%s", err);
    CHECK(st.nranks == 2 && st.self == 1 && same(&st.ranks[1], C, NULL) &&
          !strcmp(st.source, "ROCR_VISIBLE_DEVICES"), "self %d source %s", st.self, st.source);
    ng_step_free(&st);
    t_end();

    t_begin("step/uneven-list-keeps-own-gpus-others-unknown");
    t_env e4 = { { "CUDA_VISIBLE_DEVICES" }, { "0000:03:00.0,0000:27:00.0,0000:83:00.0" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e4, 2, 0, &st, err, sizeof(err)) == 0,
          "%s", err);
    CHECK(st.ranks[0].ngpus == 3 && st.ranks[1].ngpus == 0, "3 GPUs over 2 ranks: %d/%d",
          st.ranks[0].ngpus, st.ranks[1].ngpus);
    ng_step_free(&st);
    t_env e5 = { { "LOCAL_RANK", "LOCAL_WORLD_SIZE" }, { "4", "2" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e5, 0, -1, &st, err, sizeof(err)) < 0 &&
          strstr(err, "local rank 4"), "rank beyond size: %s", err);
    t_end();

    t_begin("step/spec-parsing");
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0,0000:27:00.0:0000:83:00.0", 0, &st, err,
                                 sizeof(err)) == 0 && st.nranks == 2 &&
          same(&st.ranks[0], A, B) && same(&st.ranks[1], C, NULL), "%s", err);
    ng_step_free(&st);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0::0000:83:00.0", 0, &st, err, sizeof(err)) < 0
          && strstr(err, "empty GPU id"), "%s", err);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0:0000:83:00.0", 1, &st, err, sizeof(err)) < 0
          && strstr(err, "--ntasks is 1"), "%s", err);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0", 3, &st, err, sizeof(err)) == 0 &&
          st.nranks == 3 && st.ranks[2].ngpus == 0, "extra ranks without GPUs");
    ng_step_free(&st);
    t_end();
    ng_topo_free(t);
}

static const char *hint(const ng_hints *h, const char *name)
{
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->v[i].name, name))
            return h->v[i].value;
    return NULL;
}

static void hints(void)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/llnl-pascal-2s-bdw-2xp100-pcie.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots r = { 0 };
    ng_step st;
    ng_plan p;
    ng_hints h;
    const char *hosts[] = { "n1", "n2" };
    t_begin("hints/every-launcher-renders-the-plan");
    int ok = t && ng_step_from_spec(t, &r, "0000:04:00.0:0000:07:00.0", 0, &st, err, sizeof(err)) == 0 &&
             ng_plan_compute(t, NULL, NULL, st.nranks, st.ranks, NG_MODE_STRICT, &p, err, sizeof(err)) == 0 &&
             ng_hints_build(&p, hosts, 2, "/tmp/rf", NG_MPI_ALL, &h, err, sizeof(err)) == 0;
    CHECK(ok, "%s", err);
    if (ok) {
        char c0[256], c1[256], line[600], m0[128], m1[128], dom[300];
        ng_list_str(p.ranks[0].cpus, c0, sizeof(c0));
        ng_list_str(p.ranks[1].cpus, c1, sizeof(c1));
        snprintf(line, sizeof(line), "rank 3=n2 slot=%s\n", c1);
        CHECK(strstr(h.rankfile, line) != NULL, "rankfile lacks '%s':\n%s", line, h.rankfile);
        hwloc_bitmap_taskset_snprintf(m0, sizeof(m0), p.ranks[0].cpus);
        hwloc_bitmap_taskset_snprintf(m1, sizeof(m1), p.ranks[1].cpus);
        snprintf(dom, sizeof(dom), "[%s,%s]", m0, m1);
        CHECK(hint(&h, "I_MPI_PIN_DOMAIN") && !strcmp(hint(&h, "I_MPI_PIN_DOMAIN"), dom),
              "I_MPI_PIN_DOMAIN %s want %s", hint(&h, "I_MPI_PIN_DOMAIN"), dom);
        const char *hy = hint(&h, "HYDRA_BINDING");
        hwloc_bitmap_t back = hwloc_bitmap_alloc();
        char first[256] = "";
        if (hy && !strncmp(hy, "user:", 5)) {
            snprintf(first, sizeof(first), "%s", hy + 5);
            first[strcspn(first, ",")] = '\0';
            for (char *q = first; *q; q++)
                if (*q == '+')
                    *q = ',';
            ng_list_parse(first, back);
        }
        CHECK(hwloc_bitmap_isequal(back, p.ranks[0].cpus), "HYDRA_BINDING %s", hy ? hy : "(none)");
        hwloc_bitmap_free(back);
        CHECK(hint(&h, "OMPI_MCA_rmaps_rank_file_path") &&
              !strcmp(hint(&h, "OMPI_MCA_rmaps_rank_file_path"), "/tmp/rf") &&
              !strcmp(hint(&h, "OMPI_MCA_hwloc_base_mem_alloc_policy"), "local_only") &&
              !hint(&h, "OMPI_MCA_rmaps_base_mapping_policy"), "Open MPI settings");
        ng_hints_free(&h);
        ng_plan_free(&p);
        ng_step_free(&st);
    }
    unsigned m;
    CHECK(ng_mpi_parse("ompi4,impi", &m, err, sizeof(err)) == 0 && m == (NG_MPI_OMPI4 | NG_MPI_IMPI), "parse");
    CHECK(ng_mpi_parse("ompi4,lam", &m, err, sizeof(err)) < 0 && strstr(err, "'lam'"), "%s", err);
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    config();
    step_env();
    hints();
    T_EXIT();
}
