# Runs inside the multi-NUMA guest (busybox sh). Topology comes from live
# hwloc discovery; the "GPUs" are the VGA devices the kernel reports on
# node 0 and node 1. Prints PASS/FAIL/SKIP lines and a table of page
# placement measured from numa_maps.
MB=64
# (busybox sh: no tests/harness.sh here; the host relays these lines and
# the exit status says whether a case failed)
NG_FAILED=0
pass() { echo "PASS vm/$1"; }
fail() { NG_FAILED=$((NG_FAILED + 1)); echo "FAIL vm/$1: $2"; }
kv() { echo "$1" | sed -n "s/^$2=//p" | head -1; }
# pages on node N out of all pages, from memhelper's pages=0=123,1=456
pages_on() { echo "$1" | tr ',' '\n' | sed -n "s/^$2=//p"; }
total_pages() { echo "$1" | tr ',' '\n' | cut -d= -f2 | awk '{s += $1} END {print s + 0}'; }
pct() { awk -v a="${1:-0}" -v b="$2" 'BEGIN {printf "%.1f", b ? 100 * a / b : 0}'; }
TABLE=""
row() { TABLE="$TABLE$(printf '%-28s %-6s %-22s %s' "$1" "$2" "$3" "$4")
"; }

echo "guest: $(uname -r), $(ls -d /sys/devices/system/node/node* | wc -l) NUMA nodes, uptime $(cut -d' ' -f1 /proc/uptime) s"
# The GPU stand-ins: display-class PCI devices, by the kernel's numa_node.
GPU0=""; GPU1=""
for d in /sys/bus/pci/devices/*; do
    case $(cat "$d/class") in 0x03*) ;; *) continue ;; esac
    n=$(cat "$d/numa_node")
    [ "$n" = 0 ] && GPU0=$(basename "$d")
    [ "$n" = 1 ] && GPU1=$(basename "$d")
done
CPUS0=$(cat /sys/devices/system/node/node0/cpulist)
CPUS1=$(cat /sys/devices/system/node/node1/cpulist)
echo "guest: GPU stand-ins $GPU0 (node 0, cpus $CPUS0) and $GPU1 (node 1, cpus $CPUS1)"
[ -n "$GPU0" ] && [ -n "$GPU1" ] || { fail setup "no display device on node 0 and node 1"; exit 1; }

# 1. live hwloc discovery agrees with the kernel on where each device is,
#    and sees node 2 as memory-only.
t=$(numa-gpu topo 2>&1)
p=$(numa-gpu plan --json --gpus "$GPU0:$GPU1" 2>&1)
g0=$(echo "$p" | grep '"rank":0' | grep -o '"gpu_nodes":\[[0-9,]*\]')
g1=$(echo "$p" | grep '"rank":1' | grep -o '"gpu_nodes":\[[0-9,]*\]')
if [ "$g0" = '"gpu_nodes":[0]' ] && [ "$g1" = '"gpu_nodes":[1]' ] &&
   echo "$t" | awk '$1 == 2 && $3 !~ /^dram/ && $4 == "-" {f = 1} END {exit !f}'; then pass live-topology-locality
else fail live-topology-locality "$g0 $g1 / $t"; fi

# 2. baseline, no numa-gpu: a loader thread on node 0 first-touches the
#    buffer of a rank whose GPU is on node 1.
cpu0=$(echo "$CPUS0" | cut -d, -f1 | cut -d- -f1)
out=$(memhelper -c "$cpu0" $MB)
pg=$(kv "$out" pages); tot=$(total_pages "$pg"); on0=$(pages_on "$pg" 0); on1=$(pages_on "$pg" 1)
remote=$(pct "$((tot - ${on1:-0}))" "$tot")
row "baseline (no plugin)" 1 "$pg" "local $(pct "${on1:-0}" "$tot")% (remote $remote%)"
[ "$(pct "${on0:-0}" "$tot")" != "0.0" ] && awk -v r="$remote" 'BEGIN {exit !(r >= 99.5)}' &&
    pass baseline-first-touch-lands-on-node0 || fail baseline-first-touch-lands-on-node0 "$out"

# 3. numa-gpu exec (the plugin's apply path) for the rank whose GPU is on
#    node 1, the same loader thread pinned on node 0.
for mode in prefer strict interleave; do
    out=$(numa-gpu exec --mode $mode --gpus "$GPU1" -- memhelper -c "$cpu0" $MB 2>&1)
    pg=$(kv "$out" pages); tot=$(total_pages "$pg"); on1=$(pages_on "$pg" 1)
    local_pct=$(pct "${on1:-0}" "$tot")
    want_pol=$mode; [ $mode = prefer ] && want_pol=preferred; [ $mode = strict ] && want_pol=bind
    row "numa-gpu $mode" 1 "$pg" "local $local_pct%"
    got="$(kv "$out" cpus) $(kv "$out" policy) $(kv "$out" policy_nodes)"
    if [ "$got" = "$CPUS1 $want_pol 1" ] && awk -v l="$local_pct" 'BEGIN {exit !(l >= 99.5)}'; then
        pass "exec-$mode-pages-on-gpu-node"
    else
        fail "exec-$mode-pages-on-gpu-node" "got '$got' want '$CPUS1 $want_pol 1', local $local_pct%: $out"
    fi
done

# 4. interleave for a rank with GPUs on both nodes: pages spread over both.
out=$(numa-gpu exec --mode interleave --gpus "$GPU0,$GPU1" -- memhelper $MB 2>&1)
pg=$(kv "$out" pages); tot=$(total_pages "$pg")
p0=$(pct "$(pages_on "$pg" 0)" "$tot"); p1=$(pct "$(pages_on "$pg" 1)" "$tot")
row "numa-gpu interleave 2 GPUs" "0,1" "$pg" "node0 $p0% node1 $p1%"
[ "$(kv "$out" policy) $(kv "$out" policy_nodes)" = "interleave 0,1" ] &&
    awk -v a="$p0" -v b="$p1" 'BEGIN {exit !(a >= 40 && b >= 40)}' &&
    pass exec-interleave-two-nodes || fail exec-interleave-two-nodes "$out"

# 5. GPU named by UUID through a fake /proc/driver/nvidia entry that points
#    at the real PCI device (QEMU's VGA: not an NVIDIA vendor or 3D class).
mkdir -p "/tmp/fp/driver/nvidia/gpus/$GPU1"
printf 'Model: stand-in\nGPU UUID: GPU-11111111-2222-3333-4444-555555555555\nBus Location: %s\nDevice Minor: 0\n' \
    "$GPU1" > "/tmp/fp/driver/nvidia/gpus/$GPU1/information"
out=$(CUDA_VISIBLE_DEVICES=GPU-11111111-2222-3333-4444-555555555555 numa-gpu exec --mode strict \
      --procfs-root /tmp/fp -- memhelper $MB 2>&1)
pg=$(kv "$out" pages); tot=$(total_pages "$pg")
row "numa-gpu strict, CUDA UUID" 1 "$pg" "local $(pct "$(pages_on "$pg" 1)" "$tot")%"
[ "$(kv "$out" cpus) $(kv "$out" policy_nodes)" = "$CPUS1 1" ] && pass gpu-uuid-to-real-pci-device ||
    fail gpu-uuid-to-real-pci-device "$out"
out=$(SLURM_STEP_GPUS=0 numa-gpu exec --mode strict --procfs-root /tmp/fp -- memhelper 2>&1)
[ "$(kv "$out" cpus)" = "$CPUS1" ] && pass gres-minor-to-real-pci-device || fail gres-minor-to-real-pci-device "$out"

# 6. hugepages: a reservation for the rank whose GPU is on node 1 lands in
#    node1's counter, the rank's hugetlb mapping is on node 1, release restores.
NR1=/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
NR0=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
b1=$(cat $NR1); b0=$(cat $NR0)
r=$(numa-gpu hugepages reserve --job 7 --node 1 --size 16M --state-dir /tmp/hp 2>&1)
d1=$(cat $NR1); d0=$(cat $NR0)
out=$(numa-gpu exec --mode strict --gpus "$GPU1" -- memhelper -H 8 2>&1)
pg=$(kv "$out" pages)
numa-gpu hugepages release --job 7 --state-dir /tmp/hp >/dev/null 2>&1
a1=$(cat $NR1)
row "hugetlb 8 MiB, strict" 1 "$pg ($(kv "$out" page_kb) kB)" "node1 nr_hugepages $b1 -> $d1 -> $a1"
if [ "$d1" = $((b1 + 8)) ] && [ "$d0" = "$b0" ] && [ "$a1" = "$b1" ] && [ "$(kv "$out" page_kb)" = 2048 ] &&
   [ "$(pages_on "$pg" 1)" = "$(total_pages "$pg")" ] && [ "$(total_pages "$pg")" -gt 0 ]; then
    pass hugepages-reserved-on-node1-used-released
else
    fail hugepages-reserved-on-node1-used-released "reserve: $r; node1 $b1->$d1->$a1 node0 $b0->$d0; $out"
fi

# 7. memory tiers: node 2 (no CPUs) is a memory-only tier; the pool API
#    stages hot shards on the GPU's DDR node and a cold cache on node 2.
tier2=$(echo "$t" | awk '$1 == 2 {print $3}')
out=$(shard-staging "$GPU1" 16 16 2>&1)
hot=$(kv "$out" hot_pages); cold=$(kv "$out" cold_pages)
row "pool hot shards (GPU node)" 1 "$hot" "bound to DDR node $(kv "$out" gpu_node)"
row "pool cold cache" 2 "$cold" "memory-only tier ($tier2)"
case "$tier2" in dram*|"") tier_ok=0 ;; *) tier_ok=1 ;; esac
if [ $tier_ok = 1 ] && [ "$(kv "$out" gpu_node)" = 1 ] && [ "${hot%%:*}" = 1 ] && [ "${hot#*,}" = "$hot" ] &&
   [ "${cold%%:*}" = 2 ] && [ "${cold#*,}" = "$cold" ]; then
    pass pool-hot-on-gpu-ddr-cold-on-memory-only
else
    fail pool-hot-on-gpu-ddr-cold-on-memory-only "tier '$tier2': $out"
fi
# tiered policy: preferred-many over the GPU's DDR node and node 2; pages go
# to DDR first.
out=$(numa-gpu exec --mode prefer --mem tiered --gpus "$GPU1" -- memhelper $MB 2>&1)
pg=$(kv "$out" pages)
row "numa-gpu --mem tiered" "1,2" "$pg" "policy $(kv "$out" policy) $(kv "$out" policy_nodes)"
[ "$(kv "$out" policy) $(kv "$out" policy_nodes)" = "preferred_many 1,2" ] && [ "$(total_pages "$pg")" -gt 0 ] &&
    [ "$(pages_on "$pg" 1)" = "$(total_pages "$pg")" ] && pass mem-tiered-preferred-many ||
    fail mem-tiered-preferred-many "$out"

echo
printf '%-28s %-6s %-22s %s\n' "case" "want" "pages per node" "locality"
printf '%s' "$TABLE"
exit $((NG_FAILED > 0))
