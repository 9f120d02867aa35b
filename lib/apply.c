/* Apply one rank's plan to the calling process: memory policy through
 * libnuma's set_mempolicy(2) wrapper (errors come back as errno, nothing is
 * printed), CPU affinity through sched_setaffinity(2); then read back what
 * the kernel actually did. All-or-nothing: a failure restores the old state. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <numaif.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/apply.h"
#include "private/util.h"

#define MAX_NODES 1024
#define MASK_WORDS (MAX_NODES / (8 * sizeof(unsigned long)))
#define MAX_CPUS 8192

static void to_nodemask(hwloc_const_bitmap_t b, unsigned long *mask)
{
    memset(mask, 0, MASK_WORDS * sizeof(unsigned long));
    int i;
    hwloc_bitmap_foreach_begin(i, b) {
        if (i < MAX_NODES)
            mask[(unsigned)i / (8 * sizeof(unsigned long))] |=
                1UL << ((unsigned)i % (8 * sizeof(unsigned long)));
    } hwloc_bitmap_foreach_end();
}

static void from_nodemask(const unsigned long *mask, hwloc_bitmap_t b)
{
    hwloc_bitmap_zero(b);
    for (unsigned i = 0; i < MAX_NODES; i++)
        if (mask[i / (8 * sizeof(unsigned long))] & (1UL << (i % (8 * sizeof(unsigned long)))))
            hwloc_bitmap_set(b, i);
}

static ng_mempol from_mpol(int mode)
{
    switch (mode & ~(MPOL_F_NUMA_BALANCING)) {
    case MPOL_BIND: return NG_POL_BIND;
    case MPOL_PREFERRED: case MPOL_PREFERRED_MANY: return NG_POL_PREFERRED;
    case MPOL_INTERLEAVE: return NG_POL_INTERLEAVE;
    default: return NG_POL_NONE;
    }
}

static int get_affinity(int pid, hwloc_bitmap_t out)
{
    size_t sz = CPU_ALLOC_SIZE(MAX_CPUS);
    cpu_set_t *set = CPU_ALLOC(MAX_CPUS);
    if (!set)
        return -1;
    CPU_ZERO_S(sz, set);
    int rc = sched_getaffinity(pid, sz, set);
    hwloc_bitmap_zero(out);
    for (int i = 0; rc == 0 && i < MAX_CPUS; i++)
        if (CPU_ISSET_S(i, sz, set))
            hwloc_bitmap_set(out, (unsigned)i);
    CPU_FREE(set);
    return rc;
}

static int set_affinity(hwloc_const_bitmap_t cpus)
{
    size_t sz = CPU_ALLOC_SIZE(MAX_CPUS);
    cpu_set_t *set = CPU_ALLOC(MAX_CPUS);
    if (!set)
        return -1;
    CPU_ZERO_S(sz, set);
    int i;
    hwloc_bitmap_foreach_begin(i, cpus) {
        if (i < MAX_CPUS)
            CPU_SET_S((unsigned)i, sz, set);
    } hwloc_bitmap_foreach_end();
    int rc = sched_setaffinity(0, sz, set);
    CPU_FREE(set);
    return rc;
}

void ng_effective_clear(ng_effective *eff)
{
    hwloc_bitmap_free(eff->cpus);
    hwloc_bitmap_free(eff->mems);
    eff->cpus = eff->mems = NULL;
}

int ng_effective_read(int pid, ng_effective *eff, char *err, size_t errlen)
{
    eff->cpus = hwloc_bitmap_alloc();
    eff->mems = hwloc_bitmap_alloc();
    eff->policy = NG_POL_NONE;
    if (get_affinity(pid, eff->cpus) < 0)
        return ng_err(err, errlen, "sched_getaffinity(%d): %s", pid, strerror(errno));
    if (pid != 0)
        return 0; /* get_mempolicy only sees the calling thread */
    unsigned long mask[MASK_WORDS];
    int mode = 0;
    memset(mask, 0, sizeof(mask));
    if (get_mempolicy(&mode, mask, MAX_NODES, NULL, 0) < 0)
        return ng_err(err, errlen, "get_mempolicy: %s", strerror(errno));
    eff->policy = from_mpol(mode);
    from_nodemask(mask, eff->mems);
    return 0;
}

static long set_policy(ng_mempol pol, hwloc_const_bitmap_t mems)
{
    unsigned long mask[MASK_WORDS];
    to_nodemask(mems, mask);
    switch (pol) {
    case NG_POL_BIND:
        return set_mempolicy(MPOL_BIND, mask, MAX_NODES);
    case NG_POL_INTERLEAVE:
        return set_mempolicy(MPOL_INTERLEAVE, mask, MAX_NODES);
    case NG_POL_PREFERRED:
        if (hwloc_bitmap_weight(mems) > 1) {
            /* Kernel >= 5.15; older kernels say EINVAL: prefer the first. */
            if (set_mempolicy(MPOL_PREFERRED_MANY, mask, MAX_NODES) == 0)
                return 0;
            hwloc_bitmap_t first = hwloc_bitmap_alloc();
            hwloc_bitmap_only(first, (unsigned)hwloc_bitmap_first(mems));
            to_nodemask(first, mask);
            hwloc_bitmap_free(first);
        }
        return set_mempolicy(MPOL_PREFERRED, mask, MAX_NODES);
    default:
        return 0;
    }
}

int ng_apply(const ng_topo *t, const ng_rank_plan *rp, ng_effective *eff,
             char *err, size_t errlen)
{
    (void)t;
    char cb[4096], mb[1024];
    if (hwloc_bitmap_iszero(rp->cpus))
        return ng_err(err, errlen, "rank %d: empty cpu set in plan", rp->rank);
    /* Memory policy first, affinity last: only the policy can need undoing. */
    unsigned long oldmask[MASK_WORDS];
    int oldmode = 0;
    memset(oldmask, 0, sizeof(oldmask));
    if (get_mempolicy(&oldmode, oldmask, MAX_NODES, NULL, 0) < 0)
        return ng_err(err, errlen, "cannot read current memory policy: %s", strerror(errno));
    if (set_policy(rp->policy, rp->mems) < 0) {
        int e = errno;
        return ng_err(err, errlen, "set_mempolicy(%s, nodes %s): %s",
                      ng_mempol_name(rp->policy), ng_list_str(rp->mems, mb, sizeof(mb)),
                      strerror(e));
    }
    if (set_affinity(rp->cpus) < 0) {
        int e = errno;
        set_mempolicy(oldmode, oldmode == MPOL_DEFAULT ? NULL : oldmask, MAX_NODES);
        return ng_err(err, errlen, "sched_setaffinity(cpus %s): %s",
                      ng_list_str(rp->cpus, cb, sizeof(cb)), strerror(e));
    }
    if (eff)
        return ng_effective_read(0, eff, err, errlen);
    return 0;
}

int ng_bind_cpus(hwloc_const_bitmap_t cpus, char *err, size_t errlen)
{
    char cb[4096];
    if (hwloc_bitmap_iszero(cpus) || set_affinity(cpus) < 0)
        return ng_err(err, errlen, "sched_setaffinity(cpus %s): %s",
                      ng_list_str(cpus, cb, sizeof(cb)), hwloc_bitmap_iszero(cpus)
                      ? "empty set" : strerror(errno));
    return 0;
}

/* The task-side apply that the SPANK plugin and `numa-gpu exec` share. */
static void say(const ng_task_io *io, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const ng_task_io *io, int level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (io && io->log_fn)
        io->log_fn(level, msg, io->ctx);
}

static void export_env(const ng_task_io *io, const ng_rank_plan *rp)
{
    if (!io || !io->setenv_fn)
        return;
    char b[4096], n[32];
    io->setenv_fn("NUMA_GPU_NODE", ng_list_str(rp->home, b, sizeof(b)), 1, io->ctx);
    io->setenv_fn("NUMA_GPU_CPUS", ng_list_str(rp->cpus, b, sizeof(b)), 1, io->ctx);
    io->setenv_fn("NUMA_GPU_MEMS", ng_list_str(rp->mems, b, sizeof(b)), 1, io->ctx);
    io->setenv_fn("NUMA_GPU_VERDICT", ng_verdict_name(rp->verdict), 1, io->ctx);
    snprintf(n, sizeof(n), "%d", rp->omp_threads);
    io->setenv_fn("OMP_NUM_THREADS", n, 0, io->ctx);
    io->setenv_fn("OMP_PLACES", rp->omp_places, 0, io->ctx);
    io->setenv_fn("OMP_PROC_BIND", "close", 0, io->ctx);
    /* Slurm's GPU indexes follow PCI order; CUDA's default order does not. */
    io->setenv_fn("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 0, io->ctx);
    if (io->nic_off || rp->nnics == 0)
        return;
    /* The nearest NICs (all at the best nearness) for the libraries that
     * pick one; NUMA_GPU_NICS lists every NIC in the package, nearest first. */
    char near[512], hca[520];
    ng_plan_nic_list(rp, 0, b, sizeof(b));
    io->setenv_fn("NUMA_GPU_NICS", b, 1, io->ctx);
    ng_plan_nic_list(rp, 1, near, sizeof(near));
    io->setenv_fn("UCX_NET_DEVICES", near, 0, io->ctx);
    if (rp->nics[0].kind == NG_NIC_RDMA) {
        snprintf(hca, sizeof(hca), "=%s", near);   /* '=': exact names, not prefixes */
        io->setenv_fn("NCCL_IB_HCA", hca, 0, io->ctx);
    }
    if (rp->ngpus > 0)   /* Cray MPICH: the NIC nearest the GPU, as here */
        io->setenv_fn("MPICH_OFI_NIC_POLICY", "GPU", 0, io->ctx);
}

/* Effective placement matches the plan: same cpus, same policy, memory
 * nodes within the planned ones (preferred may fall back to one node). */
static int matches(const ng_rank_plan *rp, const ng_effective *e)
{
    if (!hwloc_bitmap_isequal(rp->cpus, e->cpus) || rp->policy != e->policy)
        return 0;
    if (rp->policy == NG_POL_NONE)
        return 1;
    return !hwloc_bitmap_iszero(e->mems) && hwloc_bitmap_isincluded(e->mems, rp->mems);
}

int ng_task_apply(const ng_topo *t, const ng_plan *p, int self,
                  const ng_task_io *io, ng_effective *eff, char *err,
                  size_t errlen)
{
    if (self < 0 || self >= p->nranks)
        return ng_err(err, errlen, "task %d is not in the plan (%d ranks)", self, p->nranks);
    const ng_rank_plan *rp = &p->ranks[self];
    int strict = p->mode == NG_MODE_STRICT;
    char cb[4096], mb[1024], eb[4096], emb[1024], e[NG_ERRLEN];
    if (p->mode == NG_MODE_OFF)
        return 0;
    if (p->mode == NG_MODE_EXPLAIN) {
        char *s = ng_plan_explain(t, p);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
            say(io, 0, "numa-gpu explain (task %d): %s", self, line);
        free(s);
        return 0;
    }
    if (rp->infeasible && strict)
        return ng_err(err, errlen, "task %d: %s (strict mode refuses; "
                      "prefer mode runs it on the nearest allowed node)", self,
                      rp->reason);
    if (rp->infeasible)
        say(io, 1, "numa-gpu: task %d: %s", self, rp->reason);
    ng_effective local = { 0 };
    ng_effective *ef = eff ? eff : &local;
    if (ng_apply(t, rp, ef, e, sizeof(e)) < 0) {
        ng_effective_clear(ef);
        if (strict)
            return ng_err(err, errlen, "task %d: %s", self, e);
        say(io, 1, "numa-gpu: task %d: %s; running unbound", self, e);
        return 0;
    }
    if (!matches(rp, ef)) {
        ng_err(e, sizeof(e), "task %d: kernel gave cpus %s mems %s policy %s, planned "
               "cpus %s mems %s policy %s", self, ng_list_str(ef->cpus, eb, sizeof(eb)),
               ng_list_str(ef->mems, emb, sizeof(emb)), ng_mempol_name(ef->policy),
               ng_list_str(rp->cpus, cb, sizeof(cb)), ng_list_str(rp->mems, mb, sizeof(mb)),
               ng_mempol_name(rp->policy));
        if (strict) {
            if (!eff)
                ng_effective_clear(&local);
            return ng_err(err, errlen, "%s", e);
        }
        say(io, 1, "numa-gpu: %s", e);
    }
    export_env(io, rp);
    if (io && io->verbose)
        say(io, 0, "numa-gpu: task %d [%s] gpus %d -> cpus %s, mem %s %s", self,
            ng_verdict_name(rp->verdict), rp->ngpus, ng_list_str(ef->cpus, eb, sizeof(eb)),
            ng_mempol_name(ef->policy), ng_list_str(ef->mems, emb, sizeof(emb)));
    if (!eff)
        ng_effective_clear(&local);
    return 0;
}

