# The one way a test suite reports: source this from every suite, then
#
#   ng_suite NAME            case names become [$NG_TEST_PREFIX]NAME/CASE
#   pass CASE                one line per case: PASS <name>
#   fail CASE WHY                               FAIL <name>: <why>
#   skip CASE WHY                               SKIP <name>: <why>
#   ng_nonempty WHAT N       guard a loop or a list that could be empty: with
#                            N = 0 it is a FAIL naming WHAT, never a silent
#                            pass of nothing (returns 1, so `|| ...` works)
#   CMD | ng_relay           (or ng_relay < <(CMD)) re-emit the PASS/FAIL/SKIP lines of a guest or a
#                            nested suite as cases of this one (counted)
#   ng_end                   the last line: "END <id>: P passed, F failed,
#                            S skipped"; exits 1 if a case failed or none ran
#
# tests/run-all.sh runs each suite under a timeout and counts it as a FAIL
# naming the suite when it times out, exits non-zero without a FAIL line, or
# ends without its own END line (killed, died on `set -u`, a lab that never
# started). It sets NG_SUITE_ID; a nested suite (one suite running another)
# does not inherit it, so only the suite run-all started can print its END.
shopt -s lastpipe   # `CMD | ng_relay` counts in this shell, not a subshell
NG_END_ID=${NG_SUITE_ID:-$(basename "$0")}
export -n NG_SUITE_ID 2>/dev/null
unset NG_SUITE_ID
NG_NAME=""
NG_PASS=0
NG_FAIL=0
NG_SKIP=0

ng_suite() { NG_NAME="${NG_TEST_PREFIX:-}$1/"; }
pass() { NG_PASS=$((NG_PASS + 1)); echo "PASS $NG_NAME$1"; }
fail() { NG_FAIL=$((NG_FAIL + 1)); echo "FAIL $NG_NAME$1: ${2:-no reason given}"; }
skip() { NG_SKIP=$((NG_SKIP + 1)); echo "SKIP $NG_NAME$1: ${2:-no reason given}"; }

ng_nonempty() {
    if [ "${2:-0}" -gt 0 ] 2>/dev/null; then
        return 0
    fi
    fail "$1" "nothing to check: the list is empty (its source changed shape?)"
    return 1
}

ng_relay() {
    local line
    while IFS= read -r line; do
        case $line in
            PASS\ *) NG_PASS=$((NG_PASS + 1)) ;;
            FAIL\ *) NG_FAIL=$((NG_FAIL + 1)) ;;
            SKIP\ *) NG_SKIP=$((NG_SKIP + 1)) ;;
            END\ *) continue ;;   # a nested suite's end line is not ours
        esac
        printf '%s\n' "$line"
    done
}

# ng_verdict ID OUT RC: why the suite ID, whose output is in the file OUT
# and whose exit status was RC, must count as failed; prints nothing when
# it ended properly. The one rule, for run-all.sh and for nested suites.
ng_verdict() {
    local id=$1 out=$2 rc=$3 cases fails end how last
    cases=$(grep -cE '^(PASS|FAIL|SKIP) ' "$out")
    fails=$(grep -c '^FAIL ' "$out")
    end=$(grep -F "END $id: " "$out" | tail -1)
    how="exit status $rc"
    [ "$rc" -gt 128 ] && how="killed by signal $((rc - 128))"
    last=$(grep -vE '^(PASS|SKIP) ' "$out" | tail -3 | tr '\n' ' ' | cut -c1-300)
    if [ -z "$end" ]; then
        echo "ended without its END line ($how: died half-way?); last output: $last"
    elif [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
        echo "exited with status $rc but reported no FAIL; last output: $last"
    elif ! [[ $end =~ :\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        echo "unreadable END line '$end'"
    elif [ $((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3])) -ne "$cases" ]; then
        echo "its END line counts $((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3])) cases but it printed $cases"
    fi
}

ng_end() {
    [ $((NG_PASS + NG_FAIL + NG_SKIP)) -gt 0 ] || fail no-cases "the suite ran no case"
    echo "END $NG_END_ID: $NG_PASS passed, $NG_FAIL failed, $NG_SKIP skipped"
    [ "$NG_FAIL" -eq 0 ]
    exit $?
}
