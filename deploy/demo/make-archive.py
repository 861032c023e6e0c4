#!/usr/bin/python3
"""make-archive.py: regenerate the demo archive of piuparts-server.

It writes archive/dists/bookworm/main/binary-amd64/Packages (and
Packages.xz beside it), next to this script: a dependency-closed subset of
Debian bookworm main amd64, cut from this machine's apt lists, so that
`make demo` can run piuparts-master and piuparts-slave on a small real
archive through a file:// mirror.

    deploy/demo/make-archive.py [FULL_PACKAGES_FILE]

FULL_PACKAGES_FILE defaults to the single match of
/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages* (the lz4 file apt
keeps there; it is read with `lz4 -dc`; a plain, .xz or .gz file works too).

How the subset is chosen (deterministic: the same input gives the same
output, byte for byte):
  - start from SEEDS below (sorted);
  - add, breadth first, every Depends and Pre-Depends relation of every
    package taken: for an alternative "a | b" the first alternative that can
    be satisfied (as apt would), for a virtual name its provider (a real
    package of that name wins; else a provider already taken; else the
    first provider by name); versioned relations and versioned Provides are
    checked with Debian's version ordering; ":any"/":native" are ignored;
  - copy the stanzas of the packages taken, byte for byte with all their
    fields, in the order of the input file (a name listed with several
    versions, such as linux-doc, keeps only its highest version, as apt).
It then checks that every relation of every package in the subset is
satisfiable inside the subset, and exits 1 if one is not.

Plain Python 3: no python3-apt or python3-debian needed.
"""

import glob
import gzip
import hashlib
import lzma
import os
import re
import subprocess
import sys

# Seeds: tools, libraries and services of many kinds. Their closure holds
# - alternatives in Depends: "debconf (>= 0.5) | debconf-2.0" (ucf, tzdata,
#   ...), "cron | anacron | cron-daemon | systemd-sysv" (logrotate),
#   "pinentry-curses | pinentry" (gpg-agent), "gpgv | gpgv2 | gpgv1" (apt);
# - a virtual package: texinfo, libio-pty-perl, libtext-iconv-perl and
#   libxml-libxml-perl depend on perlapi-5.36.0, which perl-base provides;
# - a dependency cycle: libc6 depends on libgcc-s1, which depends on libc6.
SEEDS = sorted([
    "apt", "aspell", "bash-completion", "bc", "bzip2", "ca-certificates",
    "cpio", "cron", "curl", "dbus", "dctrl-tools", "diffutils", "dnsutils",
    "dos2unix", "dpkg-dev", "ed", "fakeroot", "file", "gawk", "gettext-base",
    "git", "git-man", "gnupg", "groff-base", "gzip", "hello", "htop",
    "iproute2", "jq", "less", "libc6", "libexpat1", "libjson-perl",
    "liblz4-tool", "libsqlite3-0", "libxml2-utils", "libyaml-0-2", "locales",
    "logrotate", "lsof", "lynx", "make", "man-db", "mc", "moreutils", "nano",
    "ncdu", "netcat-openbsd", "nmap", "openssh-client", "patch", "pciutils",
    "perl", "postfix", "procps", "psmisc", "pv", "python3", "python3-minimal",
    "python3-requests", "python3-yaml", "rsync", "screen", "sensible-utils",
    "sqlite3", "strace", "sudo", "texinfo", "time", "tmux", "tree", "tzdata",
    "ucf", "unzip", "vim", "w3m", "wget", "xz-utils", "zip", "zstd",
])

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "archive", "dists", "bookworm", "main", "binary-amd64")
INPUT_GLOB = "/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*"


# --- Debian version ordering (deb-version(7)) --------------------------------

def _order(c):
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _cmp_part(a, b):
    i = j = 0
    while i < len(a) or j < len(b):
        diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not diff:
                diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if diff:
            return diff
    return 0


def _split(v):
    epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch or "0"), upstream, revision


def version_compare(a, b):
    """Return <0, 0 or >0 as version a sorts before, with or after b."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return ea - eb
    return _cmp_part(ua, ub) or _cmp_part(ra, rb)


def satisfies(version, op, want):
    c = version_compare(version, want)
    return {"<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0,
            "<": c <= 0, ">": c >= 0}[op]


# --- Packages file -----------------------------------------------------------

REL = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*"
                 r"(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?\s*$")


def parse_relations(text):
    """'a (>= 1) | b, c' -> [[(a, '>=', '1'), (b, None, None)], [(c, None, None)]]"""
    groups = []
    for group in text.split(","):
        if not group.strip():
            continue
        alts = []
        for alt in group.split("|"):
            m = REL.match(alt)
            if not m:
                sys.exit("make-archive: cannot parse relation %r" % alt)
            alts.append((m.group(1), m.group(2), m.group(3)))
        groups.append(alts)
    return groups


def fields_of(stanza):
    fields = {}
    name = None
    for line in stanza.split("\n"):
        if line[:1] in (" ", "\t"):
            fields[name] += "\n" + line
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return fields


def read_input(path):
    if path.endswith(".lz4"):
        return subprocess.run(["lz4", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout.decode("utf-8")
    if path.endswith(".xz"):
        return lzma.open(path).read().decode("utf-8")
    if path.endswith(".gz"):
        return gzip.open(path).read().decode("utf-8")
    with open(path, encoding="utf-8") as f:
        return f.read()


class Archive:
    def __init__(self, text):
        # Stanzas keep their own bytes; each is followed by one empty line.
        self.order = []
        self.stanza = {}
        self.fields = {}
        self.providers = {}  # virtual name -> [(provider, version or None)]
        for stanza in text.split("\n\n"):
            if not stanza.strip():
                continue
            f = fields_of(stanza)
            name = f["Package"]
            if name in self.stanza:
                # Several versions (linux-doc): apt takes the highest.
                if version_compare(f["Version"], self.fields[name]["Version"]) <= 0:
                    continue
                for virt in list(self.providers):
                    self.providers[virt] = [p for p in self.providers[virt] if p[0] != name]
            else:
                self.order.append(name)
            self.stanza[name] = stanza.strip("\n") + "\n"
            self.fields[name] = f
            for alts in parse_relations(f.get("Provides", "")):
                virt, _, ver = alts[0]
                self.providers.setdefault(virt, []).append((name, ver))

    def candidates(self, rel, only=None):
        """Packages satisfying one relation (name, op, version), real first."""
        name, op, want = rel
        out = []
        if name in self.fields and (only is None or name in only):
            if op is None or satisfies(self.fields[name]["Version"], op, want):
                out.append(name)
        for prov, ver in sorted(self.providers.get(name, [])):
            if only is not None and prov not in only:
                continue
            if op is None or (ver is not None and satisfies(ver, op, want)):
                out.append(prov)
        return out

    def relations(self, name):
        f = self.fields[name]
        return parse_relations(f.get("Pre-Depends", "")) + parse_relations(f.get("Depends", ""))


def closure(archive, seeds):
    taken = []
    seen = set()
    queue = []
    for s in seeds:
        if s not in archive.fields:
            sys.exit("make-archive: seed %s is not in the input" % s)
        if s not in seen:
            seen.add(s)
            queue.append(s)
    while queue:
        name = queue.pop(0)
        taken.append(name)
        for alts in archive.relations(name):
            pick = None
            for rel in alts:
                cands = archive.candidates(rel)
                if not cands:
                    continue
                if rel[0] in cands:
                    pick = rel[0]
                else:
                    inside = [c for c in cands if c in seen]
                    pick = inside[0] if inside else cands[0]
                break
            if pick is None:
                sys.exit("make-archive: %s: no alternative of %r exists" % (name, alts))
            if pick not in seen:
                seen.add(pick)
                queue.append(pick)
    return seen


def check_closed(archive, subset):
    bad = 0
    for name in sorted(subset):
        for alts in archive.relations(name):
            if not any(archive.candidates(rel, only=subset) for rel in alts):
                print("make-archive: %s: unsatisfied in the subset: %r" % (name, alts), file=sys.stderr)
                bad += 1
    return bad == 0


def main():
    if len(sys.argv) > 2:
        sys.exit("usage: make-archive.py [FULL_PACKAGES_FILE]")
    if len(sys.argv) == 2:
        path = sys.argv[1]
    else:
        found = sorted(glob.glob(INPUT_GLOB))
        if len(found) != 1:
            sys.exit("make-archive: want one file %s, found %d" % (INPUT_GLOB, len(found)))
        path = found[0]
    full = read_input(path)
    archive = Archive(full)
    subset = closure(archive, SEEDS)
    if not check_closed(archive, subset):
        sys.exit(1)
    text = "".join(archive.stanza[n] + "\n" for n in archive.order if n in subset)
    data = text.encode("utf-8")
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "Packages"), "wb") as f:
        f.write(data)
    # piupartslib opens file:// URLs only through Packages.xz (it tries .xz
    # first and stops at the first error that is not an HTTP error).
    with open(os.path.join(OUT_DIR, "Packages.xz"), "wb") as f:
        f.write(lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=6))
    print("make-archive: %d packages from %s (%d seeds) -> %s"
          % (len(subset), os.path.basename(path), len(SEEDS), os.path.relpath(OUT_DIR, HERE)))
    # The SHA256 that the InRelease file lists for main/binary-amd64/Packages:
    # the same input gives the same output.
    print("make-archive: input SHA256 %s" % hashlib.sha256(full.encode("utf-8")).hexdigest())


if __name__ == "__main__":
    main()
