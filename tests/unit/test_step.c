/* How a step's ranks get their GPUs from a task's environment (per-task
 * narrowing, shared lists, torchrun) and from a --gpus spec. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/step.h"

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

    t_begin("step/uneven-list-balanced-home-chunks");
    /* 3 GPUs over 2 ranks: homes of 1 and 2 GPUs (every GPU someone's home);
     * the task's visible list and its home positions are kept. */
    t_env e4 = { { "CUDA_VISIBLE_DEVICES" }, { "0000:03:00.0,0000:27:00.0,0000:83:00.0" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e4, 2, 1, &st, err, sizeof(err)) == 0,
          "%s", err);
    CHECK(st.ranks[0].ngpus == 1 && same(&st.ranks[0], A, NULL) && st.ranks[1].ngpus == 2 &&
          same(&st.ranks[1], B, C) && st.nvisible == 3 && st.home_from == 1 &&
          st.home_cnt == 2, "3 GPUs over 2 ranks: %d/%d, visible %d from %d cnt %d",
          st.ranks[0].ngpus, st.ranks[1].ngpus, st.nvisible, st.home_from, st.home_cnt);
    ng_step_free(&st);
    /* Fewer GPUs than ranks: the list may be this task's own (a per-task
     * binding under a launcher): ours, the others unknown. */
    t_env e6 = { { "CUDA_VISIBLE_DEVICES" }, { "0000:27:00.0" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e6, 4, 2, &st, err, sizeof(err)) == 0 &&
          st.ranks[2].ngpus == 1 && same(&st.ranks[2], B, NULL) && st.ranks[0].ngpus == 0 &&
          st.ranks[3].ngpus == 0, "1 GPU, 4 ranks: %s", err);
    ng_step_free(&st);
    /* The convention itself: no GPU home to two tasks while another has none. */
    for (int n = 1; n <= 9; n++)
        for (int T = 1; T <= 9; T++) {
            int homes[9] = { 0 }, from, cnt;
            for (int i = 0; i < T; i++) {
                ng_home_chunk(i, T, n, &from, &cnt);
                CHECK(cnt >= 1 && from >= 0 && from + cnt <= n, "n %d T %d i %d: %d+%d", n, T,
                      i, from, cnt);
                for (int j = from; j < from + cnt && j < 9 && j >= 0; j++)
                    homes[j]++;
            }
            int lo = 99, hi = 0;
            for (int j = 0; j < n; j++) {
                lo = homes[j] < lo ? homes[j] : lo;
                hi = homes[j] > hi ? homes[j] : hi;
            }
            CHECK(hi - lo <= 1 && lo >= 1, "n %d T %d: homes per GPU %d..%d", n, T, lo, hi);
        }
    t_env e5 = { { "LOCAL_RANK", "LOCAL_WORLD_SIZE" }, { "4", "2" } };
    CHECK(t && ng_step_from_env(t, &r, t_getenv, &e5, 0, -1, &st, err, sizeof(err)) < 0 &&
          strstr(err, "local rank 4"), "rank beyond size: %s", err);
    t_end();

    t_begin("step/spec-parsing");
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0,0000:27:00.0:0000:83:00.0", 0, &st, err,
                                 sizeof(err)) == 0 && st.nranks == 2 &&
          same(&st.ranks[0], A, B) && same(&st.ranks[1], C, NULL), "%s", err);
    ng_step_free(&st);
    /* A rank without a GPU between others: an empty group or "none". */
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0::0000:83:00.0", 0, &st, err, sizeof(err))
          == 0 && st.nranks == 3 && same(&st.ranks[0], A, NULL) && st.ranks[1].ngpus == 0 &&
          same(&st.ranks[2], C, NULL), "empty group: %s", err);
    ng_step_free(&st);
    CHECK(t && ng_step_from_spec(t, &r, "none:0000:83:00.0:", 0, &st, err, sizeof(err)) == 0 &&
          st.nranks == 3 && st.ranks[0].ngpus == 0 && same(&st.ranks[1], C, NULL) &&
          st.ranks[2].ngpus == 0, "none first, empty last: %s", err);
    ng_step_free(&st);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0,,0000:83:00.0", 0, &st, err, sizeof(err))
          < 0 && strstr(err, "empty GPU id"), "empty id inside a rank: %s", err);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0,none", 0, &st, err, sizeof(err)) < 0 &&
          strstr(err, "'none'"), "none beside a GPU: %s", err);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0:0000:83:00.0", 1, &st, err, sizeof(err)) < 0
          && strstr(err, "names 2 ranks but the step has 1 tasks"), "%s", err);
    CHECK(t && ng_step_from_spec(t, &r, "0000:03:00.0", 3, &st, err, sizeof(err)) == 0 &&
          st.nranks == 3 && st.ranks[2].ngpus == 0, "extra ranks without GPUs");
    ng_step_free(&st);
    t_end();
    ng_topo_free(t);
}


int main(void)
{
    step_env();
    T_EXIT();
}
