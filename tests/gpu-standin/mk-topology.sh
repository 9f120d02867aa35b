#!/bin/sh
# mk-topology.sh OUT.xml LOC1 LOC2: an hwloc XML of *this* machine's CPUs
# split into two NUMA nodes (first half node 0, second half node 1), with two
# NVIDIA-class GPUs, 0000:01:00.0 and 0000:02:00.0, whose firmware locality
# is LOC1 and LOC2: a node (0 or 1), or m (under the Machine: firmware gave
# none, as on the corpus's jsc-juropa3-...-no-pci-locality machine). CPU
# binding with it is real (the PUs exist); memory node 1 does not exist on a
# one-node machine, which numa-gpu calibrate says.
set -e
out=$1 loc1=$2 loc2=$3
n=$(getconf _NPROCESSORS_ONLN)
[ "$n" -ge 2 ] || { echo "mk-topology: need at least 2 CPUs, have $n" >&2; exit 1; }
[ "$n" -le 60 ] || n=60
half=$((n / 2))
mask() { printf '0x%x' $(( ((1 << ($2 - $1)) - 1) << $1 )); }
gp=10
gpu() { # gpu BUS: a bridge with one 3D controller behind it
    printf '      <object type="Bridge" gp_index="%s" bridge_type="0-1" depth="0" bridge_pci="0000:[%s-%s]">\n' $((gp += 1)) "$1" "$1"
    printf '        <object type="PCIDev" gp_index="%s" pci_busid="0000:%s:00.0" pci_type="0302 [10de:2330] [10de:16c0] a1" pci_link_speed="31.5"/>\n' $((gp += 1)) "$1"
    printf '      </object>\n'
}
pkg() { # pkg NODE FIRST LAST
    m=$(mask "$2" $(($3 + 1))) nm=$(mask "$1" $(($1 + 1)))
    printf '    <object type="Package" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s">\n' "$1" "$m" "$m" "$nm" "$nm" $((gp += 1))
    printf '      <object type="NUMANode" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s" local_memory="1073741824"/>\n' "$1" "$m" "$m" "$nm" "$nm" $((gp += 1))
    cpu=$2
    while [ "$cpu" -le "$3" ]; do
        c=$(mask "$cpu" $((cpu + 1)))
        printf '      <object type="Core" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s">\n' "$cpu" "$c" "$c" "$nm" "$nm" $((gp += 1))
        printf '        <object type="PU" os_index="%s" cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s" gp_index="%s"/>\n' "$cpu" "$c" "$c" "$nm" "$nm" $((gp += 1))
        printf '      </object>\n'
        cpu=$((cpu + 1))
    done
    [ "$loc1" = "$1" ] && gpu 01
    [ "$loc2" = "$1" ] && gpu 02
    printf '    </object>\n'
}
all=$(mask 0 "$n")
{
    printf '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE topology SYSTEM "hwloc2.dtd">\n<topology version="2.0">\n'
    printf '  <object type="Machine" os_index="0" cpuset="%s" complete_cpuset="%s" allowed_cpuset="%s" nodeset="0x3" complete_nodeset="0x3" allowed_nodeset="0x3" gp_index="1">\n' "$all" "$all" "$all"
    pkg 0 0 $((half - 1))
    pkg 1 "$half" $((n - 1))
    [ "$loc1" = m ] && gpu 01
    [ "$loc2" = m ] && gpu 02
    printf '  </object>\n'
    printf '  <distances2 type="NUMANode" nbobjs="2" kind="5" indexing="os">\n    <indexes length="4">0 1 </indexes>\n    <u64values length="12">10 20 20 10 </u64values>\n  </distances2>\n'
    printf '</topology>\n'
} > "$out"
