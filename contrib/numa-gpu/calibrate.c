/* numa-gpu calibrate: measured host<->GPU bandwidth from every NUMA node to
 * every GPU (lib/calibrate.c), the verdict against the firmware's locality,
 * and --write-map: the gpu_map lines the plugin then places ranks by. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "private/calibrate.h"

typedef struct {
    const char *topology, *nodes, *gpus, *map;
    size_t bytes;
    int repeat, tolerance, json, list, here;
} cal_opts;

static int parse(int argc, char **argv, cal_opts *o)
{
    enum { O_SIZE = 256, O_REPEAT, O_NODES, O_GPUS, O_TOL, O_MAP, O_LIST, O_HERE };
    static const struct option lo[] = {
        { "topology", 1, 0, 't' }, { "size", 1, 0, O_SIZE }, { "repeat", 1, 0, O_REPEAT },
        { "nodes", 1, 0, O_NODES }, { "gpus", 1, 0, O_GPUS }, { "tolerance", 1, 0, O_TOL },
        { "write-map", 1, 0, O_MAP }, { "list", 0, 0, O_LIST }, { "here", 0, 0, O_HERE },
        { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    char err[NG_ERRLEN];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        switch (c) {
        case 't': o->topology = optarg; break;
        case O_SIZE:
            if (ng_cal_size_parse(optarg, &o->bytes, err, sizeof(err)) < 0) {
                fprintf(stderr, "numa-gpu: %s\n", err);
                return 2;
            }
            break;
        case O_REPEAT:
            if (cli_int("--repeat", optarg, 1, NG_CAL_MAX_REPEAT, &o->repeat))
                return 2;
            break;
        case O_TOL:
            if (cli_int("--tolerance", optarg, 1, 50, &o->tolerance))
                return 2;
            break;
        case O_NODES: o->nodes = optarg; break;
        case O_GPUS: o->gpus = optarg; break;
        case O_MAP: o->map = optarg; break;
        case O_LIST: o->list = 1; break;
        case O_HERE: o->here = 1; break;
        case 'j': o->json = 1; break;
        case 'h': cli_usage("calibrate", stdout); return -1;
        default: return cli_bad_option("calibrate", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("calibrate: unexpected argument '%s'", argv[optind]);
    if (o->here && (o->map || o->nodes))
        return cli_usage_error("calibrate: --here measures this process where it is placed; "
                               "it takes neither --nodes nor --write-map");
    return 0;
}

/* --nodes: CPU nodes of the topology. */
static int node_set(const ng_topo *t, const char *s, hwloc_bitmap_t out)
{
    char cn[256];
    if (ng_list_parse(s, out) < 0 || hwloc_bitmap_iszero(out)) {
        fprintf(stderr, "numa-gpu: invalid --nodes '%s' (expected a list like 0-1,3)\n", s);
        return -1;
    }
    if (!hwloc_bitmap_isincluded(out, ng_topo_cpu_nodes(t))) {
        fprintf(stderr, "numa-gpu: --nodes '%s': calibrate measures NUMA nodes with CPUs; "
                "topology %s has %s\n", s, ng_topo_source(t),
                ng_list_str(ng_topo_cpu_nodes(t), cn, sizeof(cn)));
        return -1;
    }
    return 0;
}

static void list_gpus(const ng_topo *t, ng_gpurt *rt, const ng_cal_gpu *g, int n, int json)
{
    if (!json)
        printf("runtime: %s\n%-4s %-13s %-16s %s\n", ng_gpurt_describe(rt), "GPU", "PCI",
               "FIRMWARE", "NAME");
    for (int i = 0; i < n; i++) {
        char nb[256] = "unknown";
        int in = 0;
        ng_accel a;
        if (ng_accel_lookup(t, g[i].busid, &a, NULL, 0) == 0) {
            in = 1;
            if (a.locality == NG_LOC_KNOWN)
                ng_list_str(a.nodes, nb, sizeof(nb));
            ng_accel_clear(&a);
        }
        if (!json)
            printf("%-4d %-13s %-16s %s\n", g[i].ordinal, g[i].busid,
                   in ? nb : "not in topology", g[i].name);
        else
            printf("{\"schema\":1,\"gpu\":%d,\"busid\":\"%s\",\"runtime\":\"%s\",\"in_topology\":%s,"
                   "\"firmware_nodes\":%s%s%s}\n", g[i].ordinal, g[i].busid, ng_gpurt_kind(rt),
                   in ? "true" : "false", in && strcmp(nb, "unknown") ? "\"" : "",
                   in && strcmp(nb, "unknown") ? nb : "null",
                   in && strcmp(nb, "unknown") ? "\"" : "");
    }
}

static int measure(const ng_topo *t, ng_gpurt *rt, const cal_opts *o,
                   hwloc_const_bitmap_t nodes)
{
    char err[NG_ERRLEN];
    ng_cal_gpu *all = NULL;
    int nall = 0, *sel = NULL, nsel = 0, rc = 1;
    ng_cal_result res = { 0 };
    if (ng_cal_gpus(rt, &all, &nall, err, sizeof(err)) < 0 ||
        (o->gpus && ng_cal_gpu_list(all, nall, o->gpus, &sel, &nsel, err, sizeof(err)) < 0)) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        rc = o->gpus ? 2 : 1;
        goto out;
    }
    if (o->list) {
        list_gpus(t, rt, all, nall, o->json);
        rc = 0;
        goto out;
    }
    ng_cal_opts co = { o->bytes, o->repeat, o->nodes ? nodes : NULL, sel, nsel, o->here };
    if (ng_cal_run(t, rt, &co, &res, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: calibrate: %s\n", err);
        goto out;
    }
    char *text = o->json ? ng_cal_json(t, &res, o->tolerance) : ng_cal_table(t, &res, o->tolerance);
    fputs(text ? text : "", stdout);
    free(text);
    rc = 0;
    if (o->map && ng_cal_write_map(t, &res, o->tolerance, o->map, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        rc = 1;
    } else if (o->map) {
        fprintf(stderr, "numa-gpu: wrote %s: the plugin uses it with gpu_map=%s in "
                "plugstack.conf; numa-gpu plan, explain and exec with --gpu-map %s\n", o->map,
                o->map, o->map);
    }
    if (!o->map && !o->json && !o->here)
        printf("(numa-gpu calibrate --write-map FILE writes these localities as a gpu_map)\n");
out:
    ng_cal_result_free(&res);
    free(sel);
    free(all);
    return rc;
}

int cmd_calibrate(int argc, char **argv)
{
    char err[NG_ERRLEN];
    cal_opts o = { getenv("NUMA_GPU_TOPOLOGY"), NULL, NULL, NULL, NG_CAL_DEFAULT_BYTES,
                   NG_CAL_DEFAULT_REPEAT, NG_CAL_DEFAULT_TOLERANCE, 0, 0, 0 };
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    ng_topo *t = cli_load_topo(o.topology);
    if (!t)
        return 1;
    hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
    if (o.nodes && node_set(t, o.nodes, nodes) < 0) {
        hwloc_bitmap_free(nodes);
        ng_topo_free(t);
        return 2;
    }
    ng_gpurt *rt = ng_gpurt_open(err, sizeof(err));
    if (!rt)
        fprintf(stderr, "numa-gpu: calibrate: %s\n", err);
    rc = rt ? measure(t, rt, &o, nodes) : 1;
    ng_gpurt_close(rt);
    hwloc_bitmap_free(nodes);
    ng_topo_free(t);
    return rc;
}
