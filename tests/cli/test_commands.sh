#!/bin/bash
# One file per command: each command takes only its own options (and says
# which one it refused), has its own --help, and every command in the table
# is reachable. The CLI and the plugin share one plan path: a memory tier
# the machine lacks warns and keeps local memory in prefer mode (exec, plan,
# hints alike) and fails strict. `audit --pid` prints the library's verdict
# as valid JSON.
source "$(dirname "$0")/lib.sh"
ng_suite commands
ng_tmpdir cmd
hold=
ng_at_exit 'kill $hold 2>/dev/null'
DELL=$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml   # no HBM, no CXL

# Options belong to their command.
expect topo-refuses-plan-option 2 "topo: unknown argument '--ntasks'" "$NG" topo --ntasks 2
expect explain-refuses-json 2 "explain: unknown argument '--json'" \
    "$NG" explain --topology "$DELL" --ntasks 2 --json
expect audit-refuses-gpus 2 "audit: unknown argument '--gpus'" "$NG" audit --gpus 0 --pid 1
expect plan-refuses-pid 2 "plan: unknown argument '--pid'" "$NG" plan --pid 1
expect hints-refuses-local-rank 2 "hints: unknown argument '--local-rank'" \
    "$NG" hints --local-rank 1
expect missing-value-named 2 "plan: option '--topology' needs a value" "$NG" plan --topology
expect gres-conf-refuses-json 2 "gres-conf: unknown argument '--json'" "$NG" gres-conf --json

# Every command of the table answers --help with its own usage only.
bad=""
cmds=$("$NG" --help | sed -n 's/^ *\(usage: \)\{0,1\}numa-gpu \([a-z][a-z-]*\).*/\2/p' | sort -u)
for c in $cmds; do
    out=$("$NG" "$c" --help 2>&1) && grep -q "numa-gpu $c" <<< "$out" &&
        [ "$(grep -c 'numa-gpu ' <<< "$out")" -eq "$(grep -c "numa-gpu $c" <<< "$out")" ] ||
        bad="$bad $c"
done
[ -n "$cmds" ] && [ -z "$bad" ] && pass "per-command-help ($(echo $cmds | wc -w) commands)" ||
    fail per-command-help "bad:$bad"

# One plan path: --mem hbm on a machine without HBM.
out=$("$NG" plan --json --topology "$DELL" --ntasks 4 --gpus-per-task 1 --mem hbm 2>"$T/e"); rc=$?
# prefer's policy on the GPU's own node, as without --mem.
[ $rc -eq 0 ] && grep -q "warning: .*hbm" "$T/e" &&
    [ "$(jq -r 'select(.mems == .home) | .policy' <<< "$out" | sort -u | tr '\n' ' ')" = "preferred " ] &&
    pass prefer-missing-tier-warns-keeps-local ||
    fail prefer-missing-tier-warns-keeps-local "rc=$rc $(cat "$T/e") $(head -1 <<< "$out")"
expect strict-missing-tier-fails 2 "hbm" \
    "$NG" plan --topology "$DELL" --ntasks 4 --gpus-per-task 1 --mem hbm --mode strict
# exec on this machine (which has no HBM either) follows the same rule.
out=$("$NG" exec --mode prefer --mem hbm --ntasks 1 -- true 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "hbm" <<< "$out" && pass exec-prefer-missing-tier-runs ||
    fail exec-prefer-missing-tier-runs "rc=$rc $out"
out=$("$NG" exec --mode strict --mem hbm --ntasks 1 -- true 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "hbm" <<< "$out" && pass exec-strict-missing-tier-refuses ||
    fail exec-strict-missing-tier-refuses "rc=$rc $out"
out=$(env -u SLURM_NTASKS_PER_NODE -u SLURM_TASKS_PER_NODE CUDA_VISIBLE_DEVICES=0000:5f:00.0 \
      "$NG" hints --topology "$DELL" --mem hbm 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "warning: .*hbm" <<< "$out" && pass hints-prefer-missing-tier-warns ||
    fail hints-prefer-missing-tier-warns "rc=$rc $(head -3 <<< "$out")"

# audit --pid: the library's verdict, as one valid JSON object.
sleep 60 & hold=$!
out=$(env -u CUDA_VISIBLE_DEVICES "$NG" audit --pid $hold --json 2>"$T/e"); rc=$?
v=$(jq -r '.verdict + " " + (.pid|tostring) + " " + (.local_pct|type)' <<< "$out" 2>/dev/null)
[ $rc -eq 0 ] && [ "$v" = "nogpu $hold number" ] && pass audit-pid-json ||
    fail audit-pid-json "rc=$rc '$v' $out"
kill $hold 2>/dev/null; wait $hold 2>/dev/null
# Its GPUs in the shape plan --json gives them (schema 3 of audit --pid).
CUDA_VISIBLE_DEVICES=0000:5f:00.0,0000:4e:00.0 sleep 60 & hold=$!
for _ in $(seq 50); do   # until the exec: before it, the environment is ours
    tr '\0' '\n' < /proc/$hold/environ 2>/dev/null | grep -q ^CUDA_VISIBLE_DEVICES= && break
    sleep 0.1
done
out=$("$NG" audit --pid $hold --topology "$DELL" --json 2>"$T/e"); rc=$?
plan=$("$NG" plan --json --topology "$DELL" --gpus 0000:5f:00.0,0000:4e:00.0 2>&1)
g=$(jq -c '[.schema, .gpus, .gpu_nodes, .gpu_source]' <<< "$out" 2>/dev/null)
want='[3,[{"pci_busid":"0000:5f:00.0","numa_nodes":[1],"locality":"known"},{"pci_busid":"0000:4e:00.0","numa_nodes":[3],"locality":"known"}],[1,3],"CUDA_VISIBLE_DEVICES"]'
[ $rc -eq 0 ] && [ "$g" = "$want" ] &&
    [ "$(jq -c '[.gpus, .gpu_nodes]' <<< "$plan")" = "$(jq -c '[.gpus, .gpu_nodes]' <<< "$out")" ] &&
    pass audit-pid-gpus-shaped-as-plan || fail audit-pid-gpus-shaped-as-plan "rc=$rc $g | $plan"
kill $hold 2>/dev/null; wait $hold 2>/dev/null
CUDA_VISIBLE_DEVICES='7"x' sleep 60 & hold=$!
out=$("$NG" audit --pid $hold --json 2>"$T/e"); rc=$?
[ $rc -eq 1 ] && jq -e . <<< "$out" >/dev/null 2>&1 && grep -q "7\"x" "$T/e" &&
    pass audit-pid-bad-gpu-named-json-still-valid ||
    fail audit-pid-bad-gpu-named-json-still-valid "rc=$rc $out $(cat "$T/e")"
ng_end
