#!/bin/bash
# make deb: build the numa-gpu and libnumagpu-dev packages with debhelper into
# build/deb from a copy of the tracked source tree; runs lintian. VERSION
# comes from the Makefile (the one place it is set).
set -eu
cd "$(dirname "$0")/../.."
V=${1:?version}
out=build/deb
src=$out/numa-gpu-$V
rm -rf "$out"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard 2>/dev/null | grep -zv '^tests/\(topologies\|fuzz/corpus\)/' | xargs -0 cp --parents -t "$src" 2>/dev/null ||
    tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
mkdir -p "$src/debian/source"
cp contrib/debian/control contrib/debian/rules contrib/debian/copyright \
   contrib/debian/numa-gpu.install contrib/debian/libnumagpu-dev.install contrib/debian/libnumagpu0.install "$src/debian/"
cp contrib/debian/lintian-overrides "$src/debian/numa-gpu.lintian-overrides"
echo "3.0 (native)" > "$src/debian/source/format"
cat > "$src/debian/changelog" <<EOC
numa-gpu ($V) unstable; urgency=medium

  * Release $V.

 -- numa-gpu developers <numa-gpu@example.org>  $(date -R)
EOC
(cd "$src" && dpkg-buildpackage -us -uc -b >../build.log 2>&1) ||
    { tail -30 "$out/build.log" >&2; exit 1; }
ls "$out"/*.deb
if command -v lintian >/dev/null; then
    lintian --no-tag-display-limit "$out"/*.changes 2>&1 | tee "$out/lintian.txt" || true
fi
