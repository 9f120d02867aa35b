/* Rendering an assignment for the assign tests: "0,1;2" (task rows by ';',
 * GRES indexes by ','). */
#ifndef T_ASSIGN_H
#define T_ASSIGN_H

#include <stdio.h>
#include <string.h>
#include "private/assign.h"

static char *t_rows(const ng_assignment *a, char *buf, size_t len) __attribute__((unused));
static char *t_rows(const ng_assignment *a, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int t = 0; t < a->ntasks; t++) {
        size_t u = strlen(buf);
        snprintf(buf + u, len - u, "%s", t ? ";" : "");
        for (int j = 0; j < a->n[t]; j++) {
            u = strlen(buf);
            snprintf(buf + u, len - u, "%s%u", j ? "," : "", a->gres[t][j]);
        }
    }
    return buf;
}

#endif
