/* numa-gpu save-topology FILE: this machine's topology as hwloc XML (the
 * cache plugstack's topology= points at). */
#include <string.h>
#include "cli.h"

int cmd_save_topology(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        cli_usage("save-topology", stdout);
        return 0;
    }
    if (argc != 2)
        return cli_usage_error("save-topology needs exactly one FILE");
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(NULL, err, sizeof(err));
    int rc = t ? ng_topo_save(t, argv[1], err, sizeof(err)) : -1;
    if (rc < 0)
        fprintf(stderr, "numa-gpu: %s\n", err);
    ng_topo_free(t);
    return rc < 0 ? 1 : 0;
}
