/* The plan of every node of a job, for the batch step's launcher hints
 * (lib/hostplans.c): the batch node's own, and another node's from its own
 * topology when the admin keeps one per node (topology_dir=, a partition
 * of another node type), else the batch node's.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_HOSTPLANS_H
#define NG_PRIVATE_HOSTPLANS_H

#include "numagpu.h"
#include "private/cpuopt.h"

/* SLURM_TASKS_PER_NODE ("2(x3),1") expanded: n[i] tasks on host i, for
 * nhosts hosts. -1 naming the value when it does not say as many hosts. */
int ng_tasks_per_node_list(const char *s, int nhosts, int *n, char *err, size_t errlen);

typedef struct {
    int nhosts;
    const ng_plan **plan;     /* per host; the batch node's plan where no
                                 topology of its own is known */
    ng_plan *own;             /* plans made here (freed with the set) */
    int *from_dir;            /* host i's plan came from topology_dir */
} ng_host_plans;

/* Plans for hosts[0..nhosts-1]: host i == self_host uses self; another
 * host with dir/<host>.xml (dir may be NULL) gets ntasks[i] ranks over the
 * first ngpus GPUs of that topology in PCI order (Slurm's --gres=gpu:N is
 * per node, and an exclusive node gives the lowest indexes; ngpus <= 0:
 * all), by the local-rank convention (ng_home_chunk), planned with mode and
 * co; a host without one uses self. note lists the hosts planned from dir
 * and those that fell back. A topology file that exists but does not load
 * is an error naming it. */
int ng_host_plans_make(const char *dir, const char *const *hosts, int nhosts,
                       const int *ntasks, int ngpus, const char *self_host,
                       const ng_plan *self, ng_mode mode, const ng_cpuopt *co,
                       ng_host_plans *hp, char *note, size_t notelen, char *err,
                       size_t errlen);
void ng_host_plans_free(ng_host_plans *hp);
/* The distinct GPUs of a plan (the node's GPUs in the job). */
int ng_plan_gpu_count(const ng_plan *p);

#endif
