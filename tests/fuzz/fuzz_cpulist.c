/* ng_list_parse: never crashes; an accepted list prints and parses back to
 * the same set. */
#include "fuzz.h"
#include "numagpu.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *s = fz_str(d, n);
    hwloc_bitmap_t a = hwloc_bitmap_alloc(), b = hwloc_bitmap_alloc();
    if (s && n < 4096 && ng_list_parse(s, a) == 0 && hwloc_bitmap_weight(a) >= 0 &&
        hwloc_bitmap_last(a) < 65536) {
        char *buf = malloc(1 << 20);
        ng_list_str(a, buf, 1 << 20);
        FZ_ASSERT(ng_list_parse(buf, b) == 0 && hwloc_bitmap_isequal(a, b));
        free(buf);
    }
    hwloc_bitmap_free(a);
    hwloc_bitmap_free(b);
    free(s);
    return 0;
}
