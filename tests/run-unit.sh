#!/bin/bash
# Run every unit test binary in $1 (each prints PASS/FAIL/SKIP lines), with
# the case names prefixed by $2. A binary that dies, hangs (60 s) or exits
# non-zero without saying FAIL counts as a failed case of its own.
set -u
dir=$1
prefix=${2:-}
source "$(dirname "$0")/harness.sh"
ng_suite "${prefix}unit"
# hwloc's own leak on live discovery (tests/lsan.supp), as for the CLI suites.
: "${LSAN_OPTIONS:=suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp}"
: "${ASAN_OPTIONS:=fast_unwind_on_malloc=0}"   # full stacks, so the suppression matches
export LSAN_OPTIONS ASAN_OPTIONS
bins=()
for t in "$dir"/test_*; do
    [ -f "$t" ] && [ -x "$t" ] && bins+=("$t")   # not the .d dependency files
done
ng_nonempty "binaries-in-$dir" "${#bins[@]}" || ng_end
for t in "${bins[@]}"; do
    out=$(timeout -k 5 60 "$t" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed -e "s/^\(PASS\|FAIL\|SKIP\) /\1 $prefix/" | ng_relay
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
        why=$(printf '%s\n' "$out" | grep -E 'SUMMARY|ERROR|runtime error' | head -2 | tr '\n' ' ')
        [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after 60 s $why"
        fail "$(basename "$t")" "exited with status $rc $why"
    fi
done
ng_end
