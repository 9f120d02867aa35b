#!/bin/bash
# The installed API is what the installed headers say, and nothing more:
#   - libnumagpu.so exports exactly the functions of numagpu.h and
#     numagpu/pool.h (lib/libnumagpu.map), every one under the ng_ prefix;
#     the 1.0 functions keep version node NUMAGPU_1 (programs linked before
#     1.1 still find them), the request handle's are NUMAGPU_1.1;
#   - the plan-request example builds on the installed headers alone and
#     makes a plan through the shared library;
#   - those headers compile alone (C11 -pedantic and C++), with nothing from
#     lib/private/ beside them, and a program built on them runs against the
#     shared library and sees the API version it was built for;
#   - every internal header compiles on its own (each includes what it uses);
#   - the plugin exports only what slurmstepd looks up.
source "$(dirname "$0")/lib.sh"
ng_suite abi
# The plain build's library and plugin (the ASan run of the CLI suites has
# neither; the ABI is the same).
SO=build/libnumagpu.so
PLUGIN=build/numa_gpu.so
ng_tmpdir abi
mkdir -p "$T/lib"
ln -s "$(pwd)/$SO" "$T/lib/libnumagpu.so.0"
ln -s "$(pwd)/$SO" "$T/lib/libnumagpu.so"

# Function names declared in the public headers (comments and macros out).
declared() {
    for h in lib/numagpu.h lib/numagpu/pool.h; do
        sed -e 's://.*$::' "$h" | perl -0pe 's:/\*.*?\*/::gs; s/^#.*$//mg'
    done | grep -o '\bng_[a-z0-9_]*[[:space:]]*(' | tr -d '( \t' | sort -u
}
declared > "$T/declared"
nm -D --defined-only "$SO" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' | sort -u > "$T/exported"
if [ -s "$T/declared" ] && cmp -s "$T/declared" "$T/exported"; then
    pass "exports-exactly-the-public-headers ($(wc -l < "$T/exported") functions)"
else
    fail exports-exactly-the-public-headers "$(diff "$T/declared" "$T/exported" | grep '^[<>]' | head -10 | tr '\n' ' ')"
fi
# Symbol versions: old functions never move to a new node (that would break
# binaries linked against 1.0); the 1.1 ones are in their own.
v10=$(nm -D --defined-only "$SO" | awk '$3 == "ng_topo_load@@NUMAGPU_1"' | wc -l)
v11=$(nm -D --defined-only "$SO" | grep -c ' ng_\(request\|plan_make\|plan_destroy\|plan_rank\|plan_nranks\|plan_feasible\|plan_refusal\)[a-z_]*@@NUMAGPU_1\.1$')
n11=$(grep -o '\bng_\(request\|plan_make\|plan_destroy\|plan_rank\|plan_nranks\|plan_feasible\|plan_refusal\)[a-z_]*[[:space:]]*(' lib/numagpu.h | sort -u | wc -l)
[ "$v10" = 1 ] && [ "$n11" -gt 20 ] && [ "$v11" = "$n11" ] &&
    pass "symbol-versions (NUMAGPU_1, $v11 in NUMAGPU_1.1)" ||
    fail symbol-versions "ng_topo_load@@NUMAGPU_1: $v10; NUMAGPU_1.1: $v11 of $n11 request functions"
# An empty export list (no library, nm failed) would pass these two vacuously.
grep -v '^ng_' "$T/exported" > "$T/other"
[ -s "$T/exported" ] && [ ! -s "$T/other" ] && pass one-prefix ||
    fail one-prefix "${SO}: $(wc -l < "$T/exported") exports; $(head -5 "$T/other" | tr '\n' ' ')"
# A private helper is really gone from the dynamic table.
if [ ! -s "$T/exported" ]; then
    fail internals-hidden "no dynamic symbols read from $SO"
elif nm -D "$SO" | grep -qw 'ng_err\|ng_buf_add\|ng_config_arg'; then
    fail internals-hidden "$(nm -D "$SO" | grep -w 'ng_err\|ng_buf_add\|ng_config_arg')"
else
    pass internals-hidden
fi

# The headers as installed: numagpu.h and numagpu/pool.h, nothing else.
mkdir -p "$T/include/numagpu"
cp lib/numagpu.h "$T/include/"
cp lib/numagpu/pool.h "$T/include/numagpu/"
cat > "$T/app.c" <<'EOF'
#include <numagpu.h>
#include <numagpu/pool.h>
#include <stdio.h>
int main(void)
{
    char err[NG_ERRLEN];
    ng_topo *t = ng_topo_load(NULL, err, sizeof(err));
    int ok = t && NUMAGPU_API_MAJOR(ng_get_api_version()) == NUMAGPU_API_MAJOR(NUMAGPU_API_VERSION);
    printf("%s %x %d\n", ng_version(), ng_get_api_version(), ok);
    ng_topo_free(t);
    return ok ? 0 : 1;
}
EOF
if cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$T/include" "$T/app.c" -o "$T/app" \
       -L"$T/lib" -lnumagpu -lhwloc 2>"$T/cc.err" &&
   out=$(LD_LIBRARY_PATH=$T/lib "$T/app") && [ "${out##* }" = 1 ]; then
    pass "c11-app-on-installed-headers ($out)"
else
    fail c11-app-on-installed-headers "$(head -5 "$T/cc.err") ${out:-}"
fi
cp "$T/app.c" "$T/app.cc"
if command -v g++ >/dev/null; then
    g++ -std=c++11 -Wall -Wextra -Werror -I"$T/include" -c "$T/app.cc" -o "$T/app-cc.o" 2>"$T/cxx.err" &&
        pass cxx-includes-public-headers || fail cxx-includes-public-headers "$(head -5 "$T/cxx.err")"
else
    skip cxx-includes-public-headers "no g++"
fi

# The request example as an application builds it: installed headers, the
# shared library; its plan on a corpus machine names every rank's GPU.
if cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$T/include" contrib/examples/plan_request.c \
       -o "$T/plan-request" -L"$T/lib" -lnumagpu -lhwloc 2>"$T/ex.err" &&
   out=$(LD_LIBRARY_PATH=$T/lib "$T/plan-request" --topology \
         tests/topologies/dell-xe8640-2s-xeon8480-snc4-4xh100.xml --cpus 0-111 '0:1:2:3' 2>&1) &&
   [ "$(printf '%s\n' "$out" | grep -c '^rank=[0-3] gpus=0000:[0-9a-f:.]* cpus=[0-9]')" = 4 ] &&
   ! printf '%s\n' "$out" | grep -q 'cpus=.*1[2-9][0-9]'; then
    pass "example-plan-request-on-the-shared-library"
else
    fail example-plan-request-on-the-shared-library "$(head -3 "$T/ex.err") $(printf '%s' "${out:-}" | head -5 | tr '\n' ' ')"
fi
out=$(LD_LIBRARY_PATH=$T/lib "$T/plan-request" --topology \
      tests/topologies/dell-xe8640-2s-xeon8480-snc4-4xh100.xml --cpus 0-3,999 0 2>&1)
[ $? = 1 ] && printf '%s' "$out" | grep -q '999 not in the topology' &&
    pass example-plan-request-refuses-a-bad-set ||
    fail example-plan-request-refuses-a-bad-set "${out:-no output}"

privs=(lib/private/*.h)
[ -e "${privs[0]}" ] || privs=()
bad=""
for h in "${privs[@]}"; do
    printf '#include "%s"\n' "${h#lib/}" > "$T/one.c"
    cc -std=c11 -Wall -Wextra -Werror -Ilib -fsyntax-only "$T/one.c" 2>"$T/one.err" || bad="$bad ${h#lib/}"
done
[ ${#privs[@]} -gt 0 ] && [ -z "$bad" ] && pass private-headers-self-contained ||
    fail private-headers-self-contained "${bad:-no header in lib/private}"

plug=$(nm -D --defined-only "$PLUGIN" 2>/dev/null | awk '$2 ~ /[TDRB]/ { print $3 }' |
       grep -v '^slurm_spank_\|^plugin_\|^spank_plugin_version$\|^_')
[ -f "$PLUGIN" ] && [ -z "$plug" ] && pass plugin-exports-only-spank-symbols ||
    fail plugin-exports-only-spank-symbols "$(echo "$plug" | head -5 | tr '\n' ' ')"
ng_end
