/* What a process may use: its cgroup's cpus and memory nodes, and the
 * kernel's isolated cpus (lib/cgroup.c).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_CGROUP_H
#define NG_PRIVATE_CGROUP_H

#include "numagpu.h"

/* The cpus and memory nodes the process pid (0 = self) may use: its cpuset
 * cgroup (v2 or v1), not its current affinity mask. Falls back to all online
 * CPUs and Mems_allowed_list. procfs/sysfs NULL = /proc, /sys. */
int ng_allowed_read(const char *procfs, const char *sysfs, int pid,
                    hwloc_bitmap_t cpus, hwloc_bitmap_t mems, char *err,
                    size_t errlen);

/* The kernel's isolated CPUs (isolcpus=) and nohz_full CPUs from
 * SYSFS/devices/system/cpu (sysfs NULL = /sys); missing files are empty
 * sets. -1 only for a file that does not parse (err names it). */
int ng_isolated_read(const char *sysfs, hwloc_bitmap_t isolated, hwloc_bitmap_t nohz_full,
                     char *err, size_t errlen);

#endif
