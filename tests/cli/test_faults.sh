#!/bin/bash
# Fault injection on the apply path the plugin and `numa-gpu exec` share
# (tests/faults/shim.c via LD_PRELOAD): prefer runs the program unbound with
# one clear message, strict refuses to run it, nothing stays half-applied.
source "$(dirname "$0")/lib.sh"
SHIM=$(cd "$(dirname "$0")/../.." && pwd)/build/fault-shim.so
ng_suite faults
ng_tmpdir faults
[ -f "$SHIM" ] || { skip all "$SHIM not built"; ng_end; }
sh tests/lab/lab-topology.sh "$T/lab.xml"
ALL=$(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
# LD_PRELOAD of a non-ASan shim into an ASan binary is refused by ASan.
case "$NG" in *asan*) skip all "the shim is not built with ASan"; ng_end ;; esac
REPORT='echo cpus=$(awk "/Cpus_allowed_list/ {print \$2}" /proc/self/status); echo pol=$(grep -c " bind:\| prefer" /proc/self/numa_maps)'

run() { # FAULT MODE -> $T/out, $T/err, rc
    NG_FAULT=$1 LD_PRELOAD=$SHIM "$NG" exec --mode "$2" --topology "$T/lab.xml" --gpus 0000:01:00.0 \
        -- sh -c "$REPORT" >"$T/out" 2>"$T/err"
}
for f in set_mempolicy:EPERM set_mempolicy:EINVAL sched_setaffinity:EINVAL; do
    call=${f%%:*}
    run "$f" prefer; rc=$?
    [ $rc -eq 0 ] && grep -q "cpus=$ALL" "$T/out" && grep -q "pol=0" "$T/out" &&
        [ "$(grep -c "$call" "$T/err")" = 1 ] && grep -q "running unbound" "$T/err" &&
        pass "prefer-runs-unbound-$call-${f#*:}" ||
        fail "prefer-runs-unbound-$call-${f#*:}" "rc=$rc $(cat "$T/out" "$T/err")"
    run "$f" strict; rc=$?
    [ $rc -ne 0 ] && [ ! -s "$T/out" ] && grep -q "$call" "$T/err" &&
        pass "strict-refuses-$call-${f#*:}" || fail "strict-refuses-$call-${f#*:}" "rc=$rc $(cat "$T/out" "$T/err")"
done
# A corrupt topology cache and a GPU that does not exist: errors, no signal.
head -c 2000 "$T/lab.xml" > "$T/corrupt.xml"
"$NG" exec --mode strict --topology "$T/corrupt.xml" --gpus 0000:01:00.0 -- true 2>"$T/err"; rc=$?
[ $rc -ge 1 ] && [ $rc -le 2 ] && grep -q "topology '$T/corrupt.xml'" "$T/err" &&
    pass corrupt-topology-named || fail corrupt-topology-named "rc=$rc $(cat "$T/err")"
"$NG" exec --mode strict --topology "$T/lab.xml" --gpus 0000:99:00.0 -- true 2>"$T/err"; rc=$?
[ $rc -ge 1 ] && [ $rc -le 2 ] && grep -q "0000:99:00.0" "$T/err" &&
    pass missing-gpu-named || fail missing-gpu-named "rc=$rc $(cat "$T/err")"
ng_end
