/* The admin's core policy: the kernel's isolated CPUs avoided (or used on
 * request), the first core of each L3 or NUMA node kept free, nohz_full
 * CPUs left usable, and what happens when nothing else is left; the kernel
 * files read from a fake sysfs root. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "t.h"
#include "numagpu.h"
#include "private/cgroup.h"

static ng_topo *load(const char *name)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/%s", t_corpus(), name);
    return ng_topo_load(xml, err, sizeof(err));
}

/* Union of every rank's cpus. */
static void used_cpus(const ng_plan *p, hwloc_bitmap_t out)
{
    hwloc_bitmap_zero(out);
    for (int r = 0; r < p->nranks; r++)
        hwloc_bitmap_or(out, out, p->ranks[r].cpus);
}

static void policy(void)
{
    char err[NG_ERRLEN];
    ng_topo *t = load("llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml");
    ng_plan p;
    hwloc_bitmap_t iso = hwloc_bitmap_alloc(), used = hwloc_bitmap_alloc(),
                   want = hwloc_bitmap_alloc();

    t_begin("policy/first-core-of-each-l3-kept-free");
    /* 64 cores in 8 L3s of 8: cores 0, 8, ..., 56 and their SMT siblings. */
    ng_plan_policy pol = { NULL, 0, NULL, NG_RESERVE_L3 };
    CHECK(t && ng_plan_compute_policy(t, NULL, NULL, 16, NULL, NG_MODE_PREFER, &pol, &p, err,
                                      sizeof(err)) == 0, "%s", err);
    if (t && !t_case_failed) {
        used_cpus(&p, used);
        hwloc_bitmap_list_sscanf(want, "0,8,16,24,32,40,48,56,64,72,80,88,96,104,112,120");
        CHECK(hwloc_bitmap_isequal(p.reserved, want) && !hwloc_bitmap_intersects(used, want) &&
              hwloc_bitmap_weight(used) == 128 - 16 && strstr(p.policy_note, "L3"),
              "reserved %d cpus, ranks use %d: %s", hwloc_bitmap_weight(p.reserved),
              hwloc_bitmap_weight(used), p.policy_note);
        ng_plan_free(&p);
    }
    t_end();

    t_begin("policy/first-core-of-each-numa-node");
    pol.reserve_first_core_per = NG_RESERVE_NUMA;
    CHECK(t && ng_plan_compute_policy(t, NULL, NULL, 4, NULL, NG_MODE_PREFER, &pol, &p, err,
                                      sizeof(err)) == 0 && hwloc_bitmap_weight(p.reserved) == 8,
          "%s: %d reserved", err, t ? hwloc_bitmap_weight(p.reserved) : -1);
    if (t && p.ranks)
        ng_plan_free(&p);
    t_end();

    t_begin("policy/isolated-avoided-or-used");
    hwloc_bitmap_list_sscanf(iso, "1-7,65-71");
    ng_plan_policy avoid = { iso, 0, NULL, NG_RESERVE_OFF };
    CHECK(t && ng_plan_compute_policy(t, NULL, NULL, 8, NULL, NG_MODE_PREFER, &avoid, &p, err,
                                      sizeof(err)) == 0, "%s", err);
    if (t && !t_case_failed) {
        used_cpus(&p, used);
        CHECK(!hwloc_bitmap_intersects(used, iso) && strstr(p.policy_note, "avoided"),
              "isolated cpus used: %s", p.policy_note);
        ng_plan_free(&p);
    }
    ng_plan_policy use = { iso, 1, NULL, NG_RESERVE_OFF };
    CHECK(t && ng_plan_compute_policy(t, NULL, NULL, 8, NULL, NG_MODE_PREFER, &use, &p, err,
                                      sizeof(err)) == 0, "%s", err);
    if (t && p.ranks) {
        used_cpus(&p, used);
        CHECK(hwloc_bitmap_isincluded(iso, used) && strstr(p.policy_note, "isolated=use"),
              "isolated=use left them out: %s", p.policy_note);
        ng_plan_free(&p);
    }
    t_end();

    t_begin("policy/only-isolated-left-are-used-and-said");
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    hwloc_bitmap_list_sscanf(allowed, "2-3");
    CHECK(t && ng_plan_compute_policy(t, allowed, NULL, 1, NULL, NG_MODE_PREFER, &avoid, &p, err,
                                      sizeof(err)) == 0, "%s", err);
    if (t && p.ranks) {
        CHECK(hwloc_bitmap_isequal(p.ranks[0].cpus, allowed) &&
              strstr(p.policy_note, "every allowed cpu is reserved or isolated"), "%s",
              p.policy_note);
        ng_plan_free(&p);
    }
    hwloc_bitmap_free(allowed);
    t_end();

    t_begin("policy/nohz-full-usable-and-shown");
    ng_plan_policy nz = { NULL, 0, iso, NG_RESERVE_OFF };
    CHECK(t && ng_plan_compute_policy(t, NULL, NULL, 8, NULL, NG_MODE_PREFER, &nz, &p, err,
                                      sizeof(err)) == 0, "%s", err);
    if (t && p.ranks) {
        used_cpus(&p, used);
        CHECK(hwloc_bitmap_isincluded(iso, used) && strstr(p.policy_note, "nohz_full cpus 1-7"),
              "%s", p.policy_note);
        ng_plan_free(&p);
    }
    t_end();
    hwloc_bitmap_free(iso);
    hwloc_bitmap_free(used);
    hwloc_bitmap_free(want);
    ng_topo_free(t);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void kernel_files(void)
{
    char root[] = "/tmp/ng-iso-XXXXXX", d[256], p1[300], p2[300], err[NG_ERRLEN];
    hwloc_bitmap_t iso = hwloc_bitmap_alloc(), nohz = hwloc_bitmap_alloc();
    t_begin("policy/kernel-isolated-and-nohz-files");
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    snprintf(d, sizeof(d), "%s/devices", root);
    mkdir(d, 0755);
    snprintf(d, sizeof(d), "%s/devices/system", root);
    mkdir(d, 0755);
    snprintf(d, sizeof(d), "%s/devices/system/cpu", root);
    mkdir(d, 0755);
    CHECK(ng_isolated_read(root, iso, nohz, err, sizeof(err)) == 0 && hwloc_bitmap_iszero(iso) &&
          hwloc_bitmap_iszero(nohz), "missing files: %s", err);
    snprintf(p1, sizeof(p1), "%s/isolated", d);
    snprintf(p2, sizeof(p2), "%s/nohz_full", d);
    put(p1, "2-3,6\n");
    put(p2, "\n");
    CHECK(ng_isolated_read(root, iso, nohz, err, sizeof(err)) == 0 && hwloc_bitmap_weight(iso) == 3 &&
          hwloc_bitmap_isset(iso, 6) && hwloc_bitmap_iszero(nohz), "%s", err);
    put(p2, "  (null)\n");   /* what a kernel without nohz_full configured prints */
    CHECK(ng_isolated_read(root, iso, nohz, err, sizeof(err)) == 0 && hwloc_bitmap_iszero(nohz),
          "(null): %s", err);
    put(p2, "1-x\n");
    CHECK(ng_isolated_read(root, iso, nohz, err, sizeof(err)) < 0 && strstr(err, "nohz_full") &&
          strstr(err, "'1-x'"), "%s", err);
    t_end();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", root);
    hwloc_bitmap_free(iso);
    hwloc_bitmap_free(nohz);
}

int main(void)
{
    policy();
    kernel_files();
    T_EXIT();
}
