#!/bin/bash
# The layers the developer guide promises, checked on the built objects and
# the sources: the library's file graph is one-way (no file calls back into
# a file that calls it), placement code includes no service header, the
# plugin makes no strict/prefer decision, the CLI parses no plugstack
# setting itself. Seconds, no root.
set -u
cd "$(dirname "$0")/.."
source tests/harness.sh
ng_suite layers
B=${NUMA_GPU_BUILD:-build}
objs=$(make --no-print-directory -s print-lib-src | tr ' ' '\n' | sed -n "s:^lib/\(.*\)\.c$:$B/lib/\1.o:p")
missing=""
for o in $objs; do [ -f "$o" ] || missing="$missing $o"; done
[ -z "$missing" ] || { fail objects "not built (make all builds them):$missing"; ng_end; }
graph=$(python3 tests/layers/callgraph.py $objs)
# a graph that lost its edges (nm's format changed?) would show no cycle
ng_nonempty "call-graph-edges" "$(grep -c '^EDGE' <<< "$graph")" &&
    { [ "$(grep -c '^EDGE' <<< "$graph")" -ge 40 ] || fail call-graph-edges "only $(grep -c '^EDGE' <<< "$graph") edges"; }
cycles=$(grep '^CYCLE' <<< "$graph")
[ -z "$cycles" ] && pass one-way-file-graph || fail one-way-file-graph "$(tr '\n' ';' <<< "$cycles")"

# Placement: everything that decides or puts into effect where a rank
# goes. Services: what runs beside the tasks or reads their outcome.
placement="util pci spawn xmlcheck topo accel nic gpu assign plan cpuopt visible step gresread
           gresconf devcheck slurmstep hostplans apply cgroup output hints"
services="audit auditstep sample record report metrics hugepages irq draw perf node calibrate
          ledger slots"
bad=""
n=0
for f in $placement; do
    [ -f "lib/$f.c" ] || { bad="$bad $f.c(missing)"; continue; }
    n=$((n + 1))
    for s in $services; do
        grep -q "#include \"private/$s.h\"" "lib/$f.c" && bad="$bad $f.c:$s.h"
    done
done
ng_nonempty placement-files "$n" &&
    { [ -z "$bad" ] && pass placement-includes-no-service-header || fail placement-includes-no-service-header "$bad"; }
# a placement file's calls into a service (through a header of its own)
bad=""
while read -r _ a b sym; do
    case " $placement " in *" $a "*) ;; *) continue ;; esac
    case " $(echo $services) " in *" $b "*) bad="$bad $a->$b($sym)" ;; esac
done < <(grep '^EDGE' <<< "$graph")
[ -z "$bad" ] && pass placement-calls-no-service || fail placement-calls-no-service "$bad"

# The plugin translates: the modes' rules are lib/node.c's.
hits=$(grep -n 'NG_MODE_STRICT\|NG_MODE_PREFER\|NG_MODE_INTERLEAVE' spank/*.c)
[ -z "$hits" ] && pass plugin-makes-no-mode-decision || fail plugin-makes-no-mode-decision "$hits"
# The CLI's plugstack-valued options go through the settings table.
hits=$(grep -nE 'ng_(smt|cpu_scope|visible|reserve|method)_parse|strcmp\((arg|optarg), "(use|avoid|pci|off|export)"\)' contrib/numa-gpu/*.c)
[ -z "$hits" ] && pass cli-parses-no-plugstack-setting || fail cli-parses-no-plugstack-setting "$hits"
ng_end
