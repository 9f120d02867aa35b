#define _GNU_SOURCE
/* Slurm's GPU binding strings (SLURMD_TRES_BIND), step GPU lists and cpu
 * bind lists as a task would see them: never crash, rows only name the
 * step's GPUs. Input: "STEP|BIND|NTASKS|CPUTYPE|CPULIST". */
#include "fuzz.h"
#include "numagpu.h"
#include "private/assign.h"
#include "private/slurmstep.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *s = fz_str(d, n), err[NG_ERRLEN];
    if (!s)
        return 0;
    char *f[5] = { 0 }, *save = NULL;
    f[0] = s;
    for (int i = 1; i < 5; i++) {
        char *bar = f[i - 1] ? strchr(f[i - 1], '|') : NULL;
        if (bar) {
            *bar = '\0';
            f[i] = bar + 1;
        }
    }
    (void)save;
    unsigned *g = NULL;
    int ng = 0, ntasks = f[2] ? atoi(f[2]) % 64 : 2;
    if (ntasks < 1)
        ntasks = 1;
    if (ng_gres_list_parse(f[0], &g, &ng, err, sizeof(err)) == 0) {
        hwloc_bitmap_t tc[64];
        for (int i = 0; i < ntasks; i++)
            tc[i] = hwloc_bitmap_alloc();
        int have = f[3] && f[4] && ng_cpu_bind_list(f[3], f[4], ntasks, tc, NULL, 0, err, sizeof(err)) == 0;
        /* every release whose rules differ, chosen by the input's length */
        static const unsigned rel[] = { 0, NG_RELEASE(22, 5, 8), NG_RELEASE(23, 2, 1),
                                        NG_RELEASE(23, 2, 3), NG_RELEASE(23, 2, 8),
                                        NG_RELEASE(23, 11, 11), NG_RELEASE(24, 11, 4) };
        ng_assign_in in = { ng, g, ntasks, f[1], (int)(n & 1),
                            have ? (hwloc_const_bitmap_t const *)tc : NULL,
                            have ? (hwloc_const_bitmap_t const *)tc : NULL, have ? ntasks : 0,
                            rel[(n >> 1) % (sizeof(rel) / sizeof(rel[0]))] };
        ng_assignment a;
        if (ng_assign(&in, &a, err, sizeof(err)) == 0) {
            for (int t = 0; t < a.ntasks; t++)
                for (int j = 0; j < a.n[t]; j++) {
                    int found = 0;
                    for (int k = 0; k < ng; k++)
                        found |= g[k] == a.gres[t][j];
                    FZ_ASSERT(found);
                }
            ng_assignment_free(&a);
        }
        for (int i = 0; i < ntasks; i++)
            hwloc_bitmap_free(tc[i]);
    }
    free(g);
    free(s);
    return 0;
}
