#!/bin/bash
# The SPANK plugin compiles with -Werror against the public headers of every
# Slurm release from 22.05 on: tests/slurm-headers/<version> (in the repo),
# plus ../shared/vendor/slurm-headers/<version> where that folder exists.
set -u
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
LIB_SRC=$(sed -n 's/^LIB_SRC  = //p' Makefile)
out=$(mktemp -d /tmp/numa-gpu-hdr.XXXXXX)
trap 'rm -rf "$out"' EXIT
declare -A seen
for dir in tests/slurm-headers/*/ ../shared/vendor/slurm-headers/*/; do
    [ -f "$dir/slurm/spank.h" ] || continue
    v=$(basename "$dir")
    where=$([ "${dir#tests/}" != "$dir" ] && echo repo || echo vendor)
    if [ -n "${seen[$v]:-}" ] && cmp -s "$dir/slurm/spank.h" "${seen[$v]}/slurm/spank.h" &&
       cmp -s "$dir/slurm/slurm.h" "${seen[$v]}/slurm/slurm.h"; then
        continue   # the same headers as the repo's copy
    fi
    seen[$v]=$dir
    if $CC -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -I"$dir" -Ilib \
        spank/numa_gpu.c $LIB_SRC -o "$out/numa_gpu-$v.so" -lhwloc -lnuma 2>"$out/err"; then
        echo "PASS headers/slurm-$v ($where)"
    else
        echo "FAIL headers/slurm-$v ($where): $(head -3 "$out/err" | tr '\n' ' ')"
    fi
done
exit 0
