#!/bin/bash
# make bench: launch overhead, topology load, planner scaling, placement
# quality, real-kernel memory locality, the audit's cost and the report over a
# million records, measured side by side in one run.
# Writes tests/bench/results/latest.md and latest.json and prints the summary.
set -u
cd "$(dirname "$0")/../.."
B=${NUMA_GPU_BUILD:-$(pwd)/build}
C=${NUMA_GPU_CORPUS:-$(pwd)/tests/topologies}
R=tests/bench/results
RUNS=${BENCH_RUNS:-30}
mkdir -p "$R"
W=$(mktemp -d /tmp/numa-gpu-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
t_start=$SECONDS
md=$W/latest.md
json=$W/latest.json
say() { echo "$*" | tee -a "$md"; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
machine="$(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(ls -d /sys/devices/system/node/node* | wc -l) NUMA node(s)"
say "# numa-gpu benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
say ""
say "Machine: $machine. Absolute times are this machine's; ratios are measured side by side in this run."
say ""

# stats FILE -> "median p90" of one number per line
stats() { sort -g "$1" | awk '{v[NR] = $1} END {m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.9 + 0.5)]; printf "%.4f %.4f", m, p}'; }

# ---------------------------------------------------------------- 1. topology load
say "## 1. Topology load (median of 15 loads, ms)"
say ""
"$B/numa-gpu" save-topology "$W/cache.xml"
"$B/bench" load live "$W/cache.xml" "$C"/*.xml > "$W/load.tsv"
live=$(awk -F'\t' '$2 == "live" {print $3}' "$W/load.tsv")
cached=$(awk -F'\t' -v f="$W/cache.xml" '$2 == f {print $3}' "$W/load.tsv")
say "| topology | ms |"
say "|---|---|"
say "| live discovery | $live |"
say "| cached XML of this machine | $cached |"
awk -F'\t' -v c="$C/" 'index($2, c) == 1 {sub(c, "", $2); printf "| %s | %s |\n", $2, $3}' "$W/load.tsv" | tee -a "$md"
largest=$(awk -F'\t' -v c="$C/" 'index($2, c) == 1 {print $3}' "$W/load.tsv" | sort -g | tail -1)
say ""
say "Target ≤ 5 ms from cache: cached $cached ms, slowest corpus file $largest ms."
say ""

# ---------------------------------------------------------------- 2. planner scaling
say "## 2. Planner scaling (median µs per plan, ranks round-robin over the GPUs)"
say ""
sh tests/bench/synthetic.sh "pack:8 numa:8 core:8 pu:2" 1 "$W/syn-1024pu-64numa-32gpu.xml" 2
sh tests/bench/synthetic.sh "pack:2 numa:4 core:16 pu:2" 2 "$W/syn-256pu-8numa-16gpu.xml"
: > "$W/plan.tsv"
for f in "$W/syn-1024pu-64numa-32gpu.xml" "$W/syn-256pu-8numa-16gpu.xml" \
         "$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml" "$C/llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml" \
         "$C/jsc-deep-er-knl-1s-snc4-flat-mcdram.xml"; do
    "$B/bench" plan "$f" 256 >> "$W/plan.tsv"
done
say "| topology | PUs | NUMA | GPUs | ranks: 1 | 4 | 16 | 64 | 256 | µs/rank at 256 |"
say "|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '{n = $2; sub(".*/", "", n); t[n, $6] = $7; pu[n] = $3; nu[n] = $4; gp[n] = $5}
     END {for (f in pu) printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f |\n", f, pu[f], nu[f], gp[f],
                                t[f,1], t[f,4], t[f,16], t[f,64], t[f,256], t[f,256] / 256}' "$W/plan.tsv" | tee -a "$md"
p16=$(awk -F'\t' '$2 ~ /syn-256pu-8numa-16gpu/ && $6 == 16 {print $7}' "$W/plan.tsv")
r1=$(awk -F'\t' '$2 ~ /syn-1024pu/ && $6 == 1 {print $7}' "$W/plan.tsv")
r256=$(awk -F'\t' '$2 ~ /syn-1024pu/ && $6 == 256 {print $7}' "$W/plan.tsv")
growth=$(awk -v a="$r1" -v b="$r256" 'BEGIN {printf "%.2f", b / (256 * a)}')
say ""
say "Target ≤ 100 µs for 16 GPUs × 256 PUs (16 ranks): $p16 µs. Growth on 1024 PUs: t(256 ranks) / (256 × t(1 rank)) = $growth (≤ 1 = at most linear)."
say ""

# ---------------------------------------------------------------- 3. placement quality
say "## 3. Placement quality over the corpus (1..2×GPUs ranks, feasible ranks only)"
say ""
"$B/bench" quality "$C"/*.xml > "$W/quality.tsv"
say "| topology | ranks | numa-gpu | Slurm block + cpu-bind=cores | GPU-blind round-robin over NUMA |"
say "|---|---|---|---|---|"
awk -F'\t' -v c="$C/" '{n = $2; sub(c, "", n); printf "| %s | %d | %.0f%% | %.0f%% | %.0f%% |\n", n, $3, 100*$4/$3, 100*$5/$3, 100*$6/$3}' \
    "$W/quality.tsv" | tee -a "$md"
read -r q_tot q_ng q_block q_rr < <(awk -F'\t' '$2 == "ALL" {print $3, $4, $5, $6}' "$W/quality.tsv")
say ""
say "A rank counts when all its cores and memory are on its GPU's NUMA node(s) (block: memory by first touch)."
say ""

# ------------------------------------------------- 3b. against Slurm's best configuration
say "## 3b. Against Slurm's own best configuration (exclusive node, 1..2×GPUs tasks)"
say ""
"$B/bench" slurm "$C"/*.xml > "$W/slurm.tsv"
say "Every GPU of the node in the step, tasks on consecutive cores (\`--cpu-bind=cores\`), memory local to"
say "the task's cpus (\`--mem-bind=local\`); which GPU(s) each task has is Slurm's rule as \`lib/assign.c\`"
say "models it (GRES index = PCI order); a task that shares its GPUs with others uses its local-rank"
say "chunk of them (cuda:LOCAL_RANK, local_rank % count), in every column. numa-gpu places the tasks with"
say "the GPUs \`--gpu-bind=closest\` gives them. The per_task columns count only steps with no more tasks"
say "than GPUs."
say ""
say "| topology | tasks | numa-gpu | closest, Cores= per NUMA node | closest, Cores= per socket | tasks ≤ GPUs | --gpus-per-task=1 (23.11+) | --gpus-per-task=1 (23.02) |"
say "|---|---|---|---|---|---|---|---|"
awk -F'\t' -v c="$C/" '$2 != "ALL" {n = $2; sub(c, "", n); p = $4 ? $4 : 1;
    printf "| %s | %d | %.0f%% | %.0f%% | %.0f%% | %d | %.0f%% | %.0f%% |\n", n, $3, 100*$5/$3, 100*$6/$3, 100*$7/$3, $4, 100*$8/p, 100*$9/p}' \
    "$W/slurm.tsv" | tee -a "$md"
read -r s_better s_equal s_worse < <(awk -F'\t' '$2 != "ALL" {best = $6 > $7 ? $6 : $7;
    if ($5 > best) b++; else if ($5 == best) e++; else w++} END {print b + 0, e + 0, w + 0}' "$W/slurm.tsv")
read -r s_tot s_ng s_best < <(awk -F'\t' '$2 == "ALL" {print $3, $5, ($6 > $7 ? $6 : $7)}' "$W/slurm.tsv")
say ""
say "numa-gpu is strictly better than Slurm's best closest configuration on $s_better machine(s), equal on"
say "$s_equal, worse on $s_worse; over all tasks $s_ng/$s_tot against $s_best/$s_tot. Where it is only equal, Slurm's"
say "closest with Cores= per NUMA node already puts every block of cores on the node of the GPU it uses"
say "(one or two GPUs per node, tasks no wider than a node). numa-gpu gains where a task's block spans"
say "nodes (more NUMA nodes than GPU nodes: SNC4/NPS4 with GPUs on some nodes only), where several tasks"
say "share a node's GPUs and each uses another one, and, without numa_node_as_socket, where Cores= per"
say "socket makes every GPU of the package \"closest\"."
say ""

# ---------------------------------------------------------------- 4. launch overhead in Slurm
say "## 4. Task launch overhead in the local Slurm cluster ($RUNS interleaved runs each)"
say ""
launch_note="skipped (needs root and slurm-wlm)"
if [ "$(id -u)" = 0 ] && command -v slurmctld >/dev/null; then
    source tests/slurm/lab.sh
    trap 'lab_stop; rm -rf "$W"' EXIT
    if lab_start 1 default=off; then
        base="required $LAB_BUILD/numa_gpu.so topology=$LAB/topo.xml procfs_root=$LAB/fake/proc sysfs_root=$LAB/fake/sys"
        setps() { # name -> plugstack
            case $1 in
                notloaded) echo "" ;;
                *) echo "$base default=$1" ;;
            esac > "$LAB/plugstack.tmp"
            mv "$LAB/plugstack.tmp" "$LAB/plugstack.conf"
        }
        configs="notloaded off prefer interleave explain"
        for i in $(seq 1 "$RUNS"); do
            for c in $configs; do
                setps "$c"
                for w in plain gpus; do
                    args="-n2"; [ $w = gpus ] && args="-n2 --gpus-per-task=1"
                    s=$(date +%s%N); srun $args true >/dev/null 2>&1; e=$(date +%s%N)
                    echo "$(( (e - s) / 1000 ))" >> "$W/l-$c-$w"
                done
            done
            for c in notloaded strict; do
                setps "$c"
                s=$(date +%s%N); srun -n1 -c2 --gpus=1 true >/dev/null 2>&1; e=$(date +%s%N)
                echo "$(( (e - s) / 1000 ))" >> "$W/l-$c-strict1"
            done
        done
        say "| workload | plugin | median ms | p90 ms | ratio to not loaded (median) |"
        say "|---|---|---|---|---|"
        for w in plain gpus strict1; do
            read -r m0 p0 < <(stats "$W/l-notloaded-$w")
            for c in $configs strict; do
                [ -f "$W/l-$c-$w" ] || continue
                read -r m p < <(stats "$W/l-$c-$w")
                wl="srun -n2 true"; [ $w = gpus ] && wl="srun -n2 --gpus-per-task=1 true"
                [ $w = strict1 ] && wl="srun -n1 -c2 --gpus=1 true"
                say "$(awk -v wl="$wl" -v c="$c" -v m="$m" -v p="$p" -v m0="$m0" 'BEGIN {printf "| %s | %s | %.1f | %.1f | %.3f |", wl, c, m/1000, p/1000, m/m0}')"
            done
        done
        grep -ho 'placed in [0-9.]* ms' "$LAB"/log/slurmd-*.log | awk '{print $3}' > "$W/inplugin"
        read -r pm pp < <(stats "$W/inplugin")
        say ""
        say "Time inside the plugin per task (task_init, cached XML topology, from its debug log): median $pm ms, p90 $pp ms over $(wc -l < "$W/inplugin") tasks. Target ≤ 1 ms."
        launch_note="measured"
        read -r lm0 _ < <(stats "$W/l-notloaded-gpus"); read -r lm1 _ < <(stats "$W/l-prefer-gpus")
        launch_ratio=$(awk -v a="$lm1" -v b="$lm0" 'BEGIN {printf "%.3f", a / b}')
        lab_stop
    fi
fi
say ""
[ "$launch_note" = measured ] || say "Launch overhead: $launch_note."

# ---------------------------------------------------------------- 5. real multi-NUMA kernel
say "## 5. Memory locality on a real multi-NUMA kernel (QEMU guest, 64 MiB buffer, GPU on node 1)"
say ""
vm_note="skipped (qemu or kernel missing)"
if command -v qemu-system-x86_64 >/dev/null && ls /boot/vmlinuz-* >/dev/null 2>&1; then
    bash tests/vm/test_numa.sh > "$W/vm.out" 2>&1
    sed -n '/^case /,/^NG-EXIT/p' "$W/vm.out" | grep -v NG-EXIT | sed 's/^/    /' | tee -a "$md"
    vm_base=$(grep '^baseline' "$W/vm.out" | sed -n 's/.*remote \([0-9.]*\)%.*/\1/p')
    vm_with=$(grep '^numa-gpu prefer' "$W/vm.out" | sed -n 's/.*local \([0-9.]*\)%.*/\1/p')
    vm_time=$(grep -o 'boot+tests [0-9]* s' "$W/vm.out")
    say ""
    say "Remote page ratio without numa-gpu: $vm_base%; with numa-gpu (prefer): $(awk -v l="$vm_with" 'BEGIN {printf "%.1f", 100 - l}')% ($vm_time)."
    vm_note="measured"
fi
[ "$vm_note" = measured ] || say "$vm_note"

# ---------------------------------------------------------------- 6. audit sampler cost
say ""
say "## 6. What auditing costs the job (worst mmap/munmap stall inside a task, sampler CPU)"
say ""
say "Goal: worst stall <= 1 ms at every size, sampler CPU <= 0.1 % of a core at the default 30 s"
say "interval. numa_maps is the full walk (\`audit --full\`); sampled is the default without a"
say "task memory cgroup; cgroup reads memory.numa_stat. On this one-node machine every page is on"
say "node 0, so the share column checks consistency only; the QEMU guest checks real placement."
say ""
bash tests/bench/audit-stall.sh "$md" "$W/stall.tsv"

stall_walk=$(awk -F'\t' '$3 == "numa_maps" && $4 > m {m = $4} END {printf "%.2f", m / 1000}' "$W/stall.tsv")
stall_sampled=$(awk -F'\t' '$3 == "sampled" && $4 > m {m = $4} END {printf "%.2f", m / 1000}' "$W/stall.tsv")
stall_cgroup=$(awk -F'\t' '$3 == "cgroup" && $4 > m {m = $4} END {printf "%.2f", m / 1000}' "$W/stall.tsv")
cpu_sampled=$(awk -F'\t' '$3 == "sampled" && $5 > m {m = $5} END {printf "%.2f", m}' "$W/stall.tsv")

# ---------------------------------------------------------------- 7. report over a million records
say ""
say "## 7. \`numa-gpu report\` over a million audit records"
say ""
NREC=${BENCH_RECORDS:-1000000}
# Records shaped like the lab's real ones (every kind of task), 1000 per job
# file as in a shared audit_dir; read from the page cache on both sides.
sh tests/bench/gen-records.sh "$NREC" "$W/records"
rec_mb=$(du -sm "$W/records" | cut -f1)
cat "$W"/records/*.json > /dev/null
: > "$W/rep-cat"; : > "$W/rep-json"; : > "$W/rep-table"; : > "$W/rep-filter"
for i in 1 2 3; do
    s=$(date +%s%N); cat "$W"/records/*.json > /dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000 )) >> "$W/rep-cat"
    s=$(date +%s%N); "$B/numa-gpu" report --json "$W/records" > "$W/rep.json"; e=$(date +%s%N)
    echo $(( (e - s) / 1000 )) >> "$W/rep-json"
    s=$(date +%s%N); "$B/numa-gpu" report "$W/records" > /dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000 )) >> "$W/rep-table"
    s=$(date +%s%N); "$B/numa-gpu" report --json --user user7 --node 'gpu1*' --since 2025-01-01Z \
        "$W/records" > /dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000 )) >> "$W/rep-filter"
done
rep_used=$(head -1 "$W/rep.json" | sed -n 's/.*"used":\([0-9]*\).*/\1/p')
read -r rep_cat _ < <(stats "$W/rep-cat")
read -r rep_json _ < <(stats "$W/rep-json")
read -r rep_table _ < <(stats "$W/rep-table")
read -r rep_filter _ < <(stats "$W/rep-filter")
say "$NREC records, $rec_mb MB in $(ls "$W/records" | wc -l) files; median of 3 runs; $rep_used records counted by the report."
say ""
say "| run | median s | records/s | MB/s | time / cat's |"
say "|---|---|---|---|---|"
for r in "cat > /dev/null:$rep_cat" "report --json:$rep_json" "report (tables):$rep_table" \
         "report --json --user --node --since:$rep_filter"; do
    say "$(awk -v n="${r%%:*}" -v us="${r##*:}" -v c="$rep_cat" -v k="$NREC" -v mb="$rec_mb" \
        'BEGIN {printf "| %s | %.2f | %.0f | %.0f | %.1f |", n, us / 1e6, k / (us / 1e6), mb / (us / 1e6), us / c}')"
done
rep_s=$(awk -v us="$rep_json" 'BEGIN {printf "%.2f", us / 1e6}')
rep_rate=$(awk -v us="$rep_json" -v k="$NREC" 'BEGIN {printf "%.0f", k / (us / 1e6)}')
rep_ratio=$(awk -v us="$rep_json" -v c="$rep_cat" 'BEGIN {printf "%.1f", us / c}')
say ""
say "Goal: a million records in seconds."
rm -rf "$W/records"

# ---------------------------------------------------------------- summary
total=$((SECONDS - t_start))
cat > "$json" <<EOF
{"schema":1,"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","machine":"$machine",
 "topology_load_ms":{"live":$live,"cached":$cached,"slowest_corpus":$largest},
 "plan_us":{"16gpu_256pu_16ranks":$p16,"1024pu_1rank":$r1,"1024pu_256ranks":$r256,"growth":$growth},
 "quality":{"feasible_ranks":$q_tot,"numa_gpu":$q_ng,"slurm_block":$q_block,"gpu_blind_rr":$q_rr},
 "vs_slurm_best":{"tasks":$s_tot,"numa_gpu":$s_ng,"slurm_best":$s_best,"machines_better":$s_better,"machines_equal":$s_equal,"machines_worse":$s_worse},
 "launch":{"status":"$launch_note","ratio_prefer_gpus":${launch_ratio:-null},"plugin_ms_median":${pm:-null},"plugin_ms_p90":${pp:-null}},
 "vm":{"status":"$vm_note","remote_pct_baseline":${vm_base:-null},"local_pct_numa_gpu":${vm_with:-null}},
 "audit_worst_stall_ms":{"numa_maps":${stall_walk:-null},"sampled":${stall_sampled:-null},"cgroup":${stall_cgroup:-null}},
 "audit_sampled_cpu_ms_per_sample":${cpu_sampled:-null},
 "report":{"records":$NREC,"mb":$rec_mb,"counted":${rep_used:-null},"seconds":$rep_s,"records_per_s":$rep_rate,"ratio_to_cat":$rep_ratio},
 "total_s":$total}
EOF
cp "$md" "$R/latest.md"
cp "$json" "$R/latest.json"
echo
echo "== summary (tests/bench/results/latest.md, latest.json)"
printf '%-46s %s\n' "topology load, cached / live (ms)" "$cached / $live"
printf '%-46s %s\n' "plan 16 GPUs x 256 PUs, 16 ranks (us)" "$p16"
printf '%-46s %s\n' "plan growth 1 -> 256 ranks (1024 PUs)" "$growth"
printf '%-46s %s\n' "ranks on their GPU node: numa-gpu" "$(awk -v a="$q_ng" -v t="$q_tot" 'BEGIN {printf "%.1f%%", 100*a/t}')"
printf '%-46s %s\n' "  Slurm block / GPU-blind round-robin" "$(awk -v a="$q_block" -v b="$q_rr" -v t="$q_tot" 'BEGIN {printf "%.1f%% / %.1f%%", 100*a/t, 100*b/t}')"
printf '%-46s %s\n' "  vs Slurm's best (closest + Cores=): tasks" "$s_ng / $s_best of $s_tot ($s_better better, $s_equal equal, $s_worse worse)"
printf '%-46s %s\n' "srun -n2 --gpus-per-task=1: prefer / not loaded" "${launch_ratio:-n/a}"
printf '%-46s %s\n' "time in plugin per task, median / p90 (ms)" "${pm:-n/a} / ${pp:-n/a}"
printf '%-46s %s\n' "remote pages, without / with (QEMU)" "${vm_base:-n/a}% / $(awk -v l="${vm_with:-100}" 'BEGIN {printf "%.1f", 100 - l}')%"
printf '%-46s %s\n' "audit worst stall: walk / sampled / cgroup (ms)" "$stall_walk / $stall_sampled / $stall_cgroup"
printf '%-46s %s\n' "audit sampled CPU per sample (ms), worst" "$cpu_sampled"
printf '%-46s %s\n' "report: $NREC records (s, records/s)" "$rep_s, $rep_rate"
printf '%-46s %s\n' "benchmark time (s)" "$total"
