#!/bin/bash
# Docs in step with the code: man pages render without groff warnings, every
# CLI command of --help is in numa-gpu(1), every plugstack argument the
# parser knows is in numa_gpu(8), the plugstack snippet and the README.
source "$(dirname "$0")/lib.sh"
ng_suite docs
mans=(contrib/man/*.[1-8])
[ -e "${mans[0]}" ] || mans=()
ng_nonempty man-pages "${#mans[@]}"
for m in "${mans[@]}"; do
    w=$(groff -ww -man -z "$m" 2>&1; LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
    [ -z "$w" ] && pass "man-renders-clean/$(basename "$m")" || fail "man-renders-clean/$(basename "$m")" "$w"
done
bad=""
cmds=$("$B/numa-gpu" --help | sed -n 's/^ *\(usage: \)\{0,1\}numa-gpu \([a-z][a-z-]*\).*/\2/p' | sort -u)
for c in $cmds; do
    grep -q "^\.B numa-gpu $c" contrib/man/numa-gpu.1 || bad="$bad $c"
done
# no command read out of --help (its format changed?) checks nothing
[ -n "$cmds" ] && [ -z "$bad" ] && pass help-commands-in-man-page ||
    fail help-commands-in-man-page "${bad:+not in numa-gpu.1:$bad}${cmds:-no command found in --help}"
# The settings table (lib/settings.c, through `numa-gpu settings --keys`)
# and its full listing: a listing that stopped working would check nothing,
# so both must find keys and agree; every key is in the man page and the
# plugstack snippet.
bad=""
parsed=$("$B/numa-gpu" settings --keys | sort -u)
listed=$(printf '%s\n' "$("$B/numa-gpu" settings | grep -v '^ ' | sed 's/=.*//')" | sort -u)
[ "$(echo "$parsed" | grep -c .)" -ge 10 ] || bad="$bad only $(echo "$parsed" | grep -c .) keys from numa-gpu settings --keys;"
[ "$(echo "$listed" | grep -c .)" -ge 10 ] || bad="$bad only $(echo "$listed" | grep -c .) keys in numa-gpu settings;"
[ "$parsed" = "$listed" ] || bad="$bad --keys and the listing differ: $(diff <(echo "$parsed") <(echo "$listed") | grep '^[<>]' | tr '\n' ' ');"
for k in $(printf '%s\n%s\n' "$parsed" "$listed" | sort -u); do
    grep -q "^\.B.* $k\|^\.BI $k=\|^\.B $k" contrib/man/numa_gpu.8 || bad="$bad man:$k"
    grep -q "#   $k" etc/plugstack.conf.d/numa-gpu.conf || bad="$bad snippet:$k"
done
[ -z "$bad" ] && pass plugstack-arguments-documented || fail plugstack-arguments-documented "$bad"
# The user guide's CLI synopsis is `numa-gpu --help`'s usage block, word for word.
want=$("$B/numa-gpu" --help | sed '/^$/,$d' | sed 's/^usage: //; s/^       //')
got=$(awk '/^## CLI/ {c = 1; next} c && /^```$/ {if (f) exit; f = 1; next} f' contrib/docs/user-guide.md)
[ -n "$want" ] && [ "$want" = "$got" ] && pass user-guide-cli-synopsis-is-help ||
    fail user-guide-cli-synopsis-is-help "$(diff <(echo "$want") <(echo "$got") | head -6 | tr '\n' ' ')"
# Every relative link of the README and the guides points at a file that exists.
bad=""
links=0
for f in README.md contrib/docs/*.md; do
    for l in $(grep -o '](\([^)#: ]*\)[^)]*)' "$f" | sed 's/^](\([^)#]*\).*/\1/'); do
        links=$((links + 1))
        [ -e "$(dirname "$f")/$l" ] || bad="$bad $f:$l"
    done
done
# the README alone links the guides: no link found means the regex broke
[ "$links" -gt 0 ] && [ -z "$bad" ] && pass doc-links-resolve || fail doc-links-resolve "${bad:-no relative link found}"
ng_end
