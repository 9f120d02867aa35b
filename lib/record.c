/* One audit record line -> ng_record. A small validating JSON reader
 * (RFC 8259 syntax, nesting bounded) that keeps only the fields reports and
 * metrics use: a line that is not exactly one JSON object is damaged, one
 * whose fields are missing or out of range is invalid, one from a newer
 * schema is refused. Records are read by the million, so no allocation. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/record.h"

#define MAX_DEPTH 32

typedef struct {
    const char *start, *p, *end;
    char *why;
    size_t whylen;
    int damaged;          /* JSON syntax */
    int invalid;          /* a field: the first one wrong is named */
} js;

static int syntax(js *s, const char *what)
{
    if (!s->damaged++)
        snprintf(s->why, s->whylen, "%s at byte %zu", what, (size_t)(s->p - s->start) + 1);
    return -1;
}

static void bad_field(js *s, const char *field, const char *what)
{
    if (!s->invalid++ && !s->damaged)
        snprintf(s->why, s->whylen, "field '%s' %s", field, what);
}

static void ws(js *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex4(js *s, unsigned *out)
{
    if (s->end - s->p < 4)
        return syntax(s, "line ends inside a \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s->p[i]);
        if (h < 0)
            return syntax(s, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    s->p += 4;
    *out = v;
    return 0;
}

/* Append code point cp as UTF-8 (bounded; *len counts every byte). */
static void put_utf8(char *out, size_t cap, size_t *len, unsigned cp)
{
    unsigned char b[4];
    int n = 0;
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
        cp = 0xfffd;   /* no NUL inside C strings, no lone surrogates */
    if (cp < 0x80) {
        b[n++] = (unsigned char)cp;
    } else {
        /* lead byte: 110xxxxx, 1110xxxx or 11110xxx; then 10xxxxxx each */
        int more = cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;
        static const unsigned char lead[4] = { 0, 0xc0, 0xe0, 0xf0 };
        b[n++] = (unsigned char)(lead[more] | cp >> (6 * more));
        for (int i = more - 1; i >= 0; i--)
            b[n++] = (unsigned char)(0x80 | (cp >> (6 * i) & 0x3f));
    }
    for (int i = 0; i < n; i++, (*len)++)
        if (out && *len + 1 < cap)
            out[*len] = (char)b[i];
}

/* The first byte from p on that ends a run of plain string characters:
 * '"', '\\' or a control character. Eight bytes at a time (a record is
 * mostly strings, and a report reads a million records). */
static const char *plain_run(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        /* a zero byte in q or b, or a byte below 0x20 in x (bytes >= 0x80
         * are plain: masked by ~x) */
        uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x);
        if (hit & highs)
            break;
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

/* A string at s->p ('"'), unescaped into out (cap bytes, NUL-terminated,
 * cut when longer; *full is its whole length). out NULL: validate only. */
static int str(js *s, char *out, size_t cap, size_t *full)
{
    size_t len = 0;
    s->p++;
    for (;;) {
        /* The common run of plain characters, in one pass. */
        const char *q = plain_run(s->p, s->end);
        if (out && len + 1 < cap) {
            size_t n = (size_t)(q - s->p) < cap - 1 - len ? (size_t)(q - s->p) : cap - 1 - len;
            memcpy(out + len, s->p, n);
        }
        len += (size_t)(q - s->p);
        s->p = q;
        if (s->p >= s->end)
            return syntax(s, "line ends inside a string (a partial write?)");
        char c = *s->p++;
        if (c == '"')
            break;
        if (c != '\\') {
            s->p--;
            return syntax(s, "control character inside a string");
        }
        if (s->p >= s->end)
            return syntax(s, "line ends inside an escape");
        c = *s->p++;
        unsigned cp;
        switch (c) {
        case '"': case '\\': case '/': cp = (unsigned char)c; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (hex4(s, &cp) < 0)
                return -1;
            if (cp >= 0xd800 && cp <= 0xdbff && s->end - s->p >= 6 && s->p[0] == '\\' &&
                s->p[1] == 'u') {
                const char *back = s->p;
                unsigned lo;
                s->p += 2;
                if (hex4(s, &lo) < 0)
                    return -1;
                if (lo >= 0xdc00 && lo <= 0xdfff)
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                else
                    s->p = back;   /* a lone high surrogate, then another escape */
            }
            break;
        default:
            s->p--;
            return syntax(s, "unknown escape in a string");
        }
        put_utf8(out, cap, &len, cp);
    }
    if (out)
        out[len < cap ? len : cap - 1] = '\0';
    if (full)
        *full = len;
    return 0;
}

/* A JSON number (exact grammar), converted with strtod. */
static int num(js *s, double *v)
{
    const char *b = s->p, *q = s->p;
    if (q < s->end && *q == '-')
        q++;
    if (q < s->end && *q == '0')
        q++;
    else if (q < s->end && *q >= '1' && *q <= '9')
        while (q < s->end && *q >= '0' && *q <= '9')
            q++;
    else
        return syntax(s, "bad number");
    if (q < s->end && *q == '.') {
        if (++q >= s->end || *q < '0' || *q > '9')
            return s->p = q, syntax(s, "bad number");
        while (q < s->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < s->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < s->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= s->end || *q < '0' || *q > '9')
            return s->p = q, syntax(s, "bad number");
        while (q < s->end && *q >= '0' && *q <= '9')
            q++;
    }
    char buf[64];
    size_t n = (size_t)(q - b);
    s->p = q;
    if (n >= sizeof(buf)) {   /* valid JSON, but no value of ours is that long */
        *v = 1e300;
        return 0;
    }
    /* Integers (nearly every number of a record) without strtod. */
    const char *d = b + (*b == '-'), *e = d;
    while (e < q && *e >= '0' && *e <= '9')
        e++;
    if (e == q && q - d <= 15) {
        long long iv = 0;
        for (; d < q; d++)
            iv = iv * 10 + (*d - '0');
        *v = (double)(*b == '-' ? -iv : iv);
        return 0;
    }
    memcpy(buf, b, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return 0;
}

static int literal(js *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
        return syntax(s, "unexpected character");
    s->p += n;
    return 0;
}

typedef int (*member_fn)(js *s, const char *key, void *ctx, int depth);

static int value(js *s, int depth);

/* An object at s->p: each member's value is read by fn (which must consume
 * exactly one value), or skipped when fn is NULL. */
static int object(js *s, int depth, member_fn fn, void *ctx)
{
    if (depth > MAX_DEPTH)
        return syntax(s, "nested too deep");
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        ws(s);
        if (s->p >= s->end)
            return syntax(s, "line ends inside an object (a partial write?)");
        if (*s->p != '"')
            return syntax(s, "expected a member name");
        char key[64];
        size_t klen;
        if (str(s, key, sizeof(key), &klen) < 0)
            return -1;
        if (klen >= sizeof(key))
            key[0] = '\0';   /* longer than any name of ours: skipped */
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return syntax(s, s->p >= s->end ? "line ends after a member name" : "expected ':'");
        s->p++;
        ws(s);
        if ((fn ? fn(s, key, ctx, depth + 1) : value(s, depth + 1)) < 0)
            return -1;
        ws(s);
        if (s->p >= s->end)
            return syntax(s, "line ends inside an object (a partial write?)");
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        if (*s->p != ',')
            return syntax(s, "expected ',' or '}'");
        s->p++;
    }
}

static int array(js *s, int depth)
{
    if (depth > MAX_DEPTH)
        return syntax(s, "nested too deep");
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        ws(s);
        if (value(s, depth + 1) < 0)
            return -1;
        ws(s);
        if (s->p >= s->end)
            return syntax(s, "line ends inside an array (a partial write?)");
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        if (*s->p != ',')
            return syntax(s, "expected ',' or ']'");
        s->p++;
    }
}

/* Any value, validated and dropped. */
static int value(js *s, int depth)
{
    if (s->p >= s->end)
        return syntax(s, "line ends where a value should be (a partial write?)");
    double d;
    switch (*s->p) {
    case '{': return object(s, depth, NULL, NULL);
    case '[': return array(s, depth);
    case '"': return str(s, NULL, 0, NULL);
    case 't': return literal(s, "true");
    case 'f': return literal(s, "false");
    case 'n': return literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return num(s, &d);
        return syntax(s, "unexpected character");
    }
}

/* ------------------------------------------------------------ typed fields */

/* A number in [lo, hi] (integral when integer) into *out; anything else
 * makes the record invalid, naming field. null leaves *out alone when
 * nullable. */
static int field_num(js *s, const char *field, double lo, double hi, int integer, int nullable,
                     double *out)
{
    if (s->p < s->end && *s->p == 'n' && nullable)
        return literal(s, "null");
    if (s->p >= s->end || !(*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
        bad_field(s, field, "is not a number");
        return value(s, 1);
    }
    double v;
    if (num(s, &v) < 0)
        return -1;
    if (!(v >= lo && v <= hi) || (integer && v != (double)(long long)v)) {
        char what[96];
        snprintf(what, sizeof(what), "out of range (%.6g; expected %s%.0f..%.0f)", v,
                 integer ? "an integer " : "", lo, hi);
        bad_field(s, field, what);
        return 0;
    }
    *out = v;
    return 0;
}

static int field_str(js *s, const char *field, char *out, size_t cap, int must_fit)
{
    if (s->p >= s->end || *s->p != '"') {
        bad_field(s, field, "is not a string");
        return value(s, 1);
    }
    size_t full;
    if (str(s, out, cap, &full) < 0)
        return -1;
    if (must_fit && full >= cap) {
        char what[64];
        snprintf(what, sizeof(what), "longer than %zu bytes", cap - 1);
        bad_field(s, field, what);
    }
    return 0;
}

/* What the members below fill, before the record is judged. */
typedef struct {
    ng_record *r;
    int have_schema, have_job, have_step, have_task, have_host, have_verdict;
    char home[1024], pages[4096];
} ctx_t;

static int hp_by_node(js *s, const char *key, void *vc, int depth)
{
    (void)depth;
    ng_record *r = ((ctx_t *)vc)->r;
    char *end;
    long node = strtol(key, &end, 10);
    double v = 0;
    if (!key[0] || *end || node < 0 || node > 4095) {
        bad_field(s, "hugepages.by_node", "has a key that is not a NUMA node number");
        return value(s, depth);
    }
    if (field_num(s, "hugepages.by_node", 0, 1099511627776.0, 1, 0, &v) < 0)
        return -1;
    if (r->hp.nnodes == NG_RECORD_MAX_HP_NODES) {
        bad_field(s, "hugepages.by_node", "has more than 64 nodes");
        return 0;
    }
    r->hp.by_node[r->hp.nnodes].node = (int)node;
    r->hp.by_node[r->hp.nnodes++].pages = (unsigned long long)v;
    return 0;
}

static int hp_member(js *s, const char *key, void *vc, int depth)
{
    ng_record *r = ((ctx_t *)vc)->r;
    double v = -1;
    int rc;
    if (!strcmp(key, "pagesize_kb")) {
        rc = field_num(s, "hugepages.pagesize_kb", 4, 17179869184.0, 1, 0, &v);
        if (v > 0)
            r->hp.pagesize_kb = (unsigned long)v;
        return rc;
    }
    if (!strcmp(key, "pages")) {
        rc = field_num(s, "hugepages.pages", 0, 1099511627776.0, 1, 0, &v);
        if (v >= 0)
            r->hp.pages = (unsigned long long)v;
        return rc;
    }
    if (!strcmp(key, "released")) {
        rc = field_num(s, "hugepages.released", 0, 1099511627776.0, 1, 0, &v);
        if (v >= 0)
            r->hp.released = (long long)v;
        return rc;
    }
    if (!strcmp(key, "by_node")) {
        if (s->p < s->end && *s->p == '{')
            return object(s, depth, hp_by_node, vc);
        bad_field(s, "hugepages.by_node", "is not an object");
    }
    return value(s, depth);
}

static int intended_member(js *s, const char *key, void *vc, int depth)
{
    ctx_t *c = vc;
    if (!strcmp(key, "home"))
        return field_str(s, "intended.home", c->home, sizeof(c->home), 1);
    return value(s, depth);
}

static int sample_member(js *s, const char *key, void *vc, int depth)
{
    ctx_t *c = vc;
    if (!strcmp(key, "pages"))
        return field_str(s, "sample.pages", c->pages, sizeof(c->pages), 1);
    return value(s, depth);
}

/* An object member (or null) read by fn; anything else is invalid. */
static int sub_object(js *s, const char *field, member_fn fn, void *c, int depth)
{
    if (s->p < s->end && *s->p == '{')
        return object(s, depth, fn, c);
    if (s->p < s->end && *s->p == 'n')
        return literal(s, "null");
    bad_field(s, field, "is not an object");
    return value(s, depth);
}

static int top_member(js *s, const char *key, void *vc, int depth)
{
    ctx_t *c = vc;
    ng_record *r = c->r;
    double v = -1;
    int rc;
    /* Dispatch on the first letter: most keys are not ours. */
    switch (key[0]) {
    case 'e':
        if (!strcmp(key, "error")) {
            r->has_error = 1;
            return field_str(s, "error", r->error, sizeof(r->error), 0);
        }
        break;
    case 'g':
        if (!strcmp(key, "global_task")) {
            rc = field_num(s, key, 0, 1e9, 1, 0, &v);
            r->global_task = (long)v;
            return rc;
        }
        break;
    case 'h':
        if (!strcmp(key, "host")) {
            c->have_host = 1;
            return field_str(s, key, r->host, sizeof(r->host), 1);
        }
        if (!strcmp(key, "hugepages"))
            return sub_object(s, key, hp_member, c, depth);
        break;
    case 'i':
        if (!strcmp(key, "intended"))
            return sub_object(s, key, intended_member, c, depth);
        if (!strcmp(key, "irqs_steered")) {
            rc = field_num(s, key, 0, 1e6, 1, 0, &v);
            r->irqs_steered = (long)v;
            return rc;
        }
        break;
    case 'j':
        if (!strcmp(key, "job")) {
            rc = field_num(s, key, 0, 4294967295.0, 1, 0, &v);
            c->have_job = v >= 0;
            r->job = (unsigned long)(v >= 0 ? v : 0);
            return rc;
        }
        break;
    case 'l':
        if (!strcmp(key, "local_pct"))
            return field_num(s, key, 0, 100, 0, 1, &r->local_pct);
        break;
    case 'm':
        if (!strcmp(key, "mode"))
            return field_str(s, key, r->mode, sizeof(r->mode), 1);
        break;
    case 'p':
        if (!strcmp(key, "pid")) {
            rc = field_num(s, key, 0, 2147483647.0, 1, 0, &v);
            r->pid = (long)v;
            return rc;
        }
        if (!strcmp(key, "plugin_ms"))
            return field_num(s, key, 0, 1e7, 0, 0, &r->plugin_ms);
        break;
    case 's':
        if (!strcmp(key, "schema")) {
            rc = field_num(s, key, 1, 1e6, 1, 0, &v);
            c->have_schema = v >= 1;
            r->schema = (int)v;
            return rc;
        }
        if (!strcmp(key, "step")) {
            rc = field_num(s, key, 0, 4294967295.0, 1, 0, &v);
            c->have_step = v >= 0;
            r->step = (unsigned long)(v >= 0 ? v : 0);
            return rc;
        }
        if (!strcmp(key, "sample"))
            return sub_object(s, key, sample_member, c, depth);
        break;
    case 't':
        if (!strcmp(key, "task")) {
            rc = field_num(s, key, 0, 1e6, 1, 0, &v);
            c->have_task = v >= 0;
            r->task = (long)v;
            return rc;
        }
        if (!strcmp(key, "time")) {
            rc = field_num(s, key, 0, 1099511627776.0, 1, 0, &v);
            r->time = (long long)v;
            return rc;
        }
        break;
    case 'u':
        if (!strcmp(key, "user"))
            return field_str(s, key, r->user, sizeof(r->user), 1);
        if (!strcmp(key, "uid")) {
            rc = field_num(s, key, 0, 4294967295.0, 1, 0, &v);
            r->uid = (long long)v;
            return rc;
        }
        break;
    case 'v':
        if (!strcmp(key, "verdict")) {
            c->have_verdict = 1;
            return field_str(s, key, r->verdict, sizeof(r->verdict), 1);
        }
        break;
    }
    return value(s, depth);
}

/* "0-1,3" -> bits of nodes below 256; -1 when malformed. */
static int node_set(const char *list, uint64_t set[4])
{
    memset(set, 0, 4 * sizeof(uint64_t));
    for (const char *p = list; *p; ) {
        char *e;
        long a = strtol(p, &e, 10), b = a;
        if (e == p || a < 0)
            return -1;
        if (*e == '-') {
            p = e + 1;
            b = strtol(p, &e, 10);
            if (e == p || b < a)
                return -1;
        }
        for (long n = a; n <= b && n < 256; n++)
            set[n >> 6] |= (uint64_t)1 << (n & 63);
        if (*e == ',')
            e++;
        else if (*e)
            return -1;
        p = e;
    }
    return 0;
}

/* "0:859,1:3" with home -> pages and local pages; -1 when malformed. */
static int sample_pages(const char *text, const uint64_t home[4], ng_record *r)
{
    for (const char *p = text; *p; ) {
        char *e;
        long node = strtol(p, &e, 10);
        if (e == p || node < 0 || *e != ':')
            return -1;
        p = e + 1;
        unsigned long long n = strtoull(p, &e, 10);
        if (e == p || *p == '-')
            return -1;
        r->pages += n;
        if (node < 256 && (home[node >> 6] >> (node & 63) & 1))
            r->local_pages += n;
        if (*e == ',')
            e++;
        else if (*e)
            return -1;
        p = e;
    }
    return 0;
}

ng_rec_status ng_record_parse(const char *line, size_t len, ng_record *r, char *why,
                              size_t whylen)
{
    char dummy[8];
    if (!why || !whylen) {
        why = dummy;
        whylen = sizeof(dummy);
    }
    why[0] = '\0';
    memset(r, 0, offsetof(ng_record, hp.by_node));
    r->pid = r->uid = r->time = -1;
    r->global_task = -1;
    r->local_pct = r->plugin_ms = -1;
    r->hp.released = -1;
    r->irqs_steered = -1;
    r->has_error = 0;
    r->error[0] = '\0';
    ctx_t c = { .r = r };
    js s = { line, line, line + len, why, whylen, 0, 0 };
    ws(&s);
    if (s.p >= s.end)
        return syntax(&s, "empty line"), NG_REC_DAMAGED;
    if (*s.p != '{')
        return syntax(&s, "not a JSON object"), NG_REC_DAMAGED;
    if (object(&s, 0, top_member, &c) < 0)
        return NG_REC_DAMAGED;
    ws(&s);
    if (s.p < s.end)
        return syntax(&s, "more after the record (two records on one line?)"), NG_REC_DAMAGED;
    if (c.have_schema && r->schema > NG_AUDIT_SCHEMA) {
        snprintf(why, whylen, "schema %d is newer than this numa-gpu reads (1..%d)", r->schema,
                 NG_AUDIT_SCHEMA);
        return NG_REC_FUTURE;
    }
    const char *missing = !c.have_schema ? "schema" : !c.have_job ? "job" : !c.have_step ? "step"
                         : !c.have_task ? "task" : !c.have_host ? "host"
                         : !c.have_verdict ? "verdict" : NULL;
    if (missing && !s.invalid) {
        snprintf(why, whylen, "missing field '%s'", missing);
        return NG_REC_INVALID;
    }
    uint64_t home[4];
    if (!s.invalid && c.home[0] && node_set(c.home, home) < 0)
        bad_field(&s, "intended.home", "is not a node list");
    if (!s.invalid && c.pages[0] && sample_pages(c.pages, c.home[0] ? home : (uint64_t[4]){ 0 },
                                                 r) < 0)
        bad_field(&s, "sample.pages", "is not a node:pages list");
    return s.invalid || missing ? NG_REC_INVALID : NG_REC_OK;
}

ng_verdict_class ng_verdict_classify(const char *v)
{
    switch (v[0]) {
    case 'l': if (!strcmp(v, "local")) return NG_CLASS_LOCAL; break;
    case 'p': if (!strcmp(v, "partial")) return NG_CLASS_PARTIAL; break;
    case 'r':
        if (!strcmp(v, "remote")) return NG_CLASS_REMOTE;
        if (!strcmp(v, "refused")) return NG_CLASS_REFUSED;
        break;
    case 'u': if (!strcmp(v, "unbound")) return NG_CLASS_UNBOUND; break;
    }
    return NG_CLASS_OTHER;
}

const char *ng_verdict_class_name(ng_verdict_class c)
{
    static const char *const names[NG_CLASS_COUNT] = { "local", "partial", "remote", "unbound",
                                                       "refused", "other" };
    return c < NG_CLASS_COUNT ? names[c] : "other";
}
