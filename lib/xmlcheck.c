/* A foreign topology XML is loaded first by hwloc's own hwloc-info in a
 * spawned child. hwloc 2.9 dereferences NULL on some well-formed but
 * inconsistent files (an object with a cpuset and no complete_cpuset, found
 * by fuzzing); if it dies or hangs there, the file is refused with the
 * reason instead of taking the caller (slurmstepd) down.
 * The child is spawned and exec'd with a deadline (lib/spawn.c says why
 * never a bare fork). */
#define _GNU_SOURCE
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "private/spawn.h"
#include "private/util.h"
#include "private/xmlcheck.h"

#ifndef NG_HWLOC_INFO
#define NG_HWLOC_INFO "/usr/bin/hwloc-info"
#endif

static const char *program(void)
{
    const char *p = secure_getenv("NUMA_GPU_HWLOC_INFO");
    return p && p[0] == '/' ? p : NG_HWLOC_INFO;
}

int ng_xml_check(const char *path, int timeout_ms, char *err, size_t errlen)
{
    const char *prog = program();
    if (timeout_ms <= 0)
        timeout_ms = NG_XML_CHECK_TIMEOUT_MS;
    char *const argv[] = { (char *)prog, "--if", "xml", "--input", (char *)path,
                           "--whole-io", "--disallowed", NULL };
    /* A clean environment: no LD_PRELOAD, no sanitizer runtime, the same
     * hwloc plugins as the load that follows (ng_topo_load). */
    char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C",
                           "HWLOC_PLUGINS_BLACKLIST=hwloc_gl,hwloc_opencl,hwloc_pci", NULL };
    char out[1024] = "";
    int st = 0;
    int r = ng_spawn_wait(prog, argv, envp, -1, -1, timeout_ms, &st, out, sizeof(out));
    if (r == NG_SPAWN_FAILED)
        return ng_err(err, errlen, "topology '%s' was not written by numa-gpu, and %s, which "
                      "checks such files safely, cannot run (%s): install hwloc's tools "
                      "(Debian: hwloc-nox, RHEL: hwloc) or save the file with `numa-gpu "
                      "save-topology --from` where they are", path, prog, strerror(st));
    if (r == NG_SPAWN_LATE)
        return ng_err(err, errlen, "topology '%s': %s did not finish reading it within %d ms "
                      "(killed); the file is refused", path, prog, timeout_ms);
    if (r == NG_SPAWN_LOST)
        return ng_err(err, errlen, "topology '%s': the outcome of its check by %s was lost "
                      "(the child was reaped elsewhere); the file is refused", path, prog);
    if (WIFSIGNALED(st))
        return ng_err(err, errlen, "topology '%s': hwloc crashed reading it (signal %d in %s); "
                      "the file is malformed", path, WTERMSIG(st), prog);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char line[256];
        ng_spawn_first_line(out, line, sizeof(line));
        return ng_err(err, errlen, "topology '%s': not usable as hwloc XML (%s exited %d%s%s)",
                      path, prog, WIFEXITED(st) ? WEXITSTATUS(st) : -1, line[0] ? ": " : "", line);
    }
    return 0;
}
