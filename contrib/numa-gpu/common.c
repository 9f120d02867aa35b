/* numa-gpu: helpers every command shares, and the plan options of plan,
 * explain, exec and hints. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "private/apply.h"
#include "private/node.h"
#include "private/slurmstep.h"
#include "private/gpudev.h"
#include "private/gpumap.h"

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "numa-gpu: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'numa-gpu --help'.\n");
    va_end(ap);
    return 2;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        return cli_usage_error("%s: option '%s' needs a value", cmd, opt);
    return cli_usage_error("%s: unknown argument '%s' (see 'numa-gpu %s --help')", cmd, opt,
                           cmd);
}

int cli_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "numa-gpu: invalid %s '%s' (expected an integer %d..%d)\n", opt, s, lo,
                hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

ng_topo *cli_load_topo(const char *path)
{
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(path, err, sizeof(err));
    if (!t)
        fprintf(stderr, "numa-gpu: %s\n", err);
    return t;
}

int cli_setting(ng_config *cfg, const char *opt, const char *arg)
{
    char err[NG_ERRLEN];
    const ng_setting *s = ng_setting_by_cli(opt);
    if (s && ng_setting_set(cfg, s, arg, err, sizeof(err)) == 0)
        return 0;
    if (!s)   /* a CLI option missing from the table: a bug, said as one */
        return cli_usage_error("--%s is not in the settings table", opt);
    if (err[0] == '\'')
        return cli_usage_error("invalid --%s %s", opt, err);
    return cli_usage_error("--%s: %s", opt, err);
}

void plan_opts_init(plan_opts *o)
{
    memset(o, 0, sizeof(*o));
    ng_config_init(&o->cfg);
    o->topology = getenv("NUMA_GPU_TOPOLOGY");
    o->mode = NG_MODE_PREFER;
    optind = 1;
    opterr = 0;
}

int plan_getopt(int argc, char **argv, const struct option *lo, plan_opts *o, int *rc)
{
    int c;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        int r = plan_opt(o, c, optarg);
        if (r == 1)
            return c;
        if (r) {
            *rc = r;
            return PLAN_GETOPT_ERROR;
        }
    }
    return -1;
}

int plan_opt(plan_opts *o, int c, const char *arg)
{
    char err[NG_ERRLEN];
    int verbose = 0;
    struct stat sb;
    switch (c) {
    case PO_TOPO: o->topology = arg; return 0;
    case PO_NT: return cli_int("--ntasks", arg, 1, 65536, &o->ntasks) ? 2 : 0;
    case PO_GPT: return cli_int("--gpus-per-task", arg, 0, 256, &o->gpus_per_task) ? 2 : 0;
    case PO_GPUS: o->gpus = arg; return 0;
    case PO_MODE:
        if (ng_mode_option_parse(arg, &o->mode, &verbose, err, sizeof(err)) < 0)
            return cli_usage_error("%s", err);
        o->verbose |= verbose;
        return 0;
    case PO_MEM:
        if (ng_memopt_parse(arg, &o->mem) < 0)
            return cli_usage_error("unknown --mem '%s' (expected %s)", arg, NG_MEM_NAMES);
        return 0;
    case PO_CPUS: o->cpus = arg; return 0;
    case PO_MEMS: o->mems = arg; return 0;
    case PO_PROC: o->roots.procfs = arg; return 0;
    case PO_SYS: o->roots.sysfs = arg; return 0;
    case PO_MAP:
        errno = 0;
        if (stat(arg, &sb) < 0 || !S_ISREG(sb.st_mode) || access(arg, R_OK) < 0) {
            fprintf(stderr, "numa-gpu: --gpu-map '%s': %s (expected a readable file of "
                    "'ID BUSID' and 'numa_node BUSID NODES' lines)\n", arg,
                    errno ? strerror(errno) : "not a regular file");
            return 2;
        }
        o->roots.gpu_map = arg;
        return 0;
    case PO_ORDER: return cli_setting(&o->cfg, "gpu-order", arg);
    case PO_ISO: return cli_setting(&o->cfg, "isolated", arg);
    case PO_RES: return cli_setting(&o->cfg, "reserve-first-core-per", arg);
    case PO_SMT: return cli_setting(&o->cfg, "smt", arg);
    case PO_SCOPE: return cli_setting(&o->cfg, "cpu-scope", arg);
    case PO_CPT:
        return cli_int("--cpus-per-task", arg, 1, NG_MAX_CPUS_PER_TASK, &o->cpus_per_task) ? 2
               : 0;
    default:
        return 1;
    }
}

static int parse_set(const char *opt, const char *s, hwloc_bitmap_t *out)
{
    if (!s)
        return 0;
    *out = hwloc_bitmap_alloc();
    if (ng_list_parse(s, *out) < 0) {
        fprintf(stderr, "numa-gpu: invalid %s '%s' (expected a list like 0-3,8)\n", opt, s);
        hwloc_bitmap_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* A topology from a file is not this machine: its GPU indexes are never
 * looked up in this machine's /proc or /sys. Where the file names no GPU by
 * index (no cuda/nvml/rsmi OS device), index N is the N-th GPU in PCI
 * order, said once. */
static void offline_roots(const plan_opts *o, const ng_topo *t, ng_roots *roots)
{
    int n = 0;
    if ((o->gpus_per_task > 0 || o->gpus) && !(o->gpus && strchr(o->gpus, '.')))
        n = ng_roots_for_file(t, roots);
    else
        roots->offline = 1;
    if (n > 0)
        fprintf(stderr, "numa-gpu: note: %s names no GPU by index; GPU index N is the "
                "N-th of its %d GPUs in PCI order\n", o->topology, n);
}

static int build_step(const char *cmd, const plan_opts *o, step_source src, int local_rank,
                      const ng_topo *t, ng_step *st)
{
    char err[NG_ERRLEN];
    int rc;
    ng_roots roots = o->roots;
    roots.pci_order = o->cfg.pci_order;
    if (o->topology && !o->roots.procfs && !o->roots.sysfs && src != STEP_FROM_TASK_ENV)
        offline_roots(o, t, &roots);
    if (o->gpus)
        rc = ng_step_from_spec(t, &roots, o->gpus, o->ntasks, st, err, sizeof(err));
    else if (src == STEP_FROM_TASK_ENV)
        rc = ng_step_from_env(t, &roots, ng_step_getenv_process, NULL, o->ntasks, local_rank,
                              st, err, sizeof(err));
    else if (src == STEP_FROM_BATCH_ENV && !o->gpus_per_task)
        rc = ng_step_from_batch(t, &roots, ng_step_getenv_process, NULL, o->ntasks, st, err,
                                sizeof(err));
    else if (o->ntasks > 0)
        rc = ng_step_from_count(t, &roots, o->ntasks, o->gpus_per_task, st, err, sizeof(err));
    else {
        fprintf(stderr, "numa-gpu: %s needs --ntasks N or --gpus SPEC\n", cmd);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        return 2;
    }
    return 0;
}

int cli_plan(const char *cmd, const plan_opts *o, step_source src, int local_rank,
             ng_topo **tp, ng_step *st, ng_plan *p)
{
    char err[NG_ERRLEN];
    hwloc_bitmap_t cpus = NULL, mems = NULL;
    *tp = NULL;
    if (parse_set("--cpus", o->cpus, &cpus) < 0 || parse_set("--mems", o->mems, &mems) < 0) {
        hwloc_bitmap_free(cpus);
        hwloc_bitmap_free(mems);
        return 2;
    }
    /* exec runs for real: without --cpus/--mems it may use what its cgroup
     * allows, whatever the topology file says. */
    if (src == STEP_FROM_TASK_ENV && (!cpus || !mems)) {
        hwloc_bitmap_t c = hwloc_bitmap_alloc(), m = hwloc_bitmap_alloc();
        if (ng_node_allowed(NULL, NULL, c, m, err, sizeof(err)) < 0) {
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
    /* The admin's core policy as the plugin builds it; the kernel's
     * isolated CPUs are this machine's: read for a live topology or a
     * given --sysfs-root, never for someone else's XML. */
    ng_config cfg = o->cfg;
    snprintf(cfg.sysfs, sizeof(cfg.sysfs), "%s", o->roots.sysfs ? o->roots.sysfs : "");
    hwloc_bitmap_t iso = hwloc_bitmap_alloc(), nohz = hwloc_bitmap_alloc();
    ng_plan_policy pol;
    if (ng_node_policy(&cfg, !o->topology || o->roots.sysfs, iso, nohz, &pol, err,
                       sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        hwloc_bitmap_free(iso);
        hwloc_bitmap_free(nohz);
        hwloc_bitmap_free(cpus);
        hwloc_bitmap_free(mems);
        return 1;
    }
    *tp = cli_load_topo(o->topology);
    int mapped = 0, skipped = 0;
    if (*tp && o->roots.gpu_map &&
        ng_gpu_map_locality(*tp, o->roots.gpu_map, &mapped, &skipped, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        rc = 2;
    } else if (*tp && (rc = build_step(cmd, o, src, local_rank, *tp, st)) == 0) {
        if (mapped)
            fprintf(stderr, "numa-gpu: note: the locality of %d GPU(s) comes from gpu_map %s "
                    "(measured), not from the firmware\n", mapped, o->roots.gpu_map);
        char warn[NG_ERRLEN];
        /* smt auto and the thread count: what the user told Slurm, inside
         * a job (exec, hints); plan and explain take their options only.
         * exec under srun: its affinity is Slurm's mask. */
        ng_cpuopt co;
        rc = ng_node_cpuopt(&cfg, -1, -1, o->cpus_per_task, src == STEP_FROM_COUNT
                            ? NULL : ng_step_getenv_process, NULL, *tp,
                            src == STEP_FROM_TASK_ENV, &co, err, sizeof(err)) < 0 ? 2 : 0;
        if (rc == 0 && ng_step_plan(*tp, st, cpus, mems, o->mode, o->mem, &pol, &co, p, warn,
                                    sizeof(warn), err, sizeof(err)) < 0)
            rc = 2;
        if (rc)
            fprintf(stderr, "numa-gpu: %s\n", err);
        else if (warn[0])
            fprintf(stderr, "numa-gpu: warning: %s\n", warn);
    }
    hwloc_bitmap_free(iso);
    hwloc_bitmap_free(nohz);
    hwloc_bitmap_free(cpus);
    hwloc_bitmap_free(mems);
    return rc;
}
