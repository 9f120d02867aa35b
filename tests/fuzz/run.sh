#!/bin/bash
# tests/fuzz/run.sh replay          every corpus input once through its
#                                   harness (make check): PASS/FAIL lines
# tests/fuzz/run.sh explore SECONDS libFuzzer for SECONDS per harness; new
#                                   inputs go to build/fuzz/work/<h>, a crash
#                                   to build/fuzz/crash-<h>-*: add it to
#                                   tests/fuzz/corpus/<h> as a regression.
# tests/fuzz/run.sh stress N        the topology replay N times in a row,
#                                   every core busy: none may hang
set -u
cd "$(dirname "$0")/../.."
B=${NUMA_GPU_BUILD:-build}
mode=${1:-replay}
secs=${2:-60}
# a replay takes well under a second; libFuzzer stops exploring by itself
# after $secs, the margin is for its last input (-timeout) and the exit
if [ "$mode" = replay ]; then limit=120; else limit=$((secs + 60)); fi
source tests/harness.sh
# hwloc 2.9's own leak on a failed XML import (see tests/lsan.supp)
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp}
if [ "$mode" = stress ]; then
    # The topology replay N times in a row with both cores kept busy: the
    # old fork-without-exec probe hung about once in 70 replays like this.
    n=${2:-200}
    bin=$B/fuzz/fuzz_topology
    [ -x "$bin" ] || { ng_suite fuzz-stress; fail topology "$bin not built"; ng_end; }
    ng_suite fuzz-stress
    busy=()
    for _ in $(seq "$(nproc)"); do (while :; do :; done) & busy+=($!); done
    hung=0 bad=0 t0=$SECONDS
    for _ in $(seq "$n"); do
        timeout -s KILL 20 "$bin" -runs=1 tests/fuzz/corpus/topology/* >/dev/null 2>&1
        case $? in 0) ;; 137) hung=$((hung + 1)) ;; *) bad=$((bad + 1)) ;; esac
    done
    kill "${busy[@]}" 2>/dev/null
    wait 2>/dev/null
    [ $hung -eq 0 ] && [ $bad -eq 0 ] && pass "topology: $n replays in $((SECONDS - t0)) s, none hung" ||
        fail topology "$hung of $n replays hung (killed after 20 s), $bad failed"
    ng_end
fi
if [ "$mode" = replay ]; then ng_suite fuzz-replay; else ng_suite fuzz; fi
# One case per harness, the sources and the binaries together: a harness
# that was never built is a FAIL, not a harness nobody replays.
hs=$( { ls tests/fuzz/fuzz_*.c "$B"/fuzz/fuzz_* 2>/dev/null; } | sed -n 's:.*/fuzz_\([a-z0-9_]*\)\(\.c\)\{0,1\}$:\1:p' | sort -u)
bins=0
for h in $hs; do [ -x "$B/fuzz/fuzz_$h" ] && bins=$((bins + 1)); done
ng_nonempty "binaries-in-$B/fuzz" "$bins"
for h in $hs; do
    bin=$B/fuzz/fuzz_$h
    corpus=tests/fuzz/corpus/$h
    if [ ! -x "$bin" ]; then
        fail "$h" "$bin not built (make check and make fuzz build it)"
    elif [ "$mode" = replay ]; then
        inputs=("$corpus"/*)
        [ -e "${inputs[0]}" ] || { fail "$h" "no inputs in $corpus"; continue; }
        out=$(timeout -k 5 $limit "$bin" -runs=1 "${inputs[@]}" 2>&1)
        rc=$?
        if [ $rc -eq 0 ]; then
            pass "$h (${#inputs[@]} inputs)"
        elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            fail "$h" "hung: the replay did not end in $limit s (killed); $(echo "$out" | grep 'Running: ' | tail -1)"
        else
            fail "$h" "$(echo "$out" | grep -E 'ERROR|SUMMARY|Running: ' | tail -3 | tr '\n' ' ')"
        fi
    else
        mkdir -p "$B/fuzz/work/$h"
        out=$(timeout -k 5 $limit "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 \
              -rss_limit_mb=2048 -artifact_prefix="$B/fuzz/crash-$h-" "$B/fuzz/work/$h" "$corpus" 2>&1)
        rc=$?
        execs=$(echo "$out" | grep -o 'Done [0-9]* runs' | tail -1)
        if [ $rc -eq 0 ]; then
            pass "$h: $execs in $secs s"
        elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            fail "$h" "hung: not done $limit s into a $secs s exploration (killed)"
        else
            fail "$h" "$(echo "$out" | grep -E 'ERROR|SUMMARY|Test unit written' | tail -3 | tr '\n' ' ')"
        fi
    fi
done
ng_end
