/* Linked only into the ASan build of the plugin (tests/slurm/test_asan.sh):
 * Slurm runs the job epilog's slurmstepd with a clean environment, so the
 * ASan runtime arrives there as a dependency of numa_gpu.so, not preloaded. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "verify_asan_link_order=0";
}
