#!/bin/bash
# The picture of a live step in a real local Slurm: with audit_dir= and
# picture=svg, an explain step leaves audit_dir/<job>.<step>.<node>.svg
# beside the audit records (opened by root, drawn by lstopo from task 0),
# whose PUs carry each rank's colour exactly as often as that rank has cpus
# in the plan the step printed; a prefer step draws nothing; picture=png
# draws a PNG where the cairo lstopo is installed and otherwise says why and
# leaves no empty file; picture= without audit_dir= disables the plugin with
# the reason in the slurmd log.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
lab_suite slurm-draw || ng_end
trap lab_stop EXIT
lab_start 1 default=off || { fail lab-start "local cluster did not start"; ng_end; }
A=$LAB/audit
mkdir -m 755 "$A"
OUT=$LAB/out
mkdir -p "$OUT"
log=$LAB/log/slurmd-lab1.log
jobid() { sed -n 's/^ *0: job=//p' "$1" | head -1; }

# --- explain + picture=svg: the picture, its colours against the step's plan
lab_plugstack default=off audit_dir="$A" picture=svg
srun -l -n2 --gpus-per-task=1 --numa-gpu=explain sh -c 'echo job=$SLURM_JOB_ID' >"$OUT/j1" 2>&1
rc=$?
jid=$(jobid "$OUT/j1")
pic=$(ls "$A/$jid".0.*.svg 2>/dev/null | head -1)
if [ $rc -eq 0 ] && [ -n "$jid" ] && [ -s "$pic" ] && grep -q "<svg" "$pic" &&
   [ "$(stat -c '%U %a' "$pic")" = "root 644" ] &&
   grep -q "the picture of this node's plan is $pic" "$OUT/j1"; then
    pass picture-beside-audit-records
else
    fail picture-beside-audit-records "rc=$rc job '$jid' pic '$pic': $(cat "$OUT/j1"; ls -l "$A")"
fi
# Each rank's colour fills as many PUs as the cpus the step explained for it.
checked=0
while read -r r colour cpus; do
    want=$(python3 -c "import sys
n=0
for p in sys.argv[1].split(','):
    a,_,b=p.partition('-'); n+=int(b or a)-int(a)+1
print(n)" "$cpus")
    rgb=$(printf 'rgb(%d,%d,%d)' "0x${colour:1:2}" "0x${colour:3:2}" "0x${colour:5:2}")
    got=$(grep -c "class='PU' [^>]*fill='$rgb'" "$pic")
    said=$(sed -n "s/^ *0: .*rank $r \[[a-z]*\]: .*cpus \([0-9,-]*[0-9]\).*/\1/p" "$OUT/j1" | head -1)
    checked=$((checked + 1))
    [ "$got" = "$want" ] && [ "$said" = "$cpus" ] && pass "rank-$r-colour-fills-its-cpus" ||
        fail "rank-$r-colour-fills-its-cpus" "$colour: $got PUs, legend cpus $cpus ($want), explained '$said'"
done < <(grep -o ">rank [0-9]* #[0-9a-f]\{6\} [a-z]*: [^<]*cpus [0-9,-]*" "$pic" 2>/dev/null |
         sed -e 's/^>rank \([0-9]*\) \(#[0-9a-f]*\) .*cpus \([0-9,-]*\)$/\1 \2 \3/' -e 's/,$//')
ng_nonempty legend-rank-lines "$checked" && [ "$checked" -eq 2 ] ||
    fail legend-rank-lines "$checked rank lines in the legend, 2 ranks ran"

# --- a prefer step draws nothing
before=$(find "$A" -name '*.svg' | wc -l)
srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c 'echo job=$SLURM_JOB_ID' >"$OUT/j2" 2>&1
after=$(find "$A" -name '*.svg' | wc -l)
[ "$before" = "$after" ] && ! grep -q "picture" "$OUT/j2" && pass no-picture-outside-explain ||
    fail no-picture-outside-explain "svg files $before -> $after: $(cat "$OUT/j2")"

# --- picture=png: drawn by the cairo lstopo, or said why and nothing left
lab_plugstack default=off audit_dir="$A" picture=png
srun -l -n1 --gpus-per-task=1 --numa-gpu=explain sh -c 'echo job=$SLURM_JOB_ID' >"$OUT/j3" 2>&1
rc=$?
jid=$(jobid "$OUT/j3")
sleep 0.3   # slurmstepd removes an empty picture at the step's end
png=$(ls "$A/$jid".0.*.png 2>/dev/null | head -1)
if /usr/bin/lstopo --help 2>&1 | grep -q 'formats:.*png'; then
    sig=$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [ $rc -eq 0 ] && [ "$sig" = 89504e470d0a1a0a ] && pass png-picture ||
        fail png-picture "rc=$rc '$png' signature '$sig': $(cat "$OUT/j3")"
else
    [ $rc -eq 0 ] && [ -z "$png" ] && grep -q "no picture: .*cannot write PNG" "$OUT/j3" &&
        pass png-without-cairo-said-and-nothing-left ||
        fail png-without-cairo-said-and-nothing-left "rc=$rc '$png': $(cat "$OUT/j3")"
fi

# --- picture= needs audit_dir=: the plugin is disabled with the reason
lab_plugstack default=off picture=svg
srun -l -n1 --gpus-per-task=1 --numa-gpu=explain true >"$OUT/j4" 2>&1
sleep 0.3
grep -q "numa-gpu: plugstack.conf: picture=svg needs audit_dir=.*plugin disabled" "$log" &&
    pass picture-needs-audit-dir || fail picture-needs-audit-dir "$(grep numa-gpu "$log" | tail -3)"
ng_end
