#!/bin/bash
# Run the test suites and count their cases.
#   tests/run-all.sh all     every suite (make check; Slurm and QEMU need root)
#   tests/run-all.sh fast    unit, unit under ASan, golden plans, CLI suites
#                            and the harness self-test (make check-fast)
# NG_SUITES=FILE replaces the table below (lines "id|seconds|command"; the
# harness self-test, tests/harness/test_run_all.sh, uses it).
#
# A suite prints PASS/FAIL/SKIP lines and ends with its own END line
# (tests/harness.sh). Each runs under `timeout`; it counts as a FAIL named
# "suite:<id>" when it times out, exits non-zero without printing a FAIL,
# ends without its END line (killed or died half-way), or its END line does
# not count the cases it printed. The run ends with "N passed, N failed,
# N skipped" and exits non-zero on any failure or when nothing ran.
set -u
cd "$(dirname "$0")/.."
export NUMA_GPU_CORPUS=${NUMA_GPU_CORPUS:-$(pwd)/tests/topologies}
export NUMA_GPU_BUILD=${NUMA_GPU_BUILD:-$(pwd)/build}
which=${1:-all}
case $which in
    all|fast) ;;
    *) echo "usage: tests/run-all.sh [all|fast] (got '$which')" >&2; exit 2 ;;
esac
source tests/harness.sh   # ng_verdict: how a suite is judged
work=$(mktemp -d /tmp/numa-gpu-tests.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/all.log
: >"$log"

# id|timeout in seconds|command. Limits are about 3x the suite's time on
# the 2-core CI machine, so a slow run passes and a hang ends in minutes.
table() {
    local asan="env NUMA_GPU_BUILD=build/asan-cli NG_TEST_PREFIX=asan: ASAN_OPTIONS=fast_unwind_on_malloc=0"
    asan="$asan LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp"
    echo "unit|180|bash tests/run-unit.sh build/tests"
    echo "unit-asan|600|bash tests/run-unit.sh build/asan-tests asan:"
    echo "golden|300|bash tests/golden/run.sh check"
    echo "harness|120|bash tests/harness/test_run_all.sh"
    echo "layers|120|bash tests/check-layers.sh"
    local s
    for s in tests/cli/test_*.sh; do echo "cli/${s##*/}|300|bash $s"; done
    for s in tests/cli/test_*.sh; do echo "cli-asan/${s##*/}|600|$asan bash $s"; done
    [ "$which" = fast ] && return
    echo "headers|600|bash tests/check-headers.sh"
    echo "fuzz-replay|300|bash tests/fuzz/run.sh replay"
    echo "lint|900|bash tests/lint.sh"
    for s in tests/slurm/test_*.sh; do
        [ "$s" = tests/slurm/test_releases.sh ] && continue
        echo "slurm/${s##*/}|900|bash $s"
    done
    # Every older Slurm series already built, none built here (a series not
    # built is a SKIP naming it; make check-releases builds them): the binding
    # suite in both lab flavours, 1-2 min each on 2 cores (the GPU-node guest
    # on each series is make check-releases'); each nested suite has its own
    # limit too (tests/slurm/test_releases.sh).
    local nrel
    nrel=$(ls ../shared/vendor/slurm-*.tar.xz 2>/dev/null | wc -l)
    echo "slurm/test_releases.sh|$((600 + 600 * nrel))|bash tests/slurm/test_releases.sh --check"
    # the GPU-node guest boots five times (about 14 minutes): its own limit
    for s in tests/vm/test_*.sh; do
        case $s in */test_gpunode.sh) echo "vm/${s##*/}|2700|bash $s" ;; *) echo "vm/${s##*/}|1500|bash $s" ;; esac
    done
}

suite_fail() {   # id why: a FAIL of the suite itself
    echo "FAIL suite:$1: $2" | tee -a "$log"
}

run_suite() {
    local id=$1 limit=$2 cmd=$3 out=$work/suite.out t0=$SECONDS
    echo "== $id"
    : >"$out"
    # Its own process group (timeout's), stdin closed; output to a file so a
    # daemon left holding it cannot hold the run up the way a pipe would.
    NG_SUITE_ID=$id timeout -k 30 "$limit" bash -c "$cmd" >"$out" 2>&1 </dev/null &
    local pid=$!
    tail -s 0.2 -n +1 -f --pid=$pid "$out" 2>/dev/null | grep --line-buffered -E '^(PASS|FAIL|SKIP) '
    wait "$pid"
    local rc=$?
    cat "$out" >>"$log"
    local why
    # 124: timeout's TERM worked; 137: its KILL 30 s later (or a kill -9)
    if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ $((SECONDS - t0)) -ge "$limit" ]; }; then
        why="timed out after $limit s (killed); last output: $(grep -vE '^(PASS|SKIP) ' "$out" |
             tail -3 | tr '\n' ' ' | cut -c1-300)"
    else
        why=$(ng_verdict "$id" "$out" "$rc")
    fi
    [ -z "$why" ] || suite_fail "$id" "$why"
    echo "   ($id: $((SECONDS - t0)) s)"
}

if [ -n "${NG_SUITES:-}" ]; then
    list=$(cat "$NG_SUITES")
else
    list=$(table)
fi
n=0
while IFS='|' read -r id limit cmd; do
    [ -n "$id" ] || continue
    n=$((n + 1))
    run_suite "$id" "$limit" "$cmd"
done <<<"$list"

pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
skip=$(grep -c '^SKIP ' "$log")
if [ "$fail" -gt 0 ]; then
    echo "failures:"
    grep '^FAIL ' "$log"
fi
echo "($n suites, total: $((SECONDS / 60)) min $((SECONDS % 60)) s)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
