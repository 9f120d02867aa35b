/* A tiny test harness: each case prints one line, PASS/FAIL/SKIP <name>,
 * which tests/run-unit.sh counts. A case fails on its first failed CHECK
 * and says where and why. */
#ifndef T_H
#define T_H
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "numagpu.h"

static int t_failed_cases, t_case_failed;
static char t_case[256];
static char t_msg[1024];

static void t_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void t_begin(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_case, sizeof(t_case), fmt, ap);
    va_end(ap);
    t_case_failed = 0;
    t_msg[0] = '\0';
}

static void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), unused));
static void t_fail(const char *file, int line, const char *fmt, ...)
{
    if (t_case_failed++)
        return;
    int n = snprintf(t_msg, sizeof(t_msg), "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_msg + n, sizeof(t_msg) - (size_t)n, fmt, ap);
    va_end(ap);
}

static void t_end(void) __attribute__((unused));
static void t_end(void)
{
    if (t_case_failed) {
        t_failed_cases++;
        printf("FAIL %s: %s\n", t_case, t_msg);
    } else {
        printf("PASS %s\n", t_case);
    }
    fflush(stdout);
}

static void t_skip(const char *name, const char *why) __attribute__((unused));
static void t_skip(const char *name, const char *why)
{
    printf("SKIP %s: %s\n", name, why);
}

/* A fake environment for the library's getenv callbacks. */
typedef struct { const char *names[8], *vals[8]; } t_env;
static const char *t_getenv(const char *name, void *ctx) __attribute__((unused));
static const char *t_getenv(const char *name, void *ctx)
{
    t_env *e = ctx;
    for (int i = 0; i < 8 && e->names[i]; i++)
        if (!strcmp(e->names[i], name))
            return e->vals[i];
    return NULL;
}

#define CHECK(cond, ...) do { if (!(cond)) t_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define T_EXIT() return t_failed_cases ? 1 : 0

/* Directory of the topology corpus (tests/topologies, shipped in the repo). */
static const char *t_corpus(void) __attribute__((unused));
static const char *t_corpus(void)
{
    const char *d = getenv("NUMA_GPU_CORPUS");
    return d && *d ? d : "tests/topologies";
}
/* A corpus topology by file name; NULL (the reason on stderr) when it does
 * not load. */
static ng_topo *t_load_corpus(const char *name) __attribute__((unused));
static ng_topo *t_load_corpus(const char *name)
{
    char xml[4096], err[NG_ERRLEN];
    snprintf(xml, sizeof(xml), "%s/%s", t_corpus(), name);
    ng_topo *t = ng_topo_load(xml, err, sizeof(err));
    if (!t)
        fprintf(stderr, "%s\n", err);
    return t;
}
/* Call fn(path, file name) for every .xml of the corpus; -1 (after a SKIP
 * line) when the corpus is not there. */
static int t_each_corpus_xml(const char *suite, void (*fn)(const char *, const char *))
    __attribute__((unused));
static int t_each_corpus_xml(const char *suite, void (*fn)(const char *, const char *))
{
    DIR *d = opendir(t_corpus());
    if (!d) {
        char name[128];
        snprintf(name, sizeof(name), "%s/corpus", suite);
        t_skip(name, "topology corpus not found (set NUMA_GPU_CORPUS)");
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".xml"))
            continue;
        char xml[4096];
        snprintf(xml, sizeof(xml), "%s/%s", t_corpus(), e->d_name);
        fn(xml, e->d_name);
    }
    closedir(d);
    return 0;
}
#endif
