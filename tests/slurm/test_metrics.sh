#!/bin/bash
# Prometheus metrics from real jobs, served by the real node_exporter
# (Debian's prometheus-node-exporter on a free 127.0.0.1 port, textfile
# collector only): two lab nodes share the audit directory; slurmd runs
# etc/epilog.d/numa-gpu-summary.sh as its Epilog=, which counts each job's
# records of its own node into that node's textfile directory. While a job
# holds hugepages and steered IRQs, `numa-gpu metrics` on demand serves the
# gauges the ledgers hold; after the jobs (placed, refused, a daemon step),
# GET /metrics serves for lab1 exactly what jq derives from lab1's records,
# and lab2's file what it derives from lab2's.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
source tests/harness.sh
source tests/slurm/lab.sh
source tests/prometheus.sh
B=$LAB_BUILD
lab_suite slurm-metrics jq curl || ng_end
command -v prometheus-node-exporter >/dev/null || {
    skip all "prometheus-node-exporter is not installed (Debian: apt-get install prometheus-node-exporter)"
    ng_end; }
trap 'prom_stop; lab_stop' EXIT
lab_start 2 default=off || { fail lab-start "local cluster did not start"; ng_end; }
A=$LAB/audit; ST=$LAB/state; OUT=$LAB/out
mkdir -m 755 "$A"; mkdir -p "$OUT" "$LAB/textfile/lab1" "$LAB/textfile/lab2"
NR=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
HP=""
[ -w "$NR" ] && HP="--numa-gpu-hugepages=8M"

# Fake IRQs of the two GPUs, routed to the other node (as in test_slurm.sh).
N=$(nproc)
rng() { [ "$1" = "$2" ] && echo "$1" || echo "$1-$2"; }
N0=$(rng 0 $((N / 2 - 1))); N1=$(rng $((N / 2)) $((N - 1)))
for spec in 300:0000:01:00.0:$N1 301:0000:02:00.0:$N0; do
    IFS=: read -r irq d1 d2 d3 aff <<< "$spec"
    mkdir -p "$LAB/fake/sys/bus/pci/devices/$d1:$d2:$d3/msi_irqs" "$LAB/fake/proc/irq/$irq"
    : > "$LAB/fake/sys/bus/pci/devices/$d1:$d2:$d3/msi_irqs/$irq"
    echo "$aff" > "$LAB/fake/proc/irq/$irq/smp_affinity_list"
done
lab_plugstack default=off audit_dir="$A" audit_interval=1 irq=apply state_dir="$ST" \
    hugepages_max_per_job=64M

# The epilog as a site installs it. Both lab nodes are this machine: each
# gets its own textfile directory, and lab1 its metrics totals in the
# plugin's state_dir as a real node would (lab2's beside it).
cat > "$LAB/bin/epilog" <<EOF
#!/bin/sh
d=$ST; [ "\$SLURMD_NODENAME" = lab1 ] || d=$LAB/state-\$SLURMD_NODENAME
NUMA_GPU_AUDIT_DIR=$A NUMA_GPU_STATE_DIR=\$d NUMA_GPU_TEXTFILE_DIR=$LAB/textfile/\$SLURMD_NODENAME \
PATH=$B exec /bin/sh $ROOT/etc/epilog.d/numa-gpu-summary.sh
EOF
chmod 755 "$LAB/bin/epilog"
echo "Epilog=$LAB/bin/epilog" >> "$SLURM_CONF"
scontrol reconfigure
for _ in $(seq 1 40); do
    scontrol show config 2>/dev/null | grep -q "^Epilog *= *$LAB/bin/epilog" &&
        [ "$(sinfo -h -o '%T' | sort -u)" = idle ] && break
    sleep 0.25
done

prom_start "$LAB/textfile/lab1" "$LAB/log/node_exporter.log" ||
    { fail node-exporter-start "$PROM_WHY"; ng_end; }

# --- while a job holds hugepages and steered IRQs: the gauges, on demand
# (every srun under a timeout: a failed epilog drains the node, and the
# next job would wait for it forever)
timeout 60 srun -N2 -n4 --ntasks-per-node=2 --gpus-per-task=1 --numa-gpu=prefer $HP \
    sh -c 'echo job=$SLURM_JOB_ID; '"$B"'/memhelper 8 >/dev/null; sleep 4' >"$OUT/j1" 2>&1 &
J1=$!
held=""
for _ in $(seq 1 60); do
    if [ -s "$ST/irq.ledger" ] && grep -qv '^#' "$ST/irq.ledger" &&
       { [ -z "$HP" ] || grep -qv '^#' "$ST/hugepages.ledger" 2>/dev/null; }; then
        held=1; break
    fi
    sleep 0.1
done
sleep 0.3   # every task has reserved by now (they ask at task start)
"$B/numa-gpu" metrics --state-dir "$ST" --audit-dir "$A" --host lab1 \
    --textfile-dir "$LAB/textfile/lab1" >"$OUT/now" 2>&1
st=$("$B/numa-gpu" hugepages status --state-dir "$ST" 2>&1)
irqs=$(grep -vc '^#' "$ST/irq.ledger" 2>/dev/null)
prom_get "$OUT/scrape-now"
hp_want=$(awk '{ for (i = 1; i < NF; i++) if ($i == "node" && $(i + 1) == 0) { c = $(i + 2); k = $(i + 4) }
                 sub("kB", "", k); s += c * k * 1024; c = 0 } END { print s + 0 }' <<< "$st")
hp_got=$(prom_value "$OUT/scrape-now" 'numa_gpu_hugepages_reserved_bytes{node="0"}')
irq_got=$(prom_value "$OUT/scrape-now" numa_gpu_irqs_steered)
if [ -n "$held" ] && [ "$irq_got" = "$irqs" ] && [ "$irqs" -gt 0 ] && [ "$hp_got" = "$hp_want" ] &&
   { [ -z "$HP" ] || [ "$hp_want" -gt 0 ]; }; then
    pass gauges-served-while-job-holds-them
else
    fail gauges-served-while-job-holds-them "held=$held irqs ledger $irqs served '$irq_got'; hugepages want $hp_want served '$hp_got' ($st); $(cat "$OUT/now")"
fi
[ -n "$HP" ] || skip hugepage-gauge "$NR is not writable here: the hugepage gauge was 0 throughout"
wait $J1
jid1=$(sed -n 's/^job=//p' "$OUT/j1" | head -1)

# --- a strict refusal (the GPU on lab node 1 has no memory here) and an MPI
# daemon step (skipped)
timeout 60 srun -n2 --gpus-per-task=1 --numa-gpu=strict -w lab1 true >"$OUT/j2" 2>&1
cp "$B/memhelper" "$LAB/bin/orted"
timeout 60 srun -n1 -c2 --gpus=1 --numa-gpu=prefer -w lab1 "$LAB/bin/orted" >"$OUT/j3" 2>&1
# A failed Epilog= would have drained the node: say so rather than time out.
drained=$(sinfo -h -N -o '%N %T %E' | grep -Ei 'drain|down|fail')
[ -z "$drained" ] || fail epilog-ran-cleanly "$drained; $(grep 'epilog failed' "$LAB"/log/slurmd-lab*.log | head -3)"

# Every job's epilog has run on lab1 once its record count shows there.
jobs=$(ls "$A"/*.json 2>/dev/null | wc -l)
ng_nonempty job-record-files "$jobs"
want_jobs=$(cat "$A"/*.json | jq -r 'select(.host == "lab1") | .job' | sort -u | wc -l)
for _ in $(seq 1 80); do
    [ "$(prom_value "$LAB/textfile/lab1/numa_gpu.prom" numa_gpu_jobs_total 2>/dev/null)" = "$want_jobs" ] &&
        [ -s "$LAB/textfile/lab2/numa_gpu.prom" ] && break
    sleep 0.25
done

# --- GET /metrics: what lab1's records say, and nothing of lab2's
prom_get "$OUT/scrape"
prom_expect "$OUT/scrape" lab1 "$A"/*.json > "$OUT/want1"
n=$(wc -l < "$OUT/want1")
diff=$(prom_compare "$OUT/want1" "$OUT/scrape")
tasks=$(cat "$A"/*.json | jq -r 'select(.host == "lab1") | .task' | wc -l)
[ "$n" -ge 30 ] && [ "$tasks" -ge 4 ] && [ -z "$diff" ] && [ "$want_jobs" -ge 3 ] &&
    [ "$(prom_value "$OUT/scrape" node_textfile_scrape_error)" = 0 ] &&
    pass node-exporter-serves-what-the-jobs-produced ||
    fail node-exporter-serves-what-the-jobs-produced "jobs $want_jobs, lab1 tasks $tasks, $n series: $diff; $(grep -v '^#' "$OUT/scrape" | head -40)"
# Each verdict the jobs produced shows up under its own label.
seen=$(cat "$A"/*.json | jq -r 'select(.host == "lab1") | .verdict' | sort -u | paste -sd' ' -)
bad=""
for v in $seen; do
    [ "$(prom_value "$OUT/scrape" "numa_gpu_tasks_total{verdict=\"$v\"}")" -ge 1 ] 2>/dev/null || bad="$bad $v"
done
case " $seen " in *" skipped "*) ;; *) bad="$bad (no skipped record)" ;; esac
[ -n "$seen" ] && [ -z "$bad" ] && pass verdict-labels || fail verdict-labels "missing:$bad (seen: $seen)"
# lab2 counted its own records only (its file, same rule).
prom_expect "$LAB/textfile/lab2/numa_gpu.prom" lab2 "$A"/*.json > "$OUT/want2"
diff2=$(prom_compare "$OUT/want2" "$LAB/textfile/lab2/numa_gpu.prom")
t2=$(cat "$A"/*.json | jq -r 'select(.host == "lab2") | .task' | wc -l)
[ "$t2" -ge 2 ] && [ -z "$diff2" ] && pass each-node-counts-its-own-records ||
    fail each-node-counts-its-own-records "lab2 tasks $t2: $diff2"
# No label names a job or a user.
grep '^numa_gpu_' "$OUT/scrape" | grep -oE '\{[^}]*\}' | grep -oE '[a-z_]+=' | sort -u > "$OUT/labels"
[ "$(paste -sd' ' "$OUT/labels")" = "le= node= reason= verdict=" ] && pass labels-bounded ||
    fail labels-bounded "$(paste -sd' ' "$OUT/labels")"

# --- the epilog of a job already counted, run again by hand: nothing moves
before=$(grep '^numa_gpu_.*_total' "$LAB/textfile/lab1/numa_gpu.prom")
env -i SLURM_JOB_ID="$jid1" SLURMD_NODENAME=lab1 "$LAB/bin/epilog"
after=$(grep '^numa_gpu_.*_total' "$LAB/textfile/lab1/numa_gpu.prom")
[ -n "$jid1" ] && [ "$before" = "$after" ] && pass epilog-again-counts-nothing-twice ||
    fail epilog-again-counts-nothing-twice "job '$jid1': $(diff <(echo "$before") <(echo "$after"))"
ng_end
