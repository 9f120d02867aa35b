/* PCI bus ids: the one parser every module uses ("5f:00.0",
 * "00000000:5F:00.0" as nvidia-smi prints, "0000:5f:00.0"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/util.h"

/* n hex digits exactly at p; their value in *v. */
static int hexn(const char *p, size_t n, unsigned long *v)
{
    if (strspn(p, "0123456789abcdefABCDEF") != n)
        return -1;
    char b[16];
    memcpy(b, p, n);
    b[n] = '\0';
    *v = strtoul(b, NULL, 16);
    return 0;
}

int ng_busid_parse(const char *id, char out[NG_BUSID_LEN])
{
    unsigned long dom = 0, bus, dev, fn;
    const char *p = id;
    size_t hex = strspn(p, "0123456789abcdefABCDEF");
    if (hex == 0 || hex > 8)
        return -1;
    /* With domain: D:BB:DD.F (D up to 8 hex digits as nvidia-smi prints). */
    if (p[hex] == ':' && strchr(p + hex + 1, ':')) {
        if (hexn(p, hex, &dom) < 0 || dom > 0xffff)
            return -1;
        p += hex + 1;
    }
    /* BB:DD.F: 1-2 hex digits each for bus and device, one for function;
     * nothing else (no sign, no space). */
    size_t nb = strspn(p, "0123456789abcdefABCDEF");
    if (nb < 1 || nb > 2 || hexn(p, nb, &bus) < 0 || p[nb] != ':')
        return -1;
    p += nb + 1;
    size_t nd = strspn(p, "0123456789abcdefABCDEF");
    if (nd < 1 || nd > 2 || hexn(p, nd, &dev) < 0 || p[nd] != '.')
        return -1;
    p += nd + 1;
    if (hexn(p, 1, &fn) < 0 || p[1] != '\0' || dev > 0x1f || fn > 7)
        return -1;
    snprintf(out, NG_BUSID_LEN, "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn);
    return 0;
}
