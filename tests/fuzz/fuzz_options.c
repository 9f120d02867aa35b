#define _GNU_SOURCE
/* User and admin strings: --numa-gpu, --numa-gpu-mem, --numa-gpu-hugepages,
 * --mpi, plugstack arguments, tasks per node, numbers; from a first byte of
 * 0xF0 on: tasks per node per host, a visible-device list rewritten, the
 * CPU requests read from Slurm's variables. First byte picks. */
#include "fuzz.h"
#include "numagpu.h"
#include "private/config.h"
#include "private/cpuopt.h"
#include "private/hostplans.h"
#include "private/visible.h"
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
    int pick = d[0] < 0xF0 ? d[0] % 7 : 7 + (d[0] - 0xF0) % 3;
    switch (pick) {
    case 7: {
        int hosts = 1 + (int)(n % 17), per[17];
        if (ng_tasks_per_node_list(s, hosts, per, err, sizeof(err)) == 0)
            for (int i = 0; i < hosts; i++)
                FZ_ASSERT(per[i] >= 1 && per[i] <= 65536);
        break;
    }
    case 8: {
        /* 1..8 visible GPUs, a home chunk inside; the value is the input */
        char ids[8][NG_BUSID_LEN], out[256], why[256];
        int nv = 1 + (int)(n % 8), from = (int)(n % (size_t)nv), cnt = 1;
        for (int i = 0; i < nv; i++)
            snprintf(ids[i], NG_BUSID_LEN, "0000:%02x:00.0", (unsigned)(i * 37 % 256));
        ng_step st;
        memset(&st, 0, sizeof(st));
        if (ng_step_set_visible(&st, ids, nv, from, cnt) == 0)
            for (int mode = 0; mode < 3; mode++)
                if (ng_visible_value(&st, (ng_visible)mode, s, out, sizeof(out), why, sizeof(why)) == 0)
                    FZ_ASSERT(strlen(out) <= strlen(s));
        ng_step_free(&st);
        break;
    }
    case 9: {
        /* SLURM_HINT / SLURM_THREADS_PER_CORE / SLURM_CPUS_PER_TASK = input */
        ng_cpuopt co;
        if (ng_cpuopt_from_env(NG_SMT_AUTO, NG_SCOPE_NODE, 0, fz_getenv_all, s, &co, err,
                               sizeof(err)) == 0)
            FZ_ASSERT(co.threads_per_core >= 0 && co.threads_per_core <= NG_MAX_THREADS_PER_CORE &&
                      co.cpus_per_task >= 0 && co.cpus_per_task <= NG_MAX_CPUS_PER_TASK);
        break;
    }
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
