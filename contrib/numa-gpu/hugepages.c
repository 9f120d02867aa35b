/* numa-gpu hugepages ACTION: the reservation ledger from the command line
 * (admins, and the VM proof). The owner defaults to the parent (the calling
 * shell): the pages go back when it is gone. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "cli.h"
#include "private/audit.h"
#include "private/hugepages.h"
#include "private/util.h"

typedef struct {
    const char *action, *state, *size;
    long job, step, node, owner;
} hp_opts;

static int parse(int argc, char **argv, hp_opts *o)
{
    static const struct { const char *opt; unsigned long long min, max; } lim[] = {
        { "--job", 1, 4294967295ull }, { "--step", 0, 4294967295ull },
        { "--node", 0, NG_MAX_NODES - 1 }, { "--owner", 1, 4194304 } };
    long *nums[] = { &o->job, &o->step, &o->node, &o->owner };
    for (int i = 2; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int which = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(argv[i], lim[k].opt))
                which = k;
        if (!v)
            return cli_usage_error("hugepages: option '%s' needs a value", argv[i]);
        if (which >= 0) {
            unsigned long long x;
            if (ng_parse_u64(v, lim[which].min, lim[which].max, &x) < 0) {
                fprintf(stderr, "numa-gpu: hugepages: invalid %s '%s' (expected an integer "
                        "%llu..%llu)\n", argv[i], v, lim[which].min, lim[which].max);
                return 2;
            }
            *nums[which] = (long)x;
        } else if (!strcmp(argv[i], "--state-dir")) {
            static ng_config sc;   /* state_dir= of plugstack.conf: an absolute path */
            ng_config_init(&sc);
            if (cli_setting(&sc, "state-dir", v))
                return 2;
            o->state = sc.state_dir;
        } else if (!strcmp(argv[i], "--size")) {
            o->size = v;
        } else {
            return cli_usage_error("hugepages: unknown option '%s'", argv[i]);
        }
    }
    return 0;
}

int cmd_hugepages(int argc, char **argv)
{
    hp_opts o = { argc > 1 ? argv[1] : "", "/run/numa-gpu", NULL, 0, 0, -1, (long)getppid() };
    if (!strcmp(o.action, "--help") || !strcmp(o.action, "-h")) {
        cli_usage("hugepages", stdout);
        return 0;
    }
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    ng_hp_ctx c = { NULL, NULL, o.state, 0, 0 };
    char err[NG_ERRLEN];
    if (!strcmp(o.action, "status")) {
        int failed = 0;
        char *s = ng_hp_status(&c, &failed);
        fputs(s, failed ? stderr : stdout);
        free(s);
        return failed ? 1 : 0;
    }
    if (!strcmp(o.action, "reserve")) {
        unsigned long long bytes;
        unsigned long kb;
        if (!o.job || o.node < 0 || !o.size)
            return cli_usage_error("hugepages reserve needs --job, --node and --size");
        if (ng_hp_parse_size(o.size, &bytes, &kb, err, sizeof(err)) < 0)
            return cli_usage_error("%s", err);
        unsigned long long page = (unsigned long long)kb << 10;
        ng_hp_req r = { (unsigned long)o.job, (unsigned long)o.step, 0, (int)o.node, kb,
                        (long)((bytes + page - 1) / page), (int)o.owner };
        long got;
        if (ng_hp_reserve(&c, &r, &got, err, sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            return 1;
        }
        printf("node %ld: asked %ld x %lukB, granted %ld\n", o.node, r.count, kb, got);
        return got < r.count ? 1 : 0;
    }
    if (!strcmp(o.action, "release") || !strcmp(o.action, "reconcile")) {
        int n = 0;
        if (!strcmp(o.action, "release") && !o.job)
            return cli_usage_error("hugepages release needs --job");
        if (ng_hp_release(&c, (unsigned long)o.job, o.job && o.step ? o.step : -1, -1, &n, err,
                          sizeof(err)) < 0) {
            fprintf(stderr, "numa-gpu: %s\n", err);
            return 1;
        }
        printf("released %d reservation(s)\n", n);
        return 0;
    }
    return cli_usage_error("unknown hugepages action '%s' (expected "
                           "status|reserve|release|reconcile)", o.action);
}
