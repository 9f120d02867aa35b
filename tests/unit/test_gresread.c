/* gres.conf read as slurmd reads it (lib/gresread.c): NodeName hostlists,
 * File= ranges into one GPU per file (the GRES index is the position),
 * Cores=/CPUs=, Flags=env_uuid, AutoDetect's sort by File, continued lines,
 * bad lines named; and Cores= turned into cpus by Slurm's core numbering
 * (socket by socket; each NUMA node a socket with numa_node_as_socket),
 * checked against the topology's own package and NUMA node cpusets. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/gresconf.h"
#include "private/gresread.h"
#include "private/slurmstep.h"

static char dir[] = "/tmp/ng-gresread-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
    static char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static void hostlists(void)
{
    t_begin("gresread/hostlists");
    CHECK(ng_hostlist_has("gpu[01-16]", "gpu07") && !ng_hostlist_has("gpu[01-16]", "gpu7") &&
          !ng_hostlist_has("gpu[01-16]", "gpu17"), "zero padded range");
    CHECK(ng_hostlist_has("a,b[1-2,5],c", "b5") && ng_hostlist_has("a,b[1-2,5],c", "c") &&
          !ng_hostlist_has("a,b[1-2,5],c", "b3"), "list with ranges");
    CHECK(ng_hostlist_has("r[1-2]n[1-3]", "r2n3") && !ng_hostlist_has("r[1-2]n[1-3]", "r3n1"),
          "two brackets");
    CHECK(!ng_hostlist_has("gpu[1-", "gpu1") && !ng_hostlist_has("gpu[3-1]", "gpu2") &&
          !ng_hostlist_has("gpu[1-99999999]", "gpu1"), "bad or huge expressions match nothing");
    t_end();
}

static void records(void)
{
    char err[NG_ERRLEN], b[64];
    ng_gres_node g;

    t_begin("gresread/records-for-this-node");
    const char *p = write_conf("gres.conf",
        "# a shared gres.conf\n"
        "AutoDetect=off\n"
        "NodeName=other[1-4] Name=gpu File=/dev/nvidia[0-7] Cores=0-3\n"
        "NodeName=gpu[01-02] Name=gpu Type=a100 File=/dev/nvidia[0-1] Cores=0-15\n"
        "NodeName=gpu[01-02] Name=gpu Type=a100 \\\n"
        "    File=/dev/nvidia[2-3] CPUs=16-31 Flags=env_uuid\n"
        "Name=shard Count=8 File=/dev/nvidia0\n"
        "NodeName=gpu02 Name=gpu File=/dev/nvidia4\n");
    CHECK(ng_gres_read(p, "gpu02", &g, err, sizeof(err)) == 0, "%s", err);
    if (!t_case_failed) {
        CHECK(g.n == 5 && !g.autodetect, "n=%d", g.n);
        CHECK(g.n == 5 && !strcmp(g.rec[0].file, "/dev/nvidia0") &&
              !strcmp(g.rec[3].file, "/dev/nvidia3") && !strcmp(g.rec[4].file, "/dev/nvidia4"),
              "files in file order");
        CHECK(g.n == 5 && g.rec[1].cores &&
              !strcmp(ng_list_str(g.rec[1].cores, b, sizeof(b)), "0-15") &&
              !strcmp(ng_list_str(g.rec[2].cores, b, sizeof(b)), "16-31") && !g.rec[4].cores,
              "Cores per record");
        CHECK(g.n == 5 && !strcmp(g.rec[0].type, "a100") && g.rec[3].env_uuid &&
              !g.rec[0].env_uuid, "Type and Flags");
        ng_gres_node_free(&g);
    }
    CHECK(ng_gres_read(p, "gpu01", &g, err, sizeof(err)) == 0 && g.n == 4, "gpu01: %d", g.n);
    ng_gres_node_free(&g);
    CHECK(ng_gres_read(p, "elsewhere", &g, err, sizeof(err)) == 0 && g.n == 0, "no records");
    ng_gres_node_free(&g);
    t_end();

    t_begin("gresread/autodetect-sorts-by-file");
    p = write_conf("gres.conf", "AutoDetect=nvml\nName=gpu File=/dev/nvidia10\n"
                   "Name=gpu File=/dev/nvidia2\nName=gpu File=/dev/nvidia1\n");
    CHECK(ng_gres_read(p, "n", &g, err, sizeof(err)) == 0 && g.autodetect && g.n == 3 &&
          !strcmp(g.rec[0].file, "/dev/nvidia1") && !strcmp(g.rec[1].file, "/dev/nvidia2") &&
          !strcmp(g.rec[2].file, "/dev/nvidia10"), "%s", err);
    ng_gres_node_free(&g);
    t_end();

    t_begin("gresread/bad-lines-named");
    p = write_conf("gres.conf", "Name=gpu File=/dev/nvidia0\nName=gpu File=/dev/nvidia1 Cores=x-y\n");
    CHECK(ng_gres_read(p, "n", &g, err, sizeof(err)) < 0 && strstr(err, "gres.conf:2") &&
          strstr(err, "Cores='x-y'"), "%s", err);
    p = write_conf("gres.conf", "Name=gpu File=/dev/nvidia[0-\n");
    CHECK(ng_gres_read(p, "n", &g, err, sizeof(err)) < 0 && strstr(err, "File="), "%s", err);
    p = write_conf("gres.conf", "Name=gpu File=/dev/nvidia[0-5000]\n");
    CHECK(ng_gres_read(p, "n", &g, err, sizeof(err)) < 0 && strstr(err, "more than 1024"),
          "%s", err);
    p = write_conf("gres.conf", "Name=gpu oops\n");
    CHECK(ng_gres_read(p, "n", &g, err, sizeof(err)) < 0 && strstr(err, "'oops'"), "%s", err);
    CHECK(ng_gres_read("/nonexistent/gres.conf", "n", &g, err, sizeof(err)) == 0 && g.n == 0,
          "a missing file is no records");
    t_end();
}

/* Cores of the first `before` sockets (objects at depth) = the first Slurm
 * core index of the next one. */
static unsigned cores_before(hwloc_topology_t h, int depth, unsigned before)
{
    unsigned n = 0;
    for (unsigned s = 0; s < before; s++)
        n += (unsigned)hwloc_get_nbobjs_inside_cpuset_by_type(
            h, hwloc_get_obj_by_depth(h, depth, s)->cpuset, HWLOC_OBJ_CORE);
    return n;
}

static void core_numbering(void)
{
    t_begin("gresread/cores-to-cpus-by-socket-and-numa-node");
    ng_topo *t = t_load_corpus("dell-xe8640-2s-xeon8480-snc4-4xh100.xml");
    CHECK(t != NULL, "corpus topology");
    if (t) {
        hwloc_topology_t h = ng_topo_hwloc(t);
        int pk = hwloc_get_type_depth(h, HWLOC_OBJ_PACKAGE);
        hwloc_bitmap_t ids = hwloc_bitmap_alloc(), cpus = hwloc_bitmap_alloc();
        /* the second package's cores: Cores=N0-(N0+N1-1) */
        unsigned a = cores_before(h, pk, 1), z = cores_before(h, pk, 2);
        hwloc_bitmap_set_range(ids, a, (int)z - 1);
        ng_slurm_core_cpus(t, ids, 0, cpus);
        CHECK(hwloc_bitmap_isequal(cpus, hwloc_get_obj_by_depth(h, pk, 1)->cpuset),
              "package 1 (cores %u-%u)", a, z - 1);
        /* numa_node_as_socket: the third NUMA node's cores */
        a = cores_before(h, HWLOC_TYPE_DEPTH_NUMANODE, 2);
        z = cores_before(h, HWLOC_TYPE_DEPTH_NUMANODE, 3);
        hwloc_bitmap_zero(ids);
        hwloc_bitmap_set_range(ids, a, (int)z - 1);
        ng_slurm_core_cpus(t, ids, 1, cpus);
        CHECK(hwloc_bitmap_isequal(cpus, hwloc_get_obj_by_depth(h, HWLOC_TYPE_DEPTH_NUMANODE,
                                                                2)->cpuset),
              "NUMA node 2 (cores %u-%u)", a, z - 1);
        hwloc_bitmap_free(ids);
        hwloc_bitmap_free(cpus);
    }
    t_end();

    t_begin("gresread/step-facts-from-slurm-conf");
    if (t) {
        hwloc_topology_t h = ng_topo_hwloc(t);
        int pk = hwloc_get_type_depth(h, HWLOC_OBJ_PACKAGE);
        char conf[64], err[NG_ERRLEN];
        unsigned z = cores_before(h, pk, 1);
        snprintf(conf, sizeof(conf), "Cores=0-%u", z - 1);
        write_conf("slurm.conf", "SlurmctldHost=x\n");
        char text[512];
        snprintf(text, sizeof(text), "Name=gpu File=/dev/nvidia0 %s\nName=gpu File=/dev/nvidia1\n",
                 conf);
        write_conf("gres.conf", text);
        char sc[300];
        snprintf(sc, sizeof(sc), "%s/slurm.conf", dir);
        ng_roots r = { .procfs = "/nonexistent", .sysfs = "/nonexistent", .offline = 1 };
        unsigned gres[] = { 0, 1 };
        ng_gres_facts f;
        CHECK(ng_gres_facts_read(t, &r, sc, "n", -1, gres, 2, &f, err, sizeof(err)) == 0, "%s",
              err);
        if (!t_case_failed) {
            CHECK(f.n >= 2 && f.cpus[0] &&
                  hwloc_bitmap_isequal(f.cpus[0], hwloc_get_obj_by_depth(h, pk, 0)->cpuset) &&
                  !f.cpus[1], "GPU 0: package 0's cpus; GPU 1: no Cores (close to all)");
            CHECK(f.n >= 2 && f.dev[0] && !strcmp(f.dev[0], "/dev/nvidia0") && f.dev[1] &&
                  !strcmp(f.dev[1], "/dev/nvidia1"), "device files");
            ng_gres_facts_free(&f);
        }
        /* gres_cores=no: no Cores at all, but still the files */
        CHECK(ng_gres_facts_read(t, &r, sc, "n", 0, gres, 2, &f, err, sizeof(err)) == 0 &&
              f.n >= 2 && !f.cpus[0] && f.dev[1], "%s", err);
        ng_gres_facts_free(&f);
    }
    ng_topo_free(t);
    t_end();
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    hostlists();
    records();
    core_numbering();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    T_EXIT();
}
