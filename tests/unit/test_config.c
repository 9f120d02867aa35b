/* Plugstack/option parsing, one parser for the plugin and the CLI: good
 * arguments, bad ones named, the mode option, the job's mode and the
 * settings table. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "numagpu.h"
#include "private/config.h"

static void config(void)
{
    ng_config c;
    char err[NG_ERRLEN];
    t_begin("config/good-arguments");
    ng_config_init(&c);
    CHECK(c.default_mode == NG_MODE_OFF && c.audit_interval == 30 && c.audit_warn_local == 80,
          "defaults");
    const char *good[] = { "default=prefer,verbose", "allowed=off,prefer,strict",
                           "exclusive_only=yes", "topology=/var/lib/t.xml", "gpu_order=pci",
                           "audit_dir=/var/log/numa-gpu", "audit_interval=0", "verbose" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(ng_config_arg(&c, good[i], err, sizeof(err)) == 0, "%s: %s", good[i], err);
    CHECK(c.default_mode == NG_MODE_PREFER && c.verbose && c.exclusive_only && c.pci_order &&
          c.audit_interval == 0 && !strcmp(c.topology, "/var/lib/t.xml"), "values");
    CHECK(ng_config_check(&c, err, sizeof(err)) == 0, "%s", err);
    CHECK(ng_config_mode_allowed(&c, NG_MODE_INTERLEAVE, err, sizeof(err)) < 0 &&
          strstr(err, "'interleave'") && strstr(err, "off|prefer|strict"), "%s", err);
    t_end();

    t_begin("config/bad-arguments-named");
    struct { const char *arg, *needle; } bad[] = {
        { "bogus=1", "'bogus=1'" }, { "default=fast", "'fast'" }, { "allowed=prefer,x", "'x'" },
        { "exclusive_only=maybe", "'maybe'" }, { "topology=rel/path", "absolute" },
        { "audit_interval=-1", "0..86400" }, { "audit_warn_local=101", "0..100" },
        { "gpu_order=cuda", "'cuda'" }, { "default", "needs a value" }, { "allowed=", "empty" } };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ng_config_init(&c);
        err[0] = '\0';
        CHECK(ng_config_arg(&c, bad[i].arg, err, sizeof(err)) < 0 && strstr(err, bad[i].needle),
              "%s -> '%s'", bad[i].arg, err);
    }
    ng_config_init(&c);
    ng_config_arg(&c, "allowed=prefer", err, sizeof(err));
    CHECK(ng_config_check(&c, err, sizeof(err)) < 0 && strstr(err, "default=off"),
          "default outside allowed: %s", err);
    t_end();

    t_begin("config/mode-option");
    ng_mode m;
    int v;
    CHECK(ng_mode_option_parse("strict,verbose", &m, &v, err, sizeof(err)) == 0 &&
          m == NG_MODE_STRICT && v, "strict,verbose");
    CHECK(ng_mode_option_parse("x", &m, &v, err, sizeof(err)) < 0 &&
          !strcmp(err, "unknown mode 'x' (expected off|prefer|strict|interleave|explain)"), "%s", err);
    CHECK(ng_mode_option_parse("prefer,loud", &m, &v, err, sizeof(err)) < 0 &&
          strstr(err, "'loud'"), "%s", err);
    t_end();
}


static void job_mode(void)
{
    ng_config c;
    char err[NG_ERRLEN], note[NG_ERRLEN];
    int v;
    ng_config_init(&c);
    t_begin("config/job-mode");
    CHECK(ng_config_job_mode(&c, 0, NG_MODE_STRICT, 0, NULL, &v, note, sizeof(note)) == NG_MODE_OFF
          && !v, "no option, no default: off");
    CHECK(ng_config_arg(&c, "default=prefer", err, sizeof(err)) == 0 &&
          ng_config_job_mode(&c, 0, NG_MODE_STRICT, 0, NULL, &v, note, sizeof(note)) == NG_MODE_PREFER,
          "cluster default");
    CHECK(ng_config_job_mode(&c, 1, NG_MODE_STRICT, 1, NULL, &v, note, sizeof(note)) == NG_MODE_STRICT
          && v, "the option wins, ,verbose");
    CHECK(ng_config_job_mode(&c, 1, NG_MODE_STRICT, 0, "off", &v, note, sizeof(note)) == NG_MODE_OFF
          && !note[0], "NUMA_GPU=off");
    CHECK(ng_config_arg(&c, "allowed=prefer,strict", err, sizeof(err)) == 0 &&
          ng_config_job_mode(&c, 1, NG_MODE_STRICT, 0, "off", &v, note, sizeof(note)) == NG_MODE_STRICT
          && strstr(note, "NUMA_GPU=off ignored"), "off not allowed: '%s'", note);
    unsigned long long b;
    unsigned long kb;
    CHECK(ng_config_arg(&c, "hugepages_max_per_job=1G", err, sizeof(err)) == 0 &&
          ng_config_hugepages_check(&c, "2G", &b, &kb, err, sizeof(err)) < 0 &&
          strstr(err, "hugepages_max_per_job=1024 MiB") &&
          ng_config_hugepages_check(&c, "512M", &b, &kb, err, sizeof(err)) == 0 && b == 512u << 20,
          "cap: %s", err);
    t_end();
}

/* The settings table: each default as written is what ng_config_init
 * sets (so `numa-gpu settings` and the man page tell the truth), every
 * value-taking key refuses junk naming it and what is allowed, a flag takes
 * no value, and a CLI option finds the very entry of its plugstack key. */
static void settings(void)
{
    char err[NG_ERRLEN];
    int n = 0;
    t_begin("config/settings-defaults-are-init");
    for (const ng_setting *s = ng_settings; s->key; s++) {
        if (!s->set || !s->def[0])
            continue;
        ng_config a, b;
        ng_config_init(&a);
        ng_config_init(&b);
        /* start b away from the default where the value is a word, so an
         * entry whose default does not store anything is seen */
        int rc = ng_setting_set(&b, s, s->def, err, sizeof(err));
        CHECK(rc == 0, "%s: default '%s' refused: %s", s->key, s->def, err);
        CHECK(memcmp(&a, &b, sizeof(a)) == 0, "%s: default '%s' is not ng_config_init's",
              s->key, s->def);
        n++;
    }
    CHECK(n >= 20, "only %d settings have a default", n);
    t_end();

    t_begin("config/settings-refusals-named");
    n = 0;
    for (const ng_setting *s = ng_settings; s->key; s++) {
        ng_config c;
        char arg[128];
        ng_config_init(&c);
        snprintf(arg, sizeof(arg), s->set ? "%s=#junk#" : "%s=1", s->key);
        err[0] = '\0';
        CHECK(ng_config_arg(&c, arg, err, sizeof(err)) < 0 && strstr(err, s->set ? "#junk#" : s->key),
              "%s: '%s'", arg, err);
        /* what is allowed, up to an optional part ("[,verbose]"); allowed=
         * words its own message */
        char want[256];
        snprintf(want, sizeof(want), "%.*s", (int)strcspn(s->allowed, "["), s->allowed);
        if (s->set && s->allowed[0] != 'm')
            CHECK(strstr(err, want), "%s: '%s' does not say '%s'", arg, err, want);
        n++;
    }
    CHECK(n >= 30, "only %d settings", n);
    t_end();

    t_begin("config/settings-cli-options-share-the-parser");
    n = 0;
    for (const ng_setting *s = ng_settings; s->key; s++)
        if (s->cli) {
            CHECK(ng_setting_by_cli(s->cli) == s, "--%s does not find %s=", s->cli, s->key);
            n++;
        }
    ng_config c;
    ng_config_init(&c);
    const ng_setting *iso = ng_setting_by_cli("isolated");
    CHECK(iso && ng_setting_set(&c, iso, "use", err, sizeof(err)) == 0 && c.use_isolated == 1,
          "--isolated use");
    CHECK(iso && ng_setting_set(&c, iso, "never", err, sizeof(err)) < 0 &&
          !strcmp(err, "'never' (expected use|avoid)"), "'%s'", err);
    CHECK(n >= 6, "only %d CLI options in the table", n);
    CHECK(!ng_setting_by_cli("topology") && !ng_setting_find("bogus"), "lookups too wide");
    t_end();
}

int main(void)
{
    config();
    job_mode();
    settings();
    T_EXIT();
}
