#!/bin/bash
# The real-Slurm suites on the current upstream release as well as Debian's:
# build the vendored Slurm source once (cached outside the work tree by
# tests/lab/build-slurm.sh), build the plugin against its headers, and run
# the core subset against its slurmctld/slurmd/slurmstepd:
#   test_binding.sh (every GPU request form and bind mode, both lab flavours)
#   test_slurm.sh   (modes, options, policy, daemons, sbatch)
# Skipped when neither ../shared/vendor nor a cached build is there.
set -u
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "SKIP release-current/all: needs root"; exit 0; }
prefix=$(sh tests/lab/build-slurm.sh) || {
    echo "SKIP release-current/all: no vendored Slurm source (../shared/vendor) and no cached build"
    exit 0
}
ver=$(basename "$prefix")
B=$(pwd)/build/$ver
mkdir -p "$B"
if ! make --no-print-directory -s B="$B" SLURM_PREFIX="$prefix" "$B/numa_gpu.so" >"$B/make.log" 2>&1; then
    echo "FAIL release-current/build-plugin: $(tail -3 "$B/make.log" | tr '\n' ' ')"
    exit 0
fi
echo "PASS release-current/build-plugin-against-$ver"
cp build/mkfakeroot build/memhelper build/numa-gpu "$B/"
export PATH=$prefix/bin:$prefix/sbin:$PATH NUMA_GPU_BUILD=$B
bash tests/slurm/test_binding.sh
bash tests/slurm/test_slurm.sh
exit 0
