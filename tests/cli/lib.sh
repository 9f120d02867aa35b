# The preamble every CLI suite (tests/cli/test_*.sh) shares. A suite starts
#
#   source "$(dirname "$0")/lib.sh"
#   ng_suite NAME
#   ng_tmpdir TAG              only if it needs scratch files
#
# and then has:
#   B    the build directory: $NUMA_GPU_BUILD (run-all.sh sets it, to
#        build/asan-cli for the ASan run of the same suites), else build
#   NG   the numa-gpu binary in it (so the ASan run tests the ASan binary)
#   C    the topology corpus: $NUMA_GPU_CORPUS, else tests/topologies
#   the harness (tests/harness.sh): ng_suite, pass, fail, skip, ng_nonempty,
#        ng_relay, ng_end
#   ng_tmpdir TAG              T=/tmp/numa-gpu-TAG.XXXXXX, removed on exit
#   ng_at_exit CMD             eval CMD on exit, before $T is removed (a
#                              mount to undo, a daemon to stop)
#   expect NAME RC TEXT CMD... one case: CMD (killed after $NG_EXPECT_TIMEOUT
#                              s, 30 unless the suite sets it) exits RC and
#                              its output (stdout and stderr) holds TEXT
set -u
B=${NUMA_GPU_BUILD:-build}
NG=$B/numa-gpu
C=${NUMA_GPU_CORPUS:-tests/topologies}
source "$(dirname "${BASH_SOURCE[0]}")/../harness.sh"

NG_AT_EXIT=()
ng_at_exit() { NG_AT_EXIT+=("$1"); }
# One trap for every suite: traps set later would replace it, hence ng_at_exit.
ng_cli_cleanup() {
    local c
    for c in "${NG_AT_EXIT[@]}"; do
        eval "$c"
    done
    if [ -n "${T:-}" ]; then
        rm -rf "$T"
    fi
}
trap ng_cli_cleanup EXIT

ng_tmpdir() { T=$(mktemp -d "/tmp/numa-gpu-$1.XXXXXX"); }

NG_EXPECT_TIMEOUT=30
expect() {
    local name=$1 rc=$2 pat=$3; shift 3
    local out got
    out=$(timeout "$NG_EXPECT_TIMEOUT" "$@" 2>&1); got=$?
    [ "$got" -eq "$rc" ] && grep -qF -- "$pat" <<< "$out" && pass "$name" ||
        fail "$name" "rc=$got (want $rc), want '$pat' in: $(head -3 <<< "$out")"
}
