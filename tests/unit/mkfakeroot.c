/* mkfakeroot [--pci-order] TOPOLOGY.xml DIR: generate the /proc and /sys entries a GPU
 * node would have for the accelerators of an hwloc XML, under DIR/proc and
 * DIR/sys, and a manifest DIR/manifest.tsv of what was generated:
 *   busid  vendor  minor|-  uuid|-  card|-
 * NVIDIA devices get /proc/driver/nvidia/gpus/<busid>/information with a
 * device minor in *reverse* PCI order (so "index = n-th PCI device" bugs
 * show), others a /sys/class/drm/card<N>/device link, also reversed and
 * starting at card1 (card0 is usually the BMC's VGA); --pci-order numbers
 * both in PCI order instead. Every device gets
 * /sys/bus/pci/devices/<busid>/{vendor,device,class,numa_node}. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "numagpu.h"

static void mkdirs(const char *path)
{
    char tmp[4096];
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
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mkfakeroot: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    int pci_order = argc > 1 && !strcmp(argv[1], "--pci-order");
    argv += pci_order;
    argc -= pci_order;
    if (argc != 3) {
        fprintf(stderr, "usage: mkfakeroot [--pci-order] TOPOLOGY.xml DIR\n");
        return 2;
    }
    char err[NG_ERRLEN], path[8192], text[1024];
    ng_topo *t = ng_topo_load(argv[1], err, sizeof(err));
    if (!t) {
        fprintf(stderr, "mkfakeroot: %s\n", err);
        return 1;
    }
    ng_accel *v;
    int n, nv = 0, other = 0;
    ng_accel_list(t, &v, &n);
    for (int i = 0; i < n; i++)
        v[i].vendor_id == 0x10de ? nv++ : other++;
    snprintf(path, sizeof(path), "%s/manifest.tsv", argv[2]);
    mkdirs(argv[2]);
    FILE *man = fopen(path, "w");
    if (!man) {
        fprintf(stderr, "mkfakeroot: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int seen_nv = 0, seen_other = 0;
    for (int i = 0; i < n; i++) {
        ng_accel *a = &v[i];
        int node = hwloc_bitmap_weight(a->nodes) == 1 ? hwloc_bitmap_first(a->nodes) : -1;
        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", argv[2], a->busid);
        mkdirs(path);
        const char *files[][2] = { { "vendor", "0x%04x\n" }, { "device", "0x%04x\n" },
                                   { "class", "0x%04x00\n" } };
        unsigned vals[] = { a->vendor_id, a->device_id, a->class_id };
        for (int f = 0; f < 3; f++) {
            char p2[8300];
            snprintf(p2, sizeof(p2), "%s/%s", path, files[f][0]);
            snprintf(text, sizeof(text), files[f][1], vals[f]);
            put(p2, text);
        }
        char p2[8300];
        snprintf(p2, sizeof(p2), "%s/numa_node", path);
        snprintf(text, sizeof(text), "%d\n", node);
        put(p2, text);
        if (a->vendor_id == 0x10de) {
            int minor = pci_order ? seen_nv++ : nv - 1 - seen_nv++;
            char uuid[64];
            unsigned h = 2166136261u;
            for (const char *c = a->busid; *c; c++)
                h = (h ^ (unsigned char)*c) * 16777619u;
            snprintf(uuid, sizeof(uuid), "GPU-%08x-%04x-%04x-%04x-%012x", h, minor,
                     h & 0xffff, (h >> 16) & 0xffff, (unsigned)i);
            snprintf(path, sizeof(path), "%s/proc/driver/nvidia/gpus/%s", argv[2], a->busid);
            mkdirs(path);
            snprintf(p2, sizeof(p2), "%s/information", path);
            snprintf(text, sizeof(text), "Model: \t\t Fake GPU\nIRQ:   \t\t 42\n"
                     "GPU UUID: \t %s\nVideo BIOS: \t ??.??.??.??.??\nBus Type: \t PCIe\n"
                     "DMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\n"
                     "Bus Location: \t %s\nDevice Minor: \t %d\n", uuid, a->busid, minor);
            put(p2, text);
            fprintf(man, "%s\t%s\t%d\t%s\t-\n", a->busid, a->vendor, minor, uuid);
        } else {
            int card = pci_order ? ++seen_other : other - seen_other++;
            snprintf(path, sizeof(path), "%s/sys/class/drm/card%d", argv[2], card);
            mkdirs(path);
            snprintf(p2, sizeof(p2), "%s/device", path);
            snprintf(text, sizeof(text), "../../../bus/pci/devices/%s", a->busid);
            unlink(p2);
            if (symlink(text, p2) < 0) {
                fprintf(stderr, "mkfakeroot: symlink %s: %s\n", p2, strerror(errno));
                return 1;
            }
            fprintf(man, "%s\t%s\t-\t-\t%d\n", a->busid, a->vendor, card);
        }
    }
    fclose(man);
    ng_accel_list_free(v, n);
    ng_topo_free(t);
    return 0;
}
