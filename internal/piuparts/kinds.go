package piuparts

// Kind is a log directory of a section (SECTION/KIND/NAME_VERSION.log),
// and the kind of an entry in the master's log index.
type Kind string

// The kinds of logs, named as piuparts names their directories.
const (
	KindPass       Kind = "pass"       // passed: successfully-tested
	KindFail       Kind = "fail"       // failed-testing
	KindUntestable Kind = "untestable" // cannot-be-tested
	KindBugged     Kind = "bugged"     // failed, with a bug filed
	KindAffected   Kind = "affected"   // failed because of another package's bug
	KindRecycle    Kind = "recycle"    // empty marker: test this version again
	KindReserved   Kind = "reserved"   // empty marker of piuparts' own reservations
)

// Kinds lists every Kind in the order piuparts lists its directories.
func Kinds() []Kind {
	return []Kind{KindPass, KindFail, KindUntestable, KindReserved, KindBugged, KindAffected, KindRecycle}
}

// TestedKinds lists piupartslib's "most" directories: a log in one of them
// means the version was tested (pass, fail, untestable, bugged, affected).
func TestedKinds() []Kind {
	return []Kind{KindPass, KindFail, KindUntestable, KindBugged, KindAffected}
}

// Valid reports whether k is one of the log tree's directories.
func (k Kind) Valid() bool {
	switch k {
	case KindPass, KindFail, KindUntestable, KindBugged, KindAffected, KindRecycle, KindReserved:
		return true
	}
	return false
}

// IsResult reports whether k is a result a slave submits (pass, fail,
// untestable): the kinds that go to submissions.txt and to a slave's spool.
func (k Kind) IsResult() bool {
	return k == KindPass || k == KindFail || k == KindUntestable
}

// IsTested reports whether a log of kind k means its version was tested
// (see [TestedKinds]).
func (k Kind) IsTested() bool {
	return k.IsResult() || k == KindBugged || k == KindAffected
}
