/* GPU id resolution against fake /proc and /sys trees generated from every
 * corpus topology (tests/unit/mkfakeroot), plus the id-form edge cases. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "private/gpudev.h"
#include "numagpu.h"

typedef struct { char busid[32], vendor[16], minor[16], uuid[80], card[16]; } row;

static int load_manifest(const char *dir, row *rows, int max)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && n < max && fscanf(f, "%31s %15s %15s %79s %15s", rows[n].busid,
                                  rows[n].vendor, rows[n].minor, rows[n].uuid,
                                  rows[n].card) == 5)
        n++;
    if (f)
        fclose(f);
    return n;
}

static int resolves_to(const ng_topo *t, const ng_roots *r, ng_idx_kind k,
                       const char *id, const char *want, char *err, size_t len)
{
    char b[NG_BUSID_LEN];
    if (ng_gpu_resolve(t, r, k, id, b, err, len) < 0)
        return 0;
    if (strcmp(b, want) != 0) {
        snprintf(err, len, "'%s' resolved to %s, want %s", id, b, want);
        return 0;
    }
    return 1;
}

static const char *mkfakeroot(void)
{
    const char *p = getenv("NUMA_GPU_MKFAKEROOT");
    return p ? p : "build/mkfakeroot";
}

static void corpus_file(const char *xml, const char *name)
{
    char dir[] = "/tmp/ng-fake-XXXXXX", cmd[8192], err[NG_ERRLEN];
    if (!mkdtemp(dir))
        return;
    snprintf(cmd, sizeof(cmd), "%s '%s' %s", mkfakeroot(), xml, dir);
    t_begin("gpu/fakeroot-ids/%s", name);
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    CHECK(t, "load: %s", err);
    CHECK(system(cmd) == 0, "mkfakeroot failed: %s", cmd);
    row rows[64];
    int n = load_manifest(dir, rows, 64);
    char proc[4200], sys[4200];
    snprintf(proc, sizeof(proc), "%s/proc", dir);
    snprintf(sys, sizeof(sys), "%s/sys", dir);
    ng_roots r = { .procfs = proc, .sysfs = sys };
    int has_rsmi = 0, has_nvidia = 0;
    ng_accel *v = NULL;
    int nv = 0;
    if (t) {
        ng_accel_list(t, &v, &nv);
        CHECK(nv == n, "manifest has %d devices, topology lists %d", n, nv);
        for (int i = 0; i < nv; i++)
            has_rsmi |= strstr(v[i].osdevs, "rsmi") != NULL;
    }
    for (int i = 0; i < n; i++)
        has_nvidia |= strcmp(rows[i].minor, "-") != 0;
    char steps[1024] = "", uuids[4096] = "";
    for (int i = 0; t && i < n; i++) {
        row *w = &rows[i];
        if (strcmp(w->minor, "-")) {
            CHECK(resolves_to(t, &r, NG_IDX_GRES, w->minor, w->busid, err, sizeof(err)),
                  "GRES minor %s: %s", w->minor, err);
            CHECK(resolves_to(t, &r, NG_IDX_CUDA, w->uuid, w->busid, err, sizeof(err)),
                  "UUID: %s", err);
            char mig[128];
            snprintf(mig, sizeof(mig), "MIG-%s/1/0", w->uuid);
            CHECK(resolves_to(t, &r, NG_IDX_CUDA, mig, w->busid, err, sizeof(err)),
                  "legacy MIG id: %s", err);
            size_t u = strlen(steps), uu = strlen(uuids);
            snprintf(steps + u, sizeof(steps) - u, "%s%s", u ? "," : "", w->minor);
            snprintf(uuids + uu, sizeof(uuids) - uu, "%s%s", uu ? "," : "", w->uuid);
        } else {
            /* On a mixed-vendor node a bare GRES index is ambiguous (NVIDIA
             * minors claim it first); only the admin map can say more. */
            if (!has_nvidia)
                CHECK(resolves_to(t, &r, NG_IDX_GRES, w->card, w->busid, err, sizeof(err)),
                      "DRM card %s: %s", w->card, err);
            if (!has_rsmi)
                CHECK(resolves_to(t, &r, NG_IDX_ROCM, w->card, w->busid, err, sizeof(err)),
                      "ROCR index %s: %s", w->card, err);
        }
        /* gres.conf File= names the device: /dev/nvidia<minor>, /dev/dri/card<N>. */
        char dev[64], fb[NG_BUSID_LEN];
        if (strcmp(w->minor, "-")) {
            snprintf(dev, sizeof(dev), "/dev/nvidia%s", w->minor);
            CHECK(ng_gpu_resolve_file(&r, dev, fb, err, sizeof(err)) == 0 &&
                  !strcmp(fb, w->busid), "%s: %s (want %s)", dev, err, w->busid);
        }
        if (strcmp(w->card, "-")) {
            snprintf(dev, sizeof(dev), "/dev/dri/card%s", w->card);
            CHECK(ng_gpu_resolve_file(&r, dev, fb, err, sizeof(err)) == 0 &&
                  !strcmp(fb, w->busid), "%s: %s (want %s)", dev, err, w->busid);
        }
        /* Bus id spellings: as nvidia-smi prints it, no domain, upper case. */
        char up[32], longdom[48];
        snprintf(longdom, sizeof(longdom), "0000%.20s", w->busid);
        for (int c = 0; c < 32; c++)
            up[c] = (char)(w->busid[c] >= 'a' && w->busid[c] <= 'f' ? w->busid[c] - 32 : w->busid[c]);
        CHECK(resolves_to(t, &r, NG_IDX_GRES, longdom, w->busid, err, sizeof(err)), "%s", err);
        CHECK(resolves_to(t, &r, NG_IDX_GRES, up, w->busid, err, sizeof(err)), "%s", err);
        if (!strncmp(w->busid, "0000:", 5))
            CHECK(resolves_to(t, &r, NG_IDX_GRES, w->busid + 5, w->busid, err, sizeof(err)),
                  "%s", err);
    }
    /* The whole list through the environment, as Slurm sets it. */
    if (t && steps[0]) {
        t_env e = { { "SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES" }, { steps, "0" } };
        char (*b)[NG_BUSID_LEN];
        int nb;
        const char *src;
        CHECK(ng_gpu_from_env(t, &r, t_getenv, &e, &b, &nb, &src, err, sizeof(err)) == 0,
              "env: %s", err);
        CHECK(!strcmp(src, "SLURM_STEP_GPUS"), "source %s", src);
        int nvidia = 0;
        for (int i = 0; i < n; i++)
            nvidia += strcmp(rows[i].minor, "-") != 0;
        CHECK(nb == nvidia, "got %d GPUs from SLURM_STEP_GPUS=%s", nb, steps);
        for (int i = 0, k = 0; i < n && k < nb; i++)
            if (strcmp(rows[i].minor, "-")) {
                /* SLURM_STEP_GPUS lists minors in manifest order. */
                CHECK(!strcmp(b[k], rows[i].busid), "env entry %d: %s vs %s", k, b[k],
                      rows[i].busid);
                k++;
            }
        free(b);
        t_env e2 = { { "CUDA_VISIBLE_DEVICES" }, { uuids } };
        CHECK(ng_gpu_from_env(t, &r, t_getenv, &e2, &b, &nb, &src, err, sizeof(err)) == 0
              && nb == nvidia, "UUID list: %s", err);
        free(b);
    }
    ng_accel_list_free(v, nv);
    ng_topo_free(t);
    t_end();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* A node with NVIDIA and AMD GPUs (the Dell's fourth GPU renamed rsmi0 in
 * a copy of its XML): GRES index 0 is nvml0 or rsmi0, which only
 * gres.conf's order tells; refused naming both and the fix. Device files
 * that name no GPU are errors too. */
static void mixed_vendor(void)
{
    char in[4096], out[] = "/tmp/ng-mixed-XXXXXX.xml", err[NG_ERRLEN], b[NG_BUSID_LEN];
    snprintf(in, sizeof(in), "%s/dell-xe8640-2s-xeon8480-snc4-4xh100.xml", t_corpus());
    t_begin("gpu/mixed-vendor-gres-index-refused-with-the-fix");
    FILE *f = fopen(in, "r");
    int fd = mkstemps(out, 4);
    FILE *o = fd >= 0 ? fdopen(fd, "w") : NULL;
    char line[8192];
    int renamed = 0;
    while (f && o && fgets(line, sizeof(line), f)) {
        char *p = strstr(line, "name=\"nvml3\"");
        if (p) {
            memcpy(p, "name=\"rsmi0\"", 12);
            renamed++;
        }
        fputs(line, o);
    }
    if (f)
        fclose(f);
    if (o)
        fclose(o);
    CHECK(renamed == 1, "nvml3 renamed %d times", renamed);
    ng_topo *t = renamed == 1 ? ng_topo_load(out, err, sizeof(err)) : NULL;
    ng_roots r = { .offline = 1 };
    CHECK(t && ng_gpu_resolve(t, &r, NG_IDX_GRES, "0", b, err, sizeof(err)) < 0 &&
          strstr(err, "GRES index 0 is ambiguous") && strstr(err, "nvml0 is 0000:4e:00.0") &&
          strstr(err, "rsmi0 is 0000:db:00.0") && strstr(err, "gres.conf order"), "%s", err);
    CHECK(t && ng_gpu_resolve(t, &r, NG_IDX_GRES, "1", b, err, sizeof(err)) == 0,
          "index 1 (NVIDIA only) refused: %s", err);
    ng_topo_free(t);
    unlink(out);
    t_end();

    t_begin("gpu/device-file-errors-name-the-file");
    ng_roots live = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };
    CHECK(ng_gpu_resolve_file(&live, "/dev/nvidia-uvm", b, err, sizeof(err)) < 0 &&
          strstr(err, "'/dev/nvidia-uvm' has no index"), "%s", err);
    CHECK(ng_gpu_resolve_file(&live, "/dev/nvidia7", b, err, sizeof(err)) < 0 &&
          strstr(err, "no NVIDIA GPU with minor 7"), "%s", err);
    CHECK(ng_gpu_resolve_file(&live, "/dev/dri/renderD129", b, err, sizeof(err)) < 0 &&
          strstr(err, "renderD129/device is not"), "%s", err);
    CHECK(ng_gpu_resolve_file(&live, "/dev/accel3", b, err, sizeof(err)) < 0 &&
          strstr(err, "not an NVIDIA or DRM device"), "%s", err);
    CHECK(ng_gpu_resolve_file(&r, "/dev/nvidia0", b, err, sizeof(err)) < 0 &&
          strstr(err, "not this machine"), "offline: %s", err);
    t_end();
}

/* CUDA ordinals follow hwloc's cudaN OS devices, not PCI or tree order. */
static void cuda_ordinals(void)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/dell-xe8640-2s-xeon8480-snc4-4xh100.xml", t_corpus());
    t_begin("gpu/cuda-ordinal-follows-osdev");
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    CHECK(t, "%s", err);
    ng_accel *v = NULL;
    int n = 0, checked = 0;
    if (t)
        ng_accel_list(t, &v, &n);
    for (int i = 0; i < n; i++) {
        const char *c = strstr(v[i].osdevs, "cuda");
        if (!c)
            continue;
        char idx[8];
        snprintf(idx, sizeof(idx), "%d", atoi(c + 4));
        ng_roots r = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };
        CHECK(resolves_to(t, &r, NG_IDX_CUDA, idx, v[i].busid, err, sizeof(err)), "%s", err);
        checked++;
    }
    CHECK(checked == 4, "expected 4 CUDA devices, saw %d", checked);
    /* The tree lists 5f:00.0 first; "CUDA 0 = first GPU found" would say so. */
    char b[NG_BUSID_LEN];
    ng_roots r = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };
    CHECK(t && ng_gpu_resolve(t, &r, NG_IDX_CUDA, "0", b, err, sizeof(err)) == 0 &&
          strcmp(b, "0000:5f:00.0") != 0, "CUDA 0 resolved to tree-first GPU %s", b);
    ng_accel_list_free(v, n);
    ng_topo_free(t);
    t_end();
}

static void errors_and_map(void)
{
    char xml[4096], err[NG_ERRLEN], b[NG_BUSID_LEN];
    snprintf(xml, sizeof(xml), "%s/jsc-juwels-booster-2s-epyc7402-nps4-4xa100-nogpuosdev.xml",
             t_corpus());
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    ng_roots none = { .procfs = "/nonexistent", .sysfs = "/nonexistent" };

    t_begin("gpu/unresolvable-index-is-an-error-not-a-guess");
    CHECK(t && ng_gpu_resolve(t, &none, NG_IDX_GRES, "0", b, err, sizeof(err)) < 0,
          "index 0 resolved without any source to %s", b);
    CHECK(strstr(err, "GRES index 0"), "message: %s", err);
    t_end();

    t_begin("gpu/pci-order-only-when-admin-opts-in");
    ng_roots pci = none;
    pci.pci_order = 1;
    CHECK(t && ng_gpu_resolve(t, &pci, NG_IDX_GRES, "1", b, err, sizeof(err)) == 0 &&
          !strcmp(b, "0000:44:00.0"), "pci order 1 -> %s (%s)", b, err);
    t_end();

    t_begin("gpu/bad-ids-named-in-error");
    const char *bad[] = { "abc", "-1", "GPU-nope", "MIG-1234", "", "0x3", "12:34:56.0" };
    for (size_t i = 0; t && i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(ng_gpu_resolve(t, &none, NG_IDX_GRES, bad[i], b, err, sizeof(err)) < 0,
              "'%s' accepted as %s", bad[i], b);
        CHECK(!*bad[i] || strstr(err, bad[i]) || strstr(err, "GPU id"), "'%s': %s", bad[i], err);
    }
    t_end();

    t_begin("gpu/admin-map-names-mig-and-indexes");
    char map[] = "/tmp/ng-map-XXXXXX";
    int fd = mkstemp(map);
    const char *text = "# admin map\n0 0000:84:00.0\nMIG-6f2a 0000:c4:00.0\n";
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "map");
    if (fd >= 0)
        close(fd);
    ng_roots m = none;
    m.gpu_map = map;
    CHECK(resolves_to(t, &m, NG_IDX_GRES, "0", "0000:84:00.0", err, sizeof(err)), "%s", err);
    CHECK(resolves_to(t, &m, NG_IDX_CUDA, "MIG-6f2a", "0000:c4:00.0", err, sizeof(err)), "%s", err);
    unlink(map);
    t_end();

    t_begin("gpu/busid-parse-forms");
    char o[NG_BUSID_LEN];
    CHECK(ng_busid_parse("00000000:5F:00.0", o) == 0 && !strcmp(o, "0000:5f:00.0"), "%s", o);
    CHECK(ng_busid_parse("5f:00.0", o) == 0 && !strcmp(o, "0000:5f:00.0"), "%s", o);
    CHECK(ng_busid_parse("0035:03:00.0", o) == 0 && !strcmp(o, "0035:03:00.0"), "%s", o);
    CHECK(ng_busid_parse("5f:00.8", o) < 0, "function 8 accepted");
    CHECK(ng_busid_parse("5f:00.0x", o) < 0, "trailing junk accepted");
    CHECK(ng_busid_parse("1ffff:5f:00.0", o) < 0, "domain > 0xffff accepted");
    t_end();

    t_begin("gpu/env-precedence-and-nodevfiles");
    t_env e = { { "CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES" },
                   { "NoDevFiles", "0000:03:00.0" } };
    char (*list)[NG_BUSID_LEN] = NULL;
    int n = 0;
    const char *src = "";
    CHECK(t && ng_gpu_from_env(t, &none, t_getenv, &e, &list, &n, &src, err, sizeof(err)) == 0,
          "%s", err);
    CHECK(n == 1 && !strcmp(src, "ROCR_VISIBLE_DEVICES"), "n=%d src=%s", n, src);
    free(list);
    t_env z = { { "ZE_AFFINITY_MASK" }, { "0000:03:00.0,bogus" } };
    CHECK(t && ng_gpu_from_env(t, &none, t_getenv, &z, &list, &n, &src, err, sizeof(err)) < 0 &&
          strstr(err, "ZE_AFFINITY_MASK") && strstr(err, "bogus"), "error: %s", err);
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    if (t_each_corpus_xml("gpu", corpus_file) < 0)
        return 1;
    mixed_vendor();
    cuda_ordinals();
    errors_and_map();
    T_EXIT();
}
