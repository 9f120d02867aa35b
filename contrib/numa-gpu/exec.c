/* numa-gpu exec: apply this rank's plan to itself, verify it, exec PROGRAM
 * (for launchers other than srun: mpirun, torchrun). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "private/apply.h"
#include "private/node.h"
#include "private/visible.h"

static void log_stderr(int level, const char *msg, void *ctx)
{
    (void)level;
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

static int setenv_process(const char *name, const char *val, int overwrite, void *ctx)
{
    (void)ctx;
    return setenv(name, val, overwrite);
}

int cmd_exec(int argc, char **argv)
{
    static const struct option lo[] = {
        PLAN_LONGOPTS, { "local-rank", 1, 0, 'l' }, { "verbose", 0, 0, 'v' }, { "nic", 1, 0, 'n' },
        { "visible", 1, 0, 'V' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    plan_opts o;
    int local_rank = -1, c, rc;
    plan_opts_init(&o);
    while ((c = plan_getopt(argc, argv, lo, &o, &rc)) != -1) {
        if (c == PLAN_GETOPT_ERROR)
            return rc;
        else if (c == 'l') {
            if (cli_int("--local-rank", optarg, 0, 65535, &local_rank))
                return 2;
        } else if (c == 'v') {
            o.verbose = 1;
        } else if (c == 'n' || c == 'V') {
            if (cli_setting(&o.cfg, c == 'n' ? "nic" : "visible", optarg))
                return 2;
        } else if (c == 'h') {
            cli_usage("exec", stdout);
            return 0;
        } else {
            return cli_bad_option("exec", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("exec needs a PROGRAM after '--'");
    char **prog = argv + optind;
    ng_topo *t = NULL;
    ng_step st = { 0 };
    ng_plan p = { 0 };
    rc = cli_plan("exec", &o, STEP_FROM_TASK_ENV, local_rank, &t, &st, &p);
    if (rc == 0) {
        char err[NG_ERRLEN];
        ng_task_io io = { ng_step_getenv_process, setenv_process, log_stderr, NULL, o.verbose,
                          o.cfg.nic_off };
        int self = st.self >= 0 ? st.self : (local_rank >= 0 ? local_rank : 0);
        if (self >= p.nranks) {   /* a mistyped --local-rank is a usage error, never unbound */
            int nr = p.nranks;
            ng_plan_free(&p);
            ng_step_free(&st);
            ng_topo_free(t);
            return cli_usage_error("exec: --local-rank %d is not a rank of the plan (0..%d)",
                                   self, nr - 1);
        }
        char note[NG_ERRLEN];
        ng_visible_apply(&st, (ng_visible)o.cfg.visible, ng_step_getenv_process, setenv_process, NULL, note,
                         sizeof(note));
        if (note[0])
            fprintf(stderr, "numa-gpu: %s\n", note);
        if (ng_task_apply(t, &p, self, &io, NULL, err, sizeof(err)) < 0 &&
            ng_task_failed(o.mode, err, &io) < 0)
            rc = 1;
        ng_plan_free(&p);
    }
    ng_step_free(&st);
    ng_topo_free(t);
    if (rc != 0)
        return rc;
    execvp(prog[0], prog);
    fprintf(stderr, "numa-gpu: cannot exec '%s': %s\n", prog[0], strerror(errno));
    return 127;
}
