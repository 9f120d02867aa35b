/* memhelper [MB]: print what the kernel says about this process's placement,
 * one key=value per line, after first-touching MB MiB (default 0):
 *   cpus=<Cpus_allowed_list> mems_allowed=<Mems_allowed_list>
 *   policy=<default|preferred|bind|interleave|local|preferred_many> policy_nodes=<list>
 *   pages=<node>:<count>,...   (from /proc/self/numa_maps, the touched area)
 * Used by the Slurm and VM tests to assert real outcomes. */
#define _GNU_SOURCE
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

int main(int argc, char **argv)
{
    static const char *names[] = { "default", "preferred", "bind", "interleave", "local",
                                   "preferred_many" };
    long mb = argc > 1 ? atol(argv[1]) : 0;
    char *mem = NULL;
    if (mb > 0) {
        mem = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
            return 1;
        for (long i = 0; i < mb << 20; i += 4096)
            mem[i] = 1;
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
        FILE *f = fopen("/proc/self/numa_maps", "r");
        char line[8192], addr[32];
        snprintf(addr, sizeof(addr), "%lx ", (unsigned long)mem);
        while (f && fgets(line, sizeof(line), f))
            if (!strncmp(line, addr, strlen(addr))) {
                printf("pages=");
                int first = 1;
                for (char *t = strtok(line, " \n"); t; t = strtok(NULL, " \n"))
                    if (t[0] == 'N' && strchr(t, '=')) {
                        printf("%s%s", first ? "" : ",", t + 1);
                        first = 0;
                    }
                printf("\n");
            }
        if (f)
            fclose(f);
    }
    return 0;
}
