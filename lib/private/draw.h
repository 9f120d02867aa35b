/* A picture of a plan drawn by hwloc's own renderer, lstopo: the library
 * writes a copy of the topology whose objects carry lstopo's per-object
 * styles ("lstopoStyle" infos) and legend lines ("lstopoLegend" infos on
 * the root), and lstopo draws that copy (lib/draw.c styles it, lib/lstopo.c
 * runs lstopo).
 *
 * What the picture shows:
 *   - each rank's PUs filled with its colour (ng_draw_colour);
 *   - its GPUs and nearest NICs: a box "GPU of rank R" / "NIC of rank R"
 *     in its colour inside the device (the device box itself takes the
 *     colour when one rank alone uses it); its memory node(s): a box
 *     "memory of rank R" inside the NUMA node;
 *   - a rank that is remote, partial, of unknown locality, overcommitted or
 *     refused (strict): every Core holding its PUs in NG_DRAW_ALERT (a red
 *     frame around its PUs, whose fill keeps the rank's colour) and a red
 *     box at each of its GPUs naming the problem;
 *   - PUs and NUMA nodes outside the plan's allowed sets in
 *     NG_DRAW_DENIED, PUs the admin's core policy kept free in
 *     NG_DRAW_RESERVED;
 *   - a legend: one swatch per rank, and text lines naming each rank's
 *     colour, verdict, GPUs, nodes, cpus, memory and NICs.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_DRAW_H
#define NG_PRIVATE_DRAW_H
#include <stddef.h>
#include "numagpu.h"

typedef enum { NG_DRAW_SVG = 0, NG_DRAW_PNG } ng_draw_format;
#define NG_DRAW_FORMAT_NAMES "svg|png"
int ng_draw_format_parse(const char *s, ng_draw_format *out);   /* "svg", "png" */
const char *ng_draw_format_name(ng_draw_format f);

/* Distinct rank colours; rank R and R + NG_DRAW_PALETTE share one (the
 * legend says so when that happens). */
#define NG_DRAW_PALETTE 16
const char *ng_draw_colour(int rank);          /* "#rrggbb" */
#define NG_DRAW_ALERT    "#ff0000"   /* never a rank's colour */
#define NG_DRAW_DENIED   "#505050"
#define NG_DRAW_RESERVED "#909090"

/* A rank the picture flags: remote, partial, unknown, overcommit, or
 * refused by strict mode. */
int ng_draw_flagged(const ng_plan *p, int r);

/* The styled copy of t's tree with p drawn on it, as hwloc XML: malloc'ed
 * text in *xml (*len bytes). title heads the legend (NULL: the topology's
 * source). -1 with a message on failure. */
int ng_draw_xml(const ng_topo *t, const ng_plan *p, const char *title, char **xml,
                size_t *len, char *err, size_t errlen);

/* The lstopo that draws format f: NG_LSTOPO_NO_GRAPHICS (SVG, in hwloc-nox
 * and hwloc) or NG_LSTOPO (PNG: the cairo build, in Debian's hwloc and
 * RHEL's hwloc-gui), both set at build time; $NUMA_GPU_LSTOPO_NO_GRAPHICS
 * and $NUMA_GPU_LSTOPO override them (absolute paths only; ignored in
 * setuid programs). */
const char *ng_draw_program(ng_draw_format f);

/* Default deadline of one drawing; a hung lstopo is killed at it. */
#define NG_DRAW_TIMEOUT_MS 10000

/* lstopo draws xml (fed on its stdin) as format f onto out_fd (its
 * stdout). -1 with a message naming the program and why (missing, no PNG
 * support, killed at the deadline, its own error). */
int ng_draw_render(const char *xml, size_t len, ng_draw_format f, int out_fd, int timeout_ms,
                   char *err, size_t errlen);

/* ng_draw_xml + ng_draw_render into path, atomically (a temporary file
 * beside it, renamed when complete). */
int ng_draw_file(const ng_topo *t, const ng_plan *p, const char *title, ng_draw_format f,
                 const char *path, int timeout_ms, char *err, size_t errlen);

/* For the plugin (root, before the tasks fork): open dir/name for the
 * picture, dir being audit_dir (root's, not group/world-writable, as for
 * audit records), never through a symlink, truncated; an O_CLOEXEC fd that
 * the explaining task draws onto. Name: no '/', no leading '.'. */
int ng_draw_open_in(const char *dir, const char *name, char *err, size_t errlen);
/* Close it; a picture left empty (the task never drew) is removed. */
void ng_draw_close_in(const char *dir, const char *name, int fd);

#endif
