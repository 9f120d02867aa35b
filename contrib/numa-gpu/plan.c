/* numa-gpu plan / explain: the per-rank placement of a request on a
 * topology, as a table, JSON lines, or in plain words. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include "cli.h"
#include "private/k8s.h"

static int plan_or_explain(int argc, char **argv, int explain)
{
    static const struct option lo[] = {
        PLAN_LONGOPTS, { "json", 0, 0, 'j' }, { "k8s", 0, 0, 'k' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 } };
    plan_opts o;
    int json = 0, k8s = 0, c, rc;
    plan_opts_init(&o);
    while ((c = plan_getopt(argc, argv, lo, &o, &rc)) != -1) {
        if (c == PLAN_GETOPT_ERROR)
            return rc;
        else if (c == 'j' && !explain) {
            json = 1;
        } else if (c == 'k' && explain) {
            k8s = 1;
        } else if (c == 'h') {
            cli_usage(argv[0], stdout);
            return 0;
        } else {
            return cli_bad_option(argv[0], c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    ng_topo *t = NULL;
    ng_step st = { 0 };
    ng_plan p = { 0 };
    rc = cli_plan(argv[0], &o, STEP_FROM_COUNT, -1, &t, &st, &p);
    if (rc == 0) {
        if (json) {
            for (int r = 0; r < p.nranks; r++) {
                char *s = ng_plan_json_line(&p, r);
                puts(s);
                free(s);
            }
        } else {
            char *s = explain ? ng_plan_explain(t, &p) : ng_plan_table(&p);
            fputs(s, stdout);
            free(s);
            if (k8s && (s = ng_k8s_explain(t, &p))) {
                fputs(s, stdout);
                free(s);
            }
        }
        if (!p.ok) {
            fprintf(stderr, "numa-gpu: %s\n", p.error);
            rc = 1;
        }
        ng_plan_free(&p);
    }
    ng_step_free(&st);
    ng_topo_free(t);
    return rc;
}

int cmd_plan(int argc, char **argv)
{
    return plan_or_explain(argc, argv, 0);
}

int cmd_explain(int argc, char **argv)
{
    return plan_or_explain(argc, argv, 1);
}
