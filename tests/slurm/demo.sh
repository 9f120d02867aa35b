#!/bin/bash
# make demo: a throw-away local Slurm cluster running srun --numa-gpu=...
# with the plugin, showing the plan, what the kernel applied, and refusals.
set -u
cd "$(dirname "$0")/../.."
source tests/slurm/lab.sh
B=$LAB_BUILD
C=${NUMA_GPU_CORPUS:-$(pwd)/tests/topologies}
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

if [ -d "$C" ]; then
    echo "=== numa-gpu explain on real servers (hwloc XML, no Slurm needed)"
    run "$B/numa-gpu" explain --topology "$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml" --gpus 0000:4e:00.0:0000:5f:00.0:0000:cb:00.0:0000:db:00.0
    run "$B/numa-gpu" plan --topology "$C/llnl-tioga-1s-epyc7a53-nps4-4xmi250x-8gcd.xml" --ntasks 8 --gpus-per-task 1
    run "$B/numa-gpu" plan --mode strict --topology "$C/sgi-uv2000-restricted-2gpu-empty-locality.xml" --gpus 0002:01:00.0
fi

echo
echo "=== a local Slurm cluster (munged + slurmctld + slurmd) with numa_gpu.so"
trap lab_stop EXIT
lab_start 1 default=off || exit 1
mkdir -m 755 "$LAB/audit"
lab_plugstack default=off audit_dir="$LAB/audit" audit_interval=1
echo "lab: $LAB ($(sinfo -h -o '%N %T'))"
echo "plugstack.conf: $(cat "$LAB/plugstack.conf")"
run "$B/numa-gpu" topo --topology "$LAB/topo.xml"
# What each task reports: its GPU and what the kernel applied to it.
REPORT=$LAB/bin/report
cat > "$REPORT" <<EOF
#!/bin/sh
m=\$($B/memhelper | tr '\n' ' ')
echo "task \$SLURM_LOCALID gpu \$SLURM_STEP_GPUS: \$m NUMA_GPU_NODE=\$NUMA_GPU_NODE OMP_NUM_THREADS=\$OMP_NUM_THREADS"
EOF
chmod +x "$REPORT"
run srun -n2 --gpus-per-task=1 --numa-gpu=explain true
run srun -n2 --gpus-per-task=1 --numa-gpu=off "$REPORT"
run srun -n2 --gpus-per-task=1 --numa-gpu=prefer,verbose sh -c "$REPORT; sleep 1.5"
jid=$(ls "$LAB/audit" | sed -n 's/\.json$//p' | sort -n | tail -1)
sleep 1
echo
echo "audit record of job $jid, task 0 (written by slurmstepd as root; one JSON line per task):"
head -1 "$LAB/audit/$jid.json" | jq . 2>/dev/null || head -1 "$LAB/audit/$jid.json"
run "$B/numa-gpu" audit --job "$LAB/audit/$jid.json"
echo
echo "job epilog summary (slurmd log and $LAB/audit/$jid.summary):"
grep "numa-gpu: job $jid" "$LAB"/log/slurmd-lab1.log | sed 's/^\[[^]]*\] */  /'

run srun -n1 -c2 --gpus=1 --numa-gpu=strict "$REPORT"
echo "(this machine has one real memory node: a GPU on lab node 1 cannot get local memory, so strict refuses it)"
run srun -n2 --gpus-per-task=1 --numa-gpu=strict "$REPORT"
echo "srun exit status: $?"
run srun --numa-gpu=bogus true
echo "srun exit status: $?"
echo
echo "demo done; tearing the cluster down."
