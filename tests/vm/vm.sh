# A tiny multi-NUMA QEMU (TCG) guest for tests: Debian's kernel booted
# uncompressed, an initramfs built from this host's binaries, 2 CPU nodes +
# 1 memory-only node, a VGA "GPU" behind a pxb-pcie expander on node 0 and
# one on node 1. Source it, then:
#   vm_prepare                   cache vmlinux and the base initramfs
#   vm_run GUEST_SCRIPT FILES... boot, run the script, stream its output,
#                                return its exit status (hard timeout; 99
#                                when the guest never reported one)
#   vm_judge OUT RC [PREFIX]     after the guest's output OUT was relayed
#                                (ng_relay): FAIL when the guest reported no
#                                case, no exit status, or exited non-zero
#                                without a FAIL line
# VM_SHAPE=gpunode: a GPU-node-shaped guest instead: 8 CPUs over 4 NUMA
# nodes (2 each) + a memory-only node 4, and 4 VGA devices behind pxb-pcie
# bridges on nodes 3, 2, 1, 0; VM_WITH_DRM=1 packs the kernel's bochs DRM
# driver so they become real /dev/dri/card0..3. VM_SMT=1 (gpunode only):
# the same 8 CPUs as 2 sockets x 2 cores x 2 hyperthreads, each NUMA node
# one core (cpus 2N, 2N+1 siblings); under TCG the guest kernel sees the
# threads only with an Intel vendor on -cpu max.
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
             /usr/bin/srun /usr/bin/sinfo /usr/bin/scontrol /usr/bin/squeue /usr/bin/sbatch /usr/bin/scancel; do
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
    vm_add_plugin "$dst" "$VM_BUILD/numa_gpu.so"
}

# The plugin at /opt/numa-gpu/numa_gpu.so, its libraries, a root-only
# passwd/group and a hosts file naming the guest.
vm_add_plugin() {
    local dst=$1 plugin=$2
    install -D -m 755 "$plugin" "$dst/opt/numa-gpu/numa_gpu.so"
    ldd "$plugin" | grep -o '/[^ ]*' | while read -r lib; do
        [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
    done
    # The CLI too (numa-gpu irq on the guest's real interrupts).
    [ -x "$VM_BUILD/numa-gpu" ] && install -D -m 755 "$VM_BUILD/numa-gpu" "$dst/opt/numa-gpu/numa-gpu"
    mkdir -p "$dst/etc"
    echo "root:x:0:0:root:/root:/bin/sh" > "$dst/etc/passwd"
    echo "root:x:0:" > "$dst/etc/group"
    echo "127.0.0.1 localhost guest" > "$dst/etc/hosts"
}

# VM_SLURM_PREFIX=DIR: an upstream Slurm installed under DIR (the cached
# build of tests/lab/build-slurm.sh) instead of Debian's, at the same path in
# the guest (its plugin dir is compiled in), debug info stripped, with the
# numa_gpu.so built against it from VM_PLUGIN.
vm_add_slurm_prefix() {
    local dst=$1 p=$VM_SLURM_PREFIX f
    install -D -m 755 /usr/sbin/munged "$dst/usr/sbin/munged"
    for f in "$p"/sbin/slurmctld "$p"/sbin/slurmd "$p"/sbin/slurmstepd "$p"/bin/srun "$p"/bin/sinfo \
             "$p"/bin/scontrol "$p"/bin/squeue "$p"/bin/sbatch "$p"/bin/scancel \
             "$p"/lib/libslurm.so.*.*.* "$p"/lib/slurm/*.so /usr/sbin/munged; do
        [ -f "$f" ] || continue
        install -D -m 755 "$f" "$dst$f"
        strip --strip-debug "$dst$f" 2>/dev/null
        ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
            [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
        done
    done
    for f in "$p"/lib/libslurm.so*; do
        [ -L "$f" ] && cp -P "$f" "$dst$f"
    done
    vm_add_plugin "$dst" "$VM_PLUGIN"
    echo "$p" > "$dst/etc/slurm-prefix"
}

# Open MPI (Debian's 4.1) for mpirun inside a batch job of the guest.
vm_add_mpi() {
    local dst=$1 f
    for f in /usr/bin/orterun /usr/bin/orted $(find /usr/lib/x86_64-linux-gnu/openmpi -name '*.so*'); do
        [ -f "$f" ] || continue
        install -D -m 755 "$f" "$dst$f"
        ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
            [ -e "$dst$lib" ] || install -D -m 755 "$lib" "$dst$lib"
        done
    done
    ln -sf orterun "$dst/usr/bin/mpirun"
    mkdir -p "$dst/usr/share" "$dst/etc"
    cp -a /usr/share/openmpi "$dst/usr/share/"
    cp -a /etc/openmpi "$dst/etc/"
    # symlinks Open MPI resolves its components through (not those of
    # directories left out, such as its headers)
    (cd /usr/lib/x86_64-linux-gnu && find openmpi -type l) | while read -r l; do
        [ -d "$dst/usr/lib/x86_64-linux-gnu/$(dirname "$l")" ] || continue
        [ -e "$dst/usr/lib/x86_64-linux-gnu/$l" ] || cp -P "/usr/lib/x86_64-linux-gnu/$l" "$dst/usr/lib/x86_64-linux-gnu/$l"
    done
}

# The DRM modules that turn QEMU's VGA devices into /dev/dri/cardN, for the
# kernel the guest boots (load order: drm ttm drm_kms_helper drm_ttm_helper
# drm_vram_helper bochs).
vm_kernel_version() { ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 | sed 's|/boot/vmlinuz-||'; }
vm_add_drm() {
    local dst=$1 v m f
    v=$(vm_kernel_version)
    mkdir -p "$dst/lib/modules/drm"
    for m in drm ttm drm_kms_helper drm_ttm_helper drm_vram_helper bochs; do
        f=$(find "/lib/modules/$v/kernel/drivers/gpu/drm" -name "$m.ko" | head -1)
        [ -n "$f" ] || { vm_log "no $m.ko for kernel $v"; return 1; }
        install -m 644 "$f" "$dst/lib/modules/drm/$m.ko"
    done
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
    if [ -n "${VM_SLURM_PREFIX:-}" ]; then
        vm_add_slurm_prefix "$r"
    elif [ -n "${VM_WITH_SLURM:-}" ]; then
        vm_add_slurm "$r"
    fi
    [ -n "${VM_WITH_DRM:-}" ] && vm_add_drm "$r"
    [ -n "${VM_WITH_MPI:-}" ] && command -v orterun >/dev/null && vm_add_mpi "$r"
    cat > "$r/init" <<'INIT'
#!/bin/busybox sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
export PATH=/bin
stty -F /dev/ttyS1 raw -echo 2>/dev/null
sh /test/guest.sh > /dev/ttyS1 2>&1
rc=$?
# Twice, a second apart: under TCG on a loaded host a line still in the
# UART when poweroff -f runs is lost (seen: the status missing after every
# case had passed). The host takes the last NG-EXIT it sees.
echo "NG-EXIT=$rc" > /dev/ttyS1
sleep 1
echo "NG-EXIT=$rc" > /dev/ttyS1
sleep 1
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
    local shape cpu=max
    if [ "${VM_SHAPE:-}" = gpunode ]; then
        shape="-smp 8,sockets=2,cores=4 -m 2304M"
        if [ "${VM_SMT:-}" = 1 ]; then
            shape="-smp 8,sockets=2,cores=2,threads=2 -m 2304M"
            cpu=max,vendor=GenuineIntel
        fi
        local n
        for n in 0 1 2 3; do
            shape="$shape -object memory-backend-ram,id=m$n,size=512M"
            shape="$shape -numa node,nodeid=$n,cpus=$((2 * n))-$((2 * n + 1)),memdev=m$n"
        done
        shape="$shape -object memory-backend-ram,id=m4,size=256M -numa node,nodeid=4,memdev=m4"
        # GPUs on nodes 3, 2, 1, 0 in bus order: device order is not node order.
        local i=0
        for n in 3 2 1 0; do
            shape="$shape -device pxb-pcie,id=pxb$i,bus_nr=$((64 + 32 * i)),numa_node=$n,bus=pcie.0"
            shape="$shape -device pcie-root-port,id=rp$i,bus=pxb$i,chassis=$((i + 1)),slot=0 -device VGA,bus=rp$i"
            i=$((i + 1))
        done
    else
        shape="-smp 2,sockets=2,cores=1 -m 1280M
        -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M
        -object memory-backend-ram,id=m2,size=256M
        -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
        -numa node,nodeid=2,memdev=m2
        -device pxb-pcie,id=pxb0,bus_nr=64,numa_node=0,bus=pcie.0
        -device pcie-root-port,id=rp0,bus=pxb0,chassis=1,slot=0 -device VGA,bus=rp0
        -device pxb-pcie,id=pxb1,bus_nr=128,numa_node=1,bus=pcie.0
        -device pcie-root-port,id=rp1,bus=pxb1,chassis=2,slot=0 -device VGA,bus=rp1"
    fi
    # shellcheck disable=SC2086
    timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -machine q35 -cpu $cpu $shape \
        -nodefaults -no-user-config -display none -monitor none -no-reboot \
        -serial "file:$run/console" -serial "file:$run/out" \
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

# vm_judge OUT RC [PREFIX]: the guest's lines in OUT are already relayed by
# the caller; a guest that stopped half-way shows only in its case count and
# in RC from vm_run. Cases PREFIXguest-cases and PREFIXguest-exit of the
# calling suite (tests/harness.sh).
vm_judge() {
    local out=$1 rc=$2 prefix=${3:-} cases fails
    cases=$(grep -caE '^(PASS|FAIL|SKIP) ' "$out")
    fails=$(grep -ca '^FAIL ' "$out")
    # A guest that printed no case proves nothing, whatever its status.
    ng_nonempty "${prefix}guest-cases" "$cases"
    if [ "$rc" = 99 ]; then
        fail "${prefix}guest-exit" "the guest never reported its exit status (hung or lost its serial output); $cases case(s) seen"
    elif [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
        fail "${prefix}guest-exit" "guest script exited $rc without a FAIL line"
    fi
}
