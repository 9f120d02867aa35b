#!/bin/bash
# Golden plans: `numa-gpu plan --json` for each request of tests/golden/requests
# on its corpus topology, compared with tests/golden/<topology>/<request>.jsonl
# (stdout, then "# stderr:" lines and "# exit: N"). The files are reviewed
# outputs: a change in a plan shows as a diff here.
#   tests/golden/run.sh check    one PASS/FAIL line per request (make check)
#   tests/golden/run.sh update   rewrite the files (make golden), then read
#                                `git diff tests/golden` before committing
set -u
cd "$(dirname "$0")/../.."
mode=${1:-check}
B=${NUMA_GPU_BUILD:-build}
G=tests/golden
T=$(mktemp -d /tmp/numa-gpu-golden.XXXXXX)
trap 'rm -rf "$T"' EXIT
source tests/harness.sh
ng_suite golden
# Every request line is compared: counted here, and no command in the loop
# may read the rest of the list from stdin.
want=$(grep -cv '^[[:space:]]*\(#\|$\)' $G/requests)
n=0
while read -r topo name args; do
    case "$topo" in ''|'#'*) continue ;; esac
    out=$G/${topo%.xml}/$name.jsonl
    # shellcheck disable=SC2086
    (env -u NUMA_GPU_TOPOLOGY "$B/numa-gpu" plan --json --topology "tests/topologies/$topo" $args \
        </dev/null >"$T/out" 2>"$T/err"; echo $? >"$T/rc")
    { cat "$T/out"
      grep -v '^$' "$T/err" | grep -v '^==\|^Suppressions\|^ *count \|^ *[0-9]\+ *[0-9]\+ \|^---' |
          sed 's/^/# stderr: /'
      echo "# exit: $(cat "$T/rc")"; } >"$T/got"
    n=$((n + 1))
    if [ "$mode" = update ]; then
        mkdir -p "$(dirname "$out")"
        cp "$T/got" "$out"
    elif [ -f "$out" ] && cmp -s "$T/got" "$out"; then
        pass "${topo%.xml}/$name"
    else
        fail "${topo%.xml}/$name" "$(diff "$out" "$T/got" 2>&1 | head -4 | tr '\n' ' ')"
    fi
done < $G/requests
if ng_nonempty requests "$n"; then
    if [ "$n" -ne "$want" ]; then
        fail requests "$n of the $want requests of $G/requests were run"
    elif [ "$mode" = update ]; then
        echo "wrote $n golden plans; review: git diff --stat tests/golden"
        pass "update ($n plans)"
    fi
fi
ng_end
