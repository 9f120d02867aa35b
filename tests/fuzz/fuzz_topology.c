/* Topology XML through load + plan (every mode) + memory tiers: malformed
 * XML ends in an error, never a signal; a plan stays inside its sets. The
 * input is a foreign file, so ng_topo_load has hwloc-info read it in a
 * spawned child first (lib/xmlcheck.c). A cache numa-gpu wrote itself is
 * trusted and loaded directly: its marker is blanked here so that the
 * fuzzer cannot forge its way past the check. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
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
    static const char mark[] = "numa-gpu-topology-cache";
    char *s = fz_str(d, n);
    if (!s) {
        fclose(f);
        return 0;
    }
    for (char *p = s; (p = memmem(p, (size_t)(s + n - p), mark, sizeof(mark) - 1)); p++)
        *p = 'X';
    fwrite(s, 1, n, f);
    free(s);
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
