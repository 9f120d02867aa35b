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
#
# Every case runs twice: with --numa-gpu=off (Slurm alone) and with the
# plugin. A line "BASELINE <case> slurm=K/N numa-gpu=M/N" counts the tasks
# whose cpus are on the node(s) of the GPUs they really have; the case fails
# when M < K (never worse than Slurm alone). Which GPU Slurm gives a task,
# where asserted, is Slurm's rule for the running release read from its
# source (../shared/notes/slurm-binding-by-release.md), never the plugin's
# output; and the GPU a task has must be the same with and without the
# plugin (Slurm decides it before the plugin runs).
# gres.conf variants (tests/slurm/lab.sh): none; Cores= per lab node (the
# node declared one socket per lab node); Cores= of the whole node (this
# machine's one socket: "spanning a socket" and "the whole node" are the
# same here, the GPU-node guest tells them apart); typed GPUs.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite binding || ng_end
trap lab_stop EXIT

N=$(getconf _NPROCESSORS_ONLN); [ "$N" -le 60 ] || N=60
HALF=$((N / 2))
# The running Slurm release (slurmd's own, not the plugin's reading of it;
# srun --version needs a slurm.conf, slurmd -V does not).
REL=$(slurmd -V 2>/dev/null | awk '{print $2}')
# rel_ge X.Y[.Z]: the running release is X.Y[.Z] or later
rel_ge() { [ "$(printf '%s\n%s\n' "$1" "$REL" | sort -V | head -1)" = "$1" ]; }
# cpus of GPU g's node in the lab topology (tests/lab/lab-topology.sh)
gpu_cpus() { if [ "$1" = 0 ]; then seq -s, 0 $((HALF - 1)); else seq -s, "$HALF" $((N - 1)); fi; }
# "0,1" -> "0-1" as the kernel prints lists
tolist() { echo "$1" | awk -F, '{ s=""; i=1; while (i<=NF) { j=i; while (j<NF && $(j+1)==$j+1) j++;
    s=s (s?",":"") ($i==$j ? $i : $i "-" $j); i=j+1 } print s }'; }
# "0-2,5" -> one number a line
expand() { echo "$1" | tr ',' '\n' | awk -F- 'NF == 2 { for (i = $1; i <= $2; i++) print i; next } $1 != "" { print $1 }'; }
# next_to GPUS CPUS: every cpu of the list CPUS is on the node of one of GPUS
next_to() {
    [ -n "$1" ] && [ -n "$2" ] || return 1
    local g c ok=","
    for g in $(expand "$1"); do ok="$ok$(gpu_cpus "$g"),"; done
    for c in $(expand "$2"); do case $ok in *",$c,"*) ;; *) return 1 ;; esac; done
}

# What a task prints: the GPUs it can open, its cpus, and what it was told.
write_probe() {
    cat > "$LAB/bin/probe.sh" <<EOF
own=""
for g in $(seq -s ' ' 0 $((LAB_NGPUS - 1))); do
    if ! ( exec 3<"$LAB/dev/nvidia\$g" ) 2>&1 | grep -q "not permitted"; then own="\$own\${own:+,}\$g"; fi
done
echo own=\$own; echo step=\$SLURM_STEP_GPUS; echo verdict=\$NUMA_GPU_VERDICT; echo order=\$CUDA_DEVICE_ORDER
echo mems=\$NUMA_GPU_MEMS; echo hp=\$NUMA_GPU_HUGEPAGES
sed -n "s/^Cpus_allowed_list:[[:space:]]*/cpus=/p" /proc/self/status
EOF
}
field() { sed -n "s/^ *$2: $3=//p" "$1" | head -1; }
# The GPUs task T of output FILE really has (see the top).
gpus_of() { if [ "$(lab_flavour)" = cgroup ]; then field "$1" "$2" own; else field "$1" "$2" step; fi; }

# settle: the previous step's job has released the node (not COMPLETING).
# A job that cannot start at once waits for the scheduler, and Slurm 23.11
# without accounting then holds it ~30 s as InvalidAccount.
settle() {
    local i
    for i in $(seq 1 40); do [ -z "$(squeue -h -t CG -o %i 2>/dev/null)" ] && return 0; sleep 0.25; done
}
# bcase NAME NTASKS "WANT0 WANT1 ..." SRUN-ARGS...: the step without and with
# the plugin. WANTt = the GPU list Slurm gives task t by the running
# release's rule ("-": not asserted, "none": no GPU at all). Checked: the task has a GPU, the same
# one with and without the plugin, the one Slurm's rule says; its cpus are
# on its GPUs' node(s); not fewer tasks next to their GPUs than Slurm alone.
# EXACT=1: also cpus = exactly the wanted GPU's node, tasks disjoint,
# CUDA_DEVICE_ORDER set.
bcase() {
    local name=$1 n=$2 wants=$3; shift 3
    local o="$OUT/${name//\//_}" bad="" t k=0 m=0 rc rcb allc="" g gb c cb w
    local -a W
    read -r -a W <<< "$wants"
    settle
    srun -l -n"$n" "$@" --numa-gpu=off sh "$LAB/bin/probe.sh" >"$o.off" 2>"$o.off.err"
    rcb=$?
    settle
    srun -l -n"$n" "$@" --numa-gpu=prefer sh "$LAB/bin/probe.sh" >"$o" 2>"$o.err"
    rc=$?
    [ $rcb -eq 0 ] || bad="$bad without numa-gpu rc=$rcb;"
    for t in $(seq 0 $((n - 1))); do
        w=${W[$t]:--}
        g=$(gpus_of "$o" "$t"); gb=$(gpus_of "$o.off" "$t")
        c=$(field "$o" "$t" cpus); cb=$(field "$o.off" "$t" cpus)
        next_to "$gb" "$cb" && k=$((k + 1))
        if next_to "$g" "$c"; then m=$((m + 1)); elif [ "$w" != none ]; then
            bad="$bad task $t cpus '$c' not on the node(s) of its GPU(s) '$g';"
        fi
        [ -n "$g" ] || [ "$w" = none ] || bad="$bad task $t has no GPU;"
        [ "$g" = "$gb" ] || bad="$bad task $t has GPU '$g' with numa-gpu but '$gb' without;"
        [ "$w" = - ] || [ "$g" = "${w#none}" ] || bad="$bad task $t has GPU '$g' not '$w' (Slurm $REL's rule);"
        if [ "${EXACT:-0}" = 1 ]; then
            [ "$w" = - ] || [ "$c" = "$(tolist "$(gpu_cpus "$w")")" ] ||
                bad="$bad task $t cpus '$c' not GPU $w's node ($(tolist "$(gpu_cpus "$w")"));"
            for cb in $(expand "$c"); do
                case " $allc " in *" $cb "*) bad="$bad tasks share cpu $cb;" ;; esac
                allc="$allc $cb"
            done
        fi
    done
    [ "${EXACT:-0}" = 1 ] && [ "$(field "$o" 0 order)" != PCI_BUS_ID ] && bad="$bad no CUDA_DEVICE_ORDER;"
    echo "BASELINE $NG_NAME$FL/$name slurm=$k/$n numa-gpu=$m/$n"
    [ "$m" -ge "$k" ] || bad="$bad worse than Slurm alone: $m of $n tasks next to their GPUs, $k without numa-gpu;"
    if [ $rc -eq 0 ] && [ -z "$bad" ]; then pass "$FL/$name"; else
        fail "$FL/$name" "rc=$rc$bad with: $(cat "$o" "$o.err" | tr '\n' ' ' | cut -c1-700) without: $(cat "$o.off" "$o.off.err" | tr '\n' ' ' | cut -c1-400)"
    fi
}
# case_ NAME WANT0 WANT1 SRUN-ARGS...: two tasks, the GPU Slurm gives each,
# cpus exactly that GPU's node (cases every release agrees on).
case_() {
    local name=$1 w0=$2 w1=$3; shift 3
    EXACT=1 bcase "$name" 2 "$w0 $w1" "$@"
}

# hold N: another job holding N GPUs and 1 cpu, running (its id in HOLD;
# up to 30 s: the steps before may still be completing).
hold() {
    HOLD=$(sbatch --parsable -n1 -c1 --gres=gpu:"$1" -o /dev/null --wrap "sleep 60")
    local i
    for i in $(seq 1 120); do [ "$(squeue -h -j "$HOLD" -o %T)" = RUNNING ] && return 0; sleep 0.25; done
    return 1
}
# held NAME WANT: a 1-task step on the GPU the held job left (GPU 1).
held() {
    if hold 1; then
        # Slurm 23.11 without accounting keeps a job that cannot start at
        # once pending as InvalidAccount for good (slurmctld: "has invalid
        # account"): ask for an immediate allocation first, and say so.
        if ! srun --immediate=20 -n1 -c1 --gres=gpu:1 true >/dev/null 2>&1 &&
           grep -q "has invalid account" "$LAB/log/slurmctld.log"; then
            skip "$FL/$1" "Slurm $REL without accounting leaves the step pending as InvalidAccount beside a running job"
        else
            EXACT=1 bcase "$1" 1 "$2" -c1 --gres=gpu:1
        fi
    else
        fail "$FL/$1" "the job holding GPU 0 never ran: $(squeue 2>&1 | tail -3 | tr '\n' ' ')"
    fi
    scancel "$HOLD"
    local i; for i in $(seq 1 40); do [ -z "$(squeue -h -j "$HOLD" 2>/dev/null)" ] && break; sleep 0.25; done
}

# The running release's rules (Slurm's source, per the notes), for two
# tasks on crossed cpus (task 0 on GPU 1's node, task 1 on GPU 0's) when
# gres.conf has Cores= per node:
# --gpus-per-task (implicit per_task): index order before 23.11.0, closest
# to the task's cpus first from 23.11.0 (675237ff71).
if rel_ge 23.11; then PT_CROSSED="1 0"; else PT_CROSSED="0 1"; fi
# --ntasks-per-gpu (implicit single:1): the GPU close to each task (22.05:
# the close set; 23.02.4+: slots); 23.02.0-3 replay earlier tasks with the
# current task's cpus (fixed by 8eb64699ce): not asserted there.
if rel_ge 23.02 && ! rel_ge 23.02.4; then SG_CROSSED="- -"; else SG_CROSSED="1 0"; fi
# --gpus-per-task=TYPE:1: 22.05 and 23.02 read "per_task:TYPE:1" as a count
# of 0 (strtoul): the devices cgroup then allows every step GPU, and the
# task's env names none (SLURM_STEP_GPUS and CUDA_VISIBLE_DEVICES empty,
# seen on 22.05.8); 23.11+ bind per_task:1.
pt_typed() {
    if rel_ge 23.11; then echo "0 1"; elif [ "$(lab_flavour)" = cgroup ]; then echo "0,1 0,1"; else echo "none none"; fi
}
# One task on the node: slurmstepd drops the GPU binding (the task has every
# step GPU) up to 25.05.x; from 25.11.0 it keeps it (c3b532ef4c).
if rel_ge 25.11; then ONE_MAP1=1; else ONE_MAP1=0,1; fi

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
    # Slurm binds task 0 to CPU N-1 and task 1 to CPU 0; the GPUs still
    # follow task order (no Cores= in this gres.conf: every GPU is close to
    # every cpu, in every release): the plugin moves each task next to its
    # own GPU. By map and by mask.
    case_ cpu-bind-crossed           0 1 --gpus-per-task=1 --cpu-bind=map_cpu:$((N - 1)),0
    case_ cpu-mask-crossed           0 1 --gpus-per-task=1 --cpu-bind=mask_cpu:$(printf '0x%x' $((1 << (N - 1)))),0x1
    case_ block-cyclic               0 1 --gpus-per-task=1 -m block:cyclic
    # One task on the whole node, a 2-GPU step.
    bcase one-task-map-gpu-1         1 "$ONE_MAP1" -c"$N" --gpus=2 --gpu-bind=map_gpu:1
    bcase one-task-closest           1 "0,1" -c"$N" --gpus=2 --gpu-bind=closest

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

    # A partial node: another running job holds GPU 0.
    held gpu0-held-by-other-job 1

    # A misread configuration: the admin says every GPU has Cores= of its
    # node (it has none) and that Slurm binds closest first, so the plugin's
    # reading of Slurm's per_task binding of the crossed tasks is wrong.
    # What the task really has wins, with a warning that names both: under
    # ConstrainDevices the GPU files the kernel lets it open (device_check),
    # otherwise its own global SLURM_STEP_GPUS. (Prefer: strict refuses the
    # lab's node 1, which has no memory of its own; the unit tests and the
    # guest run strict.)
    lab_plugstack default=off gres_cores=yes bind_rules=current
    local o=$OUT/misread rc t bad="" g c
    srun -l -n2 --gpus-per-task=1 --cpu-bind=map_cpu:$((N - 1)),0 --numa-gpu=prefer \
        sh "$LAB/bin/probe.sh" >"$o" 2>"$o.err"
    rc=$?
    for t in 0 1; do
        g=$(gpus_of "$o" $t); c=$(field "$o" $t cpus)
        [ "$g" = "$t" ] || bad="$bad task $t has GPU '$g' not '$t';"
        next_to "$g" "$c" || bad="$bad task $t cpus '$c' not on GPU '$g''s node;"
    done
    if [ "$FL" = cgroup ]; then
        grep -q "but the device cgroup lets the task open GPU" "$o.err" || bad="$bad no device-check warning;"
    else
        grep -q "differs from GRES" "$o.err" || bad="$bad no SLURM_STEP_GPUS warning;"
    fi
    [ $rc -eq 0 ] && [ -z "$bad" ] && pass "$FL/misread-binding-corrected-by-what-the-task-has" ||
        fail "$FL/misread-binding-corrected-by-what-the-task-has" "rc=$rc$bad $(cat "$o" "$o.err" | tr '\n' ' ')"
    # The same misreading with the device check off, under ConstrainDevices:
    # only the GPU count can be compared, it agrees, and nothing corrects it
    # (why device_check=yes is the default): each task sits next to the
    # other's GPU.
    if [ "$FL" = cgroup ]; then
        lab_plugstack default=off gres_cores=yes bind_rules=current device_check=no
        srun -l -n2 --gpus-per-task=1 --cpu-bind=map_cpu:$((N - 1)),0 --numa-gpu=prefer \
            sh "$LAB/bin/probe.sh" >"$o.nocheck" 2>&1
        g=$(gpus_of "$o.nocheck" 0); c=$(field "$o.nocheck" 0 cpus)
        [ "$g" = 0 ] && ! next_to "$g" "$c" && pass "$FL/misread-unseen-without-device-check" ||
            fail "$FL/misread-unseen-without-device-check" "task 0 GPU '$g' cpus '$c' $(tr '\n' ' ' < "$o.nocheck")"
    fi
    lab_plugstack default=off
    lab_stop
}

# gres_variant LABEL: the cases whose GPU Slurm's rules tie to gres.conf,
# in a lab started with that gres.conf (LAB_GRES_CORES, LAB_GPU_TYPE).
gres_variant() {
    local v=$1 tp=${LAB_GPU_TYPE:-}
    if ! lab_start 1 default=off; then fail "$FL/$v/lab-start" "local cluster did not start"; return; fi
    OUT=$LAB/out; mkdir -p "$OUT"
    write_probe
    local cross=(--cpu-bind=map_cpu:$((N - 1)),0) mcross=(--cpu-bind=mask_cpu:$(printf '0x%x' $((1 << (N - 1)))),0x1)
    case $v in
        cores-numa)
            bcase "$v/gpus-per-task"             2 "0 1" --gpus-per-task=1
            bcase "$v/cpu-bind-crossed"          2 "$PT_CROSSED" --gpus-per-task=1 "${cross[@]}"
            bcase "$v/cpu-mask-crossed"          2 "$PT_CROSSED" --gpus-per-task=1 "${mcross[@]}"
            bcase "$v/block-cyclic"              2 "0 1" --gpus-per-task=1 -m block:cyclic
            bcase "$v/ntasks-per-gpu-crossed"    2 "$SG_CROSSED" --ntasks-per-gpu=1 "${cross[@]}"
            bcase "$v/one-task-map-gpu-1"        1 "$ONE_MAP1" -c"$N" --gpus=2 --gpu-bind=map_gpu:1
            # one cpu: from 25.11 Slurm gives the GPU of its node, before
            # both GPUs; not asserted (which cpu the step gets is Slurm's).
            bcase "$v/one-task-one-cpu-closest"  1 "-" -c1 --gpus=2 --gpu-bind=closest
            held "$v/gpu0-held-by-other-job" 1 ;;
        cores-node)
            # every GPU close to every cpu: the crossed tasks keep task order
            bcase "$v/cpu-bind-crossed"          2 "0 1" --gpus-per-task=1 "${cross[@]}"
            bcase "$v/ntasks-per-gpu-crossed"    2 "0 1" --ntasks-per-gpu=1 "${cross[@]}"
            bcase "$v/gpus-per-task"             2 "0 1" --gpus-per-task=1 ;;
        typed)
            bcase "$v/gpus-per-task-typed"       2 "$(pt_typed)" --gpus-per-task="$tp:1"
            bcase "$v/gpus-per-task-typed-crossed" 2 "$(pt_typed)" --gpus-per-task="$tp:1" "${cross[@]}"
            bcase "$v/gpus-per-task-untyped"     2 "0 1" --gpus-per-task=1 ;;
    esac
    lab_stop
}

run_all() {
    run_flavour
    LAB_GRES_CORES=numa gres_variant cores-numa
    LAB_GRES_CORES=all gres_variant cores-node
    LAB_GPU_TYPE=tesla gres_variant typed
}
# BINDING_FLAVOURS: which lab flavours run (default both; make check runs
# the older Slurm series in the cgroup flavour only, as GPU sites run them).
flavours=${BINDING_FLAVOURS:-affinity cgroup}
case " $flavours " in
    *" affinity "*) run_all ;;
    *) skip affinity/all "BINDING_FLAVOURS=$flavours: the task/affinity flavour is not run" ;;
esac
case " $flavours " in
    *" cgroup "*)
        if [ -d /sys/fs/cgroup/cpuset ] && [ -d /sys/fs/cgroup/devices ]; then
            LAB_CGROUP=1 run_all
        else
            skip cgroup/all "no cgroup v1 cpuset+devices hierarchy mounted here"
        fi ;;
    *) skip cgroup/all "BINDING_FLAVOURS=$flavours: the cgroup flavour is not run" ;;
esac
ng_end
