#!/bin/bash
# The harness itself: tests/run-all.sh on small suites that misbehave the
# ways real ones can. A suite killed half-way, one that hangs, one that
# exits non-zero without a FAIL, one that dies on an unset variable and one
# whose END line miscounts each fail the run, named; a suite that leaves a
# process holding its output does not hold the run up; good suites pass.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
ng_suite harness
T=$(mktemp -d /tmp/numa-gpu-harness.XXXXXX)
trap 'rm -rf "$T"' EXIT
H=$(pwd)/tests/harness.sh

mk() {   # name body: a suite script that sources the harness
    printf '#!/bin/bash\nset -u\nsource %q\nng_suite %s\n%s\n' "$H" "$1" "$2" >"$T/$1.sh"
}
mk good 'pass one; skip two "not here"; ng_end'
mk killed 'pass before; kill -9 $$; pass after; ng_end'
mk hangs 'pass before; sleep 600; ng_end'
mk nonzero 'pass one; echo "END $NG_END_ID: 1 passed, 0 failed, 0 skipped"; exit 3'
mk unset 'pass before; echo "$NO_SUCH_VARIABLE"; ng_end'
mk miscount 'pass one; echo "PASS not-counted"; ng_end'
mk empty 'ng_nonempty rows 0; ng_end'
mk holder 'sleep 60 & pass one; ng_end'
mk failing 'fail one "broken"; ng_end'

run() {   # table lines on stdin -> $T/out, $T/rc
    cat >"$T/table"
    NG_SUITES=$T/table timeout 120 bash tests/run-all.sh all >"$T/out" 2>&1
    echo $? >"$T/rc"
}

printf 'good|20|bash %s\n' "$T/good.sh" | run
[ "$(cat "$T/rc")" = 0 ] && tail -1 "$T/out" | grep -qx "1 passed, 0 failed, 1 skipped" &&
    pass good-suite-passes || fail good-suite-passes "rc=$(cat "$T/rc") $(tail -3 "$T/out")"

expect() {   # case id pattern: one suite alone fails the run, named
    local name=$1 id=$2 pat=$3
    printf '%s|%s|bash %s\n' "$id" "${4:-20}" "$T/$id.sh" | run
    if [ "$(cat "$T/rc")" != 0 ] && grep -qE "^FAIL suite:$id: $pat" "$T/out" &&
       tail -1 "$T/out" | grep -qE '^[0-9]+ passed, [1-9][0-9]* failed'; then
        pass "$name"
    else
        fail "$name" "rc=$(cat "$T/rc") $(grep -E '^FAIL|passed' "$T/out" | tr '\n' ' ')"
    fi
}
expect killed-half-way-fails-named killed "ended without its END line"
t0=$SECONDS
expect hang-fails-named hangs "timed out after 2 s" 2
[ $((SECONDS - t0)) -lt 60 ] && pass hang-is-cut-short || fail hang-is-cut-short "took $((SECONDS - t0)) s"
expect nonzero-exit-fails-named nonzero "exited with status 3 but reported no FAIL"
expect unset-variable-fails-named unset "ended without its END line"
expect miscount-fails-named miscount "its END line counts 1 cases but it printed 2"
printf 'empty|20|bash %s\n' "$T/empty.sh" | run
[ "$(cat "$T/rc")" != 0 ] && grep -q "^FAIL empty/rows: nothing to check" "$T/out" &&
    pass empty-list-fails || fail empty-list-fails "$(tail -3 "$T/out")"
t0=$SECONDS
printf 'holder|20|bash %s\n' "$T/holder.sh" | run
[ "$(cat "$T/rc")" = 0 ] && [ $((SECONDS - t0)) -lt 30 ] && pass background-holder-does-not-hang-run ||
    fail background-holder-does-not-hang-run "rc=$(cat "$T/rc") $((SECONDS - t0)) s $(tail -2 "$T/out")"
# Several suites: the run counts every case and names each bad suite.
printf 'good|20|bash %s\nkilled|20|bash %s\nfailing|20|bash %s\nhangs|2|bash %s\n' \
    "$T/good.sh" "$T/killed.sh" "$T/failing.sh" "$T/hangs.sh" | run
[ "$(cat "$T/rc")" != 0 ] && grep -q "^FAIL suite:killed:" "$T/out" && grep -q "^FAIL suite:hangs:" "$T/out" &&
    grep -q "^FAIL failing/one: broken" "$T/out" && ! grep -q "^FAIL suite:good" "$T/out" &&
    tail -1 "$T/out" | grep -qx "3 passed, 3 failed, 1 skipped" &&
    pass mixed-run-counts-and-names || fail mixed-run-counts-and-names "$(grep -E '^FAIL|passed' "$T/out" | tr '\n' ' ')"
printf '' | run
[ "$(cat "$T/rc")" != 0 ] && pass nothing-ran-fails || fail nothing-ran-fails "rc=$(cat "$T/rc")"
ng_end
