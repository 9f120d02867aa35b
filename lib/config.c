/* The cluster's config and the job's mode: the plugin (plugstack.conf
 * arguments through the settings table, lib/settings.c; the --numa-gpu
 * option; NUMA_GPU) and the CLI share them; and Slurm's own files. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/audit.h"
#include "private/config.h"
#include "private/draw.h"
#include "private/hugepages.h"
#include "private/util.h"

void ng_config_init(ng_config *c)
{
    memset(c, 0, sizeof(*c));
    c->default_mode = NG_MODE_OFF;
    c->allowed = (1u << (NG_MODE_EXPLAIN + 1)) - 1;   /* every mode */
    c->audit_interval = 30;
    c->audit_warn_local = NG_AUDIT_WARN_LOCAL;
    c->constrain_devices = -1;
    c->gres_cores = -1;
    c->device_check = 1;
    c->bind_rules = -1;
    c->audit_method = NG_METHOD_AUTO;
    c->audit_pages = 4096;
    c->picture = -1;
    snprintf(c->state_dir, sizeof(c->state_dir), "/run/numa-gpu");
}

int ng_mode_option_parse(const char *s, ng_mode *mode, int *verbose, char *err,
                         size_t errlen)
{
    if (!s || !*s)
        return ng_err(err, errlen, "empty mode (expected %s)", NG_MODE_NAMES);
    if (strlen(s) > 64)
        return ng_err(err, errlen, "mode '%.64s...' too long (expected %s)", s, NG_MODE_NAMES);
    char buf[72];
    snprintf(buf, sizeof(buf), "%s", s);
    char *comma = strchr(buf, ',');
    if (comma)
        *comma++ = '\0';
    if (ng_mode_parse(buf, mode) < 0)
        return ng_err(err, errlen, "unknown mode '%s' (expected %s)", buf, NG_MODE_NAMES);
    *verbose = 0;
    for (char *m = comma, *next; m && *m; m = next) {
        next = strchr(m, ',');
        if (next)
            *next++ = '\0';
        if (strcmp(m, "verbose") != 0)
            return ng_err(err, errlen, "unknown modifier '%s' in '%s' (expected verbose)", m, s);
        *verbose = 1;
    }
    return 0;
}

int ng_config_check(const ng_config *c, char *err, size_t errlen)
{
    if (!(c->allowed & (1u << c->default_mode)))
        return ng_err(err, errlen, "default=%s is not in allowed=", ng_mode_name(c->default_mode));
    if (c->picture >= 0 && !c->audit_dir[0])
        return ng_err(err, errlen, "picture=%s needs audit_dir= (the picture is written next "
                      "to the audit records)", ng_draw_format_name((ng_draw_format)c->picture));
    return 0;
}

int ng_config_mode_allowed(const ng_config *c, ng_mode m, char *err, size_t errlen)
{
    if (c->allowed & (1u << m))
        return 0;
    char list[128] = "";
    for (int i = 0; i <= NG_MODE_EXPLAIN; i++)
        if (c->allowed & (1u << i)) {
            size_t u = strlen(list);
            snprintf(list + u, sizeof(list) - u, "%s%s", u ? "|" : "", ng_mode_name((ng_mode)i));
        }
    return ng_err(err, errlen, "mode '%s' is not allowed on this cluster (allowed: %s)",
                  ng_mode_name(m), list);
}

void ng_config_roots(const ng_config *c, ng_roots *r)
{
    memset(r, 0, sizeof(*r));   /* fields added later start as "off" */
    r->procfs = c->procfs[0] ? c->procfs : NULL;
    r->sysfs = c->sysfs[0] ? c->sysfs : NULL;
    r->gpu_map = c->gpu_map[0] ? c->gpu_map : NULL;
    r->pci_order = c->pci_order;
}

/* Slurm-style "Key=Value" file: keys case-insensitive, several pairs per
 * line, '#' comments. The first value of key, or -1 when absent. */
int ng_conf_get(const char *path, const char *key, char *out, size_t len)
{
    FILE *f = path ? fopen(path, "re") : NULL;
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int found = -1;
    size_t kl = strlen(key);
    while (found < 0 && getline(&line, &cap, f) > 0) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            if (strncasecmp(tok, key, kl) == 0 && tok[kl] == '=') {
                snprintf(out, len, "%s", tok + kl + 1);
                found = 0;
                break;
            }
        }
    }
    free(line);
    fclose(f);
    return found;
}

/* slurm.conf (default /etc/slurm/slurm.conf) and a file beside it, as
 * slurmd finds cgroup.conf and gres.conf. */
static const char *slurm_conf_path(const char *slurm_conf)
{
    return slurm_conf && *slurm_conf ? slurm_conf : "/etc/slurm/slurm.conf";
}

static void beside_slurm_conf(const char *slurm_conf, const char *name, char *out, size_t len)
{
    const char *conf = slurm_conf_path(slurm_conf);
    const char *slash = strrchr(conf, '/');
    if (slash)
        snprintf(out, len, "%.*s/%s", (int)(slash - conf), conf, name);
    else
        snprintf(out, len, "./%s", name);
}

int ng_slurm_local_index(const char *slurm_conf)
{
    char v[256], path[4200];
    /* Slurm: task/cgroup in TaskPlugin and ConstrainDevices=yes */
    if (ng_conf_get(slurm_conf_path(slurm_conf), "TaskPlugin", v, sizeof(v)) < 0 ||
        !strstr(v, "cgroup"))
        return 0;
    beside_slurm_conf(slurm_conf, "cgroup.conf", path, sizeof(path));
    return ng_conf_get(path, "ConstrainDevices", v, sizeof(v)) == 0 && ng_slurm_bool(v) == 1;
}

int ng_slurm_bool(const char *v)
{
    static const char *const yes[] = { "yes", "up", "true", "1" };
    static const char *const no[] = { "no", "down", "false", "0" };
    for (int i = 0; v && i < 4; i++) {
        if (!strcasecmp(v, yes[i]))
            return 1;
        if (!strcasecmp(v, no[i]))
            return 0;
    }
    return -1;
}

int ng_slurm_task_affinity(const char *slurm_conf)
{
    char v[256];
    return ng_conf_get(slurm_conf_path(slurm_conf), "TaskPlugin", v, sizeof(v)) == 0 &&
           strstr(v, "affinity") != NULL;
}

void ng_slurm_gres_conf_path(const char *slurm_conf, char *out, size_t len)
{
    beside_slurm_conf(slurm_conf, "gres.conf", out, len);
}

ng_mode ng_config_job_mode(const ng_config *c, int given, ng_mode opt, int opt_verbose,
                           const char *numa_gpu_env, int *verbose, char *note, size_t notelen)
{
    char err[NG_ERRLEN];
    note[0] = '\0';
    *verbose = c->verbose || (given && opt_verbose);
    if (numa_gpu_env && !strcmp(numa_gpu_env, "off")) {
        if (ng_config_mode_allowed(c, NG_MODE_OFF, err, sizeof(err)) == 0)
            return NG_MODE_OFF;
        snprintf(note, notelen, "NUMA_GPU=off ignored: %s", err);
    }
    return given ? opt : c->default_mode;
}

int ng_config_hugepages_check(const ng_config *c, const char *size, unsigned long long *bytes,
                              unsigned long *page_kb, char *err, size_t errlen)
{
    if (ng_hp_parse_size(size, bytes, page_kb, err, errlen) < 0)
        return -1;
    if (c->hugepages_off)
        return ng_err(err, errlen, "hugepages are disabled on this cluster (hugepages=off)");
    if (c->hugepages_max_per_job && *bytes > c->hugepages_max_per_job)
        return ng_err(err, errlen, "%s of hugepages is above the cap "
                      "hugepages_max_per_job=%llu MiB", size, c->hugepages_max_per_job >> 20);
    return 0;
}
