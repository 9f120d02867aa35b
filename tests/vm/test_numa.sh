#!/bin/bash
# make check-numa: boot the multi-NUMA guest and prove placement on a real
# kernel (see tests/vm/guest-numa.sh for the cases).
set -u
cd "$(dirname "$0")/../.."
source tests/vm/vm.sh
if ! command -v qemu-system-x86_64 >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
    echo "SKIP vm/all: qemu-system-x86 or linux-image-amd64 not installed"
    exit 0
fi
t0=$SECONDS
if ! vm_prepare; then
    echo "FAIL vm/prepare: could not build the guest (see above)"
    exit 0
fi
prep=$((SECONDS - t0))
vm_run tests/vm/guest-numa.sh
rc=$?
echo "vm: guest prepare ${prep} s, boot+tests ${VM_TOTAL_S} s, exit status $rc"
[ $rc -eq 0 ] || echo "FAIL vm/guest-exit: guest script exited $rc"
exit 0
