#!/bin/bash
# The plugin on every Slurm series, one release at a time:
#   tests/slurm/test_releases.sh [--cached|--check] [RELEASE...]
# RELEASE is a vendored version (23.02.8: ../shared/vendor/slurm-23.02.8.tar.xz,
# built once into the cache by tests/lab/build-slurm.sh, 3.2-4 min on 2 cores)
# or "system" (Debian's Slurm in PATH, 22.05; its version works too).
# Default: Debian's and every vendored release (make check-releases).
#   --cached  never build Slurm: a release not in the cache is a SKIP naming it
#   --check   make check's share: every vendored or cached release but the
#             newest, cached builds only, the binding suite only and in its
#             cgroup flavour only (BINDING_FLAVOURS=cgroup; no guest;
#             make check runs Debian's and the
#             newest already: test_binding.sh, test_release_current.sh,
#             test_gpunode.sh); NG_CHECK_RELEASES=no skips them all with
#             one SKIP (CI that runs make check-releases beside make check)
# For each release: build numa_gpu.so against its headers (build/slurm-VER),
# run tests/slurm/test_binding.sh on its daemons (both lab flavours) and the
# GPU-node QEMU guest on cgroup v2 (tests/vm/test_gpunode.sh with
# VM_GPUNODE_SLURM). Every case is named VER/... (the nested suites name the
# release their slurmd reported too: VER/binding@VER/cgroup/gpus-per-task); a
# nested suite that hangs (900 s for the binding suite, 1500 s for the guest,
# as run-all.sh allows them; NG_RELEASE_TIMEOUT=SECONDS for both), dies,
# exits non-zero without a FAIL or miscounts is a FAIL of that release.
# NG_LAB_LOCK=FILE: each lab run holds `flock FILE` (a machine where others
# run labs too), not the Slurm builds or the guests.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
ng_suite releases
cached=""
newest=""
case ${1:-} in
    --cached) cached=1; shift ;;
    --check) cached=1; newest=skip; shift ;;
esac
[ "$(id -u)" = 0 ] || { skip all "needs root"; ng_end; }
if [ -n "$newest" ] && [ "${NG_CHECK_RELEASES:-yes}" = no ]; then
    skip all "NG_CHECK_RELEASES=no: the older Slurm series are left to make check-releases"
    ng_end
fi
vendor=$(cd .. && pwd)/shared/vendor
cache=${NUMA_GPU_CACHE:-/var/cache/numa-gpu}
BUILD=${NUMA_GPU_BUILD:-$(pwd)/build}
sysver=$(slurmd -V 2>/dev/null | awk '{print $2}')

vendored() { ls "$vendor"/slurm-*.tar.xz 2>/dev/null | sed 's|.*/slurm-||; s|\.tar\.xz$||' | sort -V; }
built() { [ -x "$cache/slurm-$1/sbin/slurmd" ] && [ -f "$cache/slurm-$1/.built" ]; }
if [ $# -gt 0 ]; then
    releases="$*"
elif [ -n "$newest" ]; then
    # vendored or cached (a cache kept from another vendor set counts too)
    releases=$( { vendored; ls -d "$cache"/slurm-*/ 2>/dev/null | sed 's|.*/slurm-||; s|/$||'; } | sort -uV)
    latest=$(vendored | tail -1)
    releases=$(grep -vxF "${latest:-none}" <<<"$releases")
else
    releases="system $(vendored | tr '\n' ' ')"
fi
if [ -n "$newest" ] && [ -z "$(tr -d ' \n' <<<"$releases")" ]; then
    # a new user's machine: no ../shared/vendor and nothing built
    skip all "no older Slurm series vendored (../shared/vendor) or built in $cache"
    ng_end
fi
ng_nonempty release-list "$(wc -w <<<"$releases")" || ng_end

T=$(mktemp -d /tmp/numa-gpu-releases.XXXXXX)
trap 'rm -rf "$T"' EXIT

# nested ENV... -- SCRIPT: run a suite under a timeout with ENV, relay its
# cases named $NG_NAME..., then judge it as run-all.sh judges a suite.
nested() {
    local envs=() id out rc why
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    id=$(basename "$1")
    out=$T/$id.out
    local lock=() limit=900
    [ "$id" = test_gpunode.sh ] && limit=1500
    limit=${NG_RELEASE_TIMEOUT:-$limit}
    [ -n "${NG_LAB_LOCK:-}" ] && [ "$id" = test_binding.sh ] && lock=(flock "$NG_LAB_LOCK")
    "${lock[@]}" env "${envs[@]}" timeout -k 30 "$limit" bash "$1" </dev/null 2>&1 | tee "$out" |
        sed -E "s#^(PASS|FAIL|SKIP) #&$NG_NAME#" | ng_relay
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        why="timed out after $limit s (killed); last output: $(grep -vE '^(PASS|SKIP) ' "$out" |
             tail -3 | tr '\n' ' ' | cut -c1-300)"
    else
        why=$(ng_verdict "$id" "$out" "$rc")
    fi
    [ -z "$why" ] || fail "suite:$id" "$why"
    # a case that names another release than this one ran on the wrong Slurm
    local other
    other=$(grep -aoE '^(PASS|FAIL|SKIP) [^ ]*@[0-9.]+/' "$out" | grep -vF "@$ver/" | head -1)
    [ -z "$other" ] || fail "release-of-$id" "a case ran on another Slurm than $ver: '$other'"
}

# run_release VER: one release, its cases named VER/...; sets times (what
# took how long) for the summary.
run_release() {
    local arg=$1 ver prefix="" B t0
    times=""
    ver=${arg#slurm-}
    if [ "$ver" = system ] || { [ -n "$sysver" ] && { [ "$ver" = "$sysver" ] || [ "$ver" = "${sysver%.*}" ]; }; }; then
        ng_suite "${sysver:-system}"
        [ -n "$sysver" ] || { fail all "no slurmd in PATH (Debian's slurm-wlm)"; return; }
        ver=$sysver
        B=$BUILD
        pass slurm-installed
    else
        ng_suite "$ver"
        if built "$ver"; then
            prefix=$cache/slurm-$ver
        elif [ -n "$cached" ]; then
            skip all "slurm-$ver is not built in $cache (make check-releases builds it)"
            times="not built"
            return
        elif [ ! -f "$vendor/slurm-$ver.tar.xz" ]; then
            fail slurm-source "no $vendor/slurm-$ver.tar.xz and no cached build"
            return
        else
            t0=$SECONDS
            if ! prefix=$(sh tests/lab/build-slurm.sh "$vendor/slurm-$ver.tar.xz" 2>"$T/build.err"); then
                fail build-slurm "$(tail -5 "$T/build.err" | tr '\n' ' ')"
                return
            fi
            times="slurm $((SECONDS - t0)) s, "
        fi
        local said
        said=$("$prefix/sbin/slurmd" -V 2>&1)
        if [ "$said" != "slurm $ver" ]; then
            fail slurm-installed "$prefix/sbin/slurmd -V says '$said'"
            return
        fi
        pass slurm-installed
        B=$BUILD/slurm-$ver
        mkdir -p "$B"
        t0=$SECONDS
        if ! make --no-print-directory -s B="$B" SLURM_PREFIX="$prefix" "$B/numa_gpu.so" >"$B/make.log" 2>&1; then
            fail build-plugin "$(tail -3 "$B/make.log" | tr '\n' ' ')"
            return
        fi
        pass build-plugin
        times="${times}plugin $((SECONDS - t0)) s, "
        cp "$BUILD/mkfakeroot" "$BUILD/memhelper" "$BUILD/numa-gpu" "$B/"
    fi
    t0=$SECONDS
    # make check's share: the cgroup flavour (how GPU sites run), both
    # flavours in make check-releases.
    local fl="affinity cgroup"
    [ -n "$newest" ] && fl=cgroup
    if [ -n "$prefix" ]; then
        nested PATH="$prefix/bin:$prefix/sbin:$PATH" NUMA_GPU_BUILD="$B" BINDING_FLAVOURS="$fl" -- tests/slurm/test_binding.sh
    else
        nested NUMA_GPU_BUILD="$B" BINDING_FLAVOURS="$fl" -- tests/slurm/test_binding.sh
    fi
    times="${times}binding $((SECONDS - t0)) s, "
    t0=$SECONDS
    # make check's share keeps to the host lab (about 1-2 min a series); the
    # guest (4-8 min a series) is make check-releases'.
    if [ -n "$newest" ]; then
        skip guest "make check runs the GPU-node guest on 22.05 and the newest only; make check-releases runs it on every series"
        times="${times}guest in make check-releases"
        echo "releases: $ver: $times"
        return
    fi
    if [ -n "$prefix" ]; then
        nested NUMA_GPU_BUILD="$BUILD" VM_GPUNODE_RUNS=none VM_GPUNODE_SLURM="$prefix" \
            VM_GPUNODE_CURRENT_RUNS=v2-cores -- tests/vm/test_gpunode.sh
    else
        nested NUMA_GPU_BUILD="$BUILD" VM_GPUNODE_RUNS=v2-cores VM_GPUNODE_SLURM=none -- tests/vm/test_gpunode.sh
    fi
    times="${times}guest $((SECONDS - t0)) s"
    echo "releases: $ver: $times"
}

summary=""
for r in $releases; do
    n0p=$NG_PASS n0f=$NG_FAIL n0s=$NG_SKIP
    run_release "$r"
    summary="$summary${NG_NAME%/}|$((NG_PASS - n0p))|$((NG_FAIL - n0f))|$((NG_SKIP - n0s))|$times\n"
done
echo
printf '%-10s %6s %6s %7s  %s\n' RELEASE PASSED FAILED SKIPPED TIMES
printf '%b' "$summary" | while IFS='|' read -r v p f s t; do
    printf '%-10s %6s %6s %7s  %s\n' "$v" "$p" "$f" "$s" "$t"
done
ng_end
