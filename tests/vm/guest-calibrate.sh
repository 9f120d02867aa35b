# Runs inside the GPU-node-shaped guest (busybox sh): 4 CPU nodes + a
# memory-only node 4, four VGA devices on nodes 3, 2, 1, 0 found by live
# hwloc. numa-gpu calibrate with the stand-in runtime (/test/libcuda.so.1:
# plumbing, not hardware) on a real multi-node kernel: the stand-in judges a
# copy by the node of the host buffer's pages (get_mempolicy), and each
# "GPU" is set to be near the node after the one its firmware names. So the
# verdicts come out right only if calibrate really puts each buffer on its
# node and binds each thread to that node's CPUs. Then the map, and exec by
# the map puts a rank's pages on the measured node.
NG_FAILED=0
pass() { echo "PASS vm-calibrate/$1"; }
fail() { NG_FAILED=$((NG_FAILED + 1)); echo "FAIL vm-calibrate/$1: $2"; }
kv() { echo "$1" | sed -n "s/^$2=//p" | head -1; }
# jv LINE KEY: a JSON line's top-level string or number value (no jq here)
jv() { echo "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^\",]*\)\"\{0,1\}[,}].*/\1/p" | tail -1; }

echo "guest: $(uname -r), $(ls -d /sys/devices/system/node/node* | wc -l) NUMA nodes"
GPUS="" NEAR=""
for d in /sys/bus/pci/devices/*; do
    case $(cat "$d/class") in 0x03*) ;; *) continue ;; esac
    b=$(basename "$d") n=$(cat "$d/numa_node")
    GPUS="$GPUS${GPUS:+,}$b"
    NEAR="$NEAR${NEAR:+,}$b=$(((n + 1) % 4))"
done
echo "guest: GPUs $GPUS; the stand-in makes them near $NEAR"
[ "$(echo "$GPUS" | tr ',' '\n' | grep -c .)" = 4 ] || { fail setup "want 4 display devices: $GPUS"; exit 1; }
export NUMA_GPU_CUDA_LIB=/test/libcuda.so.1 NG_STANDIN_GPUS=$GPUS NG_STANDIN_NEAR=$NEAR NG_STANDIN_GBPS=4,1

out=$(numa-gpu calibrate --size 8M --repeat 3 --json --write-map /tmp/map 2>&1); rc=$?
echo "$out" | sed 's/^/guest: /' | cut -c1-400
bad=""
for b in $(echo "$GPUS" | tr ',' ' '); do
    n=$(cat "/sys/bus/pci/devices/$b/numa_node") want=$(((n + 1) % 4))
    line=$(echo "$out" | grep "\"busid\":\"$b\"")
    got="$(jv "$line" firmware_nodes) $(jv "$line" measured_nodes) $(jv "$line" verdict)"
    [ "$got" = "$n $want disagrees" ] || bad="$bad $b: '$got' want '$n $want disagrees';"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && pass every-gpu-found-near-its-measured-node || fail every-gpu-found-near-its-measured-node "rc=$rc$bad"

# Every row: its buffer wholly on its node, its thread on that node's CPUs.
line=$(echo "$out" | grep '^{' | head -1)
bad=""
for n in 0 1 2 3; do
    row=$(echo "$line" | grep -o "{\"node\":$n,[^}]*}")
    cpus=$(cat /sys/devices/system/node/node$n/cpulist)
    [ "$(jv "$row" buffer_on_node) $(jv "$row" buffer_node) $(jv "$row" cpus)" = "1.000 $n $cpus" ] ||
        bad="$bad node $n: $row (cpus $cpus);"
done
rows=$(echo "$line" | grep -o '{"node":[0-9]*' | wc -l)
[ -z "$bad" ] && [ "$rows" = 4 ] && pass buffers-on-their-node-threads-on-its-cpus ||
    fail buffers-on-their-node-threads-on-its-cpus "$rows rows;$bad"

# The map, and exec by it: a rank's cpus and pages on the measured node.
bad=""
for b in $(echo "$GPUS" | tr ',' ' '); do
    n=$(cat "/sys/bus/pci/devices/$b/numa_node") want=$(((n + 1) % 4))
    grep -q "^numa_node $b $want\$" /tmp/map || bad="$bad map has no '$b $want';"
    o=$(numa-gpu exec --mode strict --gpu-map /tmp/map --gpus "$b" -- memhelper 16 2>&1)
    cpus=$(cat /sys/devices/system/node/node$want/cpulist)
    pg=$(kv "$o" pages)
    [ "$(kv "$o" cpus) $(kv "$o" policy_nodes) ${pg%%=*}" = "$cpus $want $want" ] && [ "${pg#*,}" = "$pg" ] ||
        bad="$bad $b: cpus $(kv "$o" cpus) policy $(kv "$o" policy_nodes) pages $pg, want node $want;"
done
[ -z "$bad" ] && pass exec-by-map-pages-on-measured-node || fail exec-by-map-pages-on-measured-node "$bad"

# --here in that rank: the copies are near (the stand-in saw the buffer there).
b=$(echo "$GPUS" | cut -d, -f1)
here="calibrate --here --gpus $b --size 8M --repeat 5 --json"
near=$(numa-gpu exec --gpu-map /tmp/map --gpus "$b" -- numa-gpu $here 2>/dev/null)
far=$(numa-gpu exec --gpus "$b" -- numa-gpu $here 2>/dev/null)
s1=$(awk -v a="$(jv "$near" h2d_gbps)" -v b="$(jv "$near" d2h_gbps)" 'BEGIN { print (a + b) / 2 }')
s0=$(awk -v a="$(jv "$far" h2d_gbps)" -v b="$(jv "$far" d2h_gbps)" 'BEGIN { print (a + b) / 2 }')
echo "guest: $b placed by the map $s1 GB/s, by the firmware $s0 GB/s (mean of H2D and D2H)"
awk -v a="$s1" -v b="$s0" 'BEGIN { exit !(b > 0 && a > 1.5 * b) }' &&
    pass here-by-map-faster-than-by-firmware || fail here-by-map-faster-than-by-firmware "$near / $far"
exit $((NG_FAILED > 0))
