/* The shared-slot step service (lib/slots.c): one slot per local task in
 * memory shared between a step's root parent and the tasks it forks
 * (MAP_SHARED|MAP_ANONYMOUS, made before the fork), and a thread of the
 * parent serving them. Two ways to use a slot, each through C11 atomics
 * (release on publish, acquire on read):
 *   - marks: the task fills the slot's data, then sets bits the parent
 *     reads (the audit: "filled", "done");
 *   - ask/answer: the task fills a request and asks; the thread claims it,
 *     answers in the data and says done or failed; the task waits at most
 *     its deadline (the hugepage service).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_SLOTS_H
#define NG_PRIVATE_SLOTS_H

#include <stddef.h>

typedef struct ng_slots ng_slots;

/* A slot's handshake state. */
enum { NG_SLOT_IDLE = 0, NG_SLOT_ASKED, NG_SLOT_BUSY, NG_SLOT_DONE, NG_SLOT_FAILED };

/* n slots (1..65536) of size bytes of data each, zeroed; NULL out of memory. */
ng_slots *ng_slots_new(int n, size_t size);
int ng_slots_count(const ng_slots *s);
/* Slot i's data (suitably aligned), NULL out of range. */
void *ng_slots_data(const ng_slots *s, int i);

/* Publish bits of slot i (after writing its data) / read them (before
 * reading it). */
void ng_slots_mark(ng_slots *s, int i, int bits);
int ng_slots_marks(const ng_slots *s, int i);

/* In a task: slot i's data holds the request; ask and wait at most
 * timeout_ms. NG_SLOT_DONE or NG_SLOT_FAILED (the data holds the answer),
 * or -1: no answer in time (a request not yet taken is withdrawn). */
int ng_slots_ask(ng_slots *s, int i, int timeout_ms);

/* answer: slot i's request in data -> its answer there; 0 done, -1 failed.
 * tick: called once per period after the answers. Either may be NULL. */
typedef int (*ng_slots_answer_fn)(void *arg, int i, void *data);
typedef void (*ng_slots_tick_fn)(void *arg);
/* In the root parent: start the thread serving s every period_ms. 0, or -1
 * when it cannot start. */
int ng_slots_serve(ng_slots *s, int period_ms, ng_slots_answer_fn answer, ng_slots_tick_fn tick,
                   void *arg);
/* Nonzero once free has begun stopping the thread: long ticks check it. */
int ng_slots_stopping(const ng_slots *s);
/* Stop the thread (at once, not at the end of its period), unmap, free.
 * NULL is fine; in a forked task it only unmaps (the thread is not there). */
void ng_slots_free(ng_slots *s);

#endif
