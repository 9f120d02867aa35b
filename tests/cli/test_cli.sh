#!/bin/bash
# The numa-gpu CLI: golden locality per corpus topology (from the corpus
# README), the JSON interfaces, error messages and exit codes, and `exec`
# binding itself for real on this machine.
source "$(dirname "$0")/lib.sh"
ng_suite cli
ng_tmpdir cli
XMLS=("$C"/*.xml)
[ -e "${XMLS[0]}" ] || XMLS=()

# --- golden: each accelerator's NUMA nodes as the corpus README lists them.
# README rows: | file | pkgs | NUMA nodes | cores | PUs | accels | bus->nodes; ... |
# Every corpus file has its row: a regex that stops matching checks nothing.
rows=0
while IFS='|' read -r _ file _ nnodes _ _ _ golden _; do
    file=$(echo "$file" | xargs); nnodes=$(echo "$nnodes" | xargs); golden=$(echo "$golden" | xargs)
    rows=$((rows + 1))
    # a row of another shape: no golden column would compare nothing
    [ -n "$golden" ] && [ "$nnodes" -gt 0 ] 2>/dev/null ||
        { fail "golden/$file" "README row not '| file | .. | NUMA nodes | .. | bus->nodes |'"; continue; }
    got=$("$NG" topo --json --topology "$C/$file" 2>&1) || { fail "golden/$file" "topo failed: $got"; continue; }
    want_n=0; bad=""
    if [ "$golden" != "-" ]; then
        IFS=';' read -ra pairs <<< "$golden"
        for p in "${pairs[@]}"; do
            p=$(echo "$p" | xargs); bus=${p%%->*}; nodes=${p#*->}
            want_n=$((want_n + 1))
            line=$(echo "$got" | jq -c "select(.pci_busid == \"$bus\")")
            [ -n "$line" ] || { bad="$bus missing"; break; }
            # All of a multi-node machine's nodes = firmware gave no locality.
            if [ "$(echo "$nodes" | tr ',' '\n' | wc -l)" -eq "$nnodes" ] && [ "$nnodes" -gt 1 ]; then
                [ "$(echo "$line" | jq -r '.locality + ":" + (.numa_nodes|length|tostring)')" = "unknown:0" ] ||
                    { bad="$bus: want unknown, got $line"; break; }
            else
                gotn=$(echo "$line" | jq -r '.numa_nodes|map(tostring)|join(",")')
                [ "$gotn" = "$nodes" ] && [ "$(echo "$line" | jq -r .locality)" = known ] ||
                    { bad="$bus: want $nodes, got $gotn"; break; }
            fi
        done
    fi
    n=$(echo "$got" | grep -c . || true)
    [ -z "$bad" ] && [ "$n" -ne "$want_n" ] && bad="$n accelerators listed, README has $want_n"
    [ -z "$bad" ] && pass "golden/$file" || fail "golden/$file" "$bad"
done < <(grep '^| [a-z].*\.xml |' "$C/README.md")
ng_nonempty golden-rows "$rows" && [ "$rows" -ne "${#XMLS[@]}" ] &&
    fail golden-rows "$rows README rows, ${#XMLS[@]} .xml files in $C"

# --- plan --json: one object per rank with the documented fields.
bad=""
for f in "${XMLS[@]}"; do
    busids=$("$NG" topo --json --topology "$f" | jq -r .pci_busid | paste -sd: -)
    if [ -n "$busids" ]; then args=(--gpus "$busids"); else args=(--ntasks 3); fi
    out=$("$NG" plan --json --topology "$f" "${args[@]}" 2>&1) || { bad="$f: $out"; break; }
    echo "$out" | jq -e 'has("rank") and (.gpus|type=="array") and (.cpus|type=="string")
        and (.mems|type=="string") and has("policy") and has("verdict") and has("reason")' \
        >/dev/null || { bad="$f: missing fields: $out"; break; }
    cpus=$(echo "$out" | jq -r .cpus | grep -c .)
    [ "$cpus" -eq "$(echo "$out" | wc -l)" ] || { bad="$f: rank without cpus"; break; }
done
[ -n "${XMLS[*]}" ] && [ -z "$bad" ] && pass plan-json-schema || fail plan-json-schema "${bad:-no corpus file}"

# --- errors: exit 2 and the message names the bad value and what is allowed.
echo "not xml" > "$T/junk.xml"
H100=$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml
err_case() { # name expected-rc must-contain... -- args
    local name=$1 want=$2; shift 2
    local needles=()
    while [ "$1" != "--" ]; do needles+=("$1"); shift; done; shift
    out=$("$NG" "$@" 2>&1); rc=$?
    [ $rc -eq "$want" ] || { fail "error/$name" "exit $rc, want $want: $out"; return; }
    for n in "${needles[@]}"; do
        grep -qF -- "$n" <<< "$out" || { fail "error/$name" "message lacks '$n': $out"; return; }
    done
    pass "error/$name"
}
err_case unknown-mode 2 "'bogus'" "off|prefer|strict|interleave|explain" -- plan --topology "$H100" --ntasks 1 --mode bogus
err_case ntasks-zero 2 "'0'" "1..65536" -- plan --topology "$H100" --ntasks 0
err_case ntasks-word 2 "'two'" -- plan --topology "$H100" --ntasks two
err_case unknown-command 2 "'plna'" "topo|plan" -- plna
err_case bad-gpu-id 2 "'gpu7'" -- plan --topology "$H100" --gpus gpu7
err_case gpu-not-in-topology 2 "0000:99:00.0" -- plan --topology "$H100" --gpus 0000:99:00.0
err_case no-ranks 2 "--ntasks" -- plan --topology "$H100"
err_case bad-cpulist 2 "'3-1'" -- plan --topology "$H100" --ntasks 1 --cpus 3-1
err_case missing-topology 1 "/nonexistent.xml" -- topo --topology /nonexistent.xml
err_case not-xml 1 "$T/junk.xml" -- topo --topology "$T/junk.xml"
err_case exec-without-program 2 "PROGRAM" -- exec --topology "$H100"
err_case strict-remote-refused 1 "strict" "0002:01:00.0" -- plan --mode strict \
    --topology "$C/sgi-uv2000-restricted-2gpu-empty-locality.xml" --gpus 0002:01:00.0

# --- topology cache: what is saved loads back with the same accelerators.
"$NG" save-topology "$T/cache.xml" 2>"$T/err" &&
    diff <("$NG" topo --json) <("$NG" topo --json --topology "$T/cache.xml") >"$T/diff" &&
    pass topology-cache-roundtrip || fail topology-cache-roundtrip "$(cat "$T/err" "$T/diff")"
NUMA_GPU_TOPOLOGY=$H100 "$NG" topo --json | grep -q 0000:4e:00.0 &&
    pass topology-from-env || fail topology-from-env "NUMA_GPU_TOPOLOGY ignored"

# --- exec binds itself for real: the lab topology splits this machine's CPUs
# into two NUMA domains with one GPU each.
sh tests/lab/lab-topology.sh "$T/lab.xml"
"$B/mkfakeroot" "$T/lab.xml" "$T/root"
mems=$(awk '/Mems_allowed_list/ {print $2}' /proc/self/status)
plan=$("$NG" plan --json --topology "$T/lab.xml" --gpus 0000:01:00.0:0000:02:00.0 --mems "$mems")
for r in 0 1; do
    want=$(echo "$plan" | jq -r "select(.rank == $r) | .cpus")
    got=$("$NG" exec --topology "$T/lab.xml" --gpus 0000:01:00.0:0000:02:00.0 --local-rank $r \
          -- awk '/Cpus_allowed_list/ {print $2}' /proc/self/status 2>"$T/err")
    [ -n "$want" ] && [ "$got" = "$want" ] && pass "exec-binds-rank-$r" ||
        fail "exec-binds-rank-$r" "Cpus_allowed_list '$got', plan '$want' $(cat "$T/err")"
done
# GPU named by UUID through a fake /proc/driver/nvidia tree.
uuid=$(awk '$1 == "0000:02:00.0" {print $4}' "$T/root/manifest.tsv")
want=$(echo "$plan" | jq -r 'select(.gpus[0].pci_busid == "0000:02:00.0") | .cpus')
got=$(CUDA_VISIBLE_DEVICES=$uuid "$NG" exec --topology "$T/lab.xml" --procfs-root "$T/root/proc" \
      --sysfs-root "$T/root/sys" -- sh -c 'awk "/Cpus_allowed_list/ {print \$2}" /proc/self/status; echo "$NUMA_GPU_NODE $OMP_NUM_THREADS $OMP_PROC_BIND"' 2>"$T/err")
[ -n "$uuid" ] && [ "$got" = "$want
1 1 close" ] && pass exec-gpu-by-uuid-env || fail exec-gpu-by-uuid-env "uuid '$uuid' got '$got' want cpus '$want' $(cat "$T/err")"
# torchrun: every local rank sees all GPUs; LOCAL_RANK picks its chunk.
minor1=$(awk '$3 == "1" {print $1}' "$T/root/manifest.tsv")
want=$(echo "$plan" | jq -r "select(.gpus[0].pci_busid == \"$minor1\") | .cpus")
got=$(LOCAL_RANK=1 LOCAL_WORLD_SIZE=2 CUDA_VISIBLE_DEVICES=0,1 "$NG" exec --topology "$T/lab.xml" \
      --procfs-root "$T/root/proc" --sysfs-root "$T/root/sys" \
      -- awk '/Cpus_allowed_list/ {print $2}' /proc/self/status 2>"$T/err")
[ -n "$want" ] && [ "$got" = "$want" ] && pass exec-torchrun-local-rank || fail exec-torchrun-local-rank "got '$got' want '$want' $(cat "$T/err")"
# User's own OMP settings win.
got=$(OMP_NUM_THREADS=7 "$NG" exec --topology "$T/lab.xml" --gpus 0000:01:00.0 -- sh -c 'echo $OMP_NUM_THREADS')
[ "$got" = 7 ] && pass exec-keeps-user-omp || fail exec-keeps-user-omp "OMP_NUM_THREADS=$got"
# strict refusal: the program never runs.
rm -f "$T/ran"
"$NG" exec --mode strict --topology "$T/lab.xml" --gpus 0000:01:00.0 --cpus 1 -- touch "$T/ran" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/ran" ] && grep -q strict "$T/err" && pass exec-strict-refuses ||
    fail exec-strict-refuses "rc=$rc ran=$([ -e "$T/ran" ] && echo yes) $(cat "$T/err")"
# explain applies nothing.
before=$(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
got=$("$NG" exec --mode explain --topology "$T/lab.xml" --gpus 0000:02:00.0 -- awk '/Cpus_allowed_list/ {print $2}' /proc/self/status 2>"$T/err")
[ "$got" = "$before" ] && grep -q "explain" "$T/err" && pass exec-explain-applies-nothing ||
    fail exec-explain-applies-nothing "cpus $got (before $before)"

# --- offline plans: a file topology whose GPUs have no cuda/nvml/rsmi OS
# device falls back to PCI order with a one-line note, and never reads this
# machine's /proc or /sys; each rank lands on the node the corpus README
# gives its GPU (README order there is not PCI order).
f=jsc-juwels-booster-2s-epyc7402-nps4-4xa100-nogpuosdev.xml
out=$("$NG" plan --json --topology "$C/$f" --ntasks 4 --gpus-per-task 1 2>"$T/offline.err")
rc=$?
golden=$(grep "^| $f " "$C/README.md" | awk -F'|' '{print $8}' | tr ';' '\n' | sed 's/ //g' | sort)
got=$(echo "$out" | jq -r '.gpus[0].pci_busid + "->" + .home' | sort)
[ $rc -eq 0 ] && [ -n "$golden" ] && [ "$got" = "$golden" ] && grep -q "names no GPU by index; GPU index N is the N-th of its 4 GPUs in PCI order" "$T/offline.err" &&
    [ "$(echo "$out" | jq -r .gpus[0].pci_busid | head -1)" = "0000:03:00.0" ] &&
    pass offline-plan-pci-order-with-note || fail offline-plan-pci-order-with-note "rc=$rc got '$got' want '$golden' $(cat "$T/offline.err")"
# A remote verdict names what the admin can change.
out=$("$NG" plan --json --topology "$C/$f" --gpus 0000:03:00.0 --cpus 0-5 --mode prefer 2>&1)
echo "$out" | jq -r .reason | grep -q "gres.conf Cores= (numa-gpu gres-conf) and --gres-flags=enforce-binding" &&
    [ "$(echo "$out" | jq -r .verdict)" = remote ] &&
    pass remote-verdict-names-the-fix || fail remote-verdict-names-the-fix "$out"

# --- gres-conf: Cores= per GPU as Slurm core indexes of its NUMA node,
# checked against hwloc-calc's own answer (the logical cores inside the
# node); a sub-package node says numa_node_as_socket is needed.
f=dell-xe8640-2s-xeon8480-snc4-4xh100.xml
"$NG" gres-conf --topology "$C/$f" >"$T/gres.conf" 2>&1
rc=$?
bad=""
grep -q "SlurmdParameters=numa_node_as_socket" "$T/gres.conf" || bad="no numa_node_as_socket note;"
npairs=0
for pair in $(grep "^| $f " "$C/README.md" | awk -F'|' '{print $8}' | tr -d ' ' | tr ';' ' '); do
    bus=${pair%%->*}; node=${pair#*->}
    want=$(hwloc-calc --input "$C/$f" --pi --intersect core "numa:$node" | awk -F, '{print $1 "-" $NF}')
    got=$(grep -A1 "^# $bus " "$T/gres.conf" | sed -n 's/.*Cores=//p')
    npairs=$((npairs + 1))
    [ -n "$want" ] && [ "$got" = "$want" ] || bad="$bad $bus: Cores=$got want $want;"
done
[ "$npairs" -gt 0 ] || bad="$bad no accelerator of $f in the README;"
[ $rc -eq 0 ] && [ -z "$bad" ] && pass gres-conf-cores-per-numa-node || fail gres-conf-cores-per-numa-node "$bad $(cat "$T/gres.conf")"
"$NG" gres-conf --topology "$C/$f" --per-package >"$T/gres2.conf" 2>&1
grep -q "Cores=0-55" "$T/gres2.conf" && grep -q "Cores=56-111" "$T/gres2.conf" && ! grep -q "^#   SlurmdParameters" "$T/gres2.conf" &&
    pass gres-conf-per-package || fail gres-conf-per-package "$(cat "$T/gres2.conf")"
"$NG" gres-conf --topology "$C/jsc-juropa3-2s-snb-2xk20-no-pci-locality-hwloc1.xml" | grep -q "firmware gives no NUMA locality; no Cores=" &&
    pass gres-conf-unknown-locality-no-cores || fail gres-conf-unknown-locality-no-cores "$("$NG" gres-conf --topology "$C/jsc-juropa3-2s-snb-2xk20-no-pci-locality-hwloc1.xml" 2>&1)"
"$NG" gres-conf --bogus >"$T/ge" 2>&1
[ $? -eq 2 ] && grep -q "unknown argument '--bogus'" "$T/ge" && pass gres-conf-bad-argument || fail gres-conf-bad-argument "$(cat "$T/ge")"
ng_end
