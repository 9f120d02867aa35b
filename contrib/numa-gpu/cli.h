/* numa-gpu: shared pieces of the command-line front-end. Each command lives
 * in its own file (NAME.c: cmd_NAME) and parses only its own options;
 * main.c holds the {name, handler, usage} table. */
#ifndef NUMA_GPU_CLI_H
#define NUMA_GPU_CLI_H

#include <stdio.h>
#include "numagpu.h"
#include "private/config.h"
#include "private/cpuopt.h"
#include "private/step.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the command name */
    const char *usage;                   /* "numa-gpu NAME ..." lines */
} cli_command;

/* Exit status: 0 ok, 1 refused/failed, 2 usage. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the usage of command name (to out). */
void cli_usage(const char *name, FILE *out);
/* getopt_long (optstring "+:h", opterr 0) returned '?' or ':' for
 * argv[optind - 1]: say which option and why; returns 2. */
int cli_bad_option(const char *cmd, int c, char **argv);
#define CLI_OPTSTRING "+:h"
/* An integer option in lo..hi; -1 after saying what is wrong. */
int cli_int(const char *opt, const char *s, int lo, int hi, int *out);
ng_topo *cli_load_topo(const char *path);

/* The plan options of plan, explain, exec and hints. */
typedef struct {
    const char *topology, *gpus, *cpus, *mems;
    ng_memopt mem;
    ng_roots roots;
    ng_mode mode;
    int ntasks, gpus_per_task, verbose;
    int cpus_per_task;          /* --cpus-per-task N (0: unset) */
    /* The options that are plugstack settings (--isolated, --smt, ...),
     * parsed by the library's settings table as the plugin's are. */
    ng_config cfg;
} plan_opts;
enum { PO_TOPO = 256, PO_NT, PO_GPT, PO_GPUS, PO_MODE, PO_MEM, PO_CPUS, PO_MEMS, PO_PROC,
       PO_SYS, PO_MAP, PO_ORDER, PO_ISO, PO_RES, PO_SMT, PO_SCOPE, PO_CPT, PO_LAST };
#define PLAN_LONGOPTS                                                              \
    { "topology", 1, 0, PO_TOPO }, { "ntasks", 1, 0, PO_NT },                     \
    { "gpus-per-task", 1, 0, PO_GPT }, { "gpus", 1, 0, PO_GPUS },                 \
    { "mode", 1, 0, PO_MODE }, { "mem", 1, 0, PO_MEM }, { "cpus", 1, 0, PO_CPUS }, \
    { "mems", 1, 0, PO_MEMS }, { "procfs-root", 1, 0, PO_PROC },                  \
    { "sysfs-root", 1, 0, PO_SYS }, { "gpu-map", 1, 0, PO_MAP },                  \
    { "gpu-order", 1, 0, PO_ORDER }, { "isolated", 1, 0, PO_ISO },                \
    { "reserve-first-core-per", 1, 0, PO_RES }, { "smt", 1, 0, PO_SMT },          \
    { "cpu-scope", 1, 0, PO_SCOPE }, { "cpus-per-task", 1, 0, PO_CPT }
/* Defaults, and getopt reset for a command's parse. */
void plan_opts_init(plan_opts *o);
/* getopt_long over lo taking the plan options itself: the next other
 * option, -1 at the end, PLAN_GETOPT_ERROR after a bad plan option (*rc is
 * the exit status). */
#define PLAN_GETOPT_ERROR (-2)
struct option;
int plan_getopt(int argc, char **argv, const struct option *lo, plan_opts *o, int *rc);
/* The CLI option opt ("isolated") set through the settings table (as
 * the plugstack argument of the same values); 2 after saying why not. */
int cli_setting(ng_config *cfg, const char *opt, const char *arg);
/* One getopt result c: 0 taken, 1 not a plan option, 2 usage error. */
int plan_opt(plan_opts *o, int c, const char *arg);

/* Where a command's ranks come from when --gpus does not say. */
typedef enum {
    STEP_FROM_COUNT,       /* --ntasks N [--gpus-per-task K] */
    STEP_FROM_TASK_ENV,    /* exec: this task's GPU variables and local rank */
    STEP_FROM_BATCH_ENV    /* hints in an allocation: the job's GPUs and tasks */
} step_source;
/* Topology, step and plan through the library's one plan path (a missing
 * memory tier fails strict and warns otherwise). local_rank: exec's
 * --local-rank or -1. Returns the exit status. */
int cli_plan(const char *cmd, const plan_opts *o, step_source src, int local_rank,
             ng_topo **t, ng_step *st, ng_plan *p);

int cmd_topo(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_hints(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_hugepages(int argc, char **argv);
int cmd_save_topology(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_gres_conf(int argc, char **argv);
int cmd_irq(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_settings(int argc, char **argv);

#endif
