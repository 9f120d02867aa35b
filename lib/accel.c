/* Accelerators: the GPU-like PCI devices of a topology and the NUMA
 * locality of any PCI device. Builds on topo.c (the tree) and pci.c (bus
 * ids); gpu.c builds on this. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/accel.h"
#include "private/gpumap.h"
#include "private/util.h"

static const char *vendor_name(unsigned v)
{
    switch (v) {
    case 0x10de: return "NVIDIA";
    case 0x1002: case 0x1022: return "AMD";
    case 0x8086: return "Intel";
    default: return "other";
    }
}

static int busid_cmp(const void *a, const void *b)
{
    return strcmp(((const ng_accel *)a)->busid, ((const ng_accel *)b)->busid);
}

/* Names of the OS devices hwloc attached (cuda0, nvml0, rsmi1, card0...). */
static void collect_osdevs(hwloc_obj_t pci, char *out, size_t len)
{
    out[0] = '\0';
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling) {
        if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name)
            continue;
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? "," : "", c->name);
    }
}

/* Locality is the nearest non-I/O ancestor. Hanging off the whole machine
 * of a multi-node box means firmware gave no locality. */
static void firmware_locality(const ng_topo *t, hwloc_obj_t pci, ng_accel *a)
{
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(ng_topo_hwloc(t), pci);
    hwloc_obj_t root = hwloc_get_root_obj(ng_topo_hwloc(t));
    if (!anc || (hwloc_bitmap_isequal(anc->nodeset, root->nodeset) &&
                 hwloc_bitmap_weight(root->nodeset) > 1)) {
        a->locality = NG_LOC_UNKNOWN;
        return;
    }
    a->locality = NG_LOC_KNOWN;
    hwloc_bitmap_copy(a->nodes, anc->nodeset);
    hwloc_bitmap_copy(a->near_cpus, anc->cpuset);
}

static void fill_accel(const ng_topo *t, hwloc_obj_t pci, ng_accel *a)
{
    memset(a, 0, sizeof(*a));
    struct hwloc_pcidev_attr_s *p = &pci->attr->pcidev;
    snprintf(a->busid, sizeof(a->busid), "%04x:%02x:%02x.%01x",
             (unsigned)p->domain & 0xffff, p->bus, p->dev, p->func);
    a->vendor_id = p->vendor_id;
    a->device_id = p->device_id;
    a->class_id = p->class_id;
    a->vendor = vendor_name(p->vendor_id);
    collect_osdevs(pci, a->osdevs, sizeof(a->osdevs));
    a->nodes = hwloc_bitmap_alloc();
    a->near_cpus = hwloc_bitmap_alloc();
    firmware_locality(t, pci, a);
    /* The admin's measured locality (gpu_map) wins; where it names the
     * firmware's nodes, the finer near_cpus (an L3) stay. */
    hwloc_const_bitmap_t m = ng_topo_gpu_nodes(t, a->busid);
    if (!m || (a->locality == NG_LOC_KNOWN && hwloc_bitmap_isequal(m, a->nodes)))
        return;
    a->locality = NG_LOC_KNOWN;
    hwloc_bitmap_copy(a->nodes, m);
    ng_accel_node_cpus(t, a, a->near_cpus);
}

void ng_accel_clear(ng_accel *a)
{
    if (!a)
        return;
    hwloc_bitmap_free(a->nodes);
    hwloc_bitmap_free(a->near_cpus);
    a->nodes = a->near_cpus = NULL;
}

void ng_accel_list_free(ng_accel *a, int n)
{
    for (int i = 0; i < n; i++)
        ng_accel_clear(&a[i]);
    free(a);
}

int ng_accel_lookup(const ng_topo *t, const char *busid, ng_accel *out,
                    char *err, size_t errlen)
{
    char norm[NG_BUSID_LEN];
    unsigned dom, bus, dev, fn;
    if (ng_busid_parse(busid, norm) < 0 ||
        sscanf(norm, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
        return ng_err(err, errlen, "'%s' is not a PCI bus id "
                      "(expected [domain:]bus:device.function, e.g. 0000:5f:00.0)",
                      busid);
    hwloc_obj_t pci = hwloc_get_pcidev_by_busid(ng_topo_hwloc(t), dom, bus, dev, fn);
    /* A PCI bridge (a switch or root port) has a bus id too; its attributes
     * start with the same PCI ones. */
    for (hwloc_obj_t br = NULL; !pci && (br = hwloc_get_next_bridge(ng_topo_hwloc(t), br));) {
        struct hwloc_pcidev_attr_s *u = &br->attr->bridge.upstream.pci;
        if (br->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI && u->domain == dom &&
            u->bus == bus && u->dev == dev && u->func == fn)
            pci = br;
    }
    if (!pci)
        return ng_err(err, errlen, "PCI device %s is not in the topology (%s)",
                      norm, ng_topo_source(t));
    fill_accel(t, pci, out);
    return 0;
}

static int is_runtime_osdev(const char *name)
{
    static const char *pfx[] = { "cuda", "nvml", "rsmi", "opencl", "ze" };
    for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
        if (strncmp(name, pfx[i], strlen(pfx[i])) == 0)
            return 1;
    return 0;
}

static int is_accelerator(hwloc_obj_t pci)
{
    unsigned base = pci->attr->pcidev.class_id >> 8;
    const char *v = vendor_name(pci->attr->pcidev.vendor_id);
    /* Display (0x03) and processing-accelerator (0x12) classes from a GPU
     * vendor; a BMC's VGA (ASPEED, Matrox) is not one. */
    if ((base == 0x03 || base == 0x12) && strcmp(v, "other") != 0)
        return 1;
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling)
        if (c->type == HWLOC_OBJ_OS_DEVICE && c->name && is_runtime_osdev(c->name))
            return 1;
    return 0;
}

int ng_accel_list(const ng_topo *t, ng_accel **out, int *n)
{
    int cap = 0, cnt = 0;
    ng_accel *v = NULL;
    hwloc_obj_t pci = NULL;
    while ((pci = hwloc_get_next_pcidev(ng_topo_hwloc(t), pci))) {
        if (!is_accelerator(pci))
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            ng_accel *nv = realloc(v, (size_t)cap * sizeof(*v));
            if (!nv) {
                ng_accel_list_free(v, cnt);
                return -1;
            }
            v = nv;
        }
        fill_accel(t, pci, &v[cnt++]);
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof(*v), busid_cmp);
    *out = v;
    *n = cnt;
    return 0;
}

void ng_accel_node_cpus(const ng_topo *t, const ng_accel *a, hwloc_bitmap_t cpus)
{
    unsigned node;
    hwloc_bitmap_zero(cpus);
    hwloc_bitmap_foreach_begin(node, a->nodes) {
        hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(ng_topo_hwloc(t), node);
        if (o && o->cpuset)
            hwloc_bitmap_or(cpus, cpus, o->cpuset);
    } hwloc_bitmap_foreach_end();
}
