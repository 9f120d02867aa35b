/* What launchers (mpirun, Intel MPI, MPICH, torchrun) are told: every
 * launcher renders the plan, and the batch rankfile's life. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/hints.h"
#include "private/slurmstep.h"
#include "private/step.h"

static const char *hint(const ng_hints *h, const char *name)
{
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->v[i].name, name))
            return h->v[i].value;
    return NULL;
}

#define PASCAL "llnl-pascal-2s-bdw-2xp100-pcie.xml"   /* 2 sockets, a GPU on each */

static void hints(void)
{
    char err[NG_ERRLEN];
    ng_topo *t = t_load_corpus(PASCAL);
    ng_roots r = { 0 };
    ng_step st;
    ng_plan p;
    ng_hints h;
    const char *hosts[] = { "n1", "n2" };
    t_begin("hints/every-launcher-renders-the-plan");
    int ok = t && ng_step_from_spec(t, &r, "0000:04:00.0:0000:07:00.0", 0, &st, err, sizeof(err)) == 0 &&
             ng_plan_compute(t, NULL, NULL, st.nranks, st.ranks, NG_MODE_STRICT, &p, err, sizeof(err)) == 0 &&
             ng_hints_build(&p, hosts, 2, "/tmp/rf", NG_MPI_ALL, &h, err, sizeof(err)) == 0;
    CHECK(ok, "%s", err);
    if (ok) {
        char c0[256], c1[256], line[600], m0[128], m1[128], dom[300];
        ng_list_str(p.ranks[0].cpus, c0, sizeof(c0));
        ng_list_str(p.ranks[1].cpus, c1, sizeof(c1));
        snprintf(line, sizeof(line), "rank 3=n2 slot=%s\n", c1);
        CHECK(strstr(h.rankfile, line) != NULL, "rankfile lacks '%s':\n%s", line, h.rankfile);
        hwloc_bitmap_taskset_snprintf(m0, sizeof(m0), p.ranks[0].cpus);
        hwloc_bitmap_taskset_snprintf(m1, sizeof(m1), p.ranks[1].cpus);
        snprintf(dom, sizeof(dom), "[%s,%s]", m0, m1);
        CHECK(hint(&h, "I_MPI_PIN_DOMAIN") && !strcmp(hint(&h, "I_MPI_PIN_DOMAIN"), dom),
              "I_MPI_PIN_DOMAIN %s want %s", hint(&h, "I_MPI_PIN_DOMAIN"), dom);
        const char *hy = hint(&h, "HYDRA_BINDING");
        hwloc_bitmap_t back = hwloc_bitmap_alloc();
        char first[256] = "";
        if (hy && !strncmp(hy, "user:", 5)) {
            snprintf(first, sizeof(first), "%s", hy + 5);
            first[strcspn(first, ",")] = '\0';
            for (char *q = first; *q; q++)
                if (*q == '+')
                    *q = ',';
            ng_list_parse(first, back);
        }
        CHECK(hwloc_bitmap_isequal(back, p.ranks[0].cpus), "HYDRA_BINDING %s", hy ? hy : "(none)");
        hwloc_bitmap_free(back);
        CHECK(hint(&h, "OMPI_MCA_rmaps_rank_file_path") &&
              !strcmp(hint(&h, "OMPI_MCA_rmaps_rank_file_path"), "/tmp/rf") &&
              !strcmp(hint(&h, "OMPI_MCA_hwloc_base_mem_alloc_policy"), "local_only") &&
              !hint(&h, "OMPI_MCA_rmaps_base_mapping_policy"), "Open MPI settings");
        ng_hints_free(&h);
        ng_plan_free(&p);
        ng_step_free(&st);
    }
    unsigned m;
    CHECK(ng_mpi_parse("ompi4,impi", &m, err, sizeof(err)) == 0 && m == (NG_MPI_OMPI4 | NG_MPI_IMPI), "parse");
    CHECK(ng_mpi_parse("ompi4,lam", &m, err, sizeof(err)) < 0 && strstr(err, "'lam'"), "%s", err);
    t_end();
    ng_topo_free(t);
}

static void batch_rankfile(void)
{
    char err[NG_ERRLEN], path[128];
    ng_topo *t = t_load_corpus(PASCAL);
    ng_roots r = { 0 };
    ng_step st;
    ng_plan p;
    ng_hints h;
    const char *hosts[] = { "n1" };
    unsigned long job = 900000000ul + (unsigned long)getpid();
    t_begin("hints/batch-rankfile-written-and-removed");
    int ok = t && ng_step_from_count(t, &r, 2, 1, &st, err, sizeof(err)) == 0 &&
             ng_plan_compute(t, NULL, NULL, st.nranks, st.ranks, NG_MODE_PREFER, &p, err,
                             sizeof(err)) == 0;
    CHECK(ok && ng_hints_batch(&p, hosts, 1, job, NG_MPI_ALL, &h, path, sizeof(path), err,
                               sizeof(err)) == 0, "%s", err);
    if (ok && !t_case_failed) {
        char text[4096] = "";
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
        text[n] = '\0';
        if (f)
            fclose(f);
        char want[64];
        snprintf(want, sizeof(want), "/tmp/numa-gpu-rankfile.%lu.", job);
        CHECK(!strncmp(path, want, strlen(want)) && !strcmp(text, h.rankfile) &&
              strstr(text, "rank 1=n1 slot="), "%s: '%s'", path, text);
        CHECK(ng_rankfiles_remove(job, err, sizeof(err)) == 0 && access(path, F_OK) < 0,
              "not removed: %s", err);
        ng_hints_free(&h);
    }
    if (ok) {
        ng_plan_free(&p);
        ng_step_free(&st);
    }
    t_end();
    ng_topo_free(t);
}

int main(void)
{
    hints();
    batch_rankfile();
    T_EXIT();
}
