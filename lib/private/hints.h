/* The plan rendered for launchers that bind ranks themselves (lib/hints.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_HINTS_H
#define NG_PRIVATE_HINTS_H

#include "numagpu.h"

/* Launchers that bind ranks themselves. */
#define NG_MPI_OMPI4 1u
#define NG_MPI_OMPI5 2u
#define NG_MPI_IMPI 4u
#define NG_MPI_MPICH 8u
#define NG_MPI_TORCHRUN 16u
#define NG_MPI_ALL 31u
int ng_mpi_parse(const char *s, unsigned *mask, char *err, size_t errlen);

typedef struct {
    char name[64];
    char *value;
} ng_hint;
typedef struct {
    int n;
    ng_hint *v;          /* environment variables, in order */
    char *rankfile;      /* Open MPI rankfile text for all hosts */
} ng_hints;
/* Render plan p (one node's ranks) for hosts[0..nhosts-1]; the rankfile
 * takes host i's rows from host_plans[i] when given (a job over nodes of
 * different types, private/hostplans.h), ranks numbered host by host.
 * The environment variables carry one node's binding: p's. */
int ng_hints_build(const ng_plan *p, const ng_plan *const *host_plans, const char *const *hosts,
                   int nhosts, const char *rankfile_path, unsigned mpis, ng_hints *h, char *err,
                   size_t errlen);
void ng_hints_free(ng_hints *h);

/* The batch script's hints: the rankfile written to a new
 * /tmp/numa-gpu-rankfile.<job>.XXXXXX (its name in path), the environment
 * naming it. Nothing is left behind on failure. */
int ng_hints_batch(const ng_plan *p, const ng_plan *const *host_plans, const char *const *hosts,
                   int nhosts, unsigned long job,
                   unsigned mpis, ng_hints *h, char *path, size_t pathlen, char *err,
                   size_t errlen);
/* Job end: remove the job's rankfiles; the number that could not be (err
 * names the first). */
int ng_rankfiles_remove(unsigned long job, char *err, size_t errlen);

/* The plan as container runtime flags, one line per rank: docker/podman
 * --cpuset-cpus/--cpuset-mems and --gpus device=<PCI-order index> (AMD:
 * /dev/kfd, /dev/dri and ROCR_VISIBLE_DEVICES); apptainer under
 * `numa-gpu exec` with --nv/--rocm and the visible-devices variable. */
typedef enum { NG_CONTAINER_DOCKER = 0, NG_CONTAINER_PODMAN, NG_CONTAINER_APPTAINER } ng_container;
char *ng_hints_containers(const ng_topo *t, const ng_plan *p, ng_container kind);

#endif
