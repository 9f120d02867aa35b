# node_exporter (Debian's prometheus-node-exporter) for the metrics suites:
# source it, then
#   prom_start DIR LOG   serve DIR's *.prom on a free 127.0.0.1 port, only the
#                        textfile collector; sets PROM_URL and PROM_PID, or
#                        returns 1 with PROM_WHY
#   prom_get FILE        GET PROM_URL (curl) into FILE
#   prom_value FILE SERIES   the value of SERIES ('name' or 'name{l="v"}') in
#                        an exposition FILE, as a plain decimal ("" if none)
#   prom_stop            stop it (by PID)
PROM_BIN=${PROM_BIN:-prometheus-node-exporter}
PROM_PID=""
PROM_URL=""
PROM_WHY=""

prom_start() {
    local dir=$1 log=$2 try port i
    command -v "$PROM_BIN" >/dev/null || {
        PROM_WHY="$PROM_BIN is not installed (apt-get install prometheus-node-exporter)"; return 1; }
    command -v curl >/dev/null || { PROM_WHY="curl is not installed"; return 1; }
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 10000))
        ss -Htln 2>/dev/null | awk '{print $4}' | grep -q ":$port\$" && continue
        "$PROM_BIN" --collector.disable-defaults --collector.textfile \
            --collector.textfile.directory="$dir" --web.disable-exporter-metrics \
            --web.listen-address="127.0.0.1:$port" >"$log" 2>&1 &
        PROM_PID=$!
        for i in $(seq 1 50); do
            if curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null; then
                PROM_URL="http://127.0.0.1:$port/metrics"
                return 0
            fi
            kill -0 "$PROM_PID" 2>/dev/null || break
            sleep 0.1
        done
        prom_stop
    done
    PROM_WHY="node_exporter did not start: $(tail -2 "$log" | tr '\n' ' ')"
    return 1
}

prom_get() { curl -fsS --max-time 10 -o "$1" "$PROM_URL"; }

prom_value() {
    awk -v s="$2" 'index($0, s " ") == 1 { printf "%.12g\n", $NF + 0; exit }' "$1"
}

prom_stop() {
    if [ -n "$PROM_PID" ]; then
        kill "$PROM_PID" 2>/dev/null
        wait "$PROM_PID" 2>/dev/null
    fi
    PROM_PID=""
}

# prom_expect PROMFILE HOST RECORDFILES...: the series (one "SERIES VALUE"
# line each) that numa-gpu metrics must give for these audit record files,
# derived independently with jq: this host's records by verdict, the
# histograms at the bucket bounds PROMFILE names, errors, hugepage bytes by
# node, IRQs once per step, jobs, and the lines that are no record.
prom_expect() {
    local prom=$1 host=$2 lle ple max
    shift 2
    # the newest record schema this numa-gpu reads (later ones are "future")
    max=$(sed -n 's/^#define NG_AUDIT_SCHEMA \([0-9][0-9]*\).*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../lib/private/record.h")
    lle=$(grep -o 'numa_gpu_task_local_pages_ratio_bucket{le="[^"+]*"}' "$prom" |
          sed 's/.*le="\(.*\)"}/"\1"/' | paste -sd, -)
    ple=$(grep -o 'numa_gpu_plugin_task_seconds_bucket{le="[^"+]*"}' "$prom" |
          sed 's/.*le="\(.*\)"}/"\1"/' | paste -sd, -)
    cat "$@" | jq -R -n -r --arg h "$host" --argjson max "${max:-0}" --argjson lle "[$lle]" --argjson ple "[$ple]" '
      def rec: type == "object" and (.schema | type) == "number" and .schema <= $max and
               has("job") and has("step") and has("task") and (.host | type) == "string" and
               (.verdict | type) == "string";
      # a bound in record units (percent, ms), rounded as lib/metrics.c writes it
      def units($u): (tonumber * $u * 1e6 | round) / 1e6;
      def hist($name; $les; $u; $vals):
        ($les[] as $le | "\($name)_bucket{le=\"\($le)\"} \([$vals[] | select(. <= ($le | units($u)))] | length)"),
        "\($name)_count \($vals | length)",
        "\($name)_sum \([$vals[] / $u] | add // 0)";
      [inputs | . as $line | (try fromjson catch "damaged")] as $all
      | ["local","partial","remote","unknown","nogpu","overcommit","skipped","refused","unbound"] as $known
      | [$all[] | select(rec and .host == $h)] as $r
      | ($known[] as $v | "numa_gpu_tasks_total{verdict=\"\($v)\"} \([$r[] | select(.verdict == $v)] | length)"),
        "numa_gpu_tasks_total{verdict=\"other\"} \([$r[] | select(.verdict as $v | any($known[]; . == $v) | not)] | length)",
        hist("numa_gpu_task_local_pages_ratio"; $lle; 100; [$r[] | .local_pct | numbers]),
        hist("numa_gpu_plugin_task_seconds"; $ple; 1000; [$r[] | .plugin_ms | numbers]),
        "numa_gpu_plugin_errors_total \([$r[] | select(has("error"))] | length)",
        ([$r[] | select(.hugepages.by_node != null) | .hugepages as $hp
          | $hp.by_node | to_entries[] | {node: .key, bytes: (.value * $hp.pagesize_kb * 1024)}]
         | group_by(.node)[] | "numa_gpu_task_hugepages_reserved_bytes_total{node=\"\(.[0].node)\"} \(map(.bytes) | add)"),
        "numa_gpu_step_irqs_steered_total \([$r[] | select(.irqs_steered != null)] | group_by([.job, .step]) | map(.[0].irqs_steered) | add // 0)",
        "numa_gpu_jobs_total \([$r[].job] | unique | length)",
        "numa_gpu_audit_lines_skipped_total{reason=\"damaged\"} \([$all[] | select(type != "object")] | length)",
        "numa_gpu_audit_lines_skipped_total{reason=\"future\"} \([$all[] | select(type == "object" and (.schema | type) == "number" and .schema > $max)] | length)"'
}

# prom_compare EXPECTED PROMFILE: the expected lines PROMFILE does not have
# (sums within 1e-9 relative), one "SERIES: want W, got G" per line.
prom_compare() {
    local series want got
    while read -r series want; do
        got=$(prom_value "$2" "$series")
        awk -v w="$want" -v g="$got" 'BEGIN {
            d = w - g; if (d < 0) d = -d; m = w < 0 ? -w : w
            exit !(g != "" && d <= 1e-9 * (m > 1 ? m : 1)) }' ||
            echo "$series: want $want, got ${got:-nothing}"
    done < "$1"
}
