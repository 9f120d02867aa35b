#!/bin/bash
# numa_gpu.so inside a real local Slurm (munged + slurmctld + slurmd as
# root, all state in a temp dir). The lab topology exposes this machine's
# CPUs as two NUMA domains with one fake GPU each; the tasks report what the
# kernel applied (/proc/self/status, get_mempolicy) and the test compares it
# with what `numa-gpu plan` computes for the same GPUs and cores.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite slurm || ng_end
trap lab_stop EXIT
if ! lab_start 1 default=off; then
    fail lab-start "local cluster did not start"
    ng_end
fi
OUT=$LAB/out; mkdir -p "$OUT"
MEMS=$(awk '/Mems_allowed_list/ {print $2}' /proc/self/status)
ALLCPUS=$(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
# What a task prints: its GPUs and what the kernel says.
REPORT='echo gpus=$SLURM_STEP_GPUS; echo node=$NUMA_GPU_NODE; echo omp=$OMP_NUM_THREADS; '$B'/memhelper'

# plan GPUS-SPEC CPUS [mode]: the planner's JSON for these GPUs (GRES ids).
plan() {
    "$B/numa-gpu" plan --json --topology "$LAB/topo.xml" --procfs-root "$LAB/fake/proc" \
        --sysfs-root "$LAB/fake/sys" --gpus "$1" --cpus "$2" --mems "$MEMS" --mode "${3:-prefer}" 2>/dev/null
}
# field FILE TASK KEY: value of KEY= in task TASK's lines of an `srun -l` output.
field() { sed -n "s/^ *$2: $3=//p" "$1" | head -1; }

# --- the option is listed with a description
srun --help 2>&1 | grep -A1 -- '--numa-gpu=MODE' | grep -q "NUMA node" &&
    pass help-lists-option || fail help-lists-option "$(srun --help 2>&1 | grep -i numa)"

# --- one task, each mode: placement read back from the kernel equals the plan
for mode in prefer strict interleave; do
    srun -l -n1 -c2 --gpus=1 --numa-gpu=$mode sh -c "$REPORT" >"$OUT/$mode" 2>"$OUT/$mode.err"
    rc=$?
    gpus=$(field "$OUT/$mode" 0 gpus)
    p=$(plan "$gpus" "$ALLCPUS" $mode)
    ok=$(echo "$p" | jq -r .strict_ok)
    want_cpus=$(echo "$p" | jq -r .cpus); want_pol=$(echo "$p" | jq -r .policy)
    want_mems=$(echo "$p" | jq -r .mems)
    [ "$want_pol" = preferred ] && [ "$(echo "$p" | jq -r '.mems|split(",")|length')" -gt 1 ] && want_pol=preferred_many
    if [ "$mode" = strict ] && [ "$ok" = false ]; then
        [ $rc -ne 0 ] && grep -q strict "$OUT/$mode.err" && pass "mode-$mode" ||
            fail "mode-$mode" "plan refuses but srun rc=$rc"
        continue
    fi
    got="$(field "$OUT/$mode" 0 cpus) $(field "$OUT/$mode" 0 policy) $(field "$OUT/$mode" 0 policy_nodes) $(field "$OUT/$mode" 0 node)"
    want="$want_cpus $want_pol $want_mems $(echo "$p" | jq -r .home)"
    # An empty plan and an empty task report would compare equal.
    [ $rc -eq 0 ] && [ -n "$want_cpus" ] && [ "$got" = "$want" ] && pass "mode-$mode" ||
        fail "mode-$mode" "rc=$rc got '$got' want '$want' $(cat "$OUT/$mode.err")"
done

# --- explain applies nothing and prints the plan
srun -l -n1 -c2 --gpus=1 --numa-gpu=off sh -c "$REPORT" >"$OUT/off" 2>&1
srun -l -n1 -c2 --gpus=1 --numa-gpu=explain sh -c "$REPORT" >"$OUT/explain" 2>"$OUT/explain.err"
[ -n "$(field "$OUT/off" 0 cpus)" ] && [ "$(field "$OUT/explain" 0 cpus)" = "$(field "$OUT/off" 0 cpus)" ] &&
    [ "$(field "$OUT/explain" 0 policy)" = default ] && grep -q "numa-gpu explain.*rank 0" "$OUT/explain.err" &&
    pass explain-prints-plan-applies-nothing ||
    fail explain-prints-plan-applies-nothing "$(cat "$OUT/explain" "$OUT/explain.err")"

# --- two tasks, one GPU each: two different NUMA domains, as planned
twotasks() { # name srun-args...
    local name=$1; shift
    srun -l -n2 "$@" --numa-gpu=prefer sh -c "$REPORT" >"$OUT/$name" 2>"$OUT/$name.err"
    local rc=$? g0 g1 spec p bad=""
    g0=$(field "$OUT/$name" 0 gpus); g1=$(field "$OUT/$name" 1 gpus)
    # Tasks that see all GPUs take equal chunks in local-rank order.
    if [ "$g0" = "$g1" ]; then spec=${g0/,/:}; else spec="$g0:$g1"; fi
    p=$(plan "$spec" "$ALLCPUS")
    for t in 0 1; do
        local want got
        want="$(echo "$p" | jq -r "select(.rank == $t) | .cpus + \" \" + .home")"
        got="$(field "$OUT/$name" $t cpus) $(field "$OUT/$name" $t node)"
        [ "$got" = "$want" ] || bad="$bad task $t: got '$got' want '$want';"
    done
    [ "$(field "$OUT/$name" 0 node)" != "$(field "$OUT/$name" 1 node)" ] || bad="$bad same node;"
    [ $rc -eq 0 ] && [ -z "$bad" ] && pass "$name" || fail "$name" "rc=$rc$bad $(cat "$OUT/$name.err")"
}
twotasks gpus-per-task-two-domains --gpus-per-task=1

# --- each task gets the HCA of its GPU's node (the lab topology puts mlx5_N
# on node N), never overriding the user's own choice
NICREPORT='echo gpus=$SLURM_STEP_GPUS; echo node=$NUMA_GPU_NODE; echo ucx=$UCX_NET_DEVICES; echo nccl=$NCCL_IB_HCA; echo mpich=$MPICH_OFI_NIC_POLICY; echo nics=$NUMA_GPU_NICS'
srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c "$NICREPORT" >"$OUT/nic" 2>"$OUT/nic.err"
rc=$? bad=""
for t in 0 1; do
    node=$(field "$OUT/nic" $t node)
    want="mlx5_$node:1"
    got="$(field "$OUT/nic" $t ucx) $(field "$OUT/nic" $t nccl) $(field "$OUT/nic" $t mpich)"
    [ -n "$node" ] && [ "$got" = "$want =$want GPU" ] || bad="$bad task $t (node $node): '$got';"
    pn=$(plan "$(field "$OUT/nic" $t gpus)" "$ALLCPUS" | jq -r '.nics|join(",")')
    [ "$(field "$OUT/nic" $t nics)" = "$pn:1" ] || bad="$bad task $t: NUMA_GPU_NICS vs plan '$pn';"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && pass nic-nearest-gpu-exported || fail nic-nearest-gpu-exported "rc=$rc$bad"
UCX_NET_DEVICES=mine srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c "$NICREPORT" >"$OUT/nic2" 2>&1
[ "$(field "$OUT/nic2" 0 ucx) $(field "$OUT/nic2" 1 ucx)" = "mine mine" ] &&
    [ -n "$(field "$OUT/nic2" 0 nccl)" ] && pass nic-user-setting-kept ||
    fail nic-user-setting-kept "$(cat "$OUT/nic2")"
twotasks gres-gpu-two-domains --gres=gpu:2
twotasks gpus-two-domains --gpus=2

# --- strict and a GPU whose node is unusable: srun fails with the reason
p=$(plan 0:1 "$ALLCPUS" strict)
if echo "$p" | jq -e 'select(.strict_ok == false)' >/dev/null; then
    srun -n2 --gpus-per-task=1 --numa-gpu=strict true >"$OUT/si" 2>&1
    rc=$?
    reason=$(echo "$p" | jq -r 'select(.strict_ok == false) | .gpus[0].pci_busid' | head -1)
    # grep -q "" matches anything: the reason must be there to look for.
    [ $rc -ne 0 ] && [ -n "$reason" ] && [ "$reason" != null ] && grep -q "strict mode" "$OUT/si" && grep -q "$reason" "$OUT/si" &&
        pass strict-infeasible-fails || fail strict-infeasible-fails "rc=$rc $(cat "$OUT/si")"
else
    skip strict-infeasible-fails "every GPU node is usable on this machine"
fi

# --- a bad value fails at submission with the exact message
srun --numa-gpu=bogus true >"$OUT/bad" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qF "numa-gpu: unknown mode 'bogus' (expected off|prefer|strict|interleave|explain)" "$OUT/bad" &&
    pass bad-option-value || fail bad-option-value "rc=$rc $(cat "$OUT/bad")"
srun --numa-gpu=strict,loud true >"$OUT/bad2" 2>&1
[ $? -ne 0 ] && grep -q "unknown modifier 'loud'" "$OUT/bad2" && pass bad-option-modifier ||
    fail bad-option-modifier "$(cat "$OUT/bad2")"

srun --numa-gpu=prefer --numa-gpu-smt=2 true >"$OUT/bad3" 2>&1
[ $? -ne 0 ] && grep -qF "numa-gpu: unknown --numa-gpu-smt '2' (expected auto|1|all)" "$OUT/bad3" &&
    pass bad-smt-value || fail bad-smt-value "$(cat "$OUT/bad3")"
srun --numa-gpu=prefer --numa-gpu-cpus=socket true >"$OUT/bad4" 2>&1
[ $? -ne 0 ] && grep -qF "numa-gpu: unknown --numa-gpu-cpus 'socket' (expected node|package)" "$OUT/bad4" &&
    pass bad-cpus-value || fail bad-cpus-value "$(cat "$OUT/bad4")"

# --- -c N: OMP_NUM_THREADS is N (Slurm sets none), unless the user set it;
# the cpus stay the plan's (one task on all cpus: its GPU node's half).
srun -l -n1 -c"$(getconf _NPROCESSORS_ONLN)" --gpus=1 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/cpt" 2>&1
srun -l -n1 -c"$(getconf _NPROCESSORS_ONLN)" --gpus=1 --numa-gpu=off sh -c "$REPORT" >"$OUT/cpt-off" 2>&1
OMP_NUM_THREADS=5 srun -l -n1 -c"$(getconf _NPROCESSORS_ONLN)" --gpus=1 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/cpt-user" 2>&1
ncpu=$(getconf _NPROCESSORS_ONLN)
want=$(plan "$(field "$OUT/cpt" 0 gpus)" "$ALLCPUS" | jq -r 'select(.rank == 0) | .cpus')
[ "$(field "$OUT/cpt" 0 omp)" = "$ncpu" ] && [ -z "$(field "$OUT/cpt-off" 0 omp)" ] &&
    [ "$(field "$OUT/cpt-user" 0 omp)" = 5 ] && [ -n "$want" ] && [ "$(field "$OUT/cpt" 0 cpus)" = "$want" ] &&
    pass cpus-per-task-sets-omp-threads ||
    fail cpus-per-task-sets-omp-threads "want omp=$ncpu cpus=$want: $(cat "$OUT/cpt") | off: $(cat "$OUT/cpt-off") | user: $(cat "$OUT/cpt-user")"

# --- --cpu-bind=verbose: after Slurm's line, the mask the task really runs
# with in Slurm's format (the task's own Cpus_allowed, as hex)
srun -l -n2 --gpus-per-task=1 --cpu-bind=verbose --numa-gpu=prefer sh -c "$REPORT" >"$OUT/vb" 2>&1
rc=$?
bad=""
for t in 0 1; do
    cpus=$(field "$OUT/vb" $t cpus)
    hex=$(python3 -c "import sys; print('%x' % sum(1 << int(c) for r in sys.argv[1].split(',') for c in (range(int(r.split('-')[0]), int(r.split('-')[-1]) + 1))))" "$cpus")
    grep -qE "cpu-bind=NUMA-GPU - [^,]+, task +$t +$t \[[0-9]+\]: mask 0x$hex set\$" "$OUT/vb" || bad="$bad task $t (cpus $cpus = 0x$hex) has no numa-gpu line;"
done
grep -q "cpu-bind.*=MASK\|cpu-bind.*=MAP\|cpu-bind.*=NULL\|cpu-bind.*=UNK" "$OUT/vb" || bad="$bad no line from Slurm;"
srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/novb" 2>&1
grep -q "NUMA-GPU" "$OUT/novb" && bad="$bad a numa-gpu line without verbose;"
[ $rc -eq 0 ] && [ -z "$bad" ] && pass cpu-bind-verbose-shows-real-mask ||
    fail cpu-bind-verbose-shows-real-mask "rc=$rc$bad $(cat "$OUT/vb")"

# --- every task sees both GPUs (no per-task binding): task t's home is GPU
# t of Slurm's list; keep leaves the list and names the home's position,
# all moves the home first, own keeps only it; each task on its home's node.
VISREPORT='echo cvd=$CUDA_VISIBLE_DEVICES; echo hidx=$NUMA_GPU_HOME_INDEX; echo hgpu=$NUMA_GPU_HOME_GPUS; '$B'/memhelper'
bad=""
for vis in keep all own; do
    srun -l -n2 --gres=gpu:2 --numa-gpu=prefer --numa-gpu-visible=$vis sh -c "$VISREPORT" >"$OUT/vis-$vis" 2>&1 ||
        bad="$bad $vis: srun failed;"
done
for t in 0 1; do
    slurm=$(field "$OUT/vis-keep" $t cvd)           # as Slurm set it
    home=$(echo "$slurm" | cut -d, -f$((t + 1)))      # task t's chunk of 2 over 2
    rest=$(echo "$slurm" | tr ',' '\n' | grep -vx "$home" | paste -sd, -)
    [ -n "$slurm" ] && [ "$(echo "$slurm" | tr ',' '\n' | wc -l)" = 2 ] || bad="$bad task $t sees '$slurm', not 2 GPUs;"
    [ "$(field "$OUT/vis-keep" $t hidx)" = "$t" ] || bad="$bad keep: task $t index $(field "$OUT/vis-keep" $t hidx);"
    [ "$(field "$OUT/vis-all" $t cvd)" = "$home,$rest" ] || bad="$bad all: task $t '$(field "$OUT/vis-all" $t cvd)' want '$home,$rest';"
    [ "$(field "$OUT/vis-all" $t hidx)" = 0 ] || bad="$bad all: task $t index $(field "$OUT/vis-all" $t hidx);"
    [ "$(field "$OUT/vis-own" $t cvd)" = "$home" ] || bad="$bad own: task $t '$(field "$OUT/vis-own" $t cvd)' want '$home';"
    want=$(plan "$home" "$ALLCPUS" | jq -r 'select(.rank == 0) | .cpus')
    for vis in keep all own; do
        [ -n "$want" ] && [ "$(field "$OUT/vis-$vis" $t cpus)" = "$want" ] || bad="$bad $vis: task $t cpus $(field "$OUT/vis-$vis" $t cpus) want $want (GPU $home's node);"
    done
done
[ -z "$bad" ] && pass all-visible-home-gpu-keep-all-own || fail all-visible-home-gpu-keep-all-own "$bad $(cat "$OUT/vis-all")"
srun --numa-gpu=prefer --numa-gpu-visible=mine true >"$OUT/bad5" 2>&1
[ $? -ne 0 ] && grep -qF "numa-gpu: unknown --numa-gpu-visible 'mine' (expected keep|all|own)" "$OUT/bad5" &&
    pass bad-visible-value || fail bad-visible-value "$(cat "$OUT/bad5")"

# --- NUMA_GPU=off opts out
NUMA_GPU=off srun -l -n1 -c2 --gpus=1 --numa-gpu=strict sh -c "$REPORT" >"$OUT/optout" 2>&1
[ $? -eq 0 ] && [ "$(field "$OUT/optout" 0 policy)" = default ] && [ -z "$(field "$OUT/optout" 0 node)" ] &&
    pass opt-out-env || fail opt-out-env "$(cat "$OUT/optout")"

# --- no GPUs: ranks spread over the NUMA nodes
srun -l -n2 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/nogpu" 2>"$OUT/nogpu.err"
rc=$?
p=$("$B/numa-gpu" plan --json --topology "$LAB/topo.xml" --ntasks 2 --cpus "$ALLCPUS" --mems "$MEMS")
bad=""
for t in 0 1; do
    want=$(echo "$p" | jq -r "select(.rank == $t) | .cpus")
    [ -n "$want" ] && [ "$(field "$OUT/nogpu" $t cpus)" = "$want" ] || bad="$bad task $t cpus $(field "$OUT/nogpu" $t cpus) want $want;"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && [ "$(field "$OUT/nogpu" 0 node)" != "$(field "$OUT/nogpu" 1 node)" ] &&
    pass no-gpu-step-spreads || fail no-gpu-step-spreads "rc=$rc$bad $(cat "$OUT/nogpu.err")"

# --- sbatch --numa-gpu=strict reaches the steps of the job
cat > "$OUT/job.sh" <<EOF
#!/bin/sh
echo "rankfile=\$NUMA_GPU_RANKFILE exists=\$(test -f "\$NUMA_GPU_RANKFILE" && echo yes)"
srun -l -n1 -c2 --gpus=1 sh -c '$REPORT'
EOF
jid=$(sbatch --parsable -n1 -c2 --gpus=1 --numa-gpu=interleave -o "$OUT/job.out" "$OUT/job.sh")
for i in $(seq 1 60); do
    [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break
    sleep 0.5
done
[ "$(field "$OUT/job.out" 0 policy)" = interleave ] && pass sbatch-option-reaches-steps ||
    fail sbatch-option-reaches-steps "$(cat "$OUT/job.out" 2>&1)"
# The batch step wrote a rankfile for mpirun; the job epilog removes it.
rf=$(sed -n 's/^rankfile=\([^ ]*\) exists=yes$/\1/p' "$OUT/job.out")
for i in $(seq 1 20); do [ -n "$rf" ] && [ -e "$rf" ] || break; sleep 0.25; done
[ -n "$rf" ] && [ ! -e "$rf" ] && pass rankfile-removed-at-job-end ||
    fail rankfile-removed-at-job-end "rankfile '$rf' $(cat "$OUT/job.out")"

# --- MPI launcher daemons are left alone (argv[0] orted)
cp "$B/memhelper" "$LAB/bin/orted"
srun -l -n1 -c2 --gpus=1 --numa-gpu=strict "$LAB/bin/orted" >"$OUT/orted" 2>&1
rc=$?
sleep 0.3
[ $rc -eq 0 ] && [ "$(field "$OUT/orted" 0 policy)" = default ] &&
    grep -q "MPI launcher daemon step: not bound" "$LAB"/log/slurmd-lab1.log &&
    pass mpi-daemon-step-untouched || fail mpi-daemon-step-untouched "rc=$rc $(cat "$OUT/orted")"

# --- cluster policy: allowed= and default=
lab_plugstack allowed=off,prefer default=prefer
srun --numa-gpu=strict true >"$OUT/notallowed" 2>&1
[ $? -ne 0 ] && grep -q "mode 'strict' is not allowed on this cluster (allowed: off|prefer)" "$OUT/notallowed" &&
    pass allowed-modes-enforced || fail allowed-modes-enforced "$(cat "$OUT/notallowed")"
srun -l -n1 -c2 --gpus=1 sh -c "$REPORT" >"$OUT/default" 2>&1
[ "$(field "$OUT/default" 0 policy)" = preferred ] && pass default-mode-applies ||
    fail default-mode-applies "$(cat "$OUT/default")"

# --- exclusive_only: a job that shares the node is left alone
lab_plugstack default=strict exclusive_only=yes
srun -l -n1 -c1 sh -c "$REPORT" >"$OUT/shared" 2>&1
srun -l -n1 -c2 --gpus=1 sh -c "$REPORT" >"$OUT/whole" 2>&1
[ "$(field "$OUT/shared" 0 policy)" = default ] && [ "$(field "$OUT/whole" 0 policy)" = bind ] &&
    pass exclusive-only || fail exclusive-only "$(cat "$OUT/shared" "$OUT/whole")"

# --- the kernel's isolated CPUs: node 1's CPUs isolated (in the lab's sysfs
# root), the task whose GPU is there runs on node 0's CPUs, as the plan with
# the same sysfs says; isolated=use puts it back on node 1.
mkdir -p "$LAB/fake/sys/devices/system/cpu"
N=$(getconf _NPROCESSORS_ONLN); [ "$N" -le 60 ] || N=60
ISO="$((N / 2))-$((N - 1))"
echo "$ISO" > "$LAB/fake/sys/devices/system/cpu/isolated"
isolated_case() { # name plugstack-value expect(avoided|used)
    lab_plugstack default=off "isolated=$2"
    srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c "$REPORT" >"$OUT/$1" 2>"$OUT/$1.err"
    local rc=$? bad="" t g c want iso hits=0
    for t in 0 1; do
        g=$(field "$OUT/$1" $t gpus); c=$(field "$OUT/$1" $t cpus)
        want=$("$B/numa-gpu" plan --json --topology "$LAB/topo.xml" --procfs-root "$LAB/fake/proc" \
               --sysfs-root "$LAB/fake/sys" --gpus "$g" --cpus "$ALLCPUS" --mems "$MEMS" \
               --isolated "$2" 2>/dev/null | jq -r .cpus)
        # Both empty would compare equal and count no isolated cpu.
        [ -n "$c" ] && [ "$c" = "$want" ] || { bad="$bad task $t: cpus '$c' plan '$want';"; continue; }
        iso=$(python3 -c "import sys; a=set(); b=set()
for s,d in ((sys.argv[1],a),(sys.argv[2],b)):
    for p in s.split(','):
        lo,_,hi=p.partition('-'); d.update(range(int(lo),int(hi or lo)+1))
print(len(a & b))" "$c" "$ISO")
        hits=$((hits + iso))
    done
    # avoided: no task on an isolated cpu; used: the node-1 task is there.
    [ "$3" = avoided ] && [ "$hits" -ne 0 ] && bad="$bad a task on isolated cpus $ISO;"
    [ "$3" = used ] && [ "$hits" -eq 0 ] && bad="$bad no task on node 1's cpus $ISO;"
    [ $rc -eq 0 ] && [ -z "$bad" ] && pass "$1" || fail "$1" "rc=$rc$bad $(cat "$OUT/$1.err")"
}
isolated_case isolated-cpus-avoided avoid avoided
isolated_case isolated-cpus-used-when-allowed use used
rm -f "$LAB/fake/sys/devices/system/cpu/isolated"

# --- irq=apply: the interrupts of the step's GPUs and their HCAs (fake
# /proc/irq and msi_irqs in the lab's roots) are steered to each device's
# node while the job runs and put back by the job epilog.
rng() { [ "$1" = "$2" ] && echo "$1" || echo "$1-$2"; }
N0=$(rng 0 $((N / 2 - 1))); N1=$(rng $((N / 2)) $((N - 1))); ALL=$(rng 0 $((N - 1)))
for spec in 300:0000:01:00.0:$N1 301:0000:02:00.0:$N0 310:0000:11:00.0:$ALL 311:0000:12:00.0:$N0; do
    IFS=: read -r irq d1 d2 d3 aff <<< "$spec"
    mkdir -p "$LAB/fake/sys/bus/pci/devices/$d1:$d2:$d3/msi_irqs" "$LAB/fake/proc/irq/$irq"
    : > "$LAB/fake/sys/bus/pci/devices/$d1:$d2:$d3/msi_irqs/$irq"
    echo "$aff" > "$LAB/fake/proc/irq/$irq/smp_affinity_list"
done
lab_plugstack default=off irq=apply state_dir="$LAB/state-irq"
IRQS='for i in 300 301 310 311; do printf "%s " $(cat '$LAB'/fake/proc/irq/$i/smp_affinity_list); done; echo'
during=$(srun -n1 --gpus=2 --numa-gpu=prefer sh -c "$IRQS" 2>"$OUT/irq.err")
after=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    after=$(sh -c "$IRQS"); [ "$after" = "$N1 $N0 $ALL $N0 " ] && break; sleep 0.5
done
[ "$during" = "$N0 $N1 $N0 $N1 " ] && [ "$after" = "$N1 $N0 $ALL $N0 " ] &&
    grep -q "steered 4 IRQ" "$LAB"/log/slurmd-lab1.log && pass irq-apply-during-job-restored-after ||
    fail irq-apply-during-job-restored-after "during '$during' (want '$N0 $N1 $N0 $N1 ') after '$after' $(cat "$OUT/irq.err")"

# --- a bad plugstack argument is logged and leaves jobs running unbound
lab_plugstack default=prefer bogus=1
srun -l -n1 -c2 --gpus=1 --numa-gpu=strict sh -c "$REPORT" >"$OUT/badconf" 2>&1
rc=$?
sleep 0.3
[ $rc -eq 0 ] && [ "$(field "$OUT/badconf" 0 policy)" = default ] &&
    grep -q "numa-gpu: plugstack.conf: unknown argument 'bogus=1'.*plugin disabled" "$LAB"/log/slurmd-lab1.log &&
    pass bad-plugstack-is-inert || fail bad-plugstack-is-inert "rc=$rc $(cat "$OUT/badconf")"
ng_end
