/* IRQs of a job's devices (lib/irq.c) over fake /proc and /sys roots shaped
 * like the corpus's Dell XE8640: GPU 0000:4e:00.0 and the dual-port HCA
 * 0000:4d:00.0/.1 under its switch. Which IRQs are whose, where the outside
 * ones are steered (the device's node minus the step's cpus), the ledger
 * that puts back the exact old values, and damaged input refused by name.
 * The node's cpus come from hwloc directly, not from the library. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/irq.h"

#define XML "dell-xe8640-2s-xeon8480-snc4-4xh100.xml"
#define GPU "0000:4e:00.0"
#define HCA0 "0000:4d:00.0"
#define HCA1 "0000:4d:00.1"
#define ALIEN "0000:ff:1f.7"   /* not in the topology: locality unknown */

static char root[64], proc[96], sys[96], state[96];
static ng_topo *topo;
/* Fixture affinities, canonical lists (as the kernel and hwloc print them). */
static char node_s[256], spread_s[256], remote_s[256], one_remote_s[32];
static hwloc_bitmap_t node;

static void mkdirs(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

static void put(const char *path, const char *text)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdirs(dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

/* Whole file into a static buffer ("<missing>" when it cannot be read). */
static const char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return "<missing>";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *aff_path(int irq)
{
    static char p[256];
    snprintf(p, sizeof(p), "%s/irq/%d/smp_affinity_list", proc, irq);
    return p;
}

static const char *aff(int irq)
{
    return slurp(aff_path(irq));
}

static void set_aff(int irq, const char *list)
{
    char text[300];
    snprintf(text, sizeof(text), "%s\n", list);
    put(aff_path(irq), text);
}

/* The cpus of the NUMA node(s) hwloc puts busid's device in. */
static void hwloc_node_cpus(const char *busid, hwloc_bitmap_t out)
{
    hwloc_topology_t h = ng_topo_hwloc(topo);
    hwloc_obj_t pci = hwloc_get_pcidev_by_busidstring(h, busid);
    hwloc_obj_t anc = pci ? hwloc_get_non_io_ancestor_obj(h, pci) : NULL;
    hwloc_bitmap_zero(out);
    if (anc)
        hwloc_cpuset_from_nodeset(h, out, anc->nodeset);
}

static void msi(const char *busid, int irq)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/msi_irqs/%d", sys, busid, irq);
    put(p, "msi\n");
}

/* Fresh roots: 100 spread, 101 remote (GPU); 200 local (HCA0); 201 remote
 * (HCA1); 17 the legacy line of a device the topology does not have. */
static void fake(void)
{
    char cmd[300], p[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/proc %s/sys %s/state", root, root, root);
    if (system(cmd) != 0)
        abort();
    msi(GPU, 100);
    msi(GPU, 101);
    msi(HCA0, 200);
    msi(HCA1, 201);
    snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/msi_irqs/not-a-vector", sys, GPU);
    put(p, "");   /* a stray entry is no IRQ */
    snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/irq", sys, ALIEN);
    put(p, "17\n");
    set_aff(100, spread_s);
    set_aff(101, remote_s);
    set_aff(200, node_s);
    set_aff(201, one_remote_s);
    set_aff(17, "0-3");
    snprintf(p, sizeof(p), "%s/interrupts", proc);
    put(p, "           CPU0       CPU1\n"
           "  17:          0          0   IO-APIC   17-fasteoi   ehci_hcd\n"
           " 100:          0          0  IR-PCI-MSI 1-edge      nvidia\n"
           " 101:          0          0  IR-PCI-MSI 2-edge      nvidia\n"
           " 200:          0          0  IR-PCI-MSI 3-edge      mlx5_comp0@pci:0000:4d:00.0\n"
           " 201:          0          0  IR-PCI-MSI 4-edge      mlx5_comp1@pci:0000:4d:00.1\n");
}

static const ng_irq_device DEVS[] = { { GPU, "gpu" }, { HCA0, "hca0" }, { HCA1, "hca1" },
                                      { ALIEN, "alien" } };

static ng_irq_ctx ctx(void)
{
    ng_irq_ctx c = { proc, sys, state };
    return c;
}

static const ng_irq *find(const ng_irq *v, int n, int irq)
{
    for (int i = 0; i < n; i++)
        if (v[i].irq == irq)
            return &v[i];
    return NULL;
}

static const char *state_of(const ng_irq *v, int n, int irq)
{
    const ng_irq *q = find(v, n, irq);
    return q ? q->state : "<absent>";
}

/* The ledger's entries of job (every job: 0), "irq:old>new" joined. */
static int ledger_of(unsigned long job, char *out, size_t len)
{
    char p[256], line[2300];
    int k = 0;
    out[0] = '\0';
    snprintf(p, sizeof(p), "%s/irq.ledger", state);
    FILE *f = fopen(p, "r");
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long j;
        int irq;
        char bus[32], old[1100], new_[1100];
        if (line[0] == '#' || sscanf(line, "%lu %d %31s %1099s %1099s", &j, &irq, bus, old,
                                     new_) != 5 || (job && j != job))
            continue;
        size_t u = strlen(out);
        snprintf(out + u, len - u, "%s%d:%s>%s", k++ ? " " : "", irq, old, new_);
    }
    if (f)
        fclose(f);
    return k;
}

static void devices(void)
{
    char err[NG_ERRLEN];
    ng_irq_device *d = NULL;
    int n = 0;
    const char gpus[1][NG_BUSID_LEN] = { GPU };
    ng_nic *nics;
    int nn = 0;
    char hca1_name[32] = "";
    if (ng_nic_list(topo, &nics, &nn) == 0) {
        for (int i = 0; i < nn; i++)
            if (!strcmp(nics[i].busid, HCA1))
                snprintf(hca1_name, sizeof(hca1_name), "%s", nics[i].name);
        ng_nic_list_free(nics, nn);
    }

    t_begin("irq/devices-gpu-and-the-hca-under-its-switch");
    CHECK(ng_irq_devices(topo, gpus, 1, NULL, &d, &n, err, sizeof(err)) == 0, "%s", err);
    CHECK(n == 3 && !strcmp(d[0].busid, GPU) && !strcmp(d[0].label, "gpu") &&
          !strcmp(d[1].busid, HCA0) && !strcmp(d[2].busid, HCA1) &&
          !strcmp(d[2].label, hca1_name), "n=%d %s %s %s", n, n > 0 ? d[0].busid : "",
          n > 1 ? d[1].busid : "", n > 2 ? d[2].label : "");
    free(d);
    t_end();

    t_begin("irq/devices-named-nic-once-and-none");
    char named[80];
    snprintf(named, sizeof(named), "%s,%s", hca1_name, hca1_name);
    CHECK(hca1_name[0] && ng_irq_devices(topo, gpus, 1, named, &d, &n, err, sizeof(err)) == 0 &&
          n == 2 && !strcmp(d[1].busid, HCA1), "%s n=%d", err, n);
    free(d);
    CHECK(ng_irq_devices(topo, gpus, 1, "none", &d, &n, err, sizeof(err)) == 0 && n == 1 &&
          !strcmp(d[0].busid, GPU), "none: n=%d", n);
    free(d);
    t_end();

    t_begin("irq/devices-unknown-nic-named-with-the-known-ones");
    d = (ng_irq_device *)1;
    CHECK(ng_irq_devices(topo, gpus, 1, "mlx5_9", &d, &n, err, sizeof(err)) < 0 && !d &&
          n == 0 && strstr(err, "unknown NIC 'mlx5_9'") && strstr(err, hca1_name), "%s", err);
    t_end();
}

static void listing(void)
{
    char err[NG_ERRLEN];
    ng_irq_ctx c = ctx();
    ng_irq *v = NULL;
    int n = 0;
    fake();

    t_begin("irq/list-msi-vectors-and-legacy-line-by-device");
    CHECK(ng_irq_list(topo, &c, DEVS, 4, &v, &n, err, sizeof(err)) == 0, "%s", err);
    int order[] = { 17, 100, 101, 200, 201 };
    CHECK(n == 5, "n=%d", n);
    for (int i = 0; i < n && n == 5; i++)
        CHECK(v[i].irq == order[i], "v[%d]=%d want %d", i, v[i].irq, order[i]);
    const ng_irq *q = find(v, n, 201);
    CHECK(q && !strcmp(q->busid, HCA1) && !strcmp(q->device, "hca1") &&
          !strcmp(q->name, "mlx5_comp1@pci:0000:4d:00.1"), "201: %s %s %s",
          q ? q->busid : "", q ? q->device : "", q ? q->name : "");
    q = find(v, n, 17);
    CHECK(q && !strcmp(q->busid, ALIEN) && !strcmp(q->name, "ehci_hcd"), "17: %s",
          q ? q->name : "absent");
    t_end();

    t_begin("irq/list-states-against-the-device-node");
    CHECK(!strcmp(state_of(v, n, 100), "spread") && !strcmp(state_of(v, n, 101), "remote") &&
          !strcmp(state_of(v, n, 200), "local") && !strcmp(state_of(v, n, 201), "remote") &&
          !strcmp(state_of(v, n, 17), "unknown"), "%s %s %s %s %s", state_of(v, n, 100),
          state_of(v, n, 101), state_of(v, n, 200), state_of(v, n, 201), state_of(v, n, 17));
    q = find(v, n, 101);
    CHECK(q && hwloc_bitmap_isequal(q->node_cpus, node), "101's node cpus differ from hwloc's");
    CHECK(ng_irq_outside(v, n) == 3, "outside %d", ng_irq_outside(v, n));
    ng_irq_list_free(v, n);
    t_end();

    t_begin("irq/list-missing-files");
    char p[256];
    snprintf(p, sizeof(p), "%s/interrupts", proc);
    unlink(p);
    snprintf(p, sizeof(p), "%s/irq/101", proc);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", p);
    if (system(cmd) != 0)
        abort();
    ng_irq_device gone[] = { { GPU, "gpu" }, { "0000:4f:00.0", "nothing-in-sysfs" } };
    CHECK(ng_irq_list(topo, &c, gone, 2, &v, &n, err, sizeof(err)) == 0 && n == 2, "%s n=%d",
          err, n);
    CHECK(!strcmp(state_of(v, n, 101), "vanished") && !strcmp(state_of(v, n, 100), "spread") &&
          find(v, n, 100) && !find(v, n, 100)->name[0], "101 %s, 100 %s '%s'",
          state_of(v, n, 101), state_of(v, n, 100), find(v, n, 100) ? find(v, n, 100)->name : "");
    ng_irq_list_free(v, n);
    t_end();
}

/* List the fixture's devices, steer them for job; the changed count. */
static int apply(unsigned long job, hwloc_const_bitmap_t avoid, char *note, char *err)
{
    ng_irq_ctx c = ctx();
    ng_irq *v = NULL;
    int n = 0, changed = -1;
    err[0] = '\0';
    if (ng_irq_list(topo, &c, DEVS, 4, &v, &n, err, NG_ERRLEN) < 0)
        return -1;
    int rc = ng_irq_apply(&c, job, v, n, avoid, &changed, note, NG_ERRLEN, err, NG_ERRLEN);
    ng_irq_list_free(v, n);
    return rc < 0 ? -1 : changed;
}

static int restore(unsigned long job, char *note, char *err)
{
    ng_irq_ctx c = ctx();
    int restored = -1;
    err[0] = '\0';
    return ng_irq_restore(&c, job, &restored, note, NG_ERRLEN, err, NG_ERRLEN) < 0 ? -1
                                                                                 : restored;
}

static void steering(void)
{
    char err[NG_ERRLEN], note[NG_ERRLEN], want[256], led[4096], exp[4096];
    ng_irq_ctx c = ctx();
    hwloc_bitmap_t avoid = hwloc_bitmap_alloc(), target = hwloc_bitmap_alloc();
    /* The step's cpus: the first half of the device's node. */
    int half = hwloc_bitmap_weight(node) / 2, k = 0;
    unsigned cpu;
    hwloc_bitmap_foreach_begin(cpu, node) {
        if (k++ < half)
            hwloc_bitmap_set(avoid, cpu);
    } hwloc_bitmap_foreach_end();
    hwloc_bitmap_andnot(target, node, avoid);
    hwloc_bitmap_list_snprintf(want, sizeof(want), target);
    fake();

    t_begin("irq/apply-steers-outside-ones-to-node-minus-step-cpus");
    CHECK(apply(7, avoid, note, err) == 3, "%s", err);
    char w[300];
    snprintf(w, sizeof(w), "%s\n", want);
    CHECK(!strcmp(aff(100), w) && !strcmp(aff(101), w) && !strcmp(aff(201), w),
          "want %s: %s %s %s", want, aff(100), aff(101), aff(201));
    snprintf(w, sizeof(w), "%s\n", node_s);
    CHECK(!strcmp(aff(200), w) && !strcmp(aff(17), "0-3\n"), "local/unknown touched: %s %s",
          aff(200), aff(17));
    snprintf(exp, sizeof(exp), "100:%s>%s 101:%s>%s 201:%s>%s", spread_s, want, remote_s, want,
             one_remote_s, want);
    CHECK(ledger_of(7, led, sizeof(led)) == 3 && !strcmp(led, exp), "ledger '%s' want '%s'",
          led, exp);
    int steered = -1;
    CHECK(ng_irq_steered(&c, &steered, err, sizeof(err)) == 0 && steered == 3, "%d %s",
          steered, err);
    t_end();

    t_begin("irq/apply-again-same-job-nothing-other-job-left");
    set_aff(101, remote_s);   /* irqbalance moved one back */
    CHECK(apply(7, avoid, note, err) == 0 && !note[0], "%s %s", err, note);
    CHECK(apply(8, NULL, note, err) == 0 && strstr(note, "1 IRQ(s) already steered by another"),
          "%s '%s'", err, note);
    snprintf(w, sizeof(w), "%s\n", remote_s);
    CHECK(!strcmp(aff(101), w) && ledger_of(8, led, sizeof(led)) == 0, "101 %s, job 8: %s",
          aff(101), led);
    t_end();

    t_begin("irq/restore-puts-back-the-exact-old-values");
    set_aff(101, want);
    CHECK(restore(8, note, err) == 0, "job 8 restored something: %s", err);
    CHECK(restore(7, note, err) == 3 && !note[0], "%s %s", err, note);
    char want_all[1024], got_all[1024];
    snprintf(want_all, sizeof(want_all), "%s\n|%s\n|%s\n|%s\n|0-3\n", spread_s, remote_s,
             node_s, one_remote_s);
    snprintf(got_all, sizeof(got_all), "%s|", aff(100));
    snprintf(got_all + strlen(got_all), sizeof(got_all) - strlen(got_all), "%s|", aff(101));
    snprintf(got_all + strlen(got_all), sizeof(got_all) - strlen(got_all), "%s|", aff(200));
    snprintf(got_all + strlen(got_all), sizeof(got_all) - strlen(got_all), "%s|", aff(201));
    snprintf(got_all + strlen(got_all), sizeof(got_all) - strlen(got_all), "%s", aff(17));
    CHECK(!strcmp(got_all, want_all), "got %s want %s", got_all, want_all);
    CHECK(ledger_of(0, led, sizeof(led)) == 0, "ledger left: %s", led);
    t_end();

    t_begin("irq/avoid-covering-the-node-falls-back-to-the-node");
    CHECK(apply(9, node, note, err) == 3, "%s", err);
    snprintf(w, sizeof(w), "%s\n", node_s);
    CHECK(!strcmp(aff(101), w), "101 %s want %s", aff(101), node_s);
    t_end();

    t_begin("irq/restore-vanished-irq-dropped-with-note");
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/irq/101", proc);
    if (system(cmd) != 0)
        abort();
    CHECK(restore(0, note, err) == 2 && strstr(note, "1 IRQ(s) vanished"), "%s '%s'", err,
          note);
    snprintf(w, sizeof(w), "%s\n", one_remote_s);
    CHECK(!strcmp(aff(201), w) && ledger_of(0, led, sizeof(led)) == 0, "201 %s ledger %s",
          aff(201), led);
    t_end();

    t_begin("irq/apply-write-refused-puts-back-what-it-changed");
    fake();
    ng_irq *v = NULL;
    int n = 0, changed = -1;
    CHECK(ng_irq_list(topo, &c, DEVS, 4, &v, &n, err, sizeof(err)) == 0, "%s", err);
    snprintf(cmd, sizeof(cmd), "rm -rf %s/irq/201", proc);   /* gone after the listing */
    if (system(cmd) != 0)
        abort();
    CHECK(ng_irq_apply(&c, 10, v, n, NULL, &changed, note, sizeof(note), err, sizeof(err)) < 0 &&
          changed == 0 && strstr(err, "IRQ 201") && strstr(err, "the IRQ vanished"), "%s", err);
    snprintf(w, sizeof(w), "%s\n", spread_s);
    snprintf(exp, sizeof(exp), "%s\n", remote_s);
    CHECK(!strcmp(aff(100), w) && !strcmp(aff(101), exp) && ledger_of(0, led, sizeof(led)) == 0,
          "half-changed: 100 %s 101 %s ledger %s", aff(100), aff(101), led);
    ng_irq_list_free(v, n);
    t_end();

    t_begin("irq/restore-write-refused-stays-in-ledger");
    fake();
    CHECK(apply(11, NULL, note, err) == 3, "%s", err);
    unlink(aff_path(201));   /* a directory: the write fails with EISDIR */
    CHECK(mkdir(aff_path(201), 0755) == 0, "mkdir: %s", strerror(errno));
    CHECK(restore(11, note, err) < 0 && strstr(err, "IRQ 201") && strstr(err, "smp_affinity_list"),
          "%s", err);
    CHECK(ledger_of(11, led, sizeof(led)) == 1 && !strncmp(led, "201:", 4), "ledger %s", led);
    snprintf(w, sizeof(w), "%s\n", remote_s);
    CHECK(!strcmp(aff(101), w), "101 not restored: %s", aff(101));
    rmdir(aff_path(201));
    set_aff(201, want);
    CHECK(restore(11, note, err) == 1, "second restore: %s", err);
    snprintf(w, sizeof(w), "%s\n", one_remote_s);
    CHECK(!strcmp(aff(201), w) && ledger_of(0, led, sizeof(led)) == 0, "201 %s", aff(201));
    t_end();

    hwloc_bitmap_free(avoid);
    hwloc_bitmap_free(target);
}

static void damaged(void)
{
    char err[NG_ERRLEN], note[NG_ERRLEN], p[256], cmd[300];
    ng_irq_ctx c = ctx();
    /* Each a line 3 of a ledger, after a good line 2. */
    const char *bad[] = {
        "7 101 0000:4e:00.0 0-3\n",                  /* a field missing */
        "x7 101 0000:4e:00.0 0-3 4-7\n",             /* job not a number */
        "7 0 0000:4e:00.0 0-3 4-7\n",                /* IRQ 0 */
        "7 101 0000:4e:00.0 3-1 4-7\n",              /* old affinity reversed */
        "7 101 0000:4e:00.0 0-3 4-7x\n",             /* new affinity garbage */
    };
    t_begin("irq/damaged-ledger-line-refused-by-line-nothing-touched");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fake();
        mkdir(state, 0700);
        snprintf(p, sizeof(p), "%s/irq.ledger", state);
        char text[1024], before[512];
        snprintf(text, sizeof(text), "# numa-gpu irq ledger v1\n7 100 %s %s %s\n%s", GPU,
                 spread_s, node_s, bad[i]);
        put(p, text);
        snprintf(before, sizeof(before), "%s", aff(101));
        int steered = -1;
        CHECK(apply(12, NULL, note, err) < 0 && strstr(err, "corrupt at line 3") &&
              strstr(err, p), "case %zu apply: %s", i, err);
        CHECK(restore(7, note, err) < 0 && strstr(err, "corrupt at line 3"), "case %zu: %s", i,
              err);
        CHECK(ng_irq_steered(&c, &steered, err, sizeof(err)) < 0, "case %zu: steered %d", i,
              steered);
        CHECK(!strcmp(aff(101), before) && !strcmp(slurp(p), text),
              "case %zu: 101 %s, ledger now %s", i, aff(101), slurp(p));
    }
    t_end();

    t_begin("irq/ledger-symlink-or-directory-refused");
    fake();
    mkdir(state, 0700);
    snprintf(p, sizeof(p), "%s/irq.ledger", state);
    snprintf(cmd, sizeof(cmd), "%s/elsewhere", root);
    put(cmd, "");
    CHECK(symlink(cmd, p) == 0, "symlink: %s", strerror(errno));
    CHECK(apply(13, NULL, note, err) < 0 && strstr(err, p) && strstr(err, "symbolic links") &&
          !strcmp(slurp(cmd), ""), "symlink: %s", err);
    unlink(p);
    mkdir(p, 0700);
    CHECK(apply(13, NULL, note, err) < 0 && strstr(err, p) && strstr(err, "not a regular file"),
          "directory: %s", err);
    CHECK(restore(0, note, err) < 0 && strstr(err, "not a regular file"), "restore: %s", err);
    snprintf(cmd, sizeof(cmd), "%s\n", remote_s);
    CHECK(!strcmp(aff(101), cmd), "101 changed: %s", aff(101));
    rmdir(p);
    t_end();

    t_begin("irq/state-dir-writable-by-others-refused");
    fake();
    mkdir(state, 0700);
    chmod(state, 0777);
    CHECK(apply(14, NULL, note, err) < 0 && strstr(err, state) &&
          strstr(err, "group/world-writable"), "%s", err);
    t_end();

    t_begin("irq/malformed-smp-affinity-never-written");
    /* read_affinity cannot parse it: the IRQ is listed as vanished, and
     * steering leaves the file as it was. */
    const char *junk[] = { "zz\n", "5-2\n", "0-3,x\n", "70000\n" };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        fake();
        put(aff_path(101), junk[i]);
        ng_irq *v = NULL;
        int n = 0, changed = -1;
        CHECK(ng_irq_list(topo, &c, DEVS, 4, &v, &n, err, sizeof(err)) == 0 &&
              !strcmp(state_of(v, n, 101), "vanished"), "'%s': %s", junk[i], state_of(v, n, 101));
        CHECK(ng_irq_apply(&c, 15, v, n, NULL, &changed, note, sizeof(note), err,
                           sizeof(err)) == 0 && changed == 2 && !strcmp(aff(101), junk[i]),
              "'%s': changed %d, file now '%s' %s", junk[i], changed, aff(101), err);
        ng_irq_list_free(v, n);
    }
    t_end();
}

/* A legacy line two devices share is one IRQ: steered and recorded once.
 * A cpu list longer than the ledger keeps is refused naming the IRQ and
 * the limit, and what the call changed before it is put back. */
static void edges(void)
{
    char err[NG_ERRLEN], note[NG_ERRLEN], led[4096], w[300];
    ng_irq_ctx c = ctx();
    fake();
    msi(HCA1, 101);   /* 101 is the GPU's and HCA1's */
    t_begin("irq/shared-irq-steered-and-recorded-once");
    CHECK(apply(9, NULL, note, err) == 3, "%s", err);
    int steered = -1;
    CHECK(ledger_of(9, led, sizeof(led)) == 3 && ng_irq_steered(&c, &steered, err, sizeof(err))
          == 0 && steered == 3, "ledger '%s', steered %d", led, steered);
    CHECK(restore(9, note, err) == 3, "%s", err);
    t_end();

    fake();
    /* 101: every even cpu number from 1000 (beyond the machine, so remote) */
    static char big[8192];
    size_t u = 0;
    for (int cpu = 1000; cpu < 3000; cpu += 2)
        u += (size_t)snprintf(big + u, sizeof(big) - u, "%s%d", u ? "," : "", cpu);
    snprintf(big + u, sizeof(big) - u, "\n");
    put(aff_path(101), big);
    t_begin("irq/cpu-list-longer-than-the-ledger-refused-nothing-steered");
    CHECK(apply(10, NULL, note, err) < 0 && strstr(err, "IRQ 101") && strstr(err, "1023 bytes"),
          "'%s'", err);
    snprintf(w, sizeof(w), "%s\n", spread_s);
    CHECK(!strcmp(aff(100), w) && !strcmp(aff(101), big) && ledger_of(10, led, sizeof(led)) == 0,
          "100 '%s', ledger '%s'", aff(100), led);
    t_end();
}

int main(void)
{
    topo = t_load_corpus(XML);
    if (!topo) {
        t_skip("irq/corpus", "topology corpus not found (set NUMA_GPU_CORPUS)");
        return 0;
    }
    snprintf(root, sizeof(root), "/tmp/ng-irq.%d", (int)getpid());
    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(sys, sizeof(sys), "%s/sys", root);
    snprintf(state, sizeof(state), "%s/state", root);
    /* The fixture's lists: the GPU's node, a spread (node plus one cpu of
     * another node), every other cpu, and a single other cpu. */
    node = hwloc_bitmap_alloc();
    hwloc_node_cpus(GPU, node);
    hwloc_bitmap_t other = hwloc_bitmap_dup(hwloc_topology_get_topology_cpuset(ng_topo_hwloc(topo)));
    hwloc_bitmap_andnot(other, other, node);
    hwloc_bitmap_t spread = hwloc_bitmap_dup(node);
    hwloc_bitmap_set(spread, (unsigned)hwloc_bitmap_first(other));
    hwloc_bitmap_list_snprintf(node_s, sizeof(node_s), node);
    hwloc_bitmap_list_snprintf(spread_s, sizeof(spread_s), spread);
    hwloc_bitmap_list_snprintf(remote_s, sizeof(remote_s), other);
    snprintf(one_remote_s, sizeof(one_remote_s), "%d", hwloc_bitmap_last(other));
    hwloc_bitmap_free(other);
    hwloc_bitmap_free(spread);
    if (hwloc_bitmap_iszero(node) || !remote_s[0]) {
        t_skip("irq/fixture", "the GPU has no node of its own in this topology");
        return 0;
    }
    devices();
    listing();
    steering();
    edges();
    damaged();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        t_skip("irq/cleanup", root);
    hwloc_bitmap_free(node);
    ng_topo_free(topo);
    T_EXIT();
}
