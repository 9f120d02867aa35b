/* Settings shared by the plugin (plugstack.conf arguments, --numa-gpu
 * option, NUMA_GPU env) and the CLI: one parser, one set of messages. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/assign.h"
#include "private/audit.h"
#include "private/config.h"
#include "private/cpuopt.h"
#include "private/visible.h"
#include "private/draw.h"
#include "private/hugepages.h"
#include "private/util.h"

void ng_config_init(ng_config *c)
{
    memset(c, 0, sizeof(*c));
    c->default_mode = NG_MODE_OFF;
    c->allowed = ~0u;
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

static int parse_uint(const char *key, const char *v, int max, int *out, char *err,
                      size_t errlen)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < 0 || x > max)
        return ng_err(err, errlen, "%s='%s' (expected an integer 0..%d)", key, v, max);
    *out = (int)x;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false")) {
        *out = 0;
        return 0;
    }
    return -1;
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

/* Allowed modes: "prefer,strict" -> bit mask over ng_mode. */
static int parse_allowed(const char *v, unsigned *mask, char *err, size_t errlen)
{
    char buf[128];
    if (strlen(v) >= sizeof(buf))
        return ng_err(err, errlen, "allowed='%.32s...' too long", v);
    snprintf(buf, sizeof(buf), "%s", v);
    *mask = 0;
    for (char *save = NULL, *m = strtok_r(buf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        ng_mode x;
        if (ng_mode_parse(m, &x) < 0)
            return ng_err(err, errlen, "allowed: unknown mode '%s' (expected %s)", m, NG_MODE_NAMES);
        *mask |= 1u << x;
    }
    if (!*mask)
        return ng_err(err, errlen, "allowed= is empty (expected modes from %s)", NG_MODE_NAMES);
    return 0;
}

static int parse_path(const char *key, const char *v, char *out, size_t len, char *err,
                      size_t errlen)
{
    if (v[0] != '/' || strlen(v) >= len)
        return ng_err(err, errlen, "%s='%s' must be an absolute path", key, v);
    snprintf(out, len, "%s", v);
    return 0;
}

int ng_config_arg(ng_config *c, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char key[32];
    size_t kl = eq ? (size_t)(eq - arg) : strlen(arg);
    if (kl >= sizeof(key))
        return ng_err(err, errlen, "unknown argument '%s'", arg);
    memcpy(key, arg, kl);
    key[kl] = '\0';
    const char *v = eq ? eq + 1 : NULL;
    if (!strcmp(key, "verbose") && !v) {
        c->verbose = 1;
        return 0;
    }
    if (!v)
        return ng_err(err, errlen, "argument '%s' needs a value (key=value)", arg);
    if (!strcmp(key, "default")) {
        int verbose = 0;
        if (ng_mode_option_parse(v, &c->default_mode, &verbose, err, errlen) < 0)
            return -1;
        c->verbose |= verbose;
        return 0;
    }
    if (!strcmp(key, "allowed"))
        return parse_allowed(v, &c->allowed, err, errlen);
    if (!strcmp(key, "exclusive_only")) {
        if (parse_bool(v, &c->exclusive_only) < 0)
            return ng_err(err, errlen, "exclusive_only='%s' (expected yes|no)", v);
        return 0;
    }
    if (!strcmp(key, "constrain_devices") || !strcmp(key, "gres_cores")) {
        int *out = key[0] == 'c' ? &c->constrain_devices : &c->gres_cores, b;
        if (!strcmp(v, "auto"))
            *out = -1;
        else if (parse_bool(v, &b) == 0)
            *out = b;
        else
            return ng_err(err, errlen, "%s='%s' (expected auto|yes|no)", key, v);
        return 0;
    }
    if (!strcmp(key, "device_check")) {
        if (parse_bool(v, &c->device_check) < 0)
            return ng_err(err, errlen, "device_check='%s' (expected yes|no)", v);
        return 0;
    }
    if (!strcmp(key, "audit_method")) {
        ng_method m;
        if (ng_method_parse(v, &m) < 0)
            return ng_err(err, errlen, "audit_method='%s' (expected auto|cgroup|sampled|numa_maps)", v);
        c->audit_method = (int)m;
        return 0;
    }
    if (!strcmp(key, "audit_pages")) {
        unsigned long long x;
        if (ng_parse_u64(v, 16, 1u << 20, &x) < 0)
            return ng_err(err, errlen, "audit_pages='%s' (expected an integer 16..1048576)", v);
        c->audit_pages = (unsigned)x;
        return 0;
    }
    if (!strcmp(key, "bind_rules")) {
        unsigned rel;
        char e[NG_ERRLEN];
        if (!strcmp(v, "auto"))
            c->bind_rules = -1;
        else if (!strcmp(v, "current"))
            c->bind_rules = 0;
        else if (ng_release_parse(v, &rel, e, sizeof(e)) == 0)
            c->bind_rules = (int)rel;
        else
            return ng_err(err, errlen, "bind_rules='%s' (expected auto, current or a Slurm "
                          "release from 22.05 on such as 23.02.4)", v);
        return 0;
    }
    if (!strcmp(key, "gpu_order")) {
        if (strcmp(v, "pci") != 0)
            return ng_err(err, errlen, "gpu_order='%s' (expected pci)", v);
        c->pci_order = 1;
        return 0;
    }
    if (!strcmp(key, "topology"))
        return parse_path(key, v, c->topology, sizeof(c->topology), err, errlen);
    if (!strcmp(key, "topology_dir"))
        return parse_path(key, v, c->topology_dir, sizeof(c->topology_dir), err, errlen);
    if (!strcmp(key, "sysfs_root"))
        return parse_path(key, v, c->sysfs, sizeof(c->sysfs), err, errlen);
    if (!strcmp(key, "procfs_root"))
        return parse_path(key, v, c->procfs, sizeof(c->procfs), err, errlen);
    if (!strcmp(key, "gpu_map"))
        return parse_path(key, v, c->gpu_map, sizeof(c->gpu_map), err, errlen);
    if (!strcmp(key, "hugepages")) {
        int on = !strcmp(v, "on");
        if (!on && strcmp(v, "off") && parse_bool(v, &on) < 0)
            return ng_err(err, errlen, "hugepages='%s' (expected on|off)", v);
        c->hugepages_off = !on;
        return 0;
    }
    if (!strcmp(key, "hugepages_max_per_job")) {
        unsigned long kb;
        if (ng_hp_parse_size(v, &c->hugepages_max_per_job, &kb, err, errlen) < 0)
            return ng_err(err, errlen, "hugepages_max_per_job='%s' (expected a size like 16G)", v);
        return 0;
    }
    if (!strcmp(key, "hugepages_max_fraction")) {
        char *end;
        double f = strtod(v, &end);
        if (*end || end == v || !isfinite(f) || f <= 0 || f > 1)
            return ng_err(err, errlen, "hugepages_max_fraction='%s' (expected a number in (0,1])", v);
        c->hugepages_max_fraction = f;
        return 0;
    }
    if (!strcmp(key, "hugepages_mount"))
        return parse_path(key, v, c->hugepages_mount, sizeof(c->hugepages_mount), err, errlen);
    if (!strcmp(key, "state_dir"))
        return parse_path(key, v, c->state_dir, sizeof(c->state_dir), err, errlen);
    if (!strcmp(key, "audit_dir"))
        return parse_path(key, v, c->audit_dir, sizeof(c->audit_dir), err, errlen);
    if (!strcmp(key, "audit_interval"))
        return parse_uint(key, v, 86400, &c->audit_interval, err, errlen);
    if (!strcmp(key, "audit_warn_local"))
        return parse_uint(key, v, 100, &c->audit_warn_local, err, errlen);
    if (!strcmp(key, "isolated")) {
        if (strcmp(v, "use") && strcmp(v, "avoid"))
            return ng_err(err, errlen, "isolated='%s' (expected use|avoid)", v);
        c->use_isolated = !strcmp(v, "use");
        return 0;
    }
    if (!strcmp(key, "reserve_first_core_per")) {
        ng_reserve r;
        if (ng_reserve_parse(v, &r) < 0)
            return ng_err(err, errlen, "reserve_first_core_per='%s' (expected l3|numa|off)", v);
        c->reserve_first_core = (int)r;
        return 0;
    }
    if (!strcmp(key, "irq")) {
        if (!strcmp(v, "off"))
            c->irq = NG_IRQ_OFF;
        else if (!strcmp(v, "check"))
            c->irq = NG_IRQ_CHECK;
        else if (!strcmp(v, "apply"))
            c->irq = NG_IRQ_APPLY;
        else
            return ng_err(err, errlen, "irq='%s' (expected off|check|apply)", v);
        return 0;
    }
    if (!strcmp(key, "picture")) {
        ng_draw_format f;
        if (!strcmp(v, "off"))
            c->picture = -1;
        else if (ng_draw_format_parse(v, &f) == 0)
            c->picture = (int)f;
        else
            return ng_err(err, errlen, "picture='%s' (expected off|" NG_DRAW_FORMAT_NAMES ")", v);
        return 0;
    }
    if (!strcmp(key, "smt")) {
        ng_smt m;
        if (ng_smt_parse(v, &m) < 0)
            return ng_err(err, errlen, "smt='%s' (expected " NG_SMT_NAMES ")", v);
        c->smt = (int)m;
        return 0;
    }
    if (!strcmp(key, "cpus")) {
        ng_cpu_scope sc;
        if (ng_cpu_scope_parse(v, &sc) < 0)
            return ng_err(err, errlen, "cpus='%s' (expected " NG_SCOPE_NAMES ")", v);
        c->cpu_scope = (int)sc;
        return 0;
    }
    if (!strcmp(key, "visible")) {
        ng_visible vi;
        if (ng_visible_parse(v, &vi) < 0)
            return ng_err(err, errlen, "visible='%s' (expected " NG_VISIBLE_NAMES ")", v);
        c->visible = (int)vi;
        return 0;
    }
    if (!strcmp(key, "nic")) {
        if (strcmp(v, "off") && strcmp(v, "export"))
            return ng_err(err, errlen, "nic='%s' (expected off|export)", v);
        c->nic_off = !strcmp(v, "off");
        return 0;
    }
    return ng_err(err, errlen, "unknown argument '%s' (expected default=, allowed=, "
                  "exclusive_only=, topology=, topology_dir=, gpu_map=, gpu_order=, constrain_devices=, "
                  "gres_cores=, device_check=, bind_rules=, smt=, cpus=, visible=, nic=, irq=, isolated=, reserve_first_core_per=, "
                  "audit_dir=, audit_interval=, picture=, "
                  "audit_warn_local=, audit_method=, audit_pages=, hugepages=, "
                  "hugepages_max_per_job=, hugepages_max_fraction=, hugepages_mount=, "
                  "state_dir=, sysfs_root=, procfs_root=, verbose)", arg);
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
        return ng_err(err, errlen, "--numa-gpu-hugepages=%s is above the cap "
                      "hugepages_max_per_job=%llu MiB", size, c->hugepages_max_per_job >> 20);
    return 0;
}
