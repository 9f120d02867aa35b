#!/bin/bash
# Container hints and the kubelet comparison: every docker/podman line
# carries its rank's plan row (cpuset-cpus = cpus, cpuset-mems = mems) and
# its GPU by PCI-order index; apptainer runs under `numa-gpu exec` with the
# same row; explain --k8s shows single-numa-node refusing what cannot fit
# one node, restricted and best-effort admitting it.
source "$(dirname "$0")/lib.sh"
ng_suite containers
X=$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml
A=$C/llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml

plan=$("$NG" plan --json --topology "$X" --ntasks 4 --gpus-per-task 1 2>/dev/null)
# GPU r's PCI-order index among the machine's GPUs
order=$("$NG" topo --json --topology "$X" | jq -r .pci_busid)
for rt in docker podman; do
    out=$("$NG" hints --$rt --topology "$X" --ntasks 4 --gpus-per-task 1 2>&1); rc=$?
    bad=""
    for r in 0 1 2 3; do
        row=$(jq -c "select(.rank == $r)" <<< "$plan")
        bus=$(jq -r '.gpus[0].pci_busid' <<< "$row")
        idx=$(grep -n "^$bus\$" <<< "$order" | cut -d: -f1); idx=$((idx - 1))
        want="$rt run --cpuset-cpus=$(jq -r .cpus <<< "$row") --cpuset-mems=$(jq -r .mems <<< "$row") --gpus '\"device=$idx\"' IMAGE ..."
        line=$(grep -A1 "^# rank $r " <<< "$out" | tail -1)
        [ "$line" = "$want" ] || bad="$bad rank $r: '$line' want '$want';"
    done
    [ $rc -eq 0 ] && [ -z "$bad" ] && pass "$rt-lines-carry-plan-rows" || fail "$rt-lines-carry-plan-rows" "rc=$rc$bad"
done
out=$("$NG" hints --apptainer --topology "$A" --ntasks 2 --gpus-per-task 1 2>&1); rc=$?
row=$("$NG" plan --json --topology "$A" --ntasks 2 --gpus-per-task 1 2>/dev/null | jq -c 'select(.rank == 1)')
[ $rc -eq 0 ] && grep -q "^APPTAINERENV_ROCR_VISIBLE_DEVICES=1 numa-gpu exec --cpus $(jq -r .cpus <<< "$row") --mems $(jq -r .mems <<< "$row") --gpus $(jq -r '.gpus[0].pci_busid' <<< "$row") -- apptainer exec --rocm IMAGE" <<< "$out" &&
    pass apptainer-under-numa-gpu-exec || fail apptainer-under-numa-gpu-exec "rc=$rc $out"
out=$("$NG" hints --docker --podman --topology "$X" --ntasks 1 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "one of --docker, --podman, --apptainer" <<< "$out" &&
    pass one-runtime-at-a-time || fail one-runtime-at-a-time "rc=$rc $out"

# One rank with two GPUs on two nodes: no single node holds it.
out=$("$NG" explain --k8s --topology "$X" --gpus 0000:4e:00.0,0000:5f:00.0 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "^  single-numa-node  r0:rejected" <<< "$out" &&
    grep -q "^  restricted        r0:1,3 " <<< "$out" && grep -q "^  best-effort       r0:1,3 " <<< "$out" &&
    pass k8s-single-numa-node-refuses-two-node-rank || fail k8s-single-numa-node-refuses-two-node-rank "rc=$rc $out"
# One GPU per rank: every policy puts each on one node.
out=$("$NG" explain --k8s --topology "$X" --ntasks 4 --gpus-per-task 1 2>&1)
[ "$(grep -c "(4 of 4 admitted, 4 on one node)" <<< "$out")" = 3 ] && pass k8s-one-gpu-per-rank-aligned ||
    fail k8s-one-gpu-per-rank-aligned "$out"
out=$("$NG" explain --k8s --topology "$C/llnl-ulna-2s-thunderx2-2xamd-gpu-hwloc1.xml" --ntasks 1 2>&1)
grep -q "kubelet topology manager" <<< "$out" && pass k8s-cpu-only-rank || fail k8s-cpu-only-rank "$out"
ng_end
