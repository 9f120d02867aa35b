# numa-gpu: libnumagpu, the numa-gpu CLI and the SPANK plugin numa_gpu.so.
#   make          build everything
#   make check    install deps (apt-get, as root), build, run every test
#   make check-fast  no root, about 2.5 minutes: unit (plain, ASan), golden
#                 plans, CLI suites (plain, ASan), the harness self-test
#   make check-releases  root: every Slurm series (Debian's 22.05 and each of
#                 ../shared/vendor, built once into /var/cache/numa-gpu):
#                 the plugin built against it, the binding suite in both lab
#                 flavours, the GPU-node guest on cgroup v2 (about 6 min a
#                 series once built, 3.5 more to build one: ~50 min warm,
#                 ~70 cold on 2 cores); make check runs the binding suite
#                 on those already built
#   make demo     install deps, build, run a local Slurm cluster and show it
#   make bench    benchmarks (ratios measured side by side)
#   make check-gpu  on a GPU node: calibrate + numa-gpu vs Slurm's placement
#   make golden   rewrite the golden plans (tests/golden) after a reviewed change
#   make deb      Debian packages (contrib/debian) into build/deb
#   make dist     build/numa-gpu-VERSION.tar.gz for `rpmbuild -ta` (contrib/rpm)
#   make slurm-info  which Slurm the plugin builds against (see "Slurm" below)

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -DNUMAGPU_VERSION='"$(VERSION)"' \
           -DNG_HWLOC_INFO='"$(HWLOC_INFO)"' -DNG_LSTOPO='"$(LSTOPO)"' \
           -DNG_LSTOPO_NO_GRAPHICS='"$(LSTOPO_NO_GRAPHICS)"'
PKGS     = hwloc numa
INC      = -Ilib
LIBS     = -lhwloc -lnuma -lm -ldl -lpthread
B        = build
PREFIX  ?= /usr/local
# The one place the version lives: the library, `numa-gpu --version`, the
# .pc file and the Debian packages all take it from here.
VERSION  = 0.2.0
SOVERSION = 0
# hwloc's own tool, which checks a topology XML numa-gpu did not write in a
# child before hwloc loads it in-process (lib/xmlcheck.c).
HWLOC_INFO ?= $(shell pkg-config --variable=prefix hwloc 2>/dev/null || echo /usr)/bin/hwloc-info
# hwloc's renderer draws `explain --svg` (lstopo-no-graphics) and --png (the
# cairo lstopo of Debian's hwloc package, RHEL's hwloc-gui): lib/lstopo.c.
LSTOPO_NO_GRAPHICS ?= $(dir $(HWLOC_INFO))lstopo-no-graphics
LSTOPO ?= $(dir $(HWLOC_INFO))lstopo
# --- Slurm: the headers the plugin compiles against and the directory it is
# installed into (a SPANK plugin only loads in the Slurm release, major.minor,
# whose headers it was built with). The first of these that is there wins:
#   1. SLURM_PREFIX=DIR  an upstream build: DIR/include, DIR/lib/slurm
#                        (DIR/lib64/slurm when only that exists)
#   2. pkg-config slurm  slurm.pc, which Slurm installs when configured with
#                        --enable-pkgconfig (its slurm.spec does: RHEL's
#                        slurm-devel); it names includedir and libdir, the
#                        plugins go to libdir/slurm. PKG_CONFIG_PATH picks one.
#   3. Debian            /usr/include/slurm, /usr/lib/<multiarch>/slurm-wlm
#                        (libslurm-dev ships no slurm.pc)
#   4. RHEL              /usr/include/slurm, /usr/lib64/slurm
# With the headers in /usr/include/slurm, the plugin directory is Debian's or
# RHEL's, whichever exists (neither: Debian's on a machine with a multiarch
# triplet, else RHEL's). `make slurm-info` says what was found; building the
# plugin says it too and names the variable to set when nothing is found.
# PLUGINDIR= overrides the directory; SLURM_SYSROOT=DIR looks for 3 and 4
# under DIR (the plugin directory stays the path on the target machine).
# dpkg-architecture is asked only where it exists.
SLURM_PREFIX  ?=
SLURM_SYSROOT ?=
PKG_CONFIG    ?= pkg-config
MULTIARCH := $(shell if command -v dpkg-architecture >/dev/null 2>&1; \
    then dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null; else $(CC) -print-multiarch 2>/dev/null; fi)
# $(call slurm_version,INCDIR): "26.05.3" from INCDIR/slurm/slurm_version.h
slurm_version = $(shell n=$$(sed -n 's/^.define SLURM_VERSION_NUMBER *\(0x[0-9a-fA-F]*\).*/\1/p' \
    '$(1)/slurm/slurm_version.h' 2>/dev/null); [ -n "$$n" ] && \
    printf '%d.%02d.%d' $$((n >> 16 & 255)) $$((n >> 8 & 255)) $$((n & 255)))
SLURM_DEB_DIR  = /usr/lib/$(MULTIARCH)/slurm-wlm
SLURM_RHEL_DIR = /usr/lib64/slurm
ifneq ($(SLURM_PREFIX),)
SLURM_FROM      := SLURM_PREFIX=$(SLURM_PREFIX)
SLURM_INCDIR    := $(SLURM_PREFIX)/include
SLURM_INC       := -I$(SLURM_PREFIX)/include
SLURM_PLUGINDIR := $(firstword $(wildcard $(SLURM_PREFIX)/lib/slurm $(SLURM_PREFIX)/lib64/slurm) \
                   $(SLURM_PREFIX)/lib/slurm)
else ifeq ($(shell $(PKG_CONFIG) --exists slurm 2>/dev/null && echo yes),yes)
SLURM_FROM      := pkg-config slurm ($(shell $(PKG_CONFIG) --variable=pcfiledir slurm)/slurm.pc)
SLURM_INCDIR    := $(shell $(PKG_CONFIG) --variable=includedir slurm)
SLURM_INC       := $(shell $(PKG_CONFIG) --cflags slurm)
SLURM_PLUGINDIR := $(shell $(PKG_CONFIG) --variable=libdir slurm)/slurm
else ifneq ($(wildcard $(SLURM_SYSROOT)/usr/include/slurm/spank.h),)
SLURM_INCDIR    := $(SLURM_SYSROOT)/usr/include
SLURM_INC       := $(if $(SLURM_SYSROOT),-I$(SLURM_INCDIR))
ifneq ($(and $(MULTIARCH),$(or $(wildcard $(SLURM_SYSROOT)$(SLURM_DEB_DIR)),$(if $(wildcard \
    $(SLURM_SYSROOT)$(SLURM_RHEL_DIR)),,none))),)
SLURM_FROM      := Debian's paths
SLURM_PLUGINDIR := $(SLURM_DEB_DIR)
else
SLURM_FROM      := RHEL's paths
SLURM_PLUGINDIR := $(SLURM_RHEL_DIR)
endif
else
SLURM_FROM      :=
endif
SLURM_VERSION := $(if $(SLURM_FROM),$(call slurm_version,$(SLURM_INCDIR)))
# Why the plugin cannot be built (empty: it can).
SLURM_ERROR = $(if $(SLURM_FROM),$(if $(wildcard $(SLURM_INCDIR)/slurm/spank.h),,Slurm from \
    $(SLURM_FROM): no $(SLURM_INCDIR)/slurm/spank.h; set SLURM_PREFIX=DIR to the prefix Slurm is \
    installed under (DIR/include/slurm/spank.h)),no Slurm headers found (SLURM_PREFIX unset, no \
    slurm.pc for pkg-config, no $(SLURM_SYSROOT)/usr/include/slurm/spank.h): set SLURM_PREFIX=DIR to \
    the prefix Slurm is installed under, or PKG_CONFIG_PATH to the directory of its slurm.pc \
    (Debian: apt-get install libslurm-dev; RHEL: dnf install slurm-devel))
SLURM_SAY = numa-gpu: Slurm $(SLURM_VERSION) from $(SLURM_FROM): headers $(SLURM_INCDIR)/slurm, \
    plugin directory $(PLUGINDIR)

LIB_SRC  = lib/util.c lib/ledger.c lib/slots.c lib/pci.c lib/topo.c lib/accel.c lib/gpu.c lib/assign.c lib/gresconf.c lib/gresread.c lib/devcheck.c lib/plan.c lib/cpuopt.c lib/visible.c lib/output.c lib/apply.c lib/step.c lib/slurmstep.c lib/cgroup.c lib/config.c lib/settings.c lib/node.c lib/audit.c lib/perf.c lib/hugepages.c lib/hints.c lib/hostplans.c lib/pool.c lib/sample.c lib/auditstep.c lib/nic.c lib/k8s.c lib/irq.c lib/xmlcheck.c \
           lib/gpurt.c lib/calibrate.c lib/calibrate_out.c lib/spawn.c lib/draw.c lib/lstopo.c \
           lib/record.c lib/report.c lib/metrics.c lib/request.c
LIB_OBJ  = $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
ASAN_OBJ = $(LIB_SRC:lib/%.c=$(B)/asan/%.o)
UNIT_SRC = $(filter-out tests/unit/t.c,$(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
ASAN_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/asan-tests/%)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# libFuzzer harnesses (clang): `make fuzz` explores, `make check` replays the
# checked-in corpus (tests/fuzz/corpus/<harness>: seeds and every reproducer).
FUZZ      = busid cpulist options assign numa_maps files topology report
FUZZ_CC   = clang
FUZZ_SAN  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJ  = $(LIB_SRC:lib/%.c=$(B)/fuzz/lib/%.o)
FUZZ_BIN  = $(FUZZ:%=$(B)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60

.SECONDARY: $(ASAN_OBJ) $(FUZZ_OBJ)
.PHONY: all deps check check-fast demo bench clean install unit unit-asan check-numa \
        check-headers check-site fuzz fuzz-replay lint uninstall deb install-files golden \
        dist slurm-info print-lib-src check-gpu check-releases

all: $(B)/libnumagpu.a $(B)/libnumagpu.so $(B)/numagpu.pc $(B)/numa-gpu $(B)/numa-gpu-mpirun \
     $(B)/fault-shim.so \
     $(B)/numa_gpu.so $(B)/mkfakeroot $(B)/memhelper $(B)/shard-staging $(B)/plan-request $(B)/bench $(B)/stall \
     $(UNIT_BIN)

# --- dependencies: everything from Debian's apt, installed only if missing.
deps:
	@sh tests/deps.sh

# Every object records the headers it read (-MMD -MP): touching a header
# rebuilds exactly what includes it. Library objects are PIC so that the
# shared library, the archive and the plugin link the same objects.
DEPFLAGS = -MMD -MP
$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(DEPFLAGS) -fPIC $(INC) -c $< -o $@

$(B)/asan/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SANFLAGS) $(DEPFLAGS) -fPIC $(INC) -c $< -o $@

$(B)/libnumagpu.a: $(LIB_OBJ)
	ar rcs $@ $^

# Only the installed headers' functions are exported (lib/libnumagpu.map).
$(B)/libnumagpu.so: $(LIB_OBJ) lib/libnumagpu.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libnumagpu.so.$(SOVERSION) \
	    -Wl,--version-script=lib/libnumagpu.map -o $@ $(LIB_OBJ) $(LIBS)

$(B)/numagpu.pc: lib/numagpu.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# The CLI: one file per command under contrib/numa-gpu/ (main.c has the table).
CLI_SRC  = $(wildcard contrib/numa-gpu/*.c)
CLI_OBJ  = $(CLI_SRC:contrib/numa-gpu/%.c=$(B)/cli/%.o)
ASAN_CLI_OBJ = $(CLI_SRC:contrib/numa-gpu/%.c=$(B)/asan-cli/%.o)
$(B)/cli/%.o: contrib/numa-gpu/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(DEPFLAGS) $(INC) -c $< -o $@

$(B)/numa-gpu: $(CLI_OBJ) $(B)/libnumagpu.a
	$(CC) $(LDFLAGS) $(CLI_OBJ) -o $@ $(B)/libnumagpu.a $(LIBS)

# The plugin links libnumagpu's PIC objects: slurmstepd loads one
# self-contained .so, and exports only the SPANK symbols.
$(B)/spank/%.o: spank/%.c
	$(if $(SLURM_ERROR),$(error numa-gpu: $(SLURM_ERROR)))
	@echo "$(SLURM_SAY)"
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(DEPFLAGS) -fPIC $(INC) $(SLURM_INC) -c $< -o $@

$(B)/numa_gpu.so: $(B)/spank/numa_gpu.o $(LIB_OBJ) spank/numa_gpu.map
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=spank/numa_gpu.map -o $@ \
	    $(filter %.o,$^) $(LIBS)

$(B)/numa-gpu-mpirun: contrib/numa-gpu-mpirun
	install -m 755 $< $@

$(B)/mkfakeroot: tests/unit/mkfakeroot.c $(B)/libnumagpu.a
	$(CC) $(WARN) $(CFLAGS) $(INC) $< -o $@ $(B)/libnumagpu.a $(LIBS)

# The examples build the way an application would, against the installed-style archive.
$(B)/shard-staging: contrib/examples/shard_staging.c $(B)/libnumagpu.a
	$(CC) $(WARN) $(CFLAGS) $(INC) $< -o $@ $(B)/libnumagpu.a $(LIBS)

$(B)/plan-request: contrib/examples/plan_request.c $(B)/libnumagpu.a
	$(CC) $(WARN) $(CFLAGS) $(INC) $< -o $@ $(B)/libnumagpu.a $(LIBS)

$(B)/stall: tests/bench/stall.c
	$(CC) $(WARN) $(CFLAGS) $< -o $@ -lpthread

$(B)/bench: tests/bench/bench.c $(B)/libnumagpu.a
	$(CC) $(WARN) $(CFLAGS) $(INC) $< -o $@ $(B)/libnumagpu.a $(LIBS)

# The plugin under ASan, for one real-Slurm run (tests/slurm/test_asan.sh).
$(B)/asan-plugin/%.o: spank/%.c
	$(if $(SLURM_ERROR),$(error numa-gpu: $(SLURM_ERROR)))
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SANFLAGS) $(DEPFLAGS) -fPIC $(INC) $(SLURM_INC) -c $< -o $@

$(B)/asan-plugin/numa_gpu.so: $(B)/asan-plugin/numa_gpu.o tests/faults/asan_opts.c $(ASAN_OBJ)
	$(CC) $(WARN) -O1 -g $(SANFLAGS) -fPIC -shared $^ -o $@ $(LIBS)

# Fault injection for the tests only (never installed).
$(B)/fault-shim.so: tests/faults/shim.c
	$(CC) $(WARN) $(CFLAGS) -fPIC -shared $< -o $@ -ldl

$(B)/memhelper: tests/memhelper.c
	$(CC) $(WARN) $(CFLAGS) $< -o $@ -lnuma -lpthread

$(B)/tests/%: tests/unit/%.c $(B)/libnumagpu.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(DEPFLAGS) $(INC) -Itests/unit $< -o $@ $(B)/libnumagpu.a $(LIBS)

$(B)/asan-tests/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SANFLAGS) $(DEPFLAGS) $(INC) -Itests/unit $< -o $@ $(ASAN_OBJ) $(LIBS)

$(B)/fuzz/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) -g -O1 $(FUZZ_SAN) $(DEPFLAGS) -fsanitize=fuzzer-no-link -fPIC $(INC) -c $< -o $@

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(WARN) -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer $(INC) $< -o $@ $(FUZZ_OBJ) $(LIBS)

fuzz-replay: $(FUZZ_BIN)
	@bash tests/fuzz/run.sh replay

# Golden plans (tests/golden): `make check` compares, `make golden` rewrites
# them; read `git diff tests/golden` before committing.
golden: $(B)/numa-gpu
	@bash tests/golden/run.sh update

fuzz: $(FUZZ_BIN)
	@bash tests/fuzz/run.sh explore $(FUZZ_SECONDS)

# Static analysis, clean: cppcheck and clang-tidy (analyzer + bugprone; the
# excluded checks are style or flag intended code: see tests/lint.sh).
lint:
	@bash tests/lint.sh

unit: $(UNIT_BIN) $(B)/mkfakeroot
	@bash tests/run-unit.sh $(B)/tests

# The CLI under ASan+UBSan (the CLI suites run twice: plain and this).
$(B)/asan-cli/%.o: contrib/numa-gpu/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SANFLAGS) $(DEPFLAGS) $(INC) -c $< -o $@

$(B)/asan-cli/numa-gpu: $(ASAN_CLI_OBJ) $(ASAN_OBJ) $(B)/mkfakeroot
	$(CC) -O1 -g $(SANFLAGS) $(ASAN_CLI_OBJ) -o $@ $(ASAN_OBJ) $(LIBS)
	ln -sf ../mkfakeroot $(@D)/mkfakeroot

unit-asan: $(ASAN_BIN) $(B)/mkfakeroot
	@bash tests/run-unit.sh $(B)/asan-tests asan:

check: deps
	@$(MAKE) --no-print-directory all $(ASAN_BIN) $(FUZZ_BIN) $(B)/asan-cli/numa-gpu \
	    $(B)/asan-plugin/numa_gpu.so
	@bash tests/run-all.sh all

# The inner loop: no root, no Slurm, no QEMU (deps only checks, as a user).
check-fast:
	@sh tests/deps.sh fast
	@$(MAKE) --no-print-directory all $(ASAN_BIN) $(B)/asan-cli/numa-gpu
	@bash tests/run-all.sh fast

# The plugin compiles with -Werror against every Slurm release's SPANK headers
# (tests/vendor/slurm-headers, and ../shared/vendor/slurm-headers when present).
# The library's sources, for scripts (tests/check-headers.sh): one list.
print-lib-src:
	@echo $(LIB_SRC)

check-headers: $(LIB_OBJ)
	@bash tests/check-headers.sh

# Every Slurm series, one after another (tests/slurm/test_releases.sh): the
# vendored sources built once each (tests/lab/build-slurm.sh, cached), and
# Debian's. `make check` runs the series already built, without building.
check-releases: deps
	@$(MAKE) --no-print-directory all
	@bash tests/slurm/test_releases.sh

# The GPU-node QEMU guest (8 CPUs, 4 NUMA nodes, 4 DRM GPUs, Slurm with
# cgroup v1 and v2): part of `make check` too.
check-site: deps
	@$(MAKE) --no-print-directory all
	@bash tests/vm/test_gpunode.sh

# Real GPUs: numa-gpu calibrate, then one rank placed by numa-gpu (the
# measured gpu_map) against Slurm's default placement and the GPU's worst
# node, pinned H2D/D2H ratios in one run (build/check-gpu/results.md).
# Without a GPU runtime it skips with one line.
check-gpu:
	@sh tests/deps.sh fast
	@$(MAKE) --no-print-directory $(B)/numa-gpu
	@NUMA_GPU_BUILD=$(B) bash tests/gpu/check-gpu.sh

check-numa: deps
	@$(MAKE) --no-print-directory all
	@bash tests/vm/test_numa.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tests/slurm/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bash tests/bench/run.sh

# Slurm's plugin directory: where the Slurm found above keeps its plugins
# (see "Slurm" at the top); PLUGINDIR= overrides it.
PLUGINDIR ?= $(SLURM_PLUGINDIR)
LIBDIR    ?= $(PREFIX)/lib
DOCDIR    ?= $(PREFIX)/share/doc/numa-gpu
MANDIR    ?= $(PREFIX)/share/man
MANPAGES   = contrib/man/numa-gpu.1 contrib/man/numa-gpu-mpirun.1 contrib/man/libnumagpu.3 contrib/man/numa_gpu.8
ETC_DOCS   = etc/plugstack.conf.d/numa-gpu.conf etc/epilog.d/numa-gpu-summary.sh \
             etc/gres.conf.example contrib/docs/user-guide.md contrib/docs/admin-guide.md \
             contrib/docs/json-schemas.md etc/prometheus/numa-gpu-alerts.yml
# Every file install writes (uninstall removes exactly these).
INSTALLED  = $(PLUGINDIR)/numa_gpu.so \
             $(LIBDIR)/libnumagpu.so.$(SOVERSION) $(LIBDIR)/libnumagpu.so $(LIBDIR)/libnumagpu.a \
             $(LIBDIR)/pkgconfig/numagpu.pc $(PREFIX)/include/numagpu.h \
             $(PREFIX)/include/numagpu/pool.h \
             $(PREFIX)/bin/numa-gpu $(PREFIX)/bin/numa-gpu-mpirun \
             $(MANDIR)/man1/numa-gpu.1 $(MANDIR)/man1/numa-gpu-mpirun.1 \
             $(MANDIR)/man3/libnumagpu.3 $(MANDIR)/man8/numa_gpu.8 \
             $(addprefix $(DOCDIR)/,$(notdir $(ETC_DOCS)))

PROGRAMS = $(B)/libnumagpu.a $(B)/libnumagpu.so $(B)/numa-gpu $(B)/numa_gpu.so

install: $(PROGRAMS)
	@$(MAKE) --no-print-directory install-files

# Copy what is built (the Debian rules call this after their own build).
install-files:
	$(if $(PLUGINDIR),,$(error numa-gpu: no plugin directory: $(SLURM_ERROR); or set PLUGINDIR=DIR))
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 755 $(B)/numa_gpu.so $(DESTDIR)$(PLUGINDIR)/numa_gpu.so
	install -m 755 $(B)/libnumagpu.so $(DESTDIR)$(LIBDIR)/libnumagpu.so.$(SOVERSION)
	ln -sf libnumagpu.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libnumagpu.so
	install -m 644 $(B)/libnumagpu.a $(DESTDIR)$(LIBDIR)/libnumagpu.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    lib/numagpu.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/numagpu.pc
	install -d $(DESTDIR)$(PREFIX)/include/numagpu
	install -m 644 lib/numagpu.h $(DESTDIR)$(PREFIX)/include/numagpu.h
	install -m 644 lib/numagpu/pool.h $(DESTDIR)$(PREFIX)/include/numagpu/pool.h
	install -m 755 $(B)/numa-gpu contrib/numa-gpu-mpirun $(DESTDIR)$(PREFIX)/bin/
	install -m 644 contrib/man/numa-gpu.1 contrib/man/numa-gpu-mpirun.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 contrib/man/libnumagpu.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 contrib/man/numa_gpu.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(ETC_DOCS) $(DESTDIR)$(DOCDIR)/
	sed 's|^optional [^ ]*/numa_gpu\.so |optional $(PLUGINDIR)/numa_gpu.so |' \
	    etc/plugstack.conf.d/numa-gpu.conf > $(DESTDIR)$(DOCDIR)/numa-gpu.conf

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir --ignore-fail-on-non-empty -p $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PLUGINDIR) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include/numagpu $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8 2>/dev/null

# Debian packages numa-gpu (plugin + CLI + libnumagpu0) and libnumagpu-dev,
# built with debhelper from contrib/debian into build/deb.
deb: deps
	@bash contrib/debian/build.sh $(VERSION)

# The source tarball build/numa-gpu-$(VERSION).tar.gz, with numa-gpu.spec
# (contrib/rpm) at its top: `rpmbuild -ta` builds the RPMs numa-gpu (plugin +
# CLI), libnumagpu and libnumagpu-devel from it.
dist:
	@bash contrib/rpm/dist.sh $(VERSION) $(B)

# Which Slurm the plugin builds against and where it installs (see the top).
slurm-info:
	@echo "slurm: $(or $(SLURM_FROM),none found)"
	@echo "version: $(SLURM_VERSION)"
	@echo "headers: $(if $(SLURM_INCDIR),$(SLURM_INCDIR)/slurm)"
	@echo "plugindir: $(PLUGINDIR)"
	@$(if $(SLURM_ERROR),echo "error: $(SLURM_ERROR)" >&2; exit 1,true)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' -type f -not -path '$(B)/deb/*' 2>/dev/null)
