#!/bin/bash
# The GPU-node guest's measured baseline per Slurm release: for each case,
# how many tasks sit on the node of the card they really have with Slurm
# alone and with numa-gpu (the BASELINE lines of tests/vm/guest-gpunode.sh,
# whose cases run each job with --numa-gpu=off beside the plugin).
#   tests/bench/guest-baseline.sh LOG...   render the BASELINE lines of
#                                          test_gpunode.sh / test_releases.sh logs
#   tests/bench/guest-baseline.sh          boot the guest first (root, QEMU):
#                                          Debian's Slurm and the newest vendored
#                                          release, cgroup v2 with Cores=
# Writes tests/bench/results/guest-baseline.md and prints it.
set -u
cd "$(dirname "$0")/../.."
out=tests/bench/results/guest-baseline.md
T=$(mktemp -d /tmp/numa-gpu-guest-baseline.XXXXXX)
trap 'rm -rf "$T"' EXIT
if [ $# -eq 0 ]; then
    newest=$(sh tests/lab/build-slurm.sh 2>/dev/null | tail -1)
    VM_GPUNODE_RUNS=v2-cores VM_GPUNODE_SLURM="${newest:-none}" bash tests/vm/test_gpunode.sh >"$T/run.log" 2>&1
    set -- "$T/run.log"
fi
# "BASELINE vm-gpunode@22.05.8/v2-cores/case slurm=K/N numa-gpu=M/N" (a
# release's own suite prefix may come first: 23.02.8/vm-gpunode@...)
grep -ah '^BASELINE ' "$@" | sed -E 's#^BASELINE ([0-9.]+/)?vm-gpunode@##' |
    awk '{ split($1, p, "/"); rel = p[1]; run = p[2]; c = $1; sub(/^[^\/]*\/[^\/]*\//, "", c)
           sub(/^slurm=/, "", $2); sub(/^numa-gpu=/, "", $3)
           print rel "\t" run "\t" c "\t" $2 "\t" $3 }' | sort -u > "$T/rows"
if [ ! -s "$T/rows" ]; then
    echo "guest-baseline: no BASELINE line in $*" >&2
    exit 1
fi
rels=$(cut -f1 "$T/rows" | sort -uV | tr '\n' ' ')
{
    echo "# GPU-node guest: Slurm alone vs numa-gpu, per release"
    echo
    echo "QEMU/TCG guest shaped like a GPU node (8 CPUs on 4 NUMA nodes, 4 DRM cards on nodes 3,2,1,0 in"
    echo "bus order), Slurm with task/cgroup + ConstrainDevices on cgroup v2 and gres.conf \`Cores=\` per"
    echo "card's node (\`numa_node_as_socket\` on the upstream releases). Each cell: tasks on the node of"
    echo "the card their devices cgroup lets them open, Slurm alone → with numa-gpu (tests/bench/guest-baseline.sh"
    echo "over the logs of tests/vm/test_gpunode.sh; a case that runs on one release only shows '-' elsewhere)."
    echo
    printf '| case |'; for r in $rels; do printf ' %s |' "$r"; done; echo
    printf '|---|'; for r in $rels; do printf -- '---|'; done; echo
    for c in $(cut -f3 "$T/rows" | awk '!s[$0]++'); do
        printf '| %s |' "$c"
        for r in $rels; do
            v=$(awk -F'\t' -v r="$r" -v c="$c" '$1 == r && $3 == c {print $4 " → " $5; exit}' "$T/rows")
            printf ' %s |' "${v:--}"
        done
        echo
    done
    echo
    awk -F'\t' '{ split($4, a, "/"); split($5, b, "/"); s[$1] += a[1]; m[$1] += b[1]; n[$1] += a[2]
                  if (b[1] > a[1]) better[$1]++; else if (b[1] == a[1]) equal[$1]++; else worse[$1]++ }
         END { for (r in s) printf "- %s: %d of %d tasks next to their cards with Slurm alone, %d with numa-gpu; numa-gpu better in %d cases, equal in %d, worse in %d.\n", r, s[r], n[r], m[r], better[r], equal[r], worse[r] }' "$T/rows" | sort -V
} > "$T/md"
cp "$T/md" "$out"
cat "$out"
