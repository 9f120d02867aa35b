/* numa-gpu report: audit records of many nodes (directories, files)
 * summarized per job, per node and per user, worst offenders first
 * (lib/report.c). Lines that are not records are named on stderr. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "private/report.h"
#include "private/util.h"

typedef struct {
    char **v;
    int n;
} list;

/* Append the comma-separated items of arg; -1 on an empty item. */
static int split(list *l, const char *arg)
{
    for (const char *p = arg;; ) {
        size_t len = strcspn(p, ",");
        if (!len)
            return -1;
        char **nv = realloc(l->v, (size_t)(l->n + 1) * sizeof(*nv));
        if (!nv)
            return -1;
        l->v = nv;
        if (!(l->v[l->n] = strndup(p, len)))
            return -1;
        l->n++;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static void list_free(list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int parse_jobs(const char *arg, unsigned long **jobs, int *n)
{
    list l = { 0 };
    int rc = split(&l, arg);
    for (int i = 0; rc == 0 && i < l.n; i++) {
        unsigned long long v;
        unsigned long *nj = realloc(*jobs, (size_t)(*n + 1) * sizeof(**jobs));
        if (!nj || ng_parse_u64(l.v[i], 1, 4294967295ULL, &v) < 0) {
            if (nj)
                *jobs = nj;
            rc = -1;
            break;
        }
        *jobs = nj;
        (*jobs)[(*n)++] = (unsigned long)v;
    }
    list_free(&l);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option lo[] = {
        { "job", 1, 0, 'J' }, { "user", 1, 0, 'u' }, { "node", 1, 0, 'N' },
        { "since", 1, 0, 's' }, { "top", 1, 0, 'T' }, { "json", 0, 0, 'j' },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    ng_report_filter f = { .since = -1 };
    unsigned long *jobs = NULL;
    list users = { 0 }, nodes = { 0 };
    int json = 0, top = 0, c, rc = 0;
    char err[NG_ERRLEN];
    optind = 1;
    opterr = 0;
    /* Options may follow the paths ("report DIR --since 7d"): no '+'. */
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (c) {
        case 'J':
            if (parse_jobs(optarg, &jobs, &f.njobs) < 0)
                rc = cli_usage_error("invalid --job '%s' (expected job ids 1..4294967295, "
                                     "comma-separated)", optarg);
            break;
        case 'u':
            if (split(&users, optarg) < 0)
                rc = cli_usage_error("invalid --user '%s' (expected user names or uids, "
                                     "comma-separated)", optarg);
            break;
        case 'N':
            if (split(&nodes, optarg) < 0)
                rc = cli_usage_error("invalid --node '%s' (expected host names or patterns "
                                     "like 'gpu[0-3]*', comma-separated)", optarg);
            break;
        case 's':
            if (ng_since_parse(optarg, (long long)time(NULL), &f.since, err, sizeof(err)) < 0)
                rc = cli_usage_error("invalid --since: %s", err);
            break;
        case 'T':
            if (cli_int("--top", optarg, 1, 1000000, &top))
                rc = 2;
            break;
        case 'j': json = 1; break;
        case 'h': cli_usage("report", stdout); rc = -1; break;
        default: rc = cli_bad_option("report", c, argv); break;
        }
    }
    if (rc == 0 && optind >= argc)
        rc = cli_usage_error("report needs audit directories or files (audit_dir of "
                             "plugstack.conf, or copies of it)");
    ng_report *r = NULL;
    if (rc == 0) {
        f.jobs = jobs;
        f.users = (const char *const *)users.v;
        f.nusers = users.n;
        f.nodes = (const char *const *)nodes.v;
        f.nnodes = nodes.n;
        if (!(r = ng_report_new(&f))) {
            fprintf(stderr, "numa-gpu: report: out of memory\n");
            rc = 1;
        }
    }
    for (int i = optind; r && i < argc; i++)
        if (ng_report_add_path(r, argv[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: report: %s\n", err);
            rc = 1;   /* the others are still reported */
        }
    if (r) {
        char *problems = ng_report_problems(r, 20);
        for (char *save = NULL, *l = problems ? strtok_r(problems, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save))
            fprintf(stderr, "numa-gpu: report: %s\n", l);
        free(problems);
        char *out = json ? ng_report_json(r, top) : ng_report_text(r, top);
        if (out)
            fputs(out, stdout);
        else
            rc = 1;
        free(out);
        ng_report_free(r);
    }
    free(jobs);
    list_free(&users);
    list_free(&nodes);
    return rc < 0 ? 0 : rc;
}
