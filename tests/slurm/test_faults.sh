#!/bin/bash
# Faults inside slurmstepd (tests/faults/shim.c preloaded into slurmd and
# the slurmstepds it starts): set_mempolicy refused as a seccomp profile
# would. strict fails the task with the reason, prefer runs it with what
# Slurm gave and one message, slurmstepd never crashes. A corrupt topology
# cache falls back to live discovery with a logged reason. A topology= file
# numa-gpu did not write is read by hwloc-info in a child first: when that
# child hangs, slurmstepd kills it at the deadline and the job runs.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite faults || ng_end
[ -f "$B/fault-shim.so" ] || { skip all "fault shim not built"; ng_end; }
# A stand-in for hwloc-info that hangs while $HANG/on exists (else the real one).
HANG=$(mktemp -d /tmp/numa-gpu-hang.XXXXXX)
trap 'lab_stop; rm -rf "$HANG"' EXIT
printf '#!/bin/sh\nif [ -e %s/on ]; then echo $$ > %s/pid; exec sleep 600; fi\nexec /usr/bin/hwloc-info "$@"\n' \
    "$HANG" "$HANG" > "$HANG/hwloc-info"
chmod 755 "$HANG/hwloc-info"
LAB_SLURMD_ENV="LD_PRELOAD=$B/fault-shim.so NG_FAULT=set_mempolicy:EPERM NUMA_GPU_HWLOC_INFO=$HANG/hwloc-info"
if ! lab_start 1 default=off; then fail lab-start "local cluster did not start"; ng_end; fi
OUT=$LAB/out; mkdir -p "$OUT"
REPORT='grep -c " bind:\| prefer" /proc/self/numa_maps | sed "s/^/pol=/"; awk "/Cpus_allowed_list/ {print \"cpus=\" \$2}" /proc/self/status'

srun -l -n1 -c2 --gpus=1 --numa-gpu=strict sh -c "$REPORT" >"$OUT/strict" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "strict mode, task not started: task 0: set_mempolicy(bind, nodes 0): Operation not permitted" "$OUT/strict" &&
    ! grep -q "pol=" "$OUT/strict" && pass strict-fails-with-reason || fail strict-fails-with-reason "rc=$rc $(cat "$OUT/strict")"
srun -l -n1 -c2 --gpus=1 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/prefer" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "0: pol=0" "$OUT/prefer" && [ "$(grep -c "set_mempolicy" "$OUT/prefer")" = 1 ] &&
    grep -q "running unbound" "$OUT/prefer" && pass prefer-runs-unbound || fail prefer-runs-unbound "rc=$rc $(cat "$OUT/prefer")"
sleep 0.3
# A negative check: it proves something only over the logs these steps
# wrote. grep over a missing or empty log finds no crash and would pass.
logs=("$LAB/log/slurmctld.log" "$LAB/log/slurmd-lab1.log")
nlogs=0
for f in "${logs[@]}"; do [ -s "$f" ] && nlogs=$((nlogs + 1)); done
launched=$(grep -c "launch task StepId=" "$LAB/log/slurmd-lab1.log" 2>/dev/null)
launched=${launched:-0}
if [ "$nlogs" -ne "${#logs[@]}" ] || [ "$launched" -lt 2 ]; then
    fail slurmstepd-never-crashes "nothing to look at: $nlogs of ${#logs[@]} logs non-empty, $launched step launches logged ($(ls -l "$LAB/log" 2>&1 | tr '\n' ' '))"
elif grep -qiE "slurmstepd.*(segfault|signal 11|core dumped)|stepd .*died" "${logs[@]}"; then
    fail slurmstepd-never-crashes "$(grep -iE "segfault|signal 11|core dumped|stepd .*died" "${logs[@]}" | head -3)"
else
    pass slurmstepd-never-crashes
fi

# A corrupt topology= cache: logged, live discovery instead, the job runs.
# A truncated copy: only corrupt if the cache is longer than the cut.
head -c 1500 "$LAB/topo.xml" > "$LAB/corrupt.xml"
size=$(stat -c %s "$LAB/topo.xml" 2>/dev/null || echo 0)
if [ "$size" -le 1500 ]; then
    fail corrupt-cache-falls-back-to-live "the topology cache is $size bytes: cutting it at 1500 corrupts nothing"
else
    echo "required $B/numa_gpu.so topology=$LAB/corrupt.xml" > "$LAB/plugstack.conf"
    srun -l -n1 -c1 --numa-gpu=prefer true >"$OUT/corrupt" 2>&1
    rc=$?
    sleep 0.3
    [ $rc -eq 0 ] && grep -q "numa-gpu: topology '$LAB/corrupt.xml'.*discovering the live topology" "$LAB"/log/slurmd-lab1.log &&
        pass corrupt-cache-falls-back-to-live || fail corrupt-cache-falls-back-to-live "rc=$rc $(cat "$OUT/corrupt") $(grep numa-gpu "$LAB"/log/slurmd-lab1.log | tail -3)"
fi

# A foreign topology (the cache without its marker): checked, then used.
grep -v 'numa-gpu-topology-cache' "$LAB/topo.xml" > "$LAB/foreign.xml"
echo "required $B/numa_gpu.so topology=$LAB/foreign.xml" > "$LAB/plugstack.conf"
srun -l -n1 -c1 --numa-gpu=prefer true >"$OUT/foreign" 2>&1
rc=$?
sleep 0.3
[ $rc -eq 0 ] && grep -q numa-gpu-topology-cache "$LAB/topo.xml" && ! grep -q "topology '$LAB/foreign.xml'" "$LAB"/log/slurmd-lab1.log &&
    pass foreign-topology-checked-and-used ||
    fail foreign-topology-checked-and-used "rc=$rc $(cat "$OUT/foreign") $(grep "foreign.xml" "$LAB"/log/slurmd-lab1.log | tail -2)"
# The same file while the checker hangs: killed at 5 s, live discovery, the job runs.
touch "$HANG/on"
srun -l -n1 -c1 --numa-gpu=prefer true >"$OUT/hang" 2>&1
rc=$?
rm -f "$HANG/on"
sleep 0.3
hp=$(cat "$HANG/pid" 2>/dev/null)
[ $rc -eq 0 ] && [ -n "$hp" ] && ! kill -0 "$hp" 2>/dev/null &&
    grep -q "topology '$LAB/foreign.xml': .*did not finish reading it within 5000 ms (killed).*discovering the live topology" "$LAB"/log/slurmd-lab1.log &&
    pass hung-topology-check-killed-job-runs ||
    fail hung-topology-check-killed-job-runs "rc=$rc checker pid '${hp}' $(kill -0 "$hp" 2>/dev/null && echo alive) $(cat "$OUT/hang") $(grep "foreign.xml" "$LAB"/log/slurmd-lab1.log | tail -2)"
ng_end
