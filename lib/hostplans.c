/* The plan of every node of a job for the batch step's hints (see
 * private/hostplans.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "private/hostplans.h"
#include "private/step.h"
#include "private/util.h"

int ng_tasks_per_node_list(const char *s, int nhosts, int *n, char *err, size_t errlen)
{
    int h = 0;
    const char *p = s;
    while (p && *p && h < nhosts) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10), rep = 1;
        if (end == p || errno || v < 1 || v > 65536)
            break;
        p = end;
        if (*p == '(') {
            if (p[1] != 'x')
                break;
            rep = strtol(p + 2, &end, 10);
            if (end == p + 2 || *end != ')' || rep < 1 || rep > 1000000)
                break;
            p = end + 1;
        }
        for (long k = 0; k < rep && h < nhosts; k++)
            n[h++] = (int)v;
        if (*p == ',')
            p++;
        else if (*p)
            break;
    }
    if (h < nhosts || (p && *p))
        return ng_err(err, errlen, "tasks per node '%.64s' does not name %d host(s) (expected "
                      "N, N(xM) or a list of them, N in 1..65536)", s ? s : "", nhosts);
    return 0;
}

void ng_host_plans_free(ng_host_plans *hp)
{
    for (int i = 0; hp->own && i < hp->nhosts; i++)
        if (hp->own[i].ranks)
            ng_plan_free(&hp->own[i]);
    free(hp->own);
    free(hp->plan);
    free(hp->from_dir);
    memset(hp, 0, sizeof(*hp));
}

/* ntasks ranks over the first ngpus GPUs of t (PCI order), by the
 * local-rank convention. */
static int plan_host(const ng_topo *t, int ntasks, int ngpus, ng_mode mode, const ng_cpuopt *co,
                     ng_plan *p, char *err, size_t errlen)
{
    ng_accel *v = NULL;
    int ng = 0;
    ng_step st;
    if (ng_accel_list(t, &v, &ng) < 0 || ng_step_alloc(&st, ntasks, err, errlen) < 0) {
        ng_accel_list_free(v, ng);
        return ng_err(err, errlen, "out of memory");
    }
    int rc = 0, use = ngpus > 0 && ngpus < ng ? ngpus : ng;
    for (int i = 0; rc == 0 && i < ntasks && use > 0; i++) {
        int from, cnt;
        ng_home_chunk(i, ntasks, use, &from, &cnt);
        for (int j = from; rc == 0 && j < from + cnt; j++)
            if (ng_step_add_gpu(&st.ranks[i], v[j].busid) < 0)
                rc = ng_err(err, errlen, "out of memory");
    }
    char warn[NG_ERRLEN];
    if (rc == 0)
        rc = ng_step_plan(t, &st, NULL, NULL, mode, NG_MEM_LOCAL, NULL, co, p, warn,
                          sizeof(warn), err, errlen);
    ng_step_free(&st);
    ng_accel_list_free(v, ng);
    return rc;
}

int ng_host_plans_make(const char *dir, const char *const *hosts, int nhosts,
                       const int *ntasks, int ngpus, const char *self_host,
                       const ng_plan *self, ng_mode mode, const ng_cpuopt *co,
                       ng_host_plans *hp, char *note, size_t notelen, char *err,
                       size_t errlen)
{
    memset(hp, 0, sizeof(*hp));
    if (note && notelen)
        note[0] = '\0';
    if (nhosts < 1)
        return ng_err(err, errlen, "no hosts");
    hp->nhosts = nhosts;
    hp->plan = calloc((size_t)nhosts, sizeof(*hp->plan));
    hp->own = calloc((size_t)nhosts, sizeof(*hp->own));
    hp->from_dir = calloc((size_t)nhosts, sizeof(int));
    if (!hp->plan || !hp->own || !hp->from_dir) {
        ng_host_plans_free(hp);
        return ng_err(err, errlen, "out of memory");
    }
    size_t un = 0;
    int fell_back = 0;
    for (int i = 0; i < nhosts; i++) {
        hp->plan[i] = self;
        if (!dir || !*dir || (self_host && !strcmp(hosts[i], self_host)))
            continue;
        char path[4096];
        if (strchr(hosts[i], '/') || snprintf(path, sizeof(path), "%s/%s.xml", dir, hosts[i]) >=
            (int)sizeof(path)) {
            ng_host_plans_free(hp);
            return ng_err(err, errlen, "host name '%.64s' cannot name a file in %s", hosts[i],
                          dir);
        }
        if (access(path, F_OK) != 0) {
            fell_back++;
            continue;
        }
        ng_topo *t = ng_topo_load(path, err, errlen);
        int rc = t ? plan_host(t, ntasks ? ntasks[i] : self ? self->nranks : 1, ngpus, mode, co,
                               &hp->own[i], err, errlen) : -1;
        ng_topo_free(t);
        if (rc < 0) {
            char e2[NG_ERRLEN];
            snprintf(e2, sizeof(e2), "%s", err);
            ng_host_plans_free(hp);
            return ng_err(err, errlen, "host %s: %s: %s", hosts[i], path, e2);
        }
        hp->plan[i] = &hp->own[i];
        hp->from_dir[i] = 1;
        if (note && un < notelen)
            un += (size_t)snprintf(note + un, notelen - un, "%s%s", un ? "," : "rows from "
                                   "their own topology: ", hosts[i]);
    }
    if (fell_back && note && un < notelen)
        snprintf(note + un, notelen - un, "%s%d host(s) without a topology in %s use the batch "
                 "node's rows", un ? "; " : "", fell_back, dir);
    return 0;
}

int ng_plan_gpu_count(const ng_plan *p)
{
    int n = 0;
    for (int r = 0; p && r < p->nranks; r++)
        for (int g = 0; g < p->ranks[r].ngpus; g++) {
            int seen = 0;
            for (int q = 0; q <= r && !seen; q++)
                for (int h = 0; h < (q == r ? g : p->ranks[q].ngpus) && !seen; h++)
                    seen = !strcmp(p->ranks[q].gpus[h].busid, p->ranks[r].gpus[g].busid);
            n += !seen;
        }
    return n;
}
