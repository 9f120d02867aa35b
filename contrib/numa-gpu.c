/* numa-gpu: the command-line front-end of libnumagpu.
 *   numa-gpu topo     GPU -> PCI -> NUMA table of a machine or hwloc XML
 *   numa-gpu plan     per-rank cpus/mems/policy (table or JSON lines)
 *   numa-gpu explain  the plan with its reasons in plain words
 *   numa-gpu exec     apply one rank's plan to itself, verify, exec PROGRAM
 *   numa-gpu audit    a live process's placement, or a job's audit records
 * Exit status: 0 ok, 1 refused/failed (strict plan, apply error), 2 usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "numagpu.h"
#include "private/audit.h"
#include "private/config.h"
#include "private/gresconf.h"
#include "private/hints.h"
#include "private/hugepages.h"
#include "private/step.h"
#include "private/util.h"

static const char usage_text[] =
"usage: numa-gpu topo    [--topology F] [--json]\n"
"       numa-gpu plan    [--topology F] (--ntasks N [--gpus-per-task K] | --gpus SPEC)\n"
"                        [--mode prefer|strict|interleave] [--mem local|interleave|tiered|hbm]\n"
"                        [--cpus LIST] [--mems LIST] [--json]\n"
"       numa-gpu explain (same options as plan)\n"
"       numa-gpu exec    [--mode M] [--gpus SPEC | GPU env] [--local-rank N] [--ntasks N]\n"
"                        [--topology F] [--procfs-root D] [--sysfs-root D] [--verbose] -- PROGRAM ARGS\n"
"       numa-gpu hints   [--mpi ompi4,ompi5,impi,mpich,torchrun|all] [--hosts H1,H2] [--rankfile F]\n"
"                        [plan options; default: the GPUs and tasks of this allocation]\n"
"       numa-gpu audit   --pid PID [--full | --method auto|cgroup|sampled|numa_maps] [--pages N]\n"
"                        [--topology F] [--procfs-root D] [--json]\n"
"       numa-gpu audit   --job FILE\n"
"       numa-gpu hugepages status|reconcile [--state-dir D]\n"
"       numa-gpu hugepages reserve --job J [--step S] --node N --size SIZE[:PAGESIZE] [--owner PID] [--state-dir D]\n"
"       numa-gpu hugepages release --job J [--step S] [--state-dir D]\n"
"       numa-gpu save-topology FILE\n"
"       numa-gpu gres-conf [--topology F] [--per-package]\n"
"       numa-gpu --version\n"
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
    const char *cmd, *topology, *gpus, *cpus, *mems, *job, *mpi, *hosts, *rankfile;
    ng_memopt mem;
    int pid;
    ng_roots roots;
    ng_mode mode;
    int ntasks, gpus_per_task, local_rank, json, verbose, pages;
    ng_method method;
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
           O_PROC, O_SYS, O_MAP, O_ORDER, O_LR, O_VERB, O_PID, O_JOB, O_MPI, O_HOSTS, O_RF, O_MEM,
           O_FULL, O_METHOD, O_PAGES };
    static const struct option lo[] = {
        { "topology", 1, 0, O_TOPO }, { "ntasks", 1, 0, O_NT },
        { "gpus-per-task", 1, 0, O_GPT }, { "gpus", 1, 0, O_GPUS },
        { "mode", 1, 0, O_MODE }, { "cpus", 1, 0, O_CPUS }, { "mems", 1, 0, O_MEMS },
        { "json", 0, 0, O_JSON }, { "procfs-root", 1, 0, O_PROC },
        { "sysfs-root", 1, 0, O_SYS }, { "gpu-map", 1, 0, O_MAP },
        { "gpu-order", 1, 0, O_ORDER }, { "local-rank", 1, 0, O_LR },
        { "verbose", 0, 0, O_VERB }, { "pid", 1, 0, O_PID }, { "job", 1, 0, O_JOB },
        { "full", 0, 0, O_FULL }, { "method", 1, 0, O_METHOD }, { "pages", 1, 0, O_PAGES },
        { "mpi", 1, 0, O_MPI }, { "hosts", 1, 0, O_HOSTS }, { "rankfile", 1, 0, O_RF },
        { "mem", 1, 0, O_MEM },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
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
        case O_MAP: {
            struct stat sb;
            errno = 0;
            if (stat(optarg, &sb) < 0 || !S_ISREG(sb.st_mode) || access(optarg, R_OK) < 0) {
                fprintf(stderr, "numa-gpu: --gpu-map '%s': %s (expected a readable file of "
                        "'ID BUSID' lines)\n", optarg, errno ? strerror(errno) : "not a regular file");
                return 2;
            }
            o->roots.gpu_map = optarg;
            break;
        }
        case O_ORDER:
            if (strcmp(optarg, "pci") != 0)
                return usage_error("unknown --gpu-order '%s' (expected %s)", optarg, "pci");
            o->roots.pci_order = 1;
            break;
        case O_VERB: o->verbose = 1; break;
        case O_PID: if (parse_int("--pid", optarg, 1, 1 << 30, &o->pid)) return 2; break;
        case O_FULL: o->method = NG_METHOD_NUMA_MAPS; break;
        case O_METHOD:
            if (ng_method_parse(optarg, &o->method) < 0)
                return usage_error("unknown --method '%s' (expected %s)", optarg,
                                   "auto|cgroup|sampled|numa_maps");
            break;
        case O_PAGES: if (parse_int("--pages", optarg, 16, 1 << 20, &o->pages)) return 2; break;
        case O_JOB: o->job = optarg; break;
        case O_MPI: o->mpi = optarg; break;
        case O_MEM:
            if (ng_memopt_parse(optarg, &o->mem) < 0)
                return usage_error("unknown --mem '%s' (expected %s)", optarg, NG_MEM_NAMES);
            break;
        case O_HOSTS: o->hosts = optarg; break;
        case O_RF: o->rankfile = optarg; break;
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
        printf("%-6s %-10s %-12s %-24s %s\n", "NODE", "MEMORY", "TIER", "CPUS",
               "DISTANCE FROM CPU NODES");
        hwloc_obj_t nd = NULL;
        while ((nd = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, nd))) {
            int cpu = hwloc_bitmap_isset(ng_topo_cpu_nodes(t), nd->os_index), guess;
            char tier[32], dist[512] = "";
            const char *tn = ng_topo_node_tier(t, nd->os_index, &guess);
            snprintf(tier, sizeof(tier), "%s%s", tn, guess ? "?" : "");
            int c;
            hwloc_bitmap_foreach_begin(c, ng_topo_cpu_nodes(t)) {
                size_t u = strlen(dist);
                snprintf(dist + u, sizeof(dist) - u, "%s%d:%u", u ? " " : "", c,
                         ng_topo_node_distance(t, (unsigned)c, nd->os_index));
            } hwloc_bitmap_foreach_end();
            printf("%-6u %-10s %-12s %-24s %s\n", nd->os_index,
                   nd->attr->numanode.local_memory
                       ? (snprintf(cb, 64, "%lluM", (unsigned long long)(nd->attr->numanode.local_memory >> 20)), cb)
                       : "-",
                   tier, cpu && ng_topo_node_cpus(t, nd->os_index) ? ng_list_str(ng_topo_node_cpus(t, nd->os_index), cb + 64, sizeof(cb) - 64) : "-", dist);
        }
        printf("(tier ? = inferred from the tree: no hwloc subtype)\n");
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
        hwloc_bitmap_free(*out);
        *out = NULL;
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
    ng_roots roots = o->roots;
    /* A topology from a file is not this machine: its GPU indexes are never
     * looked up in this machine's /proc or /sys. Where the file names no GPU
     * by index (no cuda/nvml/rsmi OS device), index N is the N-th GPU in PCI
     * order, said once. */
    if (o->topology && !o->roots.procfs && !o->roots.sysfs && strcmp(o->cmd, "exec") != 0) {
        char b[NG_BUSID_LEN], e[NG_ERRLEN];
        ng_accel *v = NULL;
        int n = 0;
        roots.offline = 1;
        if (!roots.pci_order && !roots.gpu_map && (o->gpus_per_task > 0 || o->gpus) &&
            !(o->gpus && strchr(o->gpus, '.')) &&
            ng_gpu_resolve(t, &roots, NG_IDX_GRES, "0", b, e, sizeof(e)) < 0 &&
            ng_accel_list(t, &v, &n) == 0) {
            if (n > 0) {
                roots.pci_order = 1;
                fprintf(stderr, "numa-gpu: note: %s names no GPU by index; GPU index N is the "
                        "N-th of its %d GPUs in PCI order\n", o->topology, n);
            }
            ng_accel_list_free(v, n);
        }
    }
    if (o->gpus)
        rc = ng_step_from_spec(t, &roots, o->gpus, o->ntasks, st, err, sizeof(err));
    else if (strcmp(o->cmd, "exec") == 0)
        rc = ng_step_from_env(t, &roots, ng_step_getenv_process, NULL, o->ntasks,
                              o->local_rank, st, err, sizeof(err));
    else if (strcmp(o->cmd, "hints") == 0 && !o->gpus_per_task) {
        /* Inside an allocation: the GPUs the job script sees, split over
         * the tasks of this node. */
        const char *tpn = getenv("SLURM_NTASKS_PER_NODE");
        if (!tpn)
            tpn = getenv("SLURM_TASKS_PER_NODE");
        int n = 1;
        if (o->ntasks > 0)
            n = o->ntasks;
        else if (tpn && ng_tasks_per_node_parse(tpn, &n, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            return 2;
        }
        rc = ng_step_from_env(t, &roots, ng_step_getenv_process, NULL, n,
                              0, st, err, sizeof(err));
    } else if (o->ntasks > 0)
        rc = ng_step_from_count(t, &roots, o->ntasks, o->gpus_per_task, st, err,
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
        hwloc_bitmap_free(mems);
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
        /* The plugin's plan path: a missing memory tier fails strict and
         * warns otherwise. */
        char warn[NG_ERRLEN];
        rc = ng_step_plan(*tp, st, cpus, mems, o->mode, o->mem, p, warn, sizeof(warn), err,
                          sizeof(err)) < 0 ? 2 : 0;
        if (rc)
            fprintf(stderr, "numa-gpu: %s\n", err);
        else if (warn[0])
            fprintf(stderr, "numa-gpu: warning: %s\n", warn);
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

/* Launcher settings for mpirun & co: `export` lines, and the rankfile. */
static int cmd_hints(const opts *o)
{
    char err[NG_ERRLEN];
    unsigned mpis = NG_MPI_ALL;
    if (o->mpi && ng_mpi_parse(o->mpi, &mpis, err, sizeof(err)) < 0)
        return usage_error("%s%s", err, "");
    ng_topo *t = NULL;
    ng_step st = { 0 };
    ng_plan p = { 0 };
    int rc = make_plan(o, &t, &st, &p);
    /* --hosts of any length; an empty name is an error. */
    char *hostbuf = strdup(o->hosts ? o->hosts : ""), self[256];
    size_t maxh = 1;
    for (const char *q = o->hosts; q && *q; q++)
        maxh += *q == ',';
    const char **hosts = calloc(maxh, sizeof(char *));
    int nh = 0;
    if (!hostbuf || !hosts) {
        fprintf(stderr, "numa-gpu: out of memory\n");
        rc = rc ? rc : 1;
    } else if (o->hosts) {
        for (char *q = hostbuf, *h; rc == 0 && q; q = h) {
            h = strchr(q, ',');
            if (h)
                *h++ = '\0';
            if (!*q) {
                fprintf(stderr, "numa-gpu: --hosts '%s': empty host name (expected "
                        "H1,H2,...)\n", o->hosts);
                rc = 2;
            }
            hosts[nh++] = q;
        }
    } else {
        gethostname(self, sizeof(self) - 1);
        self[sizeof(self) - 1] = '\0';
        hosts[nh++] = self;
    }
    ng_hints h;
    if (rc == 0 && ng_hints_build(&p, hosts, nh, o->rankfile, mpis, &h, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        rc = 1;
    } else if (rc == 0) {
        if (o->rankfile) {
            FILE *f = fopen(o->rankfile, "we");
            if (!f || fputs(h.rankfile, f) < 0) {
                fprintf(stderr, "numa-gpu: cannot write rankfile '%s': %s\n", o->rankfile,
                        strerror(errno));
                rc = 1;
            }
            if (f)
                fclose(f);
        } else {
            printf("# rankfile (write it with --rankfile F):\n");
            for (char *sv = NULL, *l = strtok_r(h.rankfile, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv))
                printf("#   %s\n", l);
        }
        for (int i = 0; i < h.n; i++) {
            /* single-quoted for the shell: ' becomes '\'' */
            printf("export %s='", h.v[i].name);
            for (const char *q = h.v[i].value; *q; q++)
                if (*q == '\'')
                    fputs("'\\''", stdout);
                else
                    putchar(*q);
            printf("'\n");
        }
        ng_hints_free(&h);
    }
    free(hostbuf);
    free(hosts);
    if (rc == 0 && !p.ok)
        fprintf(stderr, "numa-gpu: warning: %s\n", p.error);
    ng_plan_free(&p);
    ng_step_free(&st);
    ng_topo_free(t);
    return rc;
}

/* Environment of another process, for the GPU variables. */
typedef struct { char *buf; size_t len; } environ_blob;

static const char *environ_get(const char *name, void *ctx)
{
    environ_blob *e = ctx;
    size_t nl = strlen(name);
    for (size_t off = 0; off < e->len; off += strlen(e->buf + off) + 1)
        if (!strncmp(e->buf + off, name, nl) && e->buf[off + nl] == '=')
            return e->buf + off + nl + 1;
    return NULL;
}

static int cmd_audit_pid(const opts *o)
{
    if (o->pid <= 0)
        return usage_error("audit needs --pid PID or --job FILE%s%s", "", "");
    char err[NG_ERRLEN], path[64], cb[1024], gb[256];
    ng_pages pg;
    if (ng_sample_task(NULL, NULL, o->pid, o->method, o->pages > 0 ? (unsigned)o->pages : 4096, 0,
                       &pg, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: pid %d: %s\n", o->pid, err);
        return 1;
    }
    environ_blob env = { malloc(1 << 20), 0 };
    snprintf(path, sizeof(path), "/proc/%d/environ", o->pid);
    FILE *f = env.buf ? fopen(path, "re") : NULL;
    if (f) {
        env.len = fread(env.buf, 1, (1 << 20) - 1, f);
        env.buf[env.len] = '\0';
        fclose(f);
    }
    ng_topo *t = load_topo(o);
    if (!t) {
        free(env.buf);
        return 1;
    }
    char (*bus)[NG_BUSID_LEN] = NULL;
    int n = 0, rc = 0;
    const char *src = "";
    hwloc_bitmap_t home = hwloc_bitmap_alloc(), home_cpus = hwloc_bitmap_alloc();
    if (ng_gpu_from_env(t, &o->roots, environ_get, &env, &bus, &n, &src, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: pid %d: %s\n", o->pid, err);
        rc = 1;
    }
    int unknown = 0;
    for (int i = 0; i < n; i++) {
        ng_accel a;
        if (ng_accel_lookup(t, bus[i], &a, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            rc = 1;
            continue;
        }
        unknown += a.locality == NG_LOC_UNKNOWN;
        hwloc_bitmap_and(a.nodes, a.nodes, ng_topo_cpu_nodes(t));
        hwloc_bitmap_or(home, home, a.nodes);
        ng_accel_clear(&a);
    }
    hwloc_obj_t nd = NULL;
    while ((nd = hwloc_get_next_obj_by_type(ng_topo_hwloc(t), HWLOC_OBJ_NUMANODE, nd)))
        if (hwloc_bitmap_isset(home, nd->os_index))
            hwloc_bitmap_or(home_cpus, home_cpus, ng_topo_node_cpus(t, nd->os_index) ? ng_topo_node_cpus(t, nd->os_index) : nd->cpuset);
    ng_config defaults; /* the same threshold as the plugin's audit_warn_local */
    ng_config_init(&defaults);
    const char *verdict = n == 0 ? "nogpu" : unknown == n ? "unknown"
                        : ng_sample_verdict(&pg, home, home_cpus, defaults.audit_warn_local);
    double pct = ng_pages_local_pct(&pg, home);
    if (o->json)
        printf("{\"schema\":2,\"pid\":%d,\"gpu_source\":\"%s\",\"gpu_nodes\":\"%s\","
               "\"cpus\":\"%s\",\"method\":\"%s\",\"policy\":\"%s\",\"pages\":\"%s\","
               "\"local_pct\":%.1f,\"ci95\":%.1f,\"verdict\":\"%s\"}\n", o->pid, src,
               ng_list_str(home, gb, sizeof(gb)), pg.cpus, ng_method_name(pg.method), pg.policy,
               ng_pages_str(&pg, cb, sizeof(cb)), pct,
               pg.method == NG_METHOD_SAMPLED ? ng_pages_ci95(&pg, home) : 0.0, verdict);
    else
    {
        char gl[512] = "none";
        for (int i = 0; i < n; i++) {
            size_t u = i ? strlen(gl) : 0;
            snprintf(gl + u, sizeof(gl) - u, "%s%s", i ? "," : "", bus[i]);
        }
        printf("pid %d: GPUs %s (from %s) on node %s; cpus %s; memory policy %s; pages "
               "per node %s (%.1f%% on the GPU node, %s); verdict %s\n", o->pid, gl,
               *src ? src : "no GPU variables", n ? ng_list_str(home, gb, sizeof(gb)) : "-",
               pg.cpus, pg.policy[0] ? pg.policy : "-", ng_pages_str(&pg, cb, sizeof(cb)), pct,
               ng_method_name(pg.method), verdict);
    }
    free(bus);
    free(env.buf);
    hwloc_bitmap_free(home);
    hwloc_bitmap_free(home_cpus);
    ng_topo_free(t);
    return rc;
}

static int cmd_audit_job(const char *file)
{
    /* O_NONBLOCK + regular-file check: a FIFO or /dev/zero never hangs us. */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "numa-gpu: audit file '%s': %s\n", file,
                fd < 0 ? strerror(errno) : "not a regular file (expected DIR/<jobid>.json)");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return 1;
    }
    char *line = NULL, host[256], verdict[32], sverdict[32], sum[2048];
    size_t lcap = 0;
    int n = 0, bad = 0;
    printf("%-5s %-10s %-9s %-9s %-8s %s\n", "TASK", "HOST", "VERDICT", "SAMPLE", "LOCAL%",
           "PLACEMENT");
    while (getline(&line, &lcap, f) > 0) {
        double task = -1, pct = -1;
        if (ng_json_num(line, "task", &task) < 0 || !(task >= 0 && task <= 1e6) ||
            ng_json_str(line, "summary", sum, sizeof(sum)) < 0) {
            bad++;
            continue;
        }
        if (ng_json_str(line, "host", host, sizeof(host)) < 0)
            snprintf(host, sizeof(host), "?");
        if (ng_json_str(line, "verdict", verdict, sizeof(verdict)) < 0)
            snprintf(verdict, sizeof(verdict), "?");
        const char *smp = strstr(line, "\"sample\":{");
        if (!smp || ng_json_str(smp, "verdict", sverdict, sizeof(sverdict)) < 0)
            snprintf(sverdict, sizeof(sverdict), "-");
        char pb[16] = "-";
        if (ng_json_num(line, "local_pct", &pct) == 0)
            snprintf(pb, sizeof(pb), "%.1f", pct);
        printf("%-5d %-10s %-9s %-9s %-8s %s\n", (int)task, host, verdict, sverdict, pb, sum);
        n++;
    }
    free(line);
    fclose(f);
    printf("%d task record(s)%s\n", n, bad ? ", some lines unreadable" : "");
    return bad ? 1 : 0;
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

/* numa-gpu gres-conf: gres.conf lines with Cores= from the topology. */
static int cmd_gres_conf(int argc, char **argv)
{
    const char *topology = getenv("NUMA_GPU_TOPOLOGY");
    int per_package = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--topology") && i + 1 < argc)
            topology = argv[++i];
        else if (!strcmp(argv[i], "--per-package"))
            per_package = 1;
        else
            return usage_error("gres-conf: unknown argument '%s' (expected --topology F, "
                               "--per-package)%s", argv[i], "");
    }
    char err[NG_ERRLEN], *text = NULL;
    ng_topo *t = ng_topo_load(topology, err, sizeof(err));
    int rc = t ? ng_gres_conf(t, per_package, &text, err, sizeof(err)) : -1;
    if (rc < 0)
        fprintf(stderr, "numa-gpu: %s\n", err);
    else
        fputs(text, stdout);
    free(text);
    ng_topo_free(t);
    return rc < 0 ? 1 : 0;
}

/* numa-gpu hugepages ACTION: the ledger from the command line (admins,
 * and the VM proof). Owner defaults to the parent (the calling shell). */
static int cmd_hugepages(int argc, char **argv)
{
    const char *act = argc > 2 ? argv[2] : "", *state = "/run/numa-gpu", *size = NULL;
    long job = 0, step = 0, node = -1, owner = (long)getppid();
    for (int i = 3; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        static const struct { const char *opt; unsigned long long min, max; } lim[] = {
            { "--job", 1, 4294967295ull }, { "--step", 0, 4294967295ull },
            { "--node", 0, NG_MAX_NODES - 1 }, { "--owner", 1, 4194304 } };
        long *nums[] = { &job, &step, &node, &owner };
        int which = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(argv[i], lim[k].opt))
                which = k;
        if (!v)
            return usage_error("hugepages: option '%s' needs a value%s", argv[i], "");
        if (which >= 0) {
            unsigned long long x;
            if (ng_parse_u64(v, lim[which].min, lim[which].max, &x) < 0) {
                fprintf(stderr, "numa-gpu: hugepages: invalid %s '%s' (expected an integer "
                        "%llu..%llu)\n", argv[i], v, lim[which].min, lim[which].max);
                return 2;
            }
            *nums[which] = (long)x;
        } else if (!strcmp(argv[i], "--state-dir")) {
            state = v;
        } else if (!strcmp(argv[i], "--size")) {
            size = v;
        } else {
            return usage_error("hugepages: unknown option '%s'%s", argv[i], "");
        }
        i++;
    }
    ng_hp_ctx c = { NULL, NULL, state, 0, 0 };
    char err[NG_ERRLEN];
    if (!strcmp(act, "status")) {
        int failed = 0;
        char *s = ng_hp_status(&c, &failed);
        fputs(s, failed ? stderr : stdout);
        free(s);
        return failed ? 1 : 0;
    }
    if (!strcmp(act, "reserve")) {
        unsigned long long bytes;
        unsigned long kb;
        if (!job || node < 0 || !size)
            return usage_error("hugepages reserve needs --job, --node and --size%s%s", "", "");
        if (ng_hp_parse_size(size, &bytes, &kb, err, sizeof(err)) < 0)
            return usage_error("%s%s", err, "");
        unsigned long long page = (unsigned long long)kb << 10;
        ng_hp_req r = { (unsigned long)job, (unsigned long)step, 0, (int)node, kb,
                        (long)((bytes + page - 1) / page), (int)owner };
        long got;
        if (ng_hp_reserve(&c, &r, &got, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            return 1;
        }
        printf("node %ld: asked %ld x %lukB, granted %ld\n", node, r.count, kb, got);
        return got < r.count ? 1 : 0;
    }
    if (!strcmp(act, "release") || !strcmp(act, "reconcile")) {
        int n = 0;
        if (!strcmp(act, "release") && !job)
            return usage_error("hugepages release needs --job%s%s", "", "");
        if (ng_hp_release(&c, (unsigned long)job, job && step ? step : -1, -1, &n, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            return 1;
        }
        printf("released %d reservation(s)\n", n);
        return 0;
    }
    return usage_error("unknown hugepages action '%s' (expected %s)", act,
                       "status|reserve|release|reconcile");
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("numa-gpu %s\n", ng_version());
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "save-topology"))
        return cmd_save(argc, argv);
    if (!strcmp(argv[1], "hugepages"))
        return cmd_hugepages(argc, argv);
    if (!strcmp(argv[1], "gres-conf"))
        return cmd_gres_conf(argc, argv);
    opts o = { .cmd = argv[1] };
    static const char *cmds[] = { "topo", "plan", "explain", "exec", "audit", "hints" };
    int known = 0;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        known |= !strcmp(argv[1], cmds[i]);
    if (!known)
        return usage_error("unknown command '%s' (expected %s)", argv[1],
                           "topo|plan|explain|exec|audit|hints|hugepages|save-topology|gres-conf");
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    if (!strcmp(o.cmd, "topo"))
        return cmd_topo(&o);
    if (!strcmp(o.cmd, "exec"))
        return cmd_exec(&o);
    if (!strcmp(o.cmd, "hints"))
        return cmd_hints(&o);
    if (!strcmp(o.cmd, "audit"))
        return o.job ? cmd_audit_job(o.job) : cmd_audit_pid(&o);
    return cmd_plan(&o, !strcmp(o.cmd, "explain"));
}
