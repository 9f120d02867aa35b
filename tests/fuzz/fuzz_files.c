/* Files a task or an admin can plant: the GPU map (ids and calibrate's
 * numa_node lines), NVIDIA "information"
 * files (fake procfs), the hugepage ledger, the audit job file. First byte
 * picks; the rest is the file's text. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "numagpu.h"
#include "private/audit.h"
#include "private/gpumap.h"
#include "private/hugepages.h"
static char dir[64];
static void put(const char *rel, const uint8_t *d, size_t n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fwrite(d, 1, n, f);
        fclose(f);
    }
}
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static ng_topo *t;
    char err[NG_ERRLEN], b[NG_BUSID_LEN], p[256];
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/ng-fuzz-files.%d", (int)getpid());
        mkdir(dir, 0700);
        snprintf(p, sizeof(p), "%s/proc/driver/nvidia/gpus/0000:04:00.0", dir);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/state", p, dir);
        if (system(cmd) != 0)
            abort();
        t = ng_topo_load("tests/topologies/llnl-pascal-2s-bdw-2xp100-pcie.xml", err, sizeof(err));
        if (!t)
            abort();
    }
    if (n < 1)
        return 0;
    char procfs[128];
    snprintf(procfs, sizeof(procfs), "%s/proc", dir);
    snprintf(p, sizeof(p), "%s/map", dir);
    ng_roots r = { procfs, dir, p, 0, 0 };
    switch (d[0] % 4) {
    case 0: {
        put("map", d + 1, n - 1);
        ng_gpu_resolve(t, &r, NG_IDX_GRES, "0", b, err, sizeof(err));
        ng_gpu_resolve(t, &r, NG_IDX_CUDA, "GPU-1", b, err, sizeof(err));
        /* its numa_node lines: all or none, only CPU nodes of this machine */
        int applied, skipped;
        ng_accel a;
        int rc = ng_gpu_map_locality(t, p, &applied, &skipped, err, sizeof(err));
        FZ_ASSERT(rc == 0 || !ng_topo_gpu_nodes(t, "0000:04:00.0"));
        if (rc == 0 && ng_accel_lookup(t, "0000:04:00.0", &a, err, sizeof(err)) == 0) {
            FZ_ASSERT(a.locality == NG_LOC_KNOWN &&
                      hwloc_bitmap_isincluded(a.nodes, ng_topo_cpu_nodes(t)));
            ng_accel_clear(&a);
        }
        ng_topo_gpu_nodes_clear(t);
        break;
    }
    case 1:
        put("proc/driver/nvidia/gpus/0000:04:00.0/information", d + 1, n - 1);
        r.gpu_map = NULL;
        if (ng_gpu_resolve(t, &r, NG_IDX_GRES, "0", b, err, sizeof(err)) == 0)
            FZ_ASSERT(!strcmp(b, "0000:04:00.0"));
        ng_gpu_resolve(t, &r, NG_IDX_CUDA, "GPU-00000000-0000-0000-0000-000000000000", b, err,
                       sizeof(err));
        break;
    case 2: {
        put("state/hugepages.ledger", d + 1, n - 1);
        snprintf(p, sizeof(p), "%s/state", dir);
        ng_hp_ctx c = { dir, procfs, p, 0, 0 };
        int failed;
        free(ng_hp_status(&c, &failed));
        break;
    }
    default: {
        put("1.json", d + 1, n - 1);
        char *text = NULL;
        if (ng_audit_summarize(dir, 1, 80, &text, err, sizeof(err)) == 0)
            free(text);
        break;
    }
    }
    return 0;
}
