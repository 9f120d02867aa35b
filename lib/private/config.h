/* Cluster policy: plugstack arguments, user options, Slurm's files (lib/config.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_CONFIG_H
#define NG_PRIVATE_CONFIG_H

#include "numagpu.h"

/* Cluster policy (plugstack.conf arguments) and user choices, parsed the
 * same way by the plugin and the CLI. */
typedef struct {
    ng_mode default_mode;     /* default=MODE (off unless set) */
    unsigned allowed;         /* allowed=MODE,... as bits 1<<ng_mode */
    int exclusive_only;       /* act only on jobs that own the whole node */
    int verbose;
    int pci_order;            /* gpu_order=pci */
    char topology[1024];      /* topology=PATH (cached XML) */
    char topology_dir[1024];  /* topology_dir=DIR: DIR/<node>.xml of the
                                 job's other nodes (mixed partitions) */
    char procfs[1024], sysfs[1024], gpu_map[1024];
    char audit_dir[1024];     /* audit_dir=PATH: per-job JSON records */
    int audit_interval;       /* seconds between numa_maps samples, 0 = off */
    int audit_warn_local;     /* flag tasks below this % of local pages */
    int hugepages_off;        /* hugepages=off */
    unsigned long long hugepages_max_per_job; /* bytes, 0 = no cap */
    double hugepages_max_fraction;            /* 0 = no cap */
    char hugepages_mount[1024];               /* hugetlbfs mount to tell tasks */
    char state_dir[1024];     /* state_dir=PATH (ledger), default /run/numa-gpu */
    int constrain_devices;    /* auto (-1): read slurm.conf/cgroup.conf */
    int gres_cores;           /* -1 auto: each GPU's gres.conf Cores=; 1 every
                                 GPU's NUMA node cpus; 0 none */
    int device_check;         /* device_check=: under ConstrainDevices, ask
                                 the kernel which GPUs each task can open
                                 (default yes) */
    int bind_rules;           /* NG_RELEASE whose GPU binding rules apply;
                                 0 newest, -1 auto (the running release) */
    int audit_method;         /* ng_method for the audit samples */
    unsigned audit_pages;     /* pages per sample for the sampled method */
    int smt;                  /* smt=auto|1|all: default of --numa-gpu-smt
                                 (an ng_smt, default auto) */
    int cpu_scope;            /* cpus=node|package: default of
                                 --numa-gpu-cpus (an ng_cpu_scope) */
    int visible;              /* visible=keep|all|own: default of
                                 --numa-gpu-visible (an ng_visible) */
    int nic_off;              /* nic=off: no NIC variables (default export) */
    int use_isolated;         /* isolated=use (default avoid) */
    int reserve_first_core;   /* reserve_first_core_per=: ng_reserve */
    int irq;                  /* irq=off|check|apply: NG_IRQ_* */
    int picture;              /* picture=off|svg|png: in explain mode the
                                 node's plan drawn into audit_dir (an
                                 ng_draw_format), -1 off (default) */
} ng_config;

#define NG_IRQ_OFF 0
#define NG_IRQ_CHECK 1
#define NG_IRQ_APPLY 2
void ng_config_init(ng_config *c);

/* The settings table (lib/settings.c): every plugstack argument once. key
 * is its plugstack name, cli the CLI option taking the same values (NULL
 * none), allowed what the value may be (for messages and docs), def the
 * default as written ("" none), set its parser (NULL: a flag, no value;
 * field/size, lo/hi, words/values and parse serve the generic parsers). */
typedef struct ng_setting ng_setting;
struct ng_setting {
    const char *key, *cli;
    int (*set)(ng_config *c, const ng_setting *s, const char *v, char *err, size_t errlen);
    size_t field, size;
    long long lo, hi;
    const char *const *words;
    const int *values;
    int (*parse)(const char *v);
    const char *allowed, *def, *help;
};
extern const ng_setting ng_settings[];   /* ends with a NULL key */
const ng_setting *ng_setting_find(const char *key);
const ng_setting *ng_setting_by_cli(const char *opt);
/* Value v of setting s into c; -1 with err "'v' (expected ALLOWED)" (the
 * front-end names the setting in its own words) or the parser's own. */
int ng_setting_set(ng_config *c, const ng_setting *s, const char *v, char *err, size_t errlen);
/* One plugstack argument ("default=prefer", "verbose", ...). */
int ng_config_arg(ng_config *c, const char *arg, char *err, size_t errlen);
/* Cross-argument checks, after all arguments. */
int ng_config_check(const ng_config *c, char *err, size_t errlen);
int ng_config_mode_allowed(const ng_config *c, ng_mode m, char *err, size_t errlen);
void ng_config_roots(const ng_config *c, ng_roots *r);
/* Slurm-style "Key=Value" file lookup (keys case-insensitive); -1 absent. */
int ng_conf_get(const char *path, const char *key, char *out, size_t len);
/* What Slurm does with the files beside slurm_conf (NULL: /etc/slurm):
 * device ids relative to the allocation (task/cgroup + ConstrainDevices). */
int ng_slurm_local_index(const char *slurm_conf);
/* Slurm's boolean words (s_p_handle_boolean): yes/up/true/1, no/down/
 * false/0, any case; -1 for anything else. */
int ng_slurm_bool(const char *v);
/* TaskPlugin in slurm.conf includes task/affinity. */
int ng_slurm_task_affinity(const char *slurm_conf);
/* The path of gres.conf beside slurm.conf, as slurmd finds it. */
void ng_slurm_gres_conf_path(const char *slurm_conf, char *out, size_t len);
/* "strict,verbose" -> mode + verbose flag; the error names the bad part. */
int ng_mode_option_parse(const char *s, ng_mode *mode, int *verbose, char *err,
                         size_t errlen);

/* The mode of a job: its --numa-gpu when given, else the cluster default;
 * NUMA_GPU=off in the job's environment turns it off where off is allowed
 * (note says why not). *verbose: the cluster's or the option's ",verbose". */
ng_mode ng_config_job_mode(const ng_config *c, int given, ng_mode opt, int opt_verbose,
                           const char *numa_gpu_env, int *verbose, char *note, size_t notelen);

/* --numa-gpu-hugepages=SIZE[:PAGESIZE] against the cluster's policy
 * (hugepages=off, hugepages_max_per_job): bytes and page size, or -1 with
 * the reason. */
int ng_config_hugepages_check(const ng_config *c, const char *size, unsigned long long *bytes,
                              unsigned long *page_kb, char *err, size_t errlen);

#endif
