/* memhelper [-c CPU] [-H] [MB]: print what the kernel says about this
 * process's placement, one key=value per line, after first-touching MB MiB
 * (default 0; -H: of 2 MiB hugetlb pages) from a thread pinned to CPU (-c;
 * like a data loader thread on the wrong socket) or from the main thread:
 *   cpus=<Cpus_allowed_list> mems_allowed=<Mems_allowed_list>
 *   policy=<default|preferred|bind|interleave|local|preferred_many> policy_nodes=<list>
 *   pages=<node>:<count>,...   (from /proc/self/numa_maps, the touched area)
 * Used by the Slurm and VM tests to assert real outcomes. */
#define _GNU_SOURCE
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void status_line(const char *key, const char *out)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[4096];
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, strlen(key))) {
            char *v = line + strlen(key) + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            printf("%s=%s", out, v);
        }
    if (f)
        fclose(f);
}

static char *mem;
static long mb;
static int touch_cpu = -1;

static void *toucher(void *arg)
{
    (void)arg;
    if (touch_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(touch_cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
            perror("memhelper: sched_setaffinity");
    }
    for (long i = 0; i < mb << 20; i += 4096)
        mem[i] = 1;
    return NULL;
}

int main(int argc, char **argv)
{
    static const char *names[] = { "default", "preferred", "bind", "interleave", "local",
                                   "preferred_many" };
    int opt, huge = 0;
    while ((opt = getopt(argc, argv, "c:H")) != -1) {
        if (opt == 'c')
            touch_cpu = atoi(optarg);
        else if (opt == 'H')
            huge = MAP_HUGETLB;
        else
            return 2;
    }
    mb = optind < argc ? atol(argv[optind]) : 0;
    if (mb > 0) {
        mem = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | huge, -1, 0);
        if (mem == MAP_FAILED) {
            perror("memhelper: mmap");
            return 1;
        }
        /* Own VMA (no merge with neighbours), base pages only. */
        if (!huge)
            madvise(mem, (size_t)mb << 20, MADV_NOHUGEPAGE);
        pthread_t th;
        if (pthread_create(&th, NULL, toucher, NULL) != 0 || pthread_join(th, NULL) != 0)
            return 1;
    }
    status_line("Cpus_allowed_list:", "cpus");
    status_line("Mems_allowed_list:", "mems_allowed");
    int mode = 0;
    unsigned long mask[16] = { 0 };
    if (get_mempolicy(&mode, mask, 1024, NULL, 0) == 0) {
        printf("policy=%s\npolicy_nodes=", mode >= 0 && mode < 6 ? names[mode] : "?");
        int first = 1;
        for (int i = 0; i < 1024; i++)
            if (mask[i / 64] & (1UL << (i % 64))) {
                printf("%s%d", first ? "" : ",", i);
                first = 0;
            }
        printf("\n");
    }
    if (mem) {
        /* The numa_maps line of the VMA holding the buffer: the greatest
         * start address not above it. */
        FILE *f = fopen("/proc/self/numa_maps", "r");
        char line[8192], best[8192] = "";
        unsigned long best_start = 0;
        while (f && fgets(line, sizeof(line), f)) {
            unsigned long start = strtoul(line, NULL, 16);
            if (start <= (unsigned long)mem && start >= best_start) {
                best_start = start;
                snprintf(best, sizeof(best), "%s", line);
            }
        }
        if (f)
            fclose(f);
        printf("pages=");
        int first = 1;
        long kb = 4;
        char *k = strstr(best, "kernelpagesize_kB=");
        if (k)
            kb = atol(k + 18);
        for (char *t = strtok(best, " \n"); t; t = strtok(NULL, " \n"))
            if (t[0] == 'N' && strchr(t, '=')) {
                printf("%s%s", first ? "" : ",", t + 1);
                first = 0;
            }
        printf("\npage_kb=%ld\n", kb);
    }
    return 0;
}
