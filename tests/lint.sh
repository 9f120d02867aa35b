#!/bin/bash
# make lint: cppcheck and clang-tidy over the library, plugin, CLI and tests.
# Prints PASS/FAIL lines like the other suites; exits non-zero on findings.
# Excluded clang-tidy checks: easily-swappable-parameters, narrowing-
# conversions (style), reserved-identifier (_GNU_SOURCE), sizeof-expression
# (flags calloc(n, sizeof(*bitmap_array))), suspicious-string-compare
# (`!strcmp` idiom), insecureAPI (bounded snprintf/memcpy).
set -u
cd "$(dirname "$0")/.."
source tests/harness.sh
ng_suite lint
out=$(cppcheck --quiet --enable=warning,portability,performance --std=c11 --error-exitcode=1 \
      --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -Ilib \
      lib spank contrib tests/unit tests/fuzz 2>&1) &&
    pass cppcheck || fail cppcheck "$out"
CHECKS='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-narrowing-conversions,-bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.*,-bugprone-suspicious-string-compare,-bugprone-sizeof-expression'
SLURM_INC=""
[ -f /usr/include/slurm/spank.h ] || SLURM_INC="-Itests/vendor/slurm-headers/22.05.8"
# Without clang-tidy every file below would "pass" with no finding.
command -v clang-tidy >/dev/null || { fail clang-tidy "clang-tidy not installed (tests/deps.sh)"; ng_end; }
for f in lib/*.c contrib/numa-gpu/*.c spank/numa_gpu.c; do
    [ -f "$f" ] || { fail "clang-tidy/$f" "no such file (a glob that matches nothing?)"; continue; }
    all=$(clang-tidy --quiet -checks="$CHECKS" "$f" -- -std=c11 -D_GNU_SOURCE -Ilib $SLURM_INC 2>&1)
    rc=$?
    o=$(grep -E "warning:|error:" <<< "$all")
    # a non-zero exit with no finding (a bad flag, a crash) is not a clean file
    [ -z "$o" ] && [ $rc -ne 0 ] && o="clang-tidy exited $rc: $(tail -2 <<< "$all" | tr '\n' ' ')"
    [ -z "$o" ] && pass "clang-tidy/$f" || fail "clang-tidy/$f" "$o"
done
ng_end
