/* Helpers shared by libnumagpu's modules and front-ends.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_UTIL_H
#define NG_PRIVATE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include "numagpu.h"

/* NUMA node OS indexes are below this (ng_topo_load refuses others: the
 * audit counts pages per node in arrays of this size), and PU OS indexes
 * below NG_MAX_CPUS (hwloc's "unknown" index would make bitmaps of 2^32
 * bits). Linux allows at most 1024 nodes and 8192 CPUs today. */
#define NG_MAX_NODES 256
#define NG_MAX_CPUS 65536

/* printf into the caller's error buffer; always returns -1 so callers can
 * write `return ng_err(err, len, "...", ...)`. */
int ng_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one enum-name table shape: names[v] is value v's name. parse gives
 * the index of s (-1: none, s may be NULL); name gives "?" out of range. */
int ng_enum_parse(const char *const *names, int n, const char *s);
const char *ng_enum_name(const char *const *names, int n, int v);
#define NG_NAMES_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Growable string. */
typedef struct { char *s; size_t len, cap; } ng_buf;
void ng_buf_add(ng_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quoted, escaped). */
void ng_buf_json_str(ng_buf *b, const char *s);
char *ng_buf_take(ng_buf *b);

/* Read a small file into buf (NUL-terminated, trailing newline kept);
 * returns bytes read or -1. */
long ng_read_file(const char *path, char *buf, size_t len);


/* A strict decimal number in [min, max]: digits only (no sign, space or
 * suffix); 0 or -1. */
int ng_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                 unsigned long long *out);

/* A root-only state directory (created 0700 if missing; refused when not
 * ours or writable by others) locked exclusively through DIR/lockname;
 * returns the lock's fd. what names the state in messages. */
int ng_state_lock(const char *dir, const char *lockname, const char *what, char *err,
                  size_t errlen);
void ng_state_unlock(int fd);
/* Replace path with text atomically (temp file, fsync, rename). */
int ng_write_replace(const char *path, const char *text, const char *what, char *err,
                     size_t errlen);

#endif
