/* The shared-slot step service (lib/private/slots.h). The slots live in an
 * anonymous shared mapping so tasks forked after ng_slots_new write into
 * the parent's view; each starts with its atomic words, then its data. The
 * words are lock-free atomics (address-free, so valid across processes):
 * no volatile, no full barriers. The task polls (it cannot wait on the
 * parent's condition variable across fork); the thread sleeps on one so
 * that stopping it never waits out a period. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "private/slots.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "slot words must be lock-free to be shared across fork");

#define POLL_NS 2000000L   /* a waiting task looks every 2 ms */

typedef struct {
    atomic_int state;   /* NG_SLOT_*: the ask/answer handshake */
    atomic_int marks;   /* bits the task published */
} slot_head;

/* The data starts here in each slot: aligned for any type. */
#define HEAD_SIZE (((sizeof(slot_head) + alignof(max_align_t) - 1) / alignof(max_align_t)) * \
                   alignof(max_align_t))

struct ng_slots {
    int n;
    size_t stride, len;
    unsigned char *mem;          /* the shared mapping */
    pthread_t thread;
    pid_t thread_pid;            /* the process the thread runs in; 0: none */
    pthread_mutex_t lock;        /* with wake: the thread's sleep */
    pthread_cond_t wake;
    atomic_int stop;
    int period_ms;
    ng_slots_answer_fn answer;
    ng_slots_tick_fn tick;
    void *arg;
};

static slot_head *head(const ng_slots *s, int i)
{
    return (slot_head *)(void *)(s->mem + (size_t)i * s->stride);
}

ng_slots *ng_slots_new(int n, size_t size)
{
    if (n < 1 || n > 65536 || size > (1u << 24))
        return NULL;
    ng_slots *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->n = n;
    s->stride = (HEAD_SIZE + size + 63) / 64 * 64;   /* a cache line or more apart */
    s->len = (size_t)n * s->stride;
    void *m = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        free(s);
        return NULL;
    }
    s->mem = m;   /* zeroed by the kernel: every slot idle, no marks */
    for (int i = 0; i < n; i++) {
        atomic_init(&head(s, i)->state, NG_SLOT_IDLE);
        atomic_init(&head(s, i)->marks, 0);
    }
    atomic_init(&s->stop, 0);
    return s;
}

int ng_slots_count(const ng_slots *s)
{
    return s ? s->n : 0;
}

void *ng_slots_data(const ng_slots *s, int i)
{
    if (!s || i < 0 || i >= s->n)
        return NULL;
    return (unsigned char *)head(s, i) + HEAD_SIZE;
}

void ng_slots_mark(ng_slots *s, int i, int bits)
{
    if (s && i >= 0 && i < s->n)
        atomic_fetch_or_explicit(&head(s, i)->marks, bits, memory_order_release);
}

int ng_slots_marks(const ng_slots *s, int i)
{
    if (!s || i < 0 || i >= s->n)
        return 0;
    return atomic_load_explicit(&head(s, i)->marks, memory_order_acquire);
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int ng_slots_ask(ng_slots *s, int i, int timeout_ms)
{
    if (!s || i < 0 || i >= s->n)
        return -1;
    atomic_int *st = &head(s, i)->state;
    atomic_store_explicit(st, NG_SLOT_ASKED, memory_order_release);   /* the request is written */
    long long deadline = now_ns() + (long long)(timeout_ms > 0 ? timeout_ms : 0) * 1000000LL;
    for (;;) {
        int v = atomic_load_explicit(st, memory_order_acquire);
        if (v == NG_SLOT_DONE || v == NG_SLOT_FAILED)
            return v;
        if (now_ns() >= deadline)
            break;
        struct timespec nap = { 0, POLL_NS };
        nanosleep(&nap, NULL);
    }
    /* Too late: take the request back unless the service is on it already. */
    int expected = NG_SLOT_ASKED;
    if (atomic_compare_exchange_strong_explicit(st, &expected, NG_SLOT_IDLE, memory_order_acq_rel,
                                                memory_order_acquire))
        return -1;
    return expected == NG_SLOT_DONE || expected == NG_SLOT_FAILED ? expected : -1;
}

int ng_slots_stopping(const ng_slots *s)
{
    return atomic_load_explicit(&s->stop, memory_order_acquire);
}

/* Answer every asked slot: claim it (so a task's withdrawal and our answer
 * never cross), answer, publish. */
static void answer_asked(ng_slots *s)
{
    for (int i = 0; i < s->n && !ng_slots_stopping(s); i++) {
        atomic_int *st = &head(s, i)->state;
        int expected = NG_SLOT_ASKED;
        if (!atomic_compare_exchange_strong_explicit(st, &expected, NG_SLOT_BUSY,
                                                     memory_order_acq_rel, memory_order_relaxed))
            continue;
        int rc = s->answer(s->arg, i, ng_slots_data(s, i));
        atomic_store_explicit(st, rc == 0 ? NG_SLOT_DONE : NG_SLOT_FAILED, memory_order_release);
    }
}

static void *serve_main(void *arg)
{
    ng_slots *s = arg;
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    pthread_mutex_lock(&s->lock);
    while (!ng_slots_stopping(s)) {
        due.tv_nsec += (long)s->period_ms * 1000000L;
        due.tv_sec += due.tv_nsec / 1000000000L;
        due.tv_nsec %= 1000000000L;
        while (!ng_slots_stopping(s) && pthread_cond_timedwait(&s->wake, &s->lock, &due) == 0)
            ;   /* spurious wake-ups: sleep on to the due time (an error: go on) */
        if (ng_slots_stopping(s))
            break;
        pthread_mutex_unlock(&s->lock);
        if (s->answer)
            answer_asked(s);
        if (s->tick && !ng_slots_stopping(s))
            s->tick(s->arg);
        clock_gettime(CLOCK_MONOTONIC, &due);   /* a long tick does not make a burst */
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int ng_slots_serve(ng_slots *s, int period_ms, ng_slots_answer_fn answer, ng_slots_tick_fn tick,
                   void *arg)
{
    if (!s || s->thread_pid || period_ms < 1)
        return -1;
    s->period_ms = period_ms;
    s->answer = answer;
    s->tick = tick;
    s->arg = arg;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    int ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&s->wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        return -1;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        pthread_cond_destroy(&s->wake);
        return -1;
    }
    if (pthread_create(&s->thread, NULL, serve_main, s) != 0) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        return -1;
    }
    s->thread_pid = getpid();
    return 0;
}

void ng_slots_free(ng_slots *s)
{
    if (!s)
        return;
    if (s->thread_pid && s->thread_pid == getpid()) {
        pthread_mutex_lock(&s->lock);
        atomic_store_explicit(&s->stop, 1, memory_order_release);
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
    }
    munmap(s->mem, s->len);
    free(s);
}
