/* Renderings of accelerators and plans: JSON lines (a stable interface),
 * tables and plain-words explanations. Shared by the CLI and the plugin. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private/gpujson.h"
#include "private/util.h"

/* topo --json is schema 1; plan --json 2 since the GPUs took the shared
 * shape (ng_json_rank_gpus): 1 had "gpus" as bus id strings. */
#define TOPO_SCHEMA 1
#define PLAN_SCHEMA 2

static void json_node_array(ng_buf *b, hwloc_const_bitmap_t s)
{
    int i, first = 1;
    ng_buf_add(b, "[");
    hwloc_bitmap_foreach_begin(i, s) {
        ng_buf_add(b, "%s%d", first ? "" : ",", i);
        first = 0;
    } hwloc_bitmap_foreach_end();
    ng_buf_add(b, "]");
}

char *ng_accel_json_line(const ng_accel *a)
{
    ng_buf b = { 0 };
    char cb[1024];
    ng_buf_add(&b, "{\"schema\":%d,\"pci_busid\":\"%s\",\"vendor\":\"%s\","
               "\"vendor_id\":\"0x%04x\",\"device_id\":\"0x%04x\",\"class\":\"0x%04x\","
               "\"osdevs\":", TOPO_SCHEMA, a->busid, a->vendor, a->vendor_id,
               a->device_id, a->class_id);
    ng_buf_json_str(&b, a->osdevs);
    ng_buf_add(&b, ",\"numa_nodes\":");
    json_node_array(&b, a->nodes);
    ng_buf_add(&b, ",\"locality\":\"%s\",\"near_cpus\":\"%s\"}",
               a->locality == NG_LOC_KNOWN ? "known" : "unknown",
               ng_list_str(a->near_cpus, cb, sizeof(cb)));
    return ng_buf_take(&b);
}

void ng_json_rank_gpus(ng_buf *b, const ng_accel *gpus, int ngpus, const char *source)
{
    hwloc_bitmap_t all = hwloc_bitmap_alloc();
    ng_buf_add(b, "\"gpus\":[");
    for (int g = 0; g < ngpus; g++) {
        ng_buf_add(b, "%s{\"pci_busid\":", g ? "," : "");
        ng_buf_json_str(b, gpus[g].busid);
        ng_buf_add(b, ",\"numa_nodes\":");
        json_node_array(b, gpus[g].nodes);
        ng_buf_add(b, ",\"locality\":\"%s\"}",
                   gpus[g].locality == NG_LOC_KNOWN ? "known" : "unknown");
        hwloc_bitmap_or(all, all, gpus[g].nodes);
    }
    ng_buf_add(b, "],\"gpu_nodes\":");
    json_node_array(b, all);
    hwloc_bitmap_free(all);
    ng_buf_add(b, ",\"gpu_source\":");
    if (source)
        ng_buf_json_str(b, source);
    else
        ng_buf_add(b, "null");
}

char *ng_plan_json_line(const ng_plan *p, int r)
{
    const ng_rank_plan *rp = &p->ranks[r];
    ng_buf b = { 0 };
    char cb[4096], mb[1024], hb[1024];
    ng_buf_add(&b, "{\"schema\":%d,\"rank\":%d,\"mode\":\"%s\",\"mem\":\"%s\",",
               PLAN_SCHEMA, rp->rank, ng_mode_name(p->mode),
               ng_memopt_name((ng_memopt)p->mem));
    ng_json_rank_gpus(&b, rp->gpus, rp->ngpus, NULL);
    ng_buf_add(&b, ",\"home\":\"%s\",\"cpus\":\"%s\",\"mems\":\"%s\",\"policy\":\"%s\","
               "\"verdict\":\"%s\",\"strict_ok\":%s,\"omp_num_threads\":%d,"
               "\"omp_places\":",
               ng_list_str(rp->home, hb, sizeof(hb)), ng_list_str(rp->cpus, cb, sizeof(cb)),
               ng_list_str(rp->mems, mb, sizeof(mb)), ng_mempol_name(rp->policy),
               ng_verdict_name(rp->verdict), rp->infeasible ? "false" : "true",
               rp->omp_threads);
    ng_buf_json_str(&b, rp->omp_places);
    ng_buf_add(&b, ",\"nics\":[");
    for (int i = 0; i < rp->nnics; i++) {
        ng_buf_add(&b, "%s", i ? "," : "");
        ng_buf_json_str(&b, rp->nics[i].name);
    }
    ng_buf_add(&b, "],\"nic_near\":\"%s\",\"reason\":",
               rp->nnics ? ng_nearness_name(rp->nics[0].near) : "");
    ng_buf_json_str(&b, rp->reason);
    ng_buf_add(&b, "}");
    return ng_buf_take(&b);
}

char *ng_plan_table(const ng_plan *p)
{
    ng_buf b = { 0 };
    char cb[4096], mb[1024];
    ng_buf_add(&b, "%-5s %-30s %-24s %-8s %-11s %s\n", "RANK", "GPUS", "CPUS", "MEMS",
               "POLICY", "VERDICT");
    for (int r = 0; r < p->nranks; r++) {
        const ng_rank_plan *rp = &p->ranks[r];
        char gl[512] = "-";
        for (int g = 0; g < rp->ngpus; g++) {
            size_t u = g ? strlen(gl) : 0;
            snprintf(gl + u, sizeof(gl) - u, "%s%s", g ? "," : "", rp->gpus[g].busid);
        }
        ng_buf_add(&b, "%-5d %-30s %-24s %-8s %-11s %s\n", rp->rank, gl,
                   ng_list_str(rp->cpus, cb, sizeof(cb)), ng_list_str(rp->mems, mb, sizeof(mb)),
                   ng_mempol_name(rp->policy), ng_verdict_name(rp->verdict));
    }
    if (!p->ok)
        ng_buf_add(&b, "error: %s\n", p->error);
    return ng_buf_take(&b);
}

char *ng_plan_explain(const ng_topo *t, const ng_plan *p)
{
    ng_buf b = { 0 };
    char cb[4096], mb[1024];
    hwloc_topology_t h = ng_topo_hwloc(t);
    ng_buf_add(&b, "topology %s: %d NUMA nodes (%d with CPUs), %d cores, %d PUs; "
               "allowed cpus %s, mems %s\n", ng_topo_source(t),
               hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE), ng_topo_cpu_node_count(t),
               hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE),
               hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU),
               ng_list_str(p->allowed_cpus, cb, sizeof(cb)),
               ng_list_str(p->allowed_mems, mb, sizeof(mb)));
    ng_buf_add(&b, "mode %s: %s\n", ng_mode_name(p->mode),
               p->mode == NG_MODE_STRICT ? "memory bound to the GPU's node; a rank whose "
               "GPU node is not usable fails"
               : p->mode == NG_MODE_INTERLEAVE ? "memory interleaved over the rank's nodes"
               : p->mode == NG_MODE_OFF ? "nothing is applied"
               : p->mode == NG_MODE_EXPLAIN ? "dry run of prefer, nothing is applied"
               : "memory preferred on the GPU's node; unusable nodes fall back to the "
                 "nearest allowed one with a warning");
    if (p->policy_note[0])
        ng_buf_add(&b, "cores: %s\n", p->policy_note);
    for (int r = 0; r < p->nranks; r++) {
        const ng_rank_plan *rp = &p->ranks[r];
        ng_buf_add(&b, "rank %d [%s]: %s\n", rp->rank, ng_verdict_name(rp->verdict),
                   rp->reason);
        ng_buf_add(&b, "  OMP_NUM_THREADS=%d OMP_PLACES=%s OMP_PROC_BIND=close\n",
                   rp->omp_threads, rp->omp_places);
        char nics[512];
        ng_plan_nic_list(rp, 0, nics, sizeof(nics));
        if (rp->nnics && rp->nics[0].near == NG_NEAR_FAR)
            ng_buf_add(&b, "  NICs %s (remote: none within the package of its %s; the nearest "
                       "by NUMA distance)\n", nics, rp->ngpus ? "GPUs" : "node");
        else if (rp->nnics)
            ng_buf_add(&b, "  NICs %s (nearest %s: %s)\n", nics,
                       rp->ngpus ? "to its GPUs" : "to its node",
                       ng_nearness_name(rp->nics[0].near));
        else
            ng_buf_add(&b, "  NICs: none within the package of its %s\n",
                       rp->ngpus ? "GPUs" : "node");
    }
    if (!p->ok)
        ng_buf_add(&b, "error: %s\n", p->error);
    return ng_buf_take(&b);
}

char *ng_plan_nic_list(const ng_rank_plan *rp, int nearest, char *buf, size_t len)
{
    size_t u = 0;
    buf[0] = '\0';
    for (int i = 0; i < rp->nnics && u < len; i++) {
        if (nearest && rp->nics[i].near != rp->nics[0].near)
            break;
        int w = rp->nics[i].kind == NG_NIC_RDMA
              ? snprintf(buf + u, len - u, "%s%s:%d", u ? "," : "", rp->nics[i].name,
                         rp->nics[i].port)
              : snprintf(buf + u, len - u, "%s%s", u ? "," : "", rp->nics[i].name);
        if (w < 0 || (size_t)w >= len - u) {   /* whole names only */
            buf[u] = '\0';
            break;
        }
        u += (size_t)w;
    }
    return buf;
}
