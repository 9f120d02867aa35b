/* Shared by the libFuzzer harnesses: the input as a NUL-terminated string. */
#ifndef NG_FUZZ_H
#define NG_FUZZ_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
__attribute__((unused)) static char *fz_str(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, d, n);
        s[n] = '\0';
    }
    return s;
}
/* A getenv callback that answers every name with ctx (the input). */
__attribute__((unused)) static const char *fz_getenv_all(const char *name, void *ctx)
{
    (void)name;
    return ctx;
}
#define FZ_ASSERT(c) do { if (!(c)) abort(); } while (0)
#endif
