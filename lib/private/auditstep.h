/* The audit of one step on one node (lib/auditstep.c): created in the root
 * parent before tasks fork, filled by each task, sampled by a thread of the
 * parent, one JSON record per task at its exit.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_AUDITSTEP_H
#define NG_PRIVATE_AUDITSTEP_H

#include "numagpu.h"
#include "private/apply.h"

#define NG_AUDIT_MAX_TASKS 4096

typedef struct {
    const char *dir;          /* audit_dir: DIR/<jobid>.json, .summary */
    int interval;             /* seconds between samples, 0 = none */
    int warn_local;           /* flag tasks below this % of local pages */
    int method;               /* ng_method of the samples */
    unsigned pages;           /* pages per sample, sampled method */
} ng_audit_conf;

typedef struct ng_audit_step ng_audit_step;

/* ntasks local tasks (1..NG_AUDIT_MAX_TASKS). skipped != NULL: the step is
 * not placed (why), its records say so and nothing is sampled. */
ng_audit_step *ng_audit_step_new(const ng_audit_conf *c, unsigned long job, unsigned long step,
                                 const char *host, int ntasks, ng_mode mode,
                                 const char *skipped, char *err, size_t errlen);
/* The parent saw task local start as pid (perf counters open here). */
void ng_audit_step_forked(ng_audit_step *a, int local, int pid);
/* Before the tasks fork: the job's user (uid -1, user NULL: not known),
 * and the IRQs steered for the step (irq=apply; not called: no field). */
void ng_audit_step_owner(ng_audit_step *a, long long uid, const char *user);
void ng_audit_step_irqs(ng_audit_step *a, int steered);
/* In the task: what it was meant to get (p's row local) and got (eff);
 * given names the GPU variable it had ("CUDA_VISIBLE_DEVICES=1"). */
void ng_audit_step_fill(ng_audit_step *a, int local, const ng_plan *p, const ng_effective *eff,
                        const char *given);
/* What the plugin did for a task. refused: strict, the task does not start;
 * unbound: it runs without numa-gpu's binding. An error with NG_TASK_OK is
 * one the task runs through bound (a prefer-mode hugepage shortfall). */
typedef enum { NG_TASK_OK = 0, NG_TASK_REFUSED, NG_TASK_UNBOUND } ng_task_outcome;
/* In the task, after the plugin's work: its wall time in ms, the hugepages
 * it was given (the NUMA_GPU_HUGEPAGES value, or NULL) and the outcome with
 * the error (NULL when none). */
void ng_audit_step_done(ng_audit_step *a, int local, double plugin_ms, const char *hugepages,
                        ng_task_outcome outcome, const char *error);
/* In the parent at the task's exit: its hugepages were given back. */
void ng_audit_step_released(ng_audit_step *a, int local, int released);
/* The task exited: append its record to DIR/<jobid>.json. */
int ng_audit_step_exit(ng_audit_step *a, int local, int global, char *err, size_t errlen);
/* Stop sampling, free everything. NULL is fine. */
void ng_audit_step_free(ng_audit_step *a);

/* Job end: the summary of DIR/<jobid>.json, appended to DIR/<jobid>.summary
 * and returned in *text (one line per task) for the log. 1 (and *text NULL)
 * when the job left no records, -1 when the summary could not be written. */
int ng_audit_job_end(const char *dir, unsigned long job, int warn_local, char **text,
                     char *err, size_t errlen);

#endif
