package piuparts

// The states of packages, as piupartslib names them. The first fourteen are
// the states of a section's packages (get_states), in its order; the rest
// are what piupartslib answers for names that are not packages of the
// section.
const (
	SuccessfullyTested                 = "successfully-tested"
	FailedTesting                      = "failed-testing"
	CannotBeTested                     = "cannot-be-tested"
	EssentialRequired                  = "essential-required" // obsolete
	WaitingToBeTested                  = "waiting-to-be-tested"
	WaitingForDependencyToBeTested     = "waiting-for-dependency-to-be-tested"
	DependencyFailedTesting            = "dependency-failed-testing"
	DependencyCannotBeTested           = "dependency-cannot-be-tested"
	DependencyDoesNotExist             = "dependency-does-not-exist"
	CircularDependency                 = "circular-dependency" // obsolete
	Unknown                            = "unknown"
	UnknownPreferredAlternative        = "unknown-preferred-alternative"          // obsolete
	NoDependencyFromAlternativesExists = "no-dependency-from-alternatives-exists" // obsolete
	Outdated                           = "outdated"

	ForeignI386        = "foreign:i386"
	DoesNotExist       = "does-not-exist"
	IgnoreDoesNotExist = "ignore-does-not-exist"
	Virtual            = "virtual"
)
