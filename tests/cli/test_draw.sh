#!/bin/bash
# numa-gpu explain --svg/--png: hwloc's lstopo draws the plan (lib/draw.c).
# Every golden request (tests/golden/requests: every corpus machine, GPU and
# CPU-only ranks, strict refusals, overcommit, memory tiers, core policy)
# plus a remote and a refused case is drawn, and the SVG is read back
# against `numa-gpu plan --json` of the same request: each PU's fill is the
# colour of the rank owning it (so each colour fills exactly its rank's PUs),
# each rank's GPUs and nearest NIC hold a box "rank R" in its colour, the
# cores of a flagged rank (remote, partial, unknown, overcommit, refused)
# are red and only those, its GPUs carry a red box, the legend names every
# rank with its colour. Then the errors: a missing or failing lstopo, an
# lstopo without PNG support, an unwritable output, bad option values.
source "$(dirname "$0")/lib.sh"
REQ=$(dirname "$0")/../golden/requests
ng_suite draw
ng_tmpdir draw
# The cairo lstopo for PNG: $NUMA_GPU_LSTOPO when set, else the installed one.
CAIRO=${NUMA_GPU_LSTOPO:-/usr/bin/lstopo}
unset NUMA_GPU_TOPOLOGY NUMA_GPU_LSTOPO NUMA_GPU_LSTOPO_NO_GRAPHICS
DELL=$C/dell-xe8640-2s-xeon8480-snc4-4xh100.xml
none() { ! compgen -G "$1" > /dev/null; }   # no file matches the glob

# The checker: reads "name<TAB>svg<TAB>plan.jsonl" lines, prints one
# PASS/FAIL line per drawing (prefixed like this suite's cases).
cat > "$T/check.py" <<'EOF'
import json, re, sys, xml.etree.ElementTree as ET
prefix, manifest = sys.argv[1], sys.argv[2]
RED = 'rgb(255,0,0)'

def rgb(h):
    return 'rgb(%d,%d,%d)' % (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))

def cpulist(s):
    out = set()
    for part in filter(None, s.split(',')):
        a, _, b = part.partition('-')
        out.update(range(int(a), int(b or a) + 1))
    return out

def inside(r, box):
    return (box['x'] <= r['x'] and box['y'] <= r['y'] and
            r['x'] + r['w'] <= box['x'] + box['w'] and r['y'] + r['h'] <= box['y'] + box['h'])

def read_svg(path):
    rects, texts, legend = {}, {}, []
    for el in ET.parse(path).getroot().iter():
        tag, i = el.tag.split('}')[-1], el.get('id', '')
        if tag == 'rect' and i.endswith('_rect'):
            rects[i[:-5]] = dict(cls=el.get('class'), fill=el.get('fill'),
                                 **{k: float(el.get(k)) for k in ('x', 'y', 'width', 'height')})
            rects[i[:-5]]['w'], rects[i[:-5]]['h'] = rects[i[:-5]]['width'], rects[i[:-5]]['height']
        elif tag == 'text' and i.startswith('anon_text'):
            legend.append(el.text or '')
        elif tag == 'text':
            texts.setdefault(re.sub(r'_text(_\d+)?$', '', i), []).append(el.text or '')
    return rects, texts, legend

def check(svg, plan):
    rows = [json.loads(l) for l in open(plan) if l.startswith('{')]
    if not rows:
        return 'the plan has no rows'
    rects, texts, legend = read_svg(svg)
    of = lambda cls: {k: r for k, r in rects.items() if r['cls'] == cls}
    pus, cores, pcis, miscs = of('PU'), of('Core'), of('PCI'), of('Misc')
    # the legend: colour of each rank, as the drawing says it
    colour = {}
    for l in legend:
        m = re.match(r'rank (\d+) (#[0-9a-f]{6}) ', l)
        if m:
            colour[int(m.group(1))] = rgb(m.group(2))
    if not any(l.startswith('numa-gpu: ') for l in legend):
        return 'no legend title line'
    # the first 64 ranks are in the legend, the rest said in one line; the
    # 16 colours repeat
    for row in rows:
        r = row['rank']
        if r >= 64:
            if r not in colour and r % 16 in colour:
                colour[r] = colour[r % 16]
            continue
        if r not in colour:
            return 'the legend names no colour for rank %d' % r
        if not any(t.startswith('rank %d: ' % r) for k in miscs for t in texts.get(k, [])):
            return 'no legend swatch for rank %d' % r
    if len(rows) > 64 and not any(l.startswith('and %d more ranks' % (len(rows) - 64)) for l in legend):
        return 'no line for the ranks past 64'
    if any(colour[r] != colour[r % 16] for r in colour):
        return 'colours do not repeat every 16 ranks'
    if len(set(colour.values())) != min(len(colour), 16):
        return 'ranks share colours below the palette size: %s' % colour
    if RED in colour.values():
        return 'a rank has the alert colour'
    # PUs: the owner (first rank listing it) fills it
    owner = {}
    for row in rows:
        for c in cpulist(row['cpus']):
            owner.setdefault(c, row['rank'])
    pu_os = {}
    for k in pus:
        m = [t for t in texts.get(k, []) if re.fullmatch(r'P#\d+', t)]
        if not m:
            return 'PU %s has no P# label' % k
        pu_os[k] = int(m[0][2:])
    rank_fills = set(colour.values())
    for k, os in pu_os.items():
        want = colour[owner[os]] if os in owner else None
        got = pus[k]['fill']
        if want and got != want:
            return 'PU P#%d of rank %d is %s, not its colour %s' % (os, owner[os], got, want)
        if not want and got in rank_fills:
            return 'PU P#%d of no rank is filled with a rank colour %s' % (os, got)
    per_colour = {}
    for os in owner:
        per_colour[colour[owner[os]]] = per_colour.get(colour[owner[os]], 0) + 1
    for c, n in per_colour.items():
        got = sum(1 for r in pus.values() if r['fill'] == c)
        if got != n:
            return 'colour %s fills %d PUs, its ranks own %d' % (c, got, n)
    if len(pu_os) < len(owner):
        return 'the drawing shows %d PUs, the plan uses %d' % (len(pu_os), len(owner))
    # flagged ranks: their cores red, and no other core
    flagged = {row['rank'] for row in rows if row['verdict'] not in ('local', 'nogpu') or
               (row['mode'] == 'strict' and not row['strict_ok'])}
    hot = {os for row in rows if row['rank'] in flagged for os in cpulist(row['cpus'])}
    for k, core in cores.items():
        mine = {pu_os[p] for p in pus if inside(pus[p], core)}
        want = bool(mine & hot)
        if want != (core['fill'] == RED):
            return 'core %s (P#%s) is %s; flagged ranks %s' % (
                texts.get(k, ['?'])[0], sorted(mine), core['fill'], sorted(flagged))
    if hot and not cores:
        return 'flagged ranks but no cores to frame'
    # GPUs: a box "rank R" in the rank's colour inside the GPU; the device
    # takes the colour when one rank alone uses it; red box for flagged ranks
    def pci_box(busid):
        short = busid[5:] if busid.startswith('0000:') else busid
        for k, r in pcis.items():
            if any(t.startswith('PCI ') and t.split()[1] in (short, busid) for t in texts.get(k, [])):
                return r
        return None
    users = {}
    for row in rows:
        for g in [x['pci_busid'] for x in row['gpus']]:
            users.setdefault(g, set()).add(row['rank'])
    for row in rows:
        r = row['rank']
        for g in [x['pci_busid'] for x in row['gpus']]:
            box = pci_box(g)
            if not box:
                return 'GPU %s of rank %d is not in the drawing' % (g, r)
            labels = [(texts.get(k, [''])[0], m['fill']) for k, m in miscs.items() if inside(m, box)]
            if ('rank %d' % r, colour[r]) not in labels and not (
                    len(labels) > 8 and labels[8][0] == 'more ranks: see the legend'):
                return 'GPU %s has no box "rank %d" in %s: %s' % (g, r, colour[r], labels)
            if len(users[g]) == 1 and box['fill'] != colour[r]:
                return 'GPU %s of rank %d alone is %s, not %s' % (g, r, box['fill'], colour[r])
            red = [t for t, f in labels if f == RED and t.startswith('rank %d ' % r)]
            if (r in flagged) != bool(red) and len(labels) <= 8:
                return 'GPU %s of rank %d (%s): red boxes %s' % (g, r, row['verdict'], red)
        # the nearest NIC (first listed) holds a box "rank R" in its colour
        if row.get('nics'):
            name = row['nics'][0]
            at = [k for k in texts if any(t.split()[-1:] == [name] for t in texts[k])]
            boxes = [pcis[p] for p in pcis for k in at if k in rects and inside(rects[k], pcis[p])]
            if not boxes:
                return 'NIC %s of rank %d is not in the drawing' % (name, r)
            box = min(boxes, key=lambda b: b['w'] * b['h'])
            inbox = [(texts.get(k, [''])[0], m['fill']) for k, m in miscs.items() if inside(m, box)]
            if ('rank %d' % r, colour[r]) not in inbox and not (
                    len(inbox) == 9 and ('more ranks: see the legend', 'rgb(255,255,255)') in inbox):
                return 'NIC %s has no box "rank %d" in %s: %s' % (name, r, colour[r], inbox)
    return None

n = 0
for line in open(manifest):
    name, svg, plan = line.rstrip('\n').split('\t')
    n += 1
    try:
        why = check(svg, plan)
    except Exception as e:   # an unreadable drawing is a failure, never a crash
        why = 'unreadable drawing: %r' % e
    print(('FAIL %s%s: %s' % (prefix, name, why)) if why else 'PASS %s%s' % (prefix, name))
EOF

# --- every golden request, drawn and checked. Under ASan (10x slower with
# full unwinding) the first request of each machine and the core-policy one
# are enough to cover draw.c's paths; the plain run draws them all.
: > "$T/manifest"
n=0
seen=" "
while read -r topo name args; do
    case "$topo" in ''|'#'*) continue ;; esac
    case "${NG_TEST_PREFIX:-}:$seen:$name" in
        asan*:*" $topo "*:reserve-first-core-per-numa) ;;
        asan*:*" $topo "*) continue ;;
    esac
    seen="$seen$topo "
    n=$((n + 1))
    id=${topo%.xml}/$name
    f=$T/$n
    # shellcheck disable=SC2086
    "$NG" plan --json --topology "$C/$topo" $args > "$f.jsonl" 2>/dev/null </dev/null
    prc=$?
    # shellcheck disable=SC2086
    "$NG" explain --topology "$C/$topo" $args --svg "$f.svg" > "$f.out" 2> "$f.err" </dev/null
    rc=$?
    if [ $rc -ne $prc ]; then
        fail "$id" "explain --svg exited $rc, plan $prc: $(head -c 300 "$f.err")"
    elif [ $prc -ge 2 ]; then
        # no plan, no picture
        [ ! -e "$f.svg" ] && pass "$id:no-plan-no-picture" || fail "$id" "a picture of no plan"
    elif [ ! -s "$f.svg" ] || grep -q "picture" "$f.err"; then
        fail "$id" "no picture: $(head -c 300 "$f.err")"
    else
        printf '%s\t%s\t%s\n' "$id" "$f.svg" "$f.jsonl" >> "$T/manifest"
    fi
done < "$REQ"
ng_nonempty golden-requests "$n"
# a remote and a refused rank: the package without the GPUs' nodes
for mode in prefer strict; do
    f=$T/remote-$mode
    set -- --topology "$DELL" --ntasks 4 --gpus-per-task 1 --cpus 0-55,112-167 --mems 0-3 --mode $mode
    "$NG" plan --json "$@" > "$f.jsonl" 2>/dev/null
    "$NG" explain "$@" --svg "$f.svg" > /dev/null 2> "$f.err"
    rc=$?
    want=0; [ $mode = strict ] && want=1
    if [ $rc -eq $want ] && [ -s "$f.svg" ] && [ "$(grep -c '"verdict":"remote"' "$f.jsonl")" = 2 ]; then
        printf '%s\t%s\t%s\n' "remote-$mode" "$f.svg" "$f.jsonl" >> "$T/manifest"
    else
        fail "remote-$mode" "rc=$rc (want $want), plan: $(cut -c1-120 "$f.jsonl" | tr '\n' ' ') $(head -c 200 "$f.err")"
    fi
done
# many ranks: colours repeat, the legend stops at 64 ranks, a NIC holds 8
# boxes and "more ranks"
f=$T/many
set -- --topology "$C/jsc-deep-er-knl-1s-snc4-flat-mcdram.xml" --ntasks 100
"$NG" plan --json "$@" > "$f.jsonl" 2>/dev/null
if "$NG" explain "$@" --svg "$f.svg" > /dev/null 2> "$f.err" &&
   grep -q "and 36 more ranks" "$f.svg" && [ "$(grep -c ">more ranks: see the legend<" "$f.svg")" -ge 1 ]; then
    printf '%s\t%s\t%s\n' "many-ranks" "$f.svg" "$f.jsonl" >> "$T/manifest"
else
    fail many-ranks "$(head -c 300 "$f.err")"
fi
# a topology file with lstopo styles, legend lines and markup of its own:
# none of it reaches the drawing (P#0, no rank's, comes styled in rank 0's
# colour; lstopo writes SVG text unescaped)
f=$T/hostile
if hwloc-annotate "$DELL" "$f.xml" root info lstopoLegend '<script>alert(1)</script>' &&
   hwloc-annotate "$f.xml" "$f.xml" pu:0 info lstopoStyle 'Background=#0067a5' &&
   hwloc-annotate "$f.xml" "$f.xml" root misc '<b>&x' &&
   grep -q 'lstopoStyle' "$f.xml"; then
    set -- --topology "$f.xml" --ntasks 4 --gpus-per-task 1
    "$NG" plan --json "$@" > "$f.jsonl" 2>/dev/null
    if "$NG" explain "$@" --svg "$f.svg" > /dev/null 2> "$f.err" && ! grep -q "<script\|<b>" "$f.svg"; then
        printf '%s\t%s\t%s\n' "foreign-styles-and-markup-dropped" "$f.svg" "$f.jsonl" >> "$T/manifest"
    else
        fail foreign-styles-and-markup-dropped "the file's markup in $(grep -c "<script\|<b>" "$f.svg") line(s) of the drawing; $(head -c 300 "$f.err")"
    fi
else
    fail foreign-styles-and-markup-dropped "hwloc-annotate could not write $f.xml"
fi
grep -q "rank 2 REMOTE" "$T/remote-prefer.svg" && grep -q "rank 3 REFUSED" "$T/remote-strict.svg" &&
    grep -q "REFUSED: rank 2" "$T/remote-strict.svg" &&
    pass remote-and-refused-named || fail remote-and-refused-named "no red REMOTE/REFUSED boxes or title"
m=$(wc -l < "$T/manifest")
ng_nonempty drawings "$m" && python3 "$T/check.py" "$NG_NAME" "$T/manifest" | ng_relay

# one plan, one drawing: no date or host in it
"$NG" explain --topology "$DELL" --ntasks 4 --gpus-per-task 1 --svg "$T/again.svg" >/dev/null 2>&1
cmp -s "$T/again.svg" "$(awk -F'\t' '$1 == "dell-xe8640-2s-xeon8480-snc4-4xh100/gpus-per-task-1" {print $2}' "$T/manifest")" &&
    pass same-plan-same-drawing || fail same-plan-same-drawing "two drawings of one plan differ"

# --- PNG, where hwloc's cairo lstopo is installed (Debian: hwloc)
if [ -x "$CAIRO" ] && "$CAIRO" --help 2>&1 | grep -q 'formats:.*png'; then
    t0=$(date +%s%N)
    NUMA_GPU_LSTOPO=$CAIRO "$NG" explain --topology "$DELL" --ntasks 4 --gpus-per-task 1 --png "$T/d.png" > /dev/null 2> "$T/err"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    sig=$(head -c 8 "$T/d.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    echo "PNG of the H100 box, 4 ranks: ${ms} ms"
    [ $rc -eq 0 ] && [ "$sig" = 89504e470d0a1a0a ] && pass png-drawn ||
        fail png-drawn "rc=$rc signature '$sig': $(head -c 300 "$T/err")"
else
    skip png-drawn "$CAIRO cannot write PNG here (install Debian's hwloc: the cairo lstopo)"
fi
# an lstopo without cairo asked for PNG: named, with the package
NUMA_GPU_LSTOPO=/usr/bin/lstopo-no-graphics "$NG" explain --topology "$DELL" --ntasks 1 \
    --png "$T/nocairo.png" > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "lstopo-no-graphics cannot write PNG" "$T/err" && grep -q "hwloc-gui" "$T/err" &&
    [ ! -e "$T/nocairo.png" ] && none "$T/nocairo.png*" &&
    pass png-without-cairo-named || fail png-without-cairo-named "rc=$rc $(cat "$T/err")"

# --- errors
# lstopo missing: the path and the packages are named, the text still printed
NUMA_GPU_LSTOPO_NO_GRAPHICS=$T/none/lstopo-no-graphics "$NG" explain --topology "$DELL" --ntasks 1 \
    --svg "$T/missing.svg" > "$T/out" 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$T/none/lstopo-no-graphics cannot run (No such file or directory)" "$T/err" &&
    grep -q "hwloc-nox" "$T/err" && grep -q "^rank 0" "$T/out" && [ ! -e "$T/missing.svg" ] &&
    pass missing-lstopo-named || fail missing-lstopo-named "rc=$rc $(cat "$T/err")"
# lstopo failing: its first line is quoted, nothing is left behind
printf '#!/bin/sh\ncat >/dev/null\necho "lstopo: broken input" >&2\nexit 3\n' > "$T/bad-lstopo"
chmod +x "$T/bad-lstopo"
NUMA_GPU_LSTOPO_NO_GRAPHICS=$T/bad-lstopo "$NG" explain --topology "$DELL" --ntasks 1 \
    --svg "$T/failed.svg" > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "bad-lstopo exited 3: lstopo: broken input" "$T/err" &&
    none "$T/failed*" &&
    pass failing-lstopo-quoted || fail failing-lstopo-quoted "rc=$rc $(cat "$T/err"); $(echo "$T"/failed*)"
# an lstopo that writes nothing
printf '#!/bin/sh\ncat >/dev/null\n' > "$T/mute-lstopo"
chmod +x "$T/mute-lstopo"
NUMA_GPU_LSTOPO_NO_GRAPHICS=$T/mute-lstopo "$NG" explain --topology "$DELL" --ntasks 1 \
    --svg "$T/mute.svg" > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "mute-lstopo wrote nothing" "$T/err" && [ ! -e "$T/mute.svg" ] &&
    pass empty-drawing-refused || fail empty-drawing-refused "rc=$rc $(cat "$T/err")"
# unwritable output: the file is named with the reason
for out in /dev/null/x.svg "$T/no-such-dir/x.svg"; do
    "$NG" explain --topology "$DELL" --ntasks 1 --svg "$out" > /dev/null 2> "$T/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "cannot write the picture '$out': \(Not a directory\|No such file or directory\)" "$T/err" &&
        pass "unwritable-output-named:${out##*/no-such-dir/}" ||
        fail "unwritable-output-named:$out" "rc=$rc $(cat "$T/err")"
done
mkdir "$T/adir"
"$NG" explain --topology "$DELL" --ntasks 1 --svg "$T/adir" > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "cannot write the picture '$T/adir': Is a directory" "$T/err" &&
    none "$T/adir.tmp*" &&
    pass directory-output-named || fail directory-output-named "rc=$rc $(cat "$T/err")"
# bad option values: named, exit 2, nothing drawn
bad() {   # name expected-message args...
    local name=$1 want=$2
    shift 2
    "$NG" "$@" > /dev/null 2> "$T/err"
    local rc=$?
    [ $rc -eq 2 ] && grep -qF -- "$want" "$T/err" && pass "bad-value:$name" ||
        fail "bad-value:$name" "rc=$rc $(cat "$T/err")"
}
bad empty-svg "invalid --svg '' (expected a file name" explain --topology "$DELL" --ntasks 1 --svg ''
bad stdout-svg "invalid --svg '-' (expected a file name; the plan's text goes to stdout)" \
    explain --topology "$DELL" --ntasks 1 --svg -
bad svg-named-png "invalid --svg 'x.png': a .png name (use --png for that format)" \
    explain --topology "$DELL" --ntasks 1 --svg x.png
bad png-named-svg "invalid --png 'x.SVG': a .svg name (use --svg for that format)" \
    explain --topology "$DELL" --ntasks 1 --png x.SVG
bad png-dir "invalid --png 'pics/' (expected a file name" explain --topology "$DELL" --ntasks 1 --png pics/
bad svg-no-value "option '--svg' needs a value" explain --topology "$DELL" --ntasks 1 --svg
bad plan-has-no-svg "plan: --svg is an option of explain ('numa-gpu explain (the same options) --svg FILE')" \
    plan --topology "$DELL" --ntasks 1 --svg x.svg
ng_end
