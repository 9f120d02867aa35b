/* plan-request: where would numa-gpu put these ranks? The plan API through
 * its request handle (numagpu.h, section "request"): the same plan the
 * plugin and `numa-gpu plan` make, without knowing any struct's layout.
 * Prints one line a rank: its GPUs, CPUs and memory nodes.
 *
 *   cc plan_request.c $(pkg-config --cflags --libs numagpu) -o plan-request
 *   plan-request [--topology F] [--cpus LIST] [--mem local|interleave|tiered|hbm]
 *                GPUS [NTASKS]
 * GPUS: as --gpus takes it, "0,1:2,3" (ids by ',', ranks by ':'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <numagpu.h>

static int usage(void)
{
    fprintf(stderr, "usage: plan-request [--topology F] [--cpus LIST] "
            "[--mem " NG_MEM_NAMES "] GPUS [NTASKS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *topo_file = NULL, *cpus = NULL, *mem = "local";
    int i = 1;
    for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
        if (!strcmp(argv[i], "--topology"))
            topo_file = argv[i + 1];
        else if (!strcmp(argv[i], "--cpus"))
            cpus = argv[i + 1];
        else if (!strcmp(argv[i], "--mem"))
            mem = argv[i + 1];
        else
            return usage();
    }
    if (i >= argc || argc - i > 2)
        return usage();
    const char *gpus = argv[i];
    int ntasks = i + 1 < argc ? atoi(argv[i + 1]) : 0;

    char err[NG_ERRLEN] = "";
    ng_memopt m;
    if (ng_memopt_parse(mem, &m) < 0) {
        fprintf(stderr, "plan-request: --mem '%s' is not one of " NG_MEM_NAMES "\n", mem);
        return 2;
    }
    ng_topo *t = ng_topo_load(topo_file, err, sizeof(err));
    ng_request *rq = t ? ng_request_new(t) : NULL;
    ng_plan *p = NULL;
    /* Each setter checks its value; the first refusal is the message. */
    int rc = rq ? 0 : -1;
    if (rc == 0)
        rc = ng_request_set_gpus(rq, gpus, err, sizeof(err));
    if (rc == 0)
        rc = ng_request_set_ntasks(rq, ntasks, err, sizeof(err));
    if (rc == 0)
        rc = ng_request_set_cpus_list(rq, cpus, err, sizeof(err));
    if (rc == 0)
        rc = ng_request_set_memory(rq, m, err, sizeof(err));
    if (rc == 0)
        rc = ng_plan_make(rq, &p, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "plan-request: %s\n", err[0] ? err : "out of memory");
    } else {
        if (err[0])
            fprintf(stderr, "plan-request: warning: %s\n", err);
        for (int r = 0; r < ng_plan_nranks(p); r++) {
            char c[256], n[64];
            printf("rank=%d gpus=", r);
            for (int g = 0; g < ng_plan_rank_ngpus(p, r); g++)
                printf("%s%s", g ? "," : "", ng_plan_rank_gpu(p, r, g));
            printf(" cpus=%s mems=%s policy=%s\n",
                   ng_list_str(ng_plan_rank_cpus(p, r), c, sizeof(c)),
                   ng_list_str(ng_plan_rank_mems(p, r), n, sizeof(n)),
                   ng_mempol_name((ng_mempol)ng_plan_rank_policy(p, r)));
        }
        if (!ng_plan_feasible(p))
            fprintf(stderr, "plan-request: %s\n", ng_plan_refusal(p));
    }
    ng_plan_destroy(p);
    ng_request_free(rq);
    ng_topo_free(t);
    return rc < 0 ? 1 : 0;
}
