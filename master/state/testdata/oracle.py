#!/usr/bin/python3
"""Oracle for the Go port in piuparts-server/master/state.

Runs Debian's piupartslib.packagesdb.PackagesDB on a piuparts master
directory, the way piuparts-master-backend's _load_package_database and
debug commands use it, and prints the answers as JSON.

Usage: oracle.py CONFIG.json  (CONFIG describes the sections; see the Go test)

  {"master": DIR, "main": SECTION, "recycle": BOOL,
   "sections": {NAME: {"packages": [PATH...], "final": [PATH...] or null,
                       "depends": [NAME...]}},
   "queries": [NAME...], "debug": [NAME...], "counts": [NAME...],
   "candidates": BOOL}

Packages files are read with PackagesFile._read_file (the URL opener of
piupartslib only knows http and compressed names).
"""

import json
import os
import sys
import time

import piupartslib.packagesdb as pdb


def load_pf(paths):
    pf = pdb.PackagesFile()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            pf._read_file(f)
    return pf


def main():
    cfg = json.load(open(sys.argv[1]))
    os.chdir(cfg["master"])
    secs = cfg["sections"]
    dbs = {}

    # mirrors piuparts-master-backend's Master._load_package_database
    def load(section, recycle):
        if section in dbs:
            return
        sc = secs[section]
        db = pdb.PackagesDB(prefix=section)
        if recycle:
            db.enable_recycling()
        dbs[section] = db
        if sc.get("depends"):
            for dep in sc["depends"]:
                load(dep, False)
            db.set_dependency_databases([dbs[d] for d in sc["depends"]])
        db._packages_files.append(load_pf(sc["packages"]))
        db._packages = None
        if sc.get("final") is not None:
            pf2 = load_pf(sc["final"])
            for package in db.get_all_packages():
                if package.name() in pf2:
                    package.set_test_versions(pf2[package.name()].version())
                else:
                    package.set_test_versions("None")

    t0 = time.time()
    main_name = cfg["main"]
    load(main_name, cfg.get("recycle", False))
    db = dbs[main_name]
    out = {"recycle_mode": db._recycle_mode}

    # the "status" command
    status = []
    for state in db.get_active_states():
        status.append([state, len(db.get_pkg_names_in_state(state))])
    out["status"] = status
    out["seconds_compute"] = time.time() - t0

    # "_list" for every state
    out["lists"] = {s: sorted(db.get_pkg_names_in_state(s)) for s in db.get_states()}

    # "_state" for every package and the extra queried names
    names = list(db.get_all_package_names()) + (cfg.get("queries") or [])
    out["states"] = {n: db.get_package_state(n) for n in names}
    out["test_versions"] = {n: db.get_test_versions(n) for n in db.get_all_package_names()}
    out["order"] = list(db.get_all_package_names())

    # "_depends", "_recursive-depends", "_depcycle"
    dbg = {}
    for n in cfg.get("debug") or []:
        if not db.has_package(n):
            dbg[n] = None
            continue
        p = db.get_package(n)
        dbg[n] = {
            "depends": p.dependencies(),
            "recursive": db._get_recursive_dependencies(p),
            "cycle": db._get_dependency_cycle(n),
        }
    out["debug"] = dbg

    t1 = time.time()
    if cfg.get("candidates"):
        cands = db._find_packages_ready_for_testing()
        out["candidates"] = [[p.name(), p.test_versions(), list(db._get_package_weight(p))] for p in cands]
    out["seconds_candidates"] = time.time() - t1

    counts = {}
    for n in cfg.get("counts") or []:
        counts[n] = [db.block_count(n), db.rrdep_count(n), db.waiting_count(n), db.rdep_chain_len(n)]
    out["counts"] = counts

    json.dump(out, sys.stdout, indent=None, sort_keys=True)


if __name__ == "__main__":
    main()
