/* The shared front-end layer: plugstack/option parsing (one parser for the
 * plugin and the CLI) and how a step's ranks get their GPUs from a task's
 * environment (per-task narrowing, shared lists, torchrun). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/assign.h"
#include "private/config.h"
#include "private/hints.h"
#include "private/devcheck.h"
#include "private/slurmstep.h"
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

/* The kernel's answer, for tests: the device files a task may open. */
static const char *t_open_ok = "";
static int fake_dev_check(const char *path, int *e)
{
    *e = 0;
    if (!path)
        return (*e = ENOENT), NG_DEV_UNKNOWN;
    if (strstr(t_open_ok, path))
        return NG_DEV_ALLOWED;
    return (*e = EPERM), NG_DEV_DENIED;
}

/* Under ConstrainDevices what the task can open is its GPUs: the plugin
 * never binds next to a GPU the device cgroup denies, whatever it computed
 * from Slurm's binding. GRES 0 and 4 of the corona topology. */
static void slurm_step_devices(ng_topo *t, ng_roots *r, const char *b0, const char *b4, int ok)
{
    char err[NG_ERRLEN], warn[NG_ERRLEN];
    ng_step st;
    unsigned gres[] = { 0, 4 };
    const char *dev[5] = { "/dev/dri/card0", NULL, NULL, NULL, "/dev/dri/card4" };
    ng_slurm_step s = { .ngres = 2, .gres = gres, .local_index = 1, .gres_dev = dev,
                        .ngres_dev = 5, .device_check = 1, .dev_check = fake_dev_check };
    /* map_gpu:1,0 relative: task 0 -> GRES 4; the kernel says GRES 0 */
    t_env m = { { "SLURMD_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/gpu:map_gpu:1,0", "0" } };

    t_begin("slurm-step/devices-agree-with-binding");
    t_open_ok = "/dev/dri/card4";
    CHECK(ok && ng_step_from_slurm(t, r, &s, 2, 0, NG_MODE_STRICT, t_getenv, &m, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0, "%s", err);
    if (ok && !t_case_failed) {
        CHECK(st.ranks[0].ngpus == 1 && !strcmp(st.ranks[0].busids[0], b4) && !warn[0],
              "row %s warn '%s'", st.ranks[0].ngpus ? st.ranks[0].busids[0] : "-", warn);
        ng_step_free(&st);
    }
    t_end();

    t_begin("slurm-step/devices-overrule-a-wrong-reading");
    t_open_ok = "/dev/dri/card0";
    for (int strict = 0; strict < 2 && ok; strict++) {
        CHECK(ng_step_from_slurm(t, r, &s, 2, 0, strict ? NG_MODE_STRICT : NG_MODE_PREFER,
                                 t_getenv, &m, &st, warn, sizeof(warn), err, sizeof(err)) == 0,
              "%s", err);
        if (t_case_failed)
            break;
        CHECK(st.ranks[0].ngpus == 1 && !strcmp(st.ranks[0].busids[0], b0) &&
              strstr(warn, "lets the task open GPU 0") && strstr(warn, "gives GPU 4") &&
              strstr(warn, "/dev/dri/card4 EPERM"), "strict=%d row %s warn '%s'", strict,
              st.ranks[0].ngpus ? st.ranks[0].busids[0] : "-", warn);
        ng_step_free(&st);
    }
    t_end();

    t_begin("slurm-step/devices-deny-all-strict-refuses");
    t_open_ok = "";
    CHECK(ok && ng_step_from_slurm(t, r, &s, 2, 0, NG_MODE_STRICT, t_getenv, &m, &st, warn,
                                   sizeof(warn), err, sizeof(err)) < 0 &&
          strstr(err, "cannot tell which GPU") && strstr(err, "open none of the step's GPUs") &&
          strstr(err, "gives it GPU 4"), "%s", err);
    CHECK(ok && ng_step_from_slurm(t, r, &s, 2, 0, NG_MODE_PREFER, t_getenv, &m, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0 &&
          st.ranks[0].ngpus == 2 && strstr(warn, "all the step's GPUs"), "%s", warn);
    if (ok && !t_case_failed)
        ng_step_free(&st);
    t_end();

    t_begin("slurm-step/shard-binding-told-by-devices");
    t_env sh = { { "SLURMD_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/shard:per_task:1", "0" } };
    t_open_ok = "/dev/dri/card4";
    CHECK(ok && ng_step_from_slurm(t, r, &s, 2, 1, NG_MODE_STRICT, t_getenv, &sh, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0 &&
          st.ranks[1].ngpus == 1 && !strcmp(st.ranks[1].busids[0], b4), "%s", err);
    if (ok && !t_case_failed)
        ng_step_free(&st);
    /* without a device answer, under ConstrainDevices: cannot tell */
    s.device_check = 0;
    CHECK(ok && ng_step_from_slurm(t, r, &s, 2, 1, NG_MODE_STRICT, t_getenv, &sh, &st, warn,
                                   sizeof(warn), err, sizeof(err)) < 0 && strstr(err, "shard"),
          "%s", err);
    s.device_check = 1;
    t_end();

    t_begin("slurm-step/mask-env-before-24.11.5-is-no-disagreement");
    /* mask_gpu:0x3 on a step of GRES 4,5 of a node: up to 24.11.4 the env
     * counts 1 GPU while the cgroup gives 2 (1512ccd042). */
    unsigned g45[] = { 0, 4 };
    ng_slurm_step k = { .ngres = 2, .gres = g45, .local_index = 1,
                        .release = NG_RELEASE(24, 11, 4) };
    t_env mk = { { "SLURMD_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/gpu:mask_gpu:0x3", "4" } };
    CHECK(ok && ng_step_from_slurm(t, r, &k, 1, 0, NG_MODE_STRICT, t_getenv, &mk, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0 && st.ranks[0].ngpus == 2,
          "24.11.4: %s", err);
    if (ok && !t_case_failed)
        ng_step_free(&st);
    k.release = NG_RELEASE(24, 11, 5);
    CHECK(ok && ng_step_from_slurm(t, r, &k, 1, 0, NG_MODE_STRICT, t_getenv, &mk, &st, warn,
                                   sizeof(warn), err, sizeof(err)) < 0, "24.11.5 counts agree");
    t_end();

    t_begin("slurm-step/srun-tres-bind-is-not-slurmstepd's");
    /* One task on the node up to 25.05: slurmstepd dropped the binding, so
     * only srun's SLURM_TRES_BIND is left; the task has every step GPU. */
    ng_slurm_step g = { .ngres = 2, .gres = gres, .release = NG_RELEASE(24, 5, 8) };
    t_env one = { { "SLURM_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/gpu:map_gpu:4", "0,4" } };
    CHECK(ok && ng_step_from_slurm(t, r, &g, 1, 0, NG_MODE_STRICT, t_getenv, &one, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0 && st.ranks[0].ngpus == 2,
          "%s", err);
    if (ok && !t_case_failed)
        ng_step_free(&st);
    t_end();
}

/* What the plugin used to decide itself, now in the library. */
static void slurm_step(void)
{
    char xml[4096], err[NG_ERRLEN], warn[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/llnl-corona-2s-epyc7402-8xmi50-rsmi-opencl.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots r = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };
    ng_step st;
    /* GRES 0 and 4 are on different sockets (rsmi0, rsmi4). */
    unsigned gres[] = { 0, 4 };
    ng_slurm_step s = { .ngres = 2, .gres = gres };
    char b0[NG_BUSID_LEN], b4[NG_BUSID_LEN];
    int ok = t && ng_gpu_resolve(t, &r, NG_IDX_GRES, "0", b0, err, sizeof(err)) == 0 &&
             ng_gpu_resolve(t, &r, NG_IDX_GRES, "4", b4, err, sizeof(err)) == 0;

    t_begin("slurm-step/per-task-binding-every-row");
    t_env e1 = { { "SLURMD_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/gpu:per_task:1", "4" } };
    CHECK(ok && ng_step_from_slurm(t, &r, &s, 2, 1, NG_MODE_STRICT, t_getenv, &e1, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0, "%s", err);
    if (ok && !t_case_failed) {
        CHECK(st.nranks == 2 && st.self == 1 && st.ranks[0].ngpus == 1 && st.ranks[1].ngpus == 1 &&
              !strcmp(st.ranks[0].busids[0], b0) && !strcmp(st.ranks[1].busids[0], b4) && !warn[0],
              "rows %d/%d warn '%s'", st.ranks[0].ngpus, st.ranks[1].ngpus, warn);
        ng_step_free(&st);
    }
    t_end();

    t_begin("slurm-step/global-ids-overrule-a-wrong-reading");
    /* Without ConstrainDevices the task's own SLURM_STEP_GPUS (global ids)
     * is what Slurm set up for it: both modes place it there and say so. */
    t_env e2 = { { "SLURMD_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/gpu:per_task:1", "0" } };
    for (int strict = 0; strict < 2 && ok; strict++) {
        CHECK(ng_step_from_slurm(t, &r, &s, 2, 1, strict ? NG_MODE_STRICT : NG_MODE_PREFER,
                                 t_getenv, &e2, &st, warn, sizeof(warn), err, sizeof(err)) == 0,
              "%s", err);
        if (t_case_failed)
            break;
        CHECK(st.ranks[1].ngpus == 1 && !strcmp(st.ranks[1].busids[0], b0) &&
              strstr(warn, "SLURM_STEP_GPUS=0 differs from GRES 4"), "warn '%s'", warn);
        ng_step_free(&st);
    }
    t_end();

    t_begin("slurm-step/disagreement-without-answer-strict-refuses");
    /* ConstrainDevices, no device check: only counts can be compared; a
     * task seeing two GPUs where the binding gives one cannot be placed. */
    ng_slurm_step sl = { .ngres = 2, .gres = gres, .local_index = 1 };
    t_env e6 = { { "SLURMD_TRES_BIND", "SLURM_STEP_GPUS" }, { "gres/gpu:per_task:1", "0,1" } };
    CHECK(ok && ng_step_from_slurm(t, &r, &sl, 2, 1, NG_MODE_STRICT, t_getenv, &e6, &st, warn,
                                   sizeof(warn), err, sizeof(err)) < 0 &&
          strstr(err, "cannot tell which GPU this task has") && strstr(err, "sees 2 GPU(s)"),
          "%s", err);
    CHECK(ok && ng_step_from_slurm(t, &r, &sl, 2, 1, NG_MODE_PREFER, t_getenv, &e6, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0 &&
          st.ranks[1].ngpus == 2 && strstr(warn, "all the step's GPUs"), "%s", warn);
    if (ok && !t_case_failed)
        ng_step_free(&st);
    t_end();

    slurm_step_devices(t, &r, b0, b4, ok);

    t_begin("slurm-step/no-step-gpus-reads-task-env");
    ng_slurm_step none = { 0 };
    t_env e3 = { { "ROCR_VISIBLE_DEVICES" }, { "4" } };
    CHECK(ok && ng_step_from_slurm(t, &r, &none, 1, 0, NG_MODE_STRICT, t_getenv, &e3, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0 && st.ranks[0].ngpus == 1 &&
          !strcmp(st.ranks[0].busids[0], b4), "%s", err);
    if (!t_case_failed)
        ng_step_free(&st);
    CHECK(ng_step_from_slurm(t, &r, &none, 2, 2, NG_MODE_STRICT, t_getenv, &e3, &st, warn,
                             sizeof(warn), err, sizeof(err)) < 0 && strstr(err, "task 2 of 2"),
          "self beyond ntasks: %s", err);
    t_end();

    t_begin("slurm-step/batch-tasks-per-node");
    t_env e4 = { { "SLURM_TASKS_PER_NODE", "ROCR_VISIBLE_DEVICES" }, { "2(x3)", "0,4" } };
    CHECK(ok && ng_step_from_batch(t, &r, t_getenv, &e4, 0, &st, err, sizeof(err)) == 0 &&
          st.nranks == 2 && !strcmp(st.ranks[0].busids[0], b0) &&
          !strcmp(st.ranks[1].busids[0], b4), "%s", err);
    if (!t_case_failed)
        ng_step_free(&st);
    t_env e5 = { { "SLURM_NTASKS_PER_NODE" }, { "" } };
    CHECK(ng_step_from_batch(t, &r, t_getenv, &e5, 0, &st, err, sizeof(err)) < 0 &&
          strstr(err, "tasks per node ''"), "empty: %s", err);
    t_end();

    t_begin("slurm-step/launcher-daemons");
    CHECK(ng_launcher_daemon("/usr/bin/orted") && ng_launcher_daemon("prted") &&
          ng_launcher_daemon("/opt/mpich/bin/hydra_pmi_proxy") && !ng_launcher_daemon("python") &&
          !ng_launcher_daemon("/tmp/orted2") && !ng_launcher_daemon(NULL), "daemon names");
    t_end();
    ng_topo_free(t);
}

static void job_mode(void)
{
    ng_config c;
    char err[NG_ERRLEN], note[NG_ERRLEN];
    int v;
    ng_config_init(&c);
    t_begin("config/job-mode");
    CHECK(ng_config_job_mode(&c, 0, NG_MODE_STRICT, 0, NULL, &v, note, sizeof(note)) == NG_MODE_OFF
          && !v, "no option, no default: off");
    CHECK(ng_config_arg(&c, "default=prefer", err, sizeof(err)) == 0 &&
          ng_config_job_mode(&c, 0, NG_MODE_STRICT, 0, NULL, &v, note, sizeof(note)) == NG_MODE_PREFER,
          "cluster default");
    CHECK(ng_config_job_mode(&c, 1, NG_MODE_STRICT, 1, NULL, &v, note, sizeof(note)) == NG_MODE_STRICT
          && v, "the option wins, ,verbose");
    CHECK(ng_config_job_mode(&c, 1, NG_MODE_STRICT, 0, "off", &v, note, sizeof(note)) == NG_MODE_OFF
          && !note[0], "NUMA_GPU=off");
    CHECK(ng_config_arg(&c, "allowed=prefer,strict", err, sizeof(err)) == 0 &&
          ng_config_job_mode(&c, 1, NG_MODE_STRICT, 0, "off", &v, note, sizeof(note)) == NG_MODE_STRICT
          && strstr(note, "NUMA_GPU=off ignored"), "off not allowed: '%s'", note);
    unsigned long long b;
    unsigned long kb;
    CHECK(ng_config_arg(&c, "hugepages_max_per_job=1G", err, sizeof(err)) == 0 &&
          ng_config_hugepages_check(&c, "2G", &b, &kb, err, sizeof(err)) < 0 &&
          strstr(err, "hugepages_max_per_job=1024 MiB") &&
          ng_config_hugepages_check(&c, "512M", &b, &kb, err, sizeof(err)) == 0 && b == 512u << 20,
          "cap: %s", err);
    t_end();
}

static void batch_rankfile(void)
{
    char xml[4096], err[NG_ERRLEN], path[128];
    snprintf(xml, sizeof(xml), "%s/llnl-pascal-2s-bdw-2xp100-pcie.xml", t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots r = { 0 };
    ng_step st;
    ng_plan p;
    ng_hints h;
    const char *hosts[] = { "n1" };
    unsigned long job = 900000000ul + (unsigned long)getpid();
    t_begin("hints/batch-rankfile-written-and-removed");
    int ok = t && ng_step_from_count(t, &r, 2, 1, &st, err, sizeof(err)) == 0 &&
             ng_plan_compute(t, NULL, NULL, st.nranks, st.ranks, NG_MODE_PREFER, &p, err,
                             sizeof(err)) == 0;
    CHECK(ok && ng_hints_batch(&p, hosts, 1, job, NG_MPI_ALL, &h, path, sizeof(path), err,
                               sizeof(err)) == 0, "%s", err);
    if (ok && !t_case_failed) {
        char text[4096] = "";
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
        text[n] = '\0';
        if (f)
            fclose(f);
        char want[64];
        snprintf(want, sizeof(want), "/tmp/numa-gpu-rankfile.%lu.", job);
        CHECK(!strncmp(path, want, strlen(want)) && !strcmp(text, h.rankfile) &&
              strstr(text, "rank 1=n1 slot="), "%s: '%s'", path, text);
        CHECK(ng_rankfiles_remove(job, err, sizeof(err)) == 0 && access(path, F_OK) < 0,
              "not removed: %s", err);
        ng_hints_free(&h);
    }
    if (ok) {
        ng_plan_free(&p);
        ng_step_free(&st);
    }
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    config();
    step_env();
    hints();
    slurm_step();
    job_mode();
    batch_rankfile();
    T_EXIT();
}
