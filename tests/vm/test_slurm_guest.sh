#!/bin/bash
# The plugin in a real Slurm inside the multi-NUMA guest (see guest-slurm.sh).
# The guest's PASS/FAIL/SKIP lines are relayed as cases of this suite.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/vm/vm.sh
ng_suite vm-slurm
if ! command -v qemu-system-x86_64 >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1 || ! command -v slurmd >/dev/null; then
    skip all "qemu-system-x86, linux-image-amd64 or slurm-wlm not installed"
    ng_end
fi
VM_WITH_SLURM=1
VM_DIR=$VM_BUILD/vm-slurm
vm_prepare || { fail prepare "could not build the guest"; ng_end; }
T=$(mktemp -d /tmp/numa-gpu-vm-slurm.XXXXXX)
trap 'rm -rf "$T"' EXIT
t0=$SECONDS
vm_run tests/vm/guest-slurm.sh tests/lab/slurm-conf.sh | tee "$T/out" | ng_relay
rc=${PIPESTATUS[0]}
echo "vm-slurm: boot + cluster + job $((SECONDS - t0)) s, exit status $rc"
vm_judge "$T/out" "$rc"
ng_end
