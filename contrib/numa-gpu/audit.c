/* numa-gpu audit: a live process's placement against its GPUs' nodes
 * (--pid), or a job's audit records as a table (--job DIR/<jobid>.json). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "private/audit.h"

static int audit_pid(const char *topology, const ng_roots *roots, int pid, ng_method m,
                     int pages, int json)
{
    char err[NG_ERRLEN];
    ng_topo *t = cli_load_topo(topology);
    if (!t)
        return 1;
    ng_proc_audit a;
    if (ng_proc_audit_run(t, roots, pid, m, pages > 0 ? (unsigned)pages : 4096,
                          NG_AUDIT_WARN_LOCAL, &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: pid %d: %s\n", pid, err);
        ng_topo_free(t);
        return 1;
    }
    if (a.problem[0])
        fprintf(stderr, "numa-gpu: %s\n", a.problem);
    char *s = json ? ng_proc_audit_json(&a) : ng_proc_audit_text(&a);
    if (s)
        fputs(s, stdout);
    free(s);
    int rc = a.problem[0] || !s ? 1 : 0;
    ng_proc_audit_clear(&a);
    ng_topo_free(t);
    return rc;
}

static int audit_job(const char *file)
{
    /* O_NONBLOCK + regular-file check: a FIFO or /dev/zero never hangs us. */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "numa-gpu: audit file '%s': %s\n", file,
                fd < 0 ? strerror(errno) : "not a regular file (expected DIR/<jobid>.json)");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return 1;
    }
    char *line = NULL, host[256], verdict[32], sverdict[32], sum[2048];
    size_t lcap = 0;
    int n = 0, bad = 0;
    printf("%-5s %-10s %-9s %-9s %-8s %s\n", "TASK", "HOST", "VERDICT", "SAMPLE", "LOCAL%",
           "PLACEMENT");
    while (getline(&line, &lcap, f) > 0) {
        double task = -1, pct = -1;
        if (ng_json_num(line, "task", &task) < 0 || !(task >= 0 && task <= 1e6) ||
            ng_json_str(line, "summary", sum, sizeof(sum)) < 0) {
            bad++;
            continue;
        }
        if (ng_json_str(line, "host", host, sizeof(host)) < 0)
            snprintf(host, sizeof(host), "?");
        if (ng_json_str(line, "verdict", verdict, sizeof(verdict)) < 0)
            snprintf(verdict, sizeof(verdict), "?");
        const char *smp = strstr(line, "\"sample\":{");
        if (!smp || ng_json_str(smp, "verdict", sverdict, sizeof(sverdict)) < 0)
            snprintf(sverdict, sizeof(sverdict), "-");
        char pb[16] = "-";
        if (ng_json_num(line, "local_pct", &pct) == 0)
            snprintf(pb, sizeof(pb), "%.1f", pct);
        printf("%-5d %-10s %-9s %-9s %-8s %s\n", (int)task, host, verdict, sverdict, pb, sum);
        n++;
    }
    free(line);
    fclose(f);
    printf("%d task record(s)%s\n", n, bad ? ", some lines unreadable" : "");
    return bad ? 1 : 0;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option lo[] = {
        { "pid", 1, 0, 'p' }, { "job", 1, 0, 'J' }, { "full", 0, 0, 'f' },
        { "method", 1, 0, 'M' }, { "pages", 1, 0, 'n' }, { "topology", 1, 0, 't' },
        { "procfs-root", 1, 0, 'P' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 } };
    const char *topology = getenv("NUMA_GPU_TOPOLOGY"), *job = NULL;
    ng_roots roots = { 0 };
    ng_method m = NG_METHOD_AUTO;
    int pid = 0, pages = 0, json = 0, c;
    ng_config cfg;   /* --method and --pages are audit_method= and audit_pages= */
    ng_config_init(&cfg);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        switch (c) {
        case 'p': if (cli_int("--pid", optarg, 1, 1 << 30, &pid)) return 2; break;
        case 'J': job = optarg; break;
        case 'f': m = NG_METHOD_NUMA_MAPS; break;
        case 'M':
            if (cli_setting(&cfg, "method", optarg))
                return 2;
            m = (ng_method)cfg.audit_method;
            break;
        case 'n':
            if (cli_setting(&cfg, "pages", optarg))
                return 2;
            pages = (int)cfg.audit_pages;
            break;
        case 't': topology = optarg; break;
        case 'P': roots.procfs = optarg; break;
        case 'j': json = 1; break;
        case 'h': cli_usage("audit", stdout); return 0;
        default: return cli_bad_option("audit", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (job)
        return audit_job(job);
    if (pid <= 0)
        return cli_usage_error("audit needs --pid PID or --job FILE");
    return audit_pid(topology, &roots, pid, m, pages, json);
}
