/* A picture of a plan, drawn by lstopo (see private/draw.h for what it
 * shows). The drawing itself is hwloc's: this file only decorates a private
 * copy of the tree with lstopo's documented hooks (hwloc 2.9, lstopo(1)
 * "CUSTOM COLOR": an "lstopoStyle" info "Background=#rrggbb" on any object,
 * "lstopoLegend" infos on the root for legend lines) and Misc objects for
 * labels; lib/lstopo.c runs lstopo on it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/draw.h"
#include "private/util.h"

/* Kelly's colours of maximum contrast, in his order, without white, black,
 * grey and the two reds (red marks a problem). */
static const char *const palette[NG_DRAW_PALETTE] = {
    "#0067a5", "#f38400", "#008856", "#875692", "#f3c300", "#a1caf1", "#e68fac", "#8db600",
    "#604e97", "#c2b280", "#882d17", "#dcd300", "#b3446c", "#654522", "#2b3d26", "#f6a600",
};

const char *ng_draw_colour(int rank)
{
    return palette[(unsigned)rank % NG_DRAW_PALETTE];
}

int ng_draw_format_parse(const char *s, ng_draw_format *out)
{
    if (!strcmp(s, "svg"))
        *out = NG_DRAW_SVG;
    else if (!strcmp(s, "png"))
        *out = NG_DRAW_PNG;
    else
        return -1;
    return 0;
}

const char *ng_draw_format_name(ng_draw_format f)
{
    return f == NG_DRAW_PNG ? "png" : "svg";
}

/* infeasible only says what strict mode would do: refused in strict mode. */
static int refused(const ng_plan *p, const ng_rank_plan *rp)
{
    return rp->infeasible && p->mode == NG_MODE_STRICT;
}

int ng_draw_flagged(const ng_plan *p, int r)
{
    const ng_rank_plan *rp = &p->ranks[r];
    return refused(p, rp) || (rp->verdict != NG_V_LOCAL && rp->verdict != NG_V_NOGPU);
}

/* What the alert box at a flagged rank's GPU says. */
static const char *flag_word(const ng_plan *p, const ng_rank_plan *rp)
{
    if (refused(p, rp))
        return "REFUSED";
    switch (rp->verdict) {
    case NG_V_REMOTE: return "REMOTE";
    case NG_V_PARTIAL: return "PARTIAL";
    case NG_V_UNKNOWN: return "UNKNOWN LOCALITY";
    case NG_V_OVERCOMMIT: return "SHARES CPUS";
    default: return "";
    }
}

/* ------------------------------------------------------- the styled copy */

/* Set (or replace) info name on o: lstopo reads the first one only. */
static void set_info(hwloc_obj_t o, const char *name, const char *value)
{
    for (unsigned i = 0; i < o->infos_count; i++)
        if (!strcmp(o->infos[i].name, name)) {
            char *v = strdup(value);
            if (v) {
                free(o->infos[i].value);   /* hwloc's own strdup */
                o->infos[i].value = v;
            }
            return;
        }
    hwloc_obj_add_info(o, name, value);
}

/* lstopo 2.9 writes text into its SVG unescaped (lstopo-svg.c): legend
 * lines and labels keep to printable ASCII without markup characters. */
static void clean(char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || strchr("<>&", *s))
            *s = '?';
}

/* What a topology file brought must not draw: its own styles and legend
 * lines are renamed away (hwloc 2.9 cannot remove an info), and every text
 * lstopo prints is cleaned. */
static void scrub(hwloc_obj_t o)
{
    if (o->name)
        clean(o->name);
    if (o->subtype)
        clean(o->subtype);
    for (unsigned i = 0; i < o->infos_count; i++) {
        if (!strcmp(o->infos[i].name, "lstopoStyle") ||
            !strcmp(o->infos[i].name, "lstopoLegend")) {
            char *n = strdup("numa-gpu-ignored");
            if (n) {
                free(o->infos[i].name);   /* hwloc's own strdup */
                o->infos[i].name = n;
            }
        }
        clean(o->infos[i].value);
    }
    for (hwloc_obj_t c = o->first_child; c; c = c->next_sibling)
        scrub(c);
    for (hwloc_obj_t c = o->memory_first_child; c; c = c->next_sibling)
        scrub(c);
    for (hwloc_obj_t c = o->io_first_child; c; c = c->next_sibling)
        scrub(c);
    for (hwloc_obj_t c = o->misc_first_child; c; c = c->next_sibling)
        scrub(c);
}

static void paint(hwloc_obj_t o, const char *colour)
{
    char s[64];
    snprintf(s, sizeof(s), "Background=%s", colour);
    set_info(o, "lstopoStyle", s);
}

static void label(hwloc_topology_t d, hwloc_obj_t parent, const char *name, const char *colour)
{
    char text[256];
    size_t n = strnlen(name, sizeof(text) - 1);
    memcpy(text, name, n);
    text[n] = '\0';
    clean(text);
    hwloc_obj_t m = hwloc_topology_insert_misc_object(d, parent, text);
    if (m)
        paint(m, colour);
}

/* A private tree to decorate: t's, re-read from its own XML export with
 * every object type kept (t filters Misc objects out, so labels could not
 * be inserted into a duplicate of it). */
static hwloc_topology_t private_copy(const ng_topo *t, char *err, size_t errlen)
{
    hwloc_topology_t h = ng_topo_hwloc(t), d = NULL;
    char *buf = NULL;
    int blen = 0;
    if (hwloc_topology_export_xmlbuffer(h, &buf, &blen, 0) < 0) {
        ng_err(err, errlen, "picture: cannot export the topology (%s)", strerror(errno));
        return NULL;
    }
    int ok = hwloc_topology_init(&d) == 0;
    if (ok) {
        hwloc_topology_set_flags(d, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
        hwloc_topology_set_all_types_filter(d, HWLOC_TYPE_FILTER_KEEP_ALL);
        ok = hwloc_topology_set_xmlbuffer(d, buf, blen) == 0 && hwloc_topology_load(d) == 0;
    }
    hwloc_free_xmlbuffer(h, buf);
    if (!ok) {
        ng_err(err, errlen, "picture: cannot copy the topology (%s)", strerror(errno));
        if (d)
            hwloc_topology_destroy(d);
        return NULL;
    }
    scrub(hwloc_get_root_obj(d));
    return d;
}

/* "4e:00.0" for domain 0 (as lstopo prints it), the full id otherwise. */
static const char *short_busid(const char *b)
{
    return !strncmp(b, "0000:", 5) ? b + 5 : b;
}

static hwloc_obj_t pci_of(hwloc_obj_t o)
{
    while (o && o->type != HWLOC_OBJ_PCI_DEVICE)
        o = o->parent;
    return o;
}

/* The OS device a NIC of the plan is named after (OpenFabrics name, else
 * network interface). */
static hwloc_obj_t nic_osdev(hwloc_topology_t d, const char *name)
{
    hwloc_obj_t o = NULL;
    while ((o = hwloc_get_next_osdev(d, o)))
        if (o->name && !strcmp(o->name, name))
            return o;
    return NULL;
}

/* A device marked for ranks: the device box takes the colour of a rank
 * that uses it alone; at most NG_DRAW_LABELS boxes inside it. */
#define NG_DRAW_LABELS 8
typedef struct {
    hwloc_obj_t obj;
    int first, ranks, labels;
} marked;

static void mark(hwloc_topology_t d, marked *m, int *nm, int cap, hwloc_obj_t o, int rank,
                 const char *name, const char *colour)
{
    int i = 0;
    while (i < *nm && m[i].obj != o)
        i++;
    if (i == *nm) {
        if (*nm == cap)
            return;
        m[(*nm)++] = (marked){ o, rank, 0, 0 };
    }
    m[i].ranks += m[i].first != rank || !m[i].labels;
    if (m[i].labels < NG_DRAW_LABELS)
        label(d, o, name, colour);
    else if (m[i].labels == NG_DRAW_LABELS)
        label(d, o, "more ranks: see the legend", "#ffffff");
    m[i].labels++;
}

/* What the legend must explain. */
typedef struct {
    int denied, reserved;
} shown;

/* PUs by rank (first rank wins a PU shared by an overcommitted plan);
 * Cores holding a flagged rank's PUs framed; what the plan could not use
 * greyed. The number of Cores each rank holds PUs of goes to cores[r]. */
static void paint_cpus(hwloc_topology_t d, const ng_plan *p, int *cores, shown *sh)
{
    hwloc_bitmap_t held = hwloc_bitmap_alloc();   /* (core, rank) pairs */
    unsigned ncores = (unsigned)hwloc_get_nbobjs_by_type(d, HWLOC_OBJ_CORE);
    hwloc_obj_t pu = NULL;
    while ((pu = hwloc_get_next_obj_by_type(d, HWLOC_OBJ_PU, pu))) {
        hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(d, HWLOC_OBJ_CORE, pu);
        int owner = -1, flag = 0;
        for (int r = 0; r < p->nranks; r++)
            if (hwloc_bitmap_isset(p->ranks[r].cpus, pu->os_index)) {
                if (owner < 0)
                    owner = r;
                flag |= ng_draw_flagged(p, r);
                if (core)
                    hwloc_bitmap_set(held, (unsigned)r * ncores + core->logical_index);
            }
        if (owner >= 0) {
            paint(pu, ng_draw_colour(p->ranks[owner].rank));
            if (core && flag)
                paint(core, NG_DRAW_ALERT);
        } else if (!hwloc_bitmap_isset(p->allowed_cpus, pu->os_index)) {
            paint(pu, NG_DRAW_DENIED);
            sh->denied = 1;
        } else if (p->reserved && hwloc_bitmap_isset(p->reserved, pu->os_index)) {
            paint(pu, NG_DRAW_RESERVED);
            sh->reserved = 1;
        }
    }
    for (int r = 0; r < p->nranks; r++) {
        cores[r] = 0;
        for (unsigned c = 0; c < ncores; c++)
            cores[r] += hwloc_bitmap_isset(held, (unsigned)r * ncores + c);
    }
    hwloc_bitmap_free(held);
}

/* A NUMA node that is the memory of one rank alone takes its colour;
 * one the plan may not use is greyed. */
static void paint_nodes(hwloc_topology_t d, const ng_plan *p, shown *sh)
{
    hwloc_obj_t n = NULL;
    while ((n = hwloc_get_next_obj_by_type(d, HWLOC_OBJ_NUMANODE, n))) {
        int owner = -1, users = 0;
        for (int r = 0; r < p->nranks; r++)
            if (hwloc_bitmap_isset(p->ranks[r].mems, n->os_index) && users++ == 0)
                owner = r;
        if (users == 1)
            paint(n, ng_draw_colour(p->ranks[owner].rank));
        else if (!hwloc_bitmap_isset(p->allowed_mems, n->os_index)) {
            paint(n, NG_DRAW_DENIED);
            sh->denied = 1;
        }
    }
}

/* Each rank's GPUs and nearest NICs get a box "rank R" in its colour; a
 * flagged rank's GPUs also a red box saying what is wrong. */
static void mark_devices(hwloc_topology_t d, const ng_plan *p)
{
    int cap = 1;
    for (int r = 0; r < p->nranks; r++)
        cap += p->ranks[r].ngpus + p->ranks[r].nnics;
    marked *m = calloc((size_t)cap, sizeof(*m));
    int nm = 0;
    char name[96], alert[96];
    for (int r = 0; m && r < p->nranks; r++) {
        const ng_rank_plan *rp = &p->ranks[r];
        const char *c = ng_draw_colour(rp->rank);
        snprintf(name, sizeof(name), "rank %d", rp->rank);
        snprintf(alert, sizeof(alert), "rank %d %s", rp->rank, flag_word(p, rp));
        for (int g = 0; g < rp->ngpus; g++) {
            hwloc_obj_t pci = hwloc_get_pcidev_by_busidstring(d, rp->gpus[g].busid);
            if (!pci)
                continue;
            mark(d, m, &nm, cap, pci, rp->rank, name, c);
            if (ng_draw_flagged(p, r))
                mark(d, m, &nm, cap, pci, rp->rank, alert, NG_DRAW_ALERT);
        }
        for (int i = 0; i < rp->nnics && rp->nics[i].near == rp->nics[0].near; i++) {
            hwloc_obj_t os = nic_osdev(d, rp->nics[i].name), pci = pci_of(os);
            if (pci || os)
                mark(d, m, &nm, cap, pci ? pci : os, rp->rank, name, c);
        }
    }
    for (int i = 0; i < nm; i++)
        if (m[i].ranks == 1)
            paint(m[i].obj, ng_draw_colour(m[i].first));
    free(m);
}

static void legend_line(hwloc_obj_t root, char *line)
{
    clean(line);
    hwloc_obj_add_info(root, "lstopoLegend", line);
}

/* The legend: a swatch per rank (Misc boxes under the root, drawn beside
 * the packages) and text lines under the picture, for the first
 * NG_DRAW_LEGEND_RANKS ranks. */
#define NG_DRAW_LEGEND_RANKS 64
static void legend(hwloc_topology_t d, const ng_topo *t, const ng_plan *p, const char *title,
                   const int *cores, const shown *sh)
{
    hwloc_obj_t root = hwloc_get_root_obj(d);
    char line[2048], nics[512], gpus[256];
    int flagged = 0;
    snprintf(line, sizeof(line), "numa-gpu: %s: mode %s, memory %s, %d rank%s%s%s",
             title ? title : ng_topo_source(t), ng_mode_name(p->mode),
             ng_memopt_name((ng_memopt)p->mem), p->nranks, p->nranks == 1 ? "" : "s",
             p->ok ? "" : "; REFUSED: ", p->ok ? "" : p->error);
    legend_line(root, line);
    for (int r = 0; r < p->nranks; r++)
        flagged |= ng_draw_flagged(p, r);
    for (int r = 0; r < p->nranks && r < NG_DRAW_LEGEND_RANKS; r++) {
        const ng_rank_plan *rp = &p->ranks[r];
        size_t u = 0;
        gpus[0] = '\0';
        for (int g = 0; g < rp->ngpus && u < sizeof(gpus); g++)
            u += (size_t)snprintf(gpus + u, sizeof(gpus) - u, "%s%s", g ? "," : "",
                                  short_busid(rp->gpus[g].busid));
        int flag = ng_draw_flagged(p, r);
        snprintf(line, sizeof(line), "rank %d: %s%s%s%s", rp->rank,
                 flag ? flag_word(p, rp) : ng_verdict_name(rp->verdict),
                 rp->ngpus ? ", GPU " : "", gpus, flag ? " (!)" : "");
        label(d, root, line, ng_draw_colour(rp->rank));
        ng_plan_nic_list(rp, 1, nics, sizeof(nics));
        snprintf(line, sizeof(line), "rank %d %s %s: %s (%d core%s)%s%s", rp->rank,
                 ng_draw_colour(rp->rank), refused(p, rp) ? "refused" :
                 ng_verdict_name(rp->verdict), rp->reason, cores[r], cores[r] == 1 ? "" : "s",
                 nics[0] ? "; NICs " : "", nics);
        legend_line(root, line);
    }
    if (p->nranks > NG_DRAW_LEGEND_RANKS) {
        snprintf(line, sizeof(line), "and %d more ranks: numa-gpu plan --json lists them all",
                 p->nranks - NG_DRAW_LEGEND_RANKS);
        legend_line(root, line);
    }
    if (flagged)
        hwloc_obj_add_info(root, "lstopoLegend", "red frame around a rank's cores, red box at "
                           "its GPU: remote, partial, unknown locality, shared cpus or refused");
    if (sh->denied)
        hwloc_obj_add_info(root, "lstopoLegend", "dark grey: cpus or memory not allowed to "
                           "this step");
    if (sh->reserved)
        hwloc_obj_add_info(root, "lstopoLegend", "grey: cpus the core policy keeps free");
    if (p->nranks > NG_DRAW_PALETTE) {
        snprintf(line, sizeof(line), "colours repeat every %d ranks: rank R and R+%d share one",
                 NG_DRAW_PALETTE, NG_DRAW_PALETTE);
        legend_line(root, line);
    }
}

int ng_draw_xml(const ng_topo *t, const ng_plan *p, const char *title, char **xml,
                size_t *len, char *err, size_t errlen)
{
    *xml = NULL;
    *len = 0;
    hwloc_topology_t d = private_copy(t, err, errlen);
    if (!d)
        return -1;
    int *cores = calloc((size_t)p->nranks + 1, sizeof(int));
    if (!cores) {
        hwloc_topology_destroy(d);
        return ng_err(err, errlen, "picture: out of memory");
    }
    shown sh = { 0, 0 };
    paint_cpus(d, p, cores, &sh);
    paint_nodes(d, p, &sh);
    mark_devices(d, p);
    legend(d, t, p, title, cores, &sh);
    free(cores);
    char *buf = NULL;
    int blen = 0;
    int rc = hwloc_topology_export_xmlbuffer(d, &buf, &blen, 0);
    if (rc == 0 && blen > 0 && (*xml = malloc((size_t)blen))) {
        memcpy(*xml, buf, (size_t)blen);
        *len = (size_t)blen - 1;   /* blen counts the final NUL */
    }
    if (rc == 0)
        hwloc_free_xmlbuffer(d, buf);
    hwloc_topology_destroy(d);
    if (!*xml)
        return ng_err(err, errlen, "picture: cannot export the styled topology");
    return 0;
}
