/* numa-gpu hints: the plan rendered for launchers that bind ranks
 * themselves (`export` lines for Open MPI, Intel MPI, MPICH, torchrun) and
 * an Open MPI rankfile. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "private/hostplans.h"
#include "private/hints.h"

/* --hosts of any length into hosts[] (pointers into buf); an empty name is
 * an error. */
static int split_hosts(const char *list, char *buf, const char **hosts, int *nh)
{
    for (char *q = buf, *h; q; q = h) {
        h = strchr(q, ',');
        if (h)
            *h++ = '\0';
        if (!*q) {
            fprintf(stderr, "numa-gpu: --hosts '%s': empty host name (expected H1,H2,...)\n",
                    list);
            return 2;
        }
        hosts[(*nh)++] = q;
    }
    return 0;
}

static void print_hints(const ng_plan *p, const ng_hints *h, int rankfile_written)
{
    for (int r = 0; r < p->nranks; r++) {
        char l[512];
        const ng_rank_plan *rp = &p->ranks[r];
        if (rp->nnics)
            printf("# local rank %d: nearest NICs %s (%s); `numa-gpu exec` exports them as "
                   "UCX_NET_DEVICES/NCCL_IB_HCA\n", r, ng_plan_nic_list(rp, 1, l, sizeof(l)),
                   ng_nearness_name(rp->nics[0].near));
    }
    if (!rankfile_written) {
        printf("# rankfile (write it with --rankfile F):\n");
        for (const char *l = h->rankfile; *l; ) {
            const char *nl = strchr(l, '\n');
            size_t len = nl ? (size_t)(nl - l) : strlen(l);
            if (len)
                printf("#   %.*s\n", (int)len, l);
            l += len + (nl != NULL);
        }
    }
    for (int i = 0; i < h->n; i++) {
        /* single-quoted for the shell: ' becomes '\'' */
        printf("export %s='", h->v[i].name);
        for (const char *q = h->v[i].value; *q; q++)
            if (*q == '\'')
                fputs("'\\''", stdout);
            else
                putchar(*q);
        printf("'\n");
    }
}

int cmd_hints(int argc, char **argv)
{
    static const struct option lo[] = {
        PLAN_LONGOPTS, { "mpi", 1, 0, 'm' }, { "hosts", 1, 0, 'H' }, { "rankfile", 1, 0, 'r' },
        { "docker", 0, 0, 'd' }, { "podman", 0, 0, 'p' }, { "apptainer", 0, 0, 'a' },
        { "topology-dir", 1, 0, 'T' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    plan_opts o;
    const char *mpi = NULL, *hostlist = NULL, *rankfile = NULL, *topodir = NULL;
    char err[NG_ERRLEN];
    unsigned mpis = NG_MPI_ALL;
    int c, rc, container = -1;
    plan_opts_init(&o);
    while ((c = plan_getopt(argc, argv, lo, &o, &rc)) != -1) {
        if (c == PLAN_GETOPT_ERROR)
            return rc;
        else if (c == 'm') {
            mpi = optarg;
        } else if (c == 'H') {
            hostlist = optarg;
        } else if (c == 'r') {
            rankfile = optarg;
        } else if (c == 'T') {
            topodir = optarg;
        } else if (c == 'd' || c == 'p' || c == 'a') {
            if (container >= 0)
                return cli_usage_error("hints: one of --docker, --podman, --apptainer");
            container = c == 'd' ? NG_CONTAINER_DOCKER : c == 'p' ? NG_CONTAINER_PODMAN
                      : NG_CONTAINER_APPTAINER;
        } else if (c == 'h') {
            cli_usage("hints", stdout);
            return 0;
        } else {
            return cli_bad_option("hints", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (mpi && ng_mpi_parse(mpi, &mpis, err, sizeof(err)) < 0)
        return cli_usage_error("%s", err);
    ng_topo *t = NULL;
    ng_step st = { 0 };
    ng_plan p = { 0 };
    rc = cli_plan("hints", &o, STEP_FROM_BATCH_ENV, -1, &t, &st, &p);
    if (container >= 0) {
        if (rc == 0) {
            char *s = ng_hints_containers(t, &p, (ng_container)container);
            if (s)
                fputs(s, stdout);
            rc = s ? 0 : 1;
            free(s);
            if (!p.ok)
                fprintf(stderr, "numa-gpu: warning: %s\n", p.error);
        }
        ng_plan_free(&p);
        ng_step_free(&st);
        ng_topo_free(t);
        return rc;
    }
    size_t maxh = 1;
    for (const char *q = hostlist; q && *q; q++)
        maxh += *q == ',';
    char *buf = strdup(hostlist ? hostlist : ""), self[256];
    const char **hosts = calloc(maxh, sizeof(char *));
    int nh = 0;
    if (!buf || !hosts) {
        fprintf(stderr, "numa-gpu: out of memory\n");
        rc = rc ? rc : 1;
    } else if (rc == 0 && hostlist) {
        rc = split_hosts(hostlist, buf, hosts, &nh);
    } else if (rc == 0) {
        gethostname(self, sizeof(self) - 1);
        self[sizeof(self) - 1] = '\0';
        hosts[nh++] = self;
    }
    /* Hosts of another type: their rows from their own topology (the first
     * host is this one, the batch node); tasks per host from Slurm's
     * SLURM_TASKS_PER_NODE when it names them all, else this node's. */
    ng_host_plans hp = { 0 };
    int *tpn = rc == 0 && topodir ? calloc((size_t)nh + 1, sizeof(int)) : NULL;
    if (tpn) {
        const char *v = getenv("SLURM_TASKS_PER_NODE");
        if (!v || ng_tasks_per_node_list(v, nh, tpn, err, sizeof(err)) < 0)
            for (int i = 0; i < nh; i++)
                tpn[i] = p.nranks;
        char note[NG_ERRLEN];
        if (ng_host_plans_make(topodir, hosts, nh, tpn, ng_plan_gpu_count(&p), hosts[0], &p, o.mode, NULL, &hp, note,
                               sizeof(note), err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            rc = 2;
        } else if (note[0]) {
            fprintf(stderr, "numa-gpu: note: %s\n", note);
        }
    }
    free(tpn);
    ng_hints h;
    if (rc == 0 && ng_hints_build(&p, hp.plan, hosts, nh, rankfile, mpis, &h, err, sizeof(err)) < 0) {
        fprintf(stderr, "numa-gpu: %s\n", err);
        rc = 1;
    } else if (rc == 0) {
        if (rankfile) {
            FILE *f = fopen(rankfile, "we");
            if (!f || fputs(h.rankfile, f) < 0) {
                fprintf(stderr, "numa-gpu: cannot write rankfile '%s': %s\n", rankfile,
                        strerror(errno));
                rc = 1;
            }
            if (f && fclose(f) != 0 && rc == 0) {
                fprintf(stderr, "numa-gpu: cannot write rankfile '%s': %s\n", rankfile,
                        strerror(errno));
                rc = 1;
            }
        }
        if (rc == 0)
            print_hints(&p, &h, rankfile != NULL);
        ng_hints_free(&h);
    }
    ng_host_plans_free(&hp);
    free(buf);
    free(hosts);
    if (rc == 0 && !p.ok)
        fprintf(stderr, "numa-gpu: warning: %s\n", p.error);
    ng_plan_free(&p);
    ng_step_free(&st);
    ng_topo_free(t);
    return rc;
}
