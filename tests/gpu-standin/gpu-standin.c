/* A stand-in GPU runtime for the tests of numa-gpu calibrate. It tests the
 * plumbing, not the hardware: it exports the few CUDA driver API and HIP
 * entry points numa-gpu loads (built by the test as libcuda.so.1 and as
 * libamdhip64.so), reports GPUs with the PCI bus ids of a chosen topology,
 * and "copies" the ends of the buffers with memcpy (device memory is host
 * memory here), then sleeps so that a copy takes bytes / bandwidth, where the bandwidth is lower when the copy comes
 * from a node that is not the GPU's. It refuses what a real driver refuses
 * and calibrate must get right: calls before init, copies without a current
 * context/device, host memory that was not page-locked, a device buffer of
 * another device or too short.
 *
 * Which node a copy comes from: on a kernel with several memory nodes, the
 * node of the host buffer's first page (get_mempolicy); on a kernel with one
 * (this CI machine), the node of the CPU the calling thread runs on
 * (sched_getcpu) as NG_STANDIN_CPU_NODES maps it.
 *
 *   NG_STANDIN_GPUS       bus ids, in ordinal order (default 0000:01:00.0)
 *   NG_STANDIN_NEAR       BUSID=NODE,... the node each GPU is near (default 0)
 *   NG_STANDIN_CPU_NODES  CPU=NODE,... one-node kernels (default: node 0)
 *   NG_STANDIN_GBPS       NEAR,FAR in GB/s (default 4,1)
 *   NG_STANDIN_LOG        file: one line per copy "DIR BUSID CPU NODE BYTES"
 *   NG_STANDIN_FAIL       an entry point that fails (cuInit, cuMemHostRegister,
 *                         hipInit, hipHostRegister, ...) with error 2
 *   NG_STANDIN_NOGPU      set: init succeeds with zero devices */
#define _GNU_SOURCE
#include <dirent.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXGPU 16
#define MAXBUF 256
#define E_INVALID_VALUE 1
#define E_OUT_OF_MEMORY 2
#define E_NOT_INITIALIZED 3
#define E_INVALID_DEVICE 101
#define E_INVALID_CONTEXT 201

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int inited, ngpu;
static char busid[MAXGPU][32];
static int near_node[MAXGPU];
static double near_gbps = 4, far_gbps = 1;
static struct { char *p; size_t n; int dev; } bufs[MAXBUF];     /* registered / device */
static struct { char *p; size_t n; } pinned[MAXBUF];
static __thread int cur = -1;   /* the calling thread's device (context) */

static int failing(const char *fn)
{
    const char *f = getenv("NG_STANDIN_FAIL");
    return f && !strcmp(f, fn);
}

static void init_once(void)
{
    const char *g = getenv("NG_STANDIN_GPUS"), *n = getenv("NG_STANDIN_NEAR");
    const char *b = getenv("NG_STANDIN_GBPS");
    char tmp[1024];
    ngpu = 0;
    snprintf(tmp, sizeof(tmp), "%s", g && *g ? g : "0000:01:00.0");
    for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t && ngpu < MAXGPU;
         t = strtok_r(NULL, ",", &s))
        snprintf(busid[ngpu++], sizeof(busid[0]), "%s", t);
    if (getenv("NG_STANDIN_NOGPU"))
        ngpu = 0;
    snprintf(tmp, sizeof(tmp), "%s", n ? n : "");
    for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t; t = strtok_r(NULL, ",", &s)) {
        char *eq = strchr(t, '=');
        for (int i = 0; eq && i < ngpu; i++)
            if (!strncmp(busid[i], t, (size_t)(eq - t)) && busid[i][eq - t] == '\0')
                near_node[i] = atoi(eq + 1);
    }
    if (b && strchr(b, ','))
        sscanf(b, "%lf,%lf", &near_gbps, &far_gbps);
    inited = 1;
}

static int kernel_nodes(void)
{
    DIR *d = opendir("/sys/devices/system/node");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += !strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9';
    if (d)
        closedir(d);
    return n;
}

/* The node a copy from/to host comes from (see the top). */
static int copy_node(const void *host, int *cpu)
{
    *cpu = sched_getcpu();
    if (kernel_nodes() > 1) {
        int node = -1;
        if (get_mempolicy(&node, NULL, 0, (void *)host, MPOL_F_NODE | MPOL_F_ADDR) == 0)
            return node;
        return -1;
    }
    const char *m = getenv("NG_STANDIN_CPU_NODES");
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", m ? m : "");
    for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t; t = strtok_r(NULL, ",", &s))
        if (strchr(t, '=') && atoi(t) == *cpu)
            return atoi(strchr(t, '=') + 1);
    return 0;
}

static int is_pinned(const char *p, size_t n)
{
    int ok = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAXBUF && !ok; i++)
        ok = pinned[i].p && p >= pinned[i].p && p + n <= pinned[i].p + pinned[i].n;
    pthread_mutex_unlock(&lock);
    return ok;
}

/* The device buffer at p, of the current device, with n bytes; -1 if not. */
static int dev_ok(const char *p, size_t n)
{
    int ok = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAXBUF && !ok; i++)
        ok = bufs[i].p && bufs[i].dev == cur && p >= bufs[i].p && p + n <= bufs[i].p + bufs[i].n;
    pthread_mutex_unlock(&lock);
    return ok;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int copy(const char *dir, void *dst, const void *src, size_t n, const void *host,
                const void *dev)
{
    if (!inited)
        return E_NOT_INITIALIZED;
    if (cur < 0)
        return E_INVALID_CONTEXT;
    if (!is_pinned(host, n)) {
        fprintf(stderr, "gpu-standin: %s from host memory that is not page-locked\n", dir);
        return E_INVALID_VALUE;
    }
    if (!dev_ok(dev, n)) {
        fprintf(stderr, "gpu-standin: %s with a device buffer not of GPU %d or too short\n",
                dir, cur);
        return E_INVALID_VALUE;
    }
    /* Both ends of the buffers really move (a short buffer shows under ASan);
     * the time is the sleep, so the numbers do not depend on this machine. */
    double t0 = now();
    size_t edge = n < 65536 ? n : 65536;
    memcpy(dst, src, edge);
    memcpy((char *)dst + n - edge, (const char *)src + n - edge, edge);
    int cpu, node = copy_node(host, &cpu);
    double gbps = node == near_node[cur] ? near_gbps : far_gbps;
    double left = (double)n / (gbps * 1e9) - (now() - t0);
    if (left > 0) {
        struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
        nanosleep(&ts, NULL);
    }
    const char *log = getenv("NG_STANDIN_LOG");
    FILE *f = log ? fopen(log, "a") : NULL;
    if (f) {
        fprintf(f, "%s %s %d %d %zu\n", dir, busid[cur], cpu, node, n);
        fclose(f);
    }
    return 0;
}

static int add(void *p, size_t n, int dev, int pin)
{
    int rc = E_OUT_OF_MEMORY;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAXBUF && rc; i++) {
        if (pin && !pinned[i].p) {
            pinned[i].p = p;
            pinned[i].n = n;
            rc = 0;
        } else if (!pin && !bufs[i].p) {
            bufs[i].p = p;
            bufs[i].n = n;
            bufs[i].dev = dev;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static int drop(void *p, int pin)
{
    int rc = E_INVALID_VALUE;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAXBUF && rc; i++) {
        if (pin && pinned[i].p == p) {
            pinned[i].p = NULL;
            rc = 0;
        } else if (!pin && bufs[i].p == p) {
            free(bufs[i].p);
            bufs[i].p = NULL;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static int dev_alloc(void **p, size_t n)
{
    if (!inited)
        return E_NOT_INITIALIZED;
    if (cur < 0)
        return E_INVALID_CONTEXT;
    if (!(*p = malloc(n)))
        return E_OUT_OF_MEMORY;
    int rc = add(*p, n, cur, 0);
    if (rc)
        free(*p);
    return rc;
}

static int do_init(const char *fn)
{
    if (failing(fn))
        return E_OUT_OF_MEMORY;
    pthread_mutex_lock(&lock);
    if (!inited)
        init_once();
    pthread_mutex_unlock(&lock);
    return 0;
}

static int bus(char *out, int len, int dev)
{
    if (!inited)
        return E_NOT_INITIALIZED;
    if (dev < 0 || dev >= ngpu)
        return E_INVALID_DEVICE;
    snprintf(out, (size_t)len, "%s", busid[dev]);
    return 0;
}

static int name(char *out, int len, int dev)
{
    if (dev < 0 || dev >= ngpu)
        return E_INVALID_DEVICE;
    snprintf(out, (size_t)len, "stand-in GPU %d (not hardware)", dev);
    return 0;
}

/* ------------------------------------------------------------ CUDA driver */

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
struct standin_ctx { int dev; };
static struct standin_ctx ctxs[MAXGPU];

CUresult cuInit(unsigned flags) { (void)flags; return do_init("cuInit"); }
CUresult cuDriverGetVersion(int *v) { *v = 12040; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = ngpu; return inited ? 0 : E_NOT_INITIALIZED; }
CUresult cuDeviceGet(int *d, int ord)
{
    *d = ord;
    return !inited ? E_NOT_INITIALIZED : ord < 0 || ord >= ngpu ? E_INVALID_DEVICE : 0;
}
CUresult cuDeviceGetPCIBusId(char *out, int len, int dev) { return bus(out, len, dev); }
CUresult cuDeviceGetName(char *out, int len, int dev) { return name(out, len, dev); }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
    if (!inited)
        return E_NOT_INITIALIZED;
    if (dev < 0 || dev >= ngpu)
        return E_INVALID_DEVICE;
    ctxs[dev].dev = dev;
    *ctx = &ctxs[dev];
    return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { return dev < 0 || dev >= ngpu; }
CUresult cuCtxSetCurrent(void *ctx)
{
    cur = ctx ? ((struct standin_ctx *)ctx)->dev : -1;
    return 0;
}
CUresult cuCtxSynchronize(void) { return cur < 0 ? E_INVALID_CONTEXT : 0; }
CUresult cuMemAlloc_v2(CUdeviceptr *d, size_t n)
{
    void *p = NULL;
    int rc = dev_alloc(&p, n);
    *d = (CUdeviceptr)(uintptr_t)p;
    return rc;
}
CUresult cuMemFree_v2(CUdeviceptr d) { return drop((void *)(uintptr_t)d, 0); }
CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned flags)
{
    if (failing("cuMemHostRegister"))
        return E_OUT_OF_MEMORY;
    if (!inited)
        return E_NOT_INITIALIZED;
    if (cur < 0)
        return E_INVALID_CONTEXT;
    /* calibrate registers once for every GPU: it must ask for portable */
    return flags & 1 ? add(p, n, -1, 1) : E_INVALID_VALUE;
}
CUresult cuMemHostUnregister(void *p) { return drop(p, 1); }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *h, size_t n)
{
    return copy("h2d", (void *)(uintptr_t)d, h, n, h, (void *)(uintptr_t)d);
}
CUresult cuMemcpyDtoH_v2(void *h, CUdeviceptr d, size_t n)
{
    return copy("d2h", h, (void *)(uintptr_t)d, n, h, (void *)(uintptr_t)d);
}
CUresult cuGetErrorName(CUresult e, const char **s)
{
    *s = e == E_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE"
       : e == E_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY"
       : e == E_NOT_INITIALIZED ? "CUDA_ERROR_NOT_INITIALIZED"
       : e == E_INVALID_CONTEXT ? "CUDA_ERROR_INVALID_CONTEXT" : "CUDA_ERROR_UNKNOWN";
    return 0;
}

/* ------------------------------------------------------------------- HIP */

int hipInit(unsigned flags) { (void)flags; return do_init("hipInit"); }
int hipRuntimeGetVersion(int *v) { *v = 60032830; return 0; }
int hipGetDeviceCount(int *n)
{
    if (!inited)
        do_init("hipInit");   /* HIP initializes implicitly */
    *n = ngpu;
    return 0;
}
int hipDeviceGetPCIBusId(char *out, int len, int dev) { return bus(out, len, dev); }
int hipDeviceGetName(char *out, int len, int dev) { return name(out, len, dev); }
int hipSetDevice(int dev)
{
    if (dev < 0 || dev >= ngpu)
        return E_INVALID_DEVICE;
    cur = dev;
    return 0;
}
int hipMalloc(void **p, size_t n) { return dev_alloc(p, n); }
int hipFree(void *p) { return drop(p, 0); }
int hipHostRegister(void *p, size_t n, unsigned flags)
{
    if (failing("hipHostRegister"))
        return E_OUT_OF_MEMORY;
    return flags & 1 ? add(p, n, -1, 1) : E_INVALID_VALUE;
}
int hipHostUnregister(void *p) { return drop(p, 1); }
int hipMemcpy(void *dst, const void *src, size_t n, int kind)
{
    if (kind == 1)
        return copy("h2d", dst, src, n, src, dst);
    if (kind == 2)
        return copy("d2h", dst, src, n, dst, src);
    return E_INVALID_VALUE;
}
int hipDeviceSynchronize(void) { return 0; }
const char *hipGetErrorString(int e)
{
    return e == E_INVALID_VALUE ? "hipErrorInvalidValue"
         : e == E_OUT_OF_MEMORY ? "hipErrorOutOfMemory" : "hipErrorUnknown";
}
