/* The root-owned line ledger (lib/ledger.c) with a toy kind of "id count"
 * lines: append, read back, remove; damaged, unsafe and missing files;
 * 8 forked appenders each leave every line exactly once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "private/ledger.h"

typedef struct { int id, count; } toy;

static int toy_parse(char *line, void *out)
{
    toy *e = out;
    char extra;
    return sscanf(line, "%d %d %c", &e->id, &e->count, &extra) == 2 && e->id >= 0 ? 0 : -1;
}

static void toy_format(ng_buf *b, const void *p)
{
    const toy *e = p;
    ng_buf_add(b, "%d %d\n", e->id, e->count);
}

static const ng_ledger_kind kind = {
    .file = "toy.ledger", .lock = "toy.lock", .what = "toy", .refuse = "count toys",
    .header = "# toy ledger v1: id count\n", .entry_size = sizeof(toy), .max_line = 32,
    .parse = toy_parse, .format = toy_format,
};

static char dir[64], path[128];

static void put(const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void slurp(char *out, size_t len)
{
    out[0] = '\0';
    ng_read_file(path, out, len);
}

static int add(int id, int count, char *err, size_t errlen)
{
    ng_ledger l;
    int rc = ng_ledger_open(&l, &kind, dir, err, errlen);
    toy *e = rc == 0 ? ng_ledger_append(&l) : NULL;
    if (e) {
        e->id = id;
        e->count = count;
        rc = ng_ledger_save(&l, err, errlen);
    }
    ng_ledger_close(&l);
    return e ? rc : -1;
}

static int odd_id(void *arg, void *p)
{
    (*(int *)arg)++;
    return ((toy *)p)->id % 2;
}

static void round_trip(void)
{
    char err[NG_ERRLEN], text[512];
    ng_ledger l;
    t_begin("ledger/missing-file-is-empty");
    unlink(path);
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) == 0 && l.n == 0, "%s", err);
    ng_ledger_close(&l);
    CHECK(access(path, F_OK) < 0, "opening created the ledger");
    t_end();

    t_begin("ledger/append-read-back-remove");
    for (int i = 1; i <= 4; i++)
        CHECK(add(i, 10 * i, err, sizeof(err)) == 0, "add %d: %s", i, err);
    slurp(text, sizeof(text));
    CHECK(!strcmp(text, "# toy ledger v1: id count\n1 10\n2 20\n3 30\n4 40\n"), "file '%s'", text);
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) == 0 && l.n == 4, "%s n %d", err, l.n);
    for (int i = 0; i < l.n; i++) {
        const toy *e = ng_ledger_at(&l, i);
        CHECK(e->id == i + 1 && e->count == 10 * (i + 1), "entry %d: %d %d", i, e->id, e->count);
    }
    int asked = 0;
    CHECK(ng_ledger_keep(&l, odd_id, &asked) == 2 && l.n == 2 && asked == 4, "kept %d of 4", l.n);
    CHECK(ng_ledger_save(&l, err, sizeof(err)) == 0, "%s", err);
    ng_ledger_close(&l);
    slurp(text, sizeof(text));
    CHECK(!strcmp(text, "# toy ledger v1: id count\n1 10\n3 30\n"), "after remove '%s'", text);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
    t_end();

    t_begin("ledger/room-then-appends-keep-their-place");
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) == 0, "%s", err);
    CHECK(ng_ledger_room(&l, 100) == 0 && l.cap >= l.n + 100, "cap %d n %d", l.cap, l.n);
    void *base = l.e;
    for (int i = 0; i < 100; i++)
        ng_ledger_append(&l);
    CHECK(l.e == base && l.n == 102, "moved %d, n %d", l.e != base, l.n);
    ng_ledger_close(&l);
    t_end();
}

static void damaged(void)
{
    char err[NG_ERRLEN], before[512], after[512];
    ng_ledger l;
    static const struct { const char *name, *text; int line, good; } cases[] = {
        { "garbage", "# h\n1 10\nnot numbers\n3 30\n", 3, 1 },
        { "extra-field", "# h\n1 10 7\n", 2, 0 },
        { "too-long", "# h\n1 10\n2 0000000000000000000000000000000000000000\n", 3, 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t_begin("ledger/damaged-%s-refused-file-kept", cases[i].name);
        put(cases[i].text);
        slurp(before, sizeof(before));
        char want[64];
        snprintf(want, sizeof(want), "corrupt at line %d; refusing to count toys", cases[i].line);
        CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) < 0 && strstr(err, want) &&
              strstr(err, "toy ledger"), "'%s', wanted '%s'", err, want);
        CHECK(l.n == cases[i].good, "%d entries read before the damage", l.n);
        ng_ledger_close(&l);
        CHECK(add(9, 9, err, sizeof(err)) < 0, "appended to a damaged ledger");
        slurp(after, sizeof(after));
        CHECK(!strcmp(before, after), "damaged ledger rewritten: '%s'", after);
        t_end();
    }

    t_begin("ledger/fifo-and-symlink-refused");
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) < 0 &&
          strstr(err, "not a regular file owned by uid"), "fifo: '%s'", err);
    ng_ledger_close(&l);
    unlink(path);
    CHECK(symlink("/etc/passwd", path) == 0, "symlink: %s", strerror(errno));
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) < 0 && strstr(err, "toy ledger"),
          "symlink: '%s'", err);
    ng_ledger_close(&l);
    unlink(path);
    t_end();

    t_begin("ledger/unsafe-state-dir-refused");
    chmod(dir, 0777);
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) < 0 &&
          strstr(err, "not group/world-writable"), "'%s'", err);
    ng_ledger_close(&l);
    chmod(dir, 0700);
    t_end();
}

/* Children append under the lock at the same time: none loses another's. */
static void concurrent(void)
{
    enum { KIDS = 8, EACH = 25 };
    char err[NG_ERRLEN];
    t_begin("ledger/8-forked-appenders-every-line-once");
    unlink(path);
    pid_t pid[KIDS];
    for (int k = 0; k < KIDS; k++) {
        pid[k] = fork();
        if (pid[k] == 0) {
            int bad = 0;
            for (int i = 0; i < EACH; i++)
                bad += add(k * EACH + i, k, err, sizeof(err)) < 0;
            _exit(bad ? 1 : 0);
        }
    }
    for (int k = 0; k < KIDS; k++) {
        int st = 0;
        CHECK(pid[k] > 0 && waitpid(pid[k], &st, 0) == pid[k] && WIFEXITED(st) &&
              WEXITSTATUS(st) == 0, "appender %d failed", k);
    }
    ng_ledger l;
    int seen[KIDS * EACH] = { 0 };
    CHECK(ng_ledger_open(&l, &kind, dir, err, sizeof(err)) == 0, "%s", err);
    CHECK(l.n == KIDS * EACH, "%d lines, expected %d", l.n, KIDS * EACH);
    for (int i = 0; i < l.n; i++) {
        const toy *e = ng_ledger_at(&l, i);
        if (e->id >= 0 && e->id < KIDS * EACH && e->count == e->id / EACH)
            seen[e->id]++;
    }
    ng_ledger_close(&l);
    for (int i = 0; i < KIDS * EACH; i++)
        CHECK(seen[i] == 1, "line %d present %d times", i, seen[i]);
    t_end();
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/numa-gpu-ledger.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/toy.ledger", dir);
    round_trip();
    damaged();
    concurrent();
    char lock[128];
    snprintf(lock, sizeof(lock), "%s/toy.lock", dir);
    unlink(path);
    unlink(lock);
    rmdir(dir);
    T_EXIT();
}
