#!/bin/bash
# numa-gpu calibrate on a real multi-node kernel: the GPU-node-shaped QEMU
# guest (4 CPU nodes, a memory-only node, 4 PCI display devices) with the
# tests' stand-in runtime, which judges copies by where the buffer's pages
# are. See tests/vm/guest-calibrate.sh for the cases, relayed as ours.
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/vm/vm.sh
ng_suite vm-calibrate
if ! command -v qemu-system-x86_64 >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
    skip all "qemu-system-x86 or linux-image-amd64 not installed"
    ng_end
fi
VM_SHAPE=gpunode VM_DIR=$VM_BUILD/vm-calibrate
vm_prepare || { fail prepare "could not build the guest"; ng_end; }
T=$(mktemp -d /tmp/numa-gpu-vm-cal.XXXXXX)
trap 'rm -rf "$T"' EXIT
cc -std=c11 -O2 -shared -fPIC -o "$T/libcuda.so.1" tests/gpu-standin/gpu-standin.c -lnuma -lpthread ||
    { fail standin "cc failed"; ng_end; }
vm_run tests/vm/guest-calibrate.sh "$T/libcuda.so.1" > "$T/out"
rc=$?
ng_relay < "$T/out"
echo "vm-calibrate: boot + cases ${VM_TOTAL_S:-?} s, exit status $rc"
vm_judge "$T/out" "$rc"
ng_end
