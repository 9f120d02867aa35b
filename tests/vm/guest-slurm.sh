# Runs inside the multi-NUMA guest: a local Slurm (munged + slurmctld +
# slurmd) with numa_gpu.so, live hwloc discovery, the VGA "GPUs" named by
# GRES minors through a fake /proc/driver/nvidia; one srun --numa-gpu=strict
# with a GPU per task, pages checked in each task's numa_maps.
# (busybox sh: no tests/harness.sh here; the host relays these lines and
# the exit status says whether a case failed)
NG_FAILED=0
pass() { echo "PASS vm-slurm/$1"; }
fail() { NG_FAILED=$((NG_FAILED + 1)); echo "FAIL vm-slurm/$1: $2"; }
kv() { echo "$1" | sed -n "s/^$2=//p" | head -1; }
t0=$(cut -d' ' -f1 /proc/uptime)
export PATH=/bin:/usr/bin:/usr/sbin
hostname guest
# Loopback only. glibc's getaddrinfo(AI_ADDRCONFIG) wants one non-loopback
# address before it answers at all: a documentation-range one on lo (no NIC,
# nothing leaves the guest).
ip link set lo up
ip addr add 192.0.2.1/32 dev lo
# Slurm 22.05's slurmd wants a cgroup hierarchy; v1 needs no dbus.
mount -t tmpfs cgroup /sys/fs/cgroup
for c in cpuset freezer memory devices cpu,cpuacct; do
    mkdir -p /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
done
mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
echo "vm-slurm: setting up (uptime $t0 s)"
S=/tmp/slurm; mkdir -p $S/state $S/spool $S/log $S/munge $S/dev /tmp/fp
chmod 755 $S/munge
# GPU stand-ins by the kernel's numa_node; minor N = the one on node N.
for d in /sys/bus/pci/devices/*; do
    case $(cat "$d/class") in 0x03*) ;; *) continue ;; esac
    n=$(cat "$d/numa_node"); b=$(basename "$d")
    mkdir -p /tmp/fp/driver/nvidia/gpus/$b
    printf 'GPU UUID: GPU-%08d-0000-0000-0000-000000000000\nBus Location: %s\nDevice Minor: %s\n' "$n" "$b" "$n" \
        > /tmp/fp/driver/nvidia/gpus/$b/information
    mknod $S/dev/nvidia$n c 195 $n
done
dd if=/dev/urandom of=$S/munge/key bs=1024 count=1 2>/dev/null; chmod 400 $S/munge/key
/usr/sbin/munged --force --socket=$S/munge/munge.socket --key-file=$S/munge/key \
    --pid-file=$S/munged.pid --log-file=$S/log/munged.log --seed-file=$S/munge/seed || { fail munged "did not start"; exit 1; }
echo "vm-slurm: munged up"
hw=$(timeout 20 /usr/sbin/slurmd -C 2>/dev/null | head -1 | grep -o 'CPUs=[0-9]* Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*')
. /test/slurm-conf.sh
mkdir -p $S/run $S/spool/guest
{
    slurm_conf_common $S $S/munge/munge.socket guest
    echo "NodeName=guest NodeAddr=127.0.0.1 $hw RealMemory=500 Gres=gpu:2 State=UNKNOWN"
    echo "PartitionName=p Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} > $S/slurm.conf
printf 'AutoDetect=off\nName=gpu File=%s/dev/nvidia[0-1]\n' $S > $S/gres.conf
echo "required /opt/numa-gpu/numa_gpu.so procfs_root=/tmp/fp" > $S/plugstack.conf
export SLURM_CONF=$S/slurm.conf
echo "vm-slurm: node $hw"
/usr/sbin/slurmctld -D -i >$S/log/ctld.out 2>&1 &
/usr/sbin/slurmd -D >$S/log/slurmd.out 2>&1 &
echo "vm-slurm: daemons started"
for i in $(seq 1 20); do
    [ "$(timeout 3 sinfo -h -o %T 2>/dev/null)" = idle ] && break
    sleep 0.5
done 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
if [ "$(sinfo -h -o %T 2>/dev/null)" != idle ]; then
    fail cluster-idle "$(timeout 3 sinfo 2>&1) $(tail -8 $S/log/slurmctld.log $S/log/slurmd-guest.log $S/log/*.out 2>&1)"
    exit 1
fi
pass cluster-idle
echo "vm-slurm: cluster idle after $(cut -d' ' -f1 /proc/uptime) s of uptime"
out=$(timeout 90 srun -l -n2 --gpus-per-task=1 --numa-gpu=strict sh -c 'echo gpus=$SLURM_STEP_GPUS; memhelper 32' 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "srun rc=$rc"; tail -20 $S/log/slurmd-guest.log $S/log/slurmctld.log; }
t2=$(cut -d' ' -f1 /proc/uptime)
echo "$out"
bad=""
for task in 0 1; do
    g=$(echo "$out" | sed -n "s/^ *$task: gpus=//p")
    want=$(cat /sys/bus/pci/devices/$(ls /tmp/fp/driver/nvidia/gpus | while read b; do
        grep -q "Device Minor: $g\$" /tmp/fp/driver/nvidia/gpus/$b/information && echo $b; done)/numa_node)
    cpus=$(echo "$out" | sed -n "s/^ *$task: cpus=//p")
    pol=$(echo "$out" | sed -n "s/^ *$task: policy=//p")
    pn=$(echo "$out" | sed -n "s/^ *$task: policy_nodes=//p")
    pages=$(echo "$out" | sed -n "s/^ *$task: pages=//p")
    on=$(echo "$pages" | tr ',' '\n' | sed -n "s/^$want=//p")
    tot=$(echo "$pages" | tr ',' '\n' | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
    [ "$cpus" = "$(cat /sys/devices/system/node/node$want/cpulist)" ] && [ "$pol $pn" = "bind $want" ] &&
        [ -n "$on" ] && [ "$tot" -gt 0 ] && [ $((on * 1000 / tot)) -ge 995 ] ||
        bad="$bad task $task (gpu $g node $want): cpus $cpus policy $pol $pn pages $pages;"
    echo "vm-slurm: task $task gpu $g on node $want: cpus $cpus, $pol $pn, pages $pages"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && pass srun-strict-pages-on-each-gpu-node || fail srun-strict-pages-on-each-gpu-node "rc=$rc$bad"
echo "vm-slurm: cluster up in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s, srun -n2 in $(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.1f", b - a}') s (TCG)"
scontrol shutdown >/dev/null 2>&1
exit $((NG_FAILED > 0))
