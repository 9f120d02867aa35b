/* Audit record lines (lib/record.c) and whole files through the report
 * (lib/report.c), and --since strings: never crashes or reads past the
 * input (the line is copied to a buffer of exactly its size), the counts
 * add up, a record's local pages never exceed its pages. */
#include "fuzz.h"
#include "private/record.h"
#include "private/report.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *line = malloc(n ? n : 1), why[256], err[1024];
    if (!line)
        return 0;
    memcpy(line, d, n);
    ng_record r;
    if (ng_record_parse(line, n, &r, why, sizeof(why)) == NG_REC_OK)
        FZ_ASSERT(r.local_pages <= r.pages && r.hp.nnodes <= NG_RECORD_MAX_HP_NODES &&
                  r.schema >= 1 && r.schema <= NG_AUDIT_SCHEMA);
    ng_report *rep = ng_report_new(NULL);
    if (rep) {
        ng_report_add_text(rep, "fuzz.json", line, n, 0);
        const ng_report_input *in = ng_report_input_counts(rep);
        unsigned long schemas = 0;
        for (int s = 0; s <= NG_AUDIT_SCHEMA; s++)
            schemas += in->by_schema[s];
        FZ_ASSERT(schemas == in->records && in->used + in->filtered +
                  in->problems[NG_PROB_DUPLICATE] == in->records);
        FZ_ASSERT(ng_report_total(rep)->tasks == in->used);
        free(ng_report_json(rep, 0));
        free(ng_report_text(rep, 3));
        free(ng_report_problems(rep, 5));
        ng_report_free(rep);
    }
    char *s = fz_str(d, n < 64 ? n : 64);
    long long since;
    if (s && ng_since_parse(s, 1764500000, &since, err, sizeof(err)) == 0)
        FZ_ASSERT(since <= 1764500000);
    free(s);
    free(line);
    return 0;
}
