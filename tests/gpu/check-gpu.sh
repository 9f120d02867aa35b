#!/bin/bash
# make check-gpu: on a machine with real GPUs, numa-gpu calibrate (every
# NUMA node x every GPU, pinned copies, a gpu_map from the measurement), then
# per GPU a side-by-side in one run: the pinned H2D/D2H bandwidth of one
# rank placed by numa-gpu (numa-gpu exec with that map) against the same
# rank placed as Slurm places it without numa-gpu (task/affinity's block
# layout: the cores of the allocation's first node, memory first-touched
# there) and on the GPU's worst node, as ratios. The three placements take
# turns, ROUNDS times, and the medians are compared. Each rank is a process
# running `numa-gpu calibrate --here`, which measures where it was put.
#
# Without a GPU runtime it skips with one line (a machine whose PCI tree has
# GPUs but no runtime fails). NUMA_GPU_CUDA_LIB / NUMA_GPU_HIP_LIB name a
# runtime in an unusual place; with the tests' stand-in runtime it runs the
# plumbing only and says so.
#   NUMA_GPU_BUILD (build)  CHECK_GPU_ROUNDS (3)  CHECK_GPU_SIZE (64M)
#   CHECK_GPU_REPEAT (10)   CHECK_GPU_OUT (build/check-gpu): results.md, results.json, gpu_map
set -u
B=${NUMA_GPU_BUILD:-build}
NG=$(cd "$(dirname "$B/numa-gpu")" && pwd)/numa-gpu
ROUNDS=${CHECK_GPU_ROUNDS:-3} SIZE=${CHECK_GPU_SIZE:-64M} REPEAT=${CHECK_GPU_REPEAT:-10}
OUT=${CHECK_GPU_OUT:-$B/check-gpu}
source "$(dirname "$0")/../harness.sh"
ng_suite check-gpu
[ -x "$NG" ] || { fail build "no $NG (run make first)"; ng_end; }
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { fail rounds "CHECK_GPU_ROUNDS '$ROUNDS' (expected 1..99)"; ng_end; }
mkdir -p "$OUT" || { fail out "cannot create $OUT"; ng_end; }
MAP=$OUT/gpu_map

# --- is there a GPU runtime here?
list=$("$NG" calibrate --list --json 2>"$OUT/list.err"); rc=$?
if [ $rc -ne 0 ]; then
    pci=$("$NG" topo --json 2>/dev/null | jq -r 'select(.vendor == "NVIDIA" or .vendor == "AMD") | .busid' |
          tr '\n' ' ')
    if [ -n "$pci" ]; then
        fail runtime "GPUs in the PCI tree ($pci) but: $(head -1 "$OUT/list.err")"
    else
        skip no-gpu "no GPU here: $(head -1 "$OUT/list.err" | sed 's/^numa-gpu: calibrate: //')"
    fi
    ng_end
fi
gpus=$(jq -r .busid <<< "$list")
ng_nonempty gpus "$(wc -w <<< "$gpus")" || ng_end
if "$NG" calibrate --list 2>/dev/null | grep -q "stand-in GPU"; then
    echo "NOTE: a stand-in runtime ($(env | grep -o 'NUMA_GPU_[A-Z]*_LIB=[^ ]*' | head -1)):" \
         "this run checks the plumbing, not the hardware"
fi

# --- calibrate: the matrix (shown), the measurement the map is made of.
"$NG" calibrate --size "$SIZE" --repeat "$REPEAT" 2> "$OUT/calibrate.err" | tee "$OUT/calibrate.txt"
"$NG" calibrate --size "$SIZE" --repeat "$REPEAT" --json --write-map "$MAP" \
    > "$OUT/calibrate.json" 2>> "$OUT/calibrate.err"; rc=$?
[ $rc -eq 0 ] && [ -s "$MAP" ] && pass "calibrate ($(wc -w <<< "$gpus") GPU(s), map $MAP)" ||
    { fail calibrate "rc=$rc $(head -3 "$OUT/calibrate.err")"; ng_end; }
cal() { jq -r --arg b "$1" "select(.busid == \$b) | $2" "$OUT/calibrate.json"; }
rows() { jq -s '.[0].rows[] | select(.node != null and .measured)' "$OUT/calibrate.json"; }
first_cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
# Slurm's node: the calibrate row whose cpus hold the first allowed CPU
slurm_node=$(rows | jq -r --argjson c "$first_cpu" 'select([.cpus | split(",")[] | split("-") |
    map(tonumber) | if length == 1 then .[0] else range(.[0]; .[1] + 1) end] | index($c) != null) |
    .node' | head -1)
node_cpus() { rows | jq -r --argjson n "$1" 'select(.node == $n) | .cpus' | head -1; }

# run_here HOW BUSID: one rank's bandwidth, placed by HOW (numa-gpu | node N).
run_here() {
    local how=$1 b=$2 mem=()
    local probe=("$NG" calibrate --here --gpus "$b" --size "$SIZE" --repeat "$REPEAT" --json)
    if [ "$how" = numa-gpu ]; then
        "$NG" exec --gpu-map "$MAP" --gpus "$b" -- "${probe[@]}" 2>>"$OUT/exec.err"
    else
        [ -d "/sys/devices/system/node/node$how" ] && mem=(numactl --membind="$how")
        taskset -c "$(node_cpus "$how")" "${mem[@]}" "${probe[@]}" 2>>"$OUT/exec.err"
    fi
}
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) : 0 }'; }

echo "{\"rounds\":$ROUNDS,\"size\":\"$SIZE\",\"repeat\":$REPEAT,\"slurm_default_node\":${slurm_node:-null},\"gpus\":[" > "$OUT/results.json"
{
    echo "| GPU | numa-gpu node | Slurm default node | worst node | H2D GB/s numa-gpu / Slurm / worst | D2H GB/s numa-gpu / Slurm / worst | numa-gpu vs Slurm (H2D, D2H) | numa-gpu vs worst (H2D, D2H) |"
    echo "|---|---|---|---|---|---|---|---|"
} > "$OUT/results.md"
sep=""
for b in $gpus; do
    mapped=$("$NG" plan --json --gpus "$b" --gpu-map "$MAP" 2>/dev/null | jq -r .home)
    worst=$(cal "$b" .worst_node)
    best=$(cal "$b" .measured_nodes)
    if [ -z "$mapped" ] || [ -z "$worst" ] || [ "$worst" = null ] || [ -z "$slurm_node" ]; then
        skip "side-by-side-$b" "no verdict for it (verdict $(cal "$b" .verdict), home '$mapped')"
        continue
    fi
    : > "$OUT/$b.samples"
    for r in $(seq "$ROUNDS"); do
        for p in numa-gpu:numa-gpu "slurm:$slurm_node" "worst:$worst"; do
            tag=${p%%:*} how=${p#*:}
            j=$(run_here "$how" "$b") ||
                { fail "side-by-side-$b" "placement $tag failed: $(tail -2 "$OUT/exec.err")"; continue 3; }
            jq -r --arg t "$tag" '"\($t) \(.rows[0].h2d_gbps) \(.rows[0].d2h_gbps) \(.rows[0].buffer_node) \(.rows[0].cpus)"' \
                <<< "$j" >> "$OUT/$b.samples"
        done
    done
    m() { awk -v t="$1" -v c="$2" '$1 == t { print $c }' "$OUT/$b.samples" | median; }
    nh=$(m numa-gpu 2) nd=$(m numa-gpu 3) sh=$(m slurm 2) sd=$(m slurm 3) wh=$(m worst 2) wd=$(m worst 3)
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
    rs="$(ratio "$nh" "$sh") $(ratio "$nd" "$sd")" rw="$(ratio "$nh" "$wh") $(ratio "$nd" "$wd")"
    printf '| %s | %s | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s |\n' "$b" "$mapped" "$slurm_node" \
        "$worst" "$nh" "$sh" "$wh" "$nd" "$sd" "$wd" "${rs/ /, }" "${rw/ /, }" >> "$OUT/results.md"
    printf '%s{"busid":"%s","numa_gpu_node":"%s","measured_nodes":"%s","slurm_default_node":%s,"worst_node":%s,"h2d_gbps":{"numa_gpu":%s,"slurm":%s,"worst":%s},"d2h_gbps":{"numa_gpu":%s,"slurm":%s,"worst":%s}}\n' \
        "$sep" "$b" "$mapped" "$best" "$slurm_node" "$worst" "$nh" "$sh" "$wh" "$nd" "$sd" "$wd" >> "$OUT/results.json"
    sep=","
    # numa-gpu places by the map (when calibrate wrote a line), and is never
    # measurably worse
    mn=$(cal "$b" .map_nodes)
    if [ "$mn" = null ]; then
        skip "map-places-$b" "no map line: $(cal "$b" .verdict) (the firmware's node $mapped stands)"
    elif [ "$mapped" = "$mn" ]; then
        pass "map-places-$b-on-measured-node-$mapped"
    else
        fail "map-places-$b-on-measured-node" "plan home $mapped, map $mn (measured nearest $best)"
    fi
    awk -v a="$nh" -v b="$sh" -v c="$nd" -v d="$sd" 'BEGIN { exit !(a >= 0.95 * b && c >= 0.95 * d) }' &&
        pass "$b-numa-gpu-not-worse-than-slurm (H2D x${rs% *}, D2H x${rs#* })" ||
        fail "$b-numa-gpu-not-worse-than-slurm" "H2D $nh vs $sh, D2H $nd vs $sd GB/s"
    awk -v a="$nh" -v b="$wh" -v c="$nd" -v d="$wd" 'BEGIN { exit !(a >= 0.95 * b && c >= 0.95 * d) }' &&
        pass "$b-numa-gpu-not-worse-than-worst-node (H2D x${rw% *}, D2H x${rw#* })" ||
        fail "$b-numa-gpu-not-worse-than-worst-node" "H2D $nh vs $wh, D2H $nd vs $wd GB/s"
done
echo "]}" >> "$OUT/results.json"
jq . "$OUT/results.json" > /dev/null 2>&1 && pass results-json || fail results-json "$OUT/results.json is not JSON"
echo
cat "$OUT/results.md"
echo "(medians of $ROUNDS round(s), each a process measuring $SIZE x $REPEAT copies per direction;"
echo " Slurm default = the cores of node $slurm_node, where the allocation's first core is; results in $OUT)"
ng_end
