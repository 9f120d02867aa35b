/* numa-gpu metrics: the node's Prometheus metrics as a node_exporter
 * textfile-collector file (lib/metrics.c); the job epilog runs it with
 * --job $SLURM_JOB_ID to count that job's audit records. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "private/metrics.h"
#include "private/util.h"

#define MAX_JOBS 256

int cmd_metrics(int argc, char **argv)
{
    static ng_config sc;   /* --audit-dir, --state-dir: plugstack.conf's audit_dir=, state_dir= */
    ng_config_init(&sc);
    static const struct option lo[] = {
        { "job", 1, 0, 'j' }, { "audit-dir", 1, 0, 'a' }, { "state-dir", 1, 0, 's' },
        { "textfile-dir", 1, 0, 't' }, { "output", 1, 0, 'o' }, { "host", 1, 0, 'H' },
        { "sysfs-root", 1, 0, 'S' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    unsigned long jobs[MAX_JOBS];
    ng_met_opts o = { "/var/log/numa-gpu", "/run/numa-gpu", NULL, getenv("SLURMD_NODENAME"),
                      NULL, jobs, 0 };
    const char *textfile_dir = "/var/lib/prometheus/node-exporter", *output = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        unsigned long long v;
        switch (c) {
        case 'j':
            if (ng_parse_u64(optarg, 1, 4294967295ull, &v) < 0)
                return cli_usage_error("metrics: invalid --job '%s' (expected a job id "
                                       "1..4294967295)", optarg);
            if (o.njobs == MAX_JOBS)
                return cli_usage_error("metrics: more than %d --job options", MAX_JOBS);
            jobs[o.njobs++] = (unsigned long)v;
            break;
        case 'a':
        case 's':
            if (cli_setting(&sc, c == 'a' ? "audit-dir" : "state-dir", optarg))
                return 2;
            if (c == 'a')
                o.audit_dir = sc.audit_dir;
            else
                o.state_dir = sc.state_dir;
            break;
        case 't': textfile_dir = optarg; break;
        case 'o': output = optarg; break;
        case 'H': o.host = optarg; break;
        case 'S': o.sysfs = optarg; break;
        case 'h': cli_usage("metrics", stdout); return 0;
        default: return cli_bad_option("metrics", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("metrics: unexpected argument '%s'", argv[optind]);
    char host[256], path[4200], err[NG_ERRLEN], note[4096];
    if (!o.host || !*o.host) {   /* the name the plugin wrote in the records */
        if (gethostname(host, sizeof(host) - 1) < 0)
            snprintf(host, sizeof(host), "?");
        host[sizeof(host) - 1] = '\0';
        o.host = host;
    }
    if (output && strcmp(output, "-")) {
        size_t n = strlen(output);
        if (n < 6 || strcmp(output + n - 5, ".prom"))
            return cli_usage_error("metrics: invalid --output '%s' (expected FILE.prom: "
                                   "node_exporter's textfile collector reads only *.prom; or - "
                                   "for stdout)", output);
        o.output = output;
    } else if (!output) {
        struct stat st;
        textfile_dir = textfile_dir ? textfile_dir : "";   /* (getopt's optarg, never NULL) */
        int e = stat(textfile_dir, &st) < 0 ? errno : 0;
        if (e || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "numa-gpu: metrics: textfile directory '%s': %s (give node_exporter's "
                    "--collector.textfile.directory with --textfile-dir, or --output FILE.prom)\n",
                    textfile_dir, e ? strerror(e) : "not a directory");
            return 1;
        }
        snprintf(path, sizeof(path), "%s/numa_gpu.prom", textfile_dir);
        o.output = path;
    }
    char *text = NULL;
    int rc = ng_metrics_run(&o, &text, note, sizeof(note), err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "numa-gpu: metrics: %s\n", err);
        return 1;
    }
    if (text)
        fputs(text, stdout);
    free(text);
    FILE *out = rc ? stderr : o.output ? stdout : stderr;
    if (o.output)
        fprintf(out, "numa-gpu: metrics: wrote %s%s%s\n", o.output, note[0] ? "; " : "", note);
    else if (note[0])
        fprintf(out, "numa-gpu: metrics: %s\n", note);
    return rc ? 1 : 0;
}
