#!/bin/bash
# --numa-gpu-hugepages in a real local Slurm, on this host's real node0
# counters: nr_hugepages goes up by what each task asked while the job runs,
# the task is told what it got, and it comes back after the job; bad values
# and caps fail at submission; strict fails when the kernel grants less.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
lab_suite slurm-hugepages || ng_end
NR=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
if ! [ -w "$NR" ]; then
    skip all "$NR is not writable here"; ng_end
fi
trap lab_stop EXIT
lab_start 1 default=off || { fail lab-start "local cluster did not start"; ng_end; }
lab_plugstack default=off state_dir="$LAB/state-hp" hugepages_max_per_job=64M hugepages_mount=/dev/hugepages
OUT=$LAB/out; mkdir -p "$OUT"
before=$(cat "$NR")

# Two tasks x 8 MiB of 2 MiB pages: both tasks' memory node here is node 0.
# A task's pages are reserved in its task_init, before it runs, and given
# back when it exits: two barriers (not sleeps: on a loaded CI machine one
# task may start or end seconds after the other) make each task read the
# counter while both are alive and both reservations are in it.
bar() { echo "touch $OUT/$1.\$SLURM_PROCID; for i in \$(seq 1 300); do [ -e $OUT/$1.0 ] && [ -e $OUT/$1.1 ] && break; sleep 0.1; done"; }
srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer --numa-gpu-hugepages=8M \
    sh -c "$(bar started); echo during=\$(cat $NR) hp=\$NUMA_GPU_HUGEPAGES fs=\$NUMA_GPU_HUGETLBFS; $(bar read)" \
    >"$OUT/hp" 2>&1
rc=$?
sleep 0.3
after=$(cat "$NR")
during=$(sed -n 's/^ *0: during=\([0-9]*\).*/\1/p' "$OUT/hp")
hp0=$(sed -n 's/^ *0: .* hp=\([^ ]*\).*/\1/p' "$OUT/hp")
[ $rc -eq 0 ] && [ "$during" = $((before + 8)) ] && [ "$after" = "$before" ] &&
    [ "$hp0" = "0:4x2048kB" ] && grep -q "fs=/dev/hugepages" "$OUT/hp" &&
    pass reserved-during-job-released-after ||
    fail reserved-during-job-released-after "rc=$rc before=$before during=$during after=$after hp0=$hp0 $(cat "$OUT/hp")"

# Submission-time errors name the bad value or the cap.
srun --numa-gpu=prefer --numa-gpu-hugepages=8X true >"$OUT/bad" 2>&1
[ $? -ne 0 ] && grep -q "hugepages '8X'" "$OUT/bad" && pass bad-size-refused || fail bad-size-refused "$(cat "$OUT/bad")"
srun --numa-gpu=prefer --numa-gpu-hugepages=1G true >"$OUT/cap" 2>&1
[ $? -ne 0 ] && grep -q "above the cap hugepages_max_per_job=64 MiB" "$OUT/cap" &&
    pass cap-refused-at-submission || fail cap-refused-at-submission "$(cat "$OUT/cap")"
# A page size node 0 does not offer (16 MiB on x86) is named with what it offers.
srun -n1 -c2 --gpus=1 --numa-gpu=strict --numa-gpu-hugepages=32M:16M true >"$OUT/ps" 2>&1
rc=$?
offers=$(ls /sys/devices/system/node/node0/hugepages | sed 's/hugepages-//' | paste -sd, -)
[ $rc -ne 0 ] && grep -q "node 0 has no 16384kB pages (offers: " "$OUT/ps" &&
    pass missing-page-size-named || fail missing-page-size-named "rc=$rc (node0 offers $offers) $(cat "$OUT/ps")"

# strict and a kernel that grants less: the task fails naming node, asked, granted;
# nothing stays reserved.
lab_plugstack default=off state_dir="$LAB/state-hp"
srun -n1 -c2 --gpus=1 --numa-gpu=strict --numa-gpu-hugepages=16T true >"$OUT/less" 2>&1
rc=$?
sleep 0.3
[ $rc -ne 0 ] && grep -q "node 0: asked 8388608 x 2048kB, granted" "$OUT/less" && [ "$(cat "$NR")" = "$before" ] &&
    pass strict-fails-when-kernel-grants-less || fail strict-fails-when-kernel-grants-less "rc=$rc now=$(cat "$NR") $(cat "$OUT/less")"
# prefer: warns and runs with what was granted, released after.
srun -n1 -c2 --gpus=1 --numa-gpu=prefer --numa-gpu-hugepages=16T sh -c 'echo hp=$NUMA_GPU_HUGEPAGES' >"$OUT/less2" 2>&1
rc=$?
sleep 0.3
[ $rc -eq 0 ] && grep -q "granted" "$OUT/less2" && grep -q "hp=0:[0-9]*x2048kB" "$OUT/less2" && [ "$(cat "$NR")" = "$before" ] &&
    pass prefer-warns-and-runs || fail prefer-warns-and-runs "rc=$rc now=$(cat "$NR") $(cat "$OUT/less2")"

# A step whose slurmstepd is killed -9 leaks nothing: when the job ends the
# epilog (or the next reservation) gives back what the dead step held.
srun -n1 -c2 --gpus=1 --numa-gpu=prefer --numa-gpu-hugepages=6M sh -c 'echo job=$SLURM_JOB_ID; sleep 30' >"$OUT/k9" 2>&1 &
spid=$!
for _ in $(seq 1 40); do [ "$(cat "$NR")" -gt "$before" ] && break; sleep 0.25; done
up=$(cat "$NR")
jid=$(sed -n 's/^job=//p' "$OUT/k9")
stepd=$(pgrep -f "slurmstepd: \[$jid\.0\]" | head -1)
[ -n "$stepd" ] && kill -9 "$stepd"
{ kill -9 $spid; wait $spid; } 2>/dev/null
for p in $(pgrep -x sleep); do grep -qsz "^SLURM_JOB_ID=$jid\$" "/proc/$p/environ" && kill -9 "$p"; done
scancel "$jid" 2>/dev/null
for _ in $(seq 1 60); do [ "$(cat "$NR")" = "$before" ] && break; sleep 0.25; done
[ "$up" = $((before + 3)) ] && [ -n "$stepd" ] && [ "$(cat "$NR")" = "$before" ] &&
    pass kill-9-slurmstepd-leaks-nothing ||
    fail kill-9-slurmstepd-leaks-nothing "before=$before up=$up now=$(cat "$NR") job=$jid stepd=$stepd"
echo "$before" > "$NR"
ng_end
