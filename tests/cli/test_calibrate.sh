#!/bin/bash
# numa-gpu calibrate on a stand-in GPU runtime (tests/gpu-standin), built
# here as libcuda.so.1 and libamdhip64.so. It tests the plumbing, not the
# hardware: the stand-in's copies are slower from the node a GPU is not near
# (NG_STANDIN_NEAR), judged by the CPU the copying thread runs on, since this
# machine may have one NUMA node; the topology (tests/gpu-standin/
# mk-topology.sh) splits this machine's real CPUs into two nodes, and a
# variant of it whose firmware lies and one that says nothing. Cases: no
# runtime, not a runtime, no GPU, a failing call; each thread copies from its
# node's CPUs, the slow node is found, the lie and the silence are named, the
# map is written (keeping the admin's id lines, replacing its own), and
# plan/explain/exec with that map place ranks where the truthful topology
# would; --here measures a process where it was put; every option's bounds.
source "$(dirname "$0")/lib.sh"
ng_suite calibrate
ng_tmpdir cal
S=tests/gpu-standin
cc -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -o "$T/libcuda.so.1" "$S/gpu-standin.c" \
    -lnuma -lpthread 2>"$T/cc.err" && cp "$T/libcuda.so.1" "$T/libamdhip64.so" &&
    pass standin-builds || { fail standin-builds "$(head -3 "$T/cc.err")"; ng_end; }
for v in 01 10 mm; do
    sh "$S/mk-topology.sh" "$T/topo-$v.xml" "${v:0:1}" "${v:1:1}" ||
        { fail "topology-$v" "mk-topology.sh failed"; ng_end; }
done
TRUTH=$T/topo-01.xml LIAR=$T/topo-10.xml SILENT=$T/topo-mm.xml
G1=0000:01:00.0 G2=0000:02:00.0
# This machine's CPUs as the topology splits them, from numa-gpu itself.
N0=$("$NG" plan --json --topology "$TRUTH" --gpus $G1 | jq -r .cpus)
N1=$("$NG" plan --json --topology "$TRUTH" --gpus $G2 | jq -r .cpus)
[ -n "$N0" ] && [ -n "$N1" ] && [ "$N0" != "$N1" ] && pass topology-splits-cpus ||
    { fail topology-splits-cpus "node 0 cpus '$N0', node 1 cpus '$N1'"; ng_end; }
expand() {   # a cpulist, one CPU per word
    local p
    for p in ${1//,/ }; do
        if [[ $p == *-* ]]; then seq "${p%-*}" "${p#*-}"; else echo "$p"; fi
    done
}
cpumap=""   # CPU=NODE for the stand-in (one-node kernels)
for c in $(expand "$N0"); do cpumap="$cpumap${cpumap:+,}$c=0"; done
for c in $(expand "$N1"); do cpumap="$cpumap${cpumap:+,}$c=1"; done
export NG_STANDIN_GPUS=$G1,$G2 NG_STANDIN_NEAR=$G1=0,$G2=1 NG_STANDIN_CPU_NODES=$cpumap
export NG_STANDIN_GBPS=4,1 NG_STANDIN_LOG=$T/copies.log
unset NUMA_GPU_CUDA_LIB NUMA_GPU_HIP_LIB NUMA_GPU_TOPOLOGY
CUDA=$T/libcuda.so.1
SZ=(--size 16M --repeat 5)
cal() { NUMA_GPU_CUDA_LIB=$CUDA "$NG" calibrate "${SZ[@]}" "$@"; }

# expect (lib.sh): a calibration measures before it fails, hence 60 s.
NG_EXPECT_TIMEOUT=60

# --- no runtime: said clearly, with what was tried, non-zero.
out=$(NUMA_GPU_CUDA_LIB=$T/none/libcuda.so.1 NUMA_GPU_HIP_LIB=$T/none/libamdhip64.so \
      "$NG" calibrate --topology "$TRUTH" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "no GPU runtime: tried $T/none/libcuda.so.1 (" <<< "$out" &&
    grep -q "$T/none/libamdhip64.so (.*No such file" <<< "$out" && pass no-runtime-names-tries ||
    fail no-runtime-names-tries "rc=$rc $out"
expect not-a-runtime 1 "no symbol cuInit: not a CUDA driver runtime" \
    env NUMA_GPU_CUDA_LIB="$(ldd "$NG" | awk '/libm\.so/ {print $3}')" "$NG" calibrate
expect runtime-without-gpus 1 "$CUDA (it reports no GPU)" \
    env NG_STANDIN_NOGPU=1 NUMA_GPU_CUDA_LIB="$CUDA" "$NG" calibrate --topology "$TRUTH"
expect init-failure-named 1 "cuInit/cuDeviceGetCount failed: CUDA_ERROR_OUT_OF_MEMORY (2)" \
    env NG_STANDIN_FAIL=cuInit NUMA_GPU_CUDA_LIB="$CUDA" "$NG" calibrate --topology "$TRUTH"
rm -f "$T/never"
out=$(NG_STANDIN_FAIL=cuMemHostRegister cal --topology "$TRUTH" --write-map "$T/never" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "node 0: cuMemHostRegister failed" <<< "$out" && [ ! -e "$T/never" ] &&
    pass register-failure-fails-writes-no-map || fail register-failure-fails-writes-no-map "rc=$rc $out"

# --- the truthful machine: agrees; every copy from its node's CPUs.
: > "$T/copies.log"
out=$(cal --topology "$TRUTH" --json); rc=$?
v() { jq -r --arg b "$1" "select(.busid == \$b) | $2" <<< "$out"; }
[ $rc -eq 0 ] && [ "$(v $G1 .verdict) $(v $G2 .verdict)" = "agrees agrees" ] &&
    [ "$(v $G1 .measured_nodes) $(v $G2 .measured_nodes)" = "0 1" ] &&
    pass truthful-firmware-agrees || fail truthful-firmware-agrees "rc=$rc $out"
# (5 timed + 1 warm-up) x 2 directions x 2 GPUs per node, from that node's CPUs
per=$(awk '{ print $4 }' "$T/copies.log" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
ng_nonempty copies-logged "$(wc -l < "$T/copies.log")" && [ "$per" = "0:24 1:24 " ] &&
    [ "$(v $G1 '.rows[0].cpus')" = "$N0" ] && [ "$(v $G1 '.rows[1].cpus')" = "$N1" ] &&
    pass threads-bound-to-their-node || fail threads-bound-to-their-node "copies per node: $per"
ratio=$(v $G1 '.best_gbps / .worst_gbps')
awk -v r="$ratio" 'BEGIN { exit !(r > 1.5) }' && pass slow-node-measured-slower ||
    fail slow-node-measured-slower "best/worst $ratio (stand-in: 4 vs 1 GB/s)"

# --- the lying firmware: both GPUs disagree, and the text says so.
out=$(cal --topology "$LIAR" --json); rc=$?
[ $rc -eq 0 ] && [ "$(v $G1 .verdict) $(v $G2 .verdict)" = "disagrees disagrees" ] &&
    [ "$(v $G1 .firmware_nodes) $(v $G1 .measured_nodes) $(v $G1 .worst_node)" = "1 0 1" ] &&
    [ "$(v $G2 .firmware_nodes) $(v $G2 .measured_nodes) $(v $G2 .worst_node)" = "0 1 0" ] &&
    pass lying-firmware-disagrees || fail lying-firmware-disagrees "rc=$rc $out"
out=$(cal --topology "$LIAR"); rc=$?
# a one-node kernel has no memory node 1: said, not hidden
note=ok
[ -d /sys/devices/system/node/node1 ] || grep -q "^node 1: note: not a memory node of this kernel" <<< "$out" ||
    note=missing
[ $rc -eq 0 ] && grep -q "GPU $G1: DISAGREES: the firmware says node 1 .* node(s) 0 give" <<< "$out" &&
    grep -q "summary: 2 GPU(s): 0 agree with the firmware, 2 disagree" <<< "$out" && [ $note = ok ] &&
    pass lying-firmware-table-says-so || fail lying-firmware-table-says-so "rc=$rc note $note: $out"

# --- firmware without locality (as JUROPA-3): filled by the measurement.
out=$(cal --topology "$SILENT" --json); rc=$?
[ $rc -eq 0 ] && [ "$(v $G1 .verdict) $(v $G2 .verdict)" = "filled filled" ] &&
    [ "$(v $G1 .firmware_nodes) $(v $G1 .map_nodes) $(v $G2 .map_nodes)" = "null 0 1" ] &&
    pass silent-firmware-filled || fail silent-firmware-filled "rc=$rc $out"

# --- the map: the admin's id lines stay, locality lines are calibrate's.
printf '# ids for the MIG slices\nMIG-aaaa %s\n3 %s\n' $G2 $G2 > "$T/map"
chmod 640 "$T/map"
cal --topology "$LIAR" --write-map "$T/map" > "$T/out" 2>&1 &&
    cal --topology "$LIAR" --write-map "$T/map" > "$T/out" 2>&1; rc=$?   # twice: replaced
[ $rc -eq 0 ] && grep -q "^numa_node $G1 0$" "$T/map" && grep -q "^numa_node $G2 1$" "$T/map" &&
    [ "$(grep -c '^numa_node ' "$T/map")" -eq 2 ] && grep -q "^MIG-aaaa $G2$" "$T/map" &&
    grep -q "^3 $G2$" "$T/map" && [ "$(stat -c %a "$T/map")" = 640 ] &&
    grep -q "wrote $T/map" "$T/out" && pass map-written-ids-kept-rewrite-replaces ||
    fail map-written-ids-kept-rewrite-replaces "rc=$rc $(cat "$T/out" "$T/map")"

# plan with the map on the lying XML = plan on the truthful XML; without it, not.
truth=$("$NG" plan --json --topology "$TRUTH" --gpus $G1:$G2 | jq -c '[.cpus, .mems, .verdict]')
mapped=$("$NG" plan --json --topology "$LIAR" --gpus $G1:$G2 --gpu-map "$T/map" 2>"$T/e" |
         jq -c '[.cpus, .mems, .verdict]')
lied=$("$NG" plan --json --topology "$LIAR" --gpus $G1:$G2 | jq -c '[.cpus, .mems, .verdict]')
[ -n "$truth" ] && [ "$mapped" = "$truth" ] && [ "$lied" != "$truth" ] &&
    grep -q "locality of 2 GPU(s) comes from gpu_map $T/map (measured)" "$T/e" &&
    pass plan-with-map-places-by-measurement ||
    fail plan-with-map-places-by-measurement "truth $truth mapped $mapped lied $lied $(cat "$T/e")"
out=$("$NG" explain --topology "$LIAR" --gpus 3 --gpu-map "$T/map" 2>&1)
grep -q "rank 0 \[local\]: GPU $G2 local to NUMA node 1; cpus $N1" <<< "$out" &&
    pass explain-id-line-and-locality-line-together || fail explain-id-line-and-locality-line-together "$out"
# exec binds for real by the map (and the stand-in sees the copy come from there)
: > "$T/copies.log"
out=$(NUMA_GPU_CUDA_LIB=$CUDA "$NG" exec --topology "$LIAR" --gpu-map "$T/map" --gpus $G1 -- \
      "$NG" calibrate --here --gpus $G1 --size 8M --repeat 3 --json 2>/dev/null); rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '.rows[0].cpus' <<< "$out")" = "$N0" ] &&
    [ "$(jq -r .verdict <<< "$out")" = here ] && [ -s "$T/copies.log" ] &&
    ! grep -qv " $G1 [0-9]* 0 " "$T/copies.log" &&
    pass exec-by-map-copies-from-measured-node || fail exec-by-map-copies-from-measured-node "rc=$rc $out"
printf 'numa_node %s 7\n' $G1 > "$T/badmap"
expect plan-refuses-bad-map 2 "gpu_map $T/badmap line 1: node(s) 7 of GPU $G1 are not NUMA nodes" \
    "$NG" plan --topology "$LIAR" --gpus $G1 --gpu-map "$T/badmap"

# --- --here: as a process is placed (the basis of make check-gpu).
here() { taskset -c "$1" env NUMA_GPU_CUDA_LIB="$CUDA" "$NG" calibrate --here --gpus $G2 \
             --size 8M --repeat 3 --json | jq -r '.rows[0].h2d_gbps'; }
c0=${N0%%[-,]*} c1=${N1%%[-,]*}
near=$(here "$c1") far=$(here "$c0")
awk -v n="$near" -v f="$far" 'BEGIN { exit !(n > 1.5 * f) }' && pass here-measures-placement ||
    fail here-measures-placement "GPU $G2 from cpu $c1 $near GB/s, from cpu $c0 $far GB/s"

# --- HIP, a subset of GPUs by bus id, one node.
out=$(NUMA_GPU_HIP_LIB=$T/libamdhip64.so "$NG" calibrate "${SZ[@]}" --topology "$LIAR" \
      --gpus $G2 --json); rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '[.runtime, .busid, .verdict] | join(" ")' <<< "$out")" = "hip $G2 disagrees" ] &&
    pass hip-runtime || fail hip-runtime "rc=$rc $out"
out=$(cal --topology "$LIAR" --nodes 1 --gpus 1 --json); rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '[(.rows | length), .verdict, .map_nodes] | join(" ")' <<< "$out")" = "1 not-enough " ] &&
    pass one-node-no-verdict || fail one-node-no-verdict "rc=$rc $out"
out=$(cal --topology "$SILENT" --list); rc=$?
[ $rc -eq 0 ] && grep -q "^1 *$G2 *unknown *stand-in GPU 1" <<< "$out" && pass list || fail list "$out"

# --- make check-gpu's script on the stand-in (its plumbing; real GPUs run it for real):
# GPU 2 is near node 1, Slurm's default puts the rank on node 0 (the first CPU's).
env NUMA_GPU_CUDA_LIB="$CUDA" NUMA_GPU_TOPOLOGY="$LIAR" CHECK_GPU_OUT="$T/cg" CHECK_GPU_ROUNDS=3 \
    CHECK_GPU_SIZE=8M CHECK_GPU_REPEAT=3 NUMA_GPU_BUILD="$B" bash tests/gpu/check-gpu.sh > "$T/cg.out" 2>&1
grep -E '^(PASS|FAIL|SKIP) ' "$T/cg.out" | ng_relay
r=$(jq -r --arg b $G2 '.gpus[] | select(.busid == $b) | .h2d_gbps.numa_gpu / .h2d_gbps.slurm' \
    "$T/cg/results.json" 2>/dev/null)
grep -q "^NOTE: a stand-in runtime" "$T/cg.out" && grep -q "^END check-gpu.sh: [1-9][0-9]* passed, 0 failed" "$T/cg.out" &&
    awk -v r="${r:-0}" 'BEGIN { exit !(r > 1.5) }' && pass check-gpu-side-by-side-on-standin ||
    fail check-gpu-side-by-side-on-standin "numa-gpu/slurm H2D for $G2: '$r'; $(tail -5 "$T/cg.out")"

# --- every option's bounds, named.
expect size-too-small 2 "invalid --size '512K' (expected bytes with an optional K, M or G suffix, 1M..4G" \
    "$NG" calibrate --size 512K
expect size-too-big 2 "invalid --size '5G'" "$NG" calibrate --size 5G
expect size-junk 2 "invalid --size '64Q'" "$NG" calibrate --size 64Q
expect repeat-zero 2 "invalid --repeat '0' (expected an integer 1..1000)" "$NG" calibrate --repeat 0
expect repeat-junk 2 "invalid --repeat '3x'" "$NG" calibrate --repeat 3x
expect tolerance-bounds 2 "invalid --tolerance '51' (expected an integer 1..50)" "$NG" calibrate --tolerance 51
expect nodes-not-cpu-nodes 2 "--nodes '2': calibrate measures NUMA nodes with CPUs; topology $TRUTH has 0-1" \
    env NUMA_GPU_CUDA_LIB="$CUDA" "$NG" calibrate --topology "$TRUTH" --nodes 2
expect nodes-junk 2 "invalid --nodes 'x'" env NUMA_GPU_CUDA_LIB="$CUDA" "$NG" calibrate --topology "$TRUTH" --nodes x
expect gpus-unknown 2 "GPU list '7': '7' is not one of the runtime's 2 GPU(s) (give ordinals 0..1 or PCI bus ids" \
    env NUMA_GPU_CUDA_LIB="$CUDA" "$NG" calibrate --topology "$TRUTH" --gpus 7
expect here-without-map 2 "--here measures this process where it is placed" \
    "$NG" calibrate --here --write-map "$T/x"
expect unknown-option 2 "calibrate: unknown argument '--ntasks'" "$NG" calibrate --ntasks 2
ng_end
