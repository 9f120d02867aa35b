/* numa-gpu plan / explain: the per-rank placement of a request on a
 * topology, as a table, JSON lines, or in plain words; explain also draws
 * it (--svg, --png: lstopo, lib/draw.c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"
#include "private/draw.h"
#include "private/k8s.h"

enum { OPT_SVG = PO_LAST + 1, OPT_PNG };

/* --svg FILE / --png FILE: a file name, not the other format's. */
static int picture_opt(const char *opt, const char *arg, const char *other, const char **out)
{
    size_t n = strlen(arg), k = strlen(other);
    if (!n || arg[n - 1] == '/' || !strcmp(arg, "-"))
        return cli_usage_error("invalid %s '%s' (expected a file name; the plan's text goes to "
                               "stdout)", opt, arg);
    if (n > k && !strcasecmp(arg + n - k, other))
        return cli_usage_error("invalid %s '%s': a %s name (use %s for that format)", opt, arg,
                               other, !strcmp(other, ".png") ? "--png" : "--svg");
    *out = arg;
    return 0;
}

/* Each picture asked for; 1 when one could not be drawn. */
static int draw(const ng_topo *t, const ng_plan *p, const char *svg, const char *png)
{
    char err[NG_ERRLEN];
    int rc = 0;
    const char *path[2] = { svg, png };
    for (int f = NG_DRAW_SVG; f <= NG_DRAW_PNG; f++)
        if (path[f] && ng_draw_file(t, p, NULL, (ng_draw_format)f, path[f], 0, err,
                                    sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            rc = 1;
        }
    return rc;
}

static int plan_or_explain(int argc, char **argv, int explain)
{
    static const struct option lo[] = {
        PLAN_LONGOPTS, { "json", 0, 0, 'j' }, { "k8s", 0, 0, 'k' }, { "help", 0, 0, 'h' },
        { "svg", 1, 0, OPT_SVG }, { "png", 1, 0, OPT_PNG }, { 0, 0, 0, 0 } };
    plan_opts o;
    int json = 0, k8s = 0, c, rc;
    const char *svg = NULL, *png = NULL;
    plan_opts_init(&o);
    while ((c = plan_getopt(argc, argv, lo, &o, &rc)) != -1) {
        if (c == PLAN_GETOPT_ERROR)
            return rc;
        else if (c == 'j' && !explain) {
            json = 1;
        } else if (c == 'k' && explain) {
            k8s = 1;
        } else if (c == OPT_SVG && explain) {
            if ((rc = picture_opt("--svg", optarg, ".png", &svg)))
                return rc;
        } else if (c == OPT_PNG && explain) {
            if ((rc = picture_opt("--png", optarg, ".svg", &png)))
                return rc;
        } else if ((c == OPT_SVG || c == OPT_PNG) && !explain) {
            const char *opt = c == OPT_SVG ? "--svg" : "--png";
            return cli_usage_error("plan: %s is an option of explain ('numa-gpu explain "
                                   "(the same options) %s FILE')", opt, opt);
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
        /* a refused plan is drawn too: the picture shows why */
        if (draw(t, &p, svg, png))
            rc = 1;
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
