# A real, throw-away Slurm on this machine: munged + slurmctld + slurmd
# (one or more), every file under one temp dir, fake GPUs as character
# devices, the plugin loaded from the build tree. Source it, then:
#   lab_start [NODES] [PLUGSTACK-ARGS...]   start and wait until idle
#   lab_plugstack ARGS...                   rewrite plugstack.conf
#   lab_stop                                stop what we started, by PID
# LAB_CGROUP=1: task/cgroup,task/affinity + proctrack/cgroup with
# ConstrainCores and ConstrainDevices on cgroup v1 (what GPU sites run);
# its cgroups are removed at lab_stop. LAB_GPUS=N fake GPUs (default 2).
# gres.conf variants (default: neither, what the other suites run):
# LAB_GRES_CORES=numa: GPU g gets Cores= of lab NUMA node g (the node is
#   then declared 2 sockets, one per lab node, as lab-topology.sh draws it,
#   so the Cores= are whole sockets, which Slurm 24.11+ requires);
#   LAB_GRES_CORES=all: every GPU gets Cores= of the whole node (on this
#   1-socket machine also "the whole socket").
# LAB_GPU_TYPE=NAME: typed GPUs (gres.conf Type=NAME, node Gres=gpu:NAME:N).
# Needs root. Facts behind the choices: ../shared/notes/slurm-lab.md.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_BUILD=${NUMA_GPU_BUILD:-$LAB_ROOT/build}
# The audit record schema this tree writes (lib/private/record.h).
LAB_SCHEMA=$(sed -n 's/^#define NG_AUDIT_SCHEMA \([0-9][0-9]*\).*/\1/p' "$LAB_ROOT/lib/private/record.h")
LAB=""
LAB_PIDS=()
LAB_NAMES=()   # what each of LAB_PIDS is, for lab_stop's summary
LAB_NGPUS=${LAB_GPUS:-2}

# The cgroup flavour (LAB_CGROUP=1) rewrites the common slurm.conf on stdin.
lab_cgroup_conf() {
    if [ "${LAB_CGROUP:-0}" != 1 ]; then cat; return; fi
    sed -e 's|^ProctrackType=.*|ProctrackType=proctrack/cgroup|' \
        -e 's|^TaskPlugin=.*|TaskPlugin=task/cgroup,task/affinity|'
    cat > "$LAB/etc/cgroup.conf" <<EOC
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=yes
ConstrainDevices=yes
ConstrainRAMSpace=no
EOC
}

# Name of the lab flavour for result labels.
lab_flavour() { [ "${LAB_CGROUP:-0}" = 1 ] && echo cgroup || echo affinity; }

lab_log() { echo "lab: $*" >&2; }

# lab_suite NAME [COMMAND...]: the suite's cases are named
# "NAME@<slurm release>/<case>" (tests/harness.sh, sourced by the suite
# first); print one SKIP and return 1 when this machine cannot run a lab
# (not root, or slurmctld/COMMANDs missing): the suite then calls ng_end.
lab_suite() {
    declare -F ng_suite >/dev/null || { echo "lab_suite: source tests/harness.sh first" >&2; return 1; }
    # Every result names the Slurm release it ran on.
    ng_suite "$1@$(slurmd -V 2>/dev/null | awk '{print $2}')"; shift
    local c
    [ "$(id -u)" = 0 ] || { skip all "needs root"; return 1; }
    for c in slurmctld "$@"; do
        command -v "$c" >/dev/null || { skip all "needs $c"; return 1; }
    done
}

# LAB_PLUGIN: the numa_gpu.so to load (default: the build tree's).
lab_plugstack() {
    echo "required ${LAB_PLUGIN:-$LAB_BUILD/numa_gpu.so} topology=$LAB/topo.xml procfs_root=$LAB/fake/proc sysfs_root=$LAB/fake/sys $*" \
        > "$LAB/plugstack.conf"
}

# lab_start [NODES] [PLUGSTACK-ARGS...]
lab_start() {
    local nodes=${1:-1}; shift || true
    [ "$(id -u)" = 0 ] || { lab_log "needs root"; return 1; }
    # A lab that did not start (or was not stopped) is stopped first: its
    # munged and directory would outlive the suite otherwise.
    [ -n "${LAB:-}" ] && lab_stop
    LAB=$(mktemp -d /tmp/numa-gpu-lab.XXXXXX)
    chmod 755 "$LAB"
    mkdir -p "$LAB"/{etc,state,spool,log,run,munge,dev,bin}
    export SLURM_CONF=$LAB/etc/slurm.conf
    local host port_base
    host=$(hostname -s)
    # Ports below the kernel's ephemeral range (an outgoing connection can
    # hold any port inside it), and not bound by anything now.
    local lo_eph span try p busy
    lo_eph=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    span=$(( ${lo_eph:-32768} - 10000 - 16 ))
    [ "$span" -gt 100 ] || span=20000
    for try in $(seq 1 20); do
        port_base=$((10000 + RANDOM % span))
        busy=""
        for p in $(seq "$port_base" $((port_base + nodes))); do
            ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" && busy=1
        done
        [ -z "$busy" ] && break
    done

    # munge with a private key and socket
    dd if=/dev/urandom of="$LAB/munge/key" bs=1024 count=1 status=none
    chmod 400 "$LAB/munge/key"
    /usr/sbin/munged --force --socket="$LAB/munge/munge.socket" --key-file="$LAB/munge/key" \
        --pid-file="$LAB/run/munged.pid" --log-file="$LAB/log/munged.log" \
        --seed-file="$LAB/munge/seed" || { lab_log "munged failed"; return 1; }

    # fake GPUs: character devices (plain files are rejected by Slurm)
    local g
    for g in $(seq 0 $((LAB_NGPUS - 1))); do mknod "$LAB/dev/nvidia$g" c 195 "$g"; done
    sh "$LAB_ROOT/tests/lab/lab-topology.sh" "$LAB/topo.raw.xml"
    # As a site does: topology= names a cache written by save-topology (a
    # foreign XML is checked in a child process at every step, ~2 ms).
    "$LAB_BUILD/numa-gpu" save-topology --from "$LAB/topo.raw.xml" "$LAB/topo.xml" || return 1
    "$LAB_BUILD/mkfakeroot" --pci-order "$LAB/topo.xml" "$LAB/fake" || return 1

    local hw
    hw=$(slurmd -C | head -1 | grep -o 'CPUs=[0-9]* Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*')
    local gres_cores=() gres_type="" ncores
    ncores=$(echo "$hw" | awk '{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["SocketsPerBoard"] * v["CoresPerSocket"] * v["Boards"]}')
    case ${LAB_GRES_CORES:-} in
        "") ;;
        numa)
            # lab-topology.sh: node 0 = the first half of the CPUs, one
            # package per node; Slurm core ids = CPU ids (1 thread per core).
            if [ "$LAB_NGPUS" != 2 ] || ! echo "$hw" | grep -q 'ThreadsPerCore=1' || [ $((ncores % 2)) != 0 ]; then
                lab_log "LAB_GRES_CORES=numa needs 2 GPUs and an even count of 1-thread cores ($hw)"; return 1
            fi
            hw="CPUs=$ncores Boards=1 SocketsPerBoard=2 CoresPerSocket=$((ncores / 2)) ThreadsPerCore=1"
            gres_cores=("0-$((ncores / 2 - 1))" "$((ncores / 2))-$((ncores - 1))") ;;
        all) for g in $(seq 0 $((LAB_NGPUS - 1))); do gres_cores+=("0-$((ncores - 1))"); done ;;
        *) lab_log "LAB_GRES_CORES=$LAB_GRES_CORES: numa or all"; return 1 ;;
    esac
    [ -n "${LAB_GPU_TYPE:-}" ] && gres_type=$LAB_GPU_TYPE
    . "$LAB_ROOT/tests/lab/slurm-conf.sh"
    {
        slurm_conf_common "$LAB" "$LAB/munge/munge.socket" "$host" | lab_cgroup_conf
        echo "SlurmctldPort=$port_base"
        echo "SlurmdPort=$((port_base + 1))"
    } > "$SLURM_CONF"
    local i
    for i in $(seq 1 "$nodes"); do
        echo "NodeName=lab$i NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port_base + i)) $hw RealMemory=1000 Gres=gpu:${gres_type:+$gres_type:}$LAB_NGPUS State=UNKNOWN" >> "$SLURM_CONF"
        if [ ${#gres_cores[@]} -gt 0 ]; then
            for g in $(seq 0 $((LAB_NGPUS - 1))); do
                echo "NodeName=lab$i Name=gpu${gres_type:+ Type=$gres_type} File=$LAB/dev/nvidia$g Cores=${gres_cores[$g]}"
            done >> "$LAB/etc/gres.conf"
        else
            echo "NodeName=lab$i Name=gpu${gres_type:+ Type=$gres_type} File=$LAB/dev/nvidia[0-$((LAB_NGPUS - 1))]" >> "$LAB/etc/gres.conf"
        fi
        mkdir -p "$LAB/spool/lab$i"
    done
    sed -i "1i AutoDetect=off" "$LAB/etc/gres.conf"
    echo "PartitionName=lab Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO" >> "$SLURM_CONF"
    lab_plugstack "$@"

    (cd "$LAB" && exec slurmctld -D -i >"$LAB/log/slurmctld.out" 2>&1) &
    LAB_PIDS+=($!); LAB_NAMES+=(slurmctld)
    for i in $(seq 1 "$nodes"); do
        # LAB_SLURMD_ENV: extra environment for slurmd and its slurmstepds
        # (fault injection: LD_PRELOAD=... NG_FAULT=...).
        (cd "$LAB" && exec env ${LAB_SLURMD_ENV:-} slurmd -D -N "lab$i" >"$LAB/log/slurmd-lab$i.out" 2>&1) &
        LAB_PIDS+=($!); LAB_NAMES+=("slurmd lab$i")
    done
    local t
    for t in $(seq 1 60); do
        if [ "$(sinfo -h -o '%T' 2>/dev/null | sort -u)" = "idle" ] &&
           [ "$(sinfo -h -N -o '%N' 2>/dev/null | wc -l)" -eq "$nodes" ]; then
            return 0
        fi
        sleep 0.5
    done
    lab_log "cluster did not become idle"; sinfo -N 2>&1 | head >&2
    tail -n 5 "$LAB"/log/* >&2   # the daemons' logs and their stderr (*.out)
    return 1
}

# Says in one line (stderr) what it stopped and how.
lab_stop() {
    [ -n "$LAB" ] || return 0
    scancel --quiet --user=root 2>/dev/null
    scontrol shutdown >/dev/null 2>&1
    local p t i alive rc how done_list="" stray=0
    for t in $(seq 1 20); do
        alive=0
        for p in "${LAB_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        [ "$t" = 8 ] && for p in "${LAB_PIDS[@]}"; do kill "$p" 2>/dev/null; done
        sleep 0.25
    done
    for i in "${!LAB_PIDS[@]}"; do
        p=${LAB_PIDS[$i]}
        kill -9 "$p" 2>/dev/null
        # Reap it right away with stderr silenced: a background job killed
        # by a signal is otherwise reported by bash at its next command
        # ("line N: PID Killed ( cd ... slurmd -D ... )").
        wait "$p" 2>/dev/null
        rc=$?
        case $rc in
            0|127) how="" ;;   # clean exit (127: not our child, or reaped)
            137) how=", needed SIGKILL" ;;
            143) how=", stopped by SIGTERM" ;;
            *) how=", exit status $rc" ;;
        esac
        done_list="$done_list${done_list:+, }${LAB_NAMES[$i]:-daemon} (pid $p$how)"
    done
    # slurmstepd children of this lab: found by their working directory / spool.
    for p in $(pgrep -f slurmstepd 2>/dev/null); do
        grep -qs "$LAB" "/proc/$p/cmdline" "/proc/$p/environ" && kill -9 "$p" 2>/dev/null && stray=$((stray + 1))
    done
    [ "$stray" -gt 0 ] && done_list="$done_list, $stray leftover slurmstepd (SIGKILL)"
    if [ -f "$LAB/run/munged.pid" ]; then
        p=$(cat "$LAB/run/munged.pid")
        kill "$p" 2>/dev/null
        for t in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        done_list="$done_list${done_list:+, }munged (pid $p)"
    fi
    # cgroups Slurm made for this lab's host name (empty once the steps are gone).
    if [ "${LAB_CGROUP:-0}" = 1 ]; then
        local d
        for d in /sys/fs/cgroup/*/slurm_lab[0-9]* /sys/fs/cgroup/*/slurm_"$(hostname -s)"; do
            [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    fi
    if [ -n "${LAB_KEEP:-}" ]; then
        lab_log "stopped ${done_list:-nothing}; kept $LAB (LAB_KEEP)"
    else
        rm -rf "$LAB"
        lab_log "stopped ${done_list:-nothing}; removed $LAB"
    fi
    LAB_PIDS=()
    LAB_NAMES=()
    LAB=""
}
