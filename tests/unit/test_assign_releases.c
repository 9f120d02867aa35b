/* Slurm's per-task GPU rows, series by series (22.05 -> 26.05), as ng_assign
 * must reproduce them: every binding mode on two node shapes.
 *
 * Every expected row below was worked out by hand from Slurm's own source of
 * that series (the upstream tags slurm-<a>-<b>-<c>-1 and the vendored
 * tarballs), not by running lib/assign.c. Each table cites the functions it
 * follows; "gres.c" is src/common/gres.c in 22.05 and src/interfaces/gres.c
 * from 23.02 on. Line numbers are those of the named tag.
 *
 * The selection code of a series family was diffed between its first and
 * last tag (whitespace and renames aside):
 *   22.05.0 = 22.05.8 = 22.05.11          (src/common/gres.c)
 *   23.02.0 = 23.02.1                     (no "can't find free slot" path)
 *   23.02.2 = 23.02.3                     (single: replays with the current
 *                                          task's cpus)
 *   23.02.4 = 23.02.8                     (single fixed, 8eb64699ce)
 *   23.11.0 = 23.11.11 = 24.05.8 = 24.11.7 = 25.05.8 = 25.11.7 = 26.05.3 for
 *     _get_closest_usable_gres, _assign_gres_to_task, _get_single_usable_gres,
 *     _filter_gres_per_task, _get_gres_per_task and the device path of
 *     _get_usable_gres_map_or_mask (24.11.5 drops one bit_and on the *env*
 *     path only); 24.05.0/24.05.8 differ only by allow-task-sharing.
 * So each series is checked at both ends (lo and hi patch level).
 *
 * Rows are the GPUs of each task's device cgroup / node GRES indexes
 * ("0,1;2" = task 0 has GPUs 0 and 1, task 1 GPU 2); "?" = Slurm's result is
 * undefined there (ng_assign must say `unknown`). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "t_assign.h"
#include "numagpu.h"
#include "private/assign.h"

#define R NG_RELEASE

/* ---- the series ------------------------------------------------------- */

enum { S2205, S2302a, S2302b, S2302c, S2311, S2405, S2411, S2505, S2511, S2605, NSERIES };
static const struct {
    const char *name;
    unsigned lo, hi;
} series[NSERIES] = {
    { "22.05", R(22, 5, 0), R(22, 5, 11) },
    { "23.02.0-1", R(23, 2, 0), R(23, 2, 1) },
    { "23.02.2-3", R(23, 2, 2), R(23, 2, 3) },
    { "23.02.4+", R(23, 2, 4), R(23, 2, 8) },
    { "23.11", R(23, 11, 0), R(23, 11, 11) },
    { "24.05", R(24, 5, 0), R(24, 5, 8) },
    { "24.11", R(24, 11, 0), R(24, 11, 7) },
    { "25.05", R(25, 5, 0), R(25, 5, 8) },
    { "25.11", R(25, 11, 0), R(25, 11, 7) },
    { "26.05", R(26, 5, 0), R(26, 5, 3) },
};

/* ---- node shapes: each GPU's gres.conf Cores= as machine cpus ---------- */

typedef struct {
    const char *name;
    const char *cores[4];
} shape;

/* (a) 2 sockets x 8 cores (cpus 0-7, 8-15); GPUs 0,1 on socket 0, 2,3 on
 *     socket 1: Cores=0-7 / Cores=8-15. */
static const shape A = { "2socket", { "0-7", "0-7", "8-15", "8-15" } };
/* (b) SNC2/NPS2: 2 sockets x 2 NUMA nodes (cpus 0-3, 4-7 | 8-11, 12-15), one
 *     GPU per NUMA node.
 *     B_SOCK: Cores= whole sockets, the only legal values on 24.11+ without
 *       numa_node_as_socket (gres.c:_check_core_range_matches_sock 26.05.3:
 *       3943: one whole socket or the whole node), so gres_cpus is wider
 *       than the GPU's NUMA node.
 *     B_NUMA: Cores= per NUMA node (legal before 24.11, and on 24.11+ with
 *       SlurmdParameters=numa_node_as_socket, where a NUMA node is a socket). */
static const shape B_SOCK = { "snc-socket-cores", { "0-7", "0-7", "8-15", "8-15" } };
static const shape B_NUMA = { "snc-numa-cores", { "0-3", "4-7", "8-11", "12-15" } };

/* ---- task layouts: each local task's cpus (task[i]->cpu_set; 22.05:
 *      sched_getaffinity of the task, the same set) ------------------------ */

typedef struct {
    const char *name;
    int ntasks;
    const char *cpus[8];
} layout;

/* -n4 -c2 -m block:cyclic: tasks alternate sockets, starting on socket 0 */
static const layout A4 = { "block:cyclic", 4, { "0-1", "8-9", "2-3", "10-11" } };
/* -n8 -m block:cyclic */
static const layout A8 = { "block:cyclic-8", 8, { "0", "8", "1", "9", "2", "10", "3", "11" } };
/* --cpu-bind=map_cpu:8,0,9,1: task 0 on socket 1 */
static const layout AMAP = { "map_cpu:8,0,9,1", 4, { "8", "0", "9", "1" } };
static const layout AMAP2 = { "map_cpu:8,0", 2, { "8", "0" } };
/* two tasks on socket 1 (a step holding GPUs 2,3 only) */
static const layout AS1 = { "socket1", 2, { "8-9", "10-11" } };
/* SNC: --cpu-bind=map_cpu:4,0,12,8 (NUMA nodes 1,0,3,2) */
static const layout BMAP = { "map_cpu:4,0,12,8", 4, { "4", "0", "12", "8" } };
static const layout B8 = { "map_cpu:4,0,12,8,5,1,13,9", 8,
                           { "4", "0", "12", "8", "5", "1", "13", "9" } };
/* map_cpu:12,0: task 0 on NUMA node 3, task 1 on NUMA node 0 */
static const layout BMAP2 = { "map_cpu:12,0", 2, { "12", "0" } };

/* ---- a table row ------------------------------------------------------ */

typedef struct {
    const char *what;
    const char *step;          /* the step's GPUs on the node (hwloc list) */
    const layout *lay;
    int local;                 /* ConstrainDevices: map/mask ids are positions */
    const char *bind_old;      /* SLURMD_TRES_BIND as 22.05/23.02 srun sends it */
    const char *bind_new;      /* ... as 23.11+ srun sends it */
    const char *want[NSERIES];
} row;

#define ALL4 "0,1,2,3;0,1,2,3;0,1,2,3;0,1,2,3"
/* the same row in every series */
#define EVERY(x) { x, x, x, x, x, x, x, x, x, x }
/* 22.05 and 23.02 one way, 23.11 -> 26.05 another */
#define OLD_NEW(o, n) { o, o, o, o, n, n, n, n, n, n }
/* 22.05 | 23.02.0-1 | 23.02.2-3 | 23.02.4 -> 26.05 (single:N) */
#define SINGLE(s22, s2302early, s2302late_on) \
    { s22, s2302early, s2302early, s2302late_on, s2302late_on, s2302late_on, s2302late_on, \
      s2302late_on, s2302late_on, s2302late_on }

/* ==== none / no binding ====================================================
 * 22.05.8 gres.c:_parse_tres_bind:9083 knows single/closest/map_gpu/mask_gpu/
 *   per_task only, so "gpu:none" (or no string) sets no flag and
 *   _get_usable_gres:9126 returns without a bitmap: the task keeps all the
 *   step's GPUs (same code 23.02.0:9216/9259, 23.02.8:9100/9143).
 * 23.11.0+ gres.c:_get_usable_gres (26.05.3:10469): "none" -> bit_copy(alloc)
 *   (:10571); no tres_bind_str -> returns at :10481 (all GPUs). */
static const row none_rows[] = {
    { "no-binding", "0-3", &A4, 0, NULL, NULL, EVERY(ALL4) },
    { "gpu-bind=none", "0-3", &A4, 0, "gpu:none", "gres/gpu:none", EVERY(ALL4) },
    { "gpu-bind=none-local", "0-3", &A4, 1, "gpu:none", "gres/gpu:none", EVERY(ALL4) },
};

/* ==== closest, shape (a) ===================================================
 * The record's Cores overlap the task's cpus, AND the step's GPUs:
 * 22.05.8 gres.c:_get_usable_gres_cpu_affinity:8732 (sched_getaffinity, :8762)
 * 23.02.0 gres.c:_get_closest_usable_gres:8837, 23.02.3/.4 :8709, 23.02.8 :8706
 * 23.11.0 gres.c:_get_closest_usable_gres:9250, 26.05.3 :9918
 *   (_foreach_closest_usable_gres:9882), called from _get_usable_gres:10555.
 * An empty set binds the step's first GPU (22.05.8 :9187-9192, 26.05.3:10590). */
static const row A_closest[] = {
    { "block:cyclic", "0-3", &A4, 0, "gpu:closest", "gres/gpu:closest",
      EVERY("0,1;2,3;0,1;2,3") },
    { "map_cpu-socket1-first", "0-3", &AMAP, 0, "gpu:closest", "gres/gpu:closest",
      EVERY("2,3;0,1;2,3;0,1") },
    /* a step holding GPU 1 (socket 0) and GPU 2 (socket 1) */
    { "partial-step-1,2", "1-2", &AMAP2, 0, "gpu:closest", "gres/gpu:closest",
      EVERY("2;1") },
};

/* ==== single:N (--ntasks-per-gpu), shape (a) ================================
 * 22.05.8 gres.c:_filter_usable_gres:8822: among the close GPUs (above), if
 *   more than one, the n-th with n = (local_id / N) % count (:8846).
 * 23.02.0 gres.c:_get_single_usable_gres:8940 / _assign_gres_to_task:8886;
 *   23.02.3 :8818 / :8758: N slots per step GPU; tasks 0..id replayed, each
 *   taking the first free slot of (1) the first record whose Cores contain the
 *   cpus, else (2) the first record overlapping them, else (3) the first record
 *   with a free slot -- but the replay passes the *current* task's cpus for
 *   every replayed task (23.02.3:8860 `_assign_gres_to_task(task_cpu_set,...`).
 *   23.02.0-1 have no "Can't find free slot" path: with more tasks than slots
 *   they clear bit -1 (undefined, "?"); 23.02.2-3 fall back to GPU id % count.
 * 23.02.4 :8860 (23.02.8 :8857) and 23.11.0 :9400 (26.05.3 :10076) replay with
 *   step->task[i]->cpu_set; out of slots -> GPU (id % count) of the step
 *   (26.05.3 :10083-10089). */
static const row A_single[] = {
    { "single:1-block:cyclic", "0-3", &A4, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("0;3;0;3", "0;3;2;1", "0;2;1;3") },
    { "single:1-map_cpu-socket1-first", "0-3", &AMAP, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("2;1;2;1", "2;1;0;3", "2;0;3;1") },
    { "single:2-block:cyclic-8", "0-3", &A8, 0, "gpu:single:2", "gres/gpu:single:2",
      SINGLE("0;2;1;3;0;2;1;3", "0;2;1;3;2;0;3;1", "0;2;0;2;1;3;1;3") },
    /* 8 tasks, 4 slots: the out-of-slot paths */
    { "single:1-8-tasks-4-gpus", "0-3", &A8, 0, "gpu:single:1", "gres/gpu:single:1",
      { "0;3;0;3;0;3;0;3", "?", "0;3;2;1;0;1;2;3", "0;2;1;3;0;1;2;3", "0;2;1;3;0;1;2;3",
        "0;2;1;3;0;1;2;3", "0;2;1;3;0;1;2;3", "0;2;1;3;0;1;2;3", "0;2;1;3;0;1;2;3",
        "0;2;1;3;0;1;2;3" } },
    { "single:1-partial-step-1,2", "1-2", &AMAP2, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("2;1", "2;2", "2;1") },
};

/* ==== per_task:N (--gpus-per-task), shape (a) ===============================
 * 22.05.8 gres.c:_filter_gres_per_task:9046 (from _get_usable_gres:9166-9169):
 *   the step's GPUs in index order, skip id*N, take N. Same code in 23.02.0
 *   :9179, 23.02.3 :9066, 23.02.8 :9063.
 * 23.11.0 gres.c:_get_gres_per_task:9636 (26.05.3 :10305, _filter_gres_per_task
 *   :10283): tasks 0..id in order take N from the still-free GPUs close to their
 *   cpus (lowest first), then from any free GPU (675237ff71). */
static const row A_per_task[] = {
    { "per_task:1-block:cyclic", "0-3", &A4, 0, "gpu:per_task:1", "gres/gpu:per_task:1",
      OLD_NEW("0;1;2;3", "0;2;1;3") },
    { "per_task:1-map_cpu-socket1-first", "0-3", &AMAP, 0, "gpu:per_task:1",
      "gres/gpu:per_task:1", OLD_NEW("0;1;2;3", "2;0;3;1") },
    { "per_task:2-map_cpu-socket1-first", "0-3", &AMAP2, 0, "gpu:per_task:2",
      "gres/gpu:per_task:2", OLD_NEW("0,1;2,3", "2,3;0,1") },
    { "per_task:1-partial-step-1,2", "1-2", &AMAP2, 0, "gpu:per_task:1", "gres/gpu:per_task:1",
      OLD_NEW("1;2", "2;1") },
    /* under ConstrainDevices the device path is the same (get_devices) */
    { "per_task:1-local", "0-3", &A4, 1, "gpu:per_task:1", "gres/gpu:per_task:1",
      OLD_NEW("0;1;2;3", "0;2;1;3") },
};

/* ==== typed --gpus-per-task=a100:1 =========================================
 * 22.05.8 src/srun/libsrun/launch.c:_create_job_step_create_request:327-330
 *   (23.02.8 src/srun/launch.c:841-844) appends the option text verbatim:
 *   "gpu:per_task:a100:1"; gres.c:_parse_tres_bind:9121 reads it with
 *   slurm_atoul (strtoul base 10, macros.h:362) = 0, so no flag is set and
 *   _get_usable_gres:9133-9137 binds nothing: all the step's GPUs.
 * 23.11.11 src/common/slurm_opt.c:_implicitly_bind_tres_per_task:6470-6487
 *   writes the count only, "gres/gpu:per_task:1": per_task:1 as above. */
static const row A_typed[] = {
    { "typed-per_task-block:cyclic", "0-3", &A4, 0, "gpu:per_task:a100:1",
      "gres/gpu:per_task:1", OLD_NEW(ALL4, "0;2;1;3") },
    { "typed-per_task-map_cpu", "0-3", &AMAP, 0, "gpu:per_task:a100:1",
      "gres/gpu:per_task:1", OLD_NEW(ALL4, "2;0;3;1") },
};

/* ==== map_gpu / mask_gpu (cores play no part) ===============================
 * 22.05.8 gres.c:_get_usable_gres_map_or_mask:8944 (identical in 23.02.0
 *   :9077, 23.02.3 :8964, 23.02.8 :8961; 23.11.0 :9504, 26.05.3 :10174 add
 *   only strtok "+"): the entry for the local id, list reused cyclically;
 *   map 0..node_gpus-1, mask 1..2^node_gpus-1 (else an empty set).
 *   G: AND with the step (:9008). L (ConstrainDevices), device path:
 *   _translate_step_to_global_device_index:8707 (26.05.3:9848): bit i = the
 *   step's i-th GPU. Empty -> the step's first GPU (:9192, 26.05.3:10594). */
static const row A_map[] = {
    { "map_gpu-global", "0-3", &A4, 0, "gpu:map_gpu:1,3", "gres/gpu:map_gpu:1,3",
      EVERY("1;3;1;3") },
    { "map_gpu-local", "0-3", &A4, 1, "gpu:map_gpu:1,3", "gres/gpu:map_gpu:1,3",
      EVERY("1;3;1;3") },
    /* step holding GPUs 2,3 only */
    { "map_gpu-local-partial", "2-3", &AS1, 1, "gpu:map_gpu:1,0", "gres/gpu:map_gpu:1,0",
      EVERY("3;2") },
    { "map_gpu-global-partial-outside", "2-3", &AS1, 0, "gpu:map_gpu:1,0",
      "gres/gpu:map_gpu:1,0", EVERY("2;2") },
    { "map_gpu-global-partial", "2-3", &AS1, 0, "gpu:map_gpu:3,2", "gres/gpu:map_gpu:3,2",
      EVERY("3;2") },
};
static const row A_mask[] = {
    { "mask_gpu-global", "0-3", &A4, 0, "gpu:mask_gpu:0x3,0xc", "gres/gpu:mask_gpu:0x3,0xc",
      EVERY("0,1;2,3;0,1;2,3") },
    { "mask_gpu-local", "0-3", &A4, 1, "gpu:mask_gpu:0x3,0xc", "gres/gpu:mask_gpu:0x3,0xc",
      EVERY("0,1;2,3;0,1;2,3") },
    { "mask_gpu-local-partial", "2-3", &AS1, 1, "gpu:mask_gpu:0x2,0x3",
      "gres/gpu:mask_gpu:0x2,0x3", EVERY("3;2,3") },
    /* position 2 does not exist in a 2-GPU step -> first GPU */
    { "mask_gpu-local-partial-beyond", "2-3", &AS1, 1, "gpu:mask_gpu:0x4,0x1",
      "gres/gpu:mask_gpu:0x4,0x1", EVERY("2;2") },
    { "mask_gpu-global-partial-outside", "2-3", &AS1, 0, "gpu:mask_gpu:0x2,0x3",
      "gres/gpu:mask_gpu:0x2,0x3", EVERY("2;2") },
    { "mask_gpu-global-partial", "2-3", &AS1, 0, "gpu:mask_gpu:0x8,0xc",
      "gres/gpu:mask_gpu:0x8,0xc", EVERY("3;2,3") },
};

/* ==== shape (b), Cores= per NUMA node ======================================
 * Same functions as the shape (a) tables above. */
static const row BN_closest[] = {
    { "closest", "0-3", &BMAP, 0, "gpu:closest", "gres/gpu:closest", EVERY("1;0;3;2") },
    /* task 1 (NUMA 0) is close to no GPU of the step: first GPU */
    { "closest-partial-step-1,3", "1,3", &BMAP2, 0, "gpu:closest", "gres/gpu:closest",
      EVERY("3;1") },
};
static const row BN_single[] = {
    { "single:1", "0-3", &BMAP, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("1;0;3;2", "1;1;1;3", "1;0;3;2") },
    { "single:2", "0-3", &B8, 0, "gpu:single:2", "gres/gpu:single:2",
      SINGLE("1;0;3;2;1;0;3;2", "1;0;0;0;2;2;2;3", "1;0;3;2;1;0;3;2") },
    { "single:1-partial-step-1,3", "1,3", &BMAP2, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("3;1", "3;3", "3;1") },
};
static const row BN_per_task[] = {
    { "per_task:1", "0-3", &BMAP, 0, "gpu:per_task:1", "gres/gpu:per_task:1",
      OLD_NEW("0;1;2;3", "1;0;3;2") },
    /* task 0 takes its close GPU 3, then the lowest free one */
    { "per_task:2", "0-3", &BMAP2, 0, "gpu:per_task:2", "gres/gpu:per_task:2",
      OLD_NEW("0,1;2,3", "0,3;1,2") },
    { "per_task:1-partial-step-1,3", "1,3", &BMAP2, 0, "gpu:per_task:1", "gres/gpu:per_task:1",
      OLD_NEW("1;3", "3;1") },
};
static const row BN_typed[] = {
    { "typed-per_task", "0-3", &BMAP, 0, "gpu:per_task:a100:1", "gres/gpu:per_task:1",
      OLD_NEW(ALL4, "1;0;3;2") },
};
static const row BN_map_mask[] = {
    { "map_gpu-global", "0-3", &BMAP, 0, "gpu:map_gpu:1,0,3,2", "gres/gpu:map_gpu:1,0,3,2",
      EVERY("1;0;3;2") },
    { "map_gpu-local-partial", "1,3", &BMAP2, 1, "gpu:map_gpu:1,0", "gres/gpu:map_gpu:1,0",
      EVERY("3;1") },
    { "map_gpu-global-partial", "1,3", &BMAP2, 0, "gpu:map_gpu:1,0", "gres/gpu:map_gpu:1,0",
      EVERY("1;1") },
    { "mask_gpu-local-partial", "1,3", &BMAP2, 1, "gpu:mask_gpu:0x3,0x1",
      "gres/gpu:mask_gpu:0x3,0x1", EVERY("1,3;1") },
    { "mask_gpu-global-partial", "1,3", &BMAP2, 0, "gpu:mask_gpu:0x3,0x1",
      "gres/gpu:mask_gpu:0x3,0x1", EVERY("1;1") },
};

/* ==== shape (b), Cores= whole sockets (24.11+ without numa_node_as_socket) ==
 * Same functions; "close" is now the whole socket, so the NUMA node of a
 * task's cpus no longer picks its GPU. */
static const row BS_closest[] = {
    { "closest", "0-3", &BMAP, 0, "gpu:closest", "gres/gpu:closest",
      EVERY("0,1;0,1;2,3;2,3") },
    { "closest-partial-step-1,3", "1,3", &BMAP2, 0, "gpu:closest", "gres/gpu:closest",
      EVERY("3;1") },
};
static const row BS_single[] = {
    { "single:1", "0-3", &BMAP, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("0;1;2;3", "0;1;0;1", "0;1;2;3") },
    { "single:2", "0-3", &B8, 0, "gpu:single:2", "gres/gpu:single:2",
      SINGLE("0;0;3;3;0;0;3;3", "0;0;3;3;2;2;1;1", "0;0;2;2;1;1;3;3") },
    { "single:1-partial-step-1,3", "1,3", &BMAP2, 0, "gpu:single:1", "gres/gpu:single:1",
      SINGLE("3;1", "3;3", "3;1") },
};
static const row BS_per_task[] = {
    { "per_task:1", "0-3", &BMAP, 0, "gpu:per_task:1", "gres/gpu:per_task:1",
      EVERY("0;1;2;3") },
    { "per_task:2", "0-3", &BMAP2, 0, "gpu:per_task:2", "gres/gpu:per_task:2",
      OLD_NEW("0,1;2,3", "2,3;0,1") },
    { "per_task:1-partial-step-1,3", "1,3", &BMAP2, 0, "gpu:per_task:1", "gres/gpu:per_task:1",
      OLD_NEW("1;3", "3;1") },
};
static const row BS_typed[] = {
    { "typed-per_task", "0-3", &BMAP, 0, "gpu:per_task:a100:1", "gres/gpu:per_task:1",
      OLD_NEW(ALL4, "0;1;2;3") },
};
static const row BS_map_mask[] = {
    { "map_gpu-global", "0-3", &BMAP, 0, "gpu:map_gpu:1,0,3,2", "gres/gpu:map_gpu:1,0,3,2",
      EVERY("1;0;3;2") },
    { "mask_gpu-local-partial", "1,3", &BMAP2, 1, "gpu:mask_gpu:0x3,0x1",
      "gres/gpu:mask_gpu:0x3,0x1", EVERY("1,3;1") },
};

#define TABLE(sh, rows) { #rows, &sh, rows, sizeof(rows) / sizeof(rows[0]) }
static const struct {
    const char *name;
    const shape *sh;
    const row *rows;
    size_t n;
} tables[] = {
    TABLE(A, none_rows),       TABLE(A, A_closest),     TABLE(A, A_single),
    TABLE(A, A_per_task),      TABLE(A, A_typed),       TABLE(A, A_map),
    TABLE(A, A_mask),          TABLE(B_NUMA, none_rows), TABLE(B_NUMA, BN_closest),
    TABLE(B_NUMA, BN_single),  TABLE(B_NUMA, BN_per_task), TABLE(B_NUMA, BN_typed),
    TABLE(B_NUMA, BN_map_mask), TABLE(B_SOCK, BS_closest), TABLE(B_SOCK, BS_single),
    TABLE(B_SOCK, BS_per_task), TABLE(B_SOCK, BS_typed), TABLE(B_SOCK, BS_map_mask),
};

/* ---- driver ----------------------------------------------------------- */


static hwloc_bitmap_t list(const char *s)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    if (b && hwloc_bitmap_list_sscanf(b, s) < 0) {
        hwloc_bitmap_free(b);
        return NULL;
    }
    return b;
}

/* ng_assign for one row on one release: the rows, or "?" when it says
 * unknown, or "error: ..." */
static const char *run(const shape *sh, const row *r, unsigned rel, char *out, size_t len)
{
    hwloc_bitmap_t gc[4], tc[8], st = list(r->step);
    unsigned gres[4];
    int ng = 0;
    for (int i = 0; i < 4; i++)
        gc[i] = list(sh->cores[i]);
    for (int t = 0; t < r->lay->ntasks; t++)
        tc[t] = list(r->lay->cpus[t]);
    unsigned g;
    hwloc_bitmap_foreach_begin(g, st) {
        if (ng < 4)
            gres[ng++] = g;
    } hwloc_bitmap_foreach_end();
    hwloc_const_bitmap_t const *gcc = (hwloc_const_bitmap_t const *)gc;
    hwloc_const_bitmap_t const *tcc = (hwloc_const_bitmap_t const *)tc;
    int old = rel < NG_RELEASE(23, 11, 0);
    ng_assign_in in = { ng, gres, r->lay->ntasks, old ? r->bind_old : r->bind_new, r->local,
                        tcc, gcc, 4, rel };
    ng_assignment a;
    char err[NG_ERRLEN];
    if (ng_assign(&in, &a, err, sizeof(err)) < 0) {
        snprintf(out, len, "error: %.400s", err);
    } else {
        if (a.unknown)
            snprintf(out, len, "?");
        else
            t_rows(&a, out, len);
        ng_assignment_free(&a);
    }
    for (int i = 0; i < 4; i++)
        hwloc_bitmap_free(gc[i]);
    for (int t = 0; t < r->lay->ntasks; t++)
        hwloc_bitmap_free(tc[t]);
    hwloc_bitmap_free(st);
    return out;
}

int main(void)
{
    for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]); k++)
        for (size_t i = 0; i < tables[k].n; i++) {
            const row *r = &tables[k].rows[i];
            for (int s = 0; s < NSERIES; s++) {
                t_begin("assign-releases/%s/%s/%s/%s/%s", tables[k].sh->name, tables[k].name,
                        r->what, r->lay->name, series[s].name);
                unsigned rels[2] = { series[s].lo, series[s].hi };
                for (int j = 0; j < 2; j++) {
                    char got[512], rb[24];
                    run(tables[k].sh, r, rels[j], got, sizeof(got));
                    CHECK(!strcmp(got, r->want[s]), "Slurm %s, step %s%s, bind '%s': got '%s' "
                          "want '%s'", ng_release_str(rels[j], rb, sizeof(rb)), r->step,
                          r->local ? " (ConstrainDevices)" : "",
                          rels[j] < NG_RELEASE(23, 11, 0) ? (r->bind_old ? r->bind_old : "")
                                                          : (r->bind_new ? r->bind_new : ""),
                          got, r->want[s]);
                }
                t_end();
            }
        }

    /* The task env under ConstrainDevices for mask_gpu counts other GPUs than
     * the device cgroup up to 24.11.4: gres.c:_get_usable_gres_map_or_mask
     * env path does bit_and(positions, alloc) then consolidates (24.11.4:
     * 9928-9929; 22.05.8:9004-9005); 24.11.5 drops the AND (1512ccd042). On
     * the partial step 2,3, task 1's mask 0x3 = positions {0,1}: AND {2,3} is
     * empty -> env "0" (1 GPU) while its cgroup has GPUs 2,3. */
    t_begin("assign-releases/mask-env-under-constraindevices");
    {
        static const row r = { "mask-env", "2-3", &AS1, 1, "gpu:mask_gpu:0x2,0x3",
                               "gres/gpu:mask_gpu:0x2,0x3", EVERY("3;2,3") };
        static const struct { unsigned rel; int differs; } want[] = {
            { R(22, 5, 8), 1 }, { R(23, 2, 8), 1 }, { R(23, 11, 11), 1 }, { R(24, 5, 8), 1 },
            { R(24, 11, 4), 1 }, { R(24, 11, 5), 0 }, { R(25, 5, 0), 0 }, { R(26, 5, 3), 0 },
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
            unsigned gres[2] = { 2, 3 };
            hwloc_bitmap_t gc[4], tc[2];
            for (int g = 0; g < 4; g++)
                gc[g] = list(A.cores[g]);
            for (int t = 0; t < 2; t++)
                tc[t] = list(r.lay->cpus[t]);
            ng_assign_in in = { 2, gres, 2,
                                want[i].rel < NG_RELEASE(23, 11, 0) ? r.bind_old : r.bind_new, 1,
                                (hwloc_const_bitmap_t const *)tc,
                                (hwloc_const_bitmap_t const *)gc, 4, want[i].rel };
            ng_assignment a;
            char err[NG_ERRLEN], got[64], rb[24];
            if (ng_assign(&in, &a, err, sizeof(err)) < 0) {
                CHECK(0, "%s", err);
            } else {
                CHECK(!strcmp(t_rows(&a, got, sizeof(got)), "3;2,3") &&
                      a.mask_env_differs == want[i].differs,
                      "Slurm %s: rows '%s' mask_env_differs %d, want '3;2,3' and %d",
                      ng_release_str(want[i].rel, rb, sizeof(rb)), got, a.mask_env_differs,
                      want[i].differs);
                ng_assignment_free(&a);
            }
            for (int g = 0; g < 4; g++)
                hwloc_bitmap_free(gc[g]);
            for (int t = 0; t < 2; t++)
                hwloc_bitmap_free(tc[t]);
        }
    }
    t_end();
    T_EXIT();
}
