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
#include "private/hostplans.h"
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
             ng_hints_build(&p, NULL, hosts, 2, "/tmp/rf", NG_MPI_ALL, &h, err, sizeof(err)) == 0;
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
    CHECK(ok && ng_hints_batch(&p, NULL, hosts, 1, job, NG_MPI_ALL, &h, path, sizeof(path), err,
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

/* A job over two node types (issue 28 part 2): the batch node (Pascal, 2
 * GPUs, 2 tasks) and a Tioga whose topology the admin keeps in
 * topology_dir; a third host without one. --gres=gpu:2 is per node: Tioga's
 * 3 tasks share its first 2 GPUs by the local-rank convention (task i on
 * GPU i mod 2: numa-gpu plan --gpus 0:1:0 --gpu-order pci), numbered after
 * the batch node's ranks; host 3 repeats the batch node's rows. */
static void mixed_nodes(void)
{
    char err[NG_ERRLEN], note[NG_ERRLEN], dir[] = "/tmp/ng-topodir-XXXXXX", cmd[8400];
    t_begin("hints/mixed-node-types-rows-from-each-topology");
    ng_topo *t = t_load_corpus(PASCAL), *tg = t_load_corpus("llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml");
    CHECK(t && tg && mkdtemp(dir), "setup");
    snprintf(cmd, sizeof(cmd), "cp %s/llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml %s/tioga7.xml",
             t_corpus(), dir);
    CHECK(!t_case_failed && system(cmd) == 0, "%s", cmd);
    ng_roots off = { .offline = 1, .pci_order = 1 };
    ng_step st, sg;
    ng_plan p, pg;
    int ok = !t_case_failed && ng_step_from_count(t, &off, 2, 1, &st, err, sizeof(err)) == 0 &&
             ng_plan_compute(t, NULL, NULL, 2, st.ranks, NG_MODE_PREFER, &p, err, sizeof(err)) == 0 &&
             ng_step_from_spec(tg, &off, "0:1:0", 0, &sg, err, sizeof(err)) == 0 &&
             ng_plan_compute(tg, NULL, NULL, 3, sg.ranks, NG_MODE_PREFER, &pg, err, sizeof(err)) == 0;
    CHECK(ok, "%s", err);
    if (ok) {
        const char *hosts[] = { "pascal1", "tioga7", "pascal2" };
        int tpn[3];
        CHECK(ng_tasks_per_node_list("2,3,2", 3, tpn, err, sizeof(err)) == 0, "%s", err);
        CHECK(ng_plan_gpu_count(&p) == 2 && ng_plan_gpu_count(&pg) == 2, "GPU counts %d %d",
              ng_plan_gpu_count(&p), ng_plan_gpu_count(&pg));
        ng_host_plans hp;
        ng_hints h;
        CHECK(ng_host_plans_make(dir, hosts, 3, tpn, 2, "pascal1", &p, NG_MODE_PREFER, NULL, &hp,
                                 note, sizeof(note), err, sizeof(err)) == 0 &&
              hp.from_dir[1] && !hp.from_dir[0] && !hp.from_dir[2] &&
              strstr(note, "tioga7") && strstr(note, "1 host(s) without a topology"),
              "%s / %s", err, note);
        if (!t_case_failed &&
            ng_hints_build(&p, hp.plan, hosts, 3, "/tmp/rf", NG_MPI_ALL, &h, err, sizeof(err)) == 0) {
            char want[4096] = "", c[512];
            size_t u = 0;
            int rank = 0;
            for (int i = 0; i < 3; i++) {
                const ng_plan *q = i == 1 ? &pg : &p;
                for (int r = 0; r < q->nranks; r++)
                    u += (size_t)snprintf(want + u, sizeof(want) - u, "rank %d=%s slot=%s\n",
                                          rank++, hosts[i], ng_list_str(q->ranks[r].cpus, c,
                                                                        sizeof(c)));
            }
            CHECK(!strcmp(h.rankfile, want), "rankfile:\n%swant:\n%s", h.rankfile, want);
            ng_hints_free(&h);
        } else if (!t_case_failed) {
            CHECK(0, "%s", err);
        }
        ng_host_plans_free(&hp);
        ng_plan_free(&p);
        ng_plan_free(&pg);
        ng_step_free(&st);
        ng_step_free(&sg);
    }
    t_end();

    t_begin("hints/mixed-node-types-errors");
    int n[4];
    CHECK(ng_tasks_per_node_list("2(x3),1", 4, n, err, sizeof(err)) == 0 && n[0] == 2 &&
          n[2] == 2 && n[3] == 1, "2(x3),1: %s", err);
    CHECK(ng_tasks_per_node_list("2(x3)", 4, n, err, sizeof(err)) < 0 &&
          strstr(err, "does not name 4 host(s)"), "%s", err);
    CHECK(ng_tasks_per_node_list("2(y3)", 1, n, err, sizeof(err)) < 0, "2(y3) read");
    CHECK(ng_tasks_per_node_list("0", 1, n, err, sizeof(err)) < 0, "0 tasks read");
    /* a topology that exists but does not load names the file */
    snprintf(cmd, sizeof(cmd), "echo '<topology>broken' > %s/bad1.xml", dir);
    const char *bad[] = { "pascal1", "bad1" };
    int two[2] = { 2, 2 };
    ng_host_plans hp;
    CHECK(system(cmd) == 0 && t && ng_host_plans_make(dir, bad, 2, two, 0, "pascal1", NULL,
                                                       NG_MODE_PREFER, NULL, &hp, note,
                                                       sizeof(note), err, sizeof(err)) < 0 &&
          strstr(err, "host bad1") && strstr(err, "bad1.xml"), "%s", err);
    const char *slash[] = { "pascal1", "../etc/x" };
    CHECK(ng_host_plans_make(dir, slash, 2, two, 0, "pascal1", NULL, NG_MODE_PREFER, NULL, &hp,
                             note, sizeof(note), err, sizeof(err)) < 0 &&
          strstr(err, "cannot name a file"), "%s", err);
    t_end();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
    ng_topo_free(t);
    ng_topo_free(tg);
}

int main(void)
{
    mixed_nodes();
    hints();
    batch_rankfile();
    T_EXIT();
}
