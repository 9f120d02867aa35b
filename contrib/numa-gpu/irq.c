/* numa-gpu irq: the interrupts of GPUs and their nearest NICs against the
 * devices' own NUMA node; --apply (root) steers the remote ones there and
 * records every change, --restore puts them back. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "private/irq.h"

/* The GPUs (--gpus, else the environment's, else every GPU) and their NICs. */
static int devices(const ng_topo *t, const ng_roots *r, const char *gpus, const char *nics,
                   ng_irq_device **devs, int *n)
{
    char err[NG_ERRLEN] = "", (*bus)[NG_BUSID_LEN] = NULL;
    const char *src = "";
    int nb = 0;
    if (gpus && ng_gpu_parse_list(t, r, NG_IDX_GRES, "--gpus", gpus, &bus, &nb, err,
                                  sizeof(err)) < 0)
        return cli_usage_error("irq: %s", err);
    if (!gpus && ng_gpu_from_env(t, r, ng_step_getenv_process, NULL, &bus, &nb, &src, err,
                                 sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        return 2;
    }
    ng_accel *all = NULL;
    int na = 0;
    if (nb == 0 && ng_accel_list(t, &all, &na) == 0) {   /* every GPU of the machine */
        free(bus);
        bus = calloc((size_t)na + 1, sizeof(*bus));
        for (int i = 0; bus && i < na; i++)
            snprintf(bus[nb++], NG_BUSID_LEN, "%s", all[i].busid);
        ng_accel_list_free(all, na);
    }
    int rc = ng_irq_devices(t, (const char (*)[NG_BUSID_LEN])bus, nb, nics, devs, n, err,
                            sizeof(err));
    free(bus);
    if (rc < 0)
        return strstr(err, "unknown NIC") ? cli_usage_error("irq: %s", err)
               : (fprintf(stderr, "numa-gpu: %s\n", err), 1);
    return 0;
}

static void print_irqs(const ng_irq *v, int n)
{
    printf("%-6s %-10s %-14s %-28s %-16s %-16s %s\n", "IRQ", "DEVICE", "PCI", "NAME", "AFFINITY",
           "DEVICE_NODE_CPUS", "STATE");
    for (int i = 0; i < n; i++) {
        char a[1024], c[1024];
        printf("%-6d %-10s %-14s %-28.28s %-16s %-16s %s\n", v[i].irq, v[i].device, v[i].busid,
               v[i].name[0] ? v[i].name : "-", ng_list_str(v[i].affinity, a, sizeof(a)),
               hwloc_bitmap_iszero(v[i].node_cpus) ? "unknown"
               : ng_list_str(v[i].node_cpus, c, sizeof(c)), v[i].state);
    }
    printf("%d IRQ(s), %d routed outside their device's node\n", n, ng_irq_outside(v, n));
}

int cmd_irq(int argc, char **argv)
{
    static ng_config sc;   /* --state-dir is plugstack.conf's state_dir= */
    ng_config_init(&sc);
    static const struct option lo[] = {
        { "check", 0, 0, 'c' }, { "apply", 0, 0, 'a' }, { "restore", 0, 0, 'r' },
        { "gpus", 1, 0, 'g' }, { "nics", 1, 0, 'n' }, { "job", 1, 0, 'j' },
        { "avoid-cpus", 1, 0, 'v' }, { "topology", 1, 0, 't' }, { "procfs-root", 1, 0, 'P' },
        { "sysfs-root", 1, 0, 'S' }, { "state-dir", 1, 0, 's' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 } };
    const char *topology = getenv("NUMA_GPU_TOPOLOGY"), *gpus = NULL, *nics = NULL,
               *avoid_s = NULL;
    ng_irq_ctx ctx = { NULL, NULL, "/run/numa-gpu" };
    ng_roots roots = { 0 };
    int action = 'c', job = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        switch (c) {
        case 'c': case 'a': case 'r': action = c; break;
        case 'g': gpus = optarg; break;
        case 'n': nics = optarg; break;
        case 'j': if (cli_int("--job", optarg, 1, 2147483647, &job)) return 2; break;
        case 'v': avoid_s = optarg; break;
        case 't': topology = optarg; break;
        case 'P': ctx.procfs = roots.procfs = optarg; break;
        case 'S': ctx.sysfs = roots.sysfs = optarg; break;
        case 's':
            if (cli_setting(&sc, "state-dir", optarg))
                return 2;
            ctx.state_dir = sc.state_dir;
            break;
        case 'h': cli_usage("irq", stdout); return 0;
        default: return cli_bad_option("irq", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    char err[NG_ERRLEN], note[NG_ERRLEN];
    if (action == 'r') {
        int n = 0;
        int rc = ng_irq_restore(&ctx, (unsigned long)job, &n, note, sizeof(note), err,
                                sizeof(err));
        printf("restored %d IRQ(s)%s%s\n", n, note[0] ? "; " : "", note);
        if (rc < 0)
            fprintf(stderr, "numa-gpu: %s\n", err);
        return rc < 0 ? 1 : 0;
    }
    hwloc_bitmap_t avoid = NULL;
    if (avoid_s) {
        avoid = hwloc_bitmap_alloc();
        if (ng_list_parse(avoid_s, avoid) < 0) {
            hwloc_bitmap_free(avoid);
            return cli_usage_error("invalid --avoid-cpus '%s' (expected a list like 0-3,8)",
                                   avoid_s);
        }
    }
    ng_topo *t = cli_load_topo(topology);
    ng_irq_device *devs = NULL;
    ng_irq *v = NULL;
    int nd = 0, n = 0, rc = t ? devices(t, &roots, gpus, nics, &devs, &nd) : 1;
    if (rc == 0 && ng_irq_list(t, &ctx, devs, nd, &v, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        rc = 1;
    }
    if (rc == 0 && action == 'a') {
        int changed = 0;
        if (ng_irq_apply(&ctx, (unsigned long)job, v, n, avoid, &changed, note, sizeof(note),
                         err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s; nothing changed\n", err);
            rc = 1;
        } else {
            printf("steered %d IRQ(s) to their device's node (job %d; undo with numa-gpu irq "
                   "--restore --job %d)%s%s\n", changed, job, job, note[0] ? "; " : "", note);
        }
    }
    if (rc == 0)
        print_irqs(v, n);
    ng_irq_list_free(v, n);
    free(devs);
    hwloc_bitmap_free(avoid);
    ng_topo_free(t);
    return rc;
}
