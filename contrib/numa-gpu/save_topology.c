/* numa-gpu save-topology [--from XML] FILE: this machine's topology (or a
 * given hwloc XML, checked first as any foreign file is) written as the
 * trusted cache the plugin's topology= loads without a per-step check. */
#include <string.h>
#include "cli.h"

int cmd_save_topology(int argc, char **argv)
{
    const char *from = NULL;
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        cli_usage("save-topology", stdout);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "--from")) {
        from = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 2)
        return cli_usage_error("save-topology needs exactly one FILE (and optionally --from XML)");
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(from, err, sizeof(err));
    int rc = t ? ng_topo_save(t, argv[1], err, sizeof(err)) : -1;
    if (rc < 0)
        fprintf(stderr, "numa-gpu: %s\n", err);
    ng_topo_free(t);
    return rc < 0 ? 1 : 0;
}
