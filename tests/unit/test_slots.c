/* The shared-slot step service (lib/slots.c): forked tasks ask, the
 * parent's thread answers in the shared slot; a deadline passes when nobody
 * answers (and the late request is withdrawn); 16 tasks ask at once; marks
 * carry a task's data to the parent; stopping never waits out a period. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "private/slots.h"

typedef struct { int x, y; char msg[64]; } req;

static atomic_int answered;

/* Double x; a negative x is refused with a message. */
static int doubler(void *arg, int i, void *data)
{
    (void)arg;
    req *r = data;
    atomic_fetch_add(&answered, 1);
    if (r->x < 0) {
        snprintf(r->msg, sizeof(r->msg), "slot %d: negative %d", i, r->x);
        return -1;
    }
    r->y = 2 * r->x;
    return 0;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Fork a task that asks slot i for x and exits 0 when the answer is what
 * doubler gives (or its refusal, for negative x); the child's pid. */
static pid_t task_asks(ng_slots *s, int i, int x, int timeout_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        req *r = ng_slots_data(s, i);
        r->x = x;
        r->y = 0;
        int got = ng_slots_ask(s, i, timeout_ms);
        int ok = x >= 0 ? got == NG_SLOT_DONE && r->y == 2 * x
                        : got == NG_SLOT_FAILED && strstr(r->msg, "negative") != NULL;
        _exit(ok ? 0 : 10 + (got < 0 ? 9 : got));
    }
    return pid;
}

static int exit_code(pid_t pid)
{
    int st = 0;
    if (pid <= 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static void ask_answer(void)
{
    t_begin("slots/forked-task-asks-thread-answers");
    atomic_store(&answered, 0);
    ng_slots *s = ng_slots_new(2, sizeof(req));
    CHECK(s && ng_slots_serve(s, 2, doubler, NULL, NULL) == 0, "no service");
    if (s) {
        int rc = exit_code(task_asks(s, 1, 21, 5000));
        CHECK(rc == 0, "task exited %d", rc);
        const req *r = ng_slots_data(s, 1);
        CHECK(r->y == 42, "parent's view of the answer: %d", r->y);
        CHECK(atomic_load(&answered) == 1, "answered %d times", atomic_load(&answered));
        CHECK(ng_slots_data(s, 2) == NULL && ng_slots_data(s, -1) == NULL, "out of range slot");
    }
    ng_slots_free(s);
    t_end();

    t_begin("slots/refusal-reaches-the-task");
    s = ng_slots_new(1, sizeof(req));
    CHECK(s && ng_slots_serve(s, 2, doubler, NULL, NULL) == 0, "no service");
    if (s) {
        int rc = exit_code(task_asks(s, 0, -3, 5000));
        CHECK(rc == 0, "task exited %d", rc);
    }
    ng_slots_free(s);
    t_end();
}

static void deadline(void)
{
    t_begin("slots/deadline-passes-when-nobody-answers");
    atomic_store(&answered, 0);
    ng_slots *s = ng_slots_new(1, sizeof(req));
    CHECK(s != NULL, "no slots");
    if (s) {
        double t0 = now_ms();
        pid_t pid = task_asks(s, 0, 5, 300);
        int rc = exit_code(pid);
        double took = now_ms() - t0;
        CHECK(rc == 19, "task exited %d, wanted 19 (no answer)", rc);
        CHECK(took >= 300 && took < 3000, "waited %.0f ms for a 300 ms deadline", took);
        /* The late request was withdrawn: a service started now leaves it. */
        CHECK(ng_slots_serve(s, 2, doubler, NULL, NULL) == 0, "no service");
        usleep(100000);
        CHECK(atomic_load(&answered) == 0, "a withdrawn request was answered");
    }
    ng_slots_free(s);
    t_end();
}

static void many(void)
{
    enum { N = 16 };
    t_begin("slots/16-tasks-ask-at-once");
    atomic_store(&answered, 0);
    ng_slots *s = ng_slots_new(N, sizeof(req));
    CHECK(s && ng_slots_serve(s, 2, doubler, NULL, NULL) == 0, "no service");
    pid_t pid[N];
    for (int i = 0; s && i < N; i++)
        pid[i] = task_asks(s, i, 100 + i, 10000);
    for (int i = 0; s && i < N; i++) {
        int rc = exit_code(pid[i]);
        CHECK(rc == 0, "task %d exited %d", i, rc);
        const req *r = ng_slots_data(s, i);
        CHECK(r->y == 2 * (100 + i), "slot %d holds %d", i, r->y);
    }
    CHECK(atomic_load(&answered) == N, "answered %d of %d", atomic_load(&answered), N);
    ng_slots_free(s);
    t_end();
}

static atomic_int ticks;
static void count_tick(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ticks, 1);
}

static void marks_and_stop(void)
{
    t_begin("slots/marks-carry-a-task-s-data");
    ng_slots *s = ng_slots_new(3, sizeof(req));
    CHECK(s && ng_slots_marks(s, 2) == 0, "fresh slot marked");
    pid_t pid = s ? fork() : -1;
    if (pid == 0) {
        req *r = ng_slots_data(s, 2);
        r->y = 7;
        ng_slots_mark(s, 2, 1);
        ng_slots_mark(s, 2, 4);
        ng_slots_free(s);   /* a task's free only unmaps its view */
        _exit(0);
    }
    CHECK(exit_code(pid) == 0, "task failed");
    if (s) {
        const req *r = ng_slots_data(s, 2);
        CHECK(ng_slots_marks(s, 2) == 5 && r->y == 7, "marks %d data %d", ng_slots_marks(s, 2),
              r->y);
        CHECK(ng_slots_marks(s, 1) == 0, "the neighbour got marked");
    }
    ng_slots_free(s);
    t_end();

    t_begin("slots/ticks-run-and-stop-is-immediate");
    atomic_store(&ticks, 0);
    s = ng_slots_new(1, 8);
    CHECK(s && ng_slots_serve(s, 10, NULL, count_tick, NULL) == 0, "no service");
    CHECK(s && ng_slots_serve(s, 10, NULL, count_tick, NULL) < 0, "served twice");
    usleep(200000);
    ng_slots_free(s);
    int n = atomic_load(&ticks);
    CHECK(n >= 5 && n <= 25, "%d ticks of 10 ms in 200 ms", n);
    s = ng_slots_new(1, 8);
    CHECK(s && ng_slots_serve(s, 60000, NULL, count_tick, NULL) == 0, "no service");
    double t0 = now_ms();
    ng_slots_free(s);
    CHECK(now_ms() - t0 < 1000, "stopping waited %.0f ms of a 60 s period", now_ms() - t0);
    CHECK(ng_slots_new(0, 8) == NULL && ng_slots_new(70000, 8) == NULL, "bad counts accepted");
    t_end();
}

int main(void)
{
    ask_answer();
    deadline();
    many();
    marks_and_stop();
    T_EXIT();
}
