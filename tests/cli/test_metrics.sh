#!/bin/bash
# numa-gpu metrics on fixture audit records (two hosts, a damaged line, a
# newer schema, a requeued job): every series agrees with what jq derives
# from the records, the file passes `promtool check metrics` (else
# node_exporter's own parser), the epilog example run twice counts a job
# once, counters only grow, gauges come from the hugepage and IRQ ledgers,
# and bad options or a corrupt state name the problem and leave the last
# file as it was.
source "$(dirname "$0")/lib.sh"
ROOT=$(pwd)
BIN=$(cd "$B" && pwd)
source "$(dirname "$0")/../prometheus.sh"
ng_suite metrics
ng_tmpdir metrics
ng_at_exit prom_stop
A=$T/audit; S=$T/state; TF=$T/textfile; SYS=$T/sys
mkdir -p "$A" "$TF" "$SYS/devices/system/node/node0" "$SYS/devices/system/node/node1"
mkdir -m 700 "$S"

# rec JOB STEP TASK HOST VERDICT [EXTRA-JSON-MEMBERS]: one schema-3 record line
rec() {
    printf '{"schema":3,"job":%s,"step":%s,"task":%s,"global_task":%s,"host":"%s","pid":%s,"user":"alice","uid":1000,"mode":"prefer","verdict":"%s"%s}\n' \
        "$1" "$2" "$3" "$3" "$4" $((1000 + $3)) "$5" "${6:+,$6}"
}
HP='"hugepages":{"pagesize_kb":2048,"pages":4,"by_node":{"1":4}}'
{
    rec 11 0 0 n1 local "\"local_pct\":100.0,\"plugin_ms\":0.115,\"irqs_steered\":3,$HP"
    rec 11 0 1 n1 partial "\"local_pct\":80.0,\"plugin_ms\":0.25,\"irqs_steered\":3,$HP"
    rec 11 0 2 n2 local "\"local_pct\":99.5,\"plugin_ms\":0.2,\"irqs_steered\":5"
    rec 11 1 0 n1 refused '"error":"strict: GPU node 1 has no memory here","plugin_ms":0.09'
    echo '{"schema":3,"job":11,"step":1,"task":1,"host":"n1","verd'
} > "$A/11.json"
{
    rec 12 0 0 n1 remote '"local_pct":12.5,"plugin_ms":1.5,"hugepages":{"pagesize_kb":1048576,"pages":1,"by_node":{"0":1}}'
    rec 12 0 1 n1 unbound '"local_pct":null,"error":"set_mempolicy: Operation not permitted"'
    rec 12 0 2 n1 later
    echo '{"schema":9,"job":12,"step":0,"task":3,"host":"n1","verdict":"local"}'
    rec 12 0 4 n1 skipped
} > "$A/12.json"
# What the plugin's ledgers hold now (formats of lib/hugepages.c, lib/irq.c).
printf '%s\n' "# numa-gpu hugepage ledger v1: job step task node page_kB added owner_pid owner_start" \
    "50 0 0 1 2048 4 1 1" "50 0 1 1 2048 2 1 1" "51 0 0 0 2048 3 1 1" > "$S/hugepages.ledger"
printf '%s\n' "# numa-gpu irq ledger v1: job irq busid old_affinity new_affinity" \
    "50 300 0000:01:00.0 0-3 0-1" "50 301 0000:01:00.0 0-3 0-1" "51 310 0000:11:00.0 0-3 2-3" \
    > "$S/irq.ledger"
chmod 600 "$S"/*.ledger
run() { "$NG" metrics --audit-dir "$A" --state-dir "$S" --sysfs-root "$SYS" --host n1 "$@"; }
P=$TF/numa_gpu.prom

# --- every series agrees with the records
out=$(run --job 11 --job 12 --textfile-dir "$TF" 2>&1); rc=$?
prom_expect "$P" n1 "$A/11.json" "$A/12.json" > "$T/want" 2>"$T/jq.err"
n=$(wc -l < "$T/want")
ng_nonempty expected-series "$n"
diff=$(prom_compare "$T/want" "$P")
[ $rc -eq 0 ] && [ "$n" -ge 30 ] && [ -z "$diff" ] && grep -q "wrote $P" <<< "$out" &&
    pass series-agree-with-records ||
    fail series-agree-with-records "rc=$rc $out; $(cat "$T/jq.err") $n expected series; $diff"
# the records of n2 and the unknown verdict are where they belong
[ "$(prom_value "$P" 'numa_gpu_tasks_total{verdict="other"}')" = 1 ] &&
    [ "$(prom_value "$P" 'numa_gpu_step_irqs_steered_total')" = 3 ] &&
    [ "$(prom_value "$P" 'numa_gpu_audit_lines_skipped_total{reason="future"}')" = 1 ] &&
    pass other-host-and-verdict-bounded || fail other-host-and-verdict-bounded "$(grep -E 'other|irqs|future' "$P")"

# --- gauges: what `numa-gpu hugepages status` and the IRQ ledger say now
st=$("$NG" hugepages status --state-dir "$S" 2>&1)
hp_ok=1
for node in 0 1; do
    want=$(awk -v want="$node" '{ for (i = 1; i < NF; i++) if ($i == "node") { n = $(i + 1); c = $(i + 2); k = $(i + 4) }
                                 sub("kB", "", k); if (n == want) s += c * k * 1024 } END { print s + 0 }' <<< "$st")
    got=$(prom_value "$P" "numa_gpu_hugepages_reserved_bytes{node=\"$node\"}")
    [ "$want" = "$got" ] && [ "$want" -gt 0 ] || { hp_ok=0; hp_why="node $node: want $want got '$got' ($st)"; }
done
irqs=$(grep -vc '^#' "$S/irq.ledger")
[ $hp_ok = 1 ] && [ "$(prom_value "$P" numa_gpu_irqs_steered)" = "$irqs" ] &&
    pass gauges-from-the-ledgers || fail gauges-from-the-ledgers "${hp_why:-irqs want $irqs} $(grep -E 'reserved_bytes\{|irqs_steered ' "$P")"

# --- the format, as Prometheus reads it
if command -v promtool >/dev/null; then
    lint=$(promtool check metrics < "$P" 2>&1); rc=$?
    [ $rc -eq 0 ] && [ -z "$lint" ] && pass promtool-check-metrics ||
        fail promtool-check-metrics "rc=$rc: $lint"
elif prom_start "$TF" "$T/node_exporter.log"; then
    prom_get "$T/scrape" && [ "$(prom_value "$T/scrape" node_textfile_scrape_error)" = 0 ] &&
        [ "$(prom_value "$T/scrape" 'numa_gpu_tasks_total{verdict="local"}')" = 1 ] &&
        pass node-exporter-parses-it || fail node-exporter-parses-it "$(cat "$T/node_exporter.log")"
    prom_stop
else
    skip format-check "neither promtool (apt-get install prometheus) nor node_exporter: $PROM_WHY"
fi

# --- the example alerts (etc/prometheus) fire where the admin guide says:
# a node with 1 remote task in 11 over an hour (not one with 1 in 101), and
# plugin errors within the last hour. Their annotations are read from the
# rules file (raw YAML strings), with the instance filled in.
RULES=$ROOT/etc/prometheus/numa-gpu-alerts.yml
ann() {   # ann ALERT KEY: the annotation's raw double-quoted YAML text
    sed -n "/alert: $1\$/,/alert:/s/^ *$2: \(\".*\"\)\$/\1/p" "$RULES" | sed 's/{{ \$labels.instance }}/gpu1:9100/'
}
if command -v promtool >/dev/null; then
    cat > "$T/alerts-test.yml" <<EOF
rule_files: [ "$RULES" ]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - { series: 'numa_gpu_tasks_total{instance="gpu1:9100",verdict="local"}', values: '0+10x120' }
      - { series: 'numa_gpu_tasks_total{instance="gpu1:9100",verdict="remote"}', values: '0+1x120' }
      - { series: 'numa_gpu_tasks_total{instance="gpu2:9100",verdict="local"}', values: '0+100x120' }
      - { series: 'numa_gpu_tasks_total{instance="gpu2:9100",verdict="remote"}', values: '0+1x120' }
      - { series: 'numa_gpu_plugin_errors_total{instance="gpu1:9100"}', values: '0x60 1x60' }
      - { series: 'numa_gpu_plugin_errors_total{instance="gpu2:9100"}', values: '0x120' }
    alert_rule_test:
      - eval_time: 90m
        alertname: NumaGpuRemoteTasks
        exp_alerts:
          - exp_labels: { instance: "gpu1:9100", severity: warning }
            exp_annotations:
              summary: $(ann NumaGpuRemoteTasks summary)
              description: $(ann NumaGpuRemoteTasks description)
      - eval_time: 30m
        alertname: NumaGpuPluginErrors
        exp_alerts: []
      - eval_time: 90m
        alertname: NumaGpuPluginErrors
        exp_alerts:
          - exp_labels: { instance: "gpu1:9100", severity: warning }
            exp_annotations:
              summary: $(ann NumaGpuPluginErrors summary)
              description: $(ann NumaGpuPluginErrors description)
EOF
    out=$(promtool check rules "$RULES" 2>&1 && promtool test rules "$T/alerts-test.yml" 2>&1); rc=$?
    [ $rc -eq 0 ] && [ "$(grep -c 'summary: "' "$T/alerts-test.yml")" = 2 ] &&
        pass example-alerts-fire || fail example-alerts-fire "rc=$rc $out"
else
    skip example-alerts-fire "promtool is not installed (apt-get install prometheus)"
fi

# --- the epilog example, run as slurmd would, twice for the same job: counted once
cp "$P" "$T/before.prom"
epilog() {
    env -i PATH="$BIN:/usr/bin:/bin" SLURM_JOB_ID="$1" SLURMD_NODENAME=n1 \
        NUMA_GPU_AUDIT_DIR="$A" NUMA_GPU_STATE_DIR="$S" NUMA_GPU_TEXTFILE_DIR="$TF" \
        ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${LSAN_OPTIONS:+LSAN_OPTIONS=$LSAN_OPTIONS} \
        sh "$ROOT/etc/epilog.d/numa-gpu-summary.sh" 2>"$T/epilog.err"
}
epilog 11; rc1=$?; epilog 12; rc2=$?
grep -v '^numa_gpu_hugepages_reserved_bytes\|^numa_gpu_irqs_steered ' "$T/before.prom" > "$T/a"
grep -v '^numa_gpu_hugepages_reserved_bytes\|^numa_gpu_irqs_steered ' "$P" > "$T/b"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && cmp -s "$T/a" "$T/b" && pass epilog-again-counts-nothing-twice ||
    fail epilog-again-counts-nothing-twice "rc=$rc1/$rc2 $(cat "$T/epilog.err") $(diff "$T/a" "$T/b" | head -5)"

# --- a requeued job appends to its file: only the new lines count, counters
# grow; its step 0 ran again, so its IRQs count again (jq's group by step
# cannot see that: that series is derived from the value before).
rec 11 0 0 n1 local '"local_pct":95.0,"plugin_ms":0.3,"irqs_steered":2' >> "$A/11.json"
epilog 11
prom_expect "$P" n1 "$A/11.json" "$A/12.json" | grep -v '^numa_gpu_step_irqs_steered_total ' > "$T/want2"
echo "numa_gpu_step_irqs_steered_total $(( $(prom_value "$T/before.prom" numa_gpu_step_irqs_steered_total) + 2 ))" >> "$T/want2"
diff=$(prom_compare "$T/want2" "$P")
grew=$(join <(grep '^numa_gpu_.*_total' "$T/before.prom" | sort) <(grep '^numa_gpu_.*_total' "$P" | sort) |
       awk '$3 < $2 {print $1 " went from " $2 " to " $3}')
[ -z "$diff" ] && [ -z "$grew" ] &&
    [ "$(prom_value "$P" 'numa_gpu_tasks_total{verdict="local"}')" = 2 ] &&
    pass requeue-counts-new-lines-counters-only-grow ||
    fail requeue-counts-new-lines-counters-only-grow "$diff $grew $(cat "$T/epilog.err")"

# --- a job without records still refreshes the file (gauges); stdout output
rm "$S/irq.ledger"
out=$(run --job 4242 --output - 2>"$T/err"); rc=$?
[ $rc -eq 0 ] && [ "$(prom_value <(echo "$out") numa_gpu_irqs_steered)" = 0 ] &&
    grep -q "job 4242: 0 record(s) of n1 counted" "$T/err" && pass job-without-records-to-stdout ||
    fail job-without-records-to-stdout "rc=$rc $(cat "$T/err")"

# --- errors name the bad value; the last file stays as it was
cp "$P" "$T/last.prom"
err_case() {   # name want-rc want-text args...
    local name=$1 wrc=$2 text=$3 out rc
    shift 3
    out=$("$@" 2>&1); rc=$?
    [ $rc -eq "$wrc" ] && grep -qF -- "$text" <<< "$out" && cmp -s "$P" "$T/last.prom" &&
        pass "$name" || fail "$name" "rc=$rc (want $wrc) '$out' (want '$text')"
}
err_case bad-job 2 "invalid --job 'x1' (expected a job id 1..4294967295)" run --job x1 --textfile-dir "$TF"
err_case job-zero 2 "invalid --job '0'" run --job 0 --textfile-dir "$TF"
err_case output-not-prom 2 "invalid --output '$T/m.txt' (expected FILE.prom" run --output "$T/m.txt"
err_case textfile-dir-missing 1 "textfile directory '$T/nope': No such file or directory" run --textfile-dir "$T/nope"
err_case unknown-option 2 "metrics: unknown argument '--bogus'" run --bogus
printf 'tasks local many\n' >> "$S/metrics.state"
err_case corrupt-state-refused 1 "metrics state $S/metrics.state is corrupt (line" run --job 11 --textfile-dir "$TF"
chmod 777 "$S"
err_case unsafe-state-dir 1 "must be a directory owned by uid" run --textfile-dir "$TF"
chmod 700 "$S"
"$NG" --help | grep -q "^ *numa-gpu metrics" && "$NG" metrics --help | grep -q -- "--textfile-dir" &&
    pass help-lists-metrics || fail help-lists-metrics "$("$NG" metrics --help 2>&1)"
ng_end
