/* A GPU vendor runtime loaded at run time (lib/gpurt.c): the CUDA driver
 * API (libcuda.so.1) or HIP (libamdhip64.so), never linked. Just what
 * numa-gpu calibrate needs: devices and their bus ids, device buffers,
 * page-locked host buffers and synchronous copies.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_GPURT_H
#define NG_PRIVATE_GPURT_H

#include <stddef.h>
#include <stdint.h>
#include "numagpu.h"

/* Where the runtimes are looked for when nothing is set: CUDA first. Sites
 * with unusual paths, and the tests' stand-in, set NUMA_GPU_CUDA_LIB or
 * NUMA_GPU_HIP_LIB to a file path; when either is set only those are
 * tried (a test never falls back to a real driver). */
#define NG_GPURT_CUDA_ENV "NUMA_GPU_CUDA_LIB"
#define NG_GPURT_HIP_ENV "NUMA_GPU_HIP_LIB"

typedef struct ng_gpurt ng_gpurt;

/* The first runtime that loads, initializes and has at least one device.
 * NULL when none: err names every library tried and why each failed. */
ng_gpurt *ng_gpurt_open(char *err, size_t errlen);
/* Releases the device contexts. The library stays loaded: a vendor driver
 * unloaded before exit can crash in its own exit handlers. */
void ng_gpurt_close(ng_gpurt *rt);

/* "CUDA driver API 12040 (libcuda.so.1)" */
const char *ng_gpurt_describe(const ng_gpurt *rt);
/* "cuda" or "hip" */
const char *ng_gpurt_kind(const ng_gpurt *rt);
int ng_gpurt_count(const ng_gpurt *rt);
/* Device dev's normalized PCI bus id and marketing name. */
int ng_gpurt_busid(ng_gpurt *rt, int dev, char busid[NG_BUSID_LEN], char *err, size_t errlen);
void ng_gpurt_name(ng_gpurt *rt, int dev, char *name, size_t len);

/* Make dev the calling thread's device (CUDA: its primary context, HIP:
 * hipSetDevice). Every other call below acts on the thread's device. */
int ng_gpurt_use(ng_gpurt *rt, int dev, char *err, size_t errlen);
int ng_gpurt_dev_alloc(ng_gpurt *rt, size_t bytes, uint64_t *dptr, char *err, size_t errlen);
void ng_gpurt_dev_free(ng_gpurt *rt, uint64_t dptr);
/* Page-lock host memory for every device (portable). */
int ng_gpurt_host_register(ng_gpurt *rt, void *p, size_t bytes, char *err, size_t errlen);
void ng_gpurt_host_unregister(ng_gpurt *rt, void *p);
/* Synchronous copies, followed by a device synchronize. */
int ng_gpurt_h2d(ng_gpurt *rt, uint64_t dst, const void *src, size_t bytes, char *err,
                 size_t errlen);
int ng_gpurt_d2h(ng_gpurt *rt, void *dst, uint64_t src, size_t bytes, char *err,
                 size_t errlen);

#endif
