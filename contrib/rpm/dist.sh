#!/bin/bash
# make dist: BUILD/numa-gpu-VERSION.tar.gz, the source tree with numa-gpu.spec
# (made from contrib/rpm/numa-gpu.spec.in) at its top, so that
#   rpmbuild -ta build/numa-gpu-VERSION.tar.gz
# builds the RPMs. The tree is git's tracked and untracked-but-not-ignored
# files (as `make deb` copies it), or, outside a git work tree (an unpacked
# tarball), every file but BUILD and .git. The changelog date and the files'
# times are those of the last commit (SOURCE_DATE_EPOCH wins), so two runs
# on one commit give the same tarball.
set -eu
cd "$(dirname "$0")/../.."
V=${1:?usage: dist.sh VERSION [BUILD]}
B=${2:-build}
name=numa-gpu-$V
stage=$B/dist
rm -rf "$stage"
mkdir -p "$stage/$name"
list=$stage/files
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
    # A tracked file deleted in the work tree is not shipped.
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            [ -e "$f" ] && printf '%s\0' "$f"
        done >"$list"
    epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
else
    find . -path "./$B" -prune -o -path ./.git -prune -o \( -type f -o -type l \) -printf '%P\0' >"$list"
    epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}
fi
tar --null -T "$list" -cf - | tar -xf - -C "$stage/$name"
# rpmbuild -ta takes every *.spec in the tarball as the spec: exactly one.
others=$(cd "$stage/$name" && find . -name '*.spec' | head -3)
[ -z "$others" ] || { echo "dist: the tree already holds a .spec ($others): rpmbuild -ta would read it too" >&2; exit 1; }
sed -e "s/@VERSION@/$V/g" -e "s/@DATE@/$(LC_ALL=C date -u -d "@$epoch" '+%a %b %d %Y')/g" \
    contrib/rpm/numa-gpu.spec.in >"$stage/$name/numa-gpu.spec"
out=$B/$name.tar.gz
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -cf - "$name" |
    gzip -9n >"$out"
rm -rf "$stage"
echo "$out"
