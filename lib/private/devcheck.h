/* What the kernel lets the calling process open (lib/devcheck.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_DEVCHECK_H
#define NG_PRIVATE_DEVCHECK_H

typedef enum {
    NG_DEV_UNKNOWN = -1,      /* no such file, or file permissions deny it:
                                 says nothing about the device cgroup */
    NG_DEV_DENIED = 0,        /* EPERM: the device cgroup denies it */
    NG_DEV_ALLOWED = 1
} ng_dev_access;

/* May the calling process read and write the device file path? Under
 * Slurm's ConstrainDevices a task can use only the GPUs Slurm gave it; the
 * kernel says which without opening them (no driver call). *errnum gets the
 * errno of a refusal (0 when allowed). */
ng_dev_access ng_dev_check(const char *path, int *errnum);

#endif
