/* What the job may use: the cpuset and mems of the calling process's cgroup
 * (v2 unified or v1 cpuset hierarchy). Not the current affinity mask: Slurm's
 * task/affinity has already narrowed that to a slice by the time we run.
 * Falls back to all online CPUs and the kernel's Mems_allowed_list. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/cgroup.h"
#include "private/util.h"

/* Read a cpuset file of cgroup `path` under `base`, walking up to the root
 * while the file is absent or empty (cpuset not enabled down there). */
static int read_up(const char *base, const char *path, const char *file,
                   hwloc_bitmap_t out)
{
    char p[8400], dir[4096], text[8192];
    snprintf(dir, sizeof(dir), "%s", path);
    for (;;) {
        snprintf(p, sizeof(p), "%s%s/%s", base, strcmp(dir, "/") ? dir : "", file);
        if (ng_read_file(p, text, sizeof(text)) > 1 && ng_list_parse(text, out) == 0 &&
            !hwloc_bitmap_iszero(out))
            return 0;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) {
            if (strcmp(dir, "/") == 0)
                return -1;
            snprintf(dir, sizeof(dir), "/");
        } else {
            *slash = '\0';
        }
    }
}

static int status_field(const char *procfs, int pid, const char *field, hwloc_bitmap_t out)
{
    char p[4096], text[16384];
    if (pid > 0)
        snprintf(p, sizeof(p), "%s/%d/status", procfs, pid);
    else
        snprintf(p, sizeof(p), "%s/self/status", procfs);
    if (ng_read_file(p, text, sizeof(text)) < 0)
        return -1;
    char *l = strstr(text, field);
    if (!l)
        return -1;
    l += strlen(field);
    while (*l == ':' || *l == '\t' || *l == ' ')
        l++;
    char *nl = strchr(l, '\n');
    if (nl)
        *nl = '\0';
    return ng_list_parse(l, out);
}

int ng_allowed_read(const char *procfs, const char *sysfs, int pid,
                    hwloc_bitmap_t cpus, hwloc_bitmap_t mems, char *err, size_t errlen)
{
    procfs = procfs ? procfs : "/proc";
    sysfs = sysfs ? sysfs : "/sys";
    char p[4096], text[8192], base[4200];
    if (pid > 0)
        snprintf(p, sizeof(p), "%s/%d/cgroup", procfs, pid);
    else
        snprintf(p, sizeof(p), "%s/self/cgroup", procfs);
    int got_cpus = -1, got_mems = -1;
    if (ng_read_file(p, text, sizeof(text)) > 0) {
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2)
                continue;
            *c2 = '\0';
            const char *ctrl = c1 + 1, *path = c2 + 1;
            if (strcmp(ctrl, "cpuset") == 0 || strstr(ctrl, "cpuset,") || strstr(ctrl, ",cpuset")) {
                snprintf(base, sizeof(base), "%s/fs/cgroup/cpuset", sysfs);
                if (got_cpus)
                    got_cpus = read_up(base, path, "cpuset.effective_cpus", cpus) == 0 ? 0
                             : read_up(base, path, "cpuset.cpus", cpus);
                if (got_mems)
                    got_mems = read_up(base, path, "cpuset.effective_mems", mems) == 0 ? 0
                             : read_up(base, path, "cpuset.mems", mems);
            } else if (*ctrl == '\0' && strncmp(l, "0", 1) == 0) {
                snprintf(base, sizeof(base), "%s/fs/cgroup", sysfs);
                if (got_cpus)
                    got_cpus = read_up(base, path, "cpuset.cpus.effective", cpus);
                if (got_mems)
                    got_mems = read_up(base, path, "cpuset.mems.effective", mems);
            }
        }
    }
    if (got_cpus) {
        snprintf(p, sizeof(p), "%s/devices/system/cpu/online", sysfs);
        if (ng_read_file(p, text, sizeof(text)) < 0 || ng_list_parse(text, cpus) < 0)
            return ng_err(err, errlen, "cannot read allowed cpus (no cpuset cgroup, no %s)", p);
    }
    if (got_mems && status_field(procfs, pid, "Mems_allowed_list", mems) < 0)
        return ng_err(err, errlen, "cannot read Mems_allowed_list from %s/%s/status", procfs,
                      pid > 0 ? "<pid>" : "self");
    return 0;
}

int ng_isolated_read(const char *sysfs, hwloc_bitmap_t isolated, hwloc_bitmap_t nohz_full,
                     char *err, size_t errlen)
{
    const char *files[] = { "isolated", "nohz_full" };
    hwloc_bitmap_t sets[] = { isolated, nohz_full };
    for (int i = 0; i < 2; i++) {
        char path[4200], buf[8192];
        hwloc_bitmap_zero(sets[i]);
        snprintf(path, sizeof(path), "%s/devices/system/cpu/%s", sysfs ? sysfs : "/sys",
                 files[i]);
        long n = ng_read_file(path, buf, sizeof(buf));
        if (n < 0)
            continue;   /* an older kernel, or no such feature */
        if ((size_t)n >= sizeof(buf) - 1)
            return ng_err(err, errlen, "%s: longer than %zu bytes", path, sizeof(buf) - 2);
        buf[strcspn(buf, "\n")] = '\0';
        char *s = buf + strspn(buf, " \t");
        /* A kernel without the feature configured prints "(null)". */
        if (*s && strcmp(s, "(null)") && ng_list_parse(s, sets[i]) < 0)
            return ng_err(err, errlen, "%s: '%.64s' is not a cpu list", path, buf);
    }
    return 0;
}
