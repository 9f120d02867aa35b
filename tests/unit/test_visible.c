/* A task's home GPU among all the GPUs it sees (issue 28 part 1): the
 * variables permuted, never renumbered; home first (all) or alone (own);
 * NUMA_GPU_HOME_GPUS/_INDEX in every mode; a list that does not match is
 * left alone and named. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "numagpu.h"
#include "private/step.h"
#include "private/visible.h"

/* The environment a task's variables live in. */
typedef struct { char names[12][64], vals[12][512]; int n; } envset;

static const char *env_get(const char *name, void *ctx)
{
    envset *e = ctx;
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name))
            return e->vals[i];
    return NULL;
}

static int env_set(const char *name, const char *val, int overwrite, void *ctx)
{
    envset *e = ctx;
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name)) {
            if (overwrite)
                snprintf(e->vals[i], sizeof(e->vals[i]), "%s", val);
            return 0;
        }
    if (e->n == 12)
        return -1;
    snprintf(e->names[e->n], sizeof(e->names[0]), "%s", name);
    snprintf(e->vals[e->n++], sizeof(e->vals[0]), "%s", val);
    return 0;
}

/* Four GPUs listed in GRES order, not PCI order; home at position 2. */
static void four(ng_step *st, int from, int cnt)
{
    char v[4][NG_BUSID_LEN] = { "0000:c1:00.0", "0000:41:00.0", "0000:81:00.0",
                                "0000:01:00.0" };
    memset(st, 0, sizeof(*st));
    ng_step_set_visible(st, v, 4, from, cnt);
}

static void values(void)
{
    ng_step st;
    char out[256], why[256];
    struct { ng_visible mode; int from, cnt; const char *in, *want; } c[] = {
        /* peers after the home in PCI order: 01 (pos 3), 41 (1), c1 (0) */
        { NG_VISIBLE_ALL, 2, 1, "0,1,2,3", "2,3,1,0" },
        { NG_VISIBLE_OWN, 2, 1, "0,1,2,3", "2" },
        { NG_VISIBLE_KEEP, 2, 1, "0,1,2,3", "0,1,2,3" },
        { NG_VISIBLE_ALL, 0, 2, "4,5,6,7", "4,5,7,6" },
        { NG_VISIBLE_ALL, 2, 1, "GPU-a,GPU-b,GPU-c,GPU-d", "GPU-c,GPU-d,GPU-b,GPU-a" },
        { NG_VISIBLE_OWN, 1, 2, "0.0,1.0,2.0,3.0", "1.0,2.0" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        t_begin("visible/value/%s-%s-%d", ng_visible_name(c[i].mode), c[i].in, c[i].from);
        four(&st, c[i].from, c[i].cnt);
        out[0] = '\0';
        CHECK(ng_visible_value(&st, c[i].mode, c[i].in, out, sizeof(out), why, sizeof(why)) == 0
              && !strcmp(out, c[i].want), "got '%s' (%s), want '%s'", out, why, c[i].want);
        ng_step_free(&st);
        t_end();
    }
    t_begin("visible/value/mismatch-left-alone");
    four(&st, 2, 1);
    snprintf(out, sizeof(out), "untouched");
    CHECK(ng_visible_value(&st, NG_VISIBLE_ALL, "0,1", out, sizeof(out), why, sizeof(why)) < 0
          && strstr(why, "lists 2 id(s), the task has 4 GPU(s)") && !strcmp(out, "untouched"),
          "%s / %s", out, why);
    CHECK(ng_visible_value(&st, NG_VISIBLE_ALL, "0,,2,3", out, sizeof(out), why, sizeof(why)) < 0
          && strstr(why, "empty id"), "%s", why);
    CHECK(ng_visible_value(&st, NG_VISIBLE_ALL, "0,1,2,3", out, 4, why, sizeof(why)) < 0 &&
          strstr(why, "does not fit"), "%s", why);
    ng_step_free(&st);
    t_end();
    t_begin("visible/names");
    ng_visible v;
    CHECK(ng_visible_parse("own", &v) == 0 && v == NG_VISIBLE_OWN && ng_visible_parse("mine", &v) < 0
          && !strcmp(ng_visible_name(NG_VISIBLE_ALL), "all"), "parse/name");
    t_end();
}

/* Through the exec path: torchrun's LOCAL_RANK 2 of 4 with the four Dell
 * GPUs visible; then the variables as the task sees them. */
static void through_step(void)
{
    char err[NG_ERRLEN], note[NG_ERRLEN];
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    ng_roots r = { .offline = 1 };
    const char *ids = "0000:4e:00.0,0000:5f:00.0,0000:cb:00.0,0000:db:00.0";
    for (int mode = NG_VISIBLE_KEEP; mode <= NG_VISIBLE_OWN; mode++) {
        t_begin("visible/exec-rank-2-of-4/%s", ng_visible_name((ng_visible)mode));
        envset e = { .n = 0 };
        env_set("CUDA_VISIBLE_DEVICES", ids, 1, &e);
        env_set("LOCAL_RANK", "2", 1, &e);
        env_set("LOCAL_WORLD_SIZE", "4", 1, &e);
        env_set("ROCR_VISIBLE_DEVICES", "0,1", 1, &e);   /* not this task's list */
        ng_step st;
        CHECK(t && ng_step_from_env(t, &r, env_get, &e, 0, -1, &st, err, sizeof(err)) == 0,
              "%s", err);
        if (t && !t_case_failed) {
            CHECK(st.ranks[2].ngpus == 1 && !strcmp(st.ranks[2].busids[0], "0000:cb:00.0"),
                  "rank 2's home is not its chunk");
            int n = ng_visible_apply(&st, (ng_visible)mode, env_get, env_set, &e, note,
                                     sizeof(note));
            const char *cvd = env_get("CUDA_VISIBLE_DEVICES", &e);
            const char *want = mode == NG_VISIBLE_KEEP ? ids
                             : mode == NG_VISIBLE_ALL
                             ? "0000:cb:00.0,0000:4e:00.0,0000:5f:00.0,0000:db:00.0"
                             : "0000:cb:00.0";
            CHECK(cvd && !strcmp(cvd, want), "CUDA_VISIBLE_DEVICES=%s, want %s", cvd, want);
            CHECK(n == (mode != NG_VISIBLE_KEEP), "%d rewritten", n);
            CHECK(!strcmp(env_get("NUMA_GPU_HOME_GPUS", &e), "0000:cb:00.0") &&
                  !strcmp(env_get("NUMA_GPU_HOME_INDEX", &e), mode == NG_VISIBLE_KEEP ? "2" : "0"),
                  "home %s index %s", env_get("NUMA_GPU_HOME_GPUS", &e),
                  env_get("NUMA_GPU_HOME_INDEX", &e));
            CHECK(!strcmp(env_get("ROCR_VISIBLE_DEVICES", &e), "0,1") &&
                  (mode == NG_VISIBLE_KEEP || strstr(note, "ROCR_VISIBLE_DEVICES='0,1' lists 2")),
                  "ROCR %s, note '%s'", env_get("ROCR_VISIBLE_DEVICES", &e), note);
            ng_step_free(&st);
        }
        t_end();
    }
    t_begin("visible/unknown-list-touches-nothing");
    ng_step none;
    memset(&none, 0, sizeof(none));
    envset e = { .n = 0 };
    env_set("CUDA_VISIBLE_DEVICES", "0,1", 1, &e);
    CHECK(ng_visible_apply(&none, NG_VISIBLE_OWN, env_get, env_set, &e, note, sizeof(note)) == 0
          && e.n == 1 && !strcmp(env_get("CUDA_VISIBLE_DEVICES", &e), "0,1"), "touched");
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    values();
    through_step();
    T_EXIT();
}
