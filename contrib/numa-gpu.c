/* numa-gpu: the command-line front-end of libnumagpu.
 *   numa-gpu topo     GPU -> PCI -> NUMA table of a machine or hwloc XML
 *   numa-gpu plan     per-rank cpus/mems/policy (table or JSON lines)
 *   numa-gpu explain  the plan with its reasons in plain words
 *   numa-gpu exec     apply one rank's plan to itself, verify, exec PROGRAM
 * Exit status: 0 ok, 1 refused/failed (strict plan, apply error), 2 usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "numagpu.h"

static const char usage_text[] =
"usage: numa-gpu topo    [--topology F] [--json]\n"
"       numa-gpu plan    [--topology F] (--ntasks N [--gpus-per-task K] | --gpus SPEC)\n"
"                        [--mode prefer|strict|interleave] [--cpus LIST] [--mems LIST] [--json]\n"
"       numa-gpu explain (same options as plan)\n"
"       numa-gpu exec    [--mode M] [--gpus SPEC | GPU env] [--local-rank N] [--ntasks N]\n"
"                        [--topology F] [--procfs-root D] [--sysfs-root D] [--verbose] -- PROGRAM ARGS\n"
"       numa-gpu save-topology FILE\n"
"\n"
"GPU ids: GRES index, GPU-/MIG- UUID or PCI bus id. SPEC: ids separated by ',', ranks\n"
"separated by ':' (e.g. 0,1:2,3 or 0000:5f:00.0:0000:4e:00.0).\n"
"Common options:\n"
"  --topology F      hwloc XML (default: $NUMA_GPU_TOPOLOGY, else live discovery)\n"
"  --procfs-root D   --sysfs-root D   roots for GPU id resolution (default /proc, /sys)\n"
"  --gpu-map F       admin map file: 'ID BUSID' per line\n"
"  --gpu-order pci   index N = N-th accelerator in PCI order when nothing names it\n"
"  --cpus LIST --mems LIST   allowed cpus/memory nodes (default: the topology's)\n";

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "numa-gpu: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\nTry 'numa-gpu --help'.\n");
    return 2;
}

typedef struct {
    const char *cmd, *topology, *gpus, *cpus, *mems;
    ng_roots roots;
    ng_mode mode;
    int ntasks, gpus_per_task, local_rank, json, verbose;
    char **argv_exec;
} opts;

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || errno || v < lo || v > hi) {
        char range[64];
        snprintf(range, sizeof(range), "an integer %d..%d", lo, hi);
        fprintf(stderr, "numa-gpu: invalid %s '%s' (expected %s)\n", opt, s, range);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    enum { O_TOPO = 256, O_NT, O_GPT, O_GPUS, O_MODE, O_CPUS, O_MEMS, O_JSON,
           O_PROC, O_SYS, O_MAP, O_ORDER, O_LR, O_VERB };
    static const struct option lo[] = {
        { "topology", 1, 0, O_TOPO }, { "ntasks", 1, 0, O_NT },
        { "gpus-per-task", 1, 0, O_GPT }, { "gpus", 1, 0, O_GPUS },
        { "mode", 1, 0, O_MODE }, { "cpus", 1, 0, O_CPUS }, { "mems", 1, 0, O_MEMS },
        { "json", 0, 0, O_JSON }, { "procfs-root", 1, 0, O_PROC },
        { "sysfs-root", 1, 0, O_SYS }, { "gpu-map", 1, 0, O_MAP },
        { "gpu-order", 1, 0, O_ORDER }, { "local-rank", 1, 0, O_LR },
        { "verbose", 0, 0, O_VERB }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    o->topology = getenv("NUMA_GPU_TOPOLOGY");
    o->mode = NG_MODE_PREFER;
    o->local_rank = -1;
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
        switch (c) {
        case O_TOPO: o->topology = optarg; break;
        case O_NT: if (parse_int("--ntasks", optarg, 1, 65536, &o->ntasks)) return 2; break;
        case O_GPT: if (parse_int("--gpus-per-task", optarg, 0, 256, &o->gpus_per_task)) return 2; break;
        case O_LR: if (parse_int("--local-rank", optarg, 0, 65535, &o->local_rank)) return 2; break;
        case O_GPUS: o->gpus = optarg; break;
        case O_MODE: {
            char err[NG_ERRLEN];
            int verbose;
            if (ng_mode_option_parse(optarg, &o->mode, &verbose, err, sizeof(err)) < 0)
                return usage_error("%s%s", err, "");
            o->verbose |= verbose;
            break;
        }
        case O_CPUS: o->cpus = optarg; break;
        case O_MEMS: o->mems = optarg; break;
        case O_JSON: o->json = 1; break;
        case O_PROC: o->roots.procfs = optarg; break;
        case O_SYS: o->roots.sysfs = optarg; break;
        case O_MAP: o->roots.gpu_map = optarg; break;
        case O_ORDER:
            if (strcmp(optarg, "pci") != 0)
                return usage_error("unknown --gpu-order '%s' (expected %s)", optarg, "pci");
            o->roots.pci_order = 1;
            break;
        case O_VERB: o->verbose = 1; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: return usage_error("bad option%s%s", "", "");
        }
    }
    if (strcmp(o->cmd, "exec") == 0) {
        if (optind >= argc)
            return usage_error("exec needs a PROGRAM after '--'%s%s", "", "");
        o->argv_exec = argv + optind;
    } else if (optind < argc) {
        return usage_error("unexpected argument '%s'%s", argv[optind], "");
    }
    return 0;
}

static ng_topo *load_topo(const opts *o)
{
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(o->topology, err, sizeof(err));
    if (!t)
        fprintf(stderr, "numa-gpu: %s\n", err);
    return t;
}

static int cmd_topo(const opts *o)
{
    ng_topo *t = load_topo(o);
    if (!t)
        return 1;
    ng_accel *v;
    int n;
    if (ng_accel_list(t, &v, &n) < 0) {
        ng_topo_free(t);
        return 1;
    }
    hwloc_topology_t h = ng_topo_hwloc(t);
    if (!o->json) {
        char cb[4096];
        printf("topology: %s\n", ng_topo_source(t));
        printf("%-6s %-10s %-12s %s\n", "NODE", "MEMORY", "TIER", "CPUS");
        hwloc_obj_t nd = NULL;
        while ((nd = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, nd))) {
            int cpu = hwloc_bitmap_isset(ng_topo_cpu_nodes(t), nd->os_index);
            printf("%-6u %-10s %-12s %s\n", nd->os_index,
                   nd->attr->numanode.local_memory
                       ? (snprintf(cb, 64, "%lluM", (unsigned long long)(nd->attr->numanode.local_memory >> 20)), cb)
                       : "-",
                   cpu ? "cpu" : "memory-only",
                   cpu ? ng_list_str(nd->cpuset, cb + 64, sizeof(cb) - 64) : "-");
        }
        printf("\n%-14s %-7s %-8s %-14s %-10s %s\n", "PCI", "VENDOR", "CLASS", "OSDEVS",
               "NUMA", "NEAR_CPUS");
        if (n == 0)
            printf("(no GPUs or accelerators in this topology)\n");
    }
    for (int i = 0; i < n; i++) {
        if (o->json) {
            char *s = ng_accel_json_line(&v[i]);
            puts(s);
            free(s);
            continue;
        }
        char nb[256], cb[1024];
        printf("%-14s %-7s 0x%04x   %-14s %-10s %s\n", v[i].busid, v[i].vendor, v[i].class_id,
               v[i].osdevs[0] ? v[i].osdevs : "-",
               v[i].locality == NG_LOC_KNOWN ? ng_list_str(v[i].nodes, nb, sizeof(nb)) : "unknown",
               v[i].locality == NG_LOC_KNOWN ? ng_list_str(v[i].near_cpus, cb, sizeof(cb)) : "-");
    }
    ng_accel_list_free(v, n);
    ng_topo_free(t);
    return 0;
}

static int parse_set(const char *opt, const char *s, hwloc_bitmap_t *out)
{
    if (!s)
        return 0;
    *out = hwloc_bitmap_alloc();
    if (ng_list_parse(s, *out) < 0) {
        fprintf(stderr, "numa-gpu: invalid %s '%s' (expected a list like 0-3,8)\n", opt, s);
        return -1;
    }
    return 0;
}

/* Build the per-rank GPU sets from --gpus / --ntasks / --gpus-per-task or,
 * for exec without --gpus, from the environment. */
static int build_step(const opts *o, const ng_topo *t, ng_step *st)
{
    char err[NG_ERRLEN];
    int rc;
    if (o->gpus)
        rc = ng_step_from_spec(t, &o->roots, o->gpus, o->ntasks, st, err, sizeof(err));
    else if (strcmp(o->cmd, "exec") == 0)
        rc = ng_step_from_env(t, &o->roots, ng_step_getenv_process, NULL, NULL, o->ntasks,
                              o->local_rank, st, err, sizeof(err));
    else if (o->ntasks > 0)
        rc = ng_step_from_count(t, &o->roots, o->ntasks, o->gpus_per_task, st, err,
                                sizeof(err));
    else {
        fprintf(stderr, "numa-gpu: %s needs --ntasks N or --gpus SPEC\n", o->cmd);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        return 2;
    }
    return 0;
}

static int make_plan(const opts *o, ng_topo **tp, ng_step *st, ng_plan *p)
{
    char err[NG_ERRLEN];
    hwloc_bitmap_t cpus = NULL, mems = NULL;
    if (parse_set("--cpus", o->cpus, &cpus) < 0 || parse_set("--mems", o->mems, &mems) < 0) {
        hwloc_bitmap_free(cpus);
        return 2;
    }
    /* exec runs for real: without --cpus/--mems it may use what its cgroup
     * allows, whatever the topology file says. */
    if (strcmp(o->cmd, "exec") == 0 && (!cpus || !mems)) {
        hwloc_bitmap_t c = hwloc_bitmap_alloc(), m = hwloc_bitmap_alloc();
        if (ng_allowed_read(NULL, NULL, 0, c, m, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            hwloc_bitmap_free(c);
            hwloc_bitmap_free(m);
            hwloc_bitmap_free(cpus);
            hwloc_bitmap_free(mems);
            return 1;
        }
        if (!cpus)
            cpus = c;
        else
            hwloc_bitmap_free(c);
        if (!mems)
            mems = m;
        else
            hwloc_bitmap_free(m);
    }
    int rc = 1;
    *tp = load_topo(o);
    if (*tp && (rc = build_step(o, *tp, st)) == 0) {
        rc = ng_plan_compute(*tp, cpus, mems, st->nranks, st->ranks, o->mode, p, err,
                             sizeof(err)) < 0 ? 2 : 0;
        if (rc)
            fprintf(stderr, "numa-gpu: %s\n", err);
    }
    hwloc_bitmap_free(cpus);
    hwloc_bitmap_free(mems);
    return rc;
}

static int cmd_plan(const opts *o, int explain)
{
    ng_topo *t = NULL;
    ng_step st = { 0 };
    ng_plan p = { 0 };
    int rc = make_plan(o, &t, &st, &p);
    if (rc == 0) {
        if (o->json) {
            for (int r = 0; r < p.nranks; r++) {
                char *s = ng_plan_json_line(&p, r);
                puts(s);
                free(s);
            }
        } else {
            char *s = explain ? ng_plan_explain(t, &p) : ng_plan_table(&p);
            fputs(s, stdout);
            free(s);
        }
        if (!p.ok) {
            fprintf(stderr, "numa-gpu: %s\n", p.error);
            rc = 1;
        }
        ng_plan_free(&p);
    }
    ng_step_free(&st);
    ng_topo_free(t);
    return rc;
}

static void log_stderr(int level, const char *msg, void *ctx)
{
    (void)level;
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

static int setenv_process(const char *name, const char *val, int overwrite, void *ctx)
{
    (void)ctx;
    return setenv(name, val, overwrite);
}

static int cmd_exec(const opts *o)
{
    ng_topo *t = NULL;
    ng_step st = { 0 };
    ng_plan p = { 0 };
    int rc = make_plan(o, &t, &st, &p);
    if (rc == 0) {
        char err[NG_ERRLEN];
        ng_task_io io = { ng_step_getenv_process, setenv_process, log_stderr, NULL,
                          o->verbose };
        int self = st.self >= 0 ? st.self : (o->local_rank >= 0 ? o->local_rank : 0);
        if (ng_task_apply(t, &p, self, &io, NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            rc = 1;
        }
        ng_plan_free(&p);
    }
    ng_step_free(&st);
    ng_topo_free(t);
    if (rc != 0)
        return rc;
    execvp(o->argv_exec[0], o->argv_exec);
    fprintf(stderr, "numa-gpu: cannot exec '%s': %s\n", o->argv_exec[0], strerror(errno));
    return 127;
}

static int cmd_save(int argc, char **argv)
{
    if (argc != 3)
        return usage_error("save-topology needs exactly one FILE%s%s", "", "");
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(NULL, err, sizeof(err));
    int rc = t ? ng_topo_save(t, argv[2], err, sizeof(err)) : -1;
    if (rc < 0)
        fprintf(stderr, "numa-gpu: %s\n", err);
    ng_topo_free(t);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "save-topology"))
        return cmd_save(argc, argv);
    opts o = { .cmd = argv[1] };
    static const char *cmds[] = { "topo", "plan", "explain", "exec" };
    int known = 0;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        known |= !strcmp(argv[1], cmds[i]);
    if (!known)
        return usage_error("unknown command '%s' (expected %s)", argv[1],
                           "topo|plan|explain|exec|save-topology");
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    if (!strcmp(o.cmd, "topo"))
        return cmd_topo(&o);
    if (!strcmp(o.cmd, "exec"))
        return cmd_exec(&o);
    return cmd_plan(&o, !strcmp(o.cmd, "explain"));
}
