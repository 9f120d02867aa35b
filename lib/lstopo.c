/* Running hwloc's lstopo on a styled topology (lib/draw.c) and where its
 * drawing goes: a file of the CLI's, replaced only when complete, or the
 * plugin's picture in audit_dir, opened by root before the tasks fork. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "private/draw.h"
#include "private/spawn.h"
#include "private/util.h"

#ifndef NG_LSTOPO
#define NG_LSTOPO "/usr/bin/lstopo"
#endif
#ifndef NG_LSTOPO_NO_GRAPHICS
#define NG_LSTOPO_NO_GRAPHICS "/usr/bin/lstopo-no-graphics"
#endif

const char *ng_draw_program(ng_draw_format f)
{
    const char *p = secure_getenv(f == NG_DRAW_PNG ? "NUMA_GPU_LSTOPO"
                                                   : "NUMA_GPU_LSTOPO_NO_GRAPHICS");
    return p && p[0] == '/' ? p : f == NG_DRAW_PNG ? NG_LSTOPO : NG_LSTOPO_NO_GRAPHICS;
}

/* The XML on a file lstopo reads as its stdin ("-i -": /dev/stdin). */
static int xml_fd(const char *xml, size_t len)
{
    int fd = memfd_create("numa-gpu-picture", MFD_CLOEXEC);
    if (fd < 0) {
        FILE *f = tmpfile();   /* kernels without memfd: an unlinked file */
        fd = f ? dup(fileno(f)) : -1;
        if (f)
            fclose(f);
        if (fd >= 0)
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    for (size_t off = 0; fd >= 0 && off < len; ) {
        ssize_t w = write(fd, xml + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static const char pkg_hint[] = "Debian: hwloc-nox or hwloc for SVG, hwloc (its cairo lstopo, "
                               "replacing hwloc-nox) for PNG; RHEL: hwloc for SVG, hwloc-gui "
                               "for PNG";

int ng_draw_render(const char *xml, size_t len, ng_draw_format f, int out_fd, int timeout_ms,
                   char *err, size_t errlen)
{
    const char *prog = ng_draw_program(f);
    if (timeout_ms <= 0)
        timeout_ms = NG_DRAW_TIMEOUT_MS;
    /* Factorizing and collapsing would hide cores and devices; L1/L2 add
     * nothing to a placement; the binding colour would be lstopo's own
     * (its process's), never a rank's; the default legend (host, date)
     * would make two drawings of one plan differ. */
    char *const argv[] = {
        (char *)prog, "--if", "xml", "-i", "-", "--of", f == NG_DRAW_PNG ? "png" : "nativesvg",
        "--no-factorize", "--no-collapse", "--disallowed", "--binding-color", "none",
        "--no-default-legend", "--filter", "l1cache:none", "--filter", "l2cache:none",
        "--filter", "l1icache:none", "--filter", "l2icache:none", "-", NULL };
    char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C",
                           "HWLOC_PLUGINS_BLACKLIST=hwloc_gl,hwloc_opencl,hwloc_pci", NULL };
    int in = xml_fd(xml, len);
    if (in < 0)
        return ng_err(err, errlen, "picture: cannot hand the topology to %s: %s", prog,
                      strerror(errno));
    int st = 0;
    char out[2048];
    int rc = ng_spawn_wait(prog, argv, envp, in, out_fd, timeout_ms, &st, out, sizeof(out));
    close(in);
    char line[256];
    ng_spawn_first_line(out, line, sizeof(line));
    if (rc == NG_SPAWN_FAILED)
        return ng_err(err, errlen, "picture: %s cannot run (%s): install hwloc's lstopo (%s)",
                      prog, strerror(st), pkg_hint);
    if (rc == NG_SPAWN_LATE)
        return ng_err(err, errlen, "picture: %s did not finish within %d ms (killed)", prog,
                      timeout_ms);
    if (rc == NG_SPAWN_LOST)
        return ng_err(err, errlen, "picture: the outcome of %s was lost (the child was reaped "
                      "elsewhere)", prog);
    if (WIFSIGNALED(st))
        return ng_err(err, errlen, "picture: %s died (signal %d)", prog, WTERMSIG(st));
    if (WEXITSTATUS(st) != 0 && f == NG_DRAW_PNG && strstr(out, "format not supported"))
        return ng_err(err, errlen, "picture: %s cannot write PNG (an lstopo built without "
                      "cairo, as hwloc-nox's); install the cairo lstopo (%s), or draw --svg",
                      prog, pkg_hint);
    if (WEXITSTATUS(st) != 0)
        return ng_err(err, errlen, "picture: %s exited %d%s%s", prog, WEXITSTATUS(st),
                      line[0] ? ": " : "", line);
    struct stat sb;
    if (fstat(out_fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
        return ng_err(err, errlen, "picture: %s wrote nothing%s%s", prog, line[0] ? ": " : "",
                      line);
    return 0;
}

int ng_draw_file(const ng_topo *t, const ng_plan *p, const char *title, ng_draw_format f,
                 const char *path, int timeout_ms, char *err, size_t errlen)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return ng_err(err, errlen, "picture '%s': name too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return ng_err(err, errlen, "cannot write the picture '%s': %s", path, strerror(errno));
    char *xml = NULL;
    size_t len = 0;
    int rc = ng_draw_xml(t, p, title, &xml, &len, err, errlen);
    if (rc == 0)
        rc = ng_draw_render(xml, len, f, fd, timeout_ms, err, errlen);
    free(xml);
    if (close(fd) < 0 && rc == 0)
        rc = ng_err(err, errlen, "cannot write the picture '%s': %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) < 0)
        rc = ng_err(err, errlen, "cannot write the picture '%s': %s", path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* ------------------------------------------------- the plugin's picture */

static int dir_of_ours(const char *dir, char *err, size_t errlen)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return ng_err(err, errlen, "picture: audit_dir '%s': %s", dir, strerror(errno));
    struct stat st;
    if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
        close(dfd);
        return ng_err(err, errlen, "picture: audit_dir '%s' refused: must be owned by uid %d "
                      "and not group/world-writable", dir, (int)geteuid());
    }
    return dfd;
}

int ng_draw_open_in(const char *dir, const char *name, char *err, size_t errlen)
{
    if (!name[0] || strchr(name, '/') || name[0] == '.')
        return ng_err(err, errlen, "picture file name '%s' refused", name);
    int dfd = dir_of_ours(dir, err, errlen);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    int e = errno;
    close(dfd);
    if (fd < 0)
        return ng_err(err, errlen, "picture %s/%s: %s%s", dir, name, strerror(e),
                      e == ELOOP ? " (a symlink: refused)" : "");
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        st.st_uid != geteuid() || ftruncate(fd, 0) < 0) {
        close(fd);
        return ng_err(err, errlen, "picture %s/%s refused: not a plain file of ours", dir, name);
    }
    return fd;
}

void ng_draw_close_in(const char *dir, const char *name, int fd)
{
    struct stat st, at;
    char err[NG_ERRLEN];
    if (fd < 0)
        return;
    int dfd = fstat(fd, &st) == 0 && st.st_size == 0 ? dir_of_ours(dir, err, sizeof(err)) : -1;
    /* Remove an empty picture only if the name still is that file. */
    if (dfd >= 0 && fstatat(dfd, name, &at, AT_SYMLINK_NOFOLLOW) == 0 &&
        at.st_ino == st.st_ino && at.st_dev == st.st_dev)
        unlinkat(dfd, name, 0);
    if (dfd >= 0)
        close(dfd);
    close(fd);
}
