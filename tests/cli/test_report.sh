#!/bin/bash
# numa-gpu report over records real jobs wrote in the 2-node lab
# (tests/data/report/lab, one directory per node, made by
# NG_REPORT_CAPTURE=... tests/slurm/test_report.sh) and over hand-damaged
# copies: its rows per job, node and user equal what jq computes from the
# same records (tests/data/report/expect.jq); a truncated line, garbage,
# schema 99, missing fields, a 1 MB line and a cut last line are counted and
# named by file:line and change nothing else; older schemas are read; bad
# options name the value.
source "$(dirname "$0")/lib.sh"
D=tests/data/report
F=$D/lab
ng_suite report
ng_tmpdir report
mapfile -t FILES < <(find "$F" -name '*.json' -type f | sort)
ng_nonempty fixture-files "${#FILES[@]}" || ng_end
ALL=$(cat "${FILES[@]}")
ng_nonempty fixture-records "$(grep -c . <<< "$ALL")" || ng_end

# expected FILE...: the rows jq computes; actual: the report's, same shape.
expected() { jq -s -c -f "$D/expect.jq" "$@" | jq -S -c . | sort; }
actual() { jq -c -f "$D/actual.jq" | jq -S -c . | sort; }
# agrees NAME WANT-FILE REPORT-ARGS...: the report's rows equal WANT-FILE.
agrees() {
    local name=$1 want=$2 out rc; shift 2
    out=$("$NG" report --json "$@" 2>"$T/err"); rc=$?
    actual <<< "$out" > "$T/have"
    if [ $rc -eq 0 ] && diff "$want" "$T/have" > "$T/diff"; then
        pass "$name"
    else
        fail "$name" "rc=$rc $(head -c 600 "$T/diff") $(head -3 "$T/err")"
    fi
}
expected "${FILES[@]}" > "$T/want"
ng_nonempty expected-rows "$(wc -l < "$T/want")"

# --- the lab's records: every row agrees, whichever way they are named
agrees fixture-rows-agree "$T/want" "$F"
agrees per-node-directories-agree "$T/want" "$F"/*/
agrees files-named-one-by-one-agree "$T/want" "${FILES[@]}"
"$NG" report --json "$F" > "$T/r.json" 2>"$T/r.err"
jobs=$(jq -s '[.[].job] | unique | length' <<< "$ALL")
hosts=$(jq -s '[.[].host] | unique | length' <<< "$ALL")
[ ! -s "$T/r.err" ] && [ "$(jq -c 'select(.kind == "total") | [.jobs, .nodes]' "$T/r.json")" = "[$jobs,$hosts]" ] &&
    [ "$(jq 'select(.kind == "input") | .records' "$T/r.json")" = "$(grep -c . <<< "$ALL")" ] &&
    [ "$hosts" -ge 2 ] && pass fixture-has-several-nodes ||
    fail fixture-has-several-nodes "$jobs jobs, $hosts hosts: $(head -2 "$T/r.json") $(cat "$T/r.err")"
# The kinds of task the lab produced are all there (else the fixture changed shape).
missing=""
for v in local partial refused unbound other; do
    [ "$(jq "select(.kind == \"total\") | .$v" "$T/r.json")" -gt 0 ] 2>/dev/null || missing="$missing $v"
done
[ -z "$missing" ] && pass fixture-has-every-kind-of-task || fail fixture-has-every-kind-of-task "no$missing task in the lab records"


# The table holds the same counts, row by row (columns 4.. of "per job").
"$NG" report "$F" > "$T/table" 2>&1
bad=""
njobs=0
for j in $(jq -r 'select(.kind == "job") | .key' "$T/want"); do
    njobs=$((njobs + 1))
    want=$(jq -r "select(.kind == \"job\" and .key == \"$j\") | [.tasks, .local, .partial, .remote, .unbound, .refused, .other, .irqs_steered, .errors] | map(tostring) | join(\" \")" "$T/want")
    have=$(awk -v j="$j" '/^per job/ {on = 1; next} /^per / {on = 0} on && $1 == j {print $4, $5, $6, $7, $8, $9, $10, $15, $16}' "$T/table")
    [ "$want" = "$have" ] || bad="$bad job $j: want '$want' have '$have';"
done
ng_nonempty table-jobs "$njobs" && { [ -z "$bad" ] && pass table-agrees-per-job || fail table-agrees-per-job "$bad"; }
# Per user: tasks and refused of each user's row.
bad=""
for u in $(jq -r 'select(.kind == "user") | .key // "?"' "$T/want"); do
    want=$(jq -r "select(.kind == \"user\" and (.key // \"?\") == \"$u\") | [.tasks, .refused] | map(tostring) | join(\" \")" "$T/want")
    have=$(awk -v u="$u" '/^per user/ {on = 1; next} /^per / || /^total/ {on = 0} on && $1 == u {print $3, $8}' "$T/table")
    [ "$want" = "$have" ] || bad="$bad user $u: want '$want' have '$have';"
done
[ -z "$bad" ] && pass table-agrees-per-user || fail table-agrees-per-user "$bad $(cat "$T/table")"
# Worst first: the first job row has the most bad tasks.
most=$(jq -s 'map(select(.kind == "job") | .partial + .remote + .unbound + .refused) | max' "$T/want")
first=$(jq -s 'map(select(.kind == "job"))[0] | .partial + .remote + .unbound + .refused' "$T/r.json")
[ "$first" = "$most" ] && pass worst-first || fail worst-first "first job has $first bad tasks, the worst $most"
top=$("$NG" report --json --top 1 "$F" | jq -s 'map(select(.kind == "job" or .kind == "node" or .kind == "user")) | length')
[ "$top" = 3 ] && pass top-one-row-per-table || fail top-one-row-per-table "$top rows"

# --- hand-damaged files beside the good ones: counted, named, nothing else changes
mkdir -p "$T/dmg"
cp -r "$F"/. "$T/dmg/"
R=$(head -1 "${FILES[0]}")
{
    echo "${R:0:$(( ${#R} / 2 ))}"                                   # 1 truncated
    echo 'garbage, not json'                                       # 2
    jq -c '.schema = 99' <<< "$R"                                  # 3 a future schema
    jq -c 'del(.host)' <<< "$R"                                    # 4 a field missing
    head -c 1048576 /dev/zero | tr '\0' 'x'; echo                  # 5 a 1 MB line
    jq -c '.job = 1e300' <<< "$R"                                  # 6 out of range
    printf '%s' "${R:0:40}"                                        # 7 cut, no newline
} > "$T/dmg/999.json"
out=$("$NG" report --json "$T/dmg" 2>"$T/dmg.err"); rc=$?
actual <<< "$out" > "$T/have"
in=$(jq -c 'select(.kind == "input") | [.damaged, .future, .invalid, .too_long]' <<< "$out")
named=0
for l in 1 2 3 4 5 6 7; do grep -q "$T/dmg/999.json:$l: " "$T/dmg.err" && named=$((named + 1)); done
[ $rc -eq 0 ] && diff -q "$T/want" "$T/have" >/dev/null && [ "$in" = "[3,1,2,1]" ] && [ $named = 7 ] &&
    grep -q "999.json:3: schema 99 is newer" "$T/dmg.err" && grep -q "999.json:4: missing field 'host'" "$T/dmg.err" &&
    grep -q "999.json:5: line of 1048576 bytes" "$T/dmg.err" && grep -q "999.json:7: .*without a newline" "$T/dmg.err" &&
    grep -q "999.json:6: field 'job' out of range" "$T/dmg.err" &&
    [ "$(jq -r 'select(.kind == "problem") | "\(.line):\(.problem)"' <<< "$out" | sort -n | paste -sd' ')" = \
      "1:damaged 2:damaged 3:future 4:invalid 5:too_long 6:invalid 7:damaged" ] &&
    pass damaged-lines-counted-named-and-harmless ||
    fail damaged-lines-counted-named-and-harmless "rc=$rc input $in named $named/7 $(diff "$T/want" "$T/have" | head -3) $(cat "$T/dmg.err")"
# A file that is nothing but a future schema: no records, no failure.
jq -c '.schema = 5' <<< "$R" > "$T/future.json"
out=$("$NG" report --json "$T/future.json" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q '"records":0' <<< "$out" && grep -q '"future":1' <<< "$out" &&
    grep -q "future.json:1: schema 5 is newer than this numa-gpu reads" <<< "$out" &&
    pass future-only-file || fail future-only-file "rc=$rc $out"
# The same records twice (a copy): counted once, the copies named as duplicates.
mkdir -p "$T/dup"
cp "${FILES[0]}" "$T/dup/copy.json"
agrees copies-counted-once "$T/want" "$F" "$T/dup"
n=$(grep -c . "${FILES[0]}")
"$NG" report --json "$F" "$T/dup" 2>/dev/null | grep -q "\"duplicate\":$n," &&
    pass copies-named-duplicate || fail copies-named-duplicate "want $n duplicates"

# --- schema 4: the lab's (schema 3) records with their GPUs in the shared
# shape of every output (numa_nodes an array, locality, gpu_nodes) give the
# same rows: the old shape and the new read alike.
V4='def nodes: if . == "" then [] else split(",") | map(if test("-")
        then (split("-") | map(tonumber) | [range(.[0]; .[1] + 1)]) else [tonumber] end) | add end;
    (if has("gpus") then (.gpus |= map({pci_busid, numa_nodes: (.numa_nodes | nodes),
        locality: (if .numa_nodes == "" then "unknown" else "known" end)}))
        | .gpu_nodes = ([.gpus[].numa_nodes[]] | unique) else . end) | .schema = 4'
mkdir -p "$T/v4"
for f in "${FILES[@]}"; do
    jq -c "$V4" "$f" > "$T/v4/$(basename "$(dirname "$f")")-$(basename "$f")"
done
if [ "$(jq -s -c '[.[] | .gpus[]?.numa_nodes | type] | unique' "$T"/v4/*.json)" = '["array"]' ]; then
    agrees schema-4-gpus-same-rows-as-schema-3 "$T/want" "$T/v4"
else
    fail schema-4-gpus-same-rows-as-schema-3 "the conversion made no schema-4 GPU arrays"
fi

# --- older schemas, mixed with the new: read, counted per schema, no user
mkdir -p "$T/mixed"
for f in "${FILES[@]}"; do
    b=$(basename "$(dirname "$f")")-$(basename "$f" .json)
    jq -c "$V4 | .job += 200000" "$f" > "$T/mixed/$b-v4.json"
    jq -c 'del(.user, .uid, .time, .plugin_ms, .hugepages, .irqs_steered, .error) | .schema = 2' "$f" > "$T/mixed/$b-v2.json"
    jq -c 'del(.user, .uid, .time, .plugin_ms, .hugepages, .irqs_steered, .error, .nics, .nic_near)
           | .schema = 1 | .job += 100000' "$f" > "$T/mixed/$b-v1.json"
done
expected "$T"/mixed/*.json > "$T/want-mixed"
agrees older-schemas-agree "$T/want-mixed" "$T/mixed"
n=$(grep -c . <<< "$ALL")
"$NG" report --json "$T/mixed" "$F" 2>/dev/null | jq -c 'select(.kind == "input") | .by_schema' > "$T/bys"
[ "$(cat "$T/bys")" = "{\"1\":$n,\"2\":$n,\"3\":$n,\"4\":$n}" ] && pass schemas-counted || fail schemas-counted "$(cat "$T/bys")"
# --since: a record's time, or its file's mtime when it has none (the schema-4
# copies keep the lab's record times: not part of this case)
rm -f "$T"/mixed/*-v4.json
touch -d '3 days ago' "$T"/mixed/*-v1.json
touch -d '1 hour ago' "$T"/mixed/*-v2.json
got=$("$NG" report --json --since 2d "$T/mixed" 2>/dev/null | jq -c 'select(.kind == "input") | [.used, .filtered]')
[ "$got" = "[$n,$n]" ] && pass since-uses-mtime-without-time || fail since-uses-mtime-without-time "$got"
# (the lab's times moved to end a minute ago: --since never looks ahead of this clock)
newest=$(jq -s 'map(.time) | max' <<< "$ALL")
now=$(date +%s)
mkdir -p "$T/recent"
jq -c ".time += ($now - 60 - $newest)" <<< "$ALL" > "$T/recent/all.json"
last=$(jq -s 'map(.time) | sort | .[length / 2 | floor]' "$T/recent/all.json")
want=$(jq -s "map(select(.time >= $last)) | length" "$T/recent/all.json")
got=$("$NG" report --json --since "@$last" "$T/recent" | jq 'select(.kind == "total") | .tasks')
[ "$got" = "$want" ] && [ "$want" -gt 0 ] && pass since-by-record-time ||
    fail since-by-record-time "got $got want $want"

# --- filters select exactly what they name
j=$(jq -s -r 'map(.job) | unique | .[0]' <<< "$ALL")
u=$(jq -s -r 'map(.user) | unique | .[-1]' <<< "$ALL")
want=$(jq -s "map(select(.job == $j)) | length" <<< "$ALL")
got=$("$NG" report --json --job "$j" "$F" | jq 'select(.kind == "total") | .tasks')
[ "$got" = "$want" ] && pass filter-job || fail filter-job "got $got want $want"
want=$(jq -s "map(select(.user == \"$u\")) | length" <<< "$ALL")
got=$("$NG" report --json --user "$u,nosuchuser" "$F" | jq 'select(.kind == "total") | .tasks')
[ "$got" = "$want" ] && pass filter-user || fail filter-user "got $got want $want ($u)"
want=$(jq -s 'map(select(.host | test("2$"))) | length' <<< "$ALL")
got=$("$NG" report --json --node '*2' "$F" | jq 'select(.kind == "total") | .tasks')
[ "$got" = "$want" ] && [ "$want" -gt 0 ] && pass filter-node-pattern || fail filter-node-pattern "got $got want $want"

# --- bad options name the value; a missing path is named, the rest reported
NG_EXPECT_TIMEOUT=10   # expect (lib.sh)
expect no-path 2 "report needs audit directories or files" "$NG" report
expect bad-job 2 "invalid --job '4x' (expected job ids 1..4294967295" "$NG" report --job 4x "$F"
expect job-zero 2 "invalid --job '0'" "$NG" report --job 0 "$F"
expect job-too-big 2 "invalid --job '4294967296'" "$NG" report --job 4294967296 "$F"
expect empty-user 2 "invalid --user 'a,,b'" "$NG" report --user a,,b "$F"
expect since-zero 2 "invalid --since: '0d' is out of range" "$NG" report --since 0d "$F"
expect since-too-far 2 "'36501d' is out of range (1s to 100 years back)" "$NG" report --since 36501d "$F"
expect since-garbage 2 "'last week' is not a duration or a date" "$NG" report --since 'last week' "$F"
expect since-not-a-day 2 "'2025-02-30' is not a date of the calendar" "$NG" report --since 2025-02-30 "$F"
expect top-zero 2 "invalid --top '0' (expected an integer 1..1000000)" "$NG" report --top 0 "$F"
expect unknown-option 2 "unknown argument '--bogus'" "$NG" report --bogus "$F"
expect missing-path-named 1 "$T/nope: No such file or directory" "$NG" report "$T/nope" "$F"
out=$("$NG" report --json "$T/nope" "$F" 2>/dev/null)
actual <<< "$out" > "$T/have"
diff -q "$T/want" "$T/have" >/dev/null && pass missing-path-others-reported || fail missing-path-others-reported "$(head -3 <<< "$out")"
"$NG" report --help | grep -q -- "--since" && pass help || fail help "no --since in --help"
ng_end
