/* The picture of a plan (lib/draw.c) and the spawn helper under it
 * (lib/spawn.c): the palette (distinct, never the alert or grey colours,
 * never lstopo's own box colours), the styled XML read back with hwloc (each
 * PU of a rank styled in its colour and no other, flagged ranks' cores red,
 * a "rank R" box at each GPU, the legend lines), lstopo killed at the
 * deadline, a missing program named, and the plugin's picture file: opened
 * only in a directory of ours, never through a symlink, removed when left
 * empty, kept when drawn. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/draw.h"
#include "private/spawn.h"
#include "private/step.h"

static char tmpdir[] = "/tmp/ng-draw.XXXXXX";

static ng_topo *load(const char *name)
{
    char path[4096], err[NG_ERRLEN];
    snprintf(path, sizeof(path), "%s/%s", t_corpus(), name);
    ng_topo *t = ng_topo_load(path, err, sizeof(err));
    if (!t)
        t_fail(__FILE__, __LINE__, "%s", err);
    return t;
}

static int plan_count(ng_topo *t, int n, int k, hwloc_const_bitmap_t cpus, ng_mode m,
                      ng_plan *p)
{
    char err[NG_ERRLEN], warn[NG_ERRLEN];
    ng_roots r = { 0 };
    ng_step st;
    r.offline = 1;
    r.pci_order = 1;
    if (ng_step_from_count(t, &r, n, k, &st, err, sizeof(err)) < 0) {
        t_fail(__FILE__, __LINE__, "step: %s", err);
        return -1;
    }
    int rc = ng_step_plan(t, &st, cpus, NULL, m, NG_MEM_LOCAL, NULL, NULL, p, warn, sizeof(warn),
                          err, sizeof(err));
    ng_step_free(&st);
    if (rc < 0)
        t_fail(__FILE__, __LINE__, "plan: %s", err);
    return rc;
}

/* The styled XML loaded back, Misc objects kept. */
static hwloc_topology_t reload(const char *xml, size_t len)
{
    hwloc_topology_t h;
    hwloc_topology_init(&h);
    hwloc_topology_set_flags(h, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    hwloc_topology_set_all_types_filter(h, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (hwloc_topology_set_xmlbuffer(h, xml, (int)len + 1) < 0 || hwloc_topology_load(h) < 0) {
        hwloc_topology_destroy(h);
        return NULL;
    }
    return h;
}

static int styled(hwloc_obj_t o, const char *colour)
{
    const char *s = hwloc_obj_get_info_by_name(o, "lstopoStyle");
    char want[64];
    snprintf(want, sizeof(want), "Background=%s", colour);
    return s && !strcmp(s, want);
}

/* A Misc child of o named name in colour. */
static int has_label(hwloc_obj_t o, const char *name, const char *colour)
{
    for (hwloc_obj_t m = o->misc_first_child; m; m = m->next_sibling)
        if (m->name && !strcmp(m->name, name) && styled(m, colour))
            return 1;
    return 0;
}

static void palette(void)
{
    t_begin("draw/palette-distinct-and-not-reserved");
    /* lstopo 2.9's own box colours (lstopo-draw.c) and our marks */
    const char *taken[] = { "#ffffff", "#000000", "#bebebe", "#efdfde", "#f2e8e8", "#d2e7a4",
                            "#e7ffb5", "#bfd295", "#dedede", "#00ff00", "#ffff00",
                            NG_DRAW_ALERT, NG_DRAW_DENIED, NG_DRAW_RESERVED };
    for (int i = 0; i < NG_DRAW_PALETTE; i++) {
        const char *c = ng_draw_colour(i);
        CHECK(strlen(c) == 7 && c[0] == '#', "colour %d '%s'", i, c);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(c, ng_draw_colour(j)), "ranks %d and %d share %s", i, j, c);
        for (size_t k = 0; k < sizeof(taken) / sizeof(taken[0]); k++)
            CHECK(strcasecmp(c, taken[k]), "rank %d has the reserved colour %s", i, c);
    }
    CHECK(!strcmp(ng_draw_colour(NG_DRAW_PALETTE), ng_draw_colour(0)), "no cycle");
    ng_draw_format f;
    CHECK(ng_draw_format_parse("svg", &f) == 0 && f == NG_DRAW_SVG &&
          ng_draw_format_parse("png", &f) == 0 && f == NG_DRAW_PNG &&
          ng_draw_format_parse("pdf", &f) < 0 && ng_draw_format_parse("", &f) < 0,
          "format names");
    t_end();
}

/* Remote ranks on the H100 box: only package 0's CPUs allowed, so the
 * ranks of the GPUs on package 1 run remote. */
static void styled_xml(void)
{
    char err[NG_ERRLEN];
    ng_topo *t = load("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    hwloc_bitmap_t cpus = hwloc_bitmap_alloc();
    ng_list_parse("0-55,112-167", cpus);
    ng_plan p = { 0 };
    char *xml = NULL;
    size_t len = 0;
    hwloc_topology_t h = NULL;
    t_begin("draw/xml-styles-every-pu-of-each-rank");
    if (t && plan_count(t, 4, 1, cpus, NG_MODE_PREFER, &p) == 0) {
        CHECK(ng_draw_xml(t, &p, "unit", &xml, &len, err, sizeof(err)) == 0, "%s", err);
        h = xml ? reload(xml, len) : NULL;
        CHECK(h, "the styled XML does not load");
    }
    int flagged = 0;
    for (int r = 0; h && r < p.nranks; r++) {
        flagged += ng_draw_flagged(&p, r);
        int n = 0;
        hwloc_obj_t pu = NULL;
        while ((pu = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, pu)))
            n += styled(pu, ng_draw_colour(r));
        CHECK(n == hwloc_bitmap_weight(p.ranks[r].cpus), "rank %d: %d PUs styled, %d planned",
              r, n, hwloc_bitmap_weight(p.ranks[r].cpus));
    }
    CHECK(!h || flagged == 2, "%d ranks flagged, 2 are remote", flagged);
    t_end();

    t_begin("draw/xml-frames-cores-of-flagged-ranks-only");
    for (int r = 0; h && r < p.nranks; r++) {
        int want = ng_draw_flagged(&p, r), i = -1;
        while ((i = hwloc_bitmap_next(p.ranks[r].cpus, i)) != -1) {
            hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(h, (unsigned)i);
            hwloc_obj_t core = pu ? hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu) : NULL;
            CHECK(core && styled(core, NG_DRAW_ALERT) == want, "rank %d PU %d: core %s", r, i,
                  want ? "not red" : "red");
        }
    }
    t_end();

    t_begin("draw/xml-labels-gpus-and-legend");
    char name[64];
    for (int r = 0; h && r < p.nranks; r++)
        for (int g = 0; g < p.ranks[r].ngpus; g++) {
            hwloc_obj_t pci = hwloc_get_pcidev_by_busidstring(h, p.ranks[r].gpus[g].busid);
            snprintf(name, sizeof(name), "rank %d", r);
            CHECK(pci && has_label(pci, name, ng_draw_colour(r)) &&
                  styled(pci, ng_draw_colour(r)), "GPU %s of rank %d not marked",
                  p.ranks[r].gpus[g].busid, r);
            snprintf(name, sizeof(name), "rank %d REMOTE", r);
            CHECK(pci && has_label(pci, name, NG_DRAW_ALERT) == ng_draw_flagged(&p, r),
                  "rank %d: red box wrong", r);
        }
    if (h) {
        hwloc_obj_t root = hwloc_get_root_obj(h);
        int lines = 0, title = 0, ranks = 0;
        for (unsigned i = 0; i < root->infos_count; i++)
            if (!strcmp(root->infos[i].name, "lstopoLegend")) {
                lines++;
                title += !strncmp(root->infos[i].value, "numa-gpu: unit: mode prefer", 27);
                ranks += !strncmp(root->infos[i].value, "rank ", 5) &&
                         strstr(root->infos[i].value, " #") != NULL;
            }
        CHECK(title == 1 && ranks == p.nranks, "legend: title %d, rank lines %d of %d", title,
              ranks, p.nranks);
        CHECK(lines == 1 + p.nranks + 2, "%d legend lines: title, ranks, red and grey notes",
              lines);
    }
    t_end();
    if (h)
        hwloc_topology_destroy(h);
    free(xml);
    if (t)
        ng_plan_free(&p);
    hwloc_bitmap_free(cpus);
    ng_topo_free(t);
}

static void script(const char *path, const char *body)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void spawning(void)
{
    char prog[256], out[256], err[NG_ERRLEN];
    int st = 0;
    t_begin("draw/spawn-status-and-stderr");
    snprintf(prog, sizeof(prog), "%s/say", tmpdir);
    script(prog, "read x; echo \"got $x\" >&2; exit 7");
    char input[300];
    snprintf(input, sizeof(input), "%s/input", tmpdir);
    FILE *f = fopen(input, "w");
    if (f) {
        fputs("hello\n", f);
        fclose(f);
    }
    int in = open(input, O_RDONLY | O_CLOEXEC);
    char *const av[] = { prog, NULL }, *const env[] = { "PATH=/usr/bin:/bin", NULL };
    int rc = ng_spawn_wait(prog, av, env, in, -1, 5000, &st, out, sizeof(out));
    if (in >= 0)
        close(in);
    CHECK(rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 && !strcmp(out, "got hello\n"),
          "rc %d status %d out '%s'", rc, st, out);
    t_end();

    t_begin("draw/spawn-missing-program");
    char *const miss[] = { "/nonexistent/lstopo", NULL };
    rc = ng_spawn_wait(miss[0], miss, env, -1, -1, 1000, &st, out, sizeof(out));
    CHECK(rc == NG_SPAWN_FAILED && st == ENOENT, "rc %d st %d", rc, st);
    t_end();

    t_begin("draw/hung-lstopo-killed-at-deadline");
    snprintf(prog, sizeof(prog), "%s/hang", tmpdir);
    script(prog, "exec sleep 30");
    setenv("NUMA_GPU_LSTOPO_NO_GRAPHICS", prog, 1);
    int fd = open(tmpdir, O_TMPFILE | O_WRONLY, 0600);
    long long t0 = ms_now();
    rc = ng_draw_render("<x/>", 4, NG_DRAW_SVG, fd, 300, err, sizeof(err));
    long long took = ms_now() - t0;
    CHECK(rc < 0 && strstr(err, "did not finish within 300 ms (killed)") && strstr(err, prog),
          "rc %d: %s", rc, err);
    CHECK(took < 3000, "took %lld ms", took);
    if (fd >= 0)
        close(fd);
    t_end();

    t_begin("draw/missing-lstopo-named");
    setenv("NUMA_GPU_LSTOPO_NO_GRAPHICS", "/nonexistent/lstopo-no-graphics", 1);
    rc = ng_draw_render("<x/>", 4, NG_DRAW_SVG, -1, 1000, err, sizeof(err));
    CHECK(rc < 0 && strstr(err, "/nonexistent/lstopo-no-graphics cannot run") &&
          strstr(err, "hwloc-nox"), "rc %d: %s", rc, err);
    setenv("NUMA_GPU_LSTOPO_NO_GRAPHICS", "relative/lstopo", 1);
    CHECK(ng_draw_program(NG_DRAW_SVG)[0] == '/', "a relative override is used");
    unsetenv("NUMA_GPU_LSTOPO_NO_GRAPHICS");
    t_end();
}

static void plugin_file(void)
{
    char err[NG_ERRLEN], dir[256], path[512];
    snprintf(dir, sizeof(dir), "%s/audit", tmpdir);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/7.0.node1.svg", dir);

    t_begin("draw/plugin-file-removed-when-empty");
    int fd = ng_draw_open_in(dir, "7.0.node1.svg", err, sizeof(err));
    CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "open: %s", err);
    ng_draw_close_in(dir, "7.0.node1.svg", fd);
    CHECK(access(path, F_OK) != 0, "an empty picture stays");
    t_end();

    t_begin("draw/plugin-file-kept-when-drawn-and-truncated-on-reuse");
    fd = ng_draw_open_in(dir, "7.0.node1.svg", err, sizeof(err));
    CHECK(fd >= 0 && write(fd, "<svg/>", 6) == 6, "%s", err);
    ng_draw_close_in(dir, "7.0.node1.svg", fd);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && sb.st_size == 6, "the drawn picture is gone");
    fd = ng_draw_open_in(dir, "7.0.node1.svg", err, sizeof(err));
    CHECK(fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size == 0, "not truncated: %s", err);
    ng_draw_close_in(dir, "7.0.node1.svg", fd);
    t_end();

    t_begin("draw/plugin-file-refuses-symlink-bad-name-open-dir");
    char link[512];
    snprintf(link, sizeof(link), "%s/8.0.node1.svg", dir);
    CHECK(symlink("/tmp/ng-draw-victim", link) == 0, "symlink: %s", strerror(errno));
    err[0] = '\0';
    CHECK(ng_draw_open_in(dir, "8.0.node1.svg", err, sizeof(err)) < 0 && strstr(err, "symlink"),
          "followed a symlink: %s", err);
    CHECK(access("/tmp/ng-draw-victim", F_OK) != 0, "created the symlink's target");
    CHECK(ng_draw_open_in(dir, "../x.svg", err, sizeof(err)) < 0 &&
          ng_draw_open_in(dir, ".x.svg", err, sizeof(err)) < 0, "bad names accepted");
    chmod(dir, 0777);
    CHECK(ng_draw_open_in(dir, "9.0.node1.svg", err, sizeof(err)) < 0 &&
          strstr(err, "not group/world-writable"), "a world-writable dir accepted: %s", err);
    chmod(dir, 0755);
    unlink(link);
    t_end();
    rmdir(dir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        printf("FAIL draw/setup: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    unsetenv("NUMA_GPU_LSTOPO");
    unsetenv("NUMA_GPU_LSTOPO_NO_GRAPHICS");
    palette();
    styled_xml();
    spawning();
    plugin_file();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    T_EXIT();
}
