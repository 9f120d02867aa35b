/* GPU identity: everything a job may see (GRES index, runtime ordinals,
 * UUIDs, bus ids) resolved to a PCI bus id. Never positional guesses: an
 * index is only mapped through something that names the device (admin map,
 * NVIDIA /proc entry, DRM card link, hwloc OS device) unless the admin opted
 * into PCI order. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private/gpudev.h"
#include "private/gpumap.h"
#include "private/util.h"

#define MAX_ENV_LEN 4096
#define MAX_GPUS 256

/* Admin map: "KEY BUSID" per line, '#' comments. */
static int map_lookup(const char *path, const char *key, char busid[NG_BUSID_LEN])
{
    /* O_NONBLOCK + regular file: a FIFO or device as map never hangs us. */
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
    struct stat st;
    if (fd < 0)
        return -1;
    FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "r") : NULL;
    if (!f) {
        close(fd);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int found = -1;
    /* Whole lines of any length: a long comment never turns into a mapping. */
    while (found < 0 && getline(&line, &cap, f) > 0) {
        char *save = NULL, *k = strtok_r(line, " \t\r\n", &save);
        char *b = k ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (!k || k[0] == '#' || !b || strtok_r(NULL, " \t\r\n", &save))
            continue;
        if (strcmp(k, key) == 0 && ng_busid_parse(b, busid) == 0)
            found = 0;
    }
    free(line);
    fclose(f);
    return found;
}

/* One "numa_node BUSID NODES" line (tokens after the key) checked against
 * t; 0 taken, 1 a GPU t does not have, -1 wrong. */
static int locality_line(const ng_topo *t, const char *path, int ln, char *b, char *list,
                         char busid[NG_BUSID_LEN], hwloc_bitmap_t nodes, char *err,
                         size_t errlen)
{
    char cn[256];
    ng_accel a;
    if (!b || !list)
        return ng_err(err, errlen, "gpu_map %s line %d: expected '" NG_MAP_NUMA_KEY
                      " BUSID NODES' (e.g. " NG_MAP_NUMA_KEY " 0000:4e:00.0 3)", path, ln);
    if (ng_busid_parse(b, busid) < 0)
        return ng_err(err, errlen, "gpu_map %s line %d: '%s' is not a PCI bus id", path, ln,
                      b);
    if (ng_list_parse(list, nodes) < 0 || hwloc_bitmap_iszero(nodes) ||
        hwloc_bitmap_last(nodes) >= NG_MAX_NODES)
        return ng_err(err, errlen, "gpu_map %s line %d: '%s' is not a list of NUMA nodes "
                      "(e.g. 3 or 2,3)", path, ln, list);
    /* a GPU this machine does not have: the line is another machine's */
    if (ng_accel_lookup(t, busid, &a, NULL, 0) < 0)
        return 1;
    ng_accel_clear(&a);
    if (!hwloc_bitmap_isincluded(nodes, ng_topo_cpu_nodes(t)))
        return ng_err(err, errlen, "gpu_map %s line %d: node(s) %s of GPU %s are not NUMA "
                      "nodes with CPUs in topology %s (those are %s)", path, ln, list, busid,
                      ng_topo_source(t), ng_list_str(ng_topo_cpu_nodes(t), cn, sizeof(cn)));
    return 0;
}

int ng_gpu_map_locality(ng_topo *t, const char *path, int *applied, int *skipped, char *err,
                        size_t errlen)
{
    *applied = *skipped = 0;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
    struct stat st;
    FILE *f = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "r") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ng_err(err, errlen, "gpu_map %s: %s", path ? path : "(none)",
                      fd >= 0 ? "not a regular file" : strerror(e));
    }
    struct { char busid[NG_BUSID_LEN]; hwloc_bitmap_t nodes; } *v = NULL;
    int n = 0, ln = 0, rc = 0;
    char *line = NULL;
    size_t cap = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        ln++;
        char *save = NULL, *k = strtok_r(line, " \t\r\n", &save);
        if (!k || strcmp(k, NG_MAP_NUMA_KEY) != 0)
            continue;   /* comments and "ID BUSID" lines */
        char *b = strtok_r(NULL, " \t\r\n", &save), *list = strtok_r(NULL, " \t\r\n", &save);
        char busid[NG_BUSID_LEN] = "";
        hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
        int r = strtok_r(NULL, " \t\r\n", &save)
              ? ng_err(err, errlen, "gpu_map %s line %d: extra words after the node list",
                       path, ln)
              : locality_line(t, path, ln, b, list, busid, nodes, err, errlen);
        for (int i = 0; r == 0 && i < n; i++)
            if (!strcmp(v[i].busid, busid))
                r = ng_err(err, errlen, "gpu_map %s line %d: GPU %s is listed twice", path, ln,
                           busid);
        if (r == 0) {
            void *nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
            if (nv) {
                v = nv;
                memcpy(v[n].busid, busid, NG_BUSID_LEN);
                v[n++].nodes = nodes;
                continue;
            }
            r = ng_err(err, errlen, "out of memory");
        }
        hwloc_bitmap_free(nodes);
        if (r == 1)
            (*skipped)++;
        else
            rc = -1;
    }
    free(line);
    fclose(f);
    for (int i = 0; i < n; i++) {
        if (rc == 0 && ng_topo_gpu_nodes_set(t, v[i].busid, v[i].nodes) < 0)
            rc = ng_err(err, errlen, "out of memory");
        hwloc_bitmap_free(v[i].nodes);
    }
    free(v);
    if (rc < 0)
        ng_topo_gpu_nodes_clear(t);   /* all or none */
    else
        *applied = n;
    return rc;
}

/* NVIDIA: /proc/driver/nvidia/gpus/<busid>/information has "Device Minor:"
 * and "GPU UUID:". field is the line label, want the value to match. */
static int nvidia_lookup(const char *procfs, const char *field, const char *want,
                         char busid[NG_BUSID_LEN])
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/driver/nvidia/gpus", procfs);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir(d))) {
        char norm[NG_BUSID_LEN], path[8192], text[4096];
        if (ng_busid_parse(e->d_name, norm) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/information", dir, e->d_name);
        if (ng_read_file(path, text, sizeof(text)) < 0)
            continue;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            size_t fl = strlen(field);
            if (strncmp(line, field, fl) != 0 || line[fl] != ':')
                continue;
            char *v = line + fl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            char *end = v + strlen(v);
            while (end > v && isspace((unsigned char)end[-1]))
                *--end = '\0';
            if (strcasecmp(v, want) == 0) {
                memcpy(busid, norm, NG_BUSID_LEN);
                found = 0;
            }
            break;
        }
    }
    closedir(d);
    return found;
}

/* DRM: /sys/class/drm/card<N>/device links to the PCI device directory. */
static int drm_lookup(const char *sysfs, const char *idx, char busid[NG_BUSID_LEN])
{
    char path[4096], target[4096];
    snprintf(path, sizeof(path), "%s/class/drm/card%s/device", sysfs, idx);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    return ng_busid_parse(base ? base + 1 : target, busid);
}

int ng_gpu_resolve_file(const ng_roots *r, const char *path, char busid[NG_BUSID_LEN],
                        char *err, size_t errlen)
{
    const char *procfs = r && r->procfs ? r->procfs : "/proc";
    const char *sysfs = r && r->sysfs ? r->sysfs : "/sys";
    const char *name = path ? strrchr(path, '/') : NULL;
    name = name ? name + 1 : path;
    if (!name || !*name || strlen(name) > 64)
        return ng_err(err, errlen, "no GPU device file");
    size_t d = strspn(name + strcspn(name, "0123456789"), "0123456789");
    const char *num = name + strcspn(name, "0123456789");
    if (d == 0 || num[d])
        return ng_err(err, errlen, "device file '%s' has no index", path);
    if (r && r->offline)
        return ng_err(err, errlen, "device file '%s': the topology is not this machine", path);
    if (!strncmp(name, "nvidia", 6) && num == name + 6) {
        if (nvidia_lookup(procfs, "Device Minor", num, busid) == 0)
            return 0;
        return ng_err(err, errlen, "device file '%s': no NVIDIA GPU with minor %s in "
                      "%s/driver/nvidia/gpus", path, num, procfs);
    }
    if ((!strncmp(name, "card", 4) && num == name + 4) ||
        (!strncmp(name, "renderD", 7) && num == name + 7)) {
        char link[4096], target[4096];
        snprintf(link, sizeof(link), "%s/class/drm/%s/device", sysfs, name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            const char *base = strrchr(target, '/');
            if (ng_busid_parse(base ? base + 1 : target, busid) == 0)
                return 0;
        }
        return ng_err(err, errlen, "device file '%s': %s is not a PCI device's", path, link);
    }
    return ng_err(err, errlen, "device file '%s' is not an NVIDIA or DRM device", path);
}

/* hwloc OS device named <prefix><idx> (cuda0, nvml0, rsmi1, ze2). */
static int osdev_lookup(const ng_topo *t, const char *prefix, const char *idx,
                        char busid[NG_BUSID_LEN])
{
    char name[64];
    snprintf(name, sizeof(name), "%s%s", prefix, idx);
    hwloc_topology_t h = ng_topo_hwloc(t);
    hwloc_obj_t o = NULL;
    while ((o = hwloc_get_next_osdev(h, o))) {
        if (!o->name || strcmp(o->name, name) != 0)
            continue;
        hwloc_obj_t p = o->parent;
        if (!p || p->type != HWLOC_OBJ_PCI_DEVICE)
            return -1;
        struct hwloc_pcidev_attr_s *a = &p->attr->pcidev;
        snprintf(busid, NG_BUSID_LEN, "%04x:%02x:%02x.%x",
                 (unsigned)a->domain & 0xffff, a->bus, a->dev, a->func);
        return 0;
    }
    return -1;
}

static int pci_order_lookup(const ng_topo *t, unsigned long idx,
                            char busid[NG_BUSID_LEN])
{
    ng_accel *v;
    int n, rc = -1;
    if (ng_accel_list(t, &v, &n) < 0)
        return -1;
    if (idx < (unsigned long)n) {
        memcpy(busid, v[idx].busid, NG_BUSID_LEN);
        rc = 0;
    }
    ng_accel_list_free(v, n);
    return rc;
}

static const char *kind_name(ng_idx_kind k)
{
    switch (k) {
    case NG_IDX_CUDA: return "CUDA ordinal";
    case NG_IDX_ROCM: return "ROCm ordinal";
    case NG_IDX_ZE: return "Level Zero ordinal";
    default: return "GRES index";
    }
}

int ng_gpu_resolve(const ng_topo *t, const ng_roots *r, ng_idx_kind kind,
                   const char *id, char busid[NG_BUSID_LEN], char *err,
                   size_t errlen)
{
    const char *procfs = r && r->procfs ? r->procfs : "/proc";
    const char *sysfs = r && r->sysfs ? r->sysfs : "/sys";
    const char *map = r ? r->gpu_map : NULL;
    if (!id || !*id || strlen(id) > 128)
        return ng_err(err, errlen, "empty or oversized GPU id");
    if (map_lookup(map, id, busid) == 0)
        return 0;
    if (ng_busid_parse(id, busid) == 0)
        return 0;
    if (strncmp(id, "GPU-", 4) == 0) {
        if (!(r && r->offline) && nvidia_lookup(procfs, "GPU UUID", id, busid) == 0)
            return 0;
        return ng_err(err, errlen, "GPU UUID '%s' not found in %s/driver/nvidia/gpus"
                      " nor in the GPU map", id, procfs);
    }
    if (strncmp(id, "MIG-", 4) == 0) {
        /* Legacy MIG-GPU-<uuid>/<gi>/<ci> names its parent GPU. */
        char parent[128];
        if (strncmp(id + 4, "GPU-", 4) == 0) {
            snprintf(parent, sizeof(parent), "%s", id + 4);
            char *slash = strchr(parent, '/');
            if (slash)
                *slash = '\0';
            if (nvidia_lookup(procfs, "GPU UUID", parent, busid) == 0)
                return 0;
        }
        return ng_err(err, errlen, "MIG device '%s': its parent GPU is not known;"
                      " list it in the GPU map (gpu_map=) as '%s <busid>'", id, id);
    }
    char *end;
    errno = 0;
    unsigned long idx = strtoul(id, &end, 10);
    if (*end || errno || !isdigit((unsigned char)id[0]) || idx >= 4096)
        return ng_err(err, errlen, "GPU id '%s' is not an index, a GPU-/MIG- UUID"
                      " or a PCI bus id", id);
    char num[16];
    snprintf(num, sizeof(num), "%lu", idx);
    switch (kind) {
    case NG_IDX_CUDA:
        if (osdev_lookup(t, "cuda", num, busid) == 0)
            return 0;
        break;
    case NG_IDX_ROCM:
        if (osdev_lookup(t, "rsmi", num, busid) == 0)
            return 0;
        break;
    case NG_IDX_ZE:
        if (osdev_lookup(t, "ze", num, busid) == 0)
            return 0;
        break;
    default:
        break;
    }
    int host = !(r && r->offline);
    if (host && kind != NG_IDX_ROCM && kind != NG_IDX_ZE &&
        nvidia_lookup(procfs, "Device Minor", num, busid) == 0)
        return 0;
    if (host && kind != NG_IDX_CUDA && drm_lookup(sysfs, num, busid) == 0)
        return 0;
    if (kind == NG_IDX_GRES) {
        /* A node with NVIDIA and AMD GPUs: nvmlN and rsmiN are two devices,
         * and Slurm's index N is the N-th of gres.conf, which hwloc cannot
         * tell. Refuse rather than guess. */
        char nb[NG_BUSID_LEN], rb[NG_BUSID_LEN];
        int nv = osdev_lookup(t, "nvml", num, nb) == 0, rs = osdev_lookup(t, "rsmi", num, rb) == 0;
        if (nv && rs && strcmp(nb, rb))
            return ng_err(err, errlen, "GRES index %lu is ambiguous on this node: nvml%lu is "
                          "%s and rsmi%lu is %s (NVIDIA and AMD GPUs; Slurm numbers them in "
                          "gres.conf order); give PCI bus ids, or an 'INDEX BUSID' gpu_map in "
                          "gres.conf order", idx, idx, nb, idx, rb);
        if (nv || rs) {
            memcpy(busid, nv ? nb : rb, NG_BUSID_LEN);
            return 0;
        }
    }
    if (r && r->pci_order && pci_order_lookup(t, idx, busid) == 0)
        return 0;
    return ng_err(err, errlen, "%s %lu: no device names it (no NVIDIA minor in "
                  "%s/driver/nvidia/gpus, no %s/class/drm/card%lu, no hwloc OS "
                  "device, no GPU map entry); give a PCI bus id or configure gpu_map",
                  kind_name(kind), idx, procfs, sysfs, idx);
}

static const struct {
    const char *var;
    ng_idx_kind kind;
} env_sources[] = {
    { "SLURM_STEP_GPUS", NG_IDX_GRES },
    { "SLURM_JOB_GPUS", NG_IDX_GRES },
    { "CUDA_VISIBLE_DEVICES", NG_IDX_CUDA },
    { "ROCR_VISIBLE_DEVICES", NG_IDX_ROCM },
    { "HIP_VISIBLE_DEVICES", NG_IDX_ROCM },
    { "ZE_AFFINITY_MASK", NG_IDX_ZE },
    { "GPU_DEVICE_ORDINAL", NG_IDX_ROCM },
};

int ng_gpu_from_env(const ng_topo *t, const ng_roots *r, ng_getenv_fn fn,
                    void *ctx, char (**busids)[NG_BUSID_LEN], int *n,
                    const char **source, char *err, size_t errlen)
{
    *busids = NULL;
    *n = 0;
    *source = "";
    for (size_t s = 0; s < sizeof(env_sources) / sizeof(env_sources[0]); s++) {
        const char *val = fn(env_sources[s].var, ctx);
        /* Slurm writes NoDevFiles when the step has no GPU files. */
        if (!val || !*val || strcmp(val, "NoDevFiles") == 0)
            continue;
        *source = env_sources[s].var;
        if (strlen(val) > MAX_ENV_LEN)
            return ng_err(err, errlen, "%s is longer than %d characters",
                          env_sources[s].var, MAX_ENV_LEN);
        return ng_gpu_parse_list(t, r, env_sources[s].kind, env_sources[s].var,
                                 val, busids, n, err, errlen);
    }
    return 0;
}

int ng_gpu_parse_list(const ng_topo *t, const ng_roots *r, ng_idx_kind kind,
                      const char *what, const char *val,
                      char (**busids)[NG_BUSID_LEN], int *n, char *err,
                      size_t errlen)
{
    char *copy = strdup(val);
    char (*out)[NG_BUSID_LEN] = calloc(MAX_GPUS, NG_BUSID_LEN);
    if (!copy || !out) {
        free(copy);
        free(out);
        return ng_err(err, errlen, "out of memory");
    }
    int cnt = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        /* ZE_AFFINITY_MASK "1.0" = device 1, sub-device 0. */
        if (kind == NG_IDX_ZE) {
            char *dot = strchr(tok, '.');
            if (dot)
                *dot = '\0';
        }
        char b[NG_BUSID_LEN], e[NG_ERRLEN];
        if (ng_gpu_resolve(t, r, kind, tok, b, e, sizeof(e)) < 0) {
            ng_err(err, errlen, "%s=%s: %s", what, val, e);
            goto fail;
        }
        int dup = 0;
        for (int i = 0; i < cnt; i++)
            dup |= strcmp(out[i], b) == 0;
        if (dup)
            continue;
        if (cnt == MAX_GPUS) {
            ng_err(err, errlen, "%s lists more than %d GPUs", what, MAX_GPUS);
            goto fail;
        }
        memcpy(out[cnt++], b, NG_BUSID_LEN);
    }
    free(copy);
    *busids = out;
    *n = cnt;
    return 0;
fail:
    free(copy);
    free(out);
    return -1;
}

int ng_roots_for_file(const ng_topo *t, ng_roots *r)
{
    char b[NG_BUSID_LEN], e[NG_ERRLEN];
    ng_accel *v = NULL;
    int n = 0;
    r->offline = 1;
    if (r->pci_order || r->gpu_map || ng_gpu_resolve(t, r, NG_IDX_GRES, "0", b, e, sizeof(e)) == 0 ||
        ng_accel_list(t, &v, &n) < 0)
        return 0;
    ng_accel_list_free(v, n);
    r->pci_order = n > 0;
    return n;
}
