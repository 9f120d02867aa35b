/* Interrupts of a job's GPUs and NICs: which CPUs they are routed to
 * (/proc/irq/N/smp_affinity_list) against the CPUs of the device's own
 * NUMA node, steering the remote ones there (root), and giving every change
 * back. Each change is recorded in <state_dir>/irq.ledger under flock, so a
 * restore (the job epilog, or `numa-gpu irq --restore`) undoes exactly what
 * was done, and an IRQ another job already steered is left to it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private/accel.h"
#include "private/irq.h"
#include "private/ledger.h"
#include "private/slurmstep.h"
#include "private/util.h"

#define MAX_IRQS_PER_DEVICE 4096
#define LEDGER_HEADER "# numa-gpu irq ledger v1: job irq busid old_affinity new_affinity\n"

static const char *root_of(const char *r, const char *dflt)
{
    return r && *r ? r : dflt;
}

/* /proc/interrupts: the description of irq (the text after the per-CPU
 * counts and the chip name, e.g. "nvidia" or "mlx5_comp3@pci:0000:4d:00.0"). */
static void irq_name(const char *procfs, int irq, char *out, size_t len)
{
    char path[4200], *line = NULL;
    size_t cap = 0;
    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/interrupts", procfs);
    FILE *f = fopen(path, "re");
    while (f && getline(&line, &cap, f) > 0) {
        char *end;
        long n = strtol(line, &end, 10);
        if (end == line || *end != ':' || n != irq)
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *last = strrchr(line, ' ');
        snprintf(out, len, "%s", last ? last + 1 : "");
        break;
    }
    free(line);
    if (f)
        fclose(f);
}

static int read_affinity(const char *procfs, int irq, hwloc_bitmap_t set)
{
    char path[4200], buf[8192];
    snprintf(path, sizeof(path), "%s/irq/%d/smp_affinity_list", procfs, irq);
    long n = ng_read_file(path, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return ng_list_parse(buf, set);
}

static int irq_cmp(const void *a, const void *b)
{
    return ((const ng_irq *)a)->irq - ((const ng_irq *)b)->irq;
}

/* The IRQ numbers of one PCI device: its MSI/MSI-X vectors, else the
 * legacy line. */
static int device_irqs(const char *sysfs, const char *busid, int **out, int *n, char *err,
                       size_t errlen)
{
    char path[4200];
    int cap = 16, k = 0;
    int *v = malloc((size_t)cap * sizeof(int));
    if (!v)
        return ng_err(err, errlen, "out of memory");
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/msi_irqs", sysfs, busid);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        unsigned long long x;
        if (e->d_name[0] == '.' || ng_parse_u64(e->d_name, 1, 1u << 24, &x) < 0)
            continue;
        if (k == MAX_IRQS_PER_DEVICE) {
            closedir(d);
            free(v);
            return ng_err(err, errlen, "%s: more than %d MSI vectors", busid,
                          MAX_IRQS_PER_DEVICE);
        }
        if (k == cap) {
            int *nv = realloc(v, (size_t)(cap *= 2) * sizeof(int));
            if (!nv) {
                closedir(d);
                free(v);
                return ng_err(err, errlen, "out of memory");
            }
            v = nv;
        }
        v[k++] = (int)x;
    }
    if (d)
        closedir(d);
    if (k == 0) {
        char buf[32];
        unsigned long long x;
        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/irq", sysfs, busid);
        if (ng_read_file(path, buf, sizeof(buf)) > 0) {
            buf[strcspn(buf, "\n")] = '\0';
            if (ng_parse_u64(buf, 1, 1u << 24, &x) == 0)
                v[k++] = (int)x;
        }
    }
    *out = v;
    *n = k;
    return 0;
}

int ng_irq_list(const ng_topo *t, const ng_irq_ctx *c, const ng_irq_device *devs, int ndevs,
                ng_irq **out, int *nout, char *err, size_t errlen)
{
    const char *procfs = root_of(c->procfs, "/proc"), *sysfs = root_of(c->sysfs, "/sys");
    ng_irq *v = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    *nout = 0;
    for (int d = 0; d < ndevs; d++) {
        int *irqs = NULL, k = 0;
        ng_accel a;
        if (device_irqs(sysfs, devs[d].busid, &irqs, &k, err, errlen) < 0) {
            ng_irq_list_free(v, n);
            return -1;
        }
        hwloc_bitmap_t node_cpus = hwloc_bitmap_alloc();
        char e[NG_ERRLEN];
        if (ng_accel_lookup(t, devs[d].busid, &a, e, sizeof(e)) == 0) {
            if (a.locality == NG_LOC_KNOWN)
                ng_accel_node_cpus(t, &a, node_cpus);
            ng_accel_clear(&a);
        }
        for (int i = 0; i < k; i++) {
            if (n == cap) {
                ng_irq *nv = realloc(v, (size_t)(cap = cap ? 2 * cap : 16) * sizeof(*v));
                if (!nv) {
                    free(irqs);
                    hwloc_bitmap_free(node_cpus);
                    ng_irq_list_free(v, n);
                    return ng_err(err, errlen, "out of memory");
                }
                v = nv;
            }
            ng_irq *q = &v[n];
            memset(q, 0, sizeof(*q));
            q->irq = irqs[i];
            snprintf(q->busid, sizeof(q->busid), "%s", devs[d].busid);
            snprintf(q->device, sizeof(q->device), "%s", devs[d].label);
            q->affinity = hwloc_bitmap_alloc();
            q->node_cpus = hwloc_bitmap_dup(node_cpus);
            n++;
            if (read_affinity(procfs, q->irq, q->affinity) < 0) {
                q->state = "vanished";   /* listed by sysfs, gone from /proc/irq */
                continue;
            }
            irq_name(procfs, q->irq, q->name, sizeof(q->name));
            q->state = hwloc_bitmap_iszero(q->node_cpus) ? "unknown"
                     : hwloc_bitmap_isincluded(q->affinity, q->node_cpus) ? "local"
                     : hwloc_bitmap_intersects(q->affinity, q->node_cpus) ? "spread" : "remote";
        }
        free(irqs);
        hwloc_bitmap_free(node_cpus);
    }
    if (n > 1)
        qsort(v, (size_t)n, sizeof(*v), irq_cmp);
    *out = v;
    *nout = n;
    return 0;
}

void ng_irq_list_free(ng_irq *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        hwloc_bitmap_free(v[i].affinity);
        hwloc_bitmap_free(v[i].node_cpus);
    }
    free(v);
}

/* ------------------------------------------------------------- ledger */

typedef struct {
    unsigned long job;
    int irq;
    char busid[NG_BUSID_LEN];
    char old[1024], new_[1024];
} entry;

/* One ledger line: job, IRQ, bus id and two CPU lists. */
static int ledger_line(char *line, void *out)
{
    entry *e = out;
    char job[32], irq[16];
    hwloc_bitmap_t chk = hwloc_bitmap_alloc();
    unsigned long long j, q;
    int ok = chk &&
             sscanf(line, "%31s %15s %15s %1023s %1023s", job, irq, e->busid, e->old,
                    e->new_) == 5 &&
             ng_parse_u64(job, 0, 4294967295ull, &j) == 0 &&
             ng_parse_u64(irq, 1, 1u << 24, &q) == 0 &&
             ng_list_parse(e->old, chk) == 0 && ng_list_parse(e->new_, chk) == 0;
    hwloc_bitmap_free(chk);
    if (!ok)
        return -1;
    e->job = (unsigned long)j;
    e->irq = (int)q;
    return 0;
}

static void ledger_format(ng_buf *b, const void *p)
{
    const entry *e = p;
    ng_buf_add(b, "%lu %d %s %s %s\n", e->job, e->irq, e->busid, e->old, e->new_);
}

static const ng_ledger_kind irq_ledger = {
    .file = "irq.ledger", .lock = "irq.lock", .what = "irq", .refuse = "change IRQs",
    .header = LEDGER_HEADER, .entry_size = sizeof(entry), .max_line = 2199,
    .parse = ledger_line, .format = ledger_format,
};

/* Lock the state and load the ledger: 0, or -1 (l closed). */
static int ledger_open(const char *dir, ng_ledger *l, char *err, size_t errlen)
{
    if (ng_ledger_open(l, &irq_ledger, dir, err, errlen) < 0) {
        ng_ledger_close(l);
        return -1;
    }
    return 0;
}

int ng_irq_steered(const ng_irq_ctx *c, int *n, char *err, size_t errlen)
{
    ng_ledger l;
    if (ledger_open(c->state_dir, &l, err, errlen) < 0)
        return -1;
    *n = l.n;
    ng_ledger_close(&l);
    return 0;
}

/* Write list to /proc/irq/N/smp_affinity_list. */
static int write_affinity(const char *procfs, int irq, const char *list, char *err,
                          size_t errlen)
{
    char path[4200], line[1100];
    snprintf(path, sizeof(path), "%s/irq/%d/smp_affinity_list", procfs, irq);
    /* O_TRUNC as a shell's `echo >` does: procfs ignores it, a file honours it. */
    int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ng_err(err, errlen, "IRQ %d: %s: %s", irq, path,
                      errno == ENOENT ? "the IRQ vanished" : strerror(errno));
    int n = snprintf(line, sizeof(line), "%s\n", list);
    ssize_t w = write(fd, line, (size_t)n);
    int e = errno;
    close(fd);
    if (w != n)
        return ng_err(err, errlen, "IRQ %d: writing '%s' to %s: %s%s", irq, list, path,
                      w < 0 ? strerror(e) : "short write",
                      w < 0 && e == EIO ? " (a kernel-managed IRQ: its affinity is fixed)" : "");
    return 0;
}

int ng_irq_apply(const ng_irq_ctx *c, unsigned long job, ng_irq *v, int n,
                 hwloc_const_bitmap_t avoid, int *changed, char *note, size_t notelen,
                 char *err, size_t errlen)
{
    const char *procfs = root_of(c->procfs, "/proc");
    *changed = 0;
    if (note && notelen)
        note[0] = '\0';
    ng_ledger l;
    if (ledger_open(c->state_dir, &l, err, errlen) < 0)
        return -1;
    int rc = 0, done = 0, start = l.n, held = 0;
    if (ng_ledger_room(&l, n + 1) < 0) {
        ng_ledger_close(&l);
        return ng_err(err, errlen, "out of memory");
    }
    entry *le = l.e;   /* stays put: the appends below fit the room made */
    for (int i = 0; i < n && rc == 0; i++) {
        ng_irq *q = &v[i];
        if (strcmp(q->state, "remote") && strcmp(q->state, "spread"))
            continue;
        /* steered already: by this job (nothing to do; also a legacy line
         * two devices share, listed twice) or another */
        int mine = -1;
        for (int k = 0; k < l.n; k++)
            if (le[k].irq == q->irq)
                mine = k;
        if (mine >= 0) {
            int first = 1;   /* an IRQ two devices share is held once */
            for (int j = 0; j < i; j++)
                first &= v[j].irq != q->irq;
            held += first && mine < start && le[mine].job != job;
            continue;
        }
        hwloc_bitmap_t target = hwloc_bitmap_dup(q->node_cpus);
        if (avoid) {
            hwloc_bitmap_t t2 = hwloc_bitmap_alloc();
            hwloc_bitmap_andnot(t2, target, avoid);
            if (!hwloc_bitmap_iszero(t2))
                hwloc_bitmap_copy(target, t2);
            hwloc_bitmap_free(t2);
        }
        /* The ledger keeps both lists whole or the IRQ is not steered: a
         * list cut short would restore another cpu set. */
        int lo = hwloc_bitmap_iszero(q->affinity) ? 0 : hwloc_bitmap_list_snprintf(NULL, 0, q->affinity);
        int ln = hwloc_bitmap_iszero(target) ? 0 : hwloc_bitmap_list_snprintf(NULL, 0, target);
        if (lo < 0 || ln < 0 || lo >= (int)sizeof(le->old) || ln >= (int)sizeof(le->new_)) {
            hwloc_bitmap_free(target);
            rc = ng_err(err, errlen, "IRQ %d: its cpu list (%d bytes) is longer than the IRQ "
                        "ledger keeps (%zu bytes)", q->irq, lo > ln ? lo : ln,
                        sizeof(le->old) - 1);
            break;
        }
        entry *e = ng_ledger_append(&l);
        e->job = job;
        e->irq = q->irq;
        snprintf(e->busid, sizeof(e->busid), "%s", q->busid);
        ng_list_str(q->affinity, e->old, sizeof(e->old));
        ng_list_str(target, e->new_, sizeof(e->new_));
        hwloc_bitmap_free(target);
        if (write_affinity(procfs, q->irq, e->new_, err, errlen) < 0) {
            l.n--;   /* not changed: not recorded */
            rc = -1;
            break;
        }
        done++;
    }
    if (rc == 0 && done)
        rc = ng_ledger_save(&l, err, errlen);
    if (rc < 0) {
        /* nothing half-changed: put back what this call wrote */
        char e2[NG_ERRLEN];
        for (int k = start; k < start + done; k++)
            if (write_affinity(procfs, le[k].irq, le[k].old, e2, sizeof(e2)) < 0) {
                size_t u = strlen(err);   /* said, never silently left changed */
                snprintf(err + u, errlen > u ? errlen - u : 0, "; IRQ %d not put back to %s: %s",
                         le[k].irq, le[k].old, e2);
            }
        done = 0;
    }
    for (int k = start; k < start + done; k++)   /* the caller's view follows */
        for (int i = 0; i < n; i++)
            if (v[i].irq == le[k].irq) {
                ng_list_parse(le[k].new_, v[i].affinity);
                v[i].state = hwloc_bitmap_isincluded(v[i].affinity, v[i].node_cpus)
                           ? "local" : "spread";
            }
    if (note && notelen && held)
        snprintf(note, notelen, "%d IRQ(s) already steered by another job: left to it", held);
    ng_ledger_close(&l);
    *changed = done;
    return rc;
}

typedef struct {
    const char *procfs;
    unsigned long job;
    int rc, restored, vanished;
    char *err;
    size_t errlen;
} restore_pass;

/* Put one entry's IRQ back: gone from the ledger once restored or vanished,
 * kept (for the next restore) when another job's or not writable. */
static int keep_unrestored(void *arg, void *p)
{
    restore_pass *r = arg;
    const entry *e = p;
    char e2[NG_ERRLEN], path[4200];
    if (r->job && e->job != r->job)
        return 1;
    snprintf(path, sizeof(path), "%s/irq/%d", r->procfs, e->irq);
    if (access(path, F_OK) < 0) {   /* the device went away: nothing to put back */
        r->vanished++;
        return 0;
    }
    if (write_affinity(r->procfs, e->irq, e->old, e2, sizeof(e2)) < 0) {
        if (r->rc == 0)
            ng_err(r->err, r->errlen, "%s", e2);
        r->rc = -1;
        return 1;
    }
    r->restored++;
    return 0;
}

int ng_irq_restore(const ng_irq_ctx *c, unsigned long job, int *restored, char *note,
                   size_t notelen, char *err, size_t errlen)
{
    *restored = 0;
    if (note && notelen)
        note[0] = '\0';
    struct stat st;
    char p[4200];
    snprintf(p, sizeof(p), "%s/irq.ledger", c->state_dir);
    if (lstat(c->state_dir, &st) < 0 || lstat(p, &st) < 0)
        return 0;   /* nothing was ever changed here */
    ng_ledger l;
    if (ledger_open(c->state_dir, &l, err, errlen) < 0)
        return -1;
    restore_pass r = { root_of(c->procfs, "/proc"), job, 0, 0, 0, err, errlen };
    if (ng_ledger_keep(&l, keep_unrestored, &r) > 0) {
        char e3[NG_ERRLEN];
        if (ng_ledger_save(&l, e3, sizeof(e3)) < 0 && r.rc == 0)
            r.rc = ng_err(err, errlen, "%s", e3);
    }
    *restored = r.restored;
    if (note && notelen && r.vanished)
        snprintf(note, notelen, "%d IRQ(s) vanished since they were steered: nothing to restore",
                 r.vanished);
    ng_ledger_close(&l);
    return r.rc;
}

/* ------------------------------------------------------------- devices */

static int add_device(ng_irq_device **devs, int *n, const char *busid, const char *label)
{
    for (int d = 0; d < *n; d++)
        if (!strcmp((*devs)[d].busid, busid))
            return 0;
    ng_irq_device *nd = realloc(*devs, (size_t)(*n + 1) * sizeof(**devs));
    if (!nd)
        return -1;
    *devs = nd;
    snprintf(nd[*n].busid, sizeof(nd[*n].busid), "%s", busid);
    snprintf(nd[*n].label, sizeof(nd[*n].label), "%s", label);
    (*n)++;
    return 0;
}

int ng_irq_devices(const ng_topo *t, const char (*gpus)[NG_BUSID_LEN], int ngpus,
                   const char *nics, ng_irq_device **devs, int *n, char *err, size_t errlen)
{
    ng_nic *v;
    int nv, rc = 0;
    *devs = NULL;
    *n = 0;
    if (ng_nic_list(t, &v, &nv) < 0)
        return ng_err(err, errlen, "out of memory");
    for (int g = 0; g < ngpus && rc == 0; g++)
        rc = add_device(devs, n, gpus[g], "gpu");
    if (nics && strcmp(nics, "none")) {            /* the NICs named */
        char *buf = strdup(nics), *save = NULL;
        rc = buf ? rc : -1;
        for (char *s = buf ? strtok_r(buf, ",", &save) : NULL; s && rc == 0;
             s = strtok_r(NULL, ",", &save)) {
            int k = -1;
            for (int i = 0; i < nv; i++)
                if (!strcmp(v[i].name, s) || (v[i].netdev[0] && !strcmp(v[i].netdev, s)))
                    k = i;
            if (k < 0) {
                ng_buf b = { 0 };
                for (int i = 0; i < nv; i++)
                    ng_buf_add(&b, "%s%s", i ? ", " : "", v[i].name);
                char *known = ng_buf_take(&b);
                rc = ng_err(err, errlen, "unknown NIC '%.64s' (this topology has: %.800s)", s,
                            known && *known ? known : "none");
                free(known);
                break;
            }
            rc = add_device(devs, n, v[k].busid, v[k].name);
        }
        free(buf);
    } else if (!nics) {                            /* the nearest of each GPU */
        for (int g = 0; g < ngpus && rc == 0; g++) {
            ng_accel a;
            ng_rank_nic *rn = NULL;
            int k = 0;
            char e[NG_ERRLEN];
            if (ng_accel_lookup(t, gpus[g], &a, e, sizeof(e)) < 0)
                continue;
            ng_nics_near(t, v, nv, &a, 1, NULL, &rn, &k);
            for (int i = 0; i < k && rn[i].near == rn[0].near && rc == 0; i++)
                for (int j = 0; j < nv; j++)
                    if (!strcmp(v[j].name, rn[i].name))
                        rc = add_device(devs, n, v[j].busid, v[j].name);
            free(rn);
            ng_accel_clear(&a);
        }
    }
    if (rc < 0 && !err[0])
        ng_err(err, errlen, "out of memory");
    if (rc < 0) {
        free(*devs);
        *devs = NULL;
        *n = 0;
    }
    ng_nic_list_free(v, nv);
    return rc;
}

int ng_irq_outside(const ng_irq *v, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += !strcmp(v[i].state, "remote") || !strcmp(v[i].state, "spread");
    return k;
}

int ng_irq_step(const ng_topo *t, const ng_roots *r, const ng_irq_ctx *c, const unsigned *gres,
                int ngres, int apply, unsigned long job, hwloc_const_bitmap_t avoid, char *msg,
                size_t msglen, char *err, size_t errlen)
{
    char (*bus)[NG_BUSID_LEN] = calloc((size_t)ngres + 1, NG_BUSID_LEN), e[NG_ERRLEN],
         note[NG_ERRLEN];
    ng_irq_device *devs = NULL;
    ng_irq *v = NULL;
    int nb = 0, nd = 0, n = 0, changed = 0, rc = 0;
    msg[0] = '\0';
    if (!bus)
        return ng_err(err, errlen, "out of memory");
    for (int i = 0; i < ngres; i++)
        nb += ng_gres_resolve(t, r, gres[i], NULL, bus[nb], e, sizeof(e)) == 0;
    if (ng_irq_devices(t, (const char (*)[NG_BUSID_LEN])bus, nb, NULL, &devs, &nd, err,
                       errlen) < 0 ||
        ng_irq_list(t, c, devs, nd, &v, &n, err, errlen) < 0) {
        rc = -1;
    } else if (apply) {
        rc = ng_irq_apply(c, job, v, n, avoid, &changed, note, sizeof(note), err, errlen);
        if (rc == 0 && (changed || note[0]))
            snprintf(msg, msglen, "steered %d IRQ(s) of the step's GPUs/NICs to their node%s%s",
                     changed, note[0] ? "; " : "", note);
    } else if (ng_irq_outside(v, n)) {
        snprintf(msg, msglen, "%d of %d IRQ(s) of the step's GPUs/NICs are routed outside "
                 "their device's node (numa-gpu irq --check shows them)", ng_irq_outside(v, n),
                 n);
    }
    ng_irq_list_free(v, n);
    free(devs);
    free(bus);
    return rc;
}
