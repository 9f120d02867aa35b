#!/bin/sh
# Example Epilog= script for numa-gpu, run by slurmd (root) on each node of a
# job once it has ended:
#  1. the job's per-task placement summary into the syslog (the plugin's
#     slurm_spank_job_epilog already writes it to the slurmd log and to
#     AUDIT_DIR/<jobid>.summary; this is for sites that collect the syslog);
#  2. Prometheus metrics: the job's audit records of this node are counted
#     into TEXTFILE_DIR/numa_gpu.prom, which node_exporter serves when it
#     runs with --collector.textfile.directory=TEXTFILE_DIR (skipped when
#     that directory does not exist). `numa-gpu metrics` on its own (cron, a
#     timer) refreshes the gauges between jobs.
# It never fails the epilog (a failing Epilog drains the node): problems go
# to the syslog, or to stderr without logger, and the exit status is 0.
#
# slurm.conf:  Epilog=/etc/slurm/epilog.d/numa-gpu-summary.sh
# plugstack:   optional numa_gpu.so ... audit_dir=/var/log/numa-gpu [state_dir=/run/numa-gpu]
# AUDIT_DIR and STATE_DIR must be the plugstack's audit_dir= and state_dir=.
AUDIT_DIR=${NUMA_GPU_AUDIT_DIR:-/var/log/numa-gpu}
STATE_DIR=${NUMA_GPU_STATE_DIR:-/run/numa-gpu}
TEXTFILE_DIR=${NUMA_GPU_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
# slurmd runs epilogs without a search path.
PATH=${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin
export PATH
[ -n "$SLURM_JOB_ID" ] || exit 0

say() {   # stdin, one log line per line
    if command -v logger >/dev/null 2>&1; then
        logger -t "numa-gpu[$SLURM_JOB_ID]"
    else
        sed "s/^/numa-gpu[$SLURM_JOB_ID]: /" >&2
    fi
}

f="$AUDIT_DIR/$SLURM_JOB_ID.json"
if [ -f "$f" ]; then
    numa-gpu audit --job "$f" 2>&1 | say
fi
# The node name the plugin wrote in the records is SLURMD_NODENAME (set by
# slurmd for the epilog), which numa-gpu metrics reads by default.
if [ -d "$TEXTFILE_DIR" ]; then
    out=$(numa-gpu metrics --job "$SLURM_JOB_ID" --audit-dir "$AUDIT_DIR" \
          --state-dir "$STATE_DIR" --textfile-dir "$TEXTFILE_DIR" 2>&1) || echo "$out" | say
fi
exit 0
