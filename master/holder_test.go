package master_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// identified starts a session of a slave with an identity (--slave-id).
func (e *env) identified(holder string) *session {
	cfg := e.config(holder)
	cfg.Identified = true
	return e.startConfig(cfg)
}

// TestServe_ReservationsBelongToTheirHolder: with identities, another
// slave's unreserve answers error and changes nothing (the package is not
// handed out again while its holder tests it), the holder's own unreserve
// works, a log from another slave is accepted with a warning, and a slave
// holds at most max-reserved (here 1) reservations of a section.
func TestServe_ReservationsBelongToTheirHolder(t *testing.T) {
	e := newEnv(t)
	a := e.identified("slave-a")
	mustOK(t, "section", a.do("section sid"))
	r := mustOK(t, "reserve", a.do("reserve"))
	pkg, version := r[0], r[1]
	if resp := a.do("reserve"); resp.OK() {
		t.Errorf("second reserve of slave-a = %v, want error (max-reserved 1 per slave)", resp)
	}
	if !strings.Contains(e.logs(), "slave holds its maximum of reservations") {
		t.Errorf("the cap was not logged")
	}

	b := e.identified("slave-b")
	mustOK(t, "section", b.do("section sid"))
	if resp := b.do("unreserve " + pkg + " " + version); resp.OK() {
		t.Errorf("slave-b's unreserve of slave-a's %s = %v, want error", pkg, resp)
	}
	marker := filepath.Join(e.dir, "sid", "reserved", pkg+"_"+version+".log")
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("reserved/ marker gone after a refused unreserve: %v", err)
	}
	rs, err := e.db.Reservations(t.Context(), "sid")
	if err != nil || len(rs) != 1 || rs[0].Holder != "slave-a" {
		t.Errorf("reservations after a refused unreserve = %+v, %v; want slave-a's", rs, err)
	}
	// slave-b gets another package, not slave-a's.
	rb := mustOK(t, "reserve of slave-b", b.do("reserve"))
	if rb[0] == pkg {
		t.Errorf("slave-b was handed %s, which slave-a holds", pkg)
	}
	// A log from slave-b for slave-a's package: the work is done.
	mustOK(t, "foreign log", b.submit("pass", pkg, version, "log\n"))
	if !strings.Contains(e.logs(), "log from a slave that did not hold the reservation") {
		t.Errorf("foreign log not logged as a warning")
	}
	mustOK(t, "own unreserve", b.do("unreserve "+rb[0]+" "+rb[1]))
	for _, s := range []*session{a, b} {
		if err := s.end(); err != nil {
			t.Error(err)
		}
	}
}

// TestServe_UnidentifiedUnreserveAsReference: without identities anyone
// may give a reservation back, as with Debian's master.
func TestServe_UnidentifiedUnreserveAsReference(t *testing.T) {
	e := newEnv(t)
	a := e.start("10.0.0.1")
	mustOK(t, "section", a.do("section sid"))
	r := mustOK(t, "reserve", a.do("reserve"))
	b := e.start("10.0.0.2")
	mustOK(t, "section", b.do("section sid"))
	mustOK(t, "unreserve by another address", b.do("unreserve "+r[0]+" "+r[1]))
	rs, _ := e.db.Reservations(t.Context(), "sid")
	if len(rs) != 0 {
		t.Errorf("reservations = %+v, want none", rs)
	}
	a.end()
	b.end()
}
