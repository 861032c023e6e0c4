// Package state computes the testing state of every package of a piuparts
// section: the algorithm of Debian's piupartslib.packagesdb.PackagesDB,
// ported without its I/O. The master gives it the parsed Packages data and
// the set of existing logs, and asks for states, the candidates to reserve
// and the answers of the debug commands. Its answers are piupartslib's on
// the same input, package for package; the tests compare them with
// piupartslib itself (testdata/oracle.py).
//
// # Input
//
// A [Section] holds its packages in the order of its Packages files: the
// order matters, as Python dicts iterate in insertion order and the
// resolution loop below depends on it. A later stanza of a name replaces an
// earlier one only with a higher version and keeps its position
// (PackagesFile._read_file). [Package.TestVersion] is the version in the
// section's final distro, or "None" (load_alternate_versions_from_packages_urls).
// [Logs] records which NAME_VERSION.log files exist in pass/, fail/,
// untestable/, reserved/, bugged/, affected/ and recycle/; logs count for a
// package's test version. Depends-sections are Sections too.
//
// # Algorithm
//
// [Compute] follows _compute_package_states. Depends-sections are computed
// first, with a pass/ log trusted as it is (use_cached_success); the
// section asked for is computed without. Each package then gets an initial
// state (_lookup_package_state):
//
//   - outdated, when a depends-section has a higher version (actual versions,
//     not test versions; only with depends-sections);
//   - in recycle mode, waiting-to-be-tested with a reserved/ log, unknown
//     with a recycle/ marker;
//   - successfully-tested with a pass/ log, unless (without cached
//     successes) a dependency is neither a package nor a provided name of
//     the section itself;
//   - failed-testing with a log in fail/, bugged/ or affected/;
//     cannot-be-tested with one in untestable/; waiting-to-be-tested with a
//     reserved/ log; unknown otherwise.
//
// The unknown packages are then resolved in passes over them, in file order,
// each seeing the states set earlier in the same pass, until a pass resolves
// nothing (_compute_package_state):
//
//  1. For each Depends and Pre-Depends item with alternatives, the first
//     alternative in the best state (essential-required, successfully-tested,
//     waiting, unknown) becomes the item's dependency (prefer_alt_depends; the
//     choice persists and shows in [Result.Dependencies]); with no
//     alternative existing at all the package is dependency-does-not-exist.
//  2. The dependencies' states are taken with get_best_package_state: the
//     name's state, and if that is not good, the best state among the name
//     and its providers (good states, then waiting, then error states).
//  3. The first dependency in an error state propagates it
//     (failed-testing -> dependency-failed-testing, cannot-be-tested and
//     dependency-does-not-exist -> dependency-cannot-be-tested,
//     does-not-exist -> dependency-does-not-exist).
//  4. With all dependencies good (successfully-tested, essential-required,
//     ignore-does-not-exist, foreign:i386) the package is
//     successfully-tested if it has a pass/ log (and, in recycle mode, no
//     recycle/ marker), else waiting-to-be-tested.
//  5. A package on a dependency cycle is treated the same way when all its
//     dependencies off the cycle are good (_get_dependency_cycle).
//  6. Otherwise the first waiting dependency makes it
//     waiting-for-dependency-to-be-tested; else it stays unknown.
//
// piupartslib finds the cycle of step 5 with a breadth-first search that
// lists all recursive dependencies of every name it meets. The cycle it finds
// is the strongly connected component of the package's name in the graph
// whose edges go from a name to the package it resolves to (the package, a
// depends-section's package, or else the first provider) and from a package
// to its current dependencies. This package computes those components with
// Tarjan's algorithm: once on the graph with every alternative, whose
// components contain all others, then again within a component only after
// one of its packages changed a preferred alternative.
//
// # Lookups
//
// [Result.State] is get_package_state: a package's state (for an outdated
// package the state in a depends-section, if there is one), a virtual name's
// first provider's state, a depends-section's state, then foreign:i386,
// ignore-does-not-exist or does-not-exist for piupartslib's hard-coded lists.
// [Result.InState] is _list, [Result.Status] the status answer,
// [Result.Dependencies], [Result.RecursiveDependencies] and
// [Result.DependencyCycle] are _depends, _recursive-depends and _depcycle.
//
// # Candidates
//
// [Result.Candidates] is _find_packages_ready_for_testing: the
// waiting-to-be-tested packages without a reserved/ log (or with a recycle/
// marker too), by decreasing [Weight] (_get_package_weight): min(chain
// length, waiting count), waiting count, and in recycle mode: no pass/ log
// first, then older recycle/ markers; ties are broken by random numbers.
// [Result.Counts] gives the reverse-dependency figures behind the weights
// (_calc_rrdep_pkg_counts), which the report shows as well.
//
// # Correspondence
//
//	piupartslib                                   here
//	PackagesFile._read_file                       Compute (duplicate names)
//	PackagesDB._find_all_packages                 db.index
//	PackagesDB.get_package                        db.getPackage, db.resolve
//	PackagesDB.get_package_state                  db.getState, Result.State
//	PackagesDB.get_best_package_state             db.bestState
//	PackagesDB._lookup_package_state              db.lookup
//	PackagesDB._is_successfully_tested            db.successfullyTested
//	PackagesDB._compute_package_state             db.computeOne
//	PackagesDB._compute_package_states            engine.compute
//	PackagesDB._get_dependency_cycle              graph (states), Result.DependencyCycle
//	PackagesDB._get_recursive_dependencies        db.recursiveDeps
//	PackagesDB._get_rdep_dict, _calc_rrdep_...    Result.Counts
//	PackagesDB._get_package_weight                Weight
//	PackagesDB._find_packages_ready_for_testing   Result.Candidates
//	PackagesDB.enable_recycling                   Section.Recycle (needs a recycle/ marker)
//
// Reserving, submitting and recycling logs (reserve_package,
// unreserve_package, _process_log) change files and belong to the master.
package state
