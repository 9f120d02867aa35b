#!/bin/bash
# Docs in step with the code: man pages render without groff warnings, every
# CLI command of --help is in numa-gpu(1), every plugstack argument the
# parser knows is in numa_gpu(8), the plugstack snippet and the README.
set -u
B=${NUMA_GPU_BUILD:-build}
P=${NG_TEST_PREFIX:-}
pass() { echo "PASS ${P}docs/$1"; }
fail() { echo "FAIL ${P}docs/$1: $2"; }
for m in contrib/man/*.[1-8]; do
    w=$(groff -ww -man -z "$m" 2>&1; LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
    [ -z "$w" ] && pass "man-renders-clean/$(basename "$m")" || fail "man-renders-clean/$(basename "$m")" "$w"
done
bad=""
for c in $("$B/numa-gpu" --help | sed -n 's/^ *\(usage: \)\{0,1\}numa-gpu \([a-z][a-z-]*\).*/\2/p' | sort -u); do
    grep -q "^\.B numa-gpu $c" contrib/man/numa-gpu.1 || bad="$bad $c"
done
[ -z "$bad" ] && pass help-commands-in-man-page || fail help-commands-in-man-page "not in numa-gpu.1:$bad"
bad=""
for k in $(grep -o '!strcmp(key, "[a-z_]*")' lib/config.c | sed 's/.*"\(.*\)".*/\1/' | sort -u); do
    grep -q "^\.B.* $k\|^\.BI $k=\|^\.B $k" contrib/man/numa_gpu.8 || bad="$bad man:$k"
    grep -q "#   $k" etc/plugstack.conf.d/numa-gpu.conf || bad="$bad snippet:$k"
done
[ -z "$bad" ] && pass plugstack-arguments-documented || fail plugstack-arguments-documented "$bad"
# Every relative link of the README and the guides points at a file that exists.
bad=""
for f in README.md contrib/docs/*.md; do
    for l in $(grep -o '](\([^)#: ]*\)[^)]*)' "$f" | sed 's/^](\([^)#]*\).*/\1/'); do
        [ -e "$(dirname "$f")/$l" ] || bad="$bad $f:$l"
    done
done
[ -z "$bad" ] && pass doc-links-resolve || fail doc-links-resolve "$bad"
exit 0
