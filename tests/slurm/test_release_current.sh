#!/bin/bash
# The real-Slurm suites on the current upstream release as well as Debian's:
# build the vendored Slurm source once (cached outside the work tree by
# tests/lab/build-slurm.sh), build the plugin against its headers, and run
# the core subset against its slurmctld/slurmd/slurmstepd:
#   test_binding.sh (every GPU request form and bind mode, both lab flavours)
#   test_slurm.sh   (modes, options, policy, daemons, sbatch)
# Their cases are relayed as cases of this suite. A nested suite that dies,
# exits non-zero without a FAIL, or whose END line is missing or miscounts is
# a FAIL here (ng_relay drops its END line: it is checked from a copy).
# Skipped when neither ../shared/vendor nor a cached build is there.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
ng_suite release-current
[ "$(id -u)" = 0 ] || { skip all "needs root"; ng_end; }
prefix=$(sh tests/lab/build-slurm.sh) || {
    skip all "no vendored Slurm source (../shared/vendor) and no cached build"
    ng_end
}
ver=$(basename "$prefix")
B=$(pwd)/build/$ver
mkdir -p "$B"
if ! make --no-print-directory -s B="$B" SLURM_PREFIX="$prefix" "$B/numa_gpu.so" >"$B/make.log" 2>&1; then
    fail build-plugin "$(tail -3 "$B/make.log" | tr '\n' ' ')"
    ng_end
fi
pass "build-plugin-against-$ver"
cp build/mkfakeroot build/memhelper build/numa-gpu "$B/"
export PATH=$prefix/bin:$prefix/sbin:$PATH NUMA_GPU_BUILD=$B
T=$(mktemp -d /tmp/numa-gpu-release.XXXXXX)
trap 'rm -rf "$T"' EXIT

# nested SCRIPT: run a suite, relay its cases, then judge it as run-all.sh
# judges a suite (its END line prints as "END <script name>: ...").
nested() {
    local id out rc why
    id=$(basename "$1")
    out=$T/$id.out
    bash "$1" </dev/null | tee "$out" | ng_relay
    rc=${PIPESTATUS[0]}
    why=$(ng_verdict "$id" "$out" "$rc")
    [ -z "$why" ] || fail "suite:$id" "$why"
}
nested tests/slurm/test_binding.sh
nested tests/slurm/test_slurm.sh
ng_end
