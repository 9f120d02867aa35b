/* Topology XML through load + plan (every mode) + memory tiers: malformed
 * XML ends in an error, never a signal; a plan stays inside its sets. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include "fuzz.h"
#include "numagpu.h"
#include "private/gresconf.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char path[64], err[NG_ERRLEN];
    snprintf(path, sizeof(path), "/tmp/ng-fuzz-topo.%d.xml", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(d, 1, n, f);
    fclose(f);
    ng_topo *t = ng_topo_load(path, err, sizeof(err));
    unlink(path);
    if (!t)
        return 0;
    ng_accel *v = NULL;
    int na = 0;
    ng_accel_list(t, &v, &na);
    ng_rank_gpus g[4] = { { 0 } };
    for (int i = 0; i < na && i < 4; i++) {
        g[i].ngpus = 1;
        g[i].busids = &v[i].busid;
    }
    for (int m = NG_MODE_PREFER; m <= NG_MODE_INTERLEAVE; m++) {
        ng_plan p;
        if (ng_plan_compute(t, NULL, NULL, 4, g, (ng_mode)m, &p, err, sizeof(err)) == 0) {
            for (int r = 0; r < p.nranks; r++)
                FZ_ASSERT(hwloc_bitmap_isincluded(p.ranks[r].cpus, ng_topo_allowed_cpus(t)));
            ng_plan_memory(t, &p, (ng_memopt)(n % 4), err, sizeof(err));
            free(ng_plan_explain(t, &p));
            ng_plan_free(&p);
        }
    }
    char *gc = NULL;
    if (ng_gres_conf(t, (int)(n & 1), &gc, err, sizeof(err)) == 0)
        free(gc);
    ng_accel_list_free(v, na);
    ng_topo_free(t);
    return 0;
}
