#!/bin/sh
# lab-topology.sh OUT.xml: an hwloc XML of *this* machine's CPUs split into
# two NUMA domains (first half node 0, second half node 1), one package and
# one NVIDIA-class GPU each (0000:01:00.0 on node 0, 0000:02:00.0 on node 1),
# and one InfiniBand HCA each behind its own host bridge (mlx5_0 at
# 0000:11:00.0 on node 0, mlx5_1 at 0000:12:00.0 on node 1, port 1 active).
# CPU binding with it is real (the PUs exist); memory node 1 does not exist
# on a one-node machine, which the plan reports honestly.
set -e
out=$1
n=$(getconf _NPROCESSORS_ONLN)
[ "$n" -ge 2 ] || { echo "lab-topology: need at least 2 CPUs, have $n" >&2; exit 1; }
[ "$n" -le 60 ] || n=60
half=$((n / 2))
mask() { printf '0x%x' $(( ((1 << ($2 - $1)) - 1) << $1 )); }
all=$(mask 0 "$n"); m0=$(mask 0 "$half"); m1=$(mask "$half" "$n")
gp=10
pkg() { # pkg NODE FIRST LAST MASK BUS
    printf '    <object type="Package" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s">\n' \
        "$1" "$4" "$4" "$(mask "$1" $(($1 + 1)))" "$(mask "$1" $(($1 + 1)))" $((gp += 1))
    printf '      <object type="NUMANode" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s" local_memory="1073741824"/>\n' \
        "$1" "$4" "$4" "$(mask "$1" $(($1 + 1)))" "$(mask "$1" $(($1 + 1)))" $((gp += 1))
    cpu=$2
    while [ "$cpu" -le "$3" ]; do
        c=$(mask "$cpu" $((cpu + 1)))
        printf '      <object type="Core" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s">\n' \
            "$cpu" "$c" "$c" "$(mask "$1" $(($1 + 1)))" "$(mask "$1" $(($1 + 1)))" $((gp += 1))
        printf '        <object type="PU" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s"/>\n' \
            "$cpu" "$c" "$c" "$(mask "$1" $(($1 + 1)))" "$(mask "$1" $(($1 + 1)))" $((gp += 1))
        printf '      </object>\n'
        cpu=$((cpu + 1))
    done
    printf '      <object type="Bridge" gp_index="%s" bridge_type="0-1" depth="0" bridge_pci="0000:[%s-%s]">\n' $((gp += 1)) "$5" "$5"
    printf '        <object type="PCIDev" gp_index="%s" pci_busid="0000:%s:00.0" pci_type="0302 [10de:2330] [10de:16c0] a1" pci_link_speed="0.000000"/>\n' $((gp += 1)) "$5"
    printf '      </object>\n'
    printf '      <object type="Bridge" gp_index="%s" bridge_type="0-1" depth="0" bridge_pci="0000:[1%s-1%s]">\n' $((gp += 1)) "${5#0}" "${5#0}"
    printf '        <object type="PCIDev" gp_index="%s" pci_busid="0000:1%s:00.0" pci_type="0207 [15b3:101b] [15b3:0007] 00" pci_link_speed="31.507692">\n' $((gp += 1)) "${5#0}"
    printf '          <object type="OSDev" gp_index="%s" name="mlx5_%s" subtype="OpenFabrics" osdev_type="3">\n' $((gp += 1)) "$1"
    printf '            <info name="Port1State" value="4"/>\n          </object>\n'
    printf '        </object>\n      </object>\n    </object>\n'
}
{
    printf '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE topology SYSTEM "hwloc2.dtd">\n<topology version="2.0">\n'
    printf '  <object type="Machine" os_index="0" cpuset="%s" complete_cpuset="%s" allowed_cpuset="%s" nodeset="0x3" complete_nodeset="0x3" allowed_nodeset="0x3" gp_index="1">\n' "$all" "$all" "$all"
    pkg 0 0 $((half - 1)) "$m0" 01
    pkg 1 "$half" $((n - 1)) "$m1" 02
    printf '  </object>\n'
    printf '  <distances2 type="NUMANode" nbobjs="2" kind="5" indexing="os">\n    <indexes length="4">0 1 </indexes>\n    <u64values length="12">10 20 20 10 </u64values>\n  </distances2>\n'
    printf '</topology>\n'
} > "$out"
