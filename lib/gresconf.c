/* gres.conf lines with Cores= for every GPU of a topology, for sites without
 * AutoDetect (fake, AMD or Intel devices, no NVML). Slurm numbers cores
 * socket by socket; since 23.02 it refuses Cores= that do not match socket
 * boundaries, so a GPU whose NUMA node is part of a package (SNC, NPS) needs
 * SlurmdParameters=numa_node_as_socket, which makes each NUMA node a socket
 * and renumbers cores node by node. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/accel.h"
#include "private/gresconf.h"
#include "private/util.h"

/* Slurm's "socket" of a PU: its package, or its CPU NUMA node. */
static hwloc_obj_t socket_of(hwloc_topology_t h, hwloc_obj_t core, int numa_sockets)
{
    if (!numa_sockets)
        return hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, core);
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, n)))
        if (n->cpuset && hwloc_bitmap_isincluded(core->cpuset, n->cpuset) &&
            !hwloc_bitmap_iszero(n->cpuset))
            return n;
    return NULL;
}

/* Slurm's abstract core numbering (slurmd's xcpuinfo, abs_to_mac): sockets
 * in order, the cores of each socket in order, then cores of no socket.
 * to_ids: the indexes of the cores inside cpus into out; else the cpus of
 * the cores whose index is in ids (gres.conf Cores=) into out. */
static void core_walk(hwloc_topology_t h, hwloc_const_bitmap_t in, int numa_sockets, int to_ids,
                      hwloc_bitmap_t out)
{
    int depth = numa_sockets ? HWLOC_TYPE_DEPTH_NUMANODE
                             : hwloc_get_type_depth(h, HWLOC_OBJ_PACKAGE);
    unsigned nsock = depth == HWLOC_TYPE_DEPTH_UNKNOWN ? 0 : hwloc_get_nbobjs_by_depth(h, depth);
    unsigned idx = 0;
    hwloc_bitmap_zero(out);
    for (unsigned s = 0; s <= nsock; s++) {
        hwloc_obj_t sock = s < nsock ? hwloc_get_obj_by_depth(h, depth, s) : NULL;
        if (s < nsock && (!sock->cpuset || hwloc_bitmap_iszero(sock->cpuset)))
            continue;
        hwloc_obj_t core = NULL;
        while ((core = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_CORE, core))) {
            hwloc_obj_t cs = socket_of(h, core, numa_sockets);
            if (s < nsock ? cs != sock : cs != NULL)
                continue;   /* the last pass numbers cores of no socket */
            if (to_ids && hwloc_bitmap_isincluded(core->cpuset, in))
                hwloc_bitmap_set(out, idx);
            else if (!to_ids && hwloc_bitmap_isset(in, idx))
                hwloc_bitmap_or(out, out, core->cpuset);
            idx++;
        }
    }
}

static void core_indexes(hwloc_topology_t h, hwloc_const_bitmap_t cpus, int numa_sockets,
                         hwloc_bitmap_t out)
{
    core_walk(h, cpus, numa_sockets, 1, out);
}

void ng_slurm_core_cpus(const ng_topo *t, hwloc_const_bitmap_t cores, int numa_sockets,
                        hwloc_bitmap_t cpus)
{
    core_walk(ng_topo_hwloc(t), cores, numa_sockets, 0, cpus);
}

/* The CPUs of a GPU's NUMA node(s), and of the packages they belong to. */
static void gpu_cpus(const ng_topo *t, const ng_accel *a, hwloc_bitmap_t cpus,
                     hwloc_bitmap_t packages)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    ng_accel_node_cpus(t, a, cpus);
    hwloc_bitmap_zero(packages);
    hwloc_obj_t p = NULL;
    while ((p = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PACKAGE, p)))
        if (hwloc_bitmap_intersects(p->cpuset, cpus))
            hwloc_bitmap_or(packages, packages, p->cpuset);
}

static void device_file(const ng_accel *a, int nvidia_rank, char *out, size_t len)
{
    char names[128];
    snprintf(names, sizeof(names), "%s", a->osdevs);
    for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save))
        if (!strncmp(n, "card", 4) || !strncmp(n, "renderD", 7)) {
            snprintf(out, len, "/dev/dri/%s", n);
            return;
        }
    if (!strcmp(a->vendor, "NVIDIA")) {
        snprintf(out, len, "/dev/nvidia%d", nvidia_rank);
        return;
    }
    out[0] = '\0';
}

int ng_gres_conf(const ng_topo *t, int per_package, char **text, char *err, size_t errlen)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    ng_accel *v = NULL;
    int n = 0;
    *text = NULL;
    if (ng_accel_list(t, &v, &n) < 0)
        return ng_err(err, errlen, "cannot list the topology's GPUs");
    if (n == 0) {
        ng_accel_list_free(v, n);
        return ng_err(err, errlen, "%s has no GPUs", ng_topo_source(t));
    }
    /* Does every GPU's node match a package? Then plain sockets will do. */
    int aligned = 1;
    for (int i = 0; i < n; i++) {
        if (v[i].locality != NG_LOC_KNOWN || hwloc_bitmap_iszero(v[i].nodes))
            continue;
        hwloc_bitmap_t c = hwloc_bitmap_alloc();
        hwloc_bitmap_t pk = hwloc_bitmap_alloc();
        gpu_cpus(t, &v[i], c, pk);
        if (!hwloc_bitmap_isequal(pk, c))
            aligned = 0;
        hwloc_bitmap_free(c);
        hwloc_bitmap_free(pk);
    }
    int numa_sockets = !aligned && !per_package;
    ng_buf b = { 0 };
    ng_buf_add(&b, "# gres.conf for %s, written by numa-gpu gres-conf\n", ng_topo_source(t));
    if (numa_sockets)
        ng_buf_add(&b, "# NUMA nodes with GPUs are smaller than a package: these Cores= need\n"
                   "#   SlurmdParameters=numa_node_as_socket\n"
                   "# in slurm.conf (Slurm 23.02+ refuses Cores= that cross socket boundaries;\n"
                   "# it numbers cores NUMA node by node then). Without it use --per-package.\n");
    else if (!aligned)
        ng_buf_add(&b, "# Cores= are whole packages (--per-package): accepted without\n"
                   "# numa_node_as_socket, but coarser than the GPUs' NUMA nodes.\n");
    ng_buf_add(&b, "AutoDetect=off\n");
    int nv = 0;
    for (int i = 0; i < n; i++) {
        char file[64], cores[512], nodes[64];
        device_file(&v[i], nv, file, sizeof(file));
        if (!strcmp(v[i].vendor, "NVIDIA"))
            nv++;
        if (v[i].locality != NG_LOC_KNOWN || hwloc_bitmap_iszero(v[i].nodes)) {
            ng_buf_add(&b, "# %s: firmware gives no NUMA locality; no Cores=\n", v[i].busid);
            ng_buf_add(&b, "%sName=gpu File=%s\n", file[0] ? "" : "# ",
                       file[0] ? file : "<device file>");
            continue;
        }
        hwloc_bitmap_t c = hwloc_bitmap_alloc(), idx = hwloc_bitmap_alloc();
        hwloc_bitmap_t pk = hwloc_bitmap_alloc();
        gpu_cpus(t, &v[i], c, pk);
        if (!numa_sockets && !hwloc_bitmap_iszero(pk))   /* widen to whole packages */
            hwloc_bitmap_copy(c, pk);
        hwloc_bitmap_free(pk);
        core_indexes(h, c, numa_sockets, idx);
        ng_list_str(idx, cores, sizeof(cores));
        ng_list_str(v[i].nodes, nodes, sizeof(nodes));
        ng_buf_add(&b, "# %s (%s) on NUMA node %s%s\n", v[i].busid, v[i].vendor, nodes,
                   file[0] && !strncmp(file, "/dev/nvidia", 11)
                   ? "; check its minor: nvidia-smi -q | grep -e Bus -e Minor" : "");
        ng_buf_add(&b, "%sName=gpu File=%s Cores=%s\n", file[0] ? "" : "# ",
                   file[0] ? file : "<device file>", cores);
        hwloc_bitmap_free(c);
        hwloc_bitmap_free(idx);
    }
    ng_accel_list_free(v, n);
    *text = ng_buf_take(&b);
    return *text ? 0 : ng_err(err, errlen, "out of memory");
}
