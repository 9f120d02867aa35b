/* Helpers shared by libnumagpu's modules; not part of the public API. */
#ifndef NG_INTERNAL_H
#define NG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include "numagpu.h"

/* printf into the caller's error buffer; always returns -1 so callers can
 * write `return ng_err(err, len, "...", ...)`. */
int ng_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Growable string. */
typedef struct { char *s; size_t len, cap; } ng_buf;
void ng_buf_add(ng_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quoted, escaped). */
void ng_buf_json_str(ng_buf *b, const char *s);
char *ng_buf_take(ng_buf *b);

/* The CPUs of a GPU's NUMA node(s) (the union of the nodes' cpusets). */
void ng_accel_node_cpus(const ng_topo *t, const ng_accel *a, hwloc_bitmap_t cpus);

/* Read a small file into buf (NUL-terminated, trailing newline kept);
 * returns bytes read or -1. */
long ng_read_file(const char *path, char *buf, size_t len);


#endif
