# slurm_conf_common DIR MUNGE_SOCKET CONTROLLER: the slurm.conf lines every
# throw-away cluster of the tests shares (host lab and QEMU guest): no
# cgroup/dbus/accounting, task/affinity, cons_tres by core, all state and
# logs under DIR, plugstack DIR/plugstack.conf. POSIX sh (busybox too).
# Facts behind the choices: ../shared/notes/slurm-lab.md.
slurm_conf_common() {
    cat <<EOC
ClusterName=numagpulab
SlurmctldHost=$3(127.0.0.1)
AuthType=auth/munge
AuthInfo=socket=$2
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$1/state
SlurmdSpoolDir=$1/spool/%n
SlurmctldPidFile=$1/run/slurmctld.pid
SlurmdPidFile=$1/run/slurmd-%n.pid
SlurmctldLogFile=$1/log/slurmctld.log
SlurmdLogFile=$1/log/slurmd-%n.log
SlurmdDebug=debug
ProctrackType=proctrack/pgid
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
PlugStackConfig=$1/plugstack.conf
GresTypes=gpu
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
EOC
}
