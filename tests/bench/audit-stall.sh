#!/bin/bash
# tests/bench/audit-stall.sh OUT.md OUT.tsv: the audit sampler's cost to the job it
# watches. For 1, 4 and 8 GiB processes over 64 and 4096 mappings, each
# method (numa_maps walk, sampled, cgroup) samples the process 5 times: the
# worst mmap/munmap stall seen inside it, the sampler's CPU time per sample,
# and local_pct against the walk. Needs root for the memory cgroup.
set -u
cd "$(dirname "$0")/../.."
B=${NUMA_GPU_BUILD:-$(pwd)/build}
md=$1 tsv=$2
CG=/sys/fs/cgroup/memory/numa-gpu-bench
: > "$tsv"
printf '| size | mappings | method | worst stall (ms) | sampler CPU per sample (ms) | CPU at 30 s interval | pages on node 0 %% (walk) |\n|---|---|---|---|---|---|---|\n' >> "$md"
for gib in ${STALL_SIZES:-1 4 8}; do
    for maps in 64 4096; do
        # In its own memory cgroup before it touches anything (a task's
        # cgroup under Slurm's task/cgroup): v1 does not move charges.
        mkdir -p "$CG" 2>/dev/null
        coproc ST { [ -d "$CG" ] && echo $BASHPID > "$CG/cgroup.procs" 2>/dev/null; exec "$B/stall" "$gib" "$maps"; }
        read -r ready <&"${ST[0]}"
        [ "$ready" = ready ] || { echo "| $gib GiB | $maps | stall helper failed | | | | |" >> "$md"; continue; }
        pid=$ST_PID
        walk=""
        for method in numa_maps sampled cgroup; do
            echo report >&"${ST[1]}"; read -r _ <&"${ST[0]}"     # reset the worst
            # 5 samples in one process (the plugin's sampler thread does
            # the same): its CPU per sample and node 0's share of pages.
            read -r per pct used < <("$B/bench" sample "$pid" "$method" 5 2>/dev/null)
            echo report >&"${ST[1]}"; read -r worst_us <&"${ST[0]}"
            [ "$method" = numa_maps ] && walk=$pct
            frac=$(awk -v c="${per:-0}" 'BEGIN {printf "%.4f%%", c / 30000 * 100}')
            printf '| %s GiB | %s | %s | %.2f | %s | %s | %s (%s) |\n' "$gib" "$maps" "$method" \
                "$(awk -v w="$worst_us" 'BEGIN {print w / 1000}')" "$per" "$frac" "${pct:--}" "${walk:--}" >> "$md"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$gib" "$maps" "$method" "$worst_us" "$per" "${pct:-}" "${walk:-}" >> "$tsv"
        done
        exec {ST[1]}>&-
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
done
rmdir "$CG" 2>/dev/null
exit 0
