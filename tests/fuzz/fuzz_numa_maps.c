/* /proc/<pid>/numa_maps text: never crashes, totals add up. */
#include "fuzz.h"
#include "numagpu.h"
#include "private/audit.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *s = fz_str(d, n);
    ng_pages p;
    memset(&p, 0, sizeof(p));
    if (s && ng_numa_maps_parse(s, &p) >= 0) {
        unsigned long sum = 0;
        for (int i = 0; i < NG_MAX_NODES; i++)
            sum += p.pages[i];
        FZ_ASSERT(sum == p.total);
    }
    free(s);
    return 0;
}
