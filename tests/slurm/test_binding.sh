#!/bin/bash
# Each task bound next to the GPU Slurm really gave it, for every GPU request
# form and --gpu-bind mode, in both lab flavours: task/affinity alone, and
# task/cgroup,task/affinity with ConstrainCores + ConstrainDevices (cgroup v1).
#
# Which GPU a task has is observed independently of the plugin: without
# cgroups the task's own SLURM_STEP_GPUS holds global GRES indexes; under
# ConstrainDevices the devices cgroup decides, so the task tries to open each
# GPU file: EPERM = not its GPU, ENXIO (no driver) = its GPU.
# Tasks run in prefer mode: on a one-node machine the memory of the lab's
# node 1 does not exist, which strict refuses.
# The lab topology puts GPU g on NUMA node g, whose CPUs are the g-th half of
# this machine's CPUs: a task bound next to another task's GPU shows.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite binding || ng_end
trap lab_stop EXIT

N=$(getconf _NPROCESSORS_ONLN); [ "$N" -le 60 ] || N=60
HALF=$((N / 2))
# cpus of GPU g's node in the lab topology (tests/lab/lab-topology.sh)
gpu_cpus() { if [ "$1" = 0 ]; then seq -s, 0 $((HALF - 1)); else seq -s, "$HALF" $((N - 1)); fi; }
# "0,1" -> "0-1" as the kernel prints lists
tolist() { echo "$1" | awk -F, '{ s=""; i=1; while (i<=NF) { j=i; while (j<NF && $(j+1)==$j+1) j++;
    s=s (s?",":"") ($i==$j ? $i : $i "-" $j); i=j+1 } print s }'; }

# What a task prints: the GPUs it can open, its cpus, and what it was told.
write_probe() {
    cat > "$LAB/bin/probe.sh" <<EOF
own=""
for g in 0 1; do
    if ! ( exec 3<"$LAB/dev/nvidia\$g" ) 2>&1 | grep -q "not permitted"; then own="\$own\${own:+,}\$g"; fi
done
echo own=\$own; echo step=\$SLURM_STEP_GPUS; echo verdict=\$NUMA_GPU_VERDICT; echo order=\$CUDA_DEVICE_ORDER
echo mems=\$NUMA_GPU_MEMS; echo hp=\$NUMA_GPU_HUGEPAGES
sed -n "s/^Cpus_allowed_list:[[:space:]]*/cpus=/p" /proc/self/status
EOF
}
field() { sed -n "s/^ *$2: $3=//p" "$1" | head -1; }

# case NAME WANT0 WANT1 SRUN-ARGS...: WANTt = the GPU Slurm gives task t (by
# Slurm's documented rule for the request); checked against the task's own
# view, then its cpus must be that GPU's node and the tasks disjoint.
case_() {
    local name=$1 w0=$2 w1=$3; shift 3
    local o="$OUT/$name" bad="" t
    srun -l -n2 "$@" --numa-gpu=prefer sh "$LAB/bin/probe.sh" >"$o" 2>"$o.err"
    local rc=$?
    for t in 0 1; do
        local want; want=$([ $t = 0 ] && echo "$w0" || echo "$w1")
        local seen
        if [ "$(lab_flavour)" = cgroup ]; then seen=$(field "$o" $t own); else seen=$(field "$o" $t step); fi
        [ "$seen" = "$want" ] || bad="$bad task $t has GPU '$seen' not '$want' (Slurm's rule);"
        local cpus; cpus=$(field "$o" $t cpus)
        [ "$cpus" = "$(tolist "$(gpu_cpus "$want")")" ] ||
            bad="$bad task $t cpus '$cpus' not GPU $want's node ($(tolist "$(gpu_cpus "$want")"));"
    done
    [ "$(field "$o" 0 cpus)" != "$(field "$o" 1 cpus)" ] || bad="$bad tasks share cpus;"
    [ "$(field "$o" 0 order)" = PCI_BUS_ID ] || bad="$bad no CUDA_DEVICE_ORDER;"
    [ $rc -eq 0 ] && [ -z "$bad" ] && pass "$FL/$name" || fail "$FL/$name" "rc=$rc$bad $(cat "$o" "$o.err" | tr '\n' ' ')"
}

run_flavour() {
    FL=$(lab_flavour)
    if ! lab_start 1 default=off; then fail "$FL/lab-start" "local cluster did not start"; return; fi
    OUT=$LAB/out; mkdir -p "$OUT"
    write_probe
    case_ gpus-per-task              0 1 --gpus-per-task=1
    case_ gres-map-gpu-reversed      1 0 --gres=gpu:2 --gpu-bind=map_gpu:1,0
    case_ gpus-per-task-map-gpu      1 0 --gpus-per-task=1 --gpu-bind=map_gpu:1,0
    case_ gres-mask-gpu-reversed     1 0 --gres=gpu:2 --gpu-bind=mask_gpu:0x2,0x1
    case_ map-gpu-repeat-count       1 0 --gres=gpu:2 --gpu-bind=map_gpu:1*1,0*1
    case_ gpus-single                0 1 --gpus=2 --gpu-bind=single:1
    case_ ntasks-per-gpu             0 1 --ntasks-per-gpu=1
    case_ gpus-per-node-per-task     0 1 --gpus-per-node=2 --gpu-bind=per_task:1
    # Slurm binds task 0 to CPU 1 and task 1 to CPU 0; the GPUs still follow
    # task order (no Cores= in this gres.conf): the plugin moves each task
    # next to its own GPU.
    case_ cpu-bind-crossed           0 1 --gpus-per-task=1 --cpu-bind=map_cpu:$((N - 1)),0

    # Hugepages with map_gpu: each task's reservation follows its own plan
    # row (reserved by slurmstepd once the row is final), not list order.
    local NR=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
    if [ -w "$NR" ]; then
        lab_plugstack default=off state_dir="$LAB/state-hp"
        case_ map-gpu-with-hugepages 1 0 --gres=gpu:2 --gpu-bind=map_gpu:1,0 --numa-gpu-hugepages=4M
        local t bad=""
        for t in 0 1; do
            local m; m=$(field "$OUT/map-gpu-with-hugepages" $t mems)
            [ -n "$m" ] && [ "$(field "$OUT/map-gpu-with-hugepages" $t hp)" = "$m:2x2048kB" ] ||
                bad="$bad task $t mems '$m' hp '$(field "$OUT/map-gpu-with-hugepages" $t hp)';"
        done
        [ -z "$bad" ] && pass "$FL/hugepages-follow-plan-row" || fail "$FL/hugepages-follow-plan-row" "$bad"
        lab_plugstack default=off
    else
        skip "$FL/map-gpu-with-hugepages" "$NR is not writable here"
    fi

    # A step whose node has GPU 0 held by another running job.
    local hold; hold=$(sbatch --parsable -n1 -c1 --gres=gpu:1 -o /dev/null --wrap "sleep 30")
    local i; for i in $(seq 1 40); do [ "$(squeue -h -j "$hold" -o %T)" = RUNNING ] && break; sleep 0.25; done
    local o=$OUT/held
    srun -l -n1 -c1 --gres=gpu:1 --numa-gpu=prefer sh "$LAB/bin/probe.sh" >"$o" 2>"$o.err"
    local rc=$? seen
    if [ "$FL" = cgroup ]; then seen=$(field "$o" 0 own); else seen=$(field "$o" 0 step); fi
    local want; want=$(tolist "$(gpu_cpus "$seen")")
    [ $rc -eq 0 ] && [ "$seen" = 1 ] && [ "$(field "$o" 0 cpus)" = "$want" ] && pass "$FL/gpu0-held-by-other-job" ||
        fail "$FL/gpu0-held-by-other-job" "rc=$rc seen=$seen $(cat "$o" "$o.err" | tr '\n' ' ')"
    scancel "$hold"

    # An assignment the plugin cannot trust: the admin says gres.conf has
    # Cores= (it has not) and that Slurm binds closest first, so the
    # plugin's reading of Slurm's per_task
    # binding disagrees with what Slurm did. Strict refuses naming why;
    # prefer warns and places the task on the step's GPUs' nodes.
    lab_plugstack default=off gres_cores=yes bind_rules=current
    srun -n2 --gpus-per-task=1 --cpu-bind=map_cpu:$((N - 1)),0 --numa-gpu=strict true >"$OUT/dis" 2>&1
    rc=$?
    if [ "$FL" = cgroup ]; then
        # Under ConstrainDevices a task sees its GPUs renumbered: only the
        # count can be compared, and it agrees here (one each).
        skip "$FL/disagreement-strict-fails" "ConstrainDevices hides global ids from the task"
    else
        [ $rc -ne 0 ] && grep -q "cannot tell which GPU this task has: the task's SLURM_STEP_GPUS=" "$OUT/dis" &&
            pass "$FL/disagreement-strict-fails" || fail "$FL/disagreement-strict-fails" "rc=$rc $(cat "$OUT/dis")"
        srun -n2 --gpus-per-task=1 --cpu-bind=map_cpu:$((N - 1)),0 --numa-gpu=prefer true >"$OUT/dis2" 2>&1
        rc=$?
        [ $rc -eq 0 ] && grep -q "placing it on the nodes of all the step's GPUs" "$OUT/dis2" &&
            pass "$FL/disagreement-prefer-warns" || fail "$FL/disagreement-prefer-warns" "rc=$rc $(cat "$OUT/dis2")"
    fi
    lab_stop
}

run_flavour
if [ -d /sys/fs/cgroup/cpuset ] && [ -d /sys/fs/cgroup/devices ]; then
    LAB_CGROUP=1 run_flavour
else
    skip cgroup/all "no cgroup v1 cpuset+devices hierarchy mounted here"
fi
ng_end
