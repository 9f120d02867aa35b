#!/bin/sh
# Run every unit test binary in $1 (each prints PASS/FAIL/SKIP lines), with
# the case names prefixed by $2. A binary that dies without saying FAIL
# (a crash, a sanitizer abort) counts as a failed case of its own.
dir=$1
prefix=${2:-}
# hwloc's own leak on live discovery (tests/lsan.supp), as for the CLI suites.
: "${LSAN_OPTIONS:=suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp}"
: "${ASAN_OPTIONS:=fast_unwind_on_malloc=0}"   # full stacks, so the suppression matches
export LSAN_OPTIONS ASAN_OPTIONS
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed -e "s/^\(PASS\|FAIL\|SKIP\) /\1 $prefix/"
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
        why=$(printf '%s\n' "$out" | grep -E 'SUMMARY|ERROR|runtime error' | head -2 | tr '\n' ' ')
        echo "FAIL $prefix$(basename "$t"): exited with status $rc $why"
    fi
done
exit 0
