#!/bin/sh
# Example Epilog= script: copy numa-gpu's per-task placement summary of the
# job that just ended into the syslog (the plugin's slurm_spank_job_epilog
# already writes it to the slurmd log and to AUDIT_DIR/<jobid>.summary; use
# this where the site collects epilog output elsewhere).
# slurm.conf:  Epilog=/etc/slurm/epilog.d/numa-gpu-summary.sh
# plugstack:   optional numa_gpu.so ... audit_dir=/var/log/numa-gpu audit_interval=30
AUDIT_DIR=${NUMA_GPU_AUDIT_DIR:-/var/log/numa-gpu}
f="$AUDIT_DIR/$SLURM_JOB_ID.json"
[ -f "$f" ] || exit 0
numa-gpu audit --job "$f" | logger -t "numa-gpu[$SLURM_JOB_ID]"
exit 0
