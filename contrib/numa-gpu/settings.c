/* numa-gpu settings: the plugstack.conf arguments the plugin takes, from
 * the library's settings table (lib/settings.c): key, allowed values,
 * default, the CLI option taking the same values, and what it does. The
 * man page and the plugstack snippet are checked against this list. */
#include <getopt.h>
#include <string.h>
#include "cli.h"

int cmd_settings(int argc, char **argv)
{
    static const struct option lo[] = { { "keys", 0, 0, 'k' }, { "help", 0, 0, 'h' },
                                        { 0, 0, 0, 0 } };
    int c, keys = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_OPTSTRING, lo, NULL)) != -1) {
        if (c == 'k') {
            keys = 1;
        } else if (c == 'h') {
            cli_usage("settings", stdout);
            return 0;
        } else {
            return cli_bad_option("settings", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("settings: unexpected argument '%s'", argv[optind]);
    for (const ng_setting *s = ng_settings; s->key; s++) {
        if (keys) {
            printf("%s\n", s->key);
            continue;
        }
        printf("%s%s%s\n", s->key, s->set ? "=" : "", s->set ? s->allowed : "");
        printf("    %s", s->help);
        if (s->def[0])
            printf(" (default %s)", s->def);
        if (s->cli)
            printf("; CLI: --%s", s->cli);
        printf("\n");
    }
    return 0;
}
