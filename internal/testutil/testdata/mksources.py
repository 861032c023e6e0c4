#!/usr/bin/python3
"""Cuts the Sources stanzas of the source packages of a Packages subset out of a full Sources list.

Usage: mksources.py FULL_SOURCES PACKAGES_SUBSET > SOURCES_SUBSET
       mksources.py --all   (regenerates every Sources fixture of the tree, see below)

Each binary stanza names its source package in "Source: NAME [(VERSION)]", or
by its own name and version when the field is absent. The output holds, verbatim
and in the order of FULL_SOURCES, every stanza of FULL_SOURCES whose Package and
Version are such a (source, version) pair; a source whose version is not in
FULL_SOURCES falls back to its stanzas of any
version, and the script says so on stderr (exim4 in bookworm-security, whose
binaries are of a newer upload than its Sources stanza). Plain Python 3; FULL_SOURCES may be
plain, .lz4 (through the lz4 command, as apt keeps it), .xz or .gz.

--all writes, from this machine's apt lists (bookworm main and
bookworm-security; make test-deps adds the deb-src entry they need):
  internal/testutil/testdata/Sources_bookworm_closure
      for Packages_bookworm_closure (bookworm main)
  internal/testutil/testdata/Sources_bookworm-security_for_closure
      for Packages_bookworm-security_for_closure (bookworm-security)
  deploy/demo/archive/dists/bookworm/main/source/Sources (and Sources.xz)
      for the demo's binary-amd64/Packages (bookworm main)
"""

import glob
import gzip
import lzma
import os
import re
import subprocess
import sys


def read(path):
    if path.endswith(".lz4"):
        return subprocess.run(["lz4", "-dc", path], check=True, capture_output=True).stdout.decode("utf-8")
    if path.endswith(".xz"):
        with lzma.open(path, "rt", encoding="utf-8") as f:
            return f.read()
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def stanzas(text):
    for block in text.split("\n\n"):
        if block.strip():
            yield block.strip("\n") + "\n"


def field(block, name):
    m = re.search(r"^" + re.escape(name) + r": ?(.*)$", block, re.M)
    return m.group(1).strip() if m else ""


def wanted(packages_text):
    """The (source, version) pairs of the binaries of packages_text."""
    out = set()
    for b in stanzas(packages_text):
        src, ver = field(b, "Package"), field(b, "Version")
        s = field(b, "Source")
        if s:
            m = re.match(r"(\S+)(?:\s+\((\S+)\))?", s)
            src = m.group(1)
            if m.group(2):
                ver = m.group(2)
        out.add((src, ver))
    return out


def cut(sources_text, packages_text):
    want = wanted(packages_text)
    blocks = list(stanzas(sources_text))
    have = {(field(s, "Package"), field(s, "Version")) for s in blocks}
    exact = want & have
    loose = {src for (src, ver) in want - have}
    for src in sorted(loose):
        print("mksources: source %s: no stanza of the binaries' version, keeping every version" % src, file=sys.stderr)
    out = []
    for s in blocks:
        key = (field(s, "Package"), field(s, "Version"))
        if key in exact or key[0] in loose:
            out.append(s)
    found = {field(s, "Package") for s in out}
    for src in sorted({src for (src, _) in want} - found):
        print("mksources: source %s: not in the Sources list" % src, file=sys.stderr)
    return "\n".join(out)


def one_list(pattern):
    paths = glob.glob(pattern)
    if len(paths) != 1:
        sys.exit("mksources: want one apt list matching %s, found %d (make test-deps adds the deb-src entry)" % (pattern, len(paths)))
    return paths[0]


def write(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print("mksources: wrote %s (%d stanzas)" % (path, text.count("\nPackage: ") + text.startswith("Package: ")), file=sys.stderr)


def all_fixtures():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    lists = "/var/lib/apt/lists/"
    main = read(one_list(lists + "*_debian_dists_bookworm_main_source_Sources*"))
    security = read(one_list(lists + "*_dists_bookworm-security_main_source_Sources*"))
    for sources, pkgs, out in [
        (main, os.path.join(here, "Packages_bookworm_closure"), os.path.join(here, "Sources_bookworm_closure")),
        (security, os.path.join(here, "Packages_bookworm-security_for_closure"),
         os.path.join(here, "Sources_bookworm-security_for_closure")),
    ]:
        write(out, cut(sources, read(pkgs)))
    demo = os.path.join(root, "deploy", "demo", "archive", "dists", "bookworm", "main")
    text = cut(main, read(os.path.join(demo, "binary-amd64", "Packages")))
    os.makedirs(os.path.join(demo, "source"), exist_ok=True)
    out = os.path.join(demo, "source", "Sources")
    write(out, text)
    # Why: Debian's piupartslib, given a file:// URL, only tries Sources.xz.
    with lzma.open(out + ".xz.tmp", "wt", encoding="utf-8", preset=6) as f:
        f.write(text)
    os.replace(out + ".xz.tmp", out + ".xz")


def main():
    if sys.argv[1:] == ["--all"]:
        all_fixtures()
    elif len(sys.argv) == 3:
        sys.stdout.write(cut(read(sys.argv[1]), read(sys.argv[2])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
