/* numa-gpu calibrate's measurement: for each NUMA node in turn, a thread
 * bound to the node's CPUs page-locks a buffer whose pages are on that node
 * and times synchronous copies to and from every GPU. Nodes run one after
 * the other so copies never compete. What the numbers say (verdicts, the
 * gpu_map lines, the matrix) is calibrate_out.c. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "private/calibrate.h"
#include "private/util.h"

#define PAGE_SAMPLES 4096   /* pages whose node move_pages reports */

int ng_cal_size_parse(const char *s, size_t *out, char *err, size_t errlen)
{
    char num[32];
    size_t nd = strspn(s, "0123456789");
    unsigned long long v, mult = 1;
    const char *suf = s + nd;
    if (nd > 0 && nd < sizeof(num)) {
        memcpy(num, s, nd);
        num[nd] = '\0';
    }
    int ok = nd > 0 && nd < sizeof(num) && ng_parse_u64(num, 0, ~0ULL, &v) == 0;
    if (ok && *suf) {
        char c = (char)toupper((unsigned char)*suf);
        mult = c == 'K' ? 1ULL << 10 : c == 'M' ? 1ULL << 20 : c == 'G' ? 1ULL << 30 : 0;
        ok = mult && (!suf[1] || !strcasecmp(suf + 1, "iB") || !strcasecmp(suf + 1, "B"));
    }
    if (!ok || v > NG_CAL_MAX_BYTES / mult || v * mult < NG_CAL_MIN_BYTES)
        return ng_err(err, errlen, "invalid --size '%s' (expected bytes with an optional "
                      "K, M or G suffix, %lluM..%lluG, e.g. 64M)", s,
                      NG_CAL_MIN_BYTES >> 20, NG_CAL_MAX_BYTES >> 30);
    *out = (size_t)(v * mult);
    return 0;
}

int ng_cal_gpus(ng_gpurt *rt, ng_cal_gpu **out, int *n, char *err, size_t errlen)
{
    int cnt = ng_gpurt_count(rt);
    ng_cal_gpu *v = calloc((size_t)cnt + 1, sizeof(*v));
    if (!v)
        return ng_err(err, errlen, "out of memory");
    for (int i = 0; i < cnt; i++) {
        v[i].ordinal = i;
        if (ng_gpurt_busid(rt, i, v[i].busid, err, errlen) < 0) {
            free(v);
            return -1;
        }
        ng_gpurt_name(rt, i, v[i].name, sizeof(v[i].name));
    }
    *out = v;
    *n = cnt;
    return 0;
}

int ng_cal_gpu_list(const ng_cal_gpu *g, int n, const char *spec, int **out, int *nout,
                    char *err, size_t errlen)
{
    char *copy = strdup(spec), *save = NULL;
    int *v = calloc((size_t)n + 1, sizeof(*v)), cnt = 0, rc = 0;
    if (!copy || !v) {
        free(copy);
        free(v);
        return ng_err(err, errlen, "out of memory");
    }
    for (char *tok = strtok_r(copy, ",", &save); rc == 0 && tok;
         tok = strtok_r(NULL, ",", &save)) {
        char b[NG_BUSID_LEN];
        unsigned long long idx;
        int found = -1;
        if (ng_busid_parse(tok, b) == 0) {
            for (int i = 0; i < n; i++)
                if (!strcmp(g[i].busid, b))
                    found = i;
        } else if (ng_parse_u64(tok, 0, (unsigned long long)n - 1, &idx) == 0 && n > 0) {
            found = (int)idx;
        }
        for (int i = 0; found >= 0 && i < cnt; i++)
            if (v[i] == found)
                rc = ng_err(err, errlen, "GPU list '%s': GPU %s is named twice", spec, tok);
        if (found < 0)
            rc = ng_err(err, errlen, "GPU list '%s': '%s' is not one of the runtime's %d GPU(s) "
                        "(give ordinals 0..%d or PCI bus ids: see --list)", spec, tok, n,
                        n - 1);
        else if (rc == 0)
            v[cnt++] = found;
    }
    free(copy);
    if (rc == 0 && cnt == 0)
        rc = ng_err(err, errlen, "GPU list '%s': no GPU named", spec);
    if (rc < 0) {
        free(v);
        return -1;
    }
    *out = v;
    *nout = cnt;
    return 0;
}

/* ----------------------------------------------------------- measurement */

typedef struct {
    const ng_topo *t;
    ng_gpurt *rt;
    const ng_cal_opts *o;
    ng_cal_result *res;
    const uint64_t *dbuf;       /* device buffer per selected GPU */
    hwloc_const_bitmap_t allowed;
    int row;
    int rc;
    char err[NG_ERRLEN];
} worker_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The calling thread's affinity as a bitmap, or (set) set to b. Sized for
 * every CPU numa-gpu accepts, beyond glibc's fixed 1024. */
static int affinity(int set, hwloc_bitmap_t b)
{
    size_t sz = CPU_ALLOC_SIZE(NG_MAX_CPUS);
    cpu_set_t *s = CPU_ALLOC(NG_MAX_CPUS);
    unsigned i;
    int rc = -1;
    if (!s)
        return -1;
    CPU_ZERO_S(sz, s);
    if (set) {
        hwloc_bitmap_foreach_begin(i, b) {
            if (i < NG_MAX_CPUS)
                CPU_SET_S(i, sz, s);
        } hwloc_bitmap_foreach_end();
        rc = sched_setaffinity(0, sz, s);
    } else if ((rc = sched_getaffinity(0, sz, s)) == 0) {
        hwloc_bitmap_zero(b);
        for (i = 0; i < NG_MAX_CPUS; i++)
            if (CPU_ISSET_S(i, sz, s))
                hwloc_bitmap_set(b, i);
    }
    CPU_FREE(s);
    return rc;
}

/* Where the buffer's pages are: the share on node (-1 unknown) and the
 * node most of them are on. */
static void page_nodes(void *p, size_t bytes, int node, double *on_node, int *major)
{
    size_t psz = (size_t)sysconf(_SC_PAGESIZE), npages = bytes / psz;
    size_t n = npages < PAGE_SAMPLES ? npages : PAGE_SAMPLES;
    void **pages = calloc(n + 1, sizeof(*pages));
    int *status = calloc(n + 1, sizeof(*status));
    int count[NG_MAX_NODES] = { 0 }, seen = 0;
    *on_node = -1;
    *major = -1;
    if (pages && status && n > 0) {
        for (size_t i = 0; i < n; i++)
            pages[i] = (char *)p + (i * npages / n) * psz;
        if (move_pages(0, (unsigned long)n, pages, NULL, status, 0) == 0)
            for (size_t i = 0; i < n; i++)
                if (status[i] >= 0 && status[i] < NG_MAX_NODES) {
                    count[status[i]]++;
                    seen++;
                }
    }
    free(pages);
    free(status);
    if (!seen)
        return;
    for (int i = 0; i < NG_MAX_NODES; i++)
        if (count[i] > 0 && (*major < 0 || count[i] > count[*major]))
            *major = i;
    if (node >= 0)
        *on_node = (double)(node < NG_MAX_NODES ? count[node] : 0) / seen;
}

static int kernel_has_node(int node)
{
    char path[64];
    snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
    return access(path, F_OK) == 0;
}

/* Bind the calling thread to the row's node; 1 when the node cannot be
 * measured here (row->why says why). */
static int bind_thread(worker_ctx *c, ng_cal_row *row)
{
    char nc[256], al[256];
    if (row->node >= 0) {
        hwloc_bitmap_t want = hwloc_bitmap_alloc();
        hwloc_const_bitmap_t cpus = ng_topo_node_cpus(c->t, (unsigned)row->node);
        if (cpus)
            hwloc_bitmap_and(want, cpus, c->allowed);
        if (hwloc_bitmap_iszero(want)) {
            snprintf(row->why, sizeof(row->why), "none of its CPUs (%s) may be used by this "
                     "process (allowed: %s)", cpus ? ng_list_str(cpus, nc, sizeof(nc)) : "none",
                     ng_list_str(c->allowed, al, sizeof(al)));
            hwloc_bitmap_free(want);
            return 1;
        }
        int rc = affinity(1, want);
        hwloc_bitmap_free(want);
        if (rc < 0) {
            snprintf(row->why, sizeof(row->why), "cannot bind to its CPUs: %s",
                     strerror(errno));
            return 1;
        }
    }
    affinity(0, row->cpus);
    return 0;
}

/* The buffer, its pages placed on the row's node by the thread's first
 * touch under MPOL_BIND (--here: wherever the process's policy puts them). */
static void *node_buffer(worker_ctx *c, ng_cal_row *row)
{
    size_t bytes = c->o->bytes;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(row->why, sizeof(row->why), "cannot map %zu bytes: %s", bytes,
                 strerror(errno));
        return NULL;
    }
    if (row->node >= 0 && kernel_has_node(row->node)) {
        /* maxnode counts one more bit than the kernel reads */
        unsigned long mask[2UL * NG_MAX_NODES / (8 * sizeof(unsigned long))] = { 0 };
        mask[row->node / (8 * sizeof(unsigned long))] |= 1UL << (row->node % (8 * sizeof(long)));
        if (mbind(p, bytes, MPOL_BIND, mask, NG_MAX_NODES + 1, 0) < 0) {
            snprintf(row->why, sizeof(row->why), "its memory is refused (mbind: %s; not in "
                     "this cpuset's mems?)", strerror(errno));
            munmap(p, bytes);
            return NULL;
        }
    }
    memset(p, 0x5a, bytes);
    page_nodes(p, bytes, row->node, &row->on_node, &row->buffer_node);
    if (row->node >= 0 && !kernel_has_node(row->node))
        snprintf(row->why, sizeof(row->why), "not a memory node of this kernel (the topology "
                 "file is not this machine): only the thread is bound; the buffer is on node "
                 "%d", row->buffer_node);
    else if (row->node >= 0 && row->on_node >= 0 && row->on_node < 0.99)
        snprintf(row->why, sizeof(row->why), "only %.0f%% of the buffer is on the node (the "
                 "rest mostly on node %d: is the node's memory full?)", 100 * row->on_node,
                 row->buffer_node);
    return p;
}

/* Median GB/s of repeat copies in one direction, after one untimed copy. */
static int time_copies(worker_ctx *c, int g, void *host, int h2d, double *gbps)
{
    size_t bytes = c->o->bytes;
    int n = c->o->repeat;
    double *s = calloc((size_t)n, sizeof(*s));
    if (!s)
        return ng_err(c->err, sizeof(c->err), "out of memory");
    for (int i = -1; i < n; i++) {
        double t0 = now_s();
        int rc = h2d ? ng_gpurt_h2d(c->rt, c->dbuf[g], host, bytes, c->err, sizeof(c->err))
                     : ng_gpurt_d2h(c->rt, host, c->dbuf[g], bytes, c->err, sizeof(c->err));
        double dt = now_s() - t0;
        if (rc < 0) {
            free(s);
            return -1;
        }
        if (i >= 0)
            s[i] = dt > 0 ? (double)bytes / dt / 1e9 : 0;
    }
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    *gbps = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return 0;
}

static void *worker(void *arg)
{
    worker_ctx *c = arg;
    ng_cal_result *res = c->res;
    ng_cal_row *row = &res->rows[c->row];
    if (bind_thread(c, row))
        return NULL;
    void *host = node_buffer(c, row);
    if (!host)
        return NULL;
    /* a CUDA registration needs a current context; portable: every GPU's */
    if (ng_gpurt_use(c->rt, res->gpus[0].ordinal, c->err, sizeof(c->err)) < 0 ||
        ng_gpurt_host_register(c->rt, host, c->o->bytes, c->err, sizeof(c->err)) < 0) {
        munmap(host, c->o->bytes);
        c->rc = -1;
        return NULL;
    }
    row->measured = 1;
    for (int g = 0; c->rc == 0 && g < res->ngpus; g++) {
        size_t k = (size_t)g * (size_t)res->nrows + (size_t)c->row;
        if (ng_gpurt_use(c->rt, res->gpus[g].ordinal, c->err, sizeof(c->err)) < 0 ||
            time_copies(c, g, host, 1, &res->h2d[k]) < 0 ||
            time_copies(c, g, host, 0, &res->d2h[k]) < 0)
            c->rc = -1;
    }
    ng_gpurt_use(c->rt, res->gpus[0].ordinal, NULL, 0);
    ng_gpurt_host_unregister(c->rt, host);
    munmap(host, c->o->bytes);
    return NULL;
}

static int setup(const ng_topo *t, ng_gpurt *rt, const ng_cal_opts *o, ng_cal_result *res,
                 char *err, size_t errlen)
{
    char cn[256], want[256];
    hwloc_const_bitmap_t nodes = o->nodes ? o->nodes : ng_topo_cpu_nodes(t);
    if (!o->here && !hwloc_bitmap_isincluded(nodes, ng_topo_cpu_nodes(t)))
        return ng_err(err, errlen, "nodes %s: the NUMA nodes with CPUs in %s are %s",
                      ng_list_str(nodes, want, sizeof(want)), ng_topo_source(t),
                      ng_list_str(ng_topo_cpu_nodes(t), cn, sizeof(cn)));
    snprintf(res->runtime, sizeof(res->runtime), "%s", ng_gpurt_describe(rt));
    snprintf(res->kind, sizeof(res->kind), "%s", ng_gpurt_kind(rt));
    res->bytes = o->bytes;
    res->repeat = o->repeat;
    res->nrows = o->here ? 1 : hwloc_bitmap_weight(nodes);
    ng_cal_gpu *all = NULL;
    int nall = 0;
    if (ng_cal_gpus(rt, &all, &nall, err, errlen) < 0)
        return -1;
    res->ngpus = o->gpus ? o->ngpus : nall;
    res->rows = calloc((size_t)res->nrows + 1, sizeof(*res->rows));
    res->gpus = calloc((size_t)res->ngpus + 1, sizeof(*res->gpus));
    res->h2d = calloc((size_t)res->ngpus * (size_t)res->nrows + 1, sizeof(double));
    res->d2h = calloc((size_t)res->ngpus * (size_t)res->nrows + 1, sizeof(double));
    if (!res->rows || !res->gpus || !res->h2d || !res->d2h) {
        free(all);
        return ng_err(err, errlen, "out of memory");
    }
    for (int g = 0; g < res->ngpus; g++) {
        int ord = o->gpus ? o->gpus[g] : g;
        if (ord < 0 || ord >= nall) {
            free(all);
            return ng_err(err, errlen, "GPU %d: the runtime has %d", ord, nall);
        }
        res->gpus[g] = all[ord];
    }
    free(all);
    int r = 0;
    unsigned node;
    if (o->here) {
        res->rows[0].node = -1;
    } else {
        hwloc_bitmap_foreach_begin(node, nodes) {
            res->rows[r++].node = (int)node;
        } hwloc_bitmap_foreach_end();
    }
    for (r = 0; r < res->nrows; r++) {
        res->rows[r].on_node = -1;
        res->rows[r].buffer_node = -1;
        if (!(res->rows[r].cpus = hwloc_bitmap_alloc()))
            return ng_err(err, errlen, "out of memory");
    }
    return 0;
}

int ng_cal_run(const ng_topo *t, ng_gpurt *rt, const ng_cal_opts *o, ng_cal_result *res,
               char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    if (o->bytes < NG_CAL_MIN_BYTES || o->bytes > NG_CAL_MAX_BYTES || o->repeat < 1 ||
        o->repeat > NG_CAL_MAX_REPEAT)
        return ng_err(err, errlen, "size %zu or repeat %d out of range", o->bytes, o->repeat);
    if (setup(t, rt, o, res, err, errlen) < 0)
        return -1;
    if (res->ngpus == 0)
        return ng_err(err, errlen, "no GPU to measure");
    uint64_t *dbuf = calloc((size_t)res->ngpus, sizeof(*dbuf));
    if (!dbuf)
        return ng_err(err, errlen, "out of memory");
    int rc = 0, nalloc = 0;
    for (; rc == 0 && nalloc < res->ngpus; nalloc++)
        if (ng_gpurt_use(rt, res->gpus[nalloc].ordinal, err, errlen) < 0 ||
            ng_gpurt_dev_alloc(rt, o->bytes, &dbuf[nalloc], err, errlen) < 0)
            rc = -1;
    if (rc < 0)
        nalloc--;
    /* The process's CPUs (its cgroup, taskset): a node outside is skipped. */
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    affinity(0, allowed);
    for (int r = 0; rc == 0 && r < res->nrows; r++) {
        worker_ctx c = { t, rt, o, res, dbuf, allowed, r, 0, "" };
        pthread_t th;
        int e = pthread_create(&th, NULL, worker, &c);
        if (e)
            rc = ng_err(err, errlen, "cannot start a thread: %s", strerror(e));
        else if (pthread_join(th, NULL), c.rc < 0)
            rc = ng_err(err, errlen, "node %d: %s", res->rows[r].node, c.err);
    }
    hwloc_bitmap_free(allowed);
    for (int g = 0; g < nalloc; g++)
        if (ng_gpurt_use(rt, res->gpus[g].ordinal, NULL, 0) == 0)
            ng_gpurt_dev_free(rt, dbuf[g]);
    free(dbuf);
    return rc;
}

void ng_cal_result_free(ng_cal_result *res)
{
    for (int r = 0; res->rows && r < res->nrows; r++)
        hwloc_bitmap_free(res->rows[r].cpus);
    free(res->rows);
    free(res->gpus);
    free(res->h2d);
    free(res->d2h);
    memset(res, 0, sizeof(*res));
}
