#!/usr/bin/python3
"""Regenerates the shared Packages fixtures of this directory from bookworm's lists.

Usage: mkfixtures.py MAIN_PACKAGES SECURITY_PACKAGES  (both uncompressed)

Packages_bookworm_closure: the dependency closure (all alternatives and
providers) of a few seeds from bookworm main, with some packages dropped so
that dependencies are missing; stanzas are kept verbatim and in archive order.
Packages_bookworm-security_for_closure: bookworm-security stanzas for packages
in the closure (newer versions: "outdated" when the closure depends on it) and
a few whose dependencies are all in the closure.
"""

import re
import sys

SEEDS = ["bsd-mailx", "apt", "perl", "python3-six", "cron", "logrotate",
         "exim4-daemon-light", "postfix", "ucf", "adduser", "sensible-utils",
         "libpam-systemd", "python3-yaml", "openssh-client", "curl", "libxml2",
         "git", "python3-requests", "rsyslog", "dbus", "mariadb-client"]
# dropped from the closure: their reverse dependencies miss a dependency
DROP = {"libsystemd-shared", "libgssapi-krb5-2", "python3-distutils", "default-mta"}
CAP = 400


def stanzas(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for block in text.split("\n\n"):
        if block.strip():
            yield block.strip("\n") + "\n"


def field(block, name):
    m = re.search(r"^" + re.escape(name) + r": (.*(?:\n .*)*)", block, re.M)
    return m.group(1) if m else ""


def names(value):
    out = []
    for item in value.split(","):
        for alt in item.split("|"):
            alt = alt.strip()
            if alt:
                out.append(re.split(r"[ :(\[]", alt)[0])
    return out


def main():
    blocks = list(stanzas(sys.argv[1]))
    by_name = {}
    providers = {}
    for b in blocks:
        n = field(b, "Package")
        by_name.setdefault(n, b)
        for v in names(field(b, "Provides")):
            providers.setdefault(v, []).append(n)
    keep = set()
    queue = list(SEEDS)
    while queue and len(keep) < CAP:
        n = queue.pop(0)
        if n in keep or n in DROP:
            continue
        cands = [n] if n in by_name else providers.get(n, [])[:2]
        for c in cands:
            if c in keep or c in DROP:
                continue
            keep.add(c)
            b = by_name[c]
            queue += names(field(b, "Depends")) + names(field(b, "Pre-Depends"))
    with open("Packages_bookworm_closure", "w", encoding="utf-8") as out:
        out.write("\n".join(b for b in blocks if field(b, "Package") in keep))
    sec = []
    extra = 0
    for b in stanzas(sys.argv[2]):
        n = field(b, "Package")
        deps = names(field(b, "Depends")) + names(field(b, "Pre-Depends"))
        if n in keep:
            sec.append(b)
        elif extra < 12 and all(d in keep for d in deps):
            sec.append(b)
            extra += 1
    with open("Packages_bookworm-security_for_closure", "w", encoding="utf-8") as out:
        out.write("\n".join(sec))
    print(len(keep), "base,", len(sec), "security")


if __name__ == "__main__":
    main()
