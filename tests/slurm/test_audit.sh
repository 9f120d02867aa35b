#!/bin/bash
# Audit records in a real local Slurm: one JSON line per task in
# audit_dir/<jobid>.json, effective == intended, numa_maps samples that catch
# a task re-binding itself, the epilog summary in the slurmd log, and no
# write through a symlink planted in the audit directory.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite slurm-audit || ng_end
trap lab_stop EXIT
lab_start 1 default=off || { fail lab-start "local cluster did not start"; ng_end; }
A=$LAB/audit
mkdir -m 755 "$A"
lab_plugstack default=off audit_dir="$A" audit_interval=1 audit_warn_local=80
OUT=$LAB/out; mkdir -p "$OUT"
wait_file() { for _ in $(seq 1 40); do [ -s "$1" ] && return 0; sleep 0.25; done; return 1; }

# --- two tasks that live long enough to be sampled
srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c 'echo job=$SLURM_JOB_ID; '$B'/memhelper 8 >/dev/null; sleep 2' \
    >"$OUT/j1" 2>&1
jid=$(sed -n 's/^ *0: job=//p' "$OUT/j1")
rec=$A/$jid.json
wait_file "$rec"
if [ -n "$jid" ] && [ "$(wc -l < "$rec")" -eq 2 ] && jq -e . "$rec" >/dev/null 2>&1 &&
   [ "$(jq -r .task "$rec" | sort | paste -sd,)" = "0,1" ] &&
   [ "$(jq -r '[.schema, .job] | map(tostring) | join(":")' "$rec" | sort -u)" = "$LAB_SCHEMA:$jid" ] &&
   [ "$(jq -r '.sample.method' "$rec" | sort -u)" = sampled ] &&
   [ "$(jq -r '.sample.sample_pages > 0 and .sample.resident_hits > 0' "$rec" | sort -u)" = true ]; then
    pass one-valid-json-line-per-task
else
    fail one-valid-json-line-per-task "job '$jid': $(cat "$rec" 2>&1)"
fi
# The task whose GPU is local: effective equals intended, verdict local.
l=$(jq -c 'select(.verdict == "local")' "$rec" 2>/dev/null | head -1)
[ -n "$l" ] && [ "$(echo "$l" | jq -r '[.effective.cpus, .effective.mems, .effective.policy] == [.intended.cpus, .intended.mems, .intended.policy]')" = true ] &&
    pass effective-equals-intended || fail effective-equals-intended "$l"
# Samples: pages per node, % local, and a sample verdict.
n=$(jq -r 'select(.sample != null and (.sample.pages | length) > 0 and .local_pct != null) | .task' "$rec" | wc -l)
[ "$n" -eq 2 ] && pass numa-maps-sampled || fail numa-maps-sampled "$(jq -c .sample "$rec")"
jq -r .perf "$rec" | grep -qE '^unavailable: .+|remote$' && pass perf-or-reason ||
    fail perf-or-reason "$(jq -r .perf "$rec")"

# --- epilog: summary per task in the slurmd log and audit_dir/<jobid>.summary
wait_file "$A/$jid.summary"
log=$LAB/log/slurmd-lab1.log
[ "$(grep -c "^job $jid task " "$A/$jid.summary" 2>/dev/null)" = 2 ] &&
    grep -q "numa-gpu: job $jid task 0 gpu .* node" "$log" &&
    grep -q "numa-gpu: job $jid: 2 task record(s)" "$log" &&
    pass epilog-summary || fail epilog-summary "$(cat "$A/$jid.summary" 2>&1; grep "numa-gpu: job" "$log")"
# The rank whose GPU node has no memory here is flagged below audit_warn_local.
low=$(jq -r 'select(.local_pct < 80) | .task' "$rec" | wc -l)
[ "$(grep -c 'WARNING: below audit_warn_local' "$A/$jid.summary")" -eq "$low" ] && [ "$low" -ge 1 ] &&
    pass summary-flags-low-locality || fail summary-flags-low-locality "$(cat "$A/$jid.summary")"

# --- a task that re-binds itself to another node's CPU shows it in its sample
srun -n1 -c2 --gpus=1 --numa-gpu=prefer sh -c 'echo job=$SLURM_JOB_ID; c=$(awk "/Cpus_allowed_list/ {print \$2}" /proc/self/status); o=$(( c == 0 ? 1 : 0 )); taskset -pc $o $$ >/dev/null; sleep 2.5' >"$OUT/j2" 2>&1
jid2=$(sed -n 's/^job=//p' "$OUT/j2")
wait_file "$A/$jid2.json"
sv=$(jq -r '.verdict + " " + (.sample.verdict // "none") + " " + (.sample.cpus // "")' "$A/$jid2.json" 2>/dev/null)
case "$sv" in
    "local remote "*|"local partial "*) pass rebinding-shows-in-sample ;;
    *) fail rebinding-shows-in-sample "verdict/sample: '$sv' $(cat "$A/$jid2.json" "$OUT/j2")" ;;
esac

# --- MPI daemon steps get a 'skipped' record with the reason
cp "$B/memhelper" "$LAB/bin/orted"
srun -n1 -c2 --gpus=1 --numa-gpu=strict "$LAB/bin/orted" >"$OUT/j5" 2>&1
sleep 0.5
skipped=$(cat "$A"/*.json | jq -r 'select(.verdict == "skipped") | .reason' | head -1)
[ "$skipped" = "MPI launcher daemon step" ] && pass daemon-step-recorded-as-skipped ||
    fail daemon-step-recorded-as-skipped "reason '$skipped'"

# --- root never writes through a symlink planted in audit_dir
jid6=$(sbatch --parsable --hold -n1 -c2 --gpus=1 --numa-gpu=prefer -o /dev/null --wrap "srun sleep 1.5")
: > "$LAB/victim"
ln -s "$LAB/victim" "$A/$jid6.json"
scontrol release "$jid6"
for _ in $(seq 1 40); do [ -z "$(squeue -h -j "$jid6" 2>/dev/null)" ] && break; sleep 0.25; done
sleep 0.5
# (no job id: the symlink and the log pattern would name no job at all)
[ -n "$jid6" ] && [ ! -s "$LAB/victim" ] && [ -L "$A/$jid6.json" ] && grep -q "audit file .*$jid6.json: .*symlink: refused" "$log" &&
    pass symlink-in-audit-dir-refused || fail symlink-in-audit-dir-refused "victim size $(stat -c %s "$LAB/victim"); $(grep "audit" "$log" | tail -3)"

# --- numa-gpu audit --job renders the records
"$B/numa-gpu" audit --job "$rec" >"$OUT/table" 2>&1 && grep -q "^0 .*local" "$OUT/table" &&
    grep -q "2 task record(s)" "$OUT/table" && pass audit-job-table || fail audit-job-table "$(cat "$OUT/table")"
ng_end
