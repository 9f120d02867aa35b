#!/bin/bash
# RHEL-family packaging, checked on this Debian machine with Debian's rpm:
#   - the Makefile locates Slurm in its documented order (SLURM_PREFIX,
#     pkg-config slurm, Debian's paths, RHEL's paths) and names the variable
#     to set when nothing is there;
#   - `make dist` gives numa-gpu-VERSION.tar.gz with numa-gpu.spec inside;
#   - `rpmbuild -ta --nodeps` builds numa-gpu, libnumagpu, libnumagpu-devel:
#     against the vendored Slurm 26.05 (tests/lab/build-slurm.sh's cached
#     build) through a slurm.pc as RHEL's slurm-devel installs it, else
#     against Debian's headers (a clone without ../shared);
#   - dependencies (the Slurm release pin, hwloc for hwloc-info), the
#     ldconfig scriptlets, the %config(noreplace) plugstack snippet;
#   - the payload is the Debian packages' (built from the same tarball),
#     file for file, in RHEL's paths;
#   - rpmlint: clean with contrib/rpm/rpmlint.toml (the RHEL profile Debian's
#     rpmlint lacks; each of its filters must still match something) and
#     contrib/rpm/numa-gpu.rpmlintrc (the justified rest);
#   - the plugin from the RPM loads in the lab's Slurm of the release it was
#     built for, and the RPM's numa-gpu command runs there.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
ng_suite rpm
ROOT=$(pwd)
VERSION=$(sed -n 's/^VERSION *= *//p' Makefile)
T=$(mktemp -d /tmp/numa-gpu-rpm.XXXXXX)
trap 'lab_stop; rm -rf "$T"' EXIT
m() { make --no-print-directory -s "$@"; }

# --- Where the Makefile finds Slurm (no build: `make slurm-info`).
# A slurm.pc as Slurm's etc/slurm.pc.in makes it (configure
# --enable-pkgconfig), for the 26.05 headers the repository keeps.
mkpc() {   # DIR INCLUDEDIR LIBDIR VERSION
    mkdir -p "$1"
    printf 'libdir=%s\nincludedir=%s\n\nName: slurm\nDescription: Slurm Workload Manager\nVersion: %s\nCflags: -I${includedir}\nLibs: -L${libdir} -lslurm\n' \
        "$3" "$2" "$4" >"$1/slurm.pc"
}
HDR=$ROOT/tests/vendor/slurm-headers/26.05.3
mkpc "$T/pc-repo" "$HDR" /usr/lib64 26.05.3
info() { m slurm-info "$@" 2>&1; }
fake=$T/sysroot-rhel
mkdir -p "$fake/usr/include" "$fake/usr/lib64/slurm" && cp -r "$HDR/slurm" "$fake/usr/include/"
out=$(PKG_CONFIG_PATH=$T/pc-repo info SLURM_PREFIX=/opt/nonexistent)
grep -q '^slurm: SLURM_PREFIX=/opt/nonexistent$' <<<"$out" && grep -q 'error: .*set SLURM_PREFIX=DIR' <<<"$out" &&
    pass slurm-order/prefix-first-and-checked || fail slurm-order/prefix-first-and-checked "$out"
out=$(PKG_CONFIG_PATH=$T/pc-repo info)
grep -q "^slurm: pkg-config slurm ($T/pc-repo/slurm.pc)$" <<<"$out" && grep -q '^version: 26.05.3$' <<<"$out" &&
    grep -q '^plugindir: /usr/lib64/slurm$' <<<"$out" &&
    pass slurm-order/pkg-config-second || fail slurm-order/pkg-config-second "$out"
if [ -f /usr/include/slurm/spank.h ] && command -v dpkg-architecture >/dev/null; then
    out=$(info)
    grep -q "^slurm: Debian's paths$" <<<"$out" &&
        grep -q "^plugindir: /usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/slurm-wlm$" <<<"$out" &&
        pass slurm-order/debian-paths || fail slurm-order/debian-paths "$out"
else
    skip slurm-order/debian-paths "no libslurm-dev or dpkg-architecture here"
fi
# RHEL's layout under a fake root: headers and /usr/lib64/slurm; the same
# on a machine without a multiarch triplet (no dpkg-architecture, a compiler
# that prints none); headers only: Debian's directory where there is a
# triplet, else RHEL's.
r1=$(info SLURM_SYSROOT="$fake")
r2=$(info SLURM_SYSROOT="$fake" MULTIARCH=)
rmdir "$fake/usr/lib64/slurm"
r3=$(info SLURM_SYSROOT="$fake" MULTIARCH=)
r4=$(info SLURM_SYSROOT="$fake" MULTIARCH=x86_64-linux-gnu)
out="$r1"$'\n'"$r2"$'\n'"$r3"
[ "$(grep -c "^slurm: RHEL's paths$" <<<"$out")" = 3 ] && [ "$(grep -c '^plugindir: /usr/lib64/slurm$' <<<"$out")" = 3 ] &&
    grep -q '^plugindir: /usr/lib/x86_64-linux-gnu/slurm-wlm$' <<<"$r4" &&
    pass slurm-order/rhel-paths || fail slurm-order/rhel-paths "$out / $r4"
# Nothing found: slurm-info and the plugin's build both name the variables.
out=$(info SLURM_SYSROOT="$T/empty"; m B="$T/none" SLURM_SYSROOT="$T/empty" "$T/none/spank/numa_gpu.o" 2>&1)
[ "$(grep -c 'no Slurm headers found.*set SLURM_PREFIX=DIR.*PKG_CONFIG_PATH' <<<"$out")" = 2 ] && [ ! -e "$T/none/spank" ] &&
    pass slurm-order/none-names-the-variables || fail slurm-order/none-names-the-variables "$out"
# Building the plugin says which Slurm it used.
out=$(PKG_CONFIG_PATH=$T/pc-repo m B="$T/say" "$T/say/spank/numa_gpu.o" 2>&1)
grep -q "^numa-gpu: Slurm 26.05.3 from pkg-config slurm ($T/pc-repo/slurm.pc): headers $HDR/slurm, plugin directory /usr/lib64/slurm$" <<<"$out" &&
    pass slurm-order/build-says-which || fail slurm-order/build-says-which "$out"

# --- The RPMs.
for c in rpmbuild rpmlint rpm2cpio cpio; do
    command -v "$c" >/dev/null || { skip rpm "$c not installed (tests/deps.sh installs rpm and rpmlint)"; ng_end; }
done
# The Slurm built for: the vendored release when it is (or can be) built.
prefix=""
[ "$(id -u)" = 0 ] && prefix=$(sh tests/lab/build-slurm.sh 2>"$T/build-slurm.log")
if [ -n "$prefix" ]; then
    SV=${prefix##*/slurm-}
    # slurm.pc as RHEL's slurm-devel has it (libdir /usr/lib64: the plugin
    # goes to /usr/lib64/slurm), its includedir where this machine keeps
    # that release's headers. From the release's own slurm.pc.in.
    tarball=$(ls "$ROOT"/../shared/vendor/slurm-"$SV".tar.xz 2>/dev/null)
    mkdir -p "$T/pc"
    if [ -n "$tarball" ] && tar -xJf "$tarball" -O "slurm-$SV/etc/slurm.pc.in" >"$T/slurm.pc.in" 2>/dev/null; then
        sed -e "s|@libdir@|/usr/lib64|" -e "s|@includedir@|$prefix/include|" \
            -e "s|@SLURM_VERSION_STRING@|$SV|" "$T/slurm.pc.in" >"$T/pc/slurm.pc"
    else
        mkpc "$T/pc" "$prefix/include" /usr/lib64 "$SV"
    fi
    export PKG_CONFIG_PATH=$T/pc
    SLURM_BIN="$prefix/bin:$prefix/sbin:"
    how="pkg-config slurm"; how_id=pkg-config
else
    SV=$(m slurm-info 2>/dev/null | sed -n 's/^version: //p')
    SLURM_BIN=""
    how="Debian's paths"; how_id=debian-paths
    [ -n "$SV" ] || { fail rpmbuild "no vendored Slurm build and no system Slurm headers"; ng_end; }
fi
REL=$(echo "$SV" | cut -d. -f1,2)
NEXT=$(echo "$SV" | awk -F. '{printf "%d.%02d", $1, $2 + 1}')

t0=$SECONDS
m dist B="$T/dist" >"$T/dist.log" 2>&1
TARBALL=$T/dist/numa-gpu-$VERSION.tar.gz
specs=$(tar -tzf "$TARBALL" 2>/dev/null | grep '\.spec$')
if [ "$specs" = "numa-gpu-$VERSION/numa-gpu.spec" ] &&
   tar -xzf "$TARBALL" -O "numa-gpu-$VERSION/numa-gpu.spec" | grep -q "^Version: *$VERSION$" &&
   ! tar -tzf "$TARBALL" | grep -qE "^numa-gpu-$VERSION/(build|\.git)/"; then
    pass make-dist-tarball-with-spec
else
    fail make-dist-tarball-with-spec "specs: '$specs'; $(tail -3 "$T/dist.log")"
    ng_end
fi

# RHEL-like flags (what %optflags and %build_ldflags hold there). Debian's
# rpm runs brp-compress under /bin/sh although it uses bash's `read -d`:
# without bash it would leave the man pages uncompressed, unlike RHEL's.
TOP=$T/rpmbuild
rpmbuild -ta --nodeps --define "_topdir $TOP" \
    --define '__brp_compress bash /usr/lib/rpm/brp-compress %{?_prefix}' \
    --define 'optflags -O2 -g -pipe -Wall -Werror=format-security -Wp,-D_FORTIFY_SOURCE=2 -fexceptions -fstack-protector-strong -fstack-clash-protection -fcf-protection -fasynchronous-unwind-tables' \
    --define 'build_ldflags -Wl,-z,relro -Wl,--as-needed -Wl,-z,now' \
    "$TARBALL" >"$T/rpmbuild.log" 2>&1
rc=$?
R=$TOP/RPMS/$(rpm --eval '%{_arch}')
A=$(rpm --eval '%{_arch}')
RPM_MAIN=$R/numa-gpu-$VERSION-1.$A.rpm
RPM_LIB=$R/libnumagpu-$VERSION-1.$A.rpm
RPM_DEV=$R/libnumagpu-devel-$VERSION-1.$A.rpm
SRPM=$(ls "$TOP"/SRPMS/numa-gpu-"$VERSION"-1.src.rpm 2>/dev/null)
if [ $rc -eq 0 ] && [ -f "$RPM_MAIN" ] && [ -f "$RPM_LIB" ] && [ -f "$RPM_DEV" ] && [ -n "$SRPM" ]; then
    echo "rpm: make dist and rpmbuild -ta took $((SECONDS - t0)) s"
    pass "rpmbuild-ta-three-packages-against-slurm-$SV"
else
    fail "rpmbuild-ta-three-packages-against-slurm-$SV" "rc=$rc $(grep -E 'error|Error' "$T/rpmbuild.log" | head -5 | tr '\n' ' ')$(tail -3 "$T/rpmbuild.log")"
    ng_end
fi
said=$(grep '^numa-gpu: Slurm ' "$T/rpmbuild.log")
grep -q "^numa-gpu: Slurm $SV from $how" <<<"$said" && pass "makefile-located-slurm-by-$how_id" ||
    fail "makefile-located-slurm-by-$how_id" "${said:-the build did not say which Slurm}"

# The spec refuses to pin a release other than the one the Makefile builds
# against (it stops in %build, before compiling).
rpmbuild -ta --nodeps --define "_topdir $T/rpmbuild-pin" --define 'slurm_version 9.99.9' \
    "$TARBALL" >"$T/pin.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "the spec pins '9.99.9' .* the Makefile found '$SV'" "$T/pin.log" &&
    pass spec-refuses-another-release || fail spec-refuses-another-release "rc=$rc $(tail -3 "$T/pin.log" | tr '\n' ' ')"

# Dependencies: the release pin, hwloc-info's package, the build deps.
req=$(rpm -qp --requires "$RPM_MAIN" 2>/dev/null)
breq=$(rpm -qp --requires "$SRPM" 2>/dev/null)
dreq=$(rpm -qp --requires "$RPM_DEV" 2>/dev/null)
bad=""
ISA=$(rpm --eval '%{?_isa}')
grep -qxF "slurm$ISA >= $REL" <<<"$req" || bad="$bad no 'slurm >= $REL';"
grep -qxF "slurm$ISA < $NEXT" <<<"$req" || bad="$bad no 'slurm < $NEXT';"
grep -qxF "hwloc$ISA" <<<"$req" || bad="$bad no hwloc (hwloc-info);"
grep -q "libnumagpu" <<<"$req" && bad="$bad numa-gpu needs no libnumagpu (plugin and CLI link it statically);"
for p in hwloc-devel numactl-devel slurm-devel; do grep -qx "$p" <<<"$breq" || bad="$bad no BuildRequires $p;"; done
grep -qxF "libnumagpu$ISA = $VERSION-1" <<<"$dreq" || bad="$bad -devel does not require its library;"
rpm -qp --recommends "$RPM_LIB" 2>/dev/null | grep -qxF "hwloc$ISA" || bad="$bad libnumagpu does not recommend hwloc;"
[ -z "$bad" ] && pass "requires-slurm-$REL-hwloc-and-builddeps" || fail "requires-slurm-$REL-hwloc-and-builddeps" "$bad"

# Scriptlets: ldconfig for the library, nothing anywhere else.
s_lib=$(rpm -qp --scripts "$RPM_LIB" 2>/dev/null)
s_other=$(rpm -qp --scripts "$RPM_MAIN" "$RPM_DEV" 2>/dev/null)
if grep -qx 'postinstall program: /sbin/ldconfig' <<<"$s_lib" &&
   grep -qx 'postuninstall program: /sbin/ldconfig' <<<"$s_lib" &&
   [ "$(grep -c . <<<"$s_lib")" = 2 ] && [ -z "$s_other" ]; then
    pass scriptlets-ldconfig-only
else
    fail scriptlets-ldconfig-only "libnumagpu: $s_lib; others: $s_other"
fi

# The plugstack snippet: %config(noreplace), its plugin line commented out
# and naming the plugin where the RPM puts it.
X=$T/x
mkdir -p "$X"
for r in "$RPM_MAIN" "$RPM_LIB" "$RPM_DEV"; do (cd "$X" && rpm2cpio "$r" | cpio -idm --quiet); done
flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$RPM_MAIN" | awk '$2 ~ /^\/etc\// {print}')
plugin=$(rpm -qlp "$RPM_MAIN" | grep '/numa_gpu\.so$')
conf=$X/etc/slurm/plugstack.conf.d/numa-gpu.conf
if [ "$flags" = "cn /etc/slurm/plugstack.conf.d/numa-gpu.conf" ] && [ "$plugin" = /usr/lib64/slurm/numa_gpu.so ] &&
   grep -q "^#optional $plugin " "$conf" && ! grep -q '^optional' "$conf"; then
    pass plugstack-snippet-config-noreplace-inert
else
    fail plugstack-snippet-config-noreplace-inert "flags '$flags', plugin '$plugin', $(grep -n 'optional' "$conf" | tail -2)"
fi

# --- The payload against the Debian packages built from the same tarball.
# Compared: every file and symlink, in RHEL's paths; dropped on the Debian
# side what debhelper adds (changelog.gz: an RPM's changelog is in its
# header; lintian overrides; -dbgsym: RHEL's -debuginfo) and on the RPM side
# the /usr/lib/.build-id links; compression suffixes ignored. The RPM's one
# addition is the snippet in /etc/slurm (the Debian package has none there).
DEB_OK=0
if command -v dpkg-buildpackage >/dev/null; then
    mkdir -p "$T/deb" && tar -xzf "$TARBALL" -C "$T/deb" &&
        (cd "$T/deb/numa-gpu-$VERSION" && bash contrib/debian/build.sh "$VERSION") >"$T/deb.log" 2>&1 && DEB_OK=1
    DEBS=$T/deb/numa-gpu-$VERSION/build/deb
fi
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
debfiles() {   # DEB: "TYPE PATH" per file/symlink, RHEL's paths
    dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print substr($1, 1, 1), substr($6, 2)}' |
        sed -E -e "s#^(.) /usr/lib/$MA/slurm-wlm/#\1 /usr/lib64/slurm/#" -e "s#^(.) /usr/lib/$MA/#\1 /usr/lib64/#" \
            -e 's#^(.) /usr/share/doc/[^/]+/copyright$#\1 LICENSE/copyright#' -e 's#\.gz$##' |
        grep -vE ' /usr/share/doc/[^/]+/changelog$| /usr/share/lintian/' | sort
}
rpmfiles() {   # RPM: the same
    rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" | awk '$1 !~ /^d/ {print substr($1, 1, 1), $2}' |
        sed -E -e 's#^(.) /usr/share/licenses/[^/]+/copyright$#\1 LICENSE/copyright#' -e 's#\.gz$##' |
        grep -vE ' /usr/lib/\.build-id/' | sort
}
if [ "$DEB_OK" != 1 ]; then
    if command -v dpkg-buildpackage >/dev/null; then
        fail payload-matches-deb "the Debian packages did not build: $(tail -5 "$T/deb.log" | tr '\n' ' ')"
    else
        skip payload-matches-deb "debhelper not installed"
    fi
else
    dep=$(dpkg-deb -f "$DEBS/numa-gpu_${VERSION}"_*.deb Depends 2>&1)
    grep -q 'hwloc-nox | hwloc' <<<"$dep" && pass deb-depends-on-hwloc-info || fail deb-depends-on-hwloc-info "Depends: $dep"
    for pair in numa-gpu:"$RPM_MAIN" libnumagpu0:"$RPM_LIB" libnumagpu-dev:"$RPM_DEV"; do
        deb=$(ls "$DEBS/${pair%%:*}_${VERSION}"_*.deb 2>/dev/null)
        rpmf=${pair#*:}
        name=$(basename "$rpmf" | sed "s/-$VERSION-.*//")
        d=$(debfiles "$deb"); r=$(rpmfiles "$rpmf")
        [ "$name" = numa-gpu ] && r=$(grep -vxF -e '- /etc/slurm/plugstack.conf.d/numa-gpu.conf' <<<"$r")
        if [ -n "$deb" ] && [ -n "$d" ] && [ "$d" = "$r" ]; then
            pass "payload-matches-deb/$name ($(grep -c . <<<"$r") files)"
        else
            fail "payload-matches-deb/$name" "deb ${pair%%:*} vs rpm: $(diff <(echo "$d") <(echo "$r") | grep '^[<>]' | tr '\n' ' ')"
        fi
    done
fi

# --- rpmlint, with the RHEL profile and the justified rest.
tar -xzf "$TARBALL" -C "$T" "numa-gpu-$VERSION/numa-gpu.spec"
SPEC=$T/numa-gpu-$VERSION/numa-gpu.spec
lint() { rpmlint "$@" "$SPEC" "$RPM_MAIN" "$RPM_LIB" "$RPM_DEV" "$SRPM" 2>&1; }
out=$(lint -c contrib/rpm/rpmlint.toml -r contrib/rpm/numa-gpu.rpmlintrc)
summary=$(grep -E '[0-9]+ errors, [0-9]+ warnings' <<<"$out")
if grep -q ' 0 errors, 0 warnings' <<<"$summary" && ! grep -qE '^[^ ]+: [EW]: ' <<<"$out"; then
    pass "rpmlint-clean (spec, 3 packages, SRPM)"
else
    fail rpmlint-clean "${summary:-no summary}: $(grep -E ': [EW]: ' <<<"$out" | head -8 | tr '\n' ' ')"
fi
# A filter of the profile that matches nothing any more is a stale
# justification (rpmlint reports this for the rpmlintrc only).
sed '/^Filters = \[/,/^\]/d' contrib/rpm/rpmlint.toml >"$T/profile-nofilters.toml"
raw=$(lint -c "$T/profile-nofilters.toml" -r contrib/rpm/numa-gpu.rpmlintrc --ignore-unused-rpmlintrc)
stale=""
nf=0
while IFS= read -r f; do
    nf=$((nf + 1))
    grep -qE -- "$f" <<<"$raw" || stale="$stale '$f'"
done < <(sed -n '/^Filters = \[/,/^\]/p' contrib/rpm/rpmlint.toml | sed -n "s/^ *'\(.*\)',.*/\1/p")
ng_nonempty rpmlint-profile-filters "$nf" &&
    { [ -z "$stale" ] && pass "rpmlint-profile-filters-all-used ($nf)" || fail rpmlint-profile-filters-all-used "matching nothing:$stale"; }

v=$("$X/usr/bin/numa-gpu" --version 2>&1)
[ "$v" = "numa-gpu $VERSION" ] && pass rpm-cli-runs || fail rpm-cli-runs "'$v'"

# --- The RPM's plugin in the lab's Slurm of the release it was built for.
if [ "$(id -u)" != 0 ]; then
    skip "rpm-plugin-loads-in-slurm-$SV" "needs root"
    ng_end
fi
PATH=$SLURM_BIN$PATH
lab_sv=$(slurmd -V 2>/dev/null | awk '{print $2}')
m build/mkfakeroot >/dev/null 2>&1
mkdir -p "$T/bin"
ln -s "$X/usr/bin/numa-gpu" "$T/bin/numa-gpu"
ln -s "$ROOT/build/mkfakeroot" "$T/bin/mkfakeroot"
export NUMA_GPU_BUILD=$T/bin LAB_BUILD=$T/bin
LAB_PLUGIN=$X$plugin
if [ "$lab_sv" != "$SV" ]; then
    fail "rpm-plugin-loads-in-slurm-$SV" "the lab's slurmd is $lab_sv"
elif lab_start 1 default=off; then
    srun -n1 -c2 --gpus=1 --numa-gpu=explain true >"$T/explain" 2>&1
    rc=$?
    refused=$(grep -h 'Incompatible' "$LAB"/log/*.log 2>/dev/null | head -2)
    if [ $rc -eq 0 ] && grep -q "numa-gpu explain (task 0)" "$T/explain" && grep -q "$LAB_PLUGIN" "$LAB/plugstack.conf" &&
       [ -z "$refused" ]; then
        pass "rpm-plugin-loads-in-slurm-$SV"
    else
        fail "rpm-plugin-loads-in-slurm-$SV" "rc=$rc $refused $(head -5 "$T/explain" | tr '\n' ' ')"
    fi
    lab_stop
else
    fail "rpm-plugin-loads-in-slurm-$SV" "the lab did not start (Slurm $lab_sv)"
fi
ng_end
