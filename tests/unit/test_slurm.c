/* The step as Slurm runs it (lib/slurmstep.c): every task's row from
 * Slurm's binding, what the task really has (the device cgroup under
 * ConstrainDevices, its own global ids otherwise) overruling a wrong
 * reading, refusals only where nothing tells, batch steps and launcher
 * daemons. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/devcheck.h"
#include "private/slurmstep.h"
#include "private/step.h"

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

    t_begin("slurm-step/all-visible-each-task-a-home-gpu");
    /* No per-task binding: both tasks see GRES 0 and 4; task 1's home is
     * its chunk (GRES 4), and its visible list is both, in Slurm's order. */
    t_env e7 = { { "SLURM_STEP_GPUS" }, { "0,4" } };
    CHECK(ok && ng_step_from_slurm(t, &r, &s, 2, 1, NG_MODE_STRICT, t_getenv, &e7, &st, warn,
                                   sizeof(warn), err, sizeof(err)) == 0, "%s", err);
    if (ok && !t_case_failed) {
        CHECK(st.ranks[0].ngpus == 1 && !strcmp(st.ranks[0].busids[0], b0) &&
              st.ranks[1].ngpus == 1 && !strcmp(st.ranks[1].busids[0], b4) &&
              st.nvisible == 2 && !strcmp(st.visible[0], b0) && !strcmp(st.visible[1], b4) &&
              st.home_from == 1 && st.home_cnt == 1, "rows %d/%d visible %d home %d+%d",
              st.ranks[0].ngpus, st.ranks[1].ngpus, st.nvisible, st.home_from, st.home_cnt);
        ng_step_free(&st);
    }
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

int main(void)
{
    slurm_step();
    T_EXIT();
}
