/* Network devices and how near each is to a rank's GPUs: the same PCI
 * switch, the same NUMA node, the same package, or farther. Communication
 * libraries (UCX, NCCL, Cray MPICH) then use the NIC next to the GPU whose
 * buffers they move. Builds on topo.c and accel.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/util.h"

static int busid_cmp(const void *a, const void *b)
{
    return strcmp(((const ng_nic *)a)->busid, ((const ng_nic *)b)->busid);
}

/* The lowest active port of an OpenFabrics device (hwloc's "PortNState"
 * info, 4 = ACTIVE); the lowest port it lists when none is active; 1 when
 * it lists none. */
static int active_port(hwloc_obj_t os)
{
    int first = 0;
    for (unsigned i = 0; i < os->infos_count; i++) {
        const char *n = os->infos[i].name, *v = os->infos[i].value;
        int port;
        char rest[16];
        if (!n || !v || sscanf(n, "Port%d%15s", &port, rest) != 2 || strcmp(rest, "State") ||
            port < 1 || port > 255)
            continue;
        if (!strcmp(v, "4") && (!first || port < first || first < 0))
            first = -port;   /* negative: an active one */
        else if (!first)
            first = port;
    }
    return first < 0 ? -first : first ? first : 1;
}

/* Fill v[i] from a PCI device with network OS devices; 0 when it has none. */
static int fill_nic(const ng_topo *t, hwloc_obj_t pci, ng_nic *v)
{
    hwloc_obj_t fabric = NULL, net = NULL;
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling) {
        if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name || strlen(c->name) >= sizeof(v->name))
            continue;
        if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS && !fabric)
            fabric = c;
        else if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK && !net)
            net = c;
    }
    if (!fabric && !net)
        return 0;
    memset(v, 0, sizeof(*v));
    struct hwloc_pcidev_attr_s *p = &pci->attr->pcidev;
    snprintf(v->busid, sizeof(v->busid), "%04x:%02x:%02x.%01x", (unsigned)p->domain & 0xffff,
             p->bus, p->dev, p->func);
    snprintf(v->name, sizeof(v->name), "%s", fabric ? fabric->name : net->name);
    snprintf(v->netdev, sizeof(v->netdev), "%s", net ? net->name : "");
    v->kind = fabric ? NG_NIC_RDMA : NG_NIC_ETHERNET;
    v->port = fabric ? active_port(fabric) : 0;
    v->linkspeed = p->linkspeed;
    v->nodes = hwloc_bitmap_alloc();
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(ng_topo_hwloc(t), pci);
    hwloc_obj_t root = hwloc_get_root_obj(ng_topo_hwloc(t));
    if (anc && v->nodes && !(hwloc_bitmap_isequal(anc->nodeset, root->nodeset) &&
                             hwloc_bitmap_weight(root->nodeset) > 1))
        hwloc_bitmap_copy(v->nodes, anc->nodeset);
    return 1;
}

int ng_nic_list(const ng_topo *t, ng_nic **out, int *n)
{
    hwloc_obj_t pci = NULL;
    ng_nic *v = NULL;
    int cnt = 0, cap = 0;
    *out = NULL;
    *n = 0;
    while ((pci = hwloc_get_next_pcidev(ng_topo_hwloc(t), pci))) {
        if (cnt == cap) {
            ng_nic *nv = realloc(v, (size_t)(cap = cap ? 2 * cap : 8) * sizeof(*v));
            if (!nv) {
                ng_nic_list_free(v, cnt);
                return -1;
            }
            v = nv;
        }
        cnt += fill_nic(t, pci, &v[cnt]);
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof(*v), busid_cmp);
    *out = v;
    *n = cnt;
    return 0;
}

void ng_nic_list_free(ng_nic *v, int n)
{
    for (int i = 0; v && i < n; i++)
        hwloc_bitmap_free(v[i].nodes);
    free(v);
}

const char *ng_nearness_name(ng_nearness d)
{
    switch (d) {
    case NG_NEAR_SWITCH: return "pci-switch";
    case NG_NEAR_NODE: return "numa-node";
    case NG_NEAR_PACKAGE: return "package";
    default: return "far";
    }
}

static hwloc_obj_t pcidev(const ng_topo *t, const char *busid)
{
    unsigned dom, bus, dev, fn;
    if (sscanf(busid, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
        return NULL;
    return hwloc_get_pcidev_by_busid(ng_topo_hwloc(t), dom, bus, dev, fn);
}

/* The packages the nodes belong to. */
static void packages_of(const ng_topo *t, hwloc_const_bitmap_t nodes, hwloc_bitmap_t pkgs)
{
    hwloc_topology_t h = ng_topo_hwloc(t);
    unsigned node;
    hwloc_bitmap_zero(pkgs);
    hwloc_bitmap_foreach_begin(node, nodes) {
        hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(h, node);
        hwloc_obj_t p = o ? hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, o) : NULL;
        if (p)
            hwloc_bitmap_set(pkgs, p->logical_index);
    } hwloc_bitmap_foreach_end();
}

/* Nearness of a NIC to a set of NUMA nodes (a GPU's, or a rank's home). */
static ng_nearness near_nodes(const ng_topo *t, const ng_nic *nic, hwloc_const_bitmap_t nodes)
{
    if (hwloc_bitmap_iszero(nic->nodes) || hwloc_bitmap_iszero(nodes))
        return NG_NEAR_FAR;
    if (hwloc_bitmap_intersects(nic->nodes, nodes))
        return NG_NEAR_NODE;
    hwloc_bitmap_t a = hwloc_bitmap_alloc(), b = hwloc_bitmap_alloc();
    packages_of(t, nic->nodes, a);
    packages_of(t, nodes, b);
    int same = !hwloc_bitmap_iszero(a) && hwloc_bitmap_intersects(a, b);
    hwloc_bitmap_free(a);
    hwloc_bitmap_free(b);
    return same ? NG_NEAR_PACKAGE : NG_NEAR_FAR;
}

/* Nearness of a NIC to a GPU: a PCI-to-PCI bridge (switch) above both is
 * nearest; then the GPU's NUMA nodes, then its package. */
static ng_nearness near_gpu(const ng_topo *t, const ng_nic *nic, const ng_accel *g)
{
    hwloc_obj_t a = pcidev(t, g->busid), b = pcidev(t, nic->busid);
    /* The lowest common ancestor by parent links (hwloc's helper is for
     * normal objects, not I/O ones). */
    for (hwloc_obj_t x = a ? a->parent : NULL; x && b; x = x->parent) {
        hwloc_obj_t y = b->parent;
        while (y && y != x)
            y = y->parent;
        if (!y)
            continue;
        if (x->type == HWLOC_OBJ_BRIDGE && x->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI)
            return NG_NEAR_SWITCH;
        break;
    }
    return g->locality == NG_LOC_KNOWN ? near_nodes(t, nic, g->nodes) : NG_NEAR_FAR;
}

/* NUMA distance from the nodes from to a NIC's nearest node; NICs without
 * locality (and ranks without nodes) last. */
static unsigned far_distance(const ng_topo *t, const ng_nic *nic, hwloc_const_bitmap_t from)
{
    unsigned best = ~0u - 1;
    int a, b;
    hwloc_bitmap_foreach_begin(a, nic->nodes) {
        hwloc_bitmap_foreach_begin(b, from) {
            unsigned d = ng_topo_node_distance(t, (unsigned)a, (unsigned)b);
            best = d < best ? d : best;
        } hwloc_bitmap_foreach_end();
    } hwloc_bitmap_foreach_end();
    return best;
}

typedef struct { ng_rank_nic r; const char *busid; } cand;

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->r.near != b->r.near)
        return (int)a->r.near - (int)b->r.near;
    return strcmp(a->busid, b->busid);
}

int ng_nics_near(const ng_topo *t, const ng_nic *nics, int nnics, const ng_accel *gpus,
                 int ngpus, hwloc_const_bitmap_t home, ng_rank_nic **out, int *n)
{
    *out = NULL;
    *n = 0;
    /* RDMA devices when the machine has any: a management Ethernet port
     * next to the GPU must not win over the fabric one socket away. */
    int rdma = 0;
    float fastest = 0;
    for (int i = 0; i < nnics; i++) {
        rdma |= nics[i].kind == NG_NIC_RDMA;
        if (nics[i].kind == NG_NIC_ETHERNET && nics[i].linkspeed > fastest)
            fastest = nics[i].linkspeed;
    }
    cand *c = nnics > 0 ? calloc((size_t)nnics, sizeof(*c)) : NULL;
    int *far = nnics > 0 ? calloc((size_t)nnics, sizeof(int)) : NULL;
    if (nnics > 0 && (!c || !far)) {
        free(c);
        free(far);
        return -1;
    }
    /* The nodes the rank is measured from: its GPUs' (known ones), else
     * its home. */
    hwloc_bitmap_t from = hwloc_bitmap_alloc();
    for (int g = 0; g < ngpus; g++)
        if (gpus[g].locality == NG_LOC_KNOWN)
            hwloc_bitmap_or(from, from, gpus[g].nodes);
    if (hwloc_bitmap_iszero(from) && home)
        hwloc_bitmap_copy(from, home);
    /* Far NICs (beyond the package) count only when nothing nearer exists:
     * then the nearest of them by NUMA distance (an AWS g4dn.metal's one
     * EFA for the GPUs of the other socket), rather than none and TCP. */
    unsigned far_best = ~0u;
    int k = 0, nfar = 0;
    for (int i = 0; i < nnics; i++) {
        if (rdma && nics[i].kind != NG_NIC_RDMA)
            continue;
        if (!rdma && nics[i].linkspeed > 0 && nics[i].linkspeed < fastest / 2)
            continue;
        ng_nearness best = NG_NEAR_FAR;
        for (int g = 0; g < ngpus; g++) {
            ng_nearness d = near_gpu(t, &nics[i], &gpus[g]);
            best = d < best ? d : best;
        }
        if (ngpus == 0 && home)
            best = near_nodes(t, &nics[i], home);
        if (best == NG_NEAR_FAR) {
            unsigned d = far_distance(t, &nics[i], from);
            if (d < far_best) {
                far_best = d;
                nfar = 0;
            }
            if (d == far_best)
                far[nfar++] = i;
            continue;
        }
        snprintf(c[k].r.name, sizeof(c[k].r.name), "%s", nics[i].name);
        c[k].r.port = nics[i].port;
        c[k].r.kind = nics[i].kind;
        c[k].r.near = best;
        c[k].busid = nics[i].busid;
        k++;
    }
    for (int j = 0; k == 0 && j < nfar; j++) {
        const ng_nic *ni = &nics[far[j]];
        snprintf(c[j].r.name, sizeof(c[j].r.name), "%s", ni->name);
        c[j].r.port = ni->port;
        c[j].r.kind = ni->kind;
        c[j].r.near = NG_NEAR_FAR;
        c[j].busid = ni->busid;
    }
    if (k == 0)
        k = nfar;
    free(far);
    hwloc_bitmap_free(from);
    if (k == 0) {
        free(c);
        return 0;
    }
    qsort(c, (size_t)k, sizeof(*c), cand_cmp);
    ng_rank_nic *v = calloc((size_t)k, sizeof(*v));
    if (!v) {
        free(c);
        return -1;
    }
    for (int i = 0; i < k; i++)
        v[i] = c[i].r;
    free(c);
    *out = v;
    *n = k;
    return 0;
}
