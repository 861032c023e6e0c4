#!/usr/bin/python3
"""Time piupartslib's PackagesFile on a plain Packages file.

Usage: /usr/bin/python3 testdata/bench_piupartslib.py PLAIN_PACKAGES_FILE [RUNS]

PackagesFile.load_packages_urls() first tries URL.xz, URL.bz2 and URL.gz
through urllib, which raises on a missing file:// URL instead of moving on, so
this calls the parsing step it uses, PackagesFile._read_file, on the opened
plain file. That is the same work BenchmarkParsePackages/ReadPackages does.
"""

import sys
import time

import piupartslib.packagesdb as packagesdb


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        pf = packagesdb.PackagesFile()
        with open(path, encoding="utf-8") as f:
            pf._read_file(f)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        print("piupartslib PackagesFile: %d packages in %.3f s" % (len(pf), elapsed))
    print("best of %d: %.3f s" % (runs, best))


if __name__ == "__main__":
    main()
