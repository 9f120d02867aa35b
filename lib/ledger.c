/* The root-owned line ledger (lib/private/ledger.h). Every change is a
 * whole transaction under the state lock: load, change in memory, replace
 * the file by atomic rename, so a crash leaves the old or the new ledger,
 * never half of one, and concurrent writers never lose a line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private/ledger.h"

static void path_of(const ng_ledger *l, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", l->dir, l->k->file);
}

void *ng_ledger_at(const ng_ledger *l, int i)
{
    return (char *)l->e + (size_t)i * l->k->entry_size;
}

int ng_ledger_room(ng_ledger *l, int more)
{
    if (l->n > l->cap - more) {   /* cap < n + more, without overflow */
        int cap = l->cap ? l->cap : 16;
        while (cap - more < l->n)
            cap *= 2;
        void *ne = realloc(l->e, (size_t)cap * l->k->entry_size);
        if (!ne)
            return -1;
        l->e = ne;
        l->cap = cap;
    }
    return 0;
}

void *ng_ledger_append(ng_ledger *l)
{
    if (ng_ledger_room(l, 1) < 0)
        return NULL;
    void *e = ng_ledger_at(l, l->n++);
    memset(e, 0, l->k->entry_size);
    return e;
}

int ng_ledger_keep(ng_ledger *l, int (*keep)(void *arg, void *entry), void *arg)
{
    int kept = 0, n = l->n;
    for (int i = 0; i < n; i++) {
        void *e = ng_ledger_at(l, i);
        if (!keep(arg, e))
            continue;
        if (kept != i)
            memcpy(ng_ledger_at(l, kept), e, l->k->entry_size);
        kept++;
    }
    l->n = kept;
    return n - kept;
}

static int refuse(const ng_ledger *l, const char *path, const char *why, char *err,
                  size_t errlen)
{
    return ng_err(err, errlen, "%s ledger %s %s; refusing to %s until an admin checks it",
                  l->k->what, path, why, l->k->refuse);
}

static int load(ng_ledger *l, char *err, size_t errlen)
{
    char p[4200];
    path_of(l, p, sizeof(p));
    /* O_NONBLOCK: a FIFO planted as the ledger must not block us. */
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return ng_err(err, errlen, "%s ledger %s: %s", l->k->what, p, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd);
        char why[64];
        snprintf(why, sizeof(why), "is not a regular file owned by uid %d", (int)geteuid());
        return refuse(l, p, why, err, errlen);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return ng_err(err, errlen, "%s ledger %s: %s", l->k->what, p, strerror(errno));
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        lineno++;
        if (line[0] == '#')
            continue;
        if (ng_ledger_room(l, 1) < 0) {
            rc = ng_err(err, errlen, "out of memory reading the %s ledger", l->k->what);
            break;
        }
        void *e = ng_ledger_at(l, l->n);
        memset(e, 0, l->k->entry_size);
        if ((size_t)len > l->k->max_line || l->k->parse(line, e) < 0) {
            char why[64];
            snprintf(why, sizeof(why), "is corrupt at line %d", lineno);
            rc = refuse(l, p, why, err, errlen);
            break;
        }
        l->n++;
    }
    free(line);
    fclose(f);
    return rc;
}

int ng_ledger_open(ng_ledger *l, const ng_ledger_kind *k, const char *dir, char *err,
                   size_t errlen)
{
    memset(l, 0, sizeof(*l));
    l->k = k;
    l->dir = dir;
    l->lock_fd = ng_state_lock(dir, k->lock, k->what, err, errlen);
    if (l->lock_fd < 0)
        return -1;
    return load(l, err, errlen);
}

int ng_ledger_save(const ng_ledger *l, char *err, size_t errlen)
{
    char p[4200], what[64];
    path_of(l, p, sizeof(p));
    snprintf(what, sizeof(what), "%s ledger", l->k->what);
    ng_buf b = { 0 };
    ng_buf_add(&b, "%s", l->k->header);
    for (int i = 0; i < l->n; i++)
        l->k->format(&b, ng_ledger_at(l, i));
    char *s = ng_buf_take(&b);
    int rc = ng_write_replace(p, s, what, err, errlen);
    free(s);
    return rc;
}

void ng_ledger_close(ng_ledger *l)
{
    if (l->lock_fd >= 0)
        ng_state_unlock(l->lock_fd);
    l->lock_fd = -1;
    free(l->e);
    l->e = NULL;
    l->n = l->cap = 0;
}
