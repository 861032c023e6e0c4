package state

import "piuparts-server/internal/piuparts"

// The states of packages, as piupartslib names them ([piuparts] defines the
// names). The first fourteen are the states of a section's packages
// (get_states); the rest only answer [Result.State] for names that are not
// packages of the section.
const (
	SuccessfullyTested                 = piuparts.SuccessfullyTested
	FailedTesting                      = piuparts.FailedTesting
	CannotBeTested                     = piuparts.CannotBeTested
	EssentialRequired                  = piuparts.EssentialRequired
	WaitingToBeTested                  = piuparts.WaitingToBeTested
	WaitingForDependencyToBeTested     = piuparts.WaitingForDependencyToBeTested
	DependencyFailedTesting            = piuparts.DependencyFailedTesting
	DependencyCannotBeTested           = piuparts.DependencyCannotBeTested
	DependencyDoesNotExist             = piuparts.DependencyDoesNotExist
	CircularDependency                 = piuparts.CircularDependency
	Unknown                            = piuparts.Unknown
	UnknownPreferredAlternative        = piuparts.UnknownPreferredAlternative
	NoDependencyFromAlternativesExists = piuparts.NoDependencyFromAlternativesExists
	Outdated                           = piuparts.Outdated
	ForeignI386                        = piuparts.ForeignI386
	DoesNotExist                       = piuparts.DoesNotExist
	IgnoreDoesNotExist                 = piuparts.IgnoreDoesNotExist
	Virtual                            = piuparts.Virtual
)

// Internal state codes, in the order of piupartslib's PackagesDB._states,
// then the pseudo states of names that are not packages.
const (
	sSuccess uint8 = iota
	sFailed
	sCannot
	sEssential
	sWaiting
	sWaitingDep
	sDepFailed
	sDepCannot
	sDepDNE
	sCircular
	sUnknown
	sUnknownPref
	sNoDepAlt
	sOutdated
	numStates // the states a package can be in

	sForeign   = numStates     // foreign:i386
	sDNE       = numStates + 1 // does-not-exist
	sIgnoreDNE = numStates + 2 // ignore-does-not-exist
	sVirtual   = numStates + 3 // virtual
	numCodes   = numStates + 4
)

var stateNames = [numCodes]string{
	SuccessfullyTested, FailedTesting, CannotBeTested, EssentialRequired,
	WaitingToBeTested, WaitingForDependencyToBeTested, DependencyFailedTesting,
	DependencyCannotBeTested, DependencyDoesNotExist, CircularDependency,
	Unknown, UnknownPreferredAlternative, NoDependencyFromAlternativesExists,
	Outdated, ForeignI386, DoesNotExist, IgnoreDoesNotExist, Virtual,
}

// good is _good_states.
var good = [numCodes]bool{sSuccess: true, sEssential: true, sIgnoreDNE: true, sForeign: true}

// propagateError and propagateWaiting are _propagate_error_state and
// _propagate_waiting_state; 0 (sSuccess, never a value) marks a non-key.
var (
	propagateError = [numCodes]uint8{
		sFailed: sDepFailed, sCannot: sDepCannot, sDepFailed: sDepFailed,
		sDepCannot: sDepCannot, sDepDNE: sDepCannot, sDNE: sDepDNE,
	}
	propagateWaiting = [numCodes]uint8{sWaiting: sWaitingDep, sWaitingDep: sWaitingDep}
)

// obsolete is _obsolete_states.
var obsolete = [numStates]bool{sEssential: true, sCircular: true, sUnknownPref: true, sNoDepAlt: true}

// isError and isWaiting are get_error_states and get_waiting_states.
var (
	isError   = [numCodes]bool{sFailed: true, sCannot: true, sDepFailed: true, sDepCannot: true, sDepDNE: true}
	isWaiting = [numCodes]bool{sWaiting: true, sWaitingDep: true}
)

const noRank = 255

// bestRank orders the states get_best_package_state looks for among a name
// and its providers: good states, then waiting keys, then error keys (in
// the order of piupartslib's dicts); noRank for the others.
func bestRank(s uint8) uint8 {
	switch s {
	case sSuccess:
		return 0
	case sEssential:
		return 1
	case sIgnoreDNE:
		return 2
	case sForeign:
		return 3
	case sWaiting:
		return 4
	case sWaitingDep:
		return 5
	case sFailed:
		return 6
	case sCannot:
		return 7
	case sDepFailed:
		return 8
	case sDepCannot:
		return 9
	case sDepDNE:
		return 10
	case sDNE:
		return 11
	}
	return noRank
}

// foreignPackages is piupartslib's _foreign_packages: dependencies only
// available from another architecture (all i386).
var foreignPackages = map[string]bool{
	"ia32-libs-i386": true, "ia32-libs-gtk-i386": true, "libnss-mdns-i386": true,
}

// ignoredMissing is piupartslib's _ignored_missing_dependencies.
var ignoredMissing = map[string]bool{
	"kbdcontrol": true, "vidcontrol": true, "mediawiki": true, "llvm-3.7-dev": true,
	"oracle-instantclient-basic": true, "oracle-instantclient11.2-basic": true,
	"oracle-instantclient12.1-basic": true,
}

// States returns the states a section's packages can be in, in
// piupartslib's order (get_states), obsolete ones included: the states
// [Result.InState] knows.
func States() []string {
	return append([]string(nil), stateNames[:numStates]...)
}

// ActiveStates returns the states without the obsolete ones, in the order
// of piuparts-master's status answer (get_active_states).
func ActiveStates() []string {
	var out []string
	for s := range numStates {
		if !obsolete[s] {
			out = append(out, stateNames[s])
		}
	}
	return out
}

func stateCode(name string) (uint8, bool) {
	for i := range numStates {
		if stateNames[i] == name {
			return uint8(i), true
		}
	}
	return 0, false
}
