/* gres.conf as slurmd reads it, for one node: the GPU records in file order
 * (their positions are the GRES indexes Slurm binds by), each with its device
 * file, Type= and Cores=, so "close to a task's cpus" is tested against the
 * same cpus Slurm tests (src/interfaces/gres.c, _get_closest_usable_gres and
 * friends use each record's cpus_bitmap, built from Cores=). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/gresread.h"
#include "private/util.h"

#define MAX_EXPAND (1u << 20)   /* names one hostlist expression may expand to */

typedef int (*name_fn)(const char *name, void *ctx);   /* 1 = stop */

/* Expand a Slurm hostlist expression ("a[01-03,7]b,c") into names, calling
 * fn for each; brackets may repeat ("r[1-2]n[1-3]"). Returns 1 when fn
 * stopped, 0 at the end, -1 on a syntax error or more than MAX_EXPAND. */
static int expand(const char *pre, const char *rest, name_fn fn, void *ctx, unsigned *count)
{
    const char *lb = strchr(rest, '[');
    char name[512];
    if (!lb) {
        if (++*count > MAX_EXPAND ||
            (size_t)snprintf(name, sizeof(name), "%s%s", pre, rest) >= sizeof(name))
            return -1;
        return fn(name, ctx);
    }
    const char *rb = strchr(lb, ']');
    if (!rb || strlen(pre) + (size_t)(lb - rest) >= 256)
        return -1;
    char head[512];
    snprintf(head, sizeof(head), "%s%.*s", pre, (int)(lb - rest), rest);
    for (const char *p = lb + 1; p < rb;) {
        size_t n = strcspn(p, ",]");
        char lo[32], hi[32];
        const char *dash = memchr(p, '-', n);
        size_t ln = dash ? (size_t)(dash - p) : n, hn = dash ? n - ln - 1 : n;
        if (ln == 0 || hn == 0 || ln >= sizeof(lo) || hn >= sizeof(hi))
            return -1;
        memcpy(lo, p, ln);
        lo[ln] = '\0';
        memcpy(hi, dash ? dash + 1 : p, hn);
        hi[hn] = '\0';
        unsigned long long a, b;
        if (ng_parse_u64(lo, 0, 999999999, &a) < 0 || ng_parse_u64(hi, 0, 999999999, &b) < 0 ||
            b < a || b - a >= MAX_EXPAND)
            return -1;
        int width = lo[0] == '0' && ln > 1 ? (int)ln : 0;   /* zero padding */
        for (unsigned long long v = a; v <= b; v++) {
            char next[512];
            if ((size_t)snprintf(next, sizeof(next), "%s%0*llu", head, width, v) >= sizeof(next))
                return -1;
            int rc = expand(next, rb + 1, fn, ctx, count);
            if (rc)
                return rc;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Split at top-level commas (not inside brackets) and expand each part. */
static int expand_list(const char *expr, name_fn fn, void *ctx)
{
    unsigned count = 0;
    char part[1024];
    for (const char *p = expr; *p;) {
        size_t n = 0;
        int depth = 0;
        while (p[n] && (depth || p[n] != ',')) {
            depth += p[n] == '[' ? 1 : p[n] == ']' ? -1 : 0;
            n++;
        }
        if (n == 0 || n >= sizeof(part) || depth)
            return -1;
        memcpy(part, p, n);
        part[n] = '\0';
        int rc = expand("", part, fn, ctx, &count);
        if (rc)
            return rc;
        p += n + (p[n] == ',');
    }
    return 0;
}

static int is_host(const char *name, void *ctx)
{
    return strcmp(name, (const char *)ctx) == 0;
}

int ng_hostlist_has(const char *expr, const char *host)
{
    return expr && host && expand_list(expr, is_host, (void *)host) == 1;
}

void ng_gres_node_free(ng_gres_node *g)
{
    for (int i = 0; g->rec && i < g->n; i++)
        hwloc_bitmap_free(g->rec[i].cores);
    free(g->rec);
    memset(g, 0, sizeof(*g));
}

typedef struct {
    ng_gres_node *g;
    const ng_gres_rec *tmpl;
    int full;
} add_ctx;

static int add_rec(const char *file, void *ctx)
{
    add_ctx *a = ctx;
    ng_gres_node *g = a->g;
    if (g->n >= NG_GRES_MAX_RECORDS) {
        a->full = 1;
        return 1;
    }
    ng_gres_rec *v = realloc(g->rec, (size_t)(g->n + 1) * sizeof(*v));
    if (!v) {
        a->full = -1;
        return 1;
    }
    g->rec = v;
    ng_gres_rec *r = &g->rec[g->n];
    *r = *a->tmpl;
    snprintf(r->file, sizeof(r->file), "%s", file);
    r->cores = a->tmpl->cores ? hwloc_bitmap_dup(a->tmpl->cores) : NULL;
    if (a->tmpl->cores && !r->cores) {
        a->full = -1;
        return 1;
    }
    g->n++;
    return 0;
}

/* One logical line (comments gone): its GPU records for node, if any. */
static int parse_line(char *line, int lineno, const char *path, const char *node,
                      ng_gres_node *g, char *err, size_t errlen)
{
    const char *name = NULL, *file = NULL, *nodes = NULL, *type = NULL, *cores = NULL,
               *flags = NULL, *autodet = NULL, *count = NULL;
    for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return ng_err(err, errlen, "%s:%d: '%.64s' is not Key=Value", path, lineno, tok);
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcasecmp(tok, "Name"))
            name = v;
        else if (!strcasecmp(tok, "File") || !strcasecmp(tok, "Files"))
            file = v;
        else if (!strcasecmp(tok, "NodeName"))
            nodes = v;
        else if (!strcasecmp(tok, "Type"))
            type = v;
        else if (!strcasecmp(tok, "Cores") || !strcasecmp(tok, "CPUs"))
            cores = v;
        else if (!strcasecmp(tok, "Flags"))
            flags = v;
        else if (!strcasecmp(tok, "AutoDetect"))
            autodet = v;
        else if (!strcasecmp(tok, "Count"))
            count = v;
    }
    if (nodes && !ng_hostlist_has(nodes, node))
        return 0;
    if (autodet)
        g->autodetect = strcasecmp(autodet, "off") != 0;
    if (!name || strcasecmp(name, "gpu"))
        return 0;
    ng_gres_rec t = { .cores = NULL };
    snprintf(t.type, sizeof(t.type), "%s", type ? type : "");
    if (flags)
        for (const char *p = flags; *p;) {
            size_t n = strcspn(p, ",");
            t.env_uuid |= n == 8 && !strncasecmp(p, "env_uuid", 8);
            p += n + (p[n] == ',');
        }
    if (cores) {
        t.cores = hwloc_bitmap_alloc();
        if (!t.cores || ng_list_parse(cores, t.cores) < 0) {
            hwloc_bitmap_free(t.cores);
            return ng_err(err, errlen, "%s:%d: Cores='%.64s' is not a core index list", path,
                          lineno, cores);
        }
    }
    add_ctx a = { g, &t, 0 };
    int rc = 0;
    if (file) {
        rc = expand_list(file, add_rec, &a);
        if (rc < 0 && !a.full)
            rc = ng_err(err, errlen, "%s:%d: File='%.128s' is not a device list", path, lineno,
                        file);
    } else {
        /* A GPU line without File= (Count=N): N GPUs with no device file. */
        unsigned long long n = 1;
        if (count && ng_parse_u64(count, 1, NG_GRES_MAX_RECORDS, &n) < 0)
            rc = ng_err(err, errlen, "%s:%d: Count='%.32s' (expected 1..%d)", path, lineno,
                        count, NG_GRES_MAX_RECORDS);
        for (unsigned long long i = 0; rc == 0 && i < n && !a.full; i++)
            add_rec("", &a);
    }
    hwloc_bitmap_free(t.cores);
    if (a.full > 0)
        return ng_err(err, errlen, "%s:%d: more than %d GPUs for node %s", path, lineno,
                      NG_GRES_MAX_RECORDS, node);
    if (a.full < 0)
        return ng_err(err, errlen, "out of memory");
    return rc < 0 ? -1 : 0;
}

/* strnatcmp as Slurm sorts AutoDetected GPUs by File (gres_gpu.c,
 * _sort_gpu_by_file): digit runs compare as numbers, nvidia2 < nvidia10. */
static int natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int by_file(const void *x, const void *y)
{
    return natcmp(((const ng_gres_rec *)x)->file, ((const ng_gres_rec *)y)->file);
}

int ng_gres_read(const char *path, const char *node, ng_gres_node *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char *line = NULL, *logical = NULL;
    size_t cap = 0, llen = 0;
    ssize_t n;
    int lineno = 0, first = 0, rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n > 65536) {
            rc = ng_err(err, errlen, "%s:%d: line longer than 65536 bytes", path, lineno);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        int cont = len > 0 && line[len - 1] == '\\';   /* a line continued */
        if (cont)
            line[--len] = ' ';
        if (!logical)
            first = lineno;
        char *grown = llen + len > 1u << 20 ? NULL : realloc(logical, llen + len + 2);
        if (!grown) {
            rc = ng_err(err, errlen, "%s:%d: line too long", path, lineno);
            break;
        }
        logical = grown;
        memcpy(logical + llen, line, len);
        llen += len;
        logical[llen] = '\0';
        if (cont)
            continue;
        rc = parse_line(logical, first, path, node, out, err, errlen);
        free(logical);
        logical = NULL;
        llen = 0;
    }
    if (rc == 0 && logical)
        rc = parse_line(logical, first, path, node, out, err, errlen);
    free(logical);
    free(line);
    fclose(f);
    if (rc < 0)
        ng_gres_node_free(out);
    else if (out->autodetect && out->n > 1)
        qsort(out->rec, (size_t)out->n, sizeof(*out->rec), by_file);
    return rc;
}
