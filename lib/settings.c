/* The settings table: every plugstack.conf argument once, with its type,
 * field, allowed values, default and help. The plugin's arguments, the
 * CLI's matching options (numa-gpu plan --isolated use is isolated=use) and
 * `numa-gpu settings` (read by the docs test) all go through it, so they
 * cannot take different values or word the same mistake differently. */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/assign.h"
#include "private/config.h"
#include "private/cpuopt.h"
#include "private/draw.h"
#include "private/hugepages.h"
#include "private/sample.h"
#include "private/util.h"
#include "private/visible.h"

#define F(field) offsetof(ng_config, field), sizeof(((ng_config *)0)->field)
#define INT(c, s) (*(int *)((char *)(c) + (s)->field))

static int word_bool(const char *v)
{
    if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true"))
        return 1;
    if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false"))
        return 0;
    return -1;
}

/* One parser per value shape; -1 refuses v (the caller names it with the
 * setting's allowed text, or err already says more). */
static int set_bool(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)err;
    (void)len;
    int b = word_bool(v);
    return b < 0 ? -1 : (INT(c, s) = b, 0);
}

static int set_autobool(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    return !strcmp(v, "auto") ? (INT(c, s) = -1, 0) : set_bool(c, s, v, err, len);
}

static int set_path(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)err;
    (void)len;
    if (v[0] != '/' || strlen(v) >= s->size)
        return -1;
    snprintf((char *)c + s->field, s->size, "%s", v);
    return 0;
}

static int set_uint(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)err;
    (void)len;
    unsigned long long x;
    if (ng_parse_u64(v, (unsigned long long)s->lo, (unsigned long long)s->hi, &x) < 0)
        return -1;
    INT(c, s) = (int)x;   /* int or unsigned fields, in range of both */
    return 0;
}

/* A word of a list: s->words[i] stores s->values[i]. */
static int set_word(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)err;
    (void)len;
    for (int i = 0; s->words[i]; i++)
        if (!strcmp(v, s->words[i]))
            return INT(c, s) = s->values[i], 0;
    return -1;
}

static int set_mode(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    int verbose = 0;
    if (ng_mode_option_parse(v, &c->default_mode, &verbose, err, len) < 0)
        return -1;
    c->verbose |= verbose;
    return 0;
}

static int set_allowed(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    char buf[128];
    if (strlen(v) >= sizeof(buf))
        return ng_err(err, len, "allowed='%.32s...' too long", v);
    snprintf(buf, sizeof(buf), "%s", v);
    unsigned mask = 0;
    for (char *save = NULL, *m = strtok_r(buf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        ng_mode x;
        if (ng_mode_parse(m, &x) < 0)
            return ng_err(err, len, "allowed: unknown mode '%s' (expected %s)", m, NG_MODE_NAMES);
        mask |= 1u << x;
    }
    if (!mask)
        return ng_err(err, len, "allowed= is empty (expected modes from %s)", NG_MODE_NAMES);
    c->allowed = mask;
    return 0;
}

static int set_enum(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)err;
    (void)len;
    int x = s->parse(v);
    return x < 0 ? -1 : (INT(c, s) = x, 0);
}

/* The enum parsers of other modules, as int (-1 refused). */
static int p_method(const char *v) { ng_method m; return ng_method_parse(v, &m) < 0 ? -1 : (int)m; }
static int p_reserve(const char *v) { ng_reserve r; return ng_reserve_parse(v, &r) < 0 ? -1 : (int)r; }
static int p_smt(const char *v) { ng_smt m; return ng_smt_parse(v, &m) < 0 ? -1 : (int)m; }
static int p_scope(const char *v) { ng_cpu_scope x; return ng_cpu_scope_parse(v, &x) < 0 ? -1 : (int)x; }
static int p_visible(const char *v) { ng_visible x; return ng_visible_parse(v, &x) < 0 ? -1 : (int)x; }
static int set_picture(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    (void)err;
    (void)len;
    ng_draw_format f;
    if (!strcmp(v, "off"))
        c->picture = -1;
    else if (ng_draw_format_parse(v, &f) == 0)
        c->picture = (int)f;
    else
        return -1;
    return 0;
}

static int set_bind_rules(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    (void)err;
    (void)len;
    unsigned rel;
    char e[NG_ERRLEN];
    if (!strcmp(v, "auto"))
        c->bind_rules = -1;
    else if (!strcmp(v, "current"))
        c->bind_rules = 0;
    else if (ng_release_parse(v, &rel, e, sizeof(e)) == 0)
        c->bind_rules = (int)rel;
    else
        return -1;
    return 0;
}

static int set_hugepages(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    (void)err;
    (void)len;
    int on = !strcmp(v, "on") ? 1 : !strcmp(v, "off") ? 0 : word_bool(v);
    return on < 0 ? -1 : (c->hugepages_off = !on, 0);
}

static int set_hp_max(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    (void)err;
    (void)len;
    unsigned long kb;
    char e[NG_ERRLEN];   /* refused as hugepages_max_per_job='v', not as a request */
    return ng_hp_parse_size(v, &c->hugepages_max_per_job, &kb, e, sizeof(e)) < 0 ? -1 : 0;
}

static int set_fraction(ng_config *c, const ng_setting *s, const char *v, char *err, size_t len)
{
    (void)s;
    (void)err;
    (void)len;
    char *end;
    double f = strtod(v, &end);
    if (*end || end == v || !isfinite(f) || f <= 0 || f > 1)
        return -1;
    c->hugepages_max_fraction = f;
    return 0;
}

static const char *const W_ORDER[] = { "pci", NULL };
static const int V_ORDER[] = { 1 };
static const char *const W_ISO[] = { "use", "avoid", NULL };
static const int V_ISO[] = { 1, 0 };
static const char *const W_IRQ[] = { "off", "check", "apply", NULL };
static const int V_IRQ[] = { NG_IRQ_OFF, NG_IRQ_CHECK, NG_IRQ_APPLY };
static const char *const W_NIC[] = { "export", "off", NULL };
static const int V_NIC[] = { 0, 1 };

#define PATH_SETTING(k, fld, cli, help) \
    { k, cli, set_path, F(fld), 0, 0, NULL, NULL, NULL, "an absolute path", "", help }

const ng_setting ng_settings[] = {
    { "default", NULL, set_mode, F(default_mode), 0, 0, NULL, NULL, NULL,
      NG_MODE_NAMES "[,verbose]", "off", "the mode of jobs that give no --numa-gpu" },
    { "allowed", NULL, set_allowed, F(allowed), 0, 0, NULL, NULL, NULL,
      "modes from " NG_MODE_NAMES ", comma-separated",
      "off,prefer,strict,interleave,explain", "the modes users may ask for" },
    { "exclusive_only", NULL, set_bool, F(exclusive_only), 0, 0, NULL, NULL, NULL, "yes|no", "no",
      "act only on jobs that own the whole node" },
    PATH_SETTING("topology", topology, NULL, "a cached hwloc XML of the node (else discovered)"),
    PATH_SETTING("topology_dir", topology_dir, NULL,
                 "DIR/<node>.xml of the job's other node types (batch rankfile rows)"),
    PATH_SETTING("gpu_map", gpu_map, NULL, "measured GPU locality (numa-gpu calibrate --write-map)"),
    { "gpu_order", "gpu-order", set_word, F(pci_order), 0, 0, W_ORDER, V_ORDER, NULL, "pci", "",
      "GPU index N is the N-th GPU in PCI order" },
    { "constrain_devices", NULL, set_autobool, F(constrain_devices), 0, 0, NULL, NULL, NULL,
      "auto|yes|no", "auto", "GPU ids relative to the step (auto: slurm.conf, cgroup.conf)" },
    { "gres_cores", NULL, set_autobool, F(gres_cores), 0, 0, NULL, NULL, NULL, "auto|yes|no",
      "auto", "Slurm's close cpus of each GPU: gres.conf Cores= (auto), its NUMA node (yes), none (no)" },
    { "device_check", NULL, set_bool, F(device_check), 0, 0, NULL, NULL, NULL, "yes|no", "yes",
      "under ConstrainDevices ask the kernel which GPUs each task can open" },
    { "bind_rules", NULL, set_bind_rules, F(bind_rules), 0, 0, NULL, NULL, NULL,
      "auto, current or a Slurm release from 22.05 on such as 23.02.4", "auto",
      "whose GPU binding rules apply" },
    { "smt", "smt", set_enum, F(smt), 0, 0, NULL, NULL, p_smt, NG_SMT_NAMES, "auto",
      "hardware threads per core: auto = what the user asked Slurm" },
    { "cpus", "cpu-scope", set_enum, F(cpu_scope), 0, 0, NULL, NULL, p_scope, NG_SCOPE_NAMES,
      "node", "a rank's cores: its GPU's node, or also its package's idle ones" },
    { "visible", "visible", set_enum, F(visible), 0, 0, NULL, NULL, p_visible, NG_VISIBLE_NAMES,
      "keep", "when every task sees all GPUs: keep, home first (all) or home only (own)" },
    { "nic", "nic", set_word, F(nic_off), 0, 0, W_NIC, V_NIC, NULL, "off|export", "export",
      "export the nearest NICs (UCX_NET_DEVICES, NCCL_IB_HCA, ...)" },
    { "irq", NULL, set_word, F(irq), 0, 0, W_IRQ, V_IRQ, NULL, "off|check|apply", "off",
      "the step's GPU and NIC interrupts: leave, report, steer" },
    { "isolated", "isolated", set_word, F(use_isolated), 0, 0, W_ISO, V_ISO, NULL, "use|avoid",
      "avoid", "the kernel's isolated cpus (isolcpus=, nohz_full=)" },
    { "reserve_first_core_per", "reserve-first-core-per", set_enum, F(reserve_first_core), 0, 0,
      NULL, NULL, p_reserve, "l3|numa|off", "off", "leave the first core of each L3 or node to the OS" },
    PATH_SETTING("audit_dir", audit_dir, "audit-dir", "per-job JSON audit records and summaries"),
    { "audit_interval", NULL, set_uint, F(audit_interval), 0, 86400, NULL, NULL, NULL,
      "an integer 0..86400", "30", "seconds between page samples, 0 = none" },
    { "picture", NULL, set_picture, F(picture), 0, 0, NULL, NULL, NULL,
      "off|" NG_DRAW_FORMAT_NAMES, "off", "explain mode draws the node's plan into audit_dir" },
    { "audit_warn_local", NULL, set_uint, F(audit_warn_local), 0, 100, NULL, NULL, NULL,
      "an integer 0..100", "80", "flag tasks below this % of local pages" },
    { "audit_method", "method", set_enum, F(audit_method), 0, 0, NULL, NULL, p_method,
      "auto|cgroup|sampled|numa_maps", "auto", "how pages are counted" },
    { "audit_pages", "pages", set_uint, F(audit_pages), 16, 1u << 20, NULL, NULL, NULL,
      "an integer 16..1048576", "4096", "pages per sample (sampled method)" },
    { "hugepages", NULL, set_hugepages, F(hugepages_off), 0, 0, NULL, NULL, NULL, "on|off", "on",
      "users may reserve hugepages (--numa-gpu-hugepages)" },
    { "hugepages_max_per_job", NULL, set_hp_max, F(hugepages_max_per_job), 0, 0, NULL, NULL,
      NULL, "a size like 16G", "", "cap per job" },
    { "hugepages_max_fraction", NULL, set_fraction, F(hugepages_max_fraction), 0, 0, NULL, NULL,
      NULL, "a number in (0,1]", "", "cap as a share of the node's free pages" },
    PATH_SETTING("hugepages_mount", hugepages_mount, NULL, "hugetlbfs mount to tell tasks"),
    { "state_dir", "state-dir", set_path, F(state_dir), 0, 0, NULL, NULL, NULL, "an absolute path",
      "/run/numa-gpu", "root's ledgers (hugepages, IRQs)" },
    PATH_SETTING("sysfs_root", sysfs, NULL, "another /sys (tests)"),
    PATH_SETTING("procfs_root", procfs, NULL, "another /proc (tests)"),
    { "verbose", NULL, NULL, F(verbose), 0, 0, NULL, NULL, NULL, "no value", "",
      "say every placement in the slurmd log and to the user" },
    { NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }
};

const ng_setting *ng_setting_find(const char *key)
{
    for (const ng_setting *s = ng_settings; s->key; s++)
        if (!strcmp(s->key, key))
            return s;
    return NULL;
}

const ng_setting *ng_setting_by_cli(const char *opt)
{
    for (const ng_setting *s = ng_settings; s->key; s++)
        if (s->cli && !strcmp(s->cli, opt))
            return s;
    return NULL;
}

int ng_setting_set(ng_config *c, const ng_setting *s, const char *v, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!s->set) {
        c->verbose = 1;
        return 0;
    }
    /* the generic parsers store an int: a table entry that points one at
     * another field type is a bug, refused rather than written */
    if ((s->set == set_bool || s->set == set_autobool || s->set == set_uint ||
         s->set == set_word || s->set == set_enum) && s->size != sizeof(int))
        return ng_err(err, errlen, "%s: not an int field (settings table)", s->key);
    if (s->set(c, s, v, err, errlen) == 0)
        return 0;
    if (!err[0])
        ng_err(err, errlen, "'%s' (expected %s)", v, s->allowed);
    return -1;
}

int ng_config_arg(ng_config *c, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char key[32];
    size_t kl = eq ? (size_t)(eq - arg) : strlen(arg);
    const ng_setting *s = NULL;
    if (kl < sizeof(key)) {
        memcpy(key, arg, kl);
        key[kl] = '\0';
        s = ng_setting_find(key);
    }
    if (!s) {
        char list[1024] = "";
        for (const ng_setting *t = ng_settings; t->key; t++) {
            size_t u = strlen(list);
            snprintf(list + u, sizeof(list) - u, "%s%s%s", u ? ", " : "", t->key,
                     t->set ? "=" : "");
        }
        return ng_err(err, errlen, "unknown argument '%s' (expected %s)", arg, list);
    }
    if (!s->set != !eq)
        return ng_err(err, errlen, s->set ? "argument '%s' needs a value (key=value)"
                      : "argument '%s' takes no value", arg);
    char e[NG_ERRLEN];
    if (ng_setting_set(c, s, eq ? eq + 1 : NULL, e, sizeof(e)) == 0)
        return 0;
    /* A generic refusal is worded here as key='value'; a parser's own
     * message (allowed=, default=) says more and stays as it is. */
    if (e[0] == '\'')
        return ng_err(err, errlen, "%s=%s", s->key, e);
    return ng_err(err, errlen, "%s", e);
}
