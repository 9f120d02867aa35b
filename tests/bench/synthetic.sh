#!/bin/sh
# synthetic.sh "SYNTHETIC" GPUS_PER_NUMA OUT.xml [EVERY]: an hwloc synthetic
# topology (e.g. "pack:8 numa:8 core:8 pu:2") exported as XML with
# GPUS_PER_NUMA NVIDIA 3D controllers behind a host bridge in every EVERY-th
# NUMA node's group (default every one).
set -e
lstopo-no-graphics -i "$1" --of xml - | awk -v per="$2" -v every="${4:-1}" '
    { print }
    /<object type="Group"/ && (g++ % every) == 0 {
        for (i = 0; i < per; i++) {
            bus++
            printf "<object type=\"Bridge\" gp_index=\"%d\" bridge_type=\"0-1\" depth=\"0\" bridge_pci=\"0000:[%02x-%02x]\">\n", 900000 + 2 * bus, bus, bus
            printf "<object type=\"PCIDev\" gp_index=\"%d\" pci_busid=\"0000:%02x:00.0\" pci_type=\"0302 [10de:2330] [10de:16c0] a1\" pci_link_speed=\"0.000000\"/>\n", 900001 + 2 * bus, bus
            printf "</object>\n"
        }
    }' > "$3"
