#!/bin/sh
# build-slurm.sh [TARBALL]: build the vendored upstream Slurm once and cache it
# outside the work tree (NUMA_GPU_CACHE, default /var/cache/numa-gpu). Prints
# the install prefix on stdout; later runs reuse it (~4 min on 2 cores the
# first time). Exits 1 (nothing printed) when no tarball is available.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
tar=${1:-$(ls "$root"/../shared/vendor/slurm-*.tar.xz 2>/dev/null | sort -V | tail -1)}
[ -n "$tar" ] && [ -f "$tar" ] || exit 1
ver=$(basename "$tar" .tar.xz)            # slurm-26.05.3
cache=${NUMA_GPU_CACHE:-/var/cache/numa-gpu}
prefix=$cache/$ver
if [ -x "$prefix/sbin/slurmd" ] && [ -f "$prefix/.built" ]; then
    echo "$prefix"; exit 0
fi
mkdir -p "$cache"
# One builder at a time; a second caller waits for the first.
exec 9>"$cache/.$ver.lock"
flock 9
if [ -x "$prefix/sbin/slurmd" ] && [ -f "$prefix/.built" ]; then
    echo "$prefix"; exit 0
fi
src=$(mktemp -d "$cache/src.XXXXXX")
trap 'rm -rf "$src"' EXIT
echo "build-slurm: building $ver into $prefix (cached for later runs)" >&2
tar -xJf "$tar" -C "$src"
cd "$src/$ver"
rm -rf "$prefix"
./configure --prefix="$prefix" --sysconfdir="$prefix/etc" --with-munge --with-hwloc \
    --disable-dependency-tracking >"$src/configure.log" 2>&1 ||
    { tail -20 "$src/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$src/make.log" 2>&1 || { tail -30 "$src/make.log" >&2; exit 1; }
make install >"$src/install.log" 2>&1 || { tail -20 "$src/install.log" >&2; exit 1; }
touch "$prefix/.built"
echo "$prefix"
