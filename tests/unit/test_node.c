/* The node's setup of a step (lib/node.c): what a step is to us, the
 * job's mode, the exclusive-job test, Slurm's step and the strict/prefer
 * rule of a setup failure, decided once for the plugin and the CLI. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "private/node.h"

static char logbuf[8192];
static int loglevel_max;

static void collect(int level, const char *msg, void *ctx)
{
    (void)ctx;
    size_t u = strlen(logbuf);
    snprintf(logbuf + u, sizeof(logbuf) - u, "%d:%s\n", level, msg);
    if (level > loglevel_max)
        loglevel_max = level;
}

static ng_config cfg;
static char slurm_conf[PATH_MAX];

/* A step of tasks on the Dell XE8640 (4 GPUs, 4 NUMA nodes); the cgroup's
 * cpus are this machine's, which is all the setup reads of it. */
static void facts(ng_node_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->job = 7;
    f->step = 0;
    f->argv0 = "./train";
    f->release = NG_RELEASE(24, 5, 1);
    f->slurm_conf = slurm_conf;
    f->node = "n1";
    f->ntasks = 2;
    f->uid = -1;
}

static int prepare(ng_node *n, ng_mode mode, int given, const ng_node_facts *f)
{
    ng_user_opts u;
    ng_user_opts_init(&u);
    u.given = given;
    u.mode = mode;
    logbuf[0] = '\0';
    loglevel_max = -1;
    return ng_node_prepare(n, &cfg, &u, f, collect, NULL);
}

int main(void)
{
    char xml[PATH_MAX], dir[] = "/tmp/ng-node-XXXXXX";
    ng_node n;
    ng_node_facts f;
    snprintf(xml, sizeof(xml), "%s/dell-xe8640-2s-xeon8480-snc4-4xh100.xml", t_corpus());
    char topo[PATH_MAX];
    if (!realpath(xml, topo) || strlen(topo) >= sizeof(cfg.topology) || !mkdtemp(dir)) {
        t_skip("node/all", "corpus or /tmp not there");
        return 0;
    }
    /* slurm.conf without task/cgroup: GPU ids are global */
    snprintf(slurm_conf, sizeof(slurm_conf), "%s/slurm.conf", dir);
    FILE *fp = fopen(slurm_conf, "w");
    if (fp) {
        fputs("TaskPlugin=task/affinity\n", fp);
        fclose(fp);
    }
    ng_config_init(&cfg);
    memcpy(cfg.topology, topo, strlen(topo) + 1);

    t_begin("node/kind-of-step");
    facts(&f);
    f.extern_step = 1;
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_NONE && !n.topo,
          "extern step: kind %d", n.kind);
    ng_node_close(&n, 0, NULL, NULL);
    facts(&f);
    f.batch_step = 1;
    CHECK(prepare(&n, NG_MODE_PREFER, 1, &f) == 0 && n.kind == NG_KIND_BATCH && n.topo,
          "batch step: kind %d %s", n.kind, logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    facts(&f);
    f.argv0 = "/usr/bin/orted";
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_DAEMON &&
          strstr(logbuf, "launcher daemon"), "daemon: kind %d '%s'", n.kind, logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    facts(&f);
    f.step_gpus = "0,2";
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_TASKS &&
          n.slurm.ngres == 2 && n.gres[1] == 2 && n.slurm.release == f.release &&
          !n.slurm.local_index, "tasks: kind %d ngres %d '%s'", n.kind, n.slurm.ngres, logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    t_end();

    t_begin("node/mode-off-and-numa-gpu-off");
    facts(&f);
    CHECK(prepare(&n, NG_MODE_OFF, 0, &f) == 0 && n.kind == NG_KIND_NONE, "default off");
    ng_node_close(&n, 0, NULL, NULL);
    f.numa_gpu_env = "off";
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_NONE &&
          n.mode == NG_MODE_OFF, "NUMA_GPU=off: kind %d mode %d", n.kind, n.mode);
    ng_node_close(&n, 0, NULL, NULL);
    t_end();

    /* A setup failure: strict fails the step, prefer lets it run unbound,
     * both say why naming the value. */
    t_begin("node/setup-failure-strict-fails-prefer-runs");
    facts(&f);
    f.step_gpus = "0,x";
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) < 0 && loglevel_max == 2 &&
          strstr(logbuf, "SLURM_STEP_GPUS") && strstr(logbuf, "x"), "strict: '%s'", logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    CHECK(prepare(&n, NG_MODE_PREFER, 1, &f) == 0 && n.kind == NG_KIND_NONE &&
          strstr(logbuf, "SLURM_STEP_GPUS"), "prefer: kind %d '%s'", n.kind, logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    facts(&f);
    f.step_cores = "0-99999";
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) < 0 && strstr(logbuf, "'0-99999'") &&
          strstr(logbuf, "do not match the topology"), "cores: '%s'", logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    /* a batch step never fails the job, whatever the mode */
    f.batch_step = 1;
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_NONE, "batch: %s",
          logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    t_end();

    t_begin("node/exclusive-only");
    cfg.exclusive_only = 1;
    facts(&f);
    f.job_cores = "0-3";   /* 4 of the XE8640's 112 cores */
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_NONE &&
          strstr(logbuf, "exclusive_only=yes"), "part of the node: kind %d '%s'", n.kind, logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    f.job_cores = "0-111";
    CHECK(prepare(&n, NG_MODE_STRICT, 1, &f) == 0 && n.kind == NG_KIND_TASKS,
          "whole node: kind %d '%s'", n.kind, logbuf);
    ng_node_close(&n, 0, NULL, NULL);
    cfg.exclusive_only = 0;
    t_end();

    t_begin("node/bind-rules-pin-the-release");
    cfg.bind_rules = (int)NG_RELEASE(23, 2, 4);
    facts(&f);
    f.step_gpus = "1";
    CHECK(prepare(&n, NG_MODE_PREFER, 1, &f) == 0 && n.slurm.release == NG_RELEASE(23, 2, 4),
          "release %x", n.slurm.release);
    ng_node_close(&n, 0, NULL, NULL);
    cfg.bind_rules = -1;
    t_end();

    t_begin("node/policy-from-config");
    hwloc_bitmap_t iso = hwloc_bitmap_alloc(), nohz = hwloc_bitmap_alloc();
    ng_plan_policy pol;
    char err[NG_ERRLEN];
    cfg.use_isolated = 1;
    cfg.reserve_first_core = NG_RESERVE_L3;
    CHECK(ng_node_policy(&cfg, 0, iso, nohz, &pol, err, sizeof(err)) == 0 &&
          pol.use_isolated == 1 && pol.reserve_first_core_per == NG_RESERVE_L3 &&
          pol.isolated == iso && hwloc_bitmap_iszero(iso), "%s", err);
    hwloc_bitmap_free(iso);
    hwloc_bitmap_free(nohz);
    t_end();

    unlink(slurm_conf);
    rmdir(dir);
    T_EXIT();
}
