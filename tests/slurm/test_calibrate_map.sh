#!/bin/bash
# numa-gpu calibrate's map, used by the plugin in a real local Slurm. The
# stand-in runtime (tests/gpu-standin: plumbing, not hardware) is set up so
# that each lab GPU measures fastest from the node its firmware does NOT
# name; calibrate --write-map on the lab's own topology writes that, and
# with gpu_map= in plugstack.conf a task on each GPU lands on the measured
# node (cpus and NUMA_GPU_NODE, as `numa-gpu plan --gpu-map` says), where
# without the map it lands on the firmware's. A map the plugin cannot use is
# logged and the firmware's locality stays.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite calibrate-map cc jq || ng_end
trap lab_stop EXIT
if ! lab_start 1 default=off; then
    fail lab-start "local cluster did not start"
    ng_end
fi
OUT=$LAB/out; mkdir -p "$OUT"
MEMS=$(awk '/Mems_allowed_list/ {print $2}' /proc/self/status)
ALLCPUS=$(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
REPORT='echo gpus=$SLURM_STEP_GPUS; echo node=$NUMA_GPU_NODE; '$B'/memhelper'
roots=(--topology "$LAB/topo.xml" --procfs-root "$LAB/fake/proc" --sysfs-root "$LAB/fake/sys")
field() { sed -n "s/^ *$2: $3=//p" "$1" | head -1; }
plan() { "$B/numa-gpu" plan --json "${roots[@]}" --gpus "$1" --cpus "$ALLCPUS" --mems "$MEMS" "${@:2}" 2>/dev/null; }

# The lab's GPUs (GRES 0 and 1) as bus ids, and their firmware nodes.
b0=$(plan 0 | jq -r '.gpus[0].pci_busid') b1=$(plan 1 | jq -r '.gpus[0].pci_busid')
f0=$(plan 0 | jq -r .home) f1=$(plan 1 | jq -r .home)
[ -n "$b0" ] && [ -n "$b1" ] && [ "$f0" != "$f1" ] ||
    { fail lab-gpus "bus ids '$b0' '$b1', nodes '$f0' '$f1'"; ng_end; }

# The stand-in: each GPU near the other GPU's firmware node, judged by CPU.
cc -std=c11 -O2 -shared -fPIC -o "$LAB/libcuda.so.1" tests/gpu-standin/gpu-standin.c -lnuma \
    -lpthread || { fail standin "cc failed"; ng_end; }
cpumap=""
for n in "$f0" "$f1"; do
    for c in $(plan "$([ "$n" = "$f0" ] && echo 0 || echo 1)" | jq -r .cpus | tr ',' ' '); do
        if [[ $c == *-* ]]; then c=$(seq -s ' ' "${c%-*}" "${c#*-}"); fi
        for x in $c; do cpumap="$cpumap${cpumap:+,}$x=$n"; done
    done
done
NUMA_GPU_CUDA_LIB=$LAB/libcuda.so.1 NG_STANDIN_GPUS=$b0,$b1 NG_STANDIN_NEAR=$b0=$f1,$b1=$f0 \
    NG_STANDIN_CPU_NODES=$cpumap "$B/numa-gpu" calibrate --topology "$LAB/topo.xml" --size 8M \
    --repeat 3 --write-map "$LAB/gpu_map" > "$OUT/calibrate" 2>&1
grep -q "^numa_node $b0 $f1$" "$LAB/gpu_map" && grep -q "^numa_node $b1 $f0$" "$LAB/gpu_map" &&
    pass calibrate-writes-measured-nodes || fail calibrate-writes-measured-nodes "$(cat "$OUT/calibrate")"

# task GRES N: the node and cpus a one-GPU task gets.
task() {
    srun -l -n1 -c2 --gres=gpu:1 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/t" 2>"$OUT/t.err"
    echo "$(field "$OUT/t" 0 gpus) $(field "$OUT/t" 0 node) $(field "$OUT/t" 0 cpus)"
}
got=$(task)
want="0 $f0 $(plan 0 | jq -r .cpus)"
[ "$got" = "$want" ] && pass without-map-firmware-node || fail without-map-firmware-node "got '$got' want '$want' $(cat "$OUT/t.err")"

lab_plugstack default=off gpu_map="$LAB/gpu_map"
got=$(task)
want="0 $f1 $(plan 0 --gpu-map "$LAB/gpu_map" | jq -r .cpus)"
[ "$got" = "$want" ] && [ "${want#0 $f1 }" != "$(plan 0 | jq -r .cpus)" ] &&
    pass with-map-measured-node || fail with-map-measured-node "got '$got' want '$want' $(cat "$OUT/t.err")"

# A map naming a node the machine lacks: logged, firmware locality kept.
echo "numa_node $b0 9" > "$LAB/bad_map"
lab_plugstack default=off gpu_map="$LAB/bad_map"
got=$(task)
want="0 $f0 $(plan 0 | jq -r .cpus)"
[ "$got" = "$want" ] && grep -q "gpu_map $LAB/bad_map line 1: node(s) 9 .*GPU locality stays the firmware's" \
    "$LAB"/log/slurmd* && pass bad-map-logged-firmware-kept ||
    fail bad-map-logged-firmware-kept "got '$got' want '$want'; $(grep -h gpu_map "$LAB"/log/slurmd* | tail -2)"
ng_end
