/* Checking a topology XML that numa-gpu did not write before hwloc loads it
 * in this process: hwloc's own hwloc-info loads it in a child that is
 * spawned and exec'd (never a bare fork: the caller may be slurmstepd or a
 * fuzzer, both multi-threaded), under a deadline. */
#ifndef NG_PRIVATE_XMLCHECK_H
#define NG_PRIVATE_XMLCHECK_H
#include <stddef.h>

/* Default deadline of a check; a hung hwloc-info is killed at it. */
#define NG_XML_CHECK_TIMEOUT_MS 5000

/* 0 when hwloc-info loaded `path` the way ng_topo_load will (XML input,
 * every I/O object, disallowed resources included) and exited 0; -1 with a
 * message naming the file and the reason (hwloc's error, the signal that
 * killed it, the deadline, or hwloc-info missing) otherwise. The program is
 * NG_HWLOC_INFO (set at build time), or $NUMA_GPU_HWLOC_INFO when set (an
 * absolute path; ignored in setuid programs). */
int ng_xml_check(const char *path, int timeout_ms, char *err, size_t errlen);

#endif
