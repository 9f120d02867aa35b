/* Launcher hints: the plan of one node rendered for MPI launchers that do
 * their own binding (Open MPI 4.1 and 5.x/PRRTE, Intel MPI, MPICH hydra)
 * and for torchrun. Nodes are assumed alike (the plan is the batch node's):
 * rank r of host i is row r of the plan, ranks numbered host by host as
 * mpirun's default by-slot mapping does.
 *
 * Open MPI 4.1 facts this relies on (checked with Debian's 4.1.4): a rankfile
 * with rmaps_rank_file_physical=1 and hwloc_base_use_hwthreads_as_cpus=1
 * takes OS PU numbers ("slot=0-1" or "slot=0,1"); setting
 * rmaps_base_mapping_policy as well is refused ("only one policy"), so the
 * mapping policy is not exported when a rankfile is. */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "private/hints.h"
#include "private/util.h"

static const char *mpi_names[] = { "ompi4", "ompi5", "impi", "mpich", "torchrun" };
#define NMPI 5

int ng_mpi_parse(const char *s, unsigned *mask, char *err, size_t errlen)
{
    char buf[128];
    if (!s || !*s || strlen(s) >= sizeof(buf))
        return ng_err(err, errlen, "--mpi '%.64s': expected a list of ompi4|ompi5|impi|mpich|"
                      "torchrun|all (at most %zu characters)", s ? s : "", sizeof(buf) - 1);
    if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
        return ng_err(err, errlen, "--mpi '%s': empty entry", s);
    snprintf(buf, sizeof(buf), "%s", s);
    *mask = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < NMPI; i++)
            if (!strcmp(t, mpi_names[i])) {
                *mask |= 1u << i;
                found = 1;
            }
        if (!strcmp(t, "all")) {
            *mask = NG_MPI_ALL;
            found = 1;
        }
        if (!found)
            return ng_err(err, errlen, "unknown MPI '%s' (expected ompi4|ompi5|impi|mpich|torchrun|all)", t);
    }
    return 0;
}

static void add(ng_hints *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(ng_hints *h, const char *name, const char *fmt, ...)
{
    ng_hint *v = realloc(h->v, (size_t)(h->n + 1) * sizeof(*v));
    if (!v)
        return;
    h->v = v;
    va_list ap;
    va_start(ap, fmt);
    char *val = NULL;
    if (vasprintf(&val, fmt, ap) < 0)
        val = NULL;
    va_end(ap);
    snprintf(h->v[h->n].name, sizeof(h->v[h->n].name), "%s", name);
    h->v[h->n].value = val ? val : strdup("");
    h->n++;
}

/* "0-3,8" with ranges expanded to what each launcher wants. */
static void cpus_joined(hwloc_const_bitmap_t b, char sep, char *out, size_t len)
{
    size_t o = 0;
    int i;
    out[0] = '\0';
    hwloc_bitmap_foreach_begin(i, b) {
        if (o + 12 < len)
            o += (size_t)snprintf(out + o, len - o, "%s%d", o ? (char[]){ sep, 0 } : "", i);
    } hwloc_bitmap_foreach_end();
}

int ng_hints_build(const ng_plan *p, const ng_plan *const *host_plans, const char *const *hosts,
                   int nhosts, const char *rankfile_path, unsigned mpis, ng_hints *h, char *err,
                   size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (nhosts < 1 || !hosts)
        return ng_err(err, errlen, "no hosts to place ranks on");
    ng_buf rf = { 0 };
    char c[8192];
    for (int i = 0, base = 0; i < nhosts; i++) {
        const ng_plan *hp = host_plans && host_plans[i] ? host_plans[i] : p;
        for (int r = 0; r < hp->nranks; r++) {
            ng_list_str(hp->ranks[r].cpus, c, sizeof(c));
            ng_buf_add(&rf, "rank %d=%s slot=%s\n", base + r, hosts[i], c);
        }
        base += hp->nranks;
    }
    h->rankfile = ng_buf_take(&rf);
    const char *rfp = rankfile_path ? rankfile_path : "RANKFILE";
    int strict = p->mode == NG_MODE_STRICT;
    if (mpis & NG_MPI_OMPI4) {
        add(h, "OMPI_MCA_rmaps_rank_file_path", "%s", rfp);
        add(h, "OMPI_MCA_rmaps_rank_file_physical", "1");
        add(h, "OMPI_MCA_hwloc_base_use_hwthreads_as_cpus", "1");
        add(h, "OMPI_MCA_hwloc_base_mem_alloc_policy", "%s", strict ? "local_only" : "none");
        add(h, "NUMA_GPU_MPIRUN_ARGS", "--rankfile %s --mca rmaps_rank_file_physical 1 "
            "--use-hwthread-cpus%s", rfp, strict ? " --mca hwloc_base_mem_alloc_policy local_only" : "");
    }
    if (mpis & NG_MPI_OMPI5) {
        add(h, "PRTE_MCA_rmaps_default_mapping_policy", "rankfile:file=%s", rfp);
        add(h, "PRTE_MCA_hwloc_default_use_hwthread_cpus", "1");
        add(h, "PRTE_MCA_rmaps_rank_file_physical", "1");
        if (!(mpis & NG_MPI_OMPI4))
            add(h, "NUMA_GPU_MPIRUN_ARGS", "--map-by rankfile:file=%s --use-hwthread-cpus", rfp);
    }
    if (mpis & NG_MPI_IMPI) {
        ng_buf b = { 0 };
        for (int r = 0; r < p->nranks; r++) {
            char m[1024];
            hwloc_bitmap_taskset_snprintf(m, sizeof(m), p->ranks[r].cpus); /* one hex number */
            ng_buf_add(&b, "%s%s", r ? "," : "", m);
        }
        char *masks = ng_buf_take(&b);
        add(h, "I_MPI_PIN_DOMAIN", "[%s]", masks);
        free(masks);
        add(h, "I_MPI_PIN", "1");
    }
    if (mpis & NG_MPI_MPICH) {
        ng_buf b = { 0 };
        for (int r = 0; r < p->nranks; r++) {
            cpus_joined(p->ranks[r].cpus, '+', c, sizeof(c));
            ng_buf_add(&b, "%s%s", r ? "," : "", c);
        }
        char *u = ng_buf_take(&b);
        add(h, "HYDRA_BINDING", "user:%s", u);
        add(h, "NUMA_GPU_HYDRA_ARGS", "-bind-to user:%s", u);
        free(u);
    }
    if (mpis & NG_MPI_TORCHRUN)
        add(h, "NUMA_GPU_TORCHRUN_PREFIX", "numa-gpu exec --mode %s --",
            p->mode == NG_MODE_OFF || p->mode == NG_MODE_EXPLAIN ? "prefer" : ng_mode_name(p->mode));
    /* Each local rank's nearest NICs: one variable cannot carry a per-rank
     * value to the ranks mpirun starts, so `numa-gpu exec` (or a wrapper)
     * reads its row from here: "0=mlx5_0:1;1=mlx5_1:1". */
    ng_buf nb = { 0 };
    int any = 0;
    for (int r = 0; r < p->nranks; r++) {
        char l[512];
        ng_plan_nic_list(&p->ranks[r], 1, l, sizeof(l));
        ng_buf_add(&nb, "%s%d=%s", r ? ";" : "", r, l);
        any |= p->ranks[r].nnics > 0;
    }
    char *nics = ng_buf_take(&nb);
    if (any && nics)
        add(h, "NUMA_GPU_RANK_NICS", "%s", nics);
    free(nics);
    /* Threads of each rank follow that rank's binding. */
    add(h, "OMP_PLACES", "cores");
    add(h, "OMP_PROC_BIND", "close");
    return 0;
}

void ng_hints_free(ng_hints *h)
{
    for (int i = 0; i < h->n; i++)
        free(h->v[i].value);
    free(h->v);
    free(h->rankfile);
    memset(h, 0, sizeof(*h));
}

/* The batch step's rankfiles: /tmp/numa-gpu-rankfile.<job>.XXXXXX. */
#define RANKFILE_PREFIX "/tmp/numa-gpu-rankfile."

int ng_hints_batch(const ng_plan *p, const ng_plan *const *host_plans, const char *const *hosts,
                   int nhosts, unsigned long job,
                   unsigned mpis, ng_hints *h, char *path, size_t pathlen, char *err,
                   size_t errlen)
{
    if (snprintf(path, pathlen, RANKFILE_PREFIX "%lu.XXXXXX", job) >= (int)pathlen)
        return ng_err(err, errlen, "rankfile path longer than %zu bytes", pathlen);
    int fd = mkstemp(path);
    if (fd < 0)
        return ng_err(err, errlen, "cannot create a rankfile in /tmp: %s", strerror(errno));
    int rc = ng_hints_build(p, host_plans, hosts, nhosts, path, mpis, h, err, errlen);
    if (rc == 0) {
        size_t len = strlen(h->rankfile);
        if (write(fd, h->rankfile, len) != (ssize_t)len) {
            rc = ng_err(err, errlen, "cannot write the rankfile %s: %s", path, strerror(errno));
            ng_hints_free(h);
        }
    }
    close(fd);
    if (rc < 0)
        unlink(path);
    return rc;
}

int ng_rankfiles_remove(unsigned long job, char *err, size_t errlen)
{
    char pat[96];
    glob_t g;
    int failed = 0;
    snprintf(pat, sizeof(pat), RANKFILE_PREFIX "%lu.??????", job);
    if (glob(pat, GLOB_NOSORT, NULL, &g) != 0)
        return 0;
    /* unlink() never follows a symlink; only names of our own pattern. */
    for (size_t i = 0; i < g.gl_pathc; i++)
        if (unlink(g.gl_pathv[i]) < 0 && !failed++)
            ng_err(err, errlen, "cannot remove %s: %s", g.gl_pathv[i], strerror(errno));
    globfree(&g);
    return failed;
}

/* PCI-order index of a GPU among the machine's (what CUDA_DEVICE_ORDER=
 * PCI_BUS_ID, NVML, nvidia-container-toolkit and ROCm number by); -1. */
static int pci_index(const ng_accel *all, int n, const char *busid)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(all[i].busid, busid))
            return i;
    return -1;
}

char *ng_hints_containers(const ng_topo *t, const ng_plan *p, ng_container kind)
{
    ng_accel *all = NULL;
    int n = 0;
    ng_buf b = { 0 };
    if (ng_accel_list(t, &all, &n) < 0)
        return NULL;
    static const char *names[] = { "docker", "podman", "apptainer" };
    ng_buf_add(&b, "# %s, one container per rank (GPU indexes in PCI order, as NVML, "
               "nvidia-container-toolkit and CUDA_DEVICE_ORDER=PCI_BUS_ID count them)\n",
               names[kind]);
    for (int r = 0; r < p->nranks; r++) {
        const ng_rank_plan *rp = &p->ranks[r];
        char cpus[4096], mems[1024], idx[256] = "", bus[512] = "";
        int nvidia = 0;
        for (int g = 0; g < rp->ngpus; g++) {
            size_t u = strlen(idx), v = strlen(bus);
            snprintf(idx + u, sizeof(idx) - u, "%s%d", g ? "," : "",
                     pci_index(all, n, rp->gpus[g].busid));
            snprintf(bus + v, sizeof(bus) - v, "%s%s", g ? "," : "", rp->gpus[g].busid);
            nvidia |= !strcmp(rp->gpus[g].vendor, "NVIDIA");
        }
        ng_list_str(rp->cpus, cpus, sizeof(cpus));
        ng_list_str(rp->mems, mems, sizeof(mems));
        ng_buf_add(&b, "# rank %d [%s]%s%s\n", r, ng_verdict_name(rp->verdict),
                   rp->ngpus ? ": GPU " : "", bus);
        if (kind == NG_CONTAINER_APPTAINER) {
            /* Apptainer applies no cpuset itself: run it under the binding. */
            if (rp->ngpus)
                ng_buf_add(&b, "%s=%s %s", nvidia ? "APPTAINERENV_CUDA_VISIBLE_DEVICES"
                           : "APPTAINERENV_ROCR_VISIBLE_DEVICES", idx,
                           nvidia ? "APPTAINERENV_CUDA_DEVICE_ORDER=PCI_BUS_ID " : "");
            ng_buf_add(&b, "numa-gpu exec --cpus %s --mems %s%s%s -- apptainer exec%s IMAGE ...\n",
                       cpus, mems, rp->ngpus ? " --gpus " : "", rp->ngpus ? bus : "",
                       rp->ngpus ? (nvidia ? " --nv" : " --rocm") : "");
            continue;
        }
        ng_buf_add(&b, "%s run --cpuset-cpus=%s --cpuset-mems=%s", names[kind], cpus, mems);
        if (rp->ngpus && nvidia)
            ng_buf_add(&b, " --gpus '\"device=%s\"'", idx);
        else if (rp->ngpus)
            ng_buf_add(&b, " --device=/dev/kfd --device=/dev/dri -e ROCR_VISIBLE_DEVICES=%s", idx);
        ng_buf_add(&b, " IMAGE ...\n");
    }
    ng_accel_list_free(all, n);
    return ng_buf_take(&b);
}
