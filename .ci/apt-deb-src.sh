#!/bin/sh
# apt-deb-src.sh: make apt fetch bookworm main's Sources list, which the report
# tests (Debian's piuparts-report reads a Sources file) and their fixture
# generators need. Called by `make test-deps`; idempotent.
#
# When no deb-src entry for bookworm exists in /etc/apt/sources.list.d (deb822
# .sources or one-line .list files), it writes
# /etc/apt/sources.list.d/piuparts-server-src.sources with the URIs and
# Signed-By of the machine's own "deb" entry for bookworm (so no mirror is
# named here), Types: deb-src, Suites: bookworm, Components: main, then runs
# apt-get update. It also runs apt-get update when the entry exists but apt has
# no Sources list for it yet. Not root: it says so loudly and does nothing.
set -eu

dir=/etc/apt/sources.list.d
out=$dir/piuparts-server-src.sources

if [ "$(id -u)" != 0 ]; then
	echo "################################################################"
	echo "# apt-deb-src: NOT ROOT, no deb-src entry added."
	echo "# Tests that need bookworm's Sources list will SKIP."
	echo "################################################################"
	exit 0
fi

# has_src: is there a deb-src entry naming the suite bookworm?
has_src() {
	for f in "$dir"/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n"; found = 0 }
		{
			t = 0; s = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:.*deb-src/) t = 1
				if ($i ~ /^Suites:/ && (" " substr($i, 8) " ") ~ /[ \t]bookworm[ \t]/) s = 1
			}
			if (t && s) found = 1
		}
		END { exit found ? 0 : 1 }' "$f" && return 0
	done
	for f in /etc/apt/sources.list "$dir"/*.list; do
		[ -f "$f" ] || continue
		grep -Eq '^[[:space:]]*deb-src([[:space:]]+\[[^]]*\])?[[:space:]]+[^[:space:]]+[[:space:]]+bookworm[[:space:]]' "$f" && return 0
	done
	return 1
}

if has_src; then
	echo "apt-deb-src: a deb-src entry for bookworm exists, not adding one"
else
	# The first deb822 stanza with Types: deb and the suite bookworm gives the
	# URIs and Signed-By to copy.
	stanza=""
	for f in "$dir"/*.sources; do
		[ -f "$f" ] || continue
		stanza=$(awk 'BEGIN { RS = ""; FS = "\n" }
		{
			t = 0; s = 0; u = ""; k = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:/ && (" " substr($i, 7) " ") ~ /[ \t]deb[ \t]/) t = 1
				if ($i ~ /^Suites:/ && (" " substr($i, 8) " ") ~ /[ \t]bookworm[ \t]/) s = 1
				if ($i ~ /^URIs:/) u = $i
				if ($i ~ /^Signed-By:/) k = $i
			}
			if (t && s && u != "") { print u; if (k != "") print k; exit }
		}' "$f")
		[ -n "$stanza" ] && break
	done
	if [ -z "$stanza" ]; then
		echo "apt-deb-src: no deb822 'Types: deb' entry for bookworm in $dir; add a deb-src entry by hand" >&2
		exit 1
	fi
	echo "apt-deb-src: writing $out (deb-src bookworm main, the URIs of the existing deb entry)"
	{
		echo "# Written by piuparts-server's make test-deps (.ci/apt-deb-src.sh): Sources for the report tests."
		echo "Types: deb-src"
		echo "$stanza" | grep '^URIs:'
		echo "Suites: bookworm"
		echo "Components: main"
		echo "$stanza" | grep '^Signed-By:' || true
	} >"$out.tmp"
	mv "$out.tmp" "$out"
fi

if ls /var/lib/apt/lists/*_dists_bookworm_main_source_Sources* >/dev/null 2>&1; then
	echo "apt-deb-src: bookworm main Sources list present"
else
	echo "apt-deb-src: apt-get update (no bookworm main Sources list yet)"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
fi
