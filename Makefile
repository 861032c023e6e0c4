# piuparts-server: the two commands a newcomer runs come first.
#   make demo   builds everything and runs a master, slaves and a report on a small real archive
#   make test   installs what the tests need (when root) and runs every test

GO       ?= go
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BINARIES := $(notdir $(wildcard cmd/*))
# What make install and the package ship: piuparts-scenario runs from a checkout (deploy/demo,
# the README, make deb), so it stays in bin/.
PROGRAMS := $(filter-out piuparts-scenario,$(BINARIES))
FUZZTIME ?= 15s

# With liblzma's headers (liblzma-dev), Packages.xz is decompressed in the master's own process
# (-tags liblzma), which makes a cold start about 0.2 s faster than piping it through the xz
# command. Evaluated when a recipe runs, so that test-deps can install liblzma-dev first;
# every go command of a recipe (and those the tests start) sees it through GOFLAGS.
LIBLZMA = $(shell test -f /usr/include/lzma.h && echo -tags=liblzma)
export GOFLAGS += $(LIBLZMA)

# Debian packages the tests use: gcc for cgo (mattn/go-sqlite3), liblzma-dev (see LIBLZMA), dpkg as the version-comparison
# oracle, lz4 to read apt's compressed lists, xz/bzip2 for the loader tests, openssh-server for
# the sshd tests, and Debian's piuparts-master/piuparts-slave as the behaviour and speed oracle.
# For the report: piuparts-master's piuparts-report is the oracle (it needs python3-yaml,
# distro-info-data and python3-distro-info for summary.json's json-sections), chromium renders
# pages, python3-html5lib is the strict HTML check; .ci/apt-deb-src.sh adds a deb-src entry so
# that apt fetches bookworm's Sources list. python3-portpicker is the port server's real client
# and its speed oracle (Debian's portserver). piuparts and debootstrap run the real farm
# (make demo PIUPARTS=real and the scenario real-piuparts; as root); debootstrap and systemd-container
# (systemd-nspawn) boot the throwaway machines in which the .deb is installed and the quickstart
# is run under a real systemd. groff-base and man-db check the generated manual pages. The
# package test (deploy/) builds the .deb with dpkg-dev's dpkg-shlibdeps, checks it with lintian,
# installs it in a debootstrap chroot and runs Debian's piuparts on it.
TEST_DEPS := gcc libc6-dev liblzma-dev dpkg lz4 xz-utils bzip2 openssh-server openssh-client \
             piuparts-master piuparts-slave python3-apt piuparts debootstrap \
             chromium python3-html5lib python3-yaml distro-info-data python3-distro-info \
             python3-portpicker systemd-container groff-base man-db lintian dpkg-dev

.PHONY: demo test build man docs install deb scenarios bench fuzz test-deps compat-versions compat-full vet clean

# demo: a farm on this machine: our master (started by each slave over pipes, no sshd) and
# two slaves test a 293-package subset of bookworm with the piuparts simulator (deploy/demo),
# then piuparts-report writes the web report of the result. make demo PIUPARTS=real: the
# same farm with one slave and Debian's real piuparts on five bookworm packages (as root).
DEMO_DIR ?= demo
PIUPARTS ?= simulator
demo: build
	@PIUPARTS=$(PIUPARTS) deploy/demo/run bin $(DEMO_DIR)

test: test-deps vet
	$(GO) test -race -count=1 ./...
	@# The race detector slows streaming twentyfold, so under it the 1 GiB long-part test
	@# streams 256 MiB; run it once more at full size without it.
	$(GO) test -count=1 -run '^TestLongPart_1GiBBoundedMemory$$' -v ./protocol | grep -E '^(--- |ok|FAIL)'

# scenarios: every end-to-end scenario of cmd/piuparts-scenario (a farm behind sshd on
# 127.0.0.1, slaves killed, Debian's programs beside ours) with its table of steps and times;
# root and openssh-server (make test-deps) for sshd. make test runs the quick ones.
scenarios: build
	bin/piuparts-scenario all

vet:
	$(GO) vet ./...
	@# The other side of the liblzma build tag.
	GOFLAGS= $(GO) vet ./internal/debian

build:
	@mkdir -p bin
	@[ -n "$(LIBLZMA)" ] || echo "build: no liblzma-dev: Packages.xz will be decompressed by the xz command (slower cold starts)"
	@for b in $(BINARIES); do \
	  echo "go build -o bin/$$b ./cmd/$$b"; \
	  $(GO) build -ldflags "$(LDFLAGS)" -o bin/$$b ./cmd/$$b || exit 1; \
	done

# man: manual pages from the programs' own help texts (bin/man/man8/PROGRAM.8, man1 for
# piuparts-scenario) and piuparts.toml(5) from internal/config's key table (deploy/mangen).
# docs: the README's config reference, between its config-reference markers, from the same table.
MANGEN = $(GO) run ./deploy/mangen -bin bin -out bin/man -date $$(git log -1 --format=%cs 2>/dev/null || date -u +%F)
man: build
	$(MANGEN) -version $(VERSION)

docs:
	$(GO) run ./deploy/mangen -readme README.md

# install: the programs into $(DESTDIR)$(PREFIX)/bin, /etc/piuparts/piuparts.toml (kept when
# changed: the new one goes beside it as .new), logrotate, Apache and nginx files in /etc, the
# systemd units and timers (not enabled) in UNITDIR, the cron and sudoers examples and the man
# pages (bin/man, when generated) under $(PREFIX)/share. deb: the same as a Debian package
# bin/piuparts-server_VERSION_ARCH.deb (deploy/debian/), with DEB_VERSION from git describe.
PREFIX        ?= /usr/local
UNITDIR       ?= $(PREFIX)/lib/systemd/system
DEB_VERSION    = $(shell deploy/debian/version)
DEB_MAINTAINER ?= $(shell git log -1 --format='%an <%ae>')
install: build man
	deploy/install "$(DESTDIR)" "$(PREFIX)" "$(UNITDIR)" $(PROGRAMS)

deb:
	@# Hardened as dpkg-buildflags says: PIE, RELRO and BIND_NOW from the external linker for
	@# every program, fortified C (SQLite) for the cgo ones.
	CGO_CFLAGS="$$(dpkg-buildflags --get CFLAGS) $$(dpkg-buildflags --get CPPFLAGS)" \
	  $(MAKE) build VERSION=$(DEB_VERSION) GOFLAGS="$(GOFLAGS) -buildmode=pie" \
	  LDFLAGS="-X main.version=$(DEB_VERSION) -linkmode=external -extldflags=-Wl,-z,relro,-z,now"
	@# The pages of the programs just built (make man would build them again, unhardened).
	$(MANGEN) -version $(DEB_VERSION)
	deploy/debian/build "$(DEB_VERSION)" "$(DEB_MAINTAINER)" $(PROGRAMS)

# bench: Go benchmarks, then Debian's master against ours on all of bookworm main
# (cold/warm status and reserve, peak RSS), Debian's piuparts-report on it (cold, no-change
# and 100-new-logs runs), Debian's portserver against ours (grants/s and latency at 1, 16
# and 64 clients, denials on a full pool), our master under a live farm's load (32 sessions
# reserving and submitting for 60 s, over pipes and through OpenSSH's sshd on 127.0.0.1 with
# forced commands, the latter as root with openssh-server installed, PIUPARTS_LOAD_SSH=0 to
# leave it out: acknowledged logs/s, connect, reserve and pass latencies), then Debian's
# piupartslib on the same bookworm Packages file the debian benchmarks decompressed into $TMPDIR.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
	PIUPARTS_BENCH=1 $(GO) test -count=1 -timeout 60m -run '^TestReference_Bench$$' -v ./cmd/piuparts-master
	PIUPARTS_BENCH=1 $(GO) test -count=1 -timeout 60m -run '^TestReport_Bench$$' -v ./cmd/piuparts-report
	PIUPARTS_BENCH=1 $(GO) test -count=1 -timeout 20m -run '^TestPortserver_Bench$$' -v ./cmd/piuparts-portserver
	PIUPARTS_BENCH=1 $(GO) test $(LIBLZMA) -count=1 -timeout 20m -run '^TestLoad_Bench$$' -v ./cmd/piuparts-master
	@f=$$(ls -t $${TMPDIR:-/tmp}/piuparts-server-debian-*_Packages-* 2>/dev/null | head -1); \
	if [ -n "$$f" ] && [ -x /usr/bin/python3 ]; then \
	  echo "== piupartslib PackagesFile on the same file (compare with BenchmarkReadPackages)"; \
	  /usr/bin/python3 internal/debian/testdata/bench_piupartslib.py "$$f" 3; \
	else echo "bench: no bookworm Packages file or no /usr/bin/python3: piupartslib side skipped"; fi

# fuzz: every Fuzz target in the tree for FUZZTIME each (make fuzz FUZZTIME=2m). Minimizing a new
# interesting input of a large seed (deploy/piuparts.toml) can stall a worker for minutes, so
# minimization is bounded by runs, not time.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg; \
	  done; \
	done

# compat-versions: our version comparison against dpkg on >= 100,000 real pairs.
compat-versions:
	DEBIAN_DPKG_PAIRS=100000 $(GO) test -count=1 -timeout 30m -run '^TestCompareVersions_Dpkg$$' -v ./internal/debian

# compat-full: our package states against piupartslib's (the engine) and Debian's master
# (the program), and our report against Debian's piuparts-report, on all of bookworm main,
# with synthetic logs. Minutes.
compat-full:
	PIUPARTS_COMPAT_FULL=1 $(GO) test -count=1 -timeout 90m -run '^TestCompute_OracleFull$$' -v ./master/state
	PIUPARTS_COMPAT_FULL=1 $(GO) test -count=1 -timeout 60m -run '^TestCompat_DebianReportFull$$' -v ./cmd/piuparts-report
	PIUPARTS_COMPAT_FULL=1 $(GO) test -count=1 -timeout 90m -run '^TestReference_FullArchive$$' -v ./cmd/piuparts-master

# test-deps installs what the tests need when run as root; otherwise it says loudly what
# will be skipped. It is idempotent and quick when everything is present.
test-deps:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "################################################################"; \
	  echo "# make test-deps: NOT ROOT, installing nothing."; \
	  echo "# Tests that need these packages will SKIP: $(TEST_DEPS)"; \
	  echo "################################################################"; \
	  exit 0; \
	fi; \
	missing=""; \
	for p in $(TEST_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	lists=$$(ls /var/lib/apt/lists/*bookworm_main_binary-amd64_Packages* 2>/dev/null | head -1); \
	if [ -n "$$missing" ] || [ -z "$$lists" ]; then \
	  echo "make test-deps: apt-get update"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "make test-deps: installing$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	else \
	  echo "make test-deps: all present ($(TEST_DEPS))"; \
	fi; \
	sh .ci/apt-deb-src.sh

clean:
	rm -rf bin
