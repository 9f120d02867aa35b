#!/bin/sh
# Install what numa-gpu needs from Debian's apt, only when something is missing.
# Non-interactive; needs root (CI and the lab run as root).
#   tests/deps.sh        everything make check needs
#   tests/deps.sh fast   what make check-fast needs (build, unit, CLI suites)
set -e
# hwloc (not hwloc-nox: they conflict): hwloc-info, lstopo-no-graphics and
# the cairo lstopo that draws `explain --png`.
FAST="build-essential pkg-config libhwloc-dev hwloc libnuma-dev numactl libslurm-dev jq
      groff man-db python3"
PKGS="$FAST clang slurm-wlm munge openmpi-bin libopenmpi-dev mpich
      qemu-system-x86 linux-image-amd64 busybox-static cpio xz-utils
      libmunge-dev libdbus-1-dev libjson-c-dev libyaml-dev cppcheck clang-tidy
      debhelper lintian rpm rpm2cpio rpmlint prometheus-node-exporter prometheus curl"
[ "${1:-}" = fast ] && PKGS=$FAST
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root or install them)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's slurm/munge packages try to start services; there is no init here.
apt-get install -y -qq --no-install-recommends $missing >/tmp/numa-gpu-apt.log 2>&1 ||
    { tail -20 /tmp/numa-gpu-apt.log >&2; exit 1; }
