#!/bin/bash
# make check-numa: boot the multi-NUMA guest and prove placement on a real
# kernel (see tests/vm/guest-numa.sh for the cases, relayed as ours).
set -u
cd "$(dirname "$0")/../.."
source tests/harness.sh
source tests/vm/vm.sh
ng_suite vm
if ! command -v qemu-system-x86_64 >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
    skip all "qemu-system-x86 or linux-image-amd64 not installed"
    ng_end
fi
t0=$SECONDS
if ! vm_prepare; then
    fail prepare "could not build the guest (see above)"
    ng_end
fi
prep=$((SECONDS - t0))
T=$(mktemp -d /tmp/numa-gpu-vm-numa.XXXXXX)
trap 'rm -rf "$T"' EXIT
t0=$SECONDS
vm_run tests/vm/guest-numa.sh | tee "$T/out" | ng_relay
rc=${PIPESTATUS[0]}
echo "vm: guest prepare ${prep} s, boot+tests $((SECONDS - t0)) s, exit status $rc"
vm_judge "$T/out" "$rc"
ng_end
