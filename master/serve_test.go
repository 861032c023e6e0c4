package master_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"piuparts-server/master"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// statusCounts parses "ok [(recycle)] STATE=N ... total=N" and checks its
// form: the active states in piupartslib's order, then a total that adds up.
func statusCounts(t *testing.T, args []string) map[string]int {
	t.Helper()
	if len(args) > 0 && args[0] == "(recycle)" {
		args = args[1:]
	}
	want := append(state.ActiveStates(), "total")
	if len(args) != len(want) {
		t.Fatalf("status has %d fields %q, want %d", len(args), args, len(want))
	}
	counts := make(map[string]int)
	sum := 0
	for i, a := range args {
		k, v, ok := strings.Cut(a, "=")
		n, err := strconv.Atoi(v)
		if !ok || k != want[i] || err != nil {
			t.Fatalf("status field %d = %q, want %s=N", i, a, want[i])
		}
		counts[k] = n
		if k != "total" {
			sum += n
		}
	}
	if counts["total"] != sum {
		t.Errorf("status total=%d, want the sum %d", counts["total"], sum)
	}
	return counts
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestServe_Session(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	mustOK(t, "section sid", s.do("section sid"))
	if r := s.do("idle"); !r.OK() || len(r.Args) != 1 || r.Args[0] != "0" {
		t.Errorf("idle on a fresh section = %q, want ok 0", r.String())
	}
	counts := statusCounts(t, mustOK(t, "status", s.do("status")))
	if counts["total"] < 150 || counts["waiting-to-be-tested"] == 0 {
		t.Fatalf("status counts %v: want the fixture's ~200 packages, some waiting", counts)
	}

	got := mustOK(t, "reserve", s.do("reserve"))
	if len(got) != 2 {
		t.Fatalf("reserve answered %q, want NAME VERSION", got)
	}
	pkg, ver := got[0], got[1]
	marker := filepath.Join(e.dir, "sid", "reserved", pkg+"_"+ver+".log")
	if !exists(marker) {
		t.Errorf("reserve %s %s made no marker %s", pkg, ver, marker)
	}
	if st := mustOK(t, "_state", s.do("_state "+pkg)); st[0] != state.WaitingToBeTested || st[1] != ver {
		t.Errorf("_state %s = %q, want waiting-to-be-tested %s", pkg, st, ver)
	}

	// A log with lines that look like protocol: stored byte for byte.
	log := "Start: now\n.\n..\n\tleading tab\ntrailing space \n\nUTF-8: äöü\n" + strings.Repeat("x", 100000) + "\nret=0\n"
	mustOK(t, "pass", s.submit("pass", pkg, ver, log))
	passLog := filepath.Join(e.dir, "sid", "pass", pkg+"_"+ver+".log")
	if got := readFile(t, passLog); got != log {
		t.Errorf("stored log differs from the submitted one (%d bytes, want %d)", len(got), len(log))
	}
	if exists(marker) {
		t.Errorf("reserved marker %s still there after pass", marker)
	}
	subs := readFile(t, filepath.Join(e.dir, "sid", "submissions.txt"))
	if f := strings.Fields(subs); len(f) != 4 || f[1] != "pass" || f[2] != pkg || f[3] != ver {
		t.Errorf("submissions.txt = %q, want EPOCH pass %s %s", subs, pkg, ver)
	}
	// Sent again without a reservation: a duplicate, ignored, still ok.
	mustOK(t, "pass again", s.submit("pass", pkg, ver, "other log\n"))
	if got := readFile(t, passLog); got != log {
		t.Errorf("duplicate submission replaced the log")
	}
	if !strings.Contains(e.logs(), "ignoring duplicate submission") {
		t.Errorf("duplicate submission not logged")
	}
	if n := strings.Count(readFile(t, filepath.Join(e.dir, "sid", "submissions.txt")), "\n"); n != 1 {
		t.Errorf("submissions.txt has %d lines after a duplicate, want 1", n)
	}

	// Reserve two more: fail one, unreserve the other.
	a := mustOK(t, "reserve", s.do("reserve"))
	b := mustOK(t, "reserve", s.do("reserve"))
	mustOK(t, "fail", s.submit("fail", a[0], a[1], "it broke\n"))
	if !exists(filepath.Join(e.dir, "sid", "fail", a[0]+"_"+a[1]+".log")) {
		t.Errorf("fail log of %s missing", a[0])
	}
	mustOK(t, "unreserve", s.do("unreserve "+b[0]+" "+b[1]))
	if exists(filepath.Join(e.dir, "sid", "reserved", b[0]+"_"+b[1]+".log")) {
		t.Errorf("unreserve left the marker of %s", b[0])
	}
	mustOK(t, "untestable", s.submit("untestable", "libc6", "2.36-9+deb12u4", "cannot\n"))

	// Debug commands.
	deps := mustOK(t, "_depends apt", s.do("_depends apt"))
	if !contains(deps, "libc6") || !contains(deps, "adduser") {
		t.Errorf("_depends apt = %q, want libc6 and adduser among them", deps)
	}
	rdeps := mustOK(t, "_recursive-depends apt", s.do("_recursive-depends apt"))
	if len(rdeps) <= len(deps) || !contains(rdeps, "libgcc-s1") {
		t.Errorf("_recursive-depends apt = %q, want more than _depends, with libgcc-s1", rdeps)
	}
	mustOK(t, "_depcycle", s.do("_depcycle libc6"))
	if r := s.do("_depends no-such-package"); r.Keyword != "error" {
		t.Errorf("_depends of a missing package = %q, want error", r.String())
	}
	// States are computed once per section choice, as in the reference:
	// the new fail log counts after choosing the section again.
	mustOK(t, "section sid again", s.do("section sid"))
	if l := mustOK(t, "_list", s.do("_list failed-testing")); !contains(l, a[0]) {
		t.Errorf("_list failed-testing = %q, want %s", l, a[0])
	}
	if r := s.do("_list no-such-state"); r.Keyword != "error" {
		t.Errorf("_list of an unknown state = %q, want error", r.String())
	}
	if r := s.do("recycle"); r.Keyword != "error" {
		t.Errorf("recycle after status = %q, want error (too late)", r.String())
	}

	// Switch section: a fresh start, with test versions from the final distro.
	mustOK(t, "section up", s.do("section up"))
	up := mustOK(t, "reserve in up", s.do("reserve"))
	if up[1] == "" {
		t.Fatalf("reserve in up = %q", up)
	}
	if !exists(filepath.Join(e.dir, "up", "reserved", up[0]+"_"+up[1]+".log")) {
		t.Errorf("no marker for %s %s in up/reserved", up[0], up[1])
	}
	if err := s.end(); err != nil {
		t.Errorf("Serve after EOF = %v, want nil", err)
	}
	// The master's output was nothing but protocol lines.
	for _, line := range strings.Split(strings.TrimSuffix(s.raw.String(), "\n"), "\n") {
		if line != "hello" && line != "ok" && line != "error" && !strings.HasPrefix(line, "ok ") {
			t.Errorf("master wrote %q, not a protocol line", cut(line))
		}
	}
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestServe_UpgradeTestVersions(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	mustOK(t, "section up", s.do("section up"))
	// openssl is in bookworm-security (distro) and in the closure (final).
	st := mustOK(t, "_state openssl", s.do("_state openssl"))
	if st[1] == "None" || st[1] == "" {
		t.Errorf("_state openssl = %q, want the final distro's version", st)
	}
	if err := s.end(); err != nil {
		t.Error(err)
	}
}

func TestServe_Aborts(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"CommandBeforeSection", "reserve\n"},
		{"UnknownCommand", "section sid\nfrobnicate\n"},
		{"WrongArgCount", "section sid\nunreserve foo\n"},
		{"PathInName", "section sid\npass ../../etc 1.0\n .\n.\n"},
		{"SlashInVersion", "section sid\npass foo 1/2\n x\n.\n"},
		{"SectionWithDots", "section ..\n"},
		{"TruncatedLongPart", "section sid\npass libc6 2.36-9+deb12u4\n half a log\n"},
		{"LongPartWithoutSpace", "section sid\npass libc6 2.36-9+deb12u4\n ok line\nbad line\n.\n"},
		{"LogTooLarge", "section sid\npass libc6 2.36-9+deb12u4\n" + strings.Repeat(" "+strings.Repeat("y", 1000)+"\n", 1100) + ".\n"},
		{"LineTooLong", "section sid\n" + strings.Repeat("z", 5000) + "\n"},
		{"TruncatedLine", "section sid\nstat"},
		{"CarriageReturn", "section sid\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.start("slave1")
			go func() {
				s.in.Write([]byte(tt.input))
				s.in.Close()
			}()
			// Drain answers until the master ends the connection.
			for {
				if _, err := s.r.ReadResponse(); err != nil {
					break
				}
			}
			err := s.wait()
			if !errors.Is(err, master.ErrAborted) {
				t.Fatalf("Serve = %v, want ErrAborted", err)
			}
			if !strings.Contains(e.logs(), "ABORT") {
				t.Errorf("master log lacks the ABORT line:\n%s", e.logs())
			}
			for _, kind := range []string{"pass", "fail", "untestable"} {
				ents, _ := os.ReadDir(filepath.Join(e.dir, "sid", kind))
				if len(ents) != 0 {
					t.Errorf("%s/ holds %d files after an aborted command", kind, len(ents))
				}
			}
			if exists(filepath.Join(e.dir, "sid", "submissions.txt")) {
				t.Errorf("submissions.txt written by an aborted command")
			}
			if exists(filepath.Join(e.dir, "etc_1.0.log")) || exists(filepath.Join(e.dir, "..", "etc_1.0.log")) {
				t.Errorf("a log escaped the tree")
			}
		})
	}
}

func TestServe_UnknownSection(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	if r := s.do("section nosuch"); r.Keyword != "error" {
		t.Errorf("section nosuch = %q, want error", r.String())
	}
	mustOK(t, "section sid after an error", s.do("section sid"))
	if err := s.end(); err != nil {
		t.Error(err)
	}
}

// reserveAll reserves in a section until the master says error.
func reserveAll(t *testing.T, s *session, section string) [][2]string {
	t.Helper()
	mustOK(t, "section", s.do("section "+section))
	var got [][2]string
	for {
		r := s.do("reserve")
		if !r.OK() {
			return got
		}
		got = append(got, [2]string{r.Args[0], r.Args[1]})
	}
}

func TestServe_ConcurrentReserve(t *testing.T) {
	e := newEnv(t)
	s := e.start("probe")
	mustOK(t, "section", s.do("section sid"))
	waiting := statusCounts(t, mustOK(t, "status", s.do("status")))["waiting-to-be-tested"]
	if err := s.end(); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all = make(map[string]string) // package -> slave
		dup []string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slave := "slave" + strconv.Itoa(i)
			s := e.start(slave)
			got := reserveAll(t, s, "sid")
			if err := s.end(); err != nil {
				t.Errorf("%s: Serve = %v", slave, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range got {
				if prev, ok := all[p[0]]; ok {
					dup = append(dup, p[0]+" ("+prev+", "+slave+")")
				}
				all[p[0]] = slave
			}
		}()
	}
	wg.Wait()
	if len(dup) > 0 {
		t.Errorf("reserved twice: %q", dup)
	}
	if len(all) != waiting {
		t.Errorf("%d packages reserved by %d slaves, want every one of the %d waiting", len(all), n, waiting)
	}
	rs, err := e.db.Reservations(t.Context(), "sid")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != waiting {
		t.Errorf("database holds %d reservations, want %d", len(rs), waiting)
	}
	ents, _ := os.ReadDir(filepath.Join(e.dir, "sid", "reserved"))
	if len(ents) != waiting {
		t.Errorf("reserved/ holds %d markers, want %d", len(ents), waiting)
	}
}

func TestServe_LeaseExpiry(t *testing.T) {
	e := newEnv(t)
	t0 := time.Now()
	e.now = func() time.Time { return t0 }
	got := reserveAll(t, e.start("dead-slave"), "sid")
	if len(got) == 0 {
		t.Fatal("nothing reserved")
	}
	// Within the lease nothing is left; after it everything comes back.
	if again := reserveAll(t, e.start("other"), "sid"); len(again) != 0 {
		t.Errorf("reserved %d packages within the lease, want 0", len(again))
	}
	e.now = func() time.Time { return t0.Add(time.Hour + time.Second) }
	s := e.start("other")
	mustOK(t, "section", s.do("section sid"))
	r := mustOK(t, "reserve after expiry", s.do("reserve"))
	if !strings.Contains(e.logs(), "lease expired") {
		t.Errorf("expiry not logged")
	}
	found := false
	for _, p := range got {
		found = found || p[0] == r[0]
	}
	if !found {
		t.Errorf("reserve after expiry = %q, want one of the expired packages", r)
	}
	rs, _ := e.db.Reservations(t.Context(), "sid")
	if len(rs) != 1 || rs[0].Holder != "other" {
		t.Errorf("reservations after expiry = %+v, want one held by other", rs)
	}
	ents, _ := os.ReadDir(filepath.Join(e.dir, "sid", "reserved"))
	if len(ents) != 1 {
		t.Errorf("reserved/ holds %d markers after expiry, want 1", len(ents))
	}
	s.end()
}

// TestServe_IdleAfterLeaseExpiry: a slave that found nothing left (the
// rest held by a dead slave) is told idle; once the dead slave's leases
// end, idle answers 0, so that a slave obeying it reserves them.
func TestServe_IdleAfterLeaseExpiry(t *testing.T) {
	e := newEnv(t)
	e.pc.Sections["sid"].ReservedExpire = time.Minute // much shorter than the stamp's hour
	t0 := time.Now()
	e.now = func() time.Time { return t0 }
	if got := reserveAll(t, e.start("dead-slave"), "sid"); len(got) == 0 {
		t.Fatal("nothing reserved")
	}
	s := e.start("other")
	if got := reserveAll(t, s, "sid"); len(got) != 0 {
		t.Fatalf("reserved %d packages within the lease, want 0", len(got))
	}
	if r := mustOK(t, "idle", s.do("idle")); r[0] == "0" {
		t.Errorf("idle within the lease = 0, want the stamp's time")
	}
	s.end()
	e.now = func() time.Time { return t0.Add(time.Minute + time.Second) }
	s = e.start("other")
	mustOK(t, "section", s.do("section sid"))
	if r := mustOK(t, "idle", s.do("idle")); r[0] != "0" {
		t.Errorf("idle after the leases expired = %s, want 0", r[0])
	}
	mustOK(t, "reserve after expiry", s.do("reserve"))
	s.end()
}

func TestServe_IdleAfterNothingLeft(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	reserveAll(t, s, "sid")
	// As in the reference, the stamp of a session that reserved something
	// is older than its reserved/ markers; the next session that finds
	// nothing writes a valid one.
	if r := mustOK(t, "idle", s.do("idle")); r[0] != "0" {
		t.Errorf("idle after reserving = %s, want 0", r[0])
	}
	s.end()
	s = e.start("slave1")
	if got := reserveAll(t, s, "sid"); len(got) != 0 {
		t.Fatalf("reserved %d more", len(got))
	}
	r := mustOK(t, "idle", s.do("idle"))
	n, _ := strconv.Atoi(r[0])
	if n < 3000 || n > 3600+120 {
		t.Errorf("idle after reserve found nothing = %d, want about 3600", n)
	}
	if !exists(filepath.Join(e.dir, "sid", "idle.stamp")) {
		t.Errorf("no idle.stamp")
	}
	s.end()
	// A change in a log directory invalidates the stamp.
	s = e.start("slave2")
	mustOK(t, "section", s.do("section sid"))
	mustOK(t, "untestable", s.submit("untestable", "libc6", "2.36-9+deb12u4", "x\n"))
	if r := mustOK(t, "idle", s.do("idle")); r[0] != "0" {
		t.Errorf("idle after a new log = %s, want 0", r[0])
	}
	s.end()
}

func TestServe_Recycle(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	if r := s.do("section sid"); !r.OK() {
		t.Fatal(r)
	}
	if r := s.do("recycle"); r.Keyword != "error" {
		t.Errorf("recycle with nothing to recycle = %q, want error", r.String())
	}
	p := mustOK(t, "reserve", s.do("reserve"))
	mustOK(t, "fail", s.submit("fail", p[0], p[1], "failed\n"))
	s.end()
	// An operator (or reschedule_oldest_logs) asks for a new test.
	rec := filepath.Join(e.dir, "sid", "recycle", p[0]+"_"+p[1]+".log")
	if err := os.WriteFile(rec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s = e.start("slave1")
	mustOK(t, "section", s.do("section sid"))
	mustOK(t, "recycle", s.do("recycle"))
	st := mustOK(t, "status", s.do("status"))
	if st[0] != "(recycle)" {
		t.Errorf("status in recycle mode = %q, want (recycle) first", st)
	}
	statusCounts(t, st)
	// The recycled version comes among the untested ones.
	var r []string
	for {
		got := mustOK(t, "reserve in recycle mode", s.do("reserve"))
		if got[0] == p[0] {
			r = got
			break
		}
	}
	if r[1] != p[1] {
		t.Errorf("reserve in recycle mode = %q, want %s %s", r, p[0], p[1])
	}
	if exists(rec) || exists(filepath.Join(e.dir, "sid", "fail", p[0]+"_"+p[1]+".log")) {
		t.Errorf("recycle reserve left the recycle marker or the fail log")
	}
	// Unreserve gives no recycle marker back: the version has no log now.
	mustOK(t, "unreserve", s.do("unreserve "+r[0]+" "+r[1]))
	s.end()
}

func TestServe_WarmCacheSkipsPackages(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	mustOK(t, "section", s.do("section sid"))
	before := statusCounts(t, mustOK(t, "status", s.do("status")))
	s.end()
	// Garble the Packages file but keep its size and time: a warm start
	// must not read it.
	path := e.packagesPath("sid")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat("#\n", int(st.Size()/2))+strings.Repeat("#", int(st.Size()%2))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	s = e.start("slave1")
	mustOK(t, "section", s.do("section sid"))
	after := statusCounts(t, mustOK(t, "status", s.do("status")))
	if after["total"] != before["total"] {
		t.Errorf("warm status total = %d, want %d", after["total"], before["total"])
	}
	mustOK(t, "warm reserve", s.do("reserve"))
	s.end()
	// A new modification time makes the master read it again.
	if err := os.Chtimes(path, time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s = e.start("slave1")
	mustOK(t, "section", s.do("section sid"))
	after = statusCounts(t, mustOK(t, "status", s.do("status")))
	if after["total"] != 0 {
		t.Errorf("status after the Packages file changed = total %d, want 0 (it holds no packages now)", after["total"])
	}
	s.end()
}

func TestServe_TouchedPackagesKeepStates(t *testing.T) {
	e := newEnv(t)
	s := e.start("slave1")
	mustOK(t, "section", s.do("section sid"))
	before := statusCounts(t, mustOK(t, "status", s.do("status")))
	s.end()
	if n := strings.Count(e.logs(), "states computed"); n != 1 {
		t.Fatalf("log has %d computations after the first status, want 1", n)
	}
	// Touch the Packages file: same contents, new time.
	path := e.packagesPath("sid")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		s = e.start("slave1")
		mustOK(t, "section", s.do("section sid"))
		after := statusCounts(t, mustOK(t, "status", s.do("status")))
		if !reflect.DeepEqual(after, before) {
			t.Errorf("status %d after touching Packages = %v, want %v", i, after, before)
		}
		mustOK(t, "reserve", s.do("reserve"))
		s.end()
	}
	logs := e.logs()
	if n := strings.Count(logs, "states computed"); n != 1 {
		t.Errorf("log has %d computations, want 1: touching a Packages file changes no state", n)
	}
	// The first connection after the touch records the new stat; the
	// second one finds it and hashes nothing.
	if n := strings.Count(logs, "packages files touched"); n != 1 {
		t.Errorf("log records the touched files %d times, want once", n)
	}
	row, err := e.db.Section(t.Context(), "sid")
	if err != nil || !row.Packages.ModTime.Equal(later) {
		t.Errorf("Section(sid) = %+v, %v, want the packages fingerprint at %v", row.Packages, err, later)
	}
}

// TestServe_StoredPackages checks the package list a computation stores:
// each name once and with the stanza the states use (of two, the higher
// version, even when the lower one comes later), its test version from the
// final distro, and the dependencies _depends answers.
func TestServe_StoredPackages(t *testing.T) {
	e := newEnv(t)
	f, err := os.OpenFile(e.packagesPath("bookworm"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A lower openssl after the real one; zz-extra twice, the higher first.
	if _, err := f.WriteString("\nPackage: openssl\nVersion: 3.0.0-1\nDepends: libc6\n\n" +
		"Package: zz-extra\nVersion: 2\nDepends: openssl | libssl3, libc6\n\n" +
		"Package: zz-extra\nVersion: 1\nDepends: bash\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s := e.start("slave1")
	mustOK(t, "section", s.do("section up"))
	total := statusCounts(t, mustOK(t, "status", s.do("status")))["total"]
	pkgs, err := e.db.Packages(t.Context(), "up")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != total || total != 73 {
		t.Fatalf("stored %d packages, status total=%d, want 73 (72 of the file and zz-extra)", len(pkgs), total)
	}
	byName := map[string]store.Package{}
	for i, p := range pkgs {
		if i > 0 && pkgs[i-1].Name >= p.Name {
			t.Errorf("stored packages not sorted by name: %s before %s", pkgs[i-1].Name, p.Name)
		}
		byName[p.Name] = p
		deps := mustOK(t, "_depends "+p.Name, s.do("_depends "+p.Name))
		if !slices.Equal(p.Dependencies, deps) {
			t.Errorf("stored dependencies of %s = %q, _depends says %q", p.Name, p.Dependencies, deps)
		}
	}
	if p := byName["openssl"]; p.Version != "3.0.22-1~deb12u2" || p.TestVersion != "3.0.20-1~deb12u2" {
		t.Errorf("stored openssl %s, test version %s; want 3.0.22-1~deb12u2 tested at sid's 3.0.20-1~deb12u2", p.Version, p.TestVersion)
	}
	if p := byName["zz-extra"]; p.Version != "2" || p.TestVersion != "None" || !slices.Equal(p.Dependencies, []string{"openssl", "libc6"}) {
		t.Errorf("stored zz-extra = %+v, want version 2, test version None, dependencies [openssl libc6]", p)
	}
	if err := s.end(); err != nil {
		t.Error(err)
	}
}
