/* ng_busid_parse: never crashes; what it accepts round-trips to itself. */
#include "fuzz.h"
#include "numagpu.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *s = fz_str(d, n), a[NG_BUSID_LEN], b[NG_BUSID_LEN];
    if (s && ng_busid_parse(s, a) == 0) {
        FZ_ASSERT(strlen(a) == 12);
        FZ_ASSERT(ng_busid_parse(a, b) == 0 && !strcmp(a, b));
    }
    free(s);
    return 0;
}
