#!/bin/bash
# tests/fuzz/run.sh replay          every corpus input once through its
#                                   harness (make check): PASS/FAIL lines
# tests/fuzz/run.sh explore SECONDS libFuzzer for SECONDS per harness; new
#                                   inputs go to build/fuzz/work/<h>, a crash
#                                   to build/fuzz/crash-<h>-*: add it to
#                                   tests/fuzz/corpus/<h> as a regression.
set -u
cd "$(dirname "$0")/../.."
B=${NUMA_GPU_BUILD:-build}
mode=${1:-replay}
for bin in "$B"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    h=${bin##*/fuzz_}
    corpus=tests/fuzz/corpus/$h
    if [ "$mode" = replay ]; then
        n=$(ls "$corpus" | wc -l)
        if out=$("$bin" -runs=1 "$corpus"/* 2>&1); then
            echo "PASS fuzz-replay/$h ($n inputs)"
        else
            echo "FAIL fuzz-replay/$h: $(echo "$out" | grep -E 'ERROR|SUMMARY|Running: ' | tail -3 | tr '\n' ' ')"
        fi
    else
        mkdir -p "$B/fuzz/work/$h"
        out=$("$bin" -max_total_time="${2:-60}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
              -artifact_prefix="$B/fuzz/crash-$h-" "$B/fuzz/work/$h" "$corpus" 2>&1)
        rc=$?
        execs=$(echo "$out" | grep -o 'Done [0-9]* runs' | tail -1)
        [ $rc -eq 0 ] && echo "PASS fuzz/$h: $execs in ${2:-60} s" ||
            echo "FAIL fuzz/$h: $(echo "$out" | grep -E 'ERROR|SUMMARY|Test unit written' | tail -3 | tr '\n' ' ')"
    fi
done
exit 0
