/* Plugstack/option parsing, one parser for the plugin and the CLI: good
 * arguments, bad ones named, the mode option and the job's mode. */
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

int main(void)
{
    config();
    job_mode();
    T_EXIT();
}
