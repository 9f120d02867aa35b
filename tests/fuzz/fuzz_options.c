#define _GNU_SOURCE
/* User and admin strings: --numa-gpu, --numa-gpu-mem, --numa-gpu-hugepages,
 * --mpi, plugstack arguments, tasks per node, numbers. First byte picks. */
#include "fuzz.h"
#include "numagpu.h"
#include "private/config.h"
#include "private/hints.h"
#include "private/hugepages.h"
#include "private/slurmstep.h"
#include "private/util.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    char *s = fz_str(d + 1, n - 1), err[NG_ERRLEN];
    if (!s)
        return 0;
    ng_mode m;
    ng_memopt mo;
    int v, k;
    unsigned mask;
    unsigned long long b, x;
    unsigned long kb;
    ng_config c;
    switch (d[0] % 7) {
    case 0: ng_mode_option_parse(s, &m, &v, err, sizeof(err)); break;
    case 1: ng_memopt_parse(s, &mo); break;
    case 2: if (ng_hp_parse_size(s, &b, &kb, err, sizeof(err)) == 0) FZ_ASSERT(kb >= 4); break;
    case 3: ng_mpi_parse(s, &mask, err, sizeof(err)); break;
    case 4:
        ng_config_init(&c);
        for (char *save = NULL, *a = strtok_r(s, " ", &save); a; a = strtok_r(NULL, " ", &save))
            if (ng_config_arg(&c, a, err, sizeof(err)) < 0)
                break;
        ng_config_check(&c, err, sizeof(err));
        FZ_ASSERT(c.hugepages_max_fraction >= 0 && c.hugepages_max_fraction <= 1);
        break;
    case 5: if (ng_tasks_per_node_parse(s, &k, err, sizeof(err)) == 0) FZ_ASSERT(k >= 1 && k <= 65536); break;
    default: if (ng_parse_u64(s, 1, 4096, &x) == 0) FZ_ASSERT(x >= 1 && x <= 4096); break;
    }
    free(s);
    return 0;
}
