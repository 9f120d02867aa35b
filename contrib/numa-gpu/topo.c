/* numa-gpu topo: the machine's NUMA nodes (memory, tier, cpus, distances)
 * and its GPUs with their PCI locality, as a table or JSON lines. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static void node_table(const ng_topo *t)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    printf("topology: %s\n", ng_topo_source(t));
    printf("%-6s %-10s %-12s %-24s %s\n", "NODE", "MEMORY", "TIER", "CPUS",
           "DISTANCE FROM CPU NODES");
    hwloc_obj_t nd = NULL;
    while ((nd = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, nd))) {
        int guess = 0;
        char tier[32], dist[512] = "", mem[32] = "-", cpus[1024] = "-";
        const char *tn = ng_topo_node_tier(t, nd->os_index, &guess);
        snprintf(tier, sizeof(tier), "%s%s", tn, guess ? "?" : "");
        int c;
        hwloc_bitmap_foreach_begin(c, ng_topo_cpu_nodes(t)) {
            size_t u = strlen(dist);
            snprintf(dist + u, sizeof(dist) - u, "%s%d:%u", u ? " " : "", c,
                     ng_topo_node_distance(t, (unsigned)c, nd->os_index));
        } hwloc_bitmap_foreach_end();
        if (nd->attr->numanode.local_memory)
            snprintf(mem, sizeof(mem), "%lluM",
                     (unsigned long long)(nd->attr->numanode.local_memory >> 20));
        hwloc_const_bitmap_t nc = ng_topo_node_cpus(t, nd->os_index);
        if (hwloc_bitmap_isset(ng_topo_cpu_nodes(t), nd->os_index) && nc)
            ng_list_str(nc, cpus, sizeof(cpus));
        printf("%-6u %-10s %-12s %-24s %s\n", nd->os_index, mem, tier, cpus, dist);
    }
    printf("(tier ? = inferred from the tree: no hwloc subtype)\n");
}

static void nic_table(const ng_topo *t)
{
    ng_nic *v;
    int n;
    if (ng_nic_list(t, &v, &n) < 0)
        return;
    printf("\n%-14s %-10s %-14s %-9s %-5s %-10s %s\n", "PCI", "NIC", "NETDEV", "KIND", "PORT",
           "NUMA", "LINK_GB/s");
    if (n == 0)
        printf("(no network devices in this topology)\n");
    for (int i = 0; i < n; i++) {
        char nb[256] = "unknown";
        if (!hwloc_bitmap_iszero(v[i].nodes))
            ng_list_str(v[i].nodes, nb, sizeof(nb));
        printf("%-14s %-10s %-14s %-9s %-5d %-10s %.1f\n", v[i].busid, v[i].name,
               v[i].netdev[0] ? v[i].netdev : "-", v[i].kind == NG_NIC_RDMA ? "rdma" : "ethernet",
               v[i].port, nb, (double)v[i].linkspeed);
    }
    ng_nic_list_free(v, n);
}

int cmd_topo(int argc, char **argv)
{
    static const struct option lo[] = {
        { "topology", 1, 0, 't' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    const char *topology = getenv("NUMA_GPU_TOPOLOGY");
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        switch (c) {
        case 't': topology = optarg; break;
        case 'j': json = 1; break;
        case 'h': cli_usage("topo", stdout); return 0;
        default: return cli_bad_option("topo", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    ng_topo *t = cli_load_topo(topology);
    ng_accel *v;
    int n;
    if (!t || ng_accel_list(t, &v, &n) < 0) {
        ng_topo_free(t);
        return 1;
    }
    if (!json) {
        node_table(t);
        printf("\n%-14s %-7s %-8s %-14s %-10s %s\n", "PCI", "VENDOR", "CLASS", "OSDEVS",
               "NUMA", "NEAR_CPUS");
        if (n == 0)
            printf("(no GPUs or accelerators in this topology)\n");
    }
    for (int i = 0; i < n; i++) {
        if (json) {
            char *s = ng_accel_json_line(&v[i]);
            puts(s);
            free(s);
            continue;
        }
        char nb[256], cb[1024];
        int known = v[i].locality == NG_LOC_KNOWN;
        printf("%-14s %-7s 0x%04x   %-14s %-10s %s\n", v[i].busid, v[i].vendor, v[i].class_id,
               v[i].osdevs[0] ? v[i].osdevs : "-",
               known ? ng_list_str(v[i].nodes, nb, sizeof(nb)) : "unknown",
               known ? ng_list_str(v[i].near_cpus, cb, sizeof(cb)) : "-");
    }
    if (!json)
        nic_table(t);
    ng_accel_list_free(v, n);
    ng_topo_free(t);
    return 0;
}
