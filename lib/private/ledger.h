/* A root-owned, line-oriented state file under a state directory
 * (lib/ledger.c): the one primitive behind the hugepage and IRQ ledgers.
 * Opening locks DIR/<lock> (ng_state_lock) and reads DIR/<file> into an
 * array of the caller's entries, one per line; saving replaces the file
 * atomically (header + every entry). A damaged line refuses the whole
 * ledger: it is never guessed at or rewritten.
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_LEDGER_H
#define NG_PRIVATE_LEDGER_H

#include <stddef.h>
#include "private/util.h"

typedef struct {
    const char *file;        /* "hugepages.ledger" */
    const char *lock;        /* "hugepages.lock" */
    const char *what;        /* "hugepage": "<what> ledger ..." in messages */
    const char *refuse;      /* "change hugepage counts": what a bad ledger stops */
    const char *header;      /* first line written, '\n'-terminated */
    size_t entry_size;
    size_t max_line;         /* a longer line (newline included) is damaged */
    /* line (NUL-terminated, newline kept, may be cut up) -> *entry; 0, or
     * -1 when the line is damaged. Lines starting with '#' never get here. */
    int (*parse)(char *line, void *entry);
    void (*format)(ng_buf *b, const void *entry);   /* one line, with '\n' */
} ng_ledger_kind;

typedef struct {
    const ng_ledger_kind *k;
    const char *dir;
    int lock_fd;             /* -1: not locked */
    void *e;                 /* n entries of k->entry_size */
    int n, cap;
} ng_ledger;

/* Lock dir and load its ledger (missing = empty). -1 with err when the lock
 * fails, the file is unsafe (not a regular file of ours) or a line is
 * damaged; the entries read before a damaged line stay in l. Close l in
 * every case. */
int ng_ledger_open(ng_ledger *l, const ng_ledger_kind *k, const char *dir, char *err,
                   size_t errlen);
/* Entry i (no bounds check: callers loop to l->n). */
void *ng_ledger_at(const ng_ledger *l, int i);
/* Make room for more entries, so that the next appends cannot fail (e.g.
 * before changing the kernel's state). 0, or -1 out of memory. */
int ng_ledger_room(ng_ledger *l, int more);
/* A new zeroed entry at the end (n grows; n-- drops it again), NULL out of
 * memory. */
void *ng_ledger_append(ng_ledger *l);
/* Keep the entries for which keep(arg, entry) is nonzero, in order; the
 * others are gone from l (save writes it). Returns how many went. */
int ng_ledger_keep(ng_ledger *l, int (*keep)(void *arg, void *entry), void *arg);
/* Replace the file with the header and l's entries. */
int ng_ledger_save(const ng_ledger *l, char *err, size_t errlen);
/* Unlock (when locked) and free. */
void ng_ledger_close(ng_ledger *l);

#endif
