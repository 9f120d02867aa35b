# Runs inside the GPU-node-shaped guest (VM_SHAPE=gpunode): 8 CPUs on NUMA
# nodes 0-3 (cpus 2N, 2N+1), 4 VGA devices with the bochs DRM driver as
# /dev/dri/card0..3, Slurm with proctrack/cgroup + task/cgroup,task/affinity
# (ConstrainCores, ConstrainDevices) on cgroup v1 or a pure cgroup v2
# hierarchy, numa_gpu.so with live hwloc discovery and no fake roots.
# /test/mode: "v1 cores" | "v1 nocores" | "v2 cores" | "v2 smt" (the same
# CPUs as 2 hyperthreads a core, VM_SMT=1: the user's CPU requests, issue
# 30; that run has its own cases only).
# Which GPU a task has is what the devices cgroup lets it open; every case
# asserts the kernel's view read inside the task.
read -r CG GC < /test/mode
# (busybox sh: no tests/harness.sh here; the host relays these lines and
# the exit status says whether a case failed)
NG_FAILED=0
pass() { echo "PASS $SUITE/$1"; }
fail() { NG_FAILED=$((NG_FAILED + 1)); echo "FAIL $SUITE/$1: $2"; }
skip() { echo "SKIP $SUITE/$1: $2"; }
row() { echo "TABLE $REL $CG-$GC|$*"; }
export PATH=/bin:/usr/bin:/usr/sbin
# An upstream Slurm packed at its install prefix (current release) comes first.
[ -f /etc/slurm-prefix ] && PATH=$(cat /etc/slurm-prefix)/sbin:$(cat /etc/slurm-prefix)/bin:$PATH
REL=$(slurmd -V 2>/dev/null | awk '{print $2}')
SUITE="vm-gpunode@$REL/$CG-$GC"
hostname guest
ip link set lo up
ip addr add 192.0.2.1/32 dev lo

# --- real GPU device files: QEMU's VGA devices with the bochs DRM driver
for m in drm ttm drm_kms_helper drm_ttm_helper drm_vram_helper bochs; do
    insmod /lib/modules/drm/$m.ko || { fail modules "insmod $m failed"; exit 1; }
done
for i in 0 1 2 3; do [ -e /dev/dri/card$i ] || sleep 0.5; done
for i in 0 1 2 3; do
    [ -c /dev/dri/card$i ] || { fail drm-cards "no /dev/dri/card$i: $(ls /dev/dri 2>&1)"; exit 1; }
done
# busybox sh has no arrays: the NUMA node of card N, from the kernel
cardnode() { cat /sys/class/drm/card$1/device/numa_node; }
echo "vm-gpunode: cards -> nodes: $(for i in 0 1 2 3; do cardnode $i; done | tr '\n' ' ')(PCI $(for i in 0 1 2 3; do basename "$(readlink /sys/class/drm/card$i/device)"; done | tr '\n' ' '))"
pass drm-cards-with-driver

# --- cgroups as a site mounts them
if [ "$CG" = v1 ]; then
    mount -t tmpfs cgroup /sys/fs/cgroup
    for c in cpuset freezer memory devices cpu,cpuacct; do
        mkdir -p /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
    done
    mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    CGCONF="CgroupPlugin=cgroup/v1"
else
    # Slurm 22.05 cgroup/v2 without systemd: IgnoreSystemd=yes and a
    # system.slice with the controllers enabled (slurmd creates its
    # <host>_slurmstepd.scope there).
    mount -t cgroup2 none /sys/fs/cgroup
    echo "+cpuset +cpu +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
    mkdir -p /sys/fs/cgroup/system.slice
    echo "+cpuset +cpu +memory +pids" > /sys/fs/cgroup/system.slice/cgroup.subtree_control
    CGCONF="CgroupPlugin=cgroup/v2
IgnoreSystemd=yes"
fi

S=/tmp/slurm; mkdir -p $S/state $S/spool/guest $S/log $S/munge $S/run /tmp/audit
chmod 755 $S/munge; chmod 700 /tmp/audit
dd if=/dev/urandom of=$S/munge/key bs=1024 count=1 2>/dev/null; chmod 400 $S/munge/key
/usr/sbin/munged --force --socket=$S/munge/munge.socket --key-file=$S/munge/key \
    --pid-file=$S/munged.pid --log-file=$S/log/munged.log --seed-file=$S/munge/seed || { fail munged "did not start"; exit 1; }
hw_real=$(timeout 20 slurmd -C 2>/dev/null | head -1 | grep -o 'CPUs=[0-9]* Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*')
. /test/slurm-conf.sh
printf '%s\nCgroupMountpoint=/sys/fs/cgroup\nConstrainCores=yes\nConstrainDevices=yes\nConstrainRAMSpace=no\n' \
    "$CGCONF" > $S/cgroup.conf
# slurm_config GRES: slurm.conf and gres.conf for the gres.conf flavour GRES:
#   cores    each card with Cores= of its NUMA node (as AutoDetect writes it)
#   nocores  no Cores= at all
#   socket   each card with Cores= of its whole socket (package)
#   node     each card with Cores= of the whole node
#   typed    as cores, with Type=bochs (node Gres=gpu:bochs:4)
# Current releases count each NUMA node as a socket (numa_node_as_socket,
# what SNC/NPS sites do: they refuse Cores= that cross socket boundaries),
# except for "socket", which needs the real sockets. (1 thread per core:
# core ids = cpu ids here.) The Cores= of card N are kept in /tmp/cores.N.
#   smt      the SMT guest: each card with Cores= of its node's cores, as
#            Slurm counts cores (core_ids), ThreadsPerCore=2: 22.05 on the
#            real sockets (slurmd -C), current releases with each node (one
#            core) a socket as above (on the real ones they refuse Cores=0,
#            half of socket 0: node INVAL)
slurm_config() {
    local hw=$hw_real nas="" type="" i c
    case "$REL" in 22.*) ;; *)
        if [ "$1" = smt ]; then
            hw="CPUs=8 Boards=1 SocketsPerBoard=4 CoresPerSocket=1 ThreadsPerCore=2"
            nas="SlurmdParameters=numa_node_as_socket"
        elif [ "$1" != socket ]; then
            hw="CPUs=8 Boards=1 SocketsPerBoard=4 CoresPerSocket=2 ThreadsPerCore=1"
            nas="SlurmdParameters=numa_node_as_socket"
        fi ;;
    esac
    [ "$1" = typed ] && type=bochs
    {
        slurm_conf_common $S $S/munge/munge.socket guest |
            sed -e 's|^ProctrackType=.*|ProctrackType=proctrack/cgroup|' \
                -e 's|^TaskPlugin=.*|TaskPlugin=task/cgroup,task/affinity|'
        [ -n "$nas" ] && echo "$nas"
        echo "NodeName=guest NodeAddr=127.0.0.1 $hw RealMemory=1500 Gres=gpu:${type:+$type:}4 State=UNKNOWN"
        echo "PartitionName=p Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO"
    } > $S/slurm.conf
    {
        echo "AutoDetect=off"
        for i in 0 1 2 3; do
            case $1 in
                cores|typed) c=$(cat /sys/devices/system/node/node$(cardnode $i)/cpulist) ;;
                socket) c=$(cat /sys/devices/system/cpu/cpu$(cut -d, -f1 /sys/devices/system/node/node$(cardnode $i)/cpulist | cut -d- -f1)/topology/package_cpus_list) ;;
                node) c=$(cat /sys/devices/system/cpu/online) ;;
                smt) c=$(core_ids "$(cardnode $i)") ;;
                *) c="" ;;
            esac
            echo "$c" > /tmp/cores.$i
            echo "Name=gpu${type:+ Type=$type} File=/dev/dri/card$i${c:+ Cores=$c}"
        done
    } > $S/gres.conf
}
# core_ids NODE: gres.conf's Cores= of NUMA node NODE: the indexes, among
# the node's cores ordered by their first hardware thread, of the cores
# holding its cpus (the kernel's thread_siblings_list).
core_ids() {
    local all mine f i=0 out=""
    # the first hardware thread of each cpu's core: of all cpus, of NODE's
    all=$(cat /sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings_list | sed 's/[,-].*//' | sort -n | uniq)
    mine=$(cat /sys/devices/system/node/node$1/cpulist | tr ',' '\n' |
        awk -F- 'NF == 2 { for (i = $1; i <= $2; i++) print i; next } { print $1 }' |
        while read -r c; do sed 's/[,-].*//' /sys/devices/system/cpu/cpu$c/topology/thread_siblings_list; done |
        sort -n | uniq | tr '\n' ' ')
    for f in $all; do
        case " $mine" in *" $f "*) out="$out${out:+,}$i" ;; esac
        i=$((i + 1))
    done
    echo "$out"
}
NR=/sys/devices/system/node/node3/hugepages/hugepages-2048kB/nr_hugepages
echo "required /opt/numa-gpu/numa_gpu.so audit_dir=/tmp/audit audit_interval=1 state_dir=/tmp/ng-state" > $S/plugstack.conf
export SLURM_CONF=$S/slurm.conf
# cluster_up: start slurmctld and slurmd on the current config, wait until
# idle (else returns 1, why in /tmp/cluster-why); cluster_down stops them.
# -c: no state from the previous start (a gres.conf variant changes the
# node's GRES, which 23.02's recovered node state would mark INVAL).
cluster_up() {
    slurmctld -D -i -c >$S/log/ctld.out 2>&1 &
    CTLD_PID=$!
    slurmd -D >$S/log/slurmd.out 2>&1 &
    SLURMD_PID=$!
    for i in $(seq 1 40); do
        [ "$(timeout 3 sinfo -h -o %T 2>/dev/null)" = idle ] && break
        sleep 0.5
    done 2>/dev/null
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && return 0
    echo "$(timeout 3 sinfo -N -o '%N %T %E' 2>&1) $(tail -6 $S/log/slurmd-guest.log $S/log/slurmctld.log 2>&1)" > /tmp/cluster-why
    return 1
}
cluster_down() {
    scancel --user=root 2>/dev/null
    scontrol shutdown >/dev/null 2>&1
    for i in $(seq 1 40); do
        kill -0 $CTLD_PID 2>/dev/null || kill -0 $SLURMD_PID 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 $CTLD_PID $SLURMD_PID 2>/dev/null
    sleep 1
}
slurm_config $GC
if ! cluster_up; then
    fail cluster-idle "$(cat /tmp/cluster-why)"
    exit 1
fi
pass cluster-idle
echo "vm-gpunode: $CG, gres ${GC}: cluster idle at $(cut -d' ' -f1 /proc/uptime) s"

# What each task prints: the cards its devices cgroup lets it open, then
# memhelper (cpus, policy, pages of 16 MiB first-touched by a thread).
cat > /tmp/probe.sh <<'EOF'
own=""
for i in 0 1 2 3; do
    if ! ( exec 3</dev/dri/card$i ) 2>&1 | grep -q "not permitted"; then own="$own${own:+,}$i"; fi
done
echo "own=$own"
echo "hp=$NUMA_GPU_HUGEPAGES"
[ -n "$NUMA_GPU_HUGEPAGES" ] && echo "nr3=$(cat /sys/devices/system/node/node3/hugepages/hugepages-2048kB/nr_hugepages)"
memhelper 16
sleep ${PROBE_SLEEP:-0}
EOF

# check NAME OUTFILE NTASKS [nodisjoint]: every task: its own cards (the
# devices cgroup) -> their nodes; cpus within those nodes' cpus; >= 99.5 %
# of its pages there; tasks disjoint; each task opens only its own cards.
check() {
    local name=$1 f=$2 n=$3 bad="" t allcpus="" loc="" pct
    for t in $(seq 0 $((n - 1))); do
        local own cpus pages nodes="" want="" on=0 tot=0 c
        own=$(sed -n "s/^ *$t: own=//p" "$f" | head -1)
        cpus=$(sed -n "s/^ *$t: cpus=//p" "$f" | head -1)
        pages=$(sed -n "s/^ *$t: pages=//p" "$f" | head -1)
        [ -n "$own" ] || { bad="$bad task $t opens no card;"; continue; }
        # no cpus: the cpu loop below would check nothing
        [ -n "$cpus" ] || bad="$bad task $t reports no cpus;"
        for c in $(echo "$own" | tr ',' ' '); do
            nodes="$nodes $(cardnode $c)"
            want="$want${want:+,}$(cat /sys/devices/system/node/node$(cardnode $c)/cpulist)"
        done
        # cpus within the nodes' cpus
        for c in $(echo "$cpus" | tr ',' '\n' | awk -F- '{ if (NF == 2) for (i = $1; i <= $2; i++) print i; else print $1 }'); do
            echo ",$(echo "$want" | tr ',' '\n' | awk -F- '{ if (NF == 2) for (i = $1; i <= $2; i++) print i; else print $1 }' | tr '\n' ','):" |
                grep -q ",$c," || bad="$bad task $t cpu $c not on its GPUs' nodes ($nodes);"
            echo " $allcpus " | grep -q " $c " && [ "${4:-}" != nodisjoint ] && bad="$bad cpu $c shared;"
            allcpus="$allcpus $c"
        done
        for p in $(echo "$pages" | tr ',' ' '); do
            tot=$((tot + ${p#*=}))
            for x in $nodes; do [ "${p%%=*}" = "$x" ] && on=$((on + ${p#*=})); done
        done
        [ "$tot" -gt 0 ] && [ $((on * 1000 / tot)) -ge 995 ] || bad="$bad task $t pages $pages not on$nodes;"
        pct=$([ "$tot" -gt 0 ] && echo $((on * 100 / tot)) || echo 0)
        loc="$loc${loc:+ }$pct%"
    done
    [ -z "$bad" ] && pass "$name" || fail "$name" "$bad $(head -c 1500 "$f")"
    row "$name|$n|$loc|$(sed -n 's/^ *[0-9]*: verdict=//p' "$f" | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=" "}')"
}
VERD='echo verdict=$NUMA_GPU_VERDICT; '

# --- Slurm alone vs numa-gpu, and Slurm's rule per release ---------------
# rel_ge X.Y[.Z]: the running Slurm is X.Y[.Z] or later
rel_ge() {
    echo "$REL $1" | awk '{ n = split($1, a, "."); split($2, b, ".")
        for (i = 1; i <= 3; i++) { if (a[i] + 0 > b[i] + 0) exit 0; if (a[i] + 0 < b[i] + 0) exit 1 } exit 0 }'
}
# "0-2,5" -> "0 1 2 5 "
expand() { echo "$1" | tr ',' '\n' | awk -F- 'NF == 2 { for (i = $1; i <= $2; i++) print i; next } $1 != "" { print $1 }' | tr '\n' ' '; }
tval() { sed -n "s/^ *$2: $3=//p" "$1" | head -1; }
# task_next F T: task T of output F sits next to the cards it can open: its
# cpus on their nodes and >= 99.5 % of its first-touched pages there.
task_next() {
    local own cpus pages ok="," c p x on=0 tot=0 nodes=""
    own=$(tval "$1" "$2" own); cpus=$(tval "$1" "$2" cpus); pages=$(tval "$1" "$2" pages)
    [ -n "$own" ] && [ -n "$cpus" ] || return 1
    for c in $(echo "$own" | tr ',' ' '); do
        nodes="$nodes $(cardnode $c)"
        ok="$ok$(expand "$(cat /sys/devices/system/node/node$(cardnode $c)/cpulist)" | tr ' ' ',')"
    done
    for c in $(expand "$cpus"); do case $ok in *",$c,"*) ;; *) return 1 ;; esac; done
    for p in $(echo "$pages" | tr ',' ' '); do
        tot=$((tot + ${p#*=}))
        for x in $nodes; do [ "${p%%=*}" = "$x" ] && on=$((on + ${p#*=})); done
    done
    [ "$tot" -gt 0 ] && [ $((on * 1000 / tot)) -ge 995 ]
}
# Closeness as Slurm has it (gres.c): a card whose gres.conf record has no
# Cores= is close to every cpu; else close = its Cores overlap the task's
# cpus (cards_close), or contain them (cards_super). Cores= of card N are in
# /tmp/cores.N (slurm_config); CPUS is an expanded list.
card_close() {
    local c cores; cores=$(cat /tmp/cores.$1 2>/dev/null)
    [ -z "$cores" ] && return 0
    for c in $2; do case " $(expand "$cores") " in *" $c "*) return 0 ;; esac; done
    return 1
}
card_super() {
    local c cores; cores=$(cat /tmp/cores.$1 2>/dev/null)
    [ -z "$cores" ] && return 0
    for c in $2; do case " $(expand "$cores") " in *" $c "*) ;; *) return 1 ;; esac; done
}
# pt_rule F N: the card Slurm gives each of N tasks for per_task:1
# (--gpus-per-task=1) on the whole node, from the tasks' own cpus in F (a
# run without numa-gpu: Slurm's cpus): before 23.11.0 index order; from
# 23.11.0 (675237ff71) each task in order takes the lowest free card close
# to its cpus, else the lowest free one.
pt_rule() {
    local t c pick free="0 1 2 3" out=""
    if ! rel_ge 23.11; then seq -s ' ' 0 $(($2 - 1)); return; fi
    for t in $(seq 0 $(($2 - 1))); do
        pick=""
        for c in $free; do card_close $c "$(expand "$(tval "$1" $t cpus)")" && { pick=$c; break; }; done
        [ -n "$pick" ] || pick=${free%% *}
        free=$(echo " $free " | sed "s/ $pick / /;s/^ *//;s/ *$//")
        out="$out${out:+ }$pick"
    done
    echo "$out"
}
# sg_rule F N: the card for single:1 (--ntasks-per-gpu=1), whole node:
# 22.05 the (t mod |close|)-th card close to task t; 23.02.4+ each task in
# order the first free card whose Cores contain its cpus, else the first
# free one overlapping them, else the first free; 23.02.0-3 replay earlier
# tasks with the current task's cpus (8eb64699ce): not asserted ("-").
sg_rule() {
    local t c pick free="0 1 2 3" out="" close cpus nc
    if rel_ge 23.02 && ! rel_ge 23.02.4; then echo "- - - -"; return; fi
    for t in $(seq 0 $(($2 - 1))); do
        cpus=$(expand "$(tval "$1" $t cpus)")
        pick=""
        if ! rel_ge 23.02; then
            close=""
            for c in 0 1 2 3; do card_close $c "$cpus" && close="$close $c"; done
            nc=$(echo $close | wc -w)
            [ "$nc" -gt 0 ] && pick=$(echo $close | cut -d' ' -f$((t % nc + 1)))
            [ -n "$pick" ] || pick=0
        else
            for c in $free; do card_super $c "$cpus" && { pick=$c; break; }; done
            [ -n "$pick" ] || for c in $free; do card_close $c "$cpus" && { pick=$c; break; }; done
            [ -n "$pick" ] || pick=${free%% *}
            free=$(echo " $free " | sed "s/ $pick / /;s/^ *//;s/ *$//")
        fi
        out="$out${out:+ }$pick"
    done
    echo "$out"
}
# gcase NAME N MODE WANTS SRUN-ARGS...: the step without numa-gpu, then with
# --numa-gpu=MODE. WANTS, one word a task: the cards Slurm gives it ("1",
# "0,2"), "#K" (K cards), "-" (not asserted), or for the whole list "@pt" /
# "@sg" (pt_rule / sg_rule on the run without numa-gpu). Checked: each task
# has cards, the same with and without numa-gpu, the ones Slurm's rule says,
# and sits next to them (cpus and pages); and not fewer tasks next to their
# cards than Slurm alone ("BASELINE" line, and the table).
gcase() {
    local name=$1 n=$2 mode=$3 wants=$4 f=/tmp/g.$(echo "$1" | tr '/' '_') t k=0 m=0 bad="" w g gb loc="" rc
    shift 4
    timeout 120 srun -l -n$n "$@" --numa-gpu=off sh /tmp/probe.sh >$f.off 2>&1
    timeout 120 srun -l -n$n "$@" --numa-gpu=$mode sh -c "$VERD sh /tmp/probe.sh" >$f 2>&1
    rc=$?
    case $wants in
        @pt) wants=$(pt_rule $f.off $n) ;;
        @sg) wants=$(sg_rule $f.off $n) ;;
    esac
    set -- $wants
    for t in $(seq 0 $((n - 1))); do
        w=${1:--}; [ $# -gt 0 ] && shift
        g=$(tval $f $t own); gb=$(tval $f.off $t own)
        task_next $f.off $t && k=$((k + 1))
        if task_next $f $t; then m=$((m + 1)); loc="$loc${loc:+ }ok"; else
            loc="$loc${loc:+ }NO"
            bad="$bad task $t (cards '$g', cpus '$(tval $f $t cpus)', pages '$(tval $f $t pages)') not next to its cards;"
        fi
        [ -n "$g" ] || bad="$bad task $t opens no card;"
        [ "$g" = "$gb" ] || bad="$bad task $t has cards '$g' with numa-gpu but '$gb' without;"
        case $w in
            -) ;;
            \#*) [ "$(echo "$g" | tr ',' '\n' | grep -c .)" = "${w#?}" ] || bad="$bad task $t has cards '$g', not ${w#?} (Slurm $REL's rule);" ;;
            *) [ "$g" = "$w" ] || bad="$bad task $t has card(s) '$g' not '$w' (Slurm $REL's rule);" ;;
        esac
    done
    echo "BASELINE $SUITE/$name slurm=$k/$n numa-gpu=$m/$n"
    [ "$m" -ge "$k" ] || bad="$bad worse than Slurm alone: $m of $n tasks next to their cards, $k without numa-gpu;"
    [ $rc -eq 0 ] || bad="$bad rc=$rc;"
    [ -z "$bad" ] && pass "$name" || fail "$name" "$bad with: $(head -c 1200 $f | tr '\n' ' ') without: $(head -c 600 $f.off | tr '\n' ' ')"
    row "$name|$n|$loc|$(sed -n 's/^ *[0-9]*: verdict=//p' $f | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=" "}')  BASELINE slurm=$k/$n numa-gpu=$m/$n"
}

# --- SMT (mode "v2 smt", issue 30): the user's CPU requests kept. Each
# NUMA node is one core with two hyperthreads here. Only these cases run in
# this mode (one extra boot in make check, kept short): the cases below it
# are the non-SMT guest's, run by the other modes.
if [ "$GC" = smt ]; then
    # the task's cgroup cpuset (v2) besides what probe.sh prints
    cat > /tmp/smtprobe.sh <<'PROBE'
echo "omp=${OMP_NUM_THREADS-unset}"
echo "tpc=${SLURM_THREADS_PER_CORE-unset}"
echo "verdict=$NUMA_GPU_VERDICT"
echo "cg=$(cat /sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/cpuset.cpus.effective 2>/dev/null)"
sh /tmp/probe.sh
PROBE
    # norm LIST: "0-2,5" -> "0 1 2 5" (sorted, unique)
    norm() { expand "$1" | tr ' ' '\n' | grep . | sort -n | uniq | tr '\n' ' ' | sed 's/ $//'; }
    # first_pus NODE: the first hardware thread of each core of NODE's cpus
    first_pus() {
        local c
        for c in $(expand "$(cat /sys/devices/system/node/node$1/cpulist)"); do
            expand "$(cat /sys/devices/system/cpu/cpu$c/topology/thread_siblings_list)" | awk '{print $1}'
        done | sort -n | uniq | tr '\n' ' ' | sed 's/ $//'
    }
    node_pus() { norm "$(cat /sys/devices/system/node/node$1/cpulist)"; }
    # pkg_pus NODE: every cpu of the package (socket) holding NODE
    pkg_pus() {
        local c; c=$(expand "$(cat /sys/devices/system/node/node$1/cpulist)" | awk '{print $1}')
        norm "$(cat /sys/devices/system/cpu/cpu$c/topology/package_cpus_list)"
    }
    # 0. the guest really has SMT: every cpu's core holds two threads, and
    # slurmd sees ThreadsPerCore=2.
    bad=""
    for c in $(expand "$(cat /sys/devices/system/cpu/online)"); do
        sib=$(norm "$(cat /sys/devices/system/cpu/cpu$c/topology/thread_siblings_list)")
        [ "$(echo $sib | wc -w)" = 2 ] || bad="$bad cpu $c siblings '$sib';"
    done
    case "$hw_real" in *ThreadsPerCore=2*) ;; *) bad="$bad slurmd -C: '$hw_real';" ;; esac
    echo "vm-gpunode: smt: $hw_real; nodes: $(for n in 0 1 2 3; do echo "$n=$(node_pus $n | tr ' ' ,) first $(first_pus $n | tr ' ' ,) package $(pkg_pus $n | tr ' ' ,);"; done | tr '\n' ' ')"
    echo "vm-gpunode: smt: gres.conf $(grep -o 'card[0-9] Cores=[^ ]*' $S/gres.conf | tr '\n' ' ')"
    [ -z "$bad" ] && pass smt-guest-two-threads-per-core || fail smt-guest-two-threads-per-core "$bad"

    # scase NAME F N RC WANT OMP [MINUS]: the step's output F (srun -l, N
    # tasks, its exit status RC). Each task opens exactly one card, no two
    # tasks the same; its cpus (Cpus_allowed_list read in the task) are
    # exactly WANT of its card's NUMA node: "first" (first_pus), "node"
    # (node_pus), "package" (pkg_pus); its memory policy binds that node and
    # >= 99.5 % of its first-touched pages are there; OMP_NUM_THREADS in the
    # task is OMP ("-": not checked). MINUS "ne-first": WANT must differ from
    # first_pus (the control has something to tell apart).
    scase() {
        local name=$1 f=$2 n=$3 rc=$4 kind=$5 omp=$6 t own node want got pages on tot p bad="" cards="" cpus="" ompv=""
        for t in $(seq 0 $((n - 1))); do
            own=$(tval $f $t own); got=$(norm "$(tval $f $t cpus)")
            case $own in ""|*,*) bad="$bad task $t opens card(s) '$own', not one;"; continue ;; esac
            case " $cards " in *" $own "*) bad="$bad card $own shared;" ;; esac
            cards="$cards $own"
            node=$(cardnode $own)
            case $kind in
                first) want=$(first_pus $node) ;;
                node) want=$(node_pus $node) ;;
                package) want=$(pkg_pus $node) ;;
            esac
            [ "${7:-}" = ne-first ] && [ "$want" = "$(first_pus $node)" ] && bad="$bad task $t: node $node's cpus '$want' are its first PUs (no SMT?);"
            [ -n "$got" ] && [ "$got" = "$want" ] || bad="$bad task $t (card $own, node $node): cpus '$got', not the $kind cpus '$want' (cgroup '$(tval $f $t cg)');"
            [ "$(tval $f $t policy_nodes)" = "$node" ] || bad="$bad task $t memory policy '$(tval $f $t policy) $(tval $f $t policy_nodes)', not bound to node $node;"
            pages=$(tval $f $t pages); on=0; tot=0
            for p in $(echo "$pages" | tr ',' ' '); do
                tot=$((tot + ${p#*=})); [ "${p%%=*}" = "$node" ] && on=$((on + ${p#*=}))
            done
            [ "$tot" -gt 0 ] && [ $((on * 1000 / tot)) -ge 995 ] || bad="$bad task $t pages '$pages' not on node $node;"
            [ "$omp" = - ] || [ "$(tval $f $t omp)" = "$omp" ] || bad="$bad task $t OMP_NUM_THREADS '$(tval $f $t omp)', not $omp;"
            cpus="$cpus${cpus:+ }$t:$(echo $got | tr ' ' ,)@$node"; ompv="$ompv${ompv:+ }$(tval $f $t omp)"
        done
        [ "$(echo $cards | wc -w)" = "$n" ] || bad="$bad $(echo $cards | wc -w) of $n tasks with a card;"
        [ "$rc" = 0 ] || bad="$bad rc=$rc;"
        [ -z "$bad" ] && pass "$name" || fail "$name" "$bad $(head -c 1500 $f | tr '\n' ' ')"
        row "$name|$n|$cpus|OMP $ompv; $(sed -n 's/^ *[0-9]*: verdict=//p' $f | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=" "}')"
    }
    # srun_probe F SRUN-ARGS...: srun -l ARGS sh /tmp/smtprobe.sh into F; its exit status in $rc
    srun_probe() { local f=$1; shift; timeout 120 srun -l "$@" sh /tmp/smtprobe.sh >$f 2>&1; rc=$?; }

    # 1. --hint=nomultithread / --threads-per-core=1 (smt=auto): one PU per
    # core of the card's node; Slurm puts SLURM_THREADS_PER_CORE=1 in the
    # task. Control: the same step without the hint holds both PUs. (With
    # the hint each task of 1 CPU is given a whole core; without it a task
    # of 1 CPU is one hyperthread, so -n4 alone gets 2 cores and strict
    # rightly refuses the tasks whose card's core is not among them: the
    # steps without the hint ask -c2, a core a task, as the hint does.)
    srun_probe /tmp/s1 -n4 --hint=nomultithread --gpus-per-task=1 --numa-gpu=strict
    scase nomultithread-one-pu-per-core /tmp/s1 4 $rc first -
    # Slurm alone (its per_task layout on 22.05: a task on another node's
    # core than its card's): the tasks on their card's first PUs.
    srun_probe /tmp/s1.off -n4 --hint=nomultithread --gpus-per-task=1 --numa-gpu=off
    k=0; m=0
    for t in 0 1 2 3; do
        for x in /tmp/s1.off /tmp/s1; do
            own=$(tval $x $t own)
            [ -n "$own" ] && [ "$(norm "$(tval $x $t cpus)")" = "$(first_pus $(cardnode $own))" ] || continue
            [ $x = /tmp/s1 ] && m=$((m + 1)) || k=$((k + 1))
        done
    done
    echo "BASELINE $SUITE/nomultithread-one-pu-per-core slurm=$k/4 numa-gpu=$m/4"
    row "nomultithread vs Slurm alone|4|$(for t in 0 1 2 3; do echo "$t:$(tval /tmp/s1.off $t cpus)@card$(tval /tmp/s1.off $t own)"; done | tr '\n' ' ')|BASELINE slurm=$k/4 numa-gpu=$m/4"
    srun_probe /tmp/s2 -n4 --threads-per-core=1 --gpus-per-task=1 --numa-gpu=strict
    scase threads-per-core-1-one-pu-per-core /tmp/s2 4 $rc first -
    bad=""; for t in 0 1 2 3; do [ "$(tval /tmp/s1 $t tpc)" = 1 ] && [ "$(tval /tmp/s2 $t tpc)" = 1 ] || bad="$bad task $t: $(tval /tmp/s1 $t tpc) $(tval /tmp/s2 $t tpc);"; done
    [ -z "$bad" ] && pass nomultithread-slurm-threads-per-core-1 || fail nomultithread-slurm-threads-per-core-1 "SLURM_THREADS_PER_CORE in the tasks (hint, threads-per-core):$bad"
    srun_probe /tmp/s3 -n4 -c2 --gpus-per-task=1 --numa-gpu=strict
    scase control-no-hint-both-pus /tmp/s3 4 $rc node - ne-first

    # 2. --numa-gpu-smt=all overrides the hint: both PUs of the node's core
    srun_probe /tmp/s4 -n4 --hint=nomultithread --numa-gpu-smt=all --gpus-per-task=1 --numa-gpu=strict
    scase smt-all-overrides-nomultithread /tmp/s4 4 $rc node - ne-first
    # and --numa-gpu-smt=1 without any hint (Slurm gave both PUs): one PU
    # per core
    srun_probe /tmp/s5 -n4 -c2 --numa-gpu-smt=1 --gpus-per-task=1 --numa-gpu=strict
    scase smt-1-without-hint /tmp/s5 4 $rc first -

    # 3. -c3: OMP_NUM_THREADS=3 (set by the plugin: Slurm alone sets none,
    # checked without numa-gpu), the cpuset still the card's node; a
    # user-set OMP_NUM_THREADS is kept.
    srun_probe /tmp/s6 -n2 -c3 --gpus-per-task=1 --numa-gpu=strict
    scase cpus-per-task-sets-omp-threads /tmp/s6 2 $rc node 3
    srun_probe /tmp/s6.off -n2 -c3 --gpus-per-task=1 --numa-gpu=off
    [ "$(tval /tmp/s6.off 0 omp) $(tval /tmp/s6.off 1 omp)" = "unset unset" ] && pass cpus-per-task-slurm-alone-no-omp-threads ||
        fail cpus-per-task-slurm-alone-no-omp-threads "without numa-gpu: $(grep omp= /tmp/s6.off | tr '\n' ' ') $(head -c 600 /tmp/s6.off)"
    OMP_NUM_THREADS=5 timeout 120 srun -l -n2 -c3 --gpus-per-task=1 --numa-gpu=strict sh /tmp/smtprobe.sh >/tmp/s7 2>&1
    rc=$?
    scase cpus-per-task-keeps-user-omp-threads /tmp/s7 2 $rc node 5

    # 4. --numa-gpu-cpus=package, one rank on the whole node: its package's
    # cpus (both of its nodes), memory still bound to the card's node.
    # Control: without it, the card's node's PUs only.
    srun_probe /tmp/s8 -n1 -c8 --gpus=1 --numa-gpu=strict --numa-gpu-cpus=package
    scase package-one-rank-whole-package /tmp/s8 1 $rc package -
    srun_probe /tmp/s9 -n1 -c8 --gpus=1 --numa-gpu=strict
    scase control-package-off-node-only /tmp/s9 1 $rc node -
    own=$(tval /tmp/s8 0 own)
    [ -n "$own" ] && [ "$(pkg_pus $(cardnode $own))" != "$(node_pus $(cardnode $own))" ] && pass package-wider-than-node ||
        fail package-wider-than-node "card '$own': package '$(pkg_pus $(cardnode ${own:-0}))' node '$(node_pus $(cardnode ${own:-0}))'"

    # 5. The plugstack defaults (read by each step: no restart): smt=1, and
    # the user's option over it; cpus=package, and the user's over it.
    PS=$(cat $S/plugstack.conf)
    echo "$PS smt=1" > $S/plugstack.conf
    srun_probe /tmp/s10 -n4 -c2 --gpus-per-task=1 --numa-gpu=strict
    scase plugstack-smt-1 /tmp/s10 4 $rc first -
    srun_probe /tmp/s11 -n4 -c2 --numa-gpu-smt=all --gpus-per-task=1 --numa-gpu=strict
    scase plugstack-smt-1-user-all /tmp/s11 4 $rc node - ne-first
    echo "$PS cpus=package" > $S/plugstack.conf
    srun_probe /tmp/s12 -n1 -c8 --gpus=1 --numa-gpu=strict
    scase plugstack-cpus-package /tmp/s12 1 $rc package -
    srun_probe /tmp/s13 -n1 -c8 --gpus=1 --numa-gpu=strict --numa-gpu-cpus=node
    scase plugstack-cpus-package-user-node /tmp/s13 1 $rc node -
    echo "$PS" > $S/plugstack.conf
    scontrol shutdown >/dev/null 2>&1
    exit $((NG_FAILED > 0))
fi

# 1. one GPU per task, strict; and the baseline without the plugin
timeout 120 srun -l -n4 -c2 --gpus-per-task=1 --numa-gpu=off sh /tmp/probe.sh >/tmp/base 2>&1
base=""
for t in 0 1 2 3; do
    own=$(sed -n "s/^ *$t: own=//p" /tmp/base); p=$(sed -n "s/^ *$t: pages=//p" /tmp/base)
    on=$(echo "$p" | tr ',' '\n' | sed -n "s/^$(cardnode ${own:-0})=//p"); tot=$(echo "$p" | tr ',' '\n' | cut -d= -f2 | awk '{s+=$1} END {print s+0}')
    base="$base${base:+ }$([ "${tot:-0}" -gt 0 ] && echo $((${on:-0} * 100 / tot)) || echo 0)%"
done
row "without numa-gpu (baseline)|4|$base|-"
timeout 120 srun -l -n4 -c2 --gpus-per-task=1 --numa-gpu=strict sh -c "$VERD sh /tmp/probe.sh" >/tmp/c1 2>&1
check gpus-per-task-strict /tmp/c1 4
k=0; m=0
for t in 0 1 2 3; do task_next /tmp/base $t && k=$((k + 1)); task_next /tmp/c1 $t && m=$((m + 1)); done
echo "BASELINE $SUITE/gpus-per-task-strict slurm=$k/4 numa-gpu=$m/4"
row "gpus-per-task-strict vs Slurm alone|4|-|BASELINE slurm=$k/4 numa-gpu=$m/4"
[ $m -ge $k ] && pass gpus-per-task-never-worse || fail gpus-per-task-never-worse "$m of 4 tasks next to their cards, $k without numa-gpu"
# each task opens exactly one card (ConstrainDevices enforced)
[ "$(sed -n 's/^ *[0-3]: own=//p' /tmp/c1 | sort -u | wc -l)" = 4 ] &&
    [ -z "$(sed -n 's/^ *[0-3]: own=//p' /tmp/c1 | grep ,)" ] && pass devices-constrained-one-card-each ||
    fail devices-constrained-one-card-each "$(grep own= /tmp/c1)"

# 2. two GPUs per task; map_gpu in a non-trivial order; closest
timeout 120 srun -l -n2 -c4 --gpus-per-task=2 --numa-gpu=strict sh -c "$VERD sh /tmp/probe.sh" >/tmp/c2 2>&1
check two-gpus-per-task /tmp/c2 2
timeout 120 srun -l -n4 -c2 --gres=gpu:4 --gpu-bind=map_gpu:2,0,3,1 --numa-gpu=strict sh -c "$VERD sh /tmp/probe.sh" >/tmp/c3 2>&1
check map-gpu-2031 /tmp/c3 4
[ "$(for t in 0 1 2 3; do sed -n "s/^ *$t: own=//p" /tmp/c3; done | tr '\n' ',')" = "2,0,3,1," ] &&
    pass map-gpu-order-as-asked || fail map-gpu-order-as-asked "$(grep own= /tmp/c3)"
timeout 120 srun -l -n4 -c2 --gres=gpu:4 --gpu-bind=closest --numa-gpu=prefer sh -c "$VERD sh /tmp/probe.sh" >/tmp/c4 2>&1
check closest /tmp/c4 4

# 2b. every task sees all four cards (no per-task binding: NCCL P2P, CUDA
# IPC): task t's home is card t (Slurm's list, GRES order), it opens every
# card, sits on its home card's node, and with --numa-gpu-visible=all sees
# the home card first, the peers after in PCI order (bus ids from sysfs);
# keep leaves Slurm's list and names the home's position.
busof() { basename "$(readlink /sys/class/drm/card$1/device)"; }
VIS='echo cvd=$CUDA_VISIBLE_DEVICES; echo hidx=$NUMA_GPU_HOME_INDEX; echo hgpu=$NUMA_GPU_HOME_GPUS; '
timeout 120 srun -l -n4 -c2 --gres=gpu:4 --numa-gpu=strict --numa-gpu-visible=all sh -c "$VIS$VERD sh /tmp/probe.sh" >/tmp/v1 2>&1
timeout 120 srun -l -n4 -c2 --gres=gpu:4 --numa-gpu=strict --numa-gpu-visible=keep sh -c "$VIS$VERD sh /tmp/probe.sh" >/tmp/v2 2>&1
bad=""
for t in 0 1 2 3; do
    own=$(tval /tmp/v1 $t own); cpus=$(tval /tmp/v1 $t cpus); slurm=$(tval /tmp/v2 $t cvd)
    [ "$own" = "0,1,2,3" ] || bad="$bad task $t opens '$own', not every card;"
    home=$(echo "$slurm" | cut -d, -f$((t + 1)))       # position t of Slurm's list
    peers=$(for x in $(echo "$slurm" | tr ',' ' '); do [ "$x" = "$home" ] || echo "$(busof $x) $x"; done | sort | awk '{print $2}' | paste -sd, -)
    [ "$(tval /tmp/v1 $t cvd)" = "$home,$peers" ] || bad="$bad all: task $t sees '$(tval /tmp/v1 $t cvd)', want '$home,$peers';"
    [ "$(tval /tmp/v1 $t hidx)" = 0 ] && [ "$(tval /tmp/v2 $t hidx)" = "$t" ] || bad="$bad task $t home index $(tval /tmp/v1 $t hidx)/$(tval /tmp/v2 $t hidx);"
    [ "$(tval /tmp/v1 $t hgpu)" = "$(busof $home)" ] || bad="$bad task $t home gpu $(tval /tmp/v1 $t hgpu) want $(busof $home);"
    for c in $(expand "$cpus"); do
        echo " $(expand "$(cat /sys/devices/system/node/node$(cardnode $home)/cpulist)") " | grep -q " $c " ||
            bad="$bad task $t cpu $c not on card $home's node $(cardnode $home);"
    done
    [ -n "$cpus" ] || bad="$bad task $t reports no cpus;"
done
[ -z "$bad" ] && pass all-visible-each-task-on-its-home-card || fail all-visible-each-task-on-its-home-card "$bad $(head -c 1200 /tmp/v1)"
row "all-visible-home-card|4|-|$(sed -n 's/^ *[0-9]*: verdict=//p' /tmp/v1 | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=" "}')"

# 3. two jobs at once, 2 GPUs and 4 CPUs each: each on its own GPUs' nodes,
# no CPU shared between them.
PROBE_SLEEP=3 timeout 120 srun -l -n2 -c2 --gpus-per-task=1 --numa-gpu=strict sh -c "$VERD sh /tmp/probe.sh" >/tmp/j1 2>&1 &
p1=$!
sleep 1
PROBE_SLEEP=1 timeout 120 srun -l -n2 -c2 --gpus-per-task=1 --numa-gpu=strict sh -c "$VERD sh /tmp/probe.sh" >/tmp/j2 2>&1
wait $p1
check two-jobs-first /tmp/j1 2
check two-jobs-second /tmp/j2 2
c1=$(sed -n 's/^ *[0-9]: cpus=//p' /tmp/j1 | tr '\n' ' '); c2=$(sed -n 's/^ *[0-9]: cpus=//p' /tmp/j2 | tr '\n' ' ')
o1=$(sed -n 's/^ *[0-9]: own=//p' /tmp/j1 | tr '\n' ' '); o2=$(sed -n 's/^ *[0-9]: own=//p' /tmp/j2 | tr '\n' ' ')
ov=""; for x in $c1; do for y in $c2; do [ "$x" = "$y" ] && ov="$ov $x"; done; done
for x in $o1; do for y in $o2; do [ "$x" = "$y" ] && ov="$ov card$x"; done; done
[ -z "$ov" ] && [ -n "$c1" ] && [ -n "$c2" ] && pass two-jobs-no-overlap || fail two-jobs-no-overlap "job1 cpus $c1 cards $o1; job2 cpus $c2 cards $o2"

# 4. hugepages on each task's node (node 3 included), audit records
PROBE_SLEEP=2 timeout 120 srun -l -n4 -c2 --gpus-per-task=1 --numa-gpu=strict --numa-gpu-hugepages=4M \
    sh -c "$VERD sh /tmp/probe.sh" >/tmp/c5 2>&1
check hugepages-job /tmp/c5 4
hp3=$(for t in 0 1 2 3; do own=$(sed -n "s/^ *$t: own=//p" /tmp/c5); [ "$(cardnode $own)" = 3 ] && sed -n "s/^ *$t: hp=//p;s/^ *$t: nr3=/nr3=/p" /tmp/c5; done | tr '\n' ' ')
[ "$(echo "$hp3" | awk '{print $1}')" = "3:2x2048kB" ] && [ "$(echo "$hp3" | sed -n 's/.*nr3=\([0-9]*\).*/\1/p')" -ge 2 ] &&
    [ "$(cat $NR)" = 0 ] && pass hugepages-on-node-3 || fail hugepages-on-node-3 "node-3 task: $hp3; after: $(cat $NR) $(grep hp= /tmp/c5)"
jid=$(ls -t /tmp/audit/*.json 2>/dev/null | head -1)
recs=$(grep -c '"local_pct"' "$jid" 2>/dev/null)
[ "${recs:-0}" -ge 4 ] && pass audit-records-local-pct || fail audit-records-local-pct "$(ls /tmp/audit) $(head -c 600 "$jid" 2>/dev/null)"
row "audit local_pct (hugepages job)|4|$(grep -o '"local_pct":[0-9.-]*' "$jid" | cut -d: -f2 | tr '\n' ' ')|-"

# 5. sbatch + mpirun hints: the batch step's rankfile puts rank i (GPU i of
# the job, GRES order) on that GPU's node.
jid=$(sbatch --parsable -n4 -c2 --gres=gpu:4 --numa-gpu=strict -o /tmp/rf.out --wrap 'cat "$NUMA_GPU_RANKFILE"')
for i in $(seq 1 60); do [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break; sleep 0.5; done
bad=""
for r in 0 1 2 3; do
    slot=$(sed -n "s/^rank $r=[^ ]* slot=//p" /tmp/rf.out)
    want=$(cat /sys/devices/system/node/node$(cardnode $r)/cpulist)
    [ "$slot" = "$want" ] || bad="$bad rank $r slot '$slot' not node $(cardnode $r) ($want);"
done
[ -z "$bad" ] && pass batch-rankfile-rows-on-gpu-nodes || fail batch-rankfile-rows-on-gpu-nodes "$bad $(cat /tmp/rf.out)"
# mpirun in the same kind of job, with what the plugin exported: each rank's
# Cpus_allowed_list equals its rankfile row. (One node: mpirun forks the
# ranks itself; plm isolated, as the guest has no ssh.)
if command -v mpirun >/dev/null; then
    cat > /tmp/mpijob.sh <<'EOF'
#!/bin/sh
cp "$NUMA_GPU_RANKFILE" /tmp/mpi.rf
mpirun --allow-run-as-root --mca plm isolated --mca oob_tcp_if_include lo -np 4 sh -c 'echo "rank=$OMPI_COMM_WORLD_RANK $(grep Cpus_allowed_list /proc/self/status)"'
EOF
    jid=$(sbatch --parsable -n4 -c2 --gres=gpu:4 --numa-gpu=strict -o /tmp/mpi.out /tmp/mpijob.sh)
    for i in $(seq 1 120); do [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break; sleep 0.5; done
    bad=""
    for r in 0 1 2 3; do
        got=$(sed -n "s/^rank=$r Cpus_allowed_list:[[:space:]]*//p" /tmp/mpi.out)
        want=$(sed -n "s/^rank $r=[^ ]* slot=//p" /tmp/mpi.rf)
        [ -n "$got" ] && [ "$got" = "$want" ] && [ "$got" = "$(cat /sys/devices/system/node/node$(cardnode $r)/cpulist)" ] ||
            bad="$bad rank $r cpus '$got' rankfile '$want';"
    done
    [ -z "$bad" ] && pass mpirun-ranks-on-plan-rows || fail mpirun-ranks-on-plan-rows "$bad $(grep -v "^---" /tmp/mpi.out | head -c 1500)"
    row "mpirun with the exported rankfile|4|-|$(sed -n 's/^rank=\([0-9]\) Cpus_allowed_list:[[:space:]]*/\1:/p' /tmp/mpi.out | sort | tr '\n' ' ')"
else
    skip mpirun-ranks-on-plan-rows "no mpirun in the guest (the host has no Open MPI orterun to pack)"
fi

# 6. a strict refusal: the GPU Slurm gives has no allowed CPU (without
# Cores= Slurm may give a GPU far from the job's cores).
if [ "$GC" = nocores ]; then
    sbatch -n1 -c6 -o /dev/null --wrap "sleep 20" >/dev/null
    sleep 2
    timeout 120 srun -l -n1 -c2 --gres=gpu:1 --numa-gpu=strict sh /tmp/probe.sh >/tmp/c6 2>&1
    rc=$?
    if grep -q "strict mode, task not started" /tmp/c6; then
        [ $rc -ne 0 ] && pass strict-refusal-remote-gpu || fail strict-refusal-remote-gpu "rc=$rc $(cat /tmp/c6)"
        row "strict refusal (GPU away from cores)|1|-|refused"
    else
        own=$(sed -n 's/^ *0: own=//p' /tmp/c6)
        echo "vm-gpunode: Slurm gave card $own next to the step's cores: no refusal to show"
        check strict-remote-or-local /tmp/c6 1
    fi
    scancel --user=root 2>/dev/null
fi
# 7. IRQs on the guest's real interrupts: the PCIe root port above card 0
# (on its expander's node, with MSI vectors of the kernel's port services).
# Routed to a CPU of another node, --check names it remote, --apply steers it
# to the port's node (read back from /proc/irq, the kernel's effective CPU
# inside), --restore puts the old value back.
NG=/opt/numa-gpu/numa-gpu
rp=$(basename "$(dirname "$(readlink -f /sys/class/drm/card0/device)")")
irq=$(ls /sys/bus/pci/devices/$rp/msi_irqs 2>/dev/null | head -1)
[ -n "$irq" ] || irq=$(cat /sys/bus/pci/devices/$rp/irq 2>/dev/null)
node=$(cat /sys/bus/pci/devices/$rp/numa_node 2>/dev/null)
if [ -x $NG ] && [ -n "$irq" ] && [ "$irq" != 0 ] && [ -n "$node" ] && [ "$node" -ge 0 ]; then
    ncpus=$(cat /sys/devices/system/node/node$node/cpulist)
    other=$(( (node + 1) % 4 * 2 ))            # the first CPU of the next node
    echo $other > /proc/irq/$irq/smp_affinity_list
    before=$(cat /proc/irq/$irq/smp_affinity_list)
    chk=$($NG irq --check --gpus $rp --nics none 2>&1)
    app=$($NG irq --apply --job 77 --gpus $rp --nics none --state-dir /tmp/irq-state 2>&1)
    steered=$(cat /proc/irq/$irq/smp_affinity_list)
    eff=$(cat /proc/irq/$irq/effective_affinity_list 2>/dev/null)
    res=$($NG irq --restore --job 77 --state-dir /tmp/irq-state 2>&1)
    after=$(cat /proc/irq/$irq/smp_affinity_list)
    echo "vm-gpunode: irq $irq of root port $rp (node $node, cpus $ncpus): $before -> $steered (effective $eff) -> $after"
    echo "$chk" | grep -q "^$irq .* remote$" && [ "$steered" = "$ncpus" ] &&
        case ",$(echo $ncpus | tr '-' ',')," in *",${eff:-x},"*) true ;; *) [ -z "$eff" ] ;; esac &&
        [ "$after" = "$before" ] && echo "$res" | grep -q "restored 1 IRQ" &&
        pass irq-steer-and-restore-real-kernel ||
        fail irq-steer-and-restore-real-kernel "irq $irq rp $rp node $node: $before -> $steered (eff $eff) -> $after; $chk $app $res"
    row "IRQ of the root port above card 0 (node $node)|1|$before -> $steered -> $after|-"
else
    fail irq-steer-and-restore-real-kernel "no IRQ to steer: rp '$rp' irq '$irq' node '$node' ($(ls /sys/bus/pci/devices/$rp/ 2>&1 | tr '\n' ' '))"
fi

# 8-9 run on cgroup v2 only (how current GPU sites run, and what every
# release's check runs): the v1 runs keep the cases above, so that make
# check's four guest boots stay within its time.
if [ "$CG" = v2 ]; then
# 8. Cases that separate Slurm releases (their rules: pt_rule, sg_rule,
# and below), each also without numa-gpu. REV: task t on node 3-t.
REV="--cpu-bind=mask_cpu:0xc0,0x30,0xc,0x3"
gcase cpu-mask-reversed 4 strict @pt -c2 --gpus-per-task=1 $REV
gcase cpu-map-reversed 4 strict @pt -c2 --gpus-per-task=1 --cpu-bind=map_cpu:6,4,2,0
gcase block-cyclic 4 strict @pt -c2 --gpus-per-task=1 -m block:cyclic
gcase ntasks-per-gpu 4 strict @sg -c2 --ntasks-per-gpu=1
gcase ntasks-per-gpu-reversed 4 strict @sg -c2 --ntasks-per-gpu=1 $REV
# One task on the whole node, a 2-card step: up to 25.05.x slurmstepd drops
# the binding (the task has both cards); 25.11.0 keeps it (c3b532ef4c).
if rel_ge 25.11; then want="#1"; else want="#2"; fi
gcase one-task-map-gpu-1 1 strict "$want" -c8 --gpus=2 --gpu-bind=map_gpu:1
# closest over all 8 cpus: both cards are close either way.
gcase one-task-closest 1 strict "#2" -c8 --gpus=2 --gpu-bind=closest

# A partial node: another job holds two cards (and 4 cpus); a step on the
# rest. map_gpu ids under ConstrainDevices are positions in the step (every
# release): map_gpu:1,0 gives task 0 the step's second card.
rm -f /tmp/held
hold=$(sbatch --parsable -n1 -c4 --gres=gpu:2 -o /dev/null --wrap 'echo "$SLURM_JOB_GPUS" > /tmp/held; sleep 300')
for i in $(seq 1 60); do [ -s /tmp/held ] && break; sleep 0.5; done
if [ -s /tmp/held ]; then
    echo "vm-gpunode: job $hold holds cards $(cat /tmp/held)"
    rest=""; for c in 0 1 2 3; do case ",$(cat /tmp/held)," in *",$c,"*) ;; *) rest="$rest $c" ;; esac; done
    set -- $rest
    gcase partial-gpus-per-task 2 prefer "- -" -c2 --gpus-per-task=1
    gcase partial-map-gpu-reversed 2 prefer "$2 $1" -c2 --gres=gpu:2 --gpu-bind=map_gpu:1,0
else
    fail partial-node "the job holding two cards never ran: $(squeue 2>&1 | tr '\n' ' ')"
fi
scancel $hold 2>/dev/null

# 9. gres.conf variants (one restart of the cluster each, in the Cores= run
# only): Cores= of the card's whole socket, of the whole node, typed cards.
if [ "$GC" = cores ]; then
    for v in socket node typed; do
        cluster_down
        slurm_config $v
        if ! cluster_up; then fail "$v/cluster-idle" "$(cat /tmp/cluster-why)"; continue; fi
        echo "vm-gpunode: gres.conf $v: $(grep -o 'Cores=[^ ]*' $S/gres.conf | tr '\n' ' ')"
        case $v in
            typed)
                # 22.05, 23.02: "per_task:bochs:1" is a count of 0: no device
                # restriction (each task opens the step's 4 cards); 23.11+:
                # per_task:1.
                if rel_ge 23.11; then want=@pt; else want="#4 #4 #4 #4"; fi
                gcase typed/gpus-per-task 4 strict "$want" -c2 --gpus-per-task=bochs:1
                gcase typed/cpu-mask-reversed 4 strict "$want" -c2 --gpus-per-task=bochs:1 $REV
                gcase typed/untyped-gpus-per-task 4 strict @pt -c2 --gpus-per-task=1 ;;
            *)
                gcase $v/gpus-per-task 4 strict @pt -c2 --gpus-per-task=1
                gcase $v/cpu-mask-reversed 4 strict @pt -c2 --gpus-per-task=1 $REV
                gcase $v/ntasks-per-gpu-reversed 4 strict @sg -c2 --ntasks-per-gpu=1 $REV ;;
        esac
    done
fi
fi
scontrol shutdown >/dev/null 2>&1
exit $((NG_FAILED > 0))
