/* numa-gpu gres-conf: gres.conf lines with Cores= from the topology. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include "cli.h"
#include "private/slurmstep.h"
#include "private/gresconf.h"

int cmd_gres_conf(int argc, char **argv)
{
    static const struct option lo[] = {
        { "topology", 1, 0, 't' }, { "per-package", 0, 0, 'p' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 } };
    const char *topology = getenv("NUMA_GPU_TOPOLOGY");
    int per_package = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        switch (c) {
        case 't': topology = optarg; break;
        case 'p': per_package = 1; break;
        case 'h': cli_usage("gres-conf", stdout); return 0;
        default:
            return cli_bad_option("gres-conf", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("gres-conf: unknown argument '%s' (expected --topology F, "
                               "--per-package)", argv[optind]);
    char err[NG_ERRLEN], *text = NULL;
    ng_topo *t = ng_topo_load(topology, err, sizeof(err));
    int rc = t ? ng_gres_conf(t, per_package, &text, err, sizeof(err)) : -1;
    if (rc < 0)
        fprintf(stderr, "numa-gpu: %s\n", err);
    else
        fputs(text, stdout);
    free(text);
    ng_topo_free(t);
    return rc < 0 ? 1 : 0;
}
