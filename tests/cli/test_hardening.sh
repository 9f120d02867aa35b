#!/bin/bash
# Hostile or broken input through the CLI (the same library the plugin runs
# in slurmstepd): never a signal, never a silent truncation or wraparound,
# every error names the bad value and exits non-zero.
source "$(dirname "$0")/lib.sh"
X=tests/topologies/regress
ng_suite hardening
ng_tmpdir hard
NG_EXPECT_TIMEOUT=10   # expect (lib.sh): a hang on hostile input fails fast
PASCAL=$C/llnl-pascal-2s-bdw-2xp100-pcie.xml

# --- crash: an empty L3 cpuset (one flipped byte) divided by zero before
expect empty-l3-cpuset-no-signal 0 "RANK" "$NG" plan --topology "$X/regress-empty-l3-cpuset-divide-by-zero.xml" --ntasks 8
expect truncated-xml-is-an-error 1 "not usable as hwloc XML" \
    "$NG" topo --topology tests/fuzz/corpus/topology/minimal-unclosed

# --- CPUs under no NUMA node (memory-less dies) belong to the nearest node
W=$X/synthetic-2990wx-memoryless-dies.xml
out=$("$NG" topo --topology "$W")
all=$(echo "$out" | awk '$3 == "dram" {print $4}' | paste -sd, -)
[ "$all" = "0-3,4-7" ] && pass memoryless-die-cpus-in-topo || fail memoryless-die-cpus-in-topo "$out"
out=$("$NG" plan --json --topology "$W" --ntasks 2 --cpus 2-3,6-7 2>/dev/null)
bad=$(echo "$out" | jq -r 'select(.cpus == "" or (.reason|test("node -1")) or .home == "")')
[ -z "$bad" ] && [ "$(echo "$out" | jq -r .cpus | paste -sd' ' -)" = "2-3 6-7" ] &&
    pass memoryless-die-plan-has-cpus || fail memoryless-die-plan-has-cpus "$out"

# --- lists of any length: 3000 hosts, all in the rankfile, the last whole
hosts=$(seq -f "gpu-node-%06g.cluster.example" 1 3000 | paste -sd, -)
"$NG" hints --topology "$PASCAL" --ntasks 2 --hosts "$hosts" --rankfile "$T/rf" >/dev/null 2>&1
n=$(awk '{print $2}' "$T/rf" | cut -d= -f2 | sort -u | wc -l)
[ "$n" = 3000 ] && grep -q "^rank 5999=gpu-node-003000.cluster.example slot" "$T/rf" &&
    pass hints-hosts-any-length || fail hints-hosts-any-length "$n hosts in rankfile"
expect hints-empty-host 2 "empty host name" "$NG" hints --topology "$PASCAL" --ntasks 1 --hosts "a,,b"

# --- numbers: range-checked, named, never wrapped
for v in 3000000000 junk -5 ""; do
    expect "tasks-per-node-${v:-empty}" 2 "tasks per node '$v'" \
        env -u SLURM_TASKS_PER_NODE SLURM_NTASKS_PER_NODE="$v" SLURM_STEP_GPUS= "$NG" hints --topology "$PASCAL"
done
expect hp-node-wrap 2 "invalid --node '4294967303' (expected an integer 0..255)" \
    "$NG" hugepages reserve --job 1 --node 4294967303 --size 2M --state-dir "$T/hp"
expect hp-node-empty 2 "invalid --node ''" "$NG" hugepages reserve --job 1 --node "" --size 2M --state-dir "$T/hp"
expect hp-owner-zero 2 "invalid --owner '0'" "$NG" hugepages reserve --job 1 --node 0 --owner 0 --size 2M --state-dir "$T/hp"
expect state-dir-relative 2 "invalid --state-dir 'rel' (expected an absolute path)" "$NG" hugepages status --state-dir rel
expect audit-dir-relative 2 "invalid --audit-dir 'a' (expected an absolute path)" "$NG" metrics --audit-dir a --output -

# --- the ledger: bad fields refused, any length works, a FIFO never blocks
mkdir -m 700 "$T/hp"
printf '# numa-gpu hugepage ledger v1\n1 0 0 -1 2048 -5 1 0\n' > "$T/hp/hugepages.ledger"
expect ledger-negative-is-corrupt 1 "corrupt at line 2" "$NG" hugepages status --state-dir "$T/hp"
printf '# numa-gpu hugepage ledger v1\n1 0 0 7 2048 18446744073709551617 1 0\n' > "$T/hp/hugepages.ledger"
expect ledger-wrap-is-corrupt 1 "corrupt at line 2" "$NG" hugepages status --state-dir "$T/hp"
{ echo '# numa-gpu hugepage ledger v1'; seq 1 5000 | awk '{print $1 " 0 0 0 2048 1 1 0"}'; } > "$T/hp/hugepages.ledger"
n=$("$NG" hugepages status --state-dir "$T/hp" 2>&1 | grep -c "^job ")
[ "$n" = 5000 ] && pass ledger-5000-entries || fail ledger-5000-entries "$n lines"
rm "$T/hp/hugepages.ledger"; mkfifo "$T/hp/hugepages.ledger"
expect ledger-fifo-refused 1 "not a regular file" "$NG" hugepages status --state-dir "$T/hp"

# --- ids and specs
out=$("$NG" plan --json --topology "$PASCAL" --gpu-order pci --gpus 0:07:00.0 2>&1)
[ "$(echo "$out" | jq -r .gpus[0].pci_busid | paste -sd' ' -)" = "0000:04:00.0 0000:07:00.0" ] &&
    pass spec-index-then-short-busid-two-ranks || fail spec-index-then-short-busid-two-ranks "$out"
expect spec-slash-not-a-separator 2 "GPU id '0/1'" "$NG" plan --topology "$PASCAL" --gpus 0/1
expect busid-negative 2 "GPU id '-4'" "$NG" plan --topology "$PASCAL" --gpus 0:-4:0.4
expect busid-space 2 "GPU id ' 5f'" "$NG" plan --topology "$PASCAL" --gpus " 5f:00.0"
{ printf '# '; head -c 600 /dev/zero | tr '\0' x; printf ' 0 0000:07:00.0\n0 0000:04:00.0\n'; } > "$T/map"
out=$("$NG" plan --json --topology "$PASCAL" --gpu-map "$T/map" --gpus 0 2>&1)
[ "$(echo "$out" | jq -r '.gpus[0].pci_busid')" = 0000:04:00.0 ] && pass gpu-map-long-comment-ignored ||
    fail gpu-map-long-comment-ignored "$out"

# --- errors that used to exit 0
expect gpu-map-missing 2 "--gpu-map '$T/none'" "$NG" plan --topology "$PASCAL" --gpu-map "$T/none" --ntasks 1
expect gpu-map-directory 2 "not a regular file" "$NG" plan --topology "$PASCAL" --gpu-map "$T" --ntasks 1
expect gpu-map-dev-zero 2 "not a regular file" "$NG" plan --topology "$PASCAL" --gpu-map /dev/zero --ntasks 1
expect audit-job-directory 1 "not a regular file" "$NG" audit --job "$T"
expect audit-job-dev-zero 1 "not a regular file" "$NG" audit --job /dev/zero
printf '{"task":1e300,"summary":"x"}\n' > "$T/1.json"
expect audit-job-huge-task 1 "some lines unreadable" "$NG" audit --job "$T/1.json"
expect mpi-empty 2 "--mpi ''" "$NG" hints --topology "$PASCAL" --ntasks 1 --mpi ""
expect mems-bad-no-leak 2 "invalid --mems 'x'" "$NG" plan --topology "$PASCAL" --ntasks 1 --cpus 0 --mems x

# --- shell output is quoted: evaluating it runs nothing
rf="$T/x'; echo INJECTED; '"
out=$(eval "$("$NG" hints --topology "$PASCAL" --ntasks 1 --rankfile "$rf" 2>/dev/null)"; echo "rf=$OMPI_MCA_rmaps_rank_file_path")
! echo "$out" | grep -q "^INJECTED" && echo "$out" | grep -qF "rf=$rf" && pass hints-export-quoted ||
    fail hints-export-quoted "$out"
ng_end
