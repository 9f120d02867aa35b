/* GPU vendor runtimes through dlopen: the CUDA driver API (libcuda.so.1) and
 * HIP (libamdhip64.so). numa-gpu never links against either, so one binary
 * runs on NVIDIA, AMD and GPU-less nodes. The few entry points are declared
 * here with the types of NVIDIA's cuda.h and AMD's hip_runtime_api.h. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/gpurt.h"
#include "private/util.h"

/* cuda.h */
typedef int CUresult;                   /* CUDA_SUCCESS = 0 */
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef unsigned long long CUdeviceptr; /* 64-bit builds */
#define CU_MEMHOSTREGISTER_PORTABLE 0x01

/* hip_runtime_api.h */
typedef int hipError_t;                 /* hipSuccess = 0 */
#define hipHostRegisterPortable 0x1
#define hipMemcpyHostToDevice 1
#define hipMemcpyDeviceToHost 2

typedef enum { RT_CUDA, RT_HIP } rt_kind;

struct ng_gpurt {
    rt_kind kind;
    void *dl;
    char desc[256];
    int count;
    pthread_mutex_t lock;   /* contexts are retained on first use, by any thread */
    struct {
        CUresult (*Init)(unsigned);
        CUresult (*DriverGetVersion)(int *);
        CUresult (*DeviceGetCount)(int *);
        CUresult (*DeviceGet)(CUdevice *, int);
        CUresult (*DeviceGetPCIBusId)(char *, int, CUdevice);
        CUresult (*DeviceGetName)(char *, int, CUdevice);
        CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
        CUresult (*DevicePrimaryCtxRelease)(CUdevice);
        CUresult (*CtxSetCurrent)(CUcontext);
        CUresult (*CtxSynchronize)(void);
        CUresult (*MemAlloc)(CUdeviceptr *, size_t);
        CUresult (*MemFree)(CUdeviceptr);
        CUresult (*MemHostRegister)(void *, size_t, unsigned);
        CUresult (*MemHostUnregister)(void *);
        CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
        CUresult (*MemcpyDtoH)(void *, CUdeviceptr, size_t);
        CUresult (*GetErrorName)(CUresult, const char **);      /* optional */
        CUdevice *dev;
        CUcontext *ctx;     /* primary context per ordinal, NULL until used */
    } cu;
    struct {
        hipError_t (*Init)(unsigned);
        hipError_t (*RuntimeGetVersion)(int *);                 /* optional */
        hipError_t (*GetDeviceCount)(int *);
        hipError_t (*DeviceGetPCIBusId)(char *, int, int);
        hipError_t (*DeviceGetName)(char *, int, int);
        hipError_t (*SetDevice)(int);
        hipError_t (*Malloc)(void **, size_t);
        hipError_t (*Free)(void *);
        hipError_t (*HostRegister)(void *, size_t, unsigned);
        hipError_t (*HostUnregister)(void *);
        hipError_t (*Memcpy)(void *, const void *, size_t, int);
        hipError_t (*DeviceSynchronize)(void);
        const char *(*GetErrorString)(hipError_t);              /* optional */
    } hip;
};

/* POSIX: a dlsym result converts to a function pointer. The first name
 * found wins (a _v2 entry point, then the older name). */
#define LOAD(field, name) ((field) = (__typeof__(field))dlsym(rt->dl, name))
#define NEED(field, name, alt)                                          \
    do {                                                               \
        if (!LOAD(field, name) && (!(alt) || !LOAD(field, alt)))        \
            return name;                                               \
    } while (0)

static int rt_err(ng_gpurt *rt, int rc, const char *call, char *err, size_t errlen)
{
    const char *name = NULL;
    if (rt->kind == RT_CUDA && rt->cu.GetErrorName)
        rt->cu.GetErrorName(rc, &name);
    else if (rt->kind == RT_HIP && rt->hip.GetErrorString)
        name = rt->hip.GetErrorString(rc);
    return ng_err(err, errlen, "%s failed: %s (%d)", call, name ? name : "error", rc);
}

/* The name of the first missing entry point, NULL when all are there. */
static const char *cuda_bind(ng_gpurt *rt)
{
    const char *none = NULL;
    NEED(rt->cu.Init, "cuInit", none);
    NEED(rt->cu.DriverGetVersion, "cuDriverGetVersion", none);
    NEED(rt->cu.DeviceGetCount, "cuDeviceGetCount", none);
    NEED(rt->cu.DeviceGet, "cuDeviceGet", none);
    NEED(rt->cu.DeviceGetPCIBusId, "cuDeviceGetPCIBusId", none);
    NEED(rt->cu.DeviceGetName, "cuDeviceGetName", none);
    NEED(rt->cu.DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", none);
    NEED(rt->cu.DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2",
         "cuDevicePrimaryCtxRelease");
    NEED(rt->cu.CtxSetCurrent, "cuCtxSetCurrent", none);
    NEED(rt->cu.CtxSynchronize, "cuCtxSynchronize", none);
    NEED(rt->cu.MemAlloc, "cuMemAlloc_v2", none);
    NEED(rt->cu.MemFree, "cuMemFree_v2", none);
    NEED(rt->cu.MemHostRegister, "cuMemHostRegister_v2", "cuMemHostRegister");
    NEED(rt->cu.MemHostUnregister, "cuMemHostUnregister", none);
    NEED(rt->cu.MemcpyHtoD, "cuMemcpyHtoD_v2", none);
    NEED(rt->cu.MemcpyDtoH, "cuMemcpyDtoH_v2", none);
    LOAD(rt->cu.GetErrorName, "cuGetErrorName");
    return NULL;
}

static const char *hip_bind(ng_gpurt *rt)
{
    const char *none = NULL;
    NEED(rt->hip.Init, "hipInit", none);
    NEED(rt->hip.GetDeviceCount, "hipGetDeviceCount", none);
    NEED(rt->hip.DeviceGetPCIBusId, "hipDeviceGetPCIBusId", none);
    NEED(rt->hip.DeviceGetName, "hipDeviceGetName", none);
    NEED(rt->hip.SetDevice, "hipSetDevice", none);
    NEED(rt->hip.Malloc, "hipMalloc", none);
    NEED(rt->hip.Free, "hipFree", none);
    NEED(rt->hip.HostRegister, "hipHostRegister", none);
    NEED(rt->hip.HostUnregister, "hipHostUnregister", none);
    NEED(rt->hip.Memcpy, "hipMemcpy", none);
    NEED(rt->hip.DeviceSynchronize, "hipDeviceSynchronize", none);
    LOAD(rt->hip.GetErrorString, "hipGetErrorString");
    LOAD(rt->hip.RuntimeGetVersion, "hipRuntimeGetVersion");
    return NULL;
}

/* Initialize a bound runtime and count its devices; -1 with why. */
static int rt_start(ng_gpurt *rt, const char *lib, char *why, size_t len)
{
    int n = 0, ver = 0, rc;
    if (rt->kind == RT_CUDA) {
        if ((rc = rt->cu.Init(0)) != 0 || (rc = rt->cu.DeviceGetCount(&n)) != 0)
            return rt_err(rt, rc, "cuInit/cuDeviceGetCount", why, len);
        rt->cu.DriverGetVersion(&ver);
        rt->cu.dev = calloc((size_t)n + 1, sizeof(*rt->cu.dev));
        rt->cu.ctx = calloc((size_t)n + 1, sizeof(*rt->cu.ctx));
        if (!rt->cu.dev || !rt->cu.ctx)
            return ng_err(why, len, "out of memory");
        for (int i = 0; i < n; i++)
            if ((rc = rt->cu.DeviceGet(&rt->cu.dev[i], i)) != 0)
                return rt_err(rt, rc, "cuDeviceGet", why, len);
        snprintf(rt->desc, sizeof(rt->desc), "CUDA driver API %d (%s)", ver, lib);
    } else {
        if ((rc = rt->hip.Init(0)) != 0 || (rc = rt->hip.GetDeviceCount(&n)) != 0)
            return rt_err(rt, rc, "hipInit/hipGetDeviceCount", why, len);
        if (rt->hip.RuntimeGetVersion)
            rt->hip.RuntimeGetVersion(&ver);
        snprintf(rt->desc, sizeof(rt->desc), "HIP runtime %d (%s)", ver, lib);
    }
    if (n <= 0)
        return ng_err(why, len, "it reports no GPU");
    rt->count = n;
    return 0;
}

static void rt_free(ng_gpurt *rt)
{
    if (!rt)
        return;
    free(rt->cu.dev);
    free(rt->cu.ctx);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

/* Load one library as kind; NULL with a note appended to tried. */
static ng_gpurt *try_lib(rt_kind kind, const char *lib, ng_buf *tried)
{
    char why[512];
    ng_gpurt *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        ng_buf_add(tried, "%s%s (out of memory)", tried->len ? "; " : "", lib);
        return NULL;
    }
    rt->kind = kind;
    pthread_mutex_init(&rt->lock, NULL);
    rt->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!rt->dl) {
        /* dlerror repeats the name: "libcuda.so.1: cannot open shared object file..." */
        const char *e = dlerror();
        size_t l = strlen(lib);
        if (e && !strncmp(e, lib, l) && !strncmp(e + l, ": ", 2))
            e += l + 2;
        snprintf(why, sizeof(why), "%.200s", e ? e : "dlopen failed");
    } else {
        const char *missing = kind == RT_CUDA ? cuda_bind(rt) : hip_bind(rt);
        if (missing)
            snprintf(why, sizeof(why), "no symbol %s: not a %s runtime", missing,
                     kind == RT_CUDA ? "CUDA driver" : "HIP");
        else if (rt_start(rt, lib, why, sizeof(why)) == 0)
            return rt;
        /* Not unloaded: a half-initialized driver may have exit handlers. */
    }
    ng_buf_add(tried, "%s%s (%s)", tried->len ? "; " : "", lib, why);
    rt_free(rt);
    return NULL;
}

ng_gpurt *ng_gpurt_open(char *err, size_t errlen)
{
    static const char *cuda_default[] = { "libcuda.so.1", NULL };
    static const char *hip_default[] = { "libamdhip64.so", "libamdhip64.so.6",
                                         "libamdhip64.so.5", "/opt/rocm/lib/libamdhip64.so",
                                         NULL };
    const char *ce = getenv(NG_GPURT_CUDA_ENV), *he = getenv(NG_GPURT_HIP_ENV);
    int chosen = (ce && *ce) || (he && *he);
    const char *cuda_env[] = { ce, NULL }, *hip_env[] = { he, NULL };
    const char **cuda = chosen ? (ce && *ce ? cuda_env : NULL) : cuda_default;
    const char **hip = chosen ? (he && *he ? hip_env : NULL) : hip_default;
    ng_buf tried = { 0 };
    ng_gpurt *rt = NULL;
    for (int i = 0; !rt && cuda && cuda[i]; i++)
        rt = try_lib(RT_CUDA, cuda[i], &tried);
    for (int i = 0; !rt && hip && hip[i]; i++)
        rt = try_lib(RT_HIP, hip[i], &tried);
    if (!rt)
        ng_err(err, errlen, "no GPU runtime: tried %s%s", tried.s ? tried.s : "nothing",
               chosen ? "" : "; set " NG_GPURT_CUDA_ENV "=PATH or " NG_GPURT_HIP_ENV
                             "=PATH if the runtime is installed elsewhere");
    free(tried.s);
    return rt;
}

void ng_gpurt_close(ng_gpurt *rt)
{
    if (!rt)
        return;
    if (rt->kind == RT_CUDA)
        for (int i = 0; i < rt->count; i++)
            if (rt->cu.ctx[i])
                rt->cu.DevicePrimaryCtxRelease(rt->cu.dev[i]);
    rt_free(rt);
}

const char *ng_gpurt_describe(const ng_gpurt *rt) { return rt->desc; }
const char *ng_gpurt_kind(const ng_gpurt *rt) { return rt->kind == RT_CUDA ? "cuda" : "hip"; }
int ng_gpurt_count(const ng_gpurt *rt) { return rt->count; }

int ng_gpurt_busid(ng_gpurt *rt, int dev, char busid[NG_BUSID_LEN], char *err, size_t errlen)
{
    char raw[64] = "";
    int rc = rt->kind == RT_CUDA
           ? rt->cu.DeviceGetPCIBusId(raw, (int)sizeof(raw), rt->cu.dev[dev])
           : rt->hip.DeviceGetPCIBusId(raw, (int)sizeof(raw), dev);
    if (rc != 0)
        return rt_err(rt, rc, rt->kind == RT_CUDA ? "cuDeviceGetPCIBusId"
                                                  : "hipDeviceGetPCIBusId", err, errlen);
    raw[sizeof(raw) - 1] = '\0';
    if (ng_busid_parse(raw, busid) < 0)
        return ng_err(err, errlen, "GPU %d: the runtime's bus id '%s' is not a PCI bus id",
                      dev, raw);
    return 0;
}

void ng_gpurt_name(ng_gpurt *rt, int dev, char *name, size_t len)
{
    char raw[256] = "";
    int rc = rt->kind == RT_CUDA ? rt->cu.DeviceGetName(raw, (int)sizeof(raw), rt->cu.dev[dev])
                                 : rt->hip.DeviceGetName(raw, (int)sizeof(raw), dev);
    raw[sizeof(raw) - 1] = '\0';
    snprintf(name, len, "%s", rc == 0 && raw[0] ? raw : "?");
}

int ng_gpurt_use(ng_gpurt *rt, int dev, char *err, size_t errlen)
{
    if (dev < 0 || dev >= rt->count)
        return ng_err(err, errlen, "GPU %d: the runtime has %d", dev, rt->count);
    if (rt->kind == RT_HIP) {
        int rc = rt->hip.SetDevice(dev);
        return rc ? rt_err(rt, rc, "hipSetDevice", err, errlen) : 0;
    }
    int rc = 0;
    pthread_mutex_lock(&rt->lock);
    if (!rt->cu.ctx[dev])
        rc = rt->cu.DevicePrimaryCtxRetain(&rt->cu.ctx[dev], rt->cu.dev[dev]);
    CUcontext c = rt->cu.ctx[dev];
    pthread_mutex_unlock(&rt->lock);
    if (rc)
        return rt_err(rt, rc, "cuDevicePrimaryCtxRetain", err, errlen);
    rc = rt->cu.CtxSetCurrent(c);
    return rc ? rt_err(rt, rc, "cuCtxSetCurrent", err, errlen) : 0;
}

int ng_gpurt_dev_alloc(ng_gpurt *rt, size_t bytes, uint64_t *dptr, char *err, size_t errlen)
{
    int rc;
    if (rt->kind == RT_CUDA) {
        CUdeviceptr d = 0;
        if ((rc = rt->cu.MemAlloc(&d, bytes)) != 0)
            return rt_err(rt, rc, "cuMemAlloc", err, errlen);
        *dptr = d;
    } else {
        void *d = NULL;
        if ((rc = rt->hip.Malloc(&d, bytes)) != 0)
            return rt_err(rt, rc, "hipMalloc", err, errlen);
        *dptr = (uint64_t)(uintptr_t)d;
    }
    return 0;
}

void ng_gpurt_dev_free(ng_gpurt *rt, uint64_t dptr)
{
    if (rt->kind == RT_CUDA)
        rt->cu.MemFree(dptr);
    else
        rt->hip.Free((void *)(uintptr_t)dptr);
}

int ng_gpurt_host_register(ng_gpurt *rt, void *p, size_t bytes, char *err, size_t errlen)
{
    int rc = rt->kind == RT_CUDA ? rt->cu.MemHostRegister(p, bytes, CU_MEMHOSTREGISTER_PORTABLE)
                                 : rt->hip.HostRegister(p, bytes, hipHostRegisterPortable);
    return rc ? rt_err(rt, rc, rt->kind == RT_CUDA ? "cuMemHostRegister" : "hipHostRegister",
                       err, errlen) : 0;
}

void ng_gpurt_host_unregister(ng_gpurt *rt, void *p)
{
    if (rt->kind == RT_CUDA)
        rt->cu.MemHostUnregister(p);
    else
        rt->hip.HostUnregister(p);
}

static int sync_dev(ng_gpurt *rt, char *err, size_t errlen)
{
    int rc = rt->kind == RT_CUDA ? rt->cu.CtxSynchronize() : rt->hip.DeviceSynchronize();
    return rc ? rt_err(rt, rc, rt->kind == RT_CUDA ? "cuCtxSynchronize" : "hipDeviceSynchronize",
                       err, errlen) : 0;
}

int ng_gpurt_h2d(ng_gpurt *rt, uint64_t dst, const void *src, size_t bytes, char *err,
                 size_t errlen)
{
    int rc = rt->kind == RT_CUDA
           ? rt->cu.MemcpyHtoD(dst, src, bytes)
           : rt->hip.Memcpy((void *)(uintptr_t)dst, src, bytes, hipMemcpyHostToDevice);
    if (rc)
        return rt_err(rt, rc, rt->kind == RT_CUDA ? "cuMemcpyHtoD" : "hipMemcpy(HostToDevice)",
                      err, errlen);
    return sync_dev(rt, err, errlen);
}

int ng_gpurt_d2h(ng_gpurt *rt, void *dst, uint64_t src, size_t bytes, char *err,
                 size_t errlen)
{
    int rc = rt->kind == RT_CUDA
           ? rt->cu.MemcpyDtoH(dst, src, bytes)
           : rt->hip.Memcpy(dst, (const void *)(uintptr_t)src, bytes, hipMemcpyDeviceToHost);
    if (rc)
        return rt_err(rt, rc, rt->kind == RT_CUDA ? "cuMemcpyDtoH" : "hipMemcpy(DeviceToHost)",
                      err, errlen);
    return sync_dev(rt, err, errlen);
}
