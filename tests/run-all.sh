#!/bin/bash
# Run every test suite and count the cases. Each suite prints one line per
# case: PASS <name> | FAIL <name>: <why> | SKIP <name>: <why>.
# Ends with "N passed, N failed, N skipped"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
export NUMA_GPU_CORPUS=${NUMA_GPU_CORPUS:-$(pwd)/tests/topologies}
export NUMA_GPU_BUILD=${NUMA_GPU_BUILD:-$(pwd)/build}
log=$(mktemp /tmp/numa-gpu-tests.XXXXXX)
trap 'rm -f "$log"' EXIT

suite() {
    local name=$1; shift
    local t0=$SECONDS
    echo "== $name"
    "$@" 2>&1 | tee -a "$log" | grep -E '^(PASS|FAIL|SKIP)' || true
    echo "   ($name: $((SECONDS - t0)) s)"
}

suite "unit" sh tests/run-unit.sh build/tests ""
suite "unit (ASan+UBSan)" sh tests/run-unit.sh build/asan-tests "asan:"
suite "headers (every Slurm release)" bash tests/check-headers.sh
suite "fuzz corpus replay" bash tests/fuzz/run.sh replay
suite "lint (cppcheck, clang-tidy)" bash tests/lint.sh
suite "golden plans (tests/golden)" bash tests/golden/run.sh check
for s in tests/cli/test_*.sh; do suite "cli $(basename "$s")" bash "$s"; done
for s in tests/cli/test_*.sh; do
    suite "cli $(basename "$s") (ASan+UBSan)" env NUMA_GPU_BUILD=build/asan-cli NG_TEST_PREFIX=asan: \
        ASAN_OPTIONS=fast_unwind_on_malloc=0 LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp bash "$s"
done
for s in tests/slurm/test_*.sh; do [ -e "$s" ] && suite "slurm $(basename "$s")" bash "$s"; done
for s in tests/vm/test_*.sh; do [ -e "$s" ] && suite "vm $(basename "$s")" bash "$s"; done

pass=$(grep -c '^PASS' "$log")
fail=$(grep -c '^FAIL' "$log")
skip=$(grep -c '^SKIP' "$log")
if [ "$fail" -gt 0 ]; then
    echo "failures:"
    grep '^FAIL' "$log"
fi
echo "(total: $((SECONDS / 60)) min $((SECONDS % 60)) s)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
