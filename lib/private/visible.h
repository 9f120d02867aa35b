/* A task's home GPU among the GPUs it sees (lib/visible.c): when every task
 * sees all the step's GPUs (no per-task binding, NCCL P2P and CUDA IPC
 * want the peers), each is placed next to its home chunk (ng_home_chunk),
 * told which it is, and, if asked, sees it first or alone.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_VISIBLE_H
#define NG_PRIVATE_VISIBLE_H

#include "numagpu.h"
#include "private/apply.h"
#include "private/step.h"

/* keep: the visible-device variables as Slurm (or the launcher) set them;
 * all: every GPU stays visible, the home GPU(s) first, the peers after in
 * PCI order; own: only the home GPU(s). */
typedef enum { NG_VISIBLE_KEEP = 0, NG_VISIBLE_ALL, NG_VISIBLE_OWN } ng_visible;
#define NG_VISIBLE_NAMES "keep|all|own"
int ng_visible_parse(const char *s, ng_visible *out);
const char *ng_visible_name(ng_visible v);

/* One variable's value ("0,1,2,3", UUIDs, "0.0,1.0") rewritten for mode:
 * its ids are st's visible GPUs in order, so they are permuted, never
 * renumbered (whatever numbering Slurm used: global, per allocation,
 * UUIDs). -1 (why says so, out untouched) when the value does not list
 * st->nvisible ids. */
int ng_visible_value(const ng_step *st, ng_visible mode, const char *value, char *out,
                     size_t len, char *why, size_t whylen);

/* In the task: every visible-device variable set (CUDA_VISIBLE_DEVICES,
 * ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES, GPU_DEVICE_ORDINAL,
 * ZE_AFFINITY_MASK) rewritten for mode, and in every mode
 * NUMA_GPU_HOME_GPUS (bus ids) and NUMA_GPU_HOME_INDEX (positions in the
 * task's CUDA_VISIBLE_DEVICES and kin, after the rewrite: what
 * cuda:N / torch.cuda.set_device take). Nothing when the task's visible
 * list is not known. A variable that cannot be rewritten is left as it
 * was and note says which and why; returns the number rewritten. */
int ng_visible_apply(const ng_step *st, ng_visible mode, ng_getenv_fn get, ng_setenv_fn set,
                     void *ctx, char *note, size_t notelen);

#endif
