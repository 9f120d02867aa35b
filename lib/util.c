/* Error buffers, growable strings and cpulist conversion. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "private/util.h"

int ng_err(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void ng_buf_add(ng_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return;
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ng_buf_json_str(ng_buf *b, const char *s)
{
    ng_buf_add(b, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ng_buf_add(b, "\\%c", c);
        else if (c == '\n')
            ng_buf_add(b, "\\n");
        else if (c < 0x20)
            ng_buf_add(b, "\\u%04x", c);
        else
            ng_buf_add(b, "%c", c);
    }
    ng_buf_add(b, "\"");
}

char *ng_buf_take(ng_buf *b)
{
    char *s = b->s ? b->s : strdup("");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

long ng_read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

char *ng_list_str(hwloc_const_bitmap_t b, char *buf, size_t len)
{
    if (hwloc_bitmap_iszero(b)) {
        snprintf(buf, len, "%s", "");
        return buf;
    }
    hwloc_bitmap_list_snprintf(buf, len, b);
    return buf;
}

int ng_list_parse(const char *s, hwloc_bitmap_t out)
{
    hwloc_bitmap_zero(out);
    if (!s)
        return -1;
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n')
        return 0;
    for (;;) {
        char *end;
        errno = 0;
        unsigned long a = strtoul(p, &end, 10);
        if (end == p || errno || a > 65535)
            return -1;
        unsigned long b = a;
        p = end;
        if (*p == '-') {
            p++;
            b = strtoul(p, &end, 10);
            if (end == p || errno || b < a || b > 65535)
                return -1;
            p = end;
        }
        hwloc_bitmap_set_range(out, (unsigned)a, (int)b);
        if (*p == ',') {
            p++;
            continue;
        }
        while (*p == ' ' || *p == '\n')
            p++;
        return *p == '\0' ? 0 : -1;
    }
}

int ng_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                 unsigned long long *out)
{
    if (!s || !*s || strlen(s) > 20)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

#ifndef NUMAGPU_VERSION
#define NUMAGPU_VERSION "unknown"   /* built outside the Makefile */
#endif
const char *ng_version(void)
{
    return NUMAGPU_VERSION;
}

unsigned ng_get_api_version(void)
{
    return NUMAGPU_API_VERSION;
}

int ng_state_lock(const char *dir, const char *lockname, const char *what, char *err,
                  size_t errlen)
{
    mkdir(dir, 0700);
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022))
        return ng_err(err, errlen, "%s state dir '%s' must be a directory owned by uid %d and "
                      "not group/world-writable", what, dir, (int)geteuid());
    char p[4200];
    snprintf(p, sizeof(p), "%s/%s", dir, lockname);
    int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return ng_err(err, errlen, "%s: %s", p, strerror(errno));
    if (flock(fd, LOCK_EX) < 0) {
        close(fd);
        return ng_err(err, errlen, "flock %s: %s", p, strerror(errno));
    }
    return fd;
}

void ng_state_unlock(int fd)
{
    flock(fd, LOCK_UN);
    close(fd);
}

int ng_write_replace(const char *path, const char *text, const char *what, char *err,
                     size_t errlen)
{
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return ng_err(err, errlen, "%s %s: %s", what, tmp, strerror(errno));
    size_t len = text ? strlen(text) : 0;
    int ok = text && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return ng_err(err, errlen, "%s %s: cannot replace: %s", what, path, strerror(errno));
    }
    return 0;
}

int ng_enum_parse(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

const char *ng_enum_name(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "?";
}
