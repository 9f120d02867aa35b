#!/bin/bash
# The plugin in a real Slurm inside the multi-NUMA guest (see guest-slurm.sh).
set -u
cd "$(dirname "$0")/../.."
source tests/vm/vm.sh
if ! command -v qemu-system-x86_64 >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1 || ! command -v slurmd >/dev/null; then
    echo "SKIP vm-slurm/all: qemu-system-x86, linux-image-amd64 or slurm-wlm not installed"
    exit 0
fi
VM_WITH_SLURM=1
VM_DIR=$VM_BUILD/vm-slurm
vm_prepare || { echo "FAIL vm-slurm/prepare: could not build the guest"; exit 0; }
vm_run tests/vm/guest-slurm.sh tests/lab/slurm-conf.sh
rc=$?
echo "vm-slurm: boot + cluster + job ${VM_TOTAL_S} s, exit status $rc"
[ $rc -eq 0 ] || echo "FAIL vm-slurm/guest-exit: guest script exited $rc"
exit 0
