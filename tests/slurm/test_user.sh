#!/bin/bash
# Jobs of an ordinary user: user_init and task_init run with the user's
# privileges (binding still happens), task_init_privileged and the audit
# writer run as root (hugepages reserved, records root-owned), and the user
# cannot make root write through the audit directory.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/slurm/lab.sh
B=$LAB_BUILD
lab_suite slurm-user || ng_end
NR=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
U=ngtestuser
id "$U" >/dev/null 2>&1 || useradd -M -s /bin/sh "$U" 2>/dev/null
if ! id "$U" >/dev/null 2>&1; then
    skip all "cannot create a test user"; ng_end
fi
# The build tree must be readable by the user.
if ! su -s /bin/sh "$U" -c "test -x '$B/memhelper'"; then
    skip all "$B is not reachable by an unprivileged user"; ng_end
fi
trap lab_stop EXIT
lab_start 1 default=off || { fail lab-start "local cluster did not start"; ng_end; }
mkdir -m 755 "$LAB/audit"
lab_plugstack default=off audit_dir="$LAB/audit" audit_interval=1 state_dir="$LAB/state-hp"
OUT=$LAB/out; mkdir -m 777 "$OUT"
asuser() { su -s /bin/bash "$U" -c "export SLURM_CONF=$SLURM_CONF; $*"; }

before=$(cat "$NR" 2>/dev/null || echo 0)
asuser "srun -l -n2 --gpus-per-task=1 --numa-gpu=prefer sh -c 'echo job=\$SLURM_JOB_ID uid=\$(id -u) hp=\$NUMA_GPU_HUGEPAGES; $B/memhelper; sleep 1.5'" >"$OUT/u" 2>&1
rc=$?
jid=$(sed -n 's/^ *0: job=\([0-9]*\).*/\1/p' "$OUT/u")
uid=$(id -u "$U")
c0=$(sed -n 's/^ *0: cpus=//p' "$OUT/u"); c1=$(sed -n 's/^ *1: cpus=//p' "$OUT/u")
p0=$(sed -n 's/^ *0: policy=//p' "$OUT/u")
[ $rc -eq 0 ] && grep -q "uid=$uid" "$OUT/u" && [ -n "$c0" ] && [ "$c0" != "$c1" ] && [ "$p0" = preferred ] &&
    pass user-tasks-bound || fail user-tasks-bound "rc=$rc $(cat "$OUT/u")"
rec=$LAB/audit/$jid.json
for _ in $(seq 1 20); do [ -s "$rec" ] && break; sleep 0.25; done
[ "$(stat -c %u "$rec" 2>/dev/null)" = 0 ] && [ "$(jq -s length "$rec" 2>/dev/null)" = 2 ] &&
    pass audit-record-root-owned || fail audit-record-root-owned "$(ls -l "$LAB/audit")"

# hugepages for a user's job: reserved as root before the task drops privileges
if [ -w "$NR" ]; then
    asuser "srun -n1 -c2 --gpus=1 --numa-gpu=prefer --numa-gpu-hugepages=4M sh -c 'echo during=\$(cat $NR) hp=\$NUMA_GPU_HUGEPAGES'" >"$OUT/h" 2>&1
    sleep 0.3
    [ "$(sed -n 's/^during=\([0-9]*\).*/\1/p' "$OUT/h")" = $((before + 2)) ] && [ "$(cat "$NR")" = "$before" ] &&
        pass user-hugepages || fail user-hugepages "before=$before now=$(cat "$NR") $(cat "$OUT/h")"
else
    skip user-hugepages "$NR is not writable here"
fi
# The audit dir is not the user's: a user cannot plant a file there, and a
# user-writable audit dir is refused by root.
chmod 777 "$LAB/audit"
asuser "srun -n1 --numa-gpu=prefer sh -c 'echo job=\$SLURM_JOB_ID'" >"$OUT/w" 2>&1
jw=$(sed -n 's/^job=//p' "$OUT/w")
sleep 0.5
# (no job id: "audit/.json" never exists, the check would hold for nothing)
[ -n "$jw" ] && [ ! -e "$LAB/audit/$jw.json" ] && grep -q "audit_dir '$LAB/audit' refused" "$LAB"/log/slurmd-lab1.log &&
    pass world-writable-audit-dir-refused || fail world-writable-audit-dir-refused "$(ls -l "$LAB/audit")"
ng_end
