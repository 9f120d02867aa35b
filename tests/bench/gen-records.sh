#!/bin/sh
# gen-records.sh N OUTDIR [TEMPLATES_DIR]: N audit records shaped like the
# lab's real ones (tests/data/report/lab: every kind of task, with samples,
# hugepages, IRQs, errors) in OUTDIR/<jobid>.json, as a shared audit_dir
# holds them: 1000 tasks per job over 250 nodes and 50 users, one record a
# second. Each record is a template line with its job, task, global_task,
# host, user, uid, time and pid rewritten (the templates are cut at those
# fields once: no regular expression per record).
set -e
n=$1
out=$2
templates=${3:-tests/data/report/lab}
mkdir -p "$out"
find "$templates" -name '*.json' -type f | sort | xargs cat | awk -v n="$n" -v out="$out" '
    { t[nt++] = $0 }
    END {
        if (!nt) { print "gen-records: no template records" > "/dev/stderr"; exit 1 }
        nf = split("job task global_task host user uid time pid", key, " ")
        split("0 0 0 1 1 0 0 0", quoted, " ")
        for (k = 0; k < nt; k++) {
            rest = t[k]
            for (f = 1; f <= nf; f++) {
                re = quoted[f] ? "\"" key[f] "\":\"[^\"]*\"" : "\"" key[f] "\":[0-9]+"
                if (!match(rest, re)) { print "gen-records: no " key[f] " in " t[k] > "/dev/stderr"; exit 1 }
                seg[k, f] = substr(rest, 1, RSTART - 1) "\"" key[f] "\":" (quoted[f] ? "\"" : "")
                rest = (quoted[f] ? "\"" : "") substr(rest, RSTART + RLENGTH)
            }
            tail[k] = rest
        }
        job = 0
        for (i = 0; i < n; i++) {
            if (i % 1000 == 0) {
                if (job) close(file)
                job = 100000 + int(i / 1000)
                file = out "/" job ".json"
                user = (job * 7) % 50
            }
            task = i % 1000
            k = i % nt
            v[1] = job; v[2] = task % 8; v[3] = task
            v[4] = sprintf("gpu%03d", (job * 4 + int(task / 8)) % 250)
            v[5] = "user" user; v[6] = 2000 + user; v[7] = 1764000000 + i; v[8] = 10000 + i % 4000000
            s = ""
            for (f = 1; f <= nf; f++)
                s = s seg[k, f] v[f]
            print s tail[k] > file
        }
    }'
