/* numa-gpu: the command-line front-end of libnumagpu. One file per command;
 * this table is the one list of commands (dispatch, --help, errors).
 * Exit status: 0 ok, 1 refused/failed (strict plan, apply error), 2 usage. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const cli_command commands[] = {
    { "topo", cmd_topo,
      "numa-gpu topo    [--topology F] [--json]\n" },
    { "plan", cmd_plan,
      "numa-gpu plan    [--topology F] (--ntasks N [--gpus-per-task K] | --gpus SPEC)\n"
      "                 [--mode prefer|strict|interleave] [--mem local|interleave|tiered|hbm]\n"
      "                 [--cpus LIST] [--mems LIST] [--json]\n" },
    { "explain", cmd_explain,
      "numa-gpu explain (the options of plan, without --json) [--k8s] [--svg FILE] [--png FILE]\n" },
    { "exec", cmd_exec,
      "numa-gpu exec    [--mode M] [--gpus SPEC | GPU env] [--local-rank N] [--ntasks N]\n"
      "                 [--topology F] [--procfs-root D] [--sysfs-root D] [--nic export|off]\n"
      "                 [--visible keep|all|own] [--verbose]\n"
      "                 -- PROGRAM ARGS\n" },
    { "hints", cmd_hints,
      "numa-gpu hints   [--mpi ompi4,ompi5,impi,mpich,torchrun|all] [--hosts H1,H2] [--rankfile F]\n"
      "                 [--topology-dir D]\n"
      "                 [plan options; default: the GPUs and tasks of this allocation]\n"
      "numa-gpu hints   --docker|--podman|--apptainer [plan options]\n" },
    { "audit", cmd_audit,
      "numa-gpu audit   --pid PID [--full | --method auto|cgroup|sampled|numa_maps] [--pages N]\n"
      "                 [--topology F] [--procfs-root D] [--json]\n"
      "numa-gpu audit   --job FILE\n" },
    { "hugepages", cmd_hugepages,
      "numa-gpu hugepages status|reconcile [--state-dir D]\n"
      "numa-gpu hugepages reserve --job J [--step S] --node N --size SIZE[:PAGESIZE] [--owner PID] [--state-dir D]\n"
      "numa-gpu hugepages release --job J [--step S] [--state-dir D]\n" },
    { "irq", cmd_irq,
      "numa-gpu irq     [--check | --apply [--avoid-cpus LIST] | --restore] [--job J]\n"
      "                 [--gpus IDS] [--nics NAMES|none] [--topology F] [--procfs-root D]\n"
      "                 [--sysfs-root D] [--state-dir D]\n" },
    { "report", cmd_report,
      "numa-gpu report  [--job IDS] [--user NAMES] [--node NAMES] [--since 7d|DATE] [--top N]\n"
      "                 [--json] AUDIT_DIR|FILE...\n" },
    { "metrics", cmd_metrics,
      "numa-gpu metrics [--job J]... [--audit-dir D] [--state-dir D] [--host NAME]\n"
      "                 [--textfile-dir D | --output FILE.prom|-]\n" },
    { "save-topology", cmd_save_topology,
      "numa-gpu save-topology [--from XML] FILE\n" },
    { "gres-conf", cmd_gres_conf,
      "numa-gpu gres-conf [--topology F] [--per-package]\n" },
    { "settings", cmd_settings,
      "numa-gpu settings [--keys]\n" },
    { "calibrate", cmd_calibrate,
      "numa-gpu calibrate [--topology F] [--size BYTES] [--repeat N] [--nodes LIST] [--gpus LIST]\n"
      "                   [--tolerance PCT] [--json] [--write-map FILE]\n"
      "numa-gpu calibrate --list | --here [--gpus LIST] [--size BYTES] [--repeat N] [--json]\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char common_help[] =
"\n"
"GPU ids: GRES index, GPU-/MIG- UUID or PCI bus id. SPEC: ids separated by ',', ranks\n"
"separated by ':' (e.g. 0,1:2,3 or 0000:5f:00.0:0000:4e:00.0); an empty rank or 'none'\n"
"is a rank without a GPU (0::1, 0:none:1).\n"
"Plan options (plan, explain, exec, hints):\n"
"  --topology F      hwloc XML (default: $NUMA_GPU_TOPOLOGY, else live discovery)\n"
"  --procfs-root D   --sysfs-root D   roots for GPU id resolution (default /proc, /sys)\n"
"  --gpu-map F       admin map file: 'ID BUSID' lines, and 'numa_node BUSID NODES' lines\n"
"                    (numa-gpu calibrate --write-map) that replace the firmware's locality\n"
"  --gpu-order pci   index N = N-th accelerator in PCI order when nothing names it\n"
"  --cpus LIST --mems LIST   allowed cpus/memory nodes (default: the topology's)\n"
"  --isolated use|avoid      the kernel's isolated cpus (isolcpus=): avoided by default\n"
"  --reserve-first-core-per l3|numa|off   keep the first core of each L3/node free\n"
"  --smt auto|1|all  hardware threads per core: 1 = one, all = every one; auto = what\n"
"                    the job told Slurm (--hint=nomultithread, --threads-per-core; exec\n"
"                    and hints read it from the environment), else all\n"
"  --cpu-scope node|package  node: the cores of the GPU's NUMA node(s); package: also\n"
"                    the package's cores no rank uses (memory stays on the GPU's node)\n"
"  --cpus-per-task N OMP_NUM_THREADS of each rank (exec, hints: default\n"
"                    $SLURM_CPUS_PER_TASK; a set OMP_NUM_THREADS is kept)\n"
"'numa-gpu COMMAND --help' shows one command.\n";

/* Usage lines, each prefixed: "usage: " for the first, aligned after. */
static void print_lines(const char *text, int *first, FILE *out)
{
    for (const char *l = text; *l; ) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        fprintf(out, "%s%.*s\n", *first ? "usage: " : "       ", (int)len, l);
        *first = 0;
        l += len + (nl != NULL);
    }
}

void cli_usage(const char *name, FILE *out)
{
    int first = 1;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!name || !strcmp(name, commands[i].name))
            print_lines(commands[i].usage, &first, out);
    if (!name) {
        print_lines("numa-gpu --version\n", &first, out);
        fputs(common_help, out);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("numa-gpu %s\n", ng_version());
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        cli_usage(NULL, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    char names[256] = "";
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
        size_t u = strlen(names);
        snprintf(names + u, sizeof(names) - u, "%s%s", i ? "|" : "", commands[i].name);
    }
    return cli_usage_error("unknown command '%s' (expected %s)", argv[1], names);
}
