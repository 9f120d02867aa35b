#!/bin/bash
# numa-gpu irq on fake /proc and /sys roots shaped like the Dell XE8640 of
# the corpus: GPU 0000:4e:00.0 (node 3) with two MSI vectors, the dual-port
# HCA 0000:4d:00.0/.1 under its switch. Check names what is routed away from
# the device's node, apply steers exactly those and records them, another
# job leaves them alone, restore puts every value back, a vanished IRQ and a
# read-only /proc/irq are named and leave nothing half-changed.
source "$(dirname "$0")/lib.sh"
ng_suite irq
ng_tmpdir irq
ng_at_exit 'umount "$T/proc/irq/201" 2>/dev/null'
X=$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml
GPU=0000:4e:00.0

fake() {   # fresh roots: IRQ -> device and affinity
    rm -rf "$T/proc" "$T/sys" "$T/state"
    mkdir -p "$T/proc/irq"
    : > "$T/proc/interrupts"
    for spec in 100:$GPU:0-223:nvidia 101:$GPU:0-13:nvidia 200:0000:4d:00.0:42-55:mlx5_comp0 \
                201:0000:4d:00.1:0:mlx5_comp1; do
        IFS=: read -r irq d1 d2 d3 aff name <<< "$spec"
        dev=$d1:$d2:$d3
        mkdir -p "$T/sys/bus/pci/devices/$dev/msi_irqs" "$T/proc/irq/$irq"
        : > "$T/sys/bus/pci/devices/$dev/msi_irqs/$irq"
        echo "$aff" > "$T/proc/irq/$irq/smp_affinity_list"
        echo " $irq:  0  0  IR-PCI-MSI 1-edge      $name" >> "$T/proc/interrupts"
    done
}
aff() { cat "$T/proc/irq/$1/smp_affinity_list"; }
run() { "$NG" irq --topology "$X" --procfs-root "$T/proc" --sysfs-root "$T/sys" \
            --state-dir "$T/state" --gpus $GPU "$@"; }
# The node's cpus, from the planner (one rank on that GPU gets its whole node).
NODE=$("$NG" plan --json --topology "$X" --gpus $GPU | jq -r .cpus)

fake
out=$(run --check 2>&1); rc=$?
st() { awk -v q="$1" '$1 == q {print $NF}' <<< "$out"; }
[ $rc -eq 0 ] && [ "$(st 100) $(st 101) $(st 200) $(st 201)" = "spread remote local remote" ] &&
    grep -q "4 IRQ(s), 3 routed outside" <<< "$out" && grep -q "mlx5_1" <<< "$out" &&
    pass check-names-remote-and-spread || fail check-names-remote-and-spread "rc=$rc $out"

out=$(run --apply --job 7 --avoid-cpus 42-45 2>&1); rc=$?
want=$(python3 -c "import sys
s=set()
for p in sys.argv[1].split(','):
    a,_,b=p.partition('-'); s.update(range(int(a),int(b or a)+1))
s-=set(range(42,46)); l=sorted(s); r=[]; i=0
while i<len(l):
    j=i
    while j+1<len(l) and l[j+1]==l[j]+1: j+=1
    r.append(str(l[i]) if i==j else '%d-%d'%(l[i],l[j])); i=j+1
print(','.join(r))" "$NODE")
[ $rc -eq 0 ] && [ "$(aff 100) $(aff 101) $(aff 200) $(aff 201)" = "$want $want 42-55 $want" ] &&
    [ "$(grep -c '^7 ' "$T/state/irq.ledger")" = 3 ] && grep -q "steered 3 IRQ" <<< "$out" &&
    pass apply-steers-to-node-avoiding-rank-cpus ||
    fail apply-steers-to-node-avoiding-rank-cpus "rc=$rc want $want: $(aff 100) $(aff 101) $(aff 200) $(aff 201) $out"

echo 0-13 > "$T/proc/irq/101/smp_affinity_list"   # irqbalance moved one back
out=$(run --apply --job 8 2>&1)
[ "$(grep -c '^8 ' "$T/state/irq.ledger")" = 0 ] && [ "$(aff 101)" = 0-13 ] &&
    grep -q "1 IRQ(s) already steered by another job" <<< "$out" &&
    pass other-job-leaves-them || fail other-job-leaves-them "$out"

out=$(run --restore --job 7 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$(aff 100) $(aff 101) $(aff 200) $(aff 201)" = "0-223 0-13 42-55 0" ] &&
    ! grep -q '^7 ' "$T/state/irq.ledger" && pass restore-puts-every-value-back ||
    fail restore-puts-every-value-back "rc=$rc $(aff 100) $(aff 101) $(aff 200) $(aff 201) $out"

run --apply --job 9 >/dev/null 2>&1
rm -rf "$T/proc/irq/101"
out=$(run --restore --job 9 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "restored 2 IRQ(s); 1 IRQ(s) vanished" <<< "$out" &&
    [ "$(aff 100) $(aff 201)" = "0-223 0" ] && pass vanished-irq-named-others-restored ||
    fail vanished-irq-named-others-restored "rc=$rc $out"

out=$(run --nics mlx5_9 --check 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "unknown NIC 'mlx5_9' (this topology has: .*mlx5_0, mlx5_1, mlx5_2, mlx5_3)" <<< "$out" &&
    pass unknown-nic-named || fail unknown-nic-named "rc=$rc $out"

# A read-only /proc/irq/201: 100 and 101 are written first, then put back.
fake
if [ "$(id -u)" = 0 ] && mount --bind "$T/proc/irq/201" "$T/proc/irq/201" 2>/dev/null &&
   mount -o remount,bind,ro "$T/proc/irq/201" 2>/dev/null; then
    out=$(run --apply --job 10 2>&1); rc=$?
    [ $rc -eq 1 ] && grep -q "IRQ 201: .*Read-only file system; nothing changed" <<< "$out" &&
        [ "$(aff 100) $(aff 101) $(aff 200) $(aff 201)" = "0-223 0-13 42-55 0" ] &&
        ! grep -q '^10 ' "$T/state/irq.ledger" 2>/dev/null &&
        pass read-only-proc-irq-nothing-half-changed ||
        fail read-only-proc-irq-nothing-half-changed "rc=$rc $(aff 100) $(aff 101) $out"
    umount "$T/proc/irq/201"
else
    skip read-only-proc-irq-nothing-half-changed "needs root to bind-mount a read-only /proc/irq"
fi
ng_end
