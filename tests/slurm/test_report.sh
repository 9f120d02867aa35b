#!/bin/bash
# numa-gpu report over what real jobs wrote on a 2-node lab (both slurmds
# append to one shared audit_dir, as on a shared filesystem): a prefer job
# on both nodes with samples, hugepages and steered IRQs, a strict job of
# another user whose GPU-1 tasks are refused, a prefer job whose GPU 1
# cannot be resolved (its tasks run unbound), an MPI daemon step. The
# records carry the current schema's fields (IRQs steered for the user's job too);
# the report's rows per job, node and user equal what jq computes from the
# same records (tests/data/report/expect.jq); the table says the same; the
# filters select what they name.
# NG_REPORT_CAPTURE=DIR copies the records into DIR, one subdirectory per
# host (how tests/data/report/lab was made).
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
D=tests/data/report
lab_suite slurm-report jq || ng_end
NR=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
U=ngtestuser
id "$U" >/dev/null 2>&1 || useradd -M -s /bin/sh "$U" 2>/dev/null
trap lab_stop EXIT
lab_start 2 default=off || { fail lab-start "local cluster did not start"; ng_end; }
A=$LAB/audit
mkdir -m 755 "$A"
OUT=$LAB/out; mkdir -m 777 "$OUT"
# Fake interrupts of the lab's GPUs and HCAs, routed away from their nodes
# (as tests/slurm/test_slurm.sh): irq=apply steers them.
N=$(getconf _NPROCESSORS_ONLN); [ "$N" -le 60 ] || N=60
rng() { [ "$1" = "$2" ] && echo "$1" || echo "$1-$2"; }
N0=$(rng 0 $((N / 2 - 1))); N1=$(rng $((N / 2)) $((N - 1)))
for spec in 300:0000:01:00.0:$N1 301:0000:02:00.0:$N0 310:0000:11:00.0:$N1 311:0000:12:00.0:$N0; do
    IFS=: read -r irq d1 d2 d3 aff <<< "$spec"
    mkdir -p "$LAB/fake/sys/bus/pci/devices/$d1:$d2:$d3/msi_irqs" "$LAB/fake/proc/irq/$irq"
    : > "$LAB/fake/sys/bus/pci/devices/$d1:$d2:$d3/msi_irqs/$irq"
    echo "$aff" > "$LAB/fake/proc/irq/$irq/smp_affinity_list"
done
lab_plugstack default=off audit_dir="$A" audit_interval=1 irq=apply state_dir="$LAB/state"
HP=""
[ -w "$NR" ] && HP=--numa-gpu-hugepages=4M
jobid() { sed -n 's/^ *0: job=//p' "$1" | head -1; }
# wait_records JOB N: until the job's file has N lines
wait_records() {
    for _ in $(seq 1 40); do
        [ -n "$1" ] && [ "$(cat "$A/$1.json" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
        sleep 0.25
    done
    return 1
}
asuser() { su -s /bin/bash "$U" -c "export SLURM_CONF=$SLURM_CONF; $*"; }

# 1. prefer on both nodes: samples, hugepages (when this kernel lets us), IRQs
srun -l -N2 -n4 --gpus-per-task=1 --numa-gpu=prefer $HP \
    sh -c 'echo job=$SLURM_JOB_ID; '"$B"'/memhelper 8 >/dev/null; sleep 2' >"$OUT/j1" 2>&1
j1=$(jobid "$OUT/j1")
# 2. another user, strict: the tasks whose GPU is on lab node 1 (no memory
# there) are refused, the others run.
asuser "srun -l -N2 -n4 --gpus-per-task=1 --numa-gpu=strict sh -c 'echo job=\$SLURM_JOB_ID'" \
    >"$OUT/j2" 2>&1
j2=$(jobid "$OUT/j2")
# 3. GPU 1 unknown to this node's NVIDIA tree: prefer runs its tasks unbound.
G1=$LAB/fake/proc/driver/nvidia/gpus/0000:02:00.0
mv "$G1" "$G1.hidden"
srun -l -N2 -n4 --gpus-per-task=1 --numa-gpu=prefer sh -c 'echo job=$SLURM_JOB_ID' >"$OUT/j3" 2>&1
mv "$G1.hidden" "$G1"
j3=$(jobid "$OUT/j3")
# 4. an MPI launcher daemon step: recorded as skipped
cp "$B/memhelper" "$LAB/bin/orted"
srun -N1 -n1 -c2 --gpus=1 --numa-gpu=strict "$LAB/bin/orted" >/dev/null 2>&1
j4=""   # the record file that is none of the others'
for _ in $(seq 1 40); do
    for f in "$A"/*.json; do
        n=$(basename "$f" .json)
        [ "$n" != "$j1" ] && [ "$n" != "$j2" ] && [ "$n" != "$j3" ] && j4=$n
    done
    [ -n "$j4" ] && break
    sleep 0.25
done
got=""
for j in "$j1" "$j2" "$j3"; do wait_records "$j" 4 || got="$got job '$j' short;"; done
wait_records "$j4" 1 || got="$got job '$j4' short;"
[ -z "$got" ] && pass records-of-every-job ||
    fail records-of-every-job "$got $(cat "$OUT"/j* | head -20)"
RECS=("$A"/*.json)
ng_nonempty record-files "$(ls "$A"/*.json 2>/dev/null | wc -l)"

# --- the record's fields (the current schema), as the plugin saw them
uid=$(id -u "$U")
all=$(cat "$A"/*.json)
chk() { jq -e -s "$1" <<< "$all" >/dev/null 2>&1; }
[ -n "$LAB_SCHEMA" ] && chk "all(.schema == $LAB_SCHEMA) and ([.[].host] | unique) == [\"lab1\", \"lab2\"]" &&
    pass current-schema-on-both-nodes || fail current-schema-on-both-nodes "want schema '$LAB_SCHEMA': $(jq -c '[.schema, .host]' <<< "$all" | sort | uniq -c)"
chk "map(select(.job == $j2)) | length == 4 and all(.user == \"$U\" and .uid == $uid)" &&
    chk "map(select(.job == $j1)) | all(.user == \"root\" and .uid == 0)" &&
    pass user-and-uid || fail user-and-uid "$(jq -c '[.job, .user, .uid]' <<< "$all")"
chk "map(select(.job == $j1 or .job == $j3)) | all(.plugin_ms > 0 and .plugin_ms < 10000)" &&
    chk "all(.time >= $(date -d '-10 min' +%s) and .time <= $(date +%s))" &&
    pass plugin-ms-and-time || fail plugin-ms-and-time "$(jq -c '[.job, .task, .plugin_ms, .time]' <<< "$all")"
# strict refusals: verdict refused, the error, the task never started
chk "map(select(.job == $j2 and .verdict == \"refused\")) | length >= 1 and
     all(.error | length > 0) and all(.summary | test(\"refused\"))" &&
    [ "$(grep -c 'strict mode, task not started' "$OUT/j2")" -eq \
      "$(jq -s "map(select(.job == $j2 and .verdict == \"refused\")) | length" <<< "$all")" ] &&
    pass strict-refusal-recorded || fail strict-refusal-recorded "$(jq -c "select(.job == $j2) | [.task, .host, .verdict, .error]" <<< "$all"; cat "$OUT/j2")"
chk "map(select(.job == $j3 and .verdict == \"unbound\")) | length >= 1 and all(.error | test(\"GPU|gpu|minor\"))" &&
    chk "map(select(.job == $j3 and .verdict != \"unbound\")) | all(has(\"error\") | not)" &&
    pass unbound-after-error-recorded || fail unbound-after-error-recorded "$(jq -c "select(.job == $j3) | [.task, .host, .verdict, .error]" <<< "$all"; cat "$OUT/j3")"
chk "map(select(.job == $j1)) | all(.irqs_steered >= 0) and (map(.irqs_steered) | add) > 0" &&
    grep -q "steered [1-9][0-9]* IRQ" "$LAB"/log/slurmd-lab*.log &&
    pass irqs-steered-recorded || fail irqs-steered-recorded "$(jq -c "select(.job == $j1) | [.host, .irqs_steered]" <<< "$all")"
# A user's job too: slurmstepd steers as root (user_init runs as the user).
chk "map(select(.job == $j2)) | (map(.irqs_steered) | add) > 0" && ! grep -q "irq:" "$OUT/j2" &&
    pass irqs-steered-for-a-user-job || fail irqs-steered-for-a-user-job "$(jq -c "select(.job == $j2) | [.host, .irqs_steered]" <<< "$all"; grep "irq" "$OUT/j2")"
if [ -n "$HP" ]; then
    chk "map(select(.job == $j1)) | all(.hugepages == {pagesize_kb: 2048, pages: 2, by_node: {\"0\": 2}, released: 2})" &&
        pass hugepages-reserved-and-released ||
        fail hugepages-reserved-and-released "$(jq -c "select(.job == $j1) | .hugepages" <<< "$all")"
else
    skip hugepages-reserved-and-released "$NR is not writable here"
fi
chk "map(select(.job == $j4)) | all(.verdict == \"skipped\")" && pass daemon-step-skipped ||
    fail daemon-step-skipped "$(jq -c "select(.job == $j4)" <<< "$all")"

# --- the report agrees with the records
"$B/numa-gpu" report --json "$A" >"$OUT/report.json" 2>"$OUT/report.err"
rc=$?
jq -s -c -f "$D/expect.jq" "${RECS[@]}" | jq -S -c . | sort >"$OUT/want"
jq -c -f "$D/actual.jq" "$OUT/report.json" | jq -S -c . | sort >"$OUT/have"
ng_nonempty expected-rows "$(wc -l < "$OUT/want")"
[ $rc -eq 0 ] && [ ! -s "$OUT/report.err" ] && diff "$OUT/want" "$OUT/have" >"$OUT/diff" &&
    [ "$(grep -c '"kind":"job"' "$OUT/have")" -eq 4 ] && [ "$(grep -c '"kind":"node"' "$OUT/have")" -eq 2 ] &&
    [ "$(grep -c '"kind":"user"' "$OUT/have")" -eq 2 ] &&
    pass report-json-agrees-with-records ||
    fail report-json-agrees-with-records "rc=$rc $(cat "$OUT/report.err" "$OUT/diff" | head -20)"
# Worst first: a job with refused or unbound tasks heads the job table.
first=$(jq -r 'select(.kind == "job") | .job' "$OUT/report.json" | head -1)
[ "$first" = "$j2" ] || [ "$first" = "$j3" ] && pass worst-job-first ||
    fail worst-job-first "first job $first (refused: $j2, unbound: $j3)"

# The table: each job's row holds the same counts.
"$B/numa-gpu" report "$A" >"$OUT/table" 2>&1
bad=""
for j in "$j1" "$j2" "$j3" "$j4"; do
    want=$(jq -r "select(.kind == \"job\" and .key == \"$j\") | [.tasks, .local, .partial, .remote, .unbound, .refused, .other, .irqs_steered, .errors] | map(tostring) | join(\" \")" "$OUT/want")
    have=$(awk -v j="$j" '/^per job/ {on = 1; next} /^per / {on = 0} on && $1 == j {print $4, $5, $6, $7, $8, $9, $10, $15, $16}' "$OUT/table")
    [ -n "$want" ] && [ "$want" = "$have" ] || bad="$bad job $j: want '$want' have '$have';"
done
[ -z "$bad" ] && pass table-agrees-with-records || fail table-agrees-with-records "$bad $(cat "$OUT/table")"

# --- filters: each row of the answer is what the filter names
"$B/numa-gpu" report --json --job "$j1,$j3" "$A" >"$OUT/f1" &&
    [ "$(jq -r 'select(.kind == "job") | .job' "$OUT/f1" | sort -n | paste -sd,)" = "$(printf '%s\n' "$j1" "$j3" | sort -n | paste -sd,)" ] &&
    pass filter-job || fail filter-job "$(cat "$OUT/f1")"
"$B/numa-gpu" report --json --user "$U" "$A" >"$OUT/f2" &&
    [ "$(jq -r 'select(.kind == "job") | .job' "$OUT/f2" | paste -sd,)" = "$j2" ] &&
    [ "$("$B/numa-gpu" report --json --user "$uid" "$A" | jq -c 'select(.kind == "total")')" = "$(jq -c 'select(.kind == "total")' "$OUT/f2")" ] &&
    pass filter-user-by-name-or-uid || fail filter-user-by-name-or-uid "$(cat "$OUT/f2")"
n2=$(jq -s 'map(select(.host == "lab2")) | length' <<< "$all")
"$B/numa-gpu" report --json --node 'lab[2]' "$A" >"$OUT/f3" &&
    [ "$(jq -r 'select(.kind == "node") | .node' "$OUT/f3")" = lab2 ] &&
    [ "$(jq 'select(.kind == "total") | .tasks' "$OUT/f3")" = "$n2" ] &&
    pass filter-node-pattern || fail filter-node-pattern "want $n2 tasks: $(cat "$OUT/f3")"
"$B/numa-gpu" report --json --since 1h "$A" | jq -c 'select(.kind == "total")' >"$OUT/f4"
future=$(date -d '+1 day' +%Y-%m-%d)
out=$("$B/numa-gpu" report --since "$future" "$A" 2>&1); rc=$?
[ "$(cat "$OUT/f4")" = "$(jq -c 'select(.kind == "total")' "$OUT/report.json")" ] && [ $rc -eq 2 ] &&
    grep -q -- "--since.*'$future' is in the future" <<< "$out" &&
    pass filter-since || fail filter-since "rc=$rc $out $(cat "$OUT/f4")"

if [ -n "${NG_REPORT_CAPTURE:-}" ]; then
    for h in lab1 lab2; do
        mkdir -p "$NG_REPORT_CAPTURE/$h"
        for f in "${RECS[@]}"; do
            grep -F "\"host\":\"$h\"" "$f" >"$NG_REPORT_CAPTURE/$h/$(basename "$f")"
            [ -s "$NG_REPORT_CAPTURE/$h/$(basename "$f")" ] || rm -f "$NG_REPORT_CAPTURE/$h/$(basename "$f")"
        done
    done
    echo "captured into $NG_REPORT_CAPTURE" >&2
fi
ng_end
