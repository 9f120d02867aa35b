#!/bin/bash
# The SPANK plugin compiles with -Werror against the public headers of every
# Slurm release from 22.05 on: tests/vendor/slurm-headers/<version> (in the repo),
# plus ../shared/vendor/slurm-headers/<version> where that folder exists.
# Only spank/*.c reads Slurm's headers: it is compiled per release and linked
# with the library's PIC objects the build already made (build/lib), so a
# duplicate symbol still fails the link and an ng_ symbol left undefined
# (a library file missing from the link) is named.
set -u
cd "$(dirname "$0")/.."
source tests/harness.sh
ng_suite headers
CC=${CC:-gcc}
LIB_OBJ=$(make --no-print-directory -s print-lib-src | tr ' ' '\n' | sed -n 's:^lib/\(.*\)\.c$:build/lib/\1.o:p')
missing=""
for o in $LIB_OBJ; do [ -f "$o" ] || missing="$missing $o"; done
ng_nonempty "library-objects (LIB_SRC of the Makefile)" "$(echo $LIB_OBJ | wc -w)" || ng_end
[ -z "$missing" ] || { fail library-objects "not built (make all builds them):$missing"; ng_end; }
out=$(mktemp -d /tmp/numa-gpu-hdr.XXXXXX)
trap 'rm -rf "$out"' EXIT
declare -A seen
sets=0
for dir in tests/vendor/slurm-headers/*/ ../shared/vendor/slurm-headers/*/; do
    [ -f "$dir/slurm/spank.h" ] || continue
    v=$(basename "$dir")
    where=$([ "${dir#tests/}" != "$dir" ] && echo repo || echo vendor)
    if [ -n "${seen[$v]:-}" ] && cmp -s "$dir/slurm/spank.h" "${seen[$v]}/slurm/spank.h" &&
       cmp -s "$dir/slurm/slurm.h" "${seen[$v]}/slurm/slurm.h"; then
        continue   # the same headers as the repo's copy
    fi
    seen[$v]=$dir
    sets=$((sets + 1))
    objs=()
    ok=1
    for c in spank/*.c; do
        o=$out/$v-$(basename "$c" .c).o
        objs+=("$o")
        $CC -std=c11 -Wall -Wextra -Werror -O2 -fPIC -I"$dir" -Ilib -c "$c" -o "$o" 2>"$out/err" ||
            { ok=0; break; }
    done
    [ $ok = 1 ] && $CC -shared "${objs[@]}" $LIB_OBJ -o "$out/numa_gpu-$v.so" -lhwloc -lnuma 2>"$out/err" ||
        ok=0
    undef=""
    [ $ok = 1 ] && undef=$(nm -D --undefined-only "$out/numa_gpu-$v.so" | awk '$2 ~ /^ng_/ {print $2}' | tr '\n' ' ')
    if [ $ok = 1 ] && [ -z "$undef" ]; then
        pass "slurm-$v ($where)"
    else
        fail "slurm-$v ($where)" "${undef:+undefined library symbols: $undef}$(head -3 "$out/err" | tr '\n' ' ')"
    fi
done
ng_nonempty "header-sets (tests/vendor/slurm-headers)" "$sets"
ng_end
