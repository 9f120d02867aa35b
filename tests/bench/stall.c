/* stall GIB MAPPINGS: a process holding GIB GiB touched over MAPPINGS
 * mappings, with a thread timing mmap+munmap (what a training process does
 * all the time) to see how long an audit sampler stalls it. Prints "ready";
 * on stdin "report" prints the worst latency (us) since the last report.
 * Used by tests/bench/run.sh. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile long worst_ns;
static volatile int stop;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *timer(void *arg)
{
    (void)arg;
    while (!stop) {
        long t0 = now_ns();
        void *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED)
            munmap(p, 1 << 16);
        long d = now_ns() - t0;
        if (d > worst_ns)
            worst_ns = d;
        usleep(200);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    size_t gib = strtoul(argv[1], NULL, 10), nmap = strtoul(argv[2], NULL, 10);
    if (gib == 0 || nmap == 0)
        return 2;
    size_t each = (gib << 30) / nmap;
    for (size_t i = 0; i < nmap; i++) {
        char *m = mmap(NULL, each, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return 1;
        madvise(m, each, MADV_NOHUGEPAGE);   /* base pages, as pinned host buffers often are */
        for (size_t o = 0; o < each; o += 4096)
            m[o] = 1;
        /* a guard page between mappings keeps them separate VMAs */
        mmap(m + each, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    }
    pthread_t th;
    pthread_create(&th, NULL, timer, NULL);
    printf("ready\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        if (!strncmp(line, "report", 6)) {
            printf("%ld\n", worst_ns / 1000);
            fflush(stdout);
            worst_ns = 0;
        }
    }
    stop = 1;
    pthread_join(th, NULL);
    return 0;
}
