#!/bin/bash
# mpirun-launched jobs in a real two-node local Slurm (two slurmd on this
# host): Open MPI 4.1 launches orted through srun on the second node; the
# plugin widens orted's one-CPU mask and the batch step exports a rankfile
# from the plan, so every rank lands on its GPU's cores. Also the
# numa-gpu-mpirun wrapper and `numa-gpu exec` under mpirun.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite slurm-mpirun mpirun || ng_end
trap lab_stop EXIT
lab_start 2 default=off || { fail lab-start "two-node local cluster did not start"; ng_end; }
OUT=$LAB/out; mkdir -p "$OUT"
MEMS=$(awk '/Mems_allowed_list/ {print $2}' /proc/self/status)
ALLCPUS=$(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
RANK='echo "rank=$OMPI_COMM_WORLD_RANK node=$SLURMD_NODENAME $(grep Cpus_allowed_list /proc/self/status | tr -d "\t")"'
# The plan for two tasks per node with the node's two GPUs (rank r -> row r%2).
plan=$("$B/numa-gpu" plan --json --topology "$LAB/topo.xml" --procfs-root "$LAB/fake/proc" \
       --gpus 0:1 --cpus "$ALLCPUS" --mems "$MEMS" 2>/dev/null)
row_cpus() { echo "$plan" | jq -r "select(.rank == $1) | .cpus"; }
# Every rank is compared with a row: no rows (the plan failed, or its JSON
# changed shape) would make an empty rank report match.
rows=$(echo "$plan" | jq -r 'select(.rank == 0 or .rank == 1) | .cpus' 2>/dev/null | grep -c '^[0-9]')
[ "$rows" = 2 ] || rows=0
ng_nonempty plan-rows "$rows"

runjob() { # name mode script-body
    local name=$1 mode=$2 body=$3
    printf '#!/bin/sh\n%s\n' "$body" > "$OUT/$name.sh"
    local jid
    jid=$(sbatch --parsable -N2 --ntasks-per-node=2 --gres=gpu:2 --numa-gpu="$mode" \
          -o "$OUT/$name.out" "$OUT/$name.sh")
    for _ in $(seq 1 120); do [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break; sleep 0.5; done
}
# check NAME: every rank's cpus equal its plan row, on both nodes
check_ranks() {
    local name=$1 bad="" n=0
    while read -r line; do
        r=$(echo "$line" | sed -n 's/.*rank=\([0-9]*\).*/\1/p')
        c=$(echo "$line" | sed -n 's/.*Cpus_allowed_list:\([^ ]*\).*/\1/p')
        [ -n "$r" ] || continue
        n=$((n + 1))
        [ -n "$c" ] || bad="$bad rank $r reports no cpus;"
        [ "$c" = "$(row_cpus $((r % 2)))" ] || bad="$bad rank $r cpus $c want $(row_cpus $((r % 2)));"
    done < <(grep 'rank=' "$OUT/$name.out")
    [ "$n" -eq 4 ] && [ -z "$bad" ] && pass "$name" || fail "$name" "$n ranks;$bad $(cat "$OUT/$name.out")"
}

# --- orted narrowed to one CPU (srun --cpu-bind=map_cpu:0 through plm_slurm_args, like a
# site cpu-bind default): without numa-gpu the ranks orted forks
# inherit that CPU; with it, orted is widened back to the job's cpus.
NARROW='export OMPI_MCA_plm_slurm_args=--cpu-bind=map_cpu:0; unset OMPI_MCA_rmaps_rank_file_path OMPI_MCA_rmaps_rank_file_physical'
runjob baseline off "$NARROW; mpirun -n 4 --bind-to none sh -c '$RANK'"
one=$(grep 'node=lab2' "$OUT/baseline.out" | sed -n 's/.*Cpus_allowed_list:\([^ ]*\).*/\1/p' | sort -u)
if [ -n "$one" ] && ! echo "$one" | grep -q '[-,]'; then
    pass baseline-orted-ranks-inherit-one-cpu
else
    fail baseline-orted-ranks-inherit-one-cpu "lab2 ranks: '$one' $(cat "$OUT/baseline.out")"
fi
runjob widened prefer "$NARROW; mpirun -n 4 --bind-to none sh -c '$RANK'"
wide=$(grep 'node=lab2' "$OUT/widened.out" | sed -n 's/.*Cpus_allowed_list:\([^ ]*\).*/\1/p' | sort -u)
[ "$wide" = "$ALLCPUS" ] && grep -q "MPI launcher daemon step: not bound" "$LAB"/log/slurmd-lab2.log &&
    pass orted-widened-to-job-cpus || fail orted-widened-to-job-cpus "lab2 ranks '$wide' (job cpus $ALLCPUS) $(cat "$OUT/widened.out")"

# --- with --numa-gpu: ranks placed by the rankfile the batch step exported
runjob exported-hints prefer "echo rankfile=\$NUMA_GPU_RANKFILE; cat \$NUMA_GPU_RANKFILE; mpirun -n 4 sh -c '$RANK'"
check_ranks exported-hints
grep -q "^rank 3=lab2 slot=" "$OUT/exported-hints.out" && pass multi-node-rankfile-accepted ||
    fail multi-node-rankfile-accepted "$(cat "$OUT/exported-hints.out")"

# --- the user's own settings win over the exported ones
runjob user-wins prefer "export OMPI_MCA_rmaps_rank_file_path=/mine; echo path=\$OMPI_MCA_rmaps_rank_file_path"
grep -q "^path=/mine$" "$OUT/user-wins.out" && pass user-settings-kept || fail user-settings-kept "$(cat "$OUT/user-wins.out")"

# --- the wrapper computes the same placement without the plugin's hints
runjob wrapper off "NUMA_GPU_HINTS_ARGS='--topology $LAB/topo.xml --procfs-root $LAB/fake/proc --mems $MEMS' $B/numa-gpu-mpirun -n 4 sh -c '$RANK'"
check_ranks wrapper

# --- numa-gpu exec as the rank's launcher: each picks its local rank's row
runjob exec off "mpirun -n 4 --bind-to none $B/numa-gpu exec --topology $LAB/topo.xml --procfs-root $LAB/fake/proc --mems $MEMS -- sh -c '$RANK'"
check_ranks exec

# --- nodes of two types (topology_dir=): lab2's rankfile rows come from
# its own topology (here a corpus machine, LLNL Pascal), lab1's from the
# lab's; the same two tasks a node over each node's first two GPUs in PCI
# order (what `numa-gpu plan --gpus B0:B1` gives on that topology).
mkdir -p "$LAB/topos"
cp tests/topologies/llnl-pascal-2s-bdw-2xp100-pcie.xml "$LAB/topos/lab2.xml"
lab_plugstack default=off topology_dir="$LAB/topos"
bus=$("$B/numa-gpu" topo --json --topology "$LAB/topos/lab2.xml" | jq -r 'select(.pci_busid) | .pci_busid' | sort | head -2 | paste -sd: -)
p2=$("$B/numa-gpu" plan --json --topology "$LAB/topos/lab2.xml" --gpus "$bus" 2>/dev/null)
runjob mixed prefer "cat \$NUMA_GPU_RANKFILE"
bad=""
for r in 0 1; do
    want1=$(row_cpus $r); want2=$(echo "$p2" | jq -r "select(.rank == $r) | .cpus")
    grep -qx "rank $r=lab1 slot=$want1" "$OUT/mixed.out" || bad="$bad lab1 rank $r not on $want1;"
    [ -n "$want2" ] && grep -qx "rank $((r + 2))=lab2 slot=$want2" "$OUT/mixed.out" || bad="$bad lab2 rank $((r + 2)) not on '$want2';"
    [ "$want1" != "$want2" ] || bad="$bad the two node types plan alike: the case shows nothing;"
done
[ -z "$bad" ] && pass mixed-node-types-rankfile-rows || fail mixed-node-types-rankfile-rows "$bad $(cat "$OUT/mixed.out")"
lab_plugstack default=off

# --- MPICH hydra (Debian's mpich beside Open MPI): HYDRA_BINDING exported by
# the batch step binds each rank to its plan row.
if command -v mpiexec.hydra >/dev/null; then
    cat > "$OUT/hydra.sh" <<'EOS'
#!/bin/sh
echo binding=$HYDRA_BINDING
mpiexec.hydra -launcher fork -n 2 sh -c 'echo "rank=$PMI_RANK $(grep Cpus_allowed_list /proc/self/status | tr -d "\t")"'
EOS
    jid=$(sbatch --parsable -N1 --ntasks-per-node=2 --gres=gpu:2 --numa-gpu=prefer -o "$OUT/hydra.out" "$OUT/hydra.sh")
    for _ in $(seq 1 60); do [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break; sleep 0.5; done
    bad=""; n=0
    for r in 0 1; do
        c=$(sed -n "s/^rank=$r Cpus_allowed_list:\(.*\)/\1/p" "$OUT/hydra.out")
        [ -n "$c" ] && n=$((n + 1))
        [ "$c" = "$(row_cpus $r)" ] || bad="$bad rank $r cpus '$c' want $(row_cpus $r);"
    done
    [ $n -eq 2 ] && [ -z "$bad" ] && pass mpich-hydra-binding || fail mpich-hydra-binding "$bad $(cat "$OUT/hydra.out")"
else
    skip mpich-hydra "mpiexec.hydra not installed (apt-get install mpich)"
fi
ng_end
