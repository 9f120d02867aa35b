/* Topology: load/save with hwloc, allowed sets, the CPUs each NUMA node
 * owns, memory tiers and NUMA distances. PCI devices live in accel.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "private/gpumap.h"
#include "private/util.h"
#include "private/xmlcheck.h"

struct ng_topo {
    hwloc_topology_t h;
    char source[4096];
    hwloc_bitmap_t allowed_cpus, allowed_mems;
    hwloc_bitmap_t cpu_nodes;       /* NUMA nodes that own CPUs */
    hwloc_bitmap_t *node_cpus;      /* by NUMA logical index: the CPUs each
                                       CPU node owns, orphans included */
    int nnodes;
    struct hwloc_distances_s *dist; /* NUMA latency matrix, may be NULL */
    struct ng_gpu_nodes *gpu_nodes; /* measured locality from the gpu_map */
    int ngpu_nodes;
};

/* A GPU's NUMA nodes as the admin's gpu_map says (numa-gpu calibrate
 * measured them): it replaces what firmware told hwloc. */
struct ng_gpu_nodes {
    char busid[NG_BUSID_LEN];
    hwloc_bitmap_t nodes;
};

/* hwloc 2 gives every NUMA node its parent's cpuset, so an HBM/MCDRAM/CXL
 * node attached beside a DDR node looks as if it had CPUs. As in Linux,
 * each CPU belongs to one node: a node whose cpuset contains another node's
 * (or equals it with a lower OS index, the DDR node that firmware lists
 * first) is memory-only. */
static void find_cpu_nodes(ng_topo *t)
{
    t->cpu_nodes = hwloc_bitmap_alloc();
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, n))) {
        if (hwloc_bitmap_iszero(n->cpuset))
            continue;
        int owns = 1;
        hwloc_obj_t m = NULL;
        while (owns && (m = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, m))) {
            if (m == n || hwloc_bitmap_iszero(m->cpuset) ||
                !hwloc_bitmap_isincluded(m->cpuset, n->cpuset))
                continue;
            if (!hwloc_bitmap_isequal(m->cpuset, n->cpuset) || m->os_index < n->os_index)
                owns = 0;
        }
        if (owns)
            hwloc_bitmap_set(t->cpu_nodes, n->os_index);
    }
}

/* Depth of the deepest common ancestor of two objects. */
static int common_depth(hwloc_topology_t h, hwloc_obj_t a, hwloc_obj_t b)
{
    hwloc_obj_t c = hwloc_get_common_ancestor_obj(h, a, b);
    return c ? c->depth : -1;
}

/* Each CPU node owns its cpuset. CPUs under no node (the memory-less dies of
 * an AMD 2990WX: half the machine) go to the CPU node nearest in the tree
 * (deepest common ancestor, then the lowest OS index), so they are never
 * left out of a plan. */
static int assign_node_cpus(ng_topo *t)
{
    int nn = hwloc_get_nbobjs_by_type(t->h, HWLOC_OBJ_NUMANODE);
    t->nnodes = nn > 0 ? nn : 0;
    t->node_cpus = calloc((size_t)t->nnodes + 1, sizeof(hwloc_bitmap_t));
    if (!t->node_cpus)
        return -1;
    hwloc_bitmap_t covered = hwloc_bitmap_alloc();
    for (int i = 0; i < t->nnodes; i++) {
        hwloc_obj_t n = hwloc_get_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, (unsigned)i);
        t->node_cpus[i] = hwloc_bitmap_alloc();
        if (n && n->cpuset && hwloc_bitmap_isset(t->cpu_nodes, n->os_index)) {
            hwloc_bitmap_or(t->node_cpus[i], t->node_cpus[i], n->cpuset);
            hwloc_bitmap_or(covered, covered, n->cpuset);
        }
    }
    hwloc_obj_t pu = NULL;
    while ((pu = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_PU, pu))) {
        if (hwloc_bitmap_isset(covered, pu->os_index))
            continue;
        /* the node-less subtree the PU is in (its die), as a whole */
        hwloc_obj_t grp = pu;
        while (grp->parent && grp->parent->cpuset &&
               !hwloc_bitmap_intersects(grp->parent->cpuset, covered))
            grp = grp->parent;
        int glo = hwloc_bitmap_first(grp->cpuset), ghi = hwloc_bitmap_last(grp->cpuset);
        int best = -1, bd = -2, bgap = 0;
        for (int i = 0; i < t->nnodes; i++) {
            hwloc_obj_t n = hwloc_get_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, (unsigned)i);
            if (!n || !hwloc_bitmap_isset(t->cpu_nodes, n->os_index) || !n->cpuset ||
                hwloc_bitmap_iszero(n->cpuset))
                continue;
            int d = common_depth(t->h, pu, n->parent ? n->parent : n);
            /* tie: the node whose CPUs are nearest in index (the next die) */
            int lo = hwloc_bitmap_first(n->cpuset), hi = hwloc_bitmap_last(n->cpuset);
            int gap = glo > hi ? glo - hi : lo > ghi ? lo - ghi : 0;
            if (d > bd || (d == bd && gap < bgap)) {
                bd = d;
                bgap = gap;
                best = i;
            }
        }
        if (best >= 0)
            hwloc_bitmap_set(t->node_cpus[best], pu->os_index);
    }
    hwloc_bitmap_free(covered);
    return 0;
}

hwloc_const_bitmap_t ng_topo_node_cpus(const ng_topo *t, unsigned os)
{
    hwloc_obj_t n = hwloc_get_numanode_obj_by_os_index(t->h, os);
    if (!n || n->logical_index >= (unsigned)t->nnodes)
        return NULL;
    return t->node_cpus[n->logical_index];
}

#define CACHE_MARK "numa-gpu-topology-cache"

/* Written by our own ng_topo_save (the marker is an info of the root object,
 * which hwloc exports right after the Machine tag). */
static int own_cache(const char *path)
{
    char head[8192];
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(head, 1, sizeof(head) - 1, f);
    fclose(f);
    head[n] = '\0';
    return strstr(head, "name=\"" CACHE_MARK "\"") != NULL;
}

/* Every NUMA node and PU has its own OS index, one numa-gpu can hold in its
 * sets (an XML may omit it, which hwloc reads as 2^32-1, or repeat it). */
static int check_indexes(ng_topo *t, char *err, size_t errlen)
{
    static const struct { hwloc_obj_type_t type; const char *name; unsigned max; } k[] = {
        { HWLOC_OBJ_NUMANODE, "NUMA node", NG_MAX_NODES }, { HWLOC_OBJ_PU, "PU", NG_MAX_CPUS } };
    hwloc_bitmap_t seen = hwloc_bitmap_alloc();
    int rc = seen ? 0 : ng_err(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < sizeof(k) / sizeof(k[0]); i++) {
        hwloc_bitmap_zero(seen);
        hwloc_obj_t o = NULL;
        while (rc == 0 && (o = hwloc_get_next_obj_by_type(t->h, k[i].type, o))) {
            if (o->os_index >= k[i].max)
                rc = ng_err(err, errlen, "topology '%s': %s #%u has OS index %s%u; allowed "
                            "0..%u", t->source, k[i].name, o->logical_index,
                            o->os_index == HWLOC_UNKNOWN_INDEX ? "unknown: " : "",
                            o->os_index, k[i].max - 1);
            else if (hwloc_bitmap_isset(seen, o->os_index))
                rc = ng_err(err, errlen, "topology '%s': two %ss have OS index %u; each must "
                            "have its own", t->source, k[i].name, o->os_index);
            else
                hwloc_bitmap_set(seen, o->os_index);
        }
    }
    hwloc_bitmap_free(seen);
    return rc;
}

ng_topo *ng_topo_load(const char *xml_path, char *err, size_t errlen)
{
    ng_topo *t = calloc(1, sizeof(*t));
    if (!t) {
        ng_err(err, errlen, "out of memory");
        return NULL;
    }
    /* hwloc dlopens every plugin (GL, OpenCL, PCI, libxml2) at init: ~2 ms
     * per task launch. An XML load needs none of them, live discovery only
     * the PCI one. Skip the others unless the caller chose a list; restore
     * the environment so a program exec'd later does not inherit ours. */
    /* hwloc's own minimal XML reader is only for files we wrote (save-topology
     * marks them); anything else goes through libxml2, which rejects
     * malformed XML instead of crashing on it. */
    const char *old = getenv("HWLOC_PLUGINS_BLACKLIST");
    char *saved = old ? strdup(old) : NULL;
    if (!old)
        setenv("HWLOC_PLUGINS_BLACKLIST", !xml_path ? "hwloc_gl,hwloc_opencl"
               : own_cache(xml_path) ? "hwloc_gl,hwloc_opencl,hwloc_pci,hwloc_xml_libxml"
               : "hwloc_gl,hwloc_opencl,hwloc_pci", 1);
    int irc = hwloc_topology_init(&t->h);
    if (!old)
        unsetenv("HWLOC_PLUGINS_BLACKLIST");
    free(saved);
    if (irc < 0) {
        free(t);
        ng_err(err, errlen, "hwloc_topology_init failed");
        return NULL;
    }
    hwloc_topology_set_flags(t->h, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    /* Keep every PCI device an XML carries; live, keep the important ones
     * (GPUs, NICs, bridges) so discovery stays fast. */
    hwloc_topology_set_io_types_filter(t->h, xml_path
        ? HWLOC_TYPE_FILTER_KEEP_ALL : HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (xml_path) {
        if (access(xml_path, R_OK) != 0) {
            ng_err(err, errlen, "topology '%s': %s", xml_path, strerror(errno));
            goto fail;
        }
        /* hwloc can crash on a malformed file: one we did not write is
         * read first by hwloc-info in a child (xmlcheck.c) */
        if (!own_cache(xml_path) && ng_xml_check(xml_path, 0, err, errlen) < 0)
            goto fail;
        if (hwloc_topology_set_xml(t->h, xml_path) < 0) {
            ng_err(err, errlen, "topology '%s': not usable as hwloc XML", xml_path);
            goto fail;
        }
    }
    if (hwloc_topology_load(t->h) < 0) {
        ng_err(err, errlen, "topology '%s': hwloc could not load it (%s)",
               xml_path ? xml_path : "live", strerror(errno));
        goto fail;
    }
    snprintf(t->source, sizeof(t->source), "%s", xml_path ? xml_path : "live");
    if (check_indexes(t, err, errlen) < 0)
        goto fail;
    t->allowed_cpus = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t->h));
    t->allowed_mems = hwloc_bitmap_dup(hwloc_topology_get_allowed_nodeset(t->h));
    find_cpu_nodes(t);
    if (hwloc_bitmap_iszero(t->cpu_nodes)) {
        /* No node holds CPUs at all: treat the first node as their home. */
        hwloc_obj_t n0 = hwloc_get_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, 0);
        if (n0)
            hwloc_bitmap_set(t->cpu_nodes, n0->os_index);
    }
    if (assign_node_cpus(t) < 0) {
        ng_err(err, errlen, "out of memory");
        hwloc_bitmap_free(t->cpu_nodes);
        hwloc_bitmap_free(t->allowed_cpus);
        hwloc_bitmap_free(t->allowed_mems);
        goto fail;
    }
    unsigned nr = 1;
    struct hwloc_distances_s *d[1];
    if (hwloc_distances_get_by_type(t->h, HWLOC_OBJ_NUMANODE, &nr, d,
            HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) == 0 && nr == 1)
        t->dist = d[0];
    return t;
fail:
    hwloc_topology_destroy(t->h);
    free(t);
    return NULL;
}

int ng_topo_save(const ng_topo *t, const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    hwloc_obj_t root = hwloc_get_root_obj(t->h);
    if (!hwloc_obj_get_info_by_name(root, CACHE_MARK))
        hwloc_obj_add_info(root, CACHE_MARK, "1");
    if (hwloc_topology_export_xml(t->h, tmp, 0) < 0) {
        unlink(tmp);
        return ng_err(err, errlen, "cannot write topology to '%s': %s", tmp,
                      strerror(errno));
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return ng_err(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path,
                      strerror(e));
    }
    return 0;
}

void ng_topo_free(ng_topo *t)
{
    if (!t)
        return;
    if (t->dist)
        hwloc_distances_release(t->h, t->dist);
    hwloc_bitmap_free(t->allowed_cpus);
    hwloc_bitmap_free(t->allowed_mems);
    hwloc_bitmap_free(t->cpu_nodes);
    ng_topo_gpu_nodes_clear(t);
    for (int i = 0; t->node_cpus && i < t->nnodes; i++)
        hwloc_bitmap_free(t->node_cpus[i]);
    free(t->node_cpus);
    hwloc_topology_destroy(t->h);
    free(t);
}

void ng_topo_gpu_nodes_clear(ng_topo *t)
{
    for (int i = 0; i < t->ngpu_nodes; i++)
        hwloc_bitmap_free(t->gpu_nodes[i].nodes);
    free(t->gpu_nodes);
    t->gpu_nodes = NULL;
    t->ngpu_nodes = 0;
}

int ng_topo_gpu_nodes_set(ng_topo *t, const char *busid, hwloc_const_bitmap_t nodes)
{
    for (int i = 0; i < t->ngpu_nodes; i++)
        if (!strcmp(t->gpu_nodes[i].busid, busid))
            return hwloc_bitmap_copy(t->gpu_nodes[i].nodes, nodes);
    struct ng_gpu_nodes *v = realloc(t->gpu_nodes, (size_t)(t->ngpu_nodes + 1) * sizeof(*v));
    if (!v)
        return -1;
    t->gpu_nodes = v;
    snprintf(v[t->ngpu_nodes].busid, NG_BUSID_LEN, "%s", busid);
    if (!(v[t->ngpu_nodes].nodes = hwloc_bitmap_dup(nodes)))
        return -1;
    t->ngpu_nodes++;
    return 0;
}

hwloc_const_bitmap_t ng_topo_gpu_nodes(const ng_topo *t, const char *busid)
{
    for (int i = 0; i < t->ngpu_nodes; i++)
        if (!strcmp(t->gpu_nodes[i].busid, busid))
            return t->gpu_nodes[i].nodes;
    return NULL;
}

hwloc_topology_t ng_topo_hwloc(const ng_topo *t) { return t->h; }
const char *ng_topo_source(const ng_topo *t) { return t->source; }
hwloc_const_bitmap_t ng_topo_allowed_cpus(const ng_topo *t) { return t->allowed_cpus; }
hwloc_const_bitmap_t ng_topo_allowed_mems(const ng_topo *t) { return t->allowed_mems; }

hwloc_const_bitmap_t ng_topo_cpu_nodes(const ng_topo *t) { return t->cpu_nodes; }

int ng_topo_cpu_node_count(const ng_topo *t)
{
    return hwloc_bitmap_weight(t->cpu_nodes);
}

unsigned ng_topo_node_distance(const ng_topo *t, unsigned a, unsigned b)
{
    if (a == b)
        return 10;
    hwloc_obj_t na = hwloc_get_numanode_obj_by_os_index(t->h, a);
    hwloc_obj_t nb = hwloc_get_numanode_obj_by_os_index(t->h, b);
    if (!na || !nb)
        return 1000000;
    if (t->dist) {
        hwloc_uint64_t ab, ba;
        if (hwloc_distances_obj_pair_values(t->dist, na, nb, &ab, &ba) == 0)
            return (unsigned)ab;
    }
    /* No matrix: nodes under a deeper common ancestor are closer. */
    hwloc_obj_t anc = hwloc_get_common_ancestor_obj(t->h, na->parent, nb->parent);
    int depth = hwloc_topology_get_depth(t->h);
    return 10 + 10u * (unsigned)(depth - (anc ? anc->depth : 0));
}

int ng_topo_cores_to_pus(const ng_topo *t, hwloc_const_bitmap_t cores, hwloc_bitmap_t pus)
{
    hwloc_obj_type_t ut = hwloc_get_type_depth(t->h, HWLOC_OBJ_CORE) >= 0
        ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int n = hwloc_get_nbobjs_by_type(t->h, ut), i, missing = 0;
    hwloc_bitmap_zero(pus);
    hwloc_bitmap_foreach_begin(i, cores) {
        if (i >= n) {
            missing++;
            continue;
        }
        hwloc_bitmap_or(pus, pus, hwloc_get_obj_by_type(t->h, ut, (unsigned)i)->cpuset);
    } hwloc_bitmap_foreach_end();
    return missing ? -1 : 0;
}

/* Memory tier of a NUMA node. hwloc's subtype wins where firmware gave one;
 * otherwise a memory-only node beside a CPU node under the same parent is
 * on-package memory (KNL MCDRAM, Xeon Max HBM in flat mode) and one alone
 * is a far expander (CXL-like). */
const char *ng_topo_node_tier(const ng_topo *t, unsigned os, int *heuristic)
{
    hwloc_obj_t n = hwloc_get_numanode_obj_by_os_index(t->h, os);
    if (heuristic)
        *heuristic = 0;
    if (!n)
        return "none";
    if (hwloc_bitmap_isset(t->cpu_nodes, os))
        return "dram";
    if (n->subtype) {
        if (!strcasecmp(n->subtype, "HBM") || !strcasecmp(n->subtype, "MCDRAM"))
            return "hbm";
        if (!strcasecmp(n->subtype, "GPUMemory"))
            return "gpu";
        if (!strncasecmp(n->subtype, "CXL", 3))
            return "cxl";
        return "nvm";
    }
    if (heuristic)
        *heuristic = 1;
    for (hwloc_obj_t m = n->parent ? n->parent->memory_first_child : NULL; m; m = m->next_sibling)
        if (m != n && hwloc_bitmap_isset(t->cpu_nodes, m->os_index))
            return "hbm";
    return "cxl";
}

int ng_topo_nearest_memory_only(const ng_topo *t, hwloc_const_bitmap_t from,
                                hwloc_const_bitmap_t allowed, const char *tier)
{
    int best = -1;
    unsigned bd = ~0u;
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, n))) {
        if (hwloc_bitmap_isset(t->cpu_nodes, n->os_index) ||
            (allowed && !hwloc_bitmap_isset(allowed, n->os_index)) ||
            (tier && strcmp(ng_topo_node_tier(t, n->os_index, NULL), tier) != 0))
            continue;
        int i;
        hwloc_bitmap_foreach_begin(i, from) {
            unsigned d = ng_topo_node_distance(t, (unsigned)i, n->os_index);
            if (d < bd) {
                bd = d;
                best = (int)n->os_index;
            }
        } hwloc_bitmap_foreach_end();
    }
    return best;
}
