/* Interrupts of GPUs and NICs against their devices' NUMA node
 * (lib/irq.c): check, steer (root) and restore, with a ledger.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_IRQ_H
#define NG_PRIVATE_IRQ_H

#include "numagpu.h"

typedef struct {
    const char *procfs;     /* NULL = /proc (/proc/irq, /proc/interrupts) */
    const char *sysfs;      /* NULL = /sys (bus/pci/devices/<bdf>/msi_irqs) */
    const char *state_dir;  /* irq.ledger + irq.lock, root-only */
} ng_irq_ctx;

typedef struct {
    char busid[NG_BUSID_LEN];
    char label[32];         /* "gpu", or the NIC's name */
} ng_irq_device;

typedef struct {
    int irq;
    char busid[NG_BUSID_LEN];
    char device[32];
    char name[64];              /* /proc/interrupts description */
    hwloc_bitmap_t affinity;    /* smp_affinity_list */
    hwloc_bitmap_t node_cpus;   /* the device's node(s) cpus; empty unknown */
    const char *state;          /* local | spread | remote | unknown | vanished */
} ng_irq;

/* The devices of a job: its GPUs, and the NICs named in nics (comma list
 * of OpenFabrics or interface names; "none": no NIC), or by default the
 * nearest NICs of each GPU. An unknown NIC name is an error naming the
 * topology's NICs. */
int ng_irq_devices(const ng_topo *t, const char (*gpus)[NG_BUSID_LEN], int ngpus,
                   const char *nics, ng_irq_device **devs, int *n, char *err, size_t errlen);
/* The IRQs of devs (MSI/MSI-X vectors, else the legacy line), by number. */
int ng_irq_list(const ng_topo *t, const ng_irq_ctx *c, const ng_irq_device *devs, int ndevs,
                ng_irq **out, int *nout, char *err, size_t errlen);
void ng_irq_list_free(ng_irq *v, int n);
/* Steer the remote and spread IRQs of v to their device's node CPUs (minus
 * avoid, where any are left), recording each under job. All or nothing: a
 * write the kernel refuses (a managed IRQ, a read-only /proc/irq, an IRQ
 * that vanished) puts back what this call changed and returns -1 naming it.
 * IRQs another job steered are left (note says how many). */
int ng_irq_apply(const ng_irq_ctx *c, unsigned long job, ng_irq *v, int n,
                 hwloc_const_bitmap_t avoid, int *changed, char *note, size_t notelen,
                 char *err, size_t errlen);
/* How many of v are routed outside their device's node (remote or spread). */
int ng_irq_outside(const ng_irq *v, int n);
/* irq=check|apply for a step (slurmstepd, root): the IRQs of its GPUs (GRES
 * indexes) and their nearest NICs; apply steers the outside ones away from
 * avoid under job. msg says what was found or done ("" when nothing). */
int ng_irq_step(const ng_topo *t, const ng_roots *r, const ng_irq_ctx *c, const unsigned *gres,
                int ngres, int apply, unsigned long job, hwloc_const_bitmap_t avoid, char *msg,
                size_t msglen, char *err, size_t errlen);
/* Put back what job changed (0: every job); IRQs gone since are dropped
 * (note), ones that cannot be written stay in the ledger (-1). */
int ng_irq_restore(const ng_irq_ctx *c, unsigned long job, int *restored, char *note,
                   size_t notelen, char *err, size_t errlen);
/* How many IRQs the ledger says are steered now (every job), read under
 * its lock (metrics). */
int ng_irq_steered(const ng_irq_ctx *c, int *n, char *err, size_t errlen);

#endif
