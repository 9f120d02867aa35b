#!/bin/bash
# Deployed like a Slurm plugin: `make install` into a DESTDIR and the lab
# loads the installed plugin from there; `make uninstall` leaves nothing;
# `make deb` packages install with dpkg -i and the packaged plugin and CLI
# work; then the packages are removed again.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
lab_suite install || ng_end
trap 'lab_stop; rm -rf "$T"' EXIT
T=$(mktemp -d /tmp/numa-gpu-install.XXXXXX)
VERSION=$(sed -n 's/^VERSION *= *//p' Makefile)
D=$T/dest
PLUG=/usr/lib/x86_64-linux-gnu/slurm-wlm

make --no-print-directory -s install DESTDIR="$D" PREFIX=/usr >"$T/install.log" 2>&1 ||
    { fail make-install "$(tail -5 "$T/install.log")"; ng_end; }
v=$("$D/usr/bin/numa-gpu" --version 2>&1)
[ "$v" = "numa-gpu $VERSION" ] && [ -f "$D$PLUG/numa_gpu.so" ] && [ -L "$D/usr/lib/libnumagpu.so" ] &&
    [ "$(objdump -p "$D/usr/lib/libnumagpu.so.0" | awk '/SONAME/ {print $2}')" = libnumagpu.so.0 ] &&
    grep -q "^Requires: hwloc" "$D/usr/lib/pkgconfig/numagpu.pc" &&
    [ "$(cd "$D/usr/include" && find . -type f | sort | tr '\n' ' ')" = "./numagpu.h ./numagpu/pool.h " ] &&
    pass destdir-install ||
    fail destdir-install "version '$v' $(cd "$D" && find . -type f | head)"
# An application builds against the installed header, .pc and library.
cat > "$T/app.c" <<'EOC'
#include <stdio.h>
#include <numagpu/pool.h>
int main(void) { printf("%s\n", ng_version()); return 0; }
EOC
if PKG_CONFIG_PATH=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D \
   cc -std=c11 -Wall -Werror "$T/app.c" -o "$T/app" $(PKG_CONFIG_PATH=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D pkg-config --cflags --libs numagpu) 2>"$T/cc.err" &&
   [ "$(LD_LIBRARY_PATH=$D/usr/lib "$T/app")" = "$VERSION" ]; then
    pass app-builds-against-installed-library
else
    fail app-builds-against-installed-library "$(cat "$T/cc.err")"
fi

# The lab loads the plugin installed in the DESTDIR.
LAB_PLUGIN=$D$PLUG/numa_gpu.so
if lab_start 1 default=off; then
    srun -n1 -c2 --gpus=1 --numa-gpu=explain true >"$T/explain" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q "numa-gpu explain (task 0)" "$T/explain" && grep -q "$LAB_PLUGIN" "$LAB/plugstack.conf" &&
        pass installed-plugin-runs-in-slurm || fail installed-plugin-runs-in-slurm "rc=$rc $(cat "$T/explain")"
    lab_stop
else
    fail lab-start "local cluster did not start"
fi
LAB_PLUGIN=""

# "Nothing left" holds for an install that put nothing there: count first.
installed=$(find "$D" -type f 2>/dev/null | wc -l)
make --no-print-directory -s uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
left=$(find "$D" -mindepth 1 2>/dev/null | head -5)
ng_nonempty uninstall-leaves-nothing "$installed" &&
    { [ -z "$left" ] && pass uninstall-leaves-nothing || fail uninstall-leaves-nothing "$left"; }

# Debian packages: build, install, use, remove.
if ! command -v dpkg-buildpackage >/dev/null; then
    skip deb "debhelper not installed"; ng_end
fi
if dpkg-query -W -f='${Status}' numa-gpu 2>/dev/null | grep -q "install ok installed"; then
    skip deb "a numa-gpu package is already installed on this machine; not replacing it"; ng_end
fi
make --no-print-directory -s deb >"$T/deb.log" 2>&1 || { fail make-deb "$(tail -10 "$T/deb.log")"; ng_end; }
# No E:/W: line in a report lintian never wrote is no proof: make deb
# recreates build/deb, so the report must be there.
if ! command -v lintian >/dev/null; then
    skip lintian-clean "lintian not installed"
elif [ ! -f build/deb/lintian.txt ]; then
    fail lintian-clean "make deb wrote no build/deb/lintian.txt"
else
    lint=$(grep -E "^[EW]: " build/deb/lintian.txt)
    [ -z "$lint" ] && pass lintian-clean || fail lintian-clean "$lint"
fi
dpkg -i build/deb/libnumagpu0_"$VERSION"_*.deb build/deb/numa-gpu_"$VERSION"_*.deb \
    build/deb/libnumagpu-dev_"$VERSION"_*.deb >"$T/dpkg.log" 2>&1 ||
    { fail dpkg-install "$(tail -5 "$T/dpkg.log")"; dpkg -r numa-gpu libnumagpu-dev libnumagpu0 >/dev/null 2>&1; ng_end; }
v=$(/usr/bin/numa-gpu --version)
[ "$v" = "numa-gpu $VERSION" ] && man -w numa_gpu >/dev/null 2>&1 && pass deb-installed-cli-and-man ||
    fail deb-installed-cli-and-man "version '$v'"
LAB_PLUGIN=$PLUG/numa_gpu.so
if lab_start 1 default=off; then
    srun -n1 -c2 --gpus=1 --numa-gpu=explain true >"$T/explain2" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q "numa-gpu explain (task 0)" "$T/explain2" && pass deb-plugin-runs-in-slurm ||
        fail deb-plugin-runs-in-slurm "rc=$rc $(cat "$T/explain2")"
    lab_stop
else
    fail deb-plugin-runs-in-slurm "local cluster with the packaged plugin did not start"
fi
# Gone after dpkg -r proves something only if dpkg -i put them there.
had=0; [ -e "$PLUG/numa_gpu.so" ] && [ -e /usr/bin/numa-gpu ] && had=1
dpkg -r numa-gpu libnumagpu-dev libnumagpu0 >"$T/dpkg-r.log" 2>&1
[ "$had" = 1 ] && [ ! -e "$PLUG/numa_gpu.so" ] && [ ! -e /usr/bin/numa-gpu ] && pass deb-removed-cleanly ||
    fail deb-removed-cleanly "installed before: $had; $(tail -3 "$T/dpkg-r.log")"
ng_end
