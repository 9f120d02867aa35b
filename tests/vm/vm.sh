# A tiny multi-NUMA QEMU (TCG) guest for tests: Debian's kernel booted
# uncompressed, an initramfs built from this host's binaries, 2 CPU nodes +
# 1 memory-only node, a VGA "GPU" behind a pxb-pcie expander on node 0 and
# one on node 1. Source it, then:
#   vm_prepare                   cache vmlinux and the base initramfs
#   vm_run GUEST_SCRIPT FILES... boot, run the script, stream its output,
#                                return its exit status (hard timeout)
# Facts behind the choices: ../shared/notes/qemu-numa.md.

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_BUILD=${NUMA_GPU_BUILD:-$VM_ROOT/build}
VM_DIR=$VM_BUILD/vm
VM_TIMEOUT=${VM_TIMEOUT:-240}
VM_BOOT_S=""

vm_log() { echo "vm: $*" >&2; }

# Debian's kernel has CONFIG_PVH: the ELF vmlinux inside vmlinuz boots directly
# and saves the XZ decompression under TCG. Extract it once.
vm_vmlinux() {
    local z
    z=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
    [ -n "$z" ] || { vm_log "no /boot/vmlinuz-* (apt-get install linux-image-amd64)"; return 1; }
    if [ ! -s "$VM_DIR/vmlinux" ] || [ "$z" -nt "$VM_DIR/vmlinux" ]; then
        local off
        off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$z" | head -1 | cut -d: -f1)
        [ -n "$off" ] || { vm_log "no XZ payload in $z"; return 1; }
        tail -c +$((off + 1)) "$z" | xz -dc > "$VM_DIR/vmlinux.tmp" 2>/dev/null
        [ -s "$VM_DIR/vmlinux.tmp" ] || { vm_log "extracting $z failed"; return 1; }
        mv "$VM_DIR/vmlinux.tmp" "$VM_DIR/vmlinux"
    fi
}

# Copy a binary and the shared libraries ldd says it needs.
vm_add_bin() {
    local dst=$1 bin=$2
    install -D -m 755 "$bin" "$dst/bin/$(basename "$bin")"
    ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
        [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
    done
}

# Slurm and munge in the guest: binaries under their real paths, every
# Slurm plugin and what they link to, and a root-only passwd/group.
vm_add_slurm() {
    local dst=$1 f
    for f in /usr/sbin/munged /usr/sbin/slurmctld-wlm /usr/sbin/slurmd-wlm /usr/sbin/slurmstepd-wlm \
             /usr/bin/srun /usr/bin/sinfo /usr/bin/scontrol /usr/bin/squeue; do
        install -D -m 755 "$f" "$dst$f"
        ldd "$f" | grep -o '/[^ ]*' | while read -r lib; do
            [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
        done
    done
    ln -sf slurmctld-wlm "$dst/usr/sbin/slurmctld"
    ln -sf slurmd-wlm "$dst/usr/sbin/slurmd"
    ln -sf slurmstepd-wlm "$dst/usr/sbin/slurmstepd"
    for f in /usr/lib/x86_64-linux-gnu/slurm-wlm/*.so; do
        install -D -m 755 "$f" "$dst$f"
        ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
            [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
        done
    done
    install -D -m 755 "$VM_BUILD/numa_gpu.so" "$dst/opt/numa-gpu/numa_gpu.so"
    ldd "$VM_BUILD/numa_gpu.so" | grep -o '/[^ ]*' | while read -r lib; do
        [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
    done
    mkdir -p "$dst/etc"
    echo "root:x:0:0:root:/root:/bin/sh" > "$dst/etc/passwd"
    echo "root:x:0:" > "$dst/etc/group"
    echo "127.0.0.1 localhost guest" > "$dst/etc/hosts"
}

vm_prepare() {
    mkdir -p "$VM_DIR"
    vm_vmlinux || return 1
    local r=$VM_DIR/rootfs
    rm -rf "$r"
    mkdir -p "$r"/{bin,proc,sys,dev,tmp,test,mnt}
    cp /bin/busybox "$r/bin/busybox"
    for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
    vm_add_bin "$r" "$VM_BUILD/numa-gpu"
    vm_add_bin "$r" "$VM_BUILD/memhelper"
    vm_add_bin "$r" "$VM_BUILD/shard-staging"
    [ -n "${VM_WITH_SLURM:-}" ] && vm_add_slurm "$r"
    cat > "$r/init" <<'INIT'
#!/bin/busybox sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
export PATH=/bin
stty -F /dev/ttyS1 raw -echo 2>/dev/null
sh /test/guest.sh > /dev/ttyS1 2>&1
echo "NG-EXIT=$?" > /dev/ttyS1
sleep 0.3
poweroff -f
INIT
    chmod 755 "$r/init"
    (cd "$r" && find . | cpio -o -H newc --quiet) > "$VM_DIR/base.cpio"
}

# vm_run GUEST_SCRIPT [FILE...]: FILEs land in /test of the guest.
vm_run() {
    local script=$1; shift
    local run
    run=$(mktemp -d /tmp/numa-gpu-vm.XXXXXX)
    mkdir -p "$run/extra/test"
    cp "$script" "$run/extra/test/guest.sh"
    for f in "$@"; do cp "$f" "$run/extra/test/"; done
    (cd "$run/extra" && find . | cpio -o -H newc --quiet) > "$run/extra.cpio"
    cat "$VM_DIR/base.cpio" "$run/extra.cpio" > "$run/initrd.cpio"
    : > "$run/out"
    local t0=$SECONDS
    timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -machine q35 -cpu max \
        -smp 2,sockets=2,cores=1 -m 1280M \
        -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
        -object memory-backend-ram,id=m2,size=256M \
        -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
        -numa node,nodeid=2,memdev=m2 \
        -nodefaults -no-user-config -display none -monitor none -no-reboot \
        -serial "file:$run/console" -serial "file:$run/out" \
        -device pxb-pcie,id=pxb0,bus_nr=64,numa_node=0,bus=pcie.0 \
        -device pcie-root-port,id=rp0,bus=pxb0,chassis=1,slot=0 -device VGA,bus=rp0 \
        -device pxb-pcie,id=pxb1,bus_nr=128,numa_node=1,bus=pcie.0 \
        -device pcie-root-port,id=rp1,bus=pxb1,chassis=2,slot=0 -device VGA,bus=rp1 \
        -kernel "$VM_DIR/vmlinux" -initrd "$run/initrd.cpio" \
        -append "console=ttyS0 quiet panic=-1 8250.nr_uarts=2" &
    local qpid=$! first=""
    # Stream the guest's output as it arrives.
    tail -n +1 -f "$run/out" --pid=$qpid 2>/dev/null | while IFS= read -r line; do
        printf '%s\n' "${line%$'\r'}"
    done
    wait $qpid
    local qrc=$?
    VM_TOTAL_S=$((SECONDS - t0))
    local rc
    rc=$(grep -a -o 'NG-EXIT=[0-9]*' "$run/out" | tail -1 | cut -d= -f2)
    if [ -z "$rc" ]; then
        vm_log "guest gave no exit status (qemu rc=$qrc); console tail:"
        tail -20 "$run/console" >&2
        rc=99
    fi
    rm -rf "$run"
    return "$rc"
}
