package debian_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"piuparts-server/internal/debian"
)

// compress returns data compressed for the suffix ext ("" is plain).
func compress(t *testing.T, data []byte, ext string) []byte {
	t.Helper()
	var b bytes.Buffer
	switch ext {
	case "":
		return data
	case ".gz":
		w := gzip.NewWriter(&b)
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".bz2":
		if _, err := exec.LookPath("bzip2"); err != nil {
			t.Skip("bzip2 command not found; needed to make a .bz2 fixture")
		}
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return b.Bytes()
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeIndex writes files (suffix → content) as dir/Packages+suffix.
func writeIndex(t *testing.T, dir string, files map[string][]byte) string {
	t.Helper()
	base := filepath.Join(dir, "Packages")
	for ext, data := range files {
		if err := os.WriteFile(base+ext, compress(t, data, ext), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

func TestLoadPackages_Compressions(t *testing.T) {
	data := readFixture(t, "Packages_bookworm_subset")
	for _, ext := range []string{".xz", ".bz2", ".gz", ""} {
		t.Run("Ext"+ext, func(t *testing.T) {
			base := writeIndex(t, t.TempDir(), map[string][]byte{ext: data})
			srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(base))))
			defer srv.Close()
			for _, loc := range []string{base, "file://" + base, srv.URL + "/Packages"} {
				pkgs, err := debian.LoadPackages(t.Context(), loc)
				if err != nil {
					t.Fatalf("LoadPackages(%q): %v", loc, err)
				}
				if len(pkgs) != 42 {
					t.Errorf("LoadPackages(%q) got %d packages, want 42", loc, len(pkgs))
				}
				if p := pkgs["dpkg"]; p == nil || p.Version != "1.21.23" || !p.Essential {
					t.Errorf("LoadPackages(%q)[dpkg] = %+v, want essential 1.21.23", loc, p)
				}
			}
		})
	}
}

func TestOpenIndex_Order(t *testing.T) {
	main := readFixture(t, "Packages_bookworm_subset")
	sec := readFixture(t, "Packages_bookworm-security_subset")
	tests := []struct {
		name  string
		files map[string][]byte
		want  string // suffix opened
	}{
		{"XzBeforeBz2", map[string][]byte{".xz": main, ".bz2": sec}, ".xz"},
		{"Bz2BeforeGz", map[string][]byte{".bz2": main, ".gz": sec}, ".bz2"},
		{"GzBeforePlain", map[string][]byte{".gz": main, "": sec}, ".gz"},
		{"PlainLast", map[string][]byte{"": main}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			base := writeIndex(t, dir, tt.files)
			srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
			defer srv.Close()
			for _, loc := range []string{base, srv.URL + "/Packages"} {
				rc, opened, err := debian.OpenIndex(t.Context(), loc)
				if err != nil {
					t.Fatalf("OpenIndex(%q): %v", loc, err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				if opened != loc+tt.want || !bytes.Equal(got, main) {
					t.Errorf("OpenIndex(%q) opened %q (%d bytes), want %q with the main subset", loc, opened, len(got), loc+tt.want)
				}
			}
		})
	}
}

func TestOpenIndex_Errors(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	t.Run("NotFound", func(t *testing.T) {
		for _, loc := range []string{filepath.Join(dir, "Packages"), srv.URL + "/Packages"} {
			_, err := debian.LoadPackages(t.Context(), loc)
			if !errors.Is(err, debian.ErrIndexNotFound) {
				t.Errorf("LoadPackages(%q) error = %v, want ErrIndexNotFound", loc, err)
			}
		}
	})
	t.Run("CorruptGzip", func(t *testing.T) {
		base := filepath.Join(dir, "Broken")
		if err := os.WriteFile(base+".gz", []byte("not gzip at all"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := debian.LoadPackages(t.Context(), base)
		if err == nil || errors.Is(err, debian.ErrIndexNotFound) {
			t.Errorf("LoadPackages(corrupt .gz) error = %v, want a gzip error", err)
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		var asked []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked = append(asked, r.URL.Path)
			http.Error(w, "nope", http.StatusInternalServerError)
		}))
		defer srv.Close()
		_, err := debian.LoadPackages(t.Context(), srv.URL+"/dists/bookworm/main/binary-amd64/Packages")
		if !errors.Is(err, debian.ErrIndexNotFound) {
			t.Errorf("error = %v, want ErrIndexNotFound", err)
		}
		want := []string{".xz", ".bz2", ".gz", ""}
		if len(asked) != len(want) {
			t.Fatalf("server was asked %q, want the four variants", asked)
		}
		for i, ext := range want {
			if !strings.HasSuffix(asked[i], "/Packages"+ext) {
				t.Errorf("request %d = %q, want suffix %q", i, asked[i], "/Packages"+ext)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		base := writeIndex(t, t.TempDir(), map[string][]byte{"": readFixture(t, "Packages_bookworm_subset")})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := debian.LoadPackages(ctx, base); !errors.Is(err, context.Canceled) {
			t.Errorf("LoadPackages(cancelled) error = %v, want context.Canceled", err)
		}
	})
}

// TestReadPackages_NewerWins loads bookworm and bookworm-security stanzas of
// the same packages together: the higher version must win, in either order.
func TestReadPackages_NewerWins(t *testing.T) {
	main := readFixture(t, "Packages_bookworm_subset")
	sec := readFixture(t, "Packages_bookworm-security_subset")
	want := map[string]string{
		"apt":    "2.6.2",                  // security is newer
		"libc6":  "2.36-9+deb12u14",        // the point release is newer
		"nodejs": "18.20.4+dfsg-1~deb12u3", // security is newer
		"dpkg":   "1.21.23",                // only in main
	}
	for _, order := range []string{"MainFirst", "SecurityFirst"} {
		t.Run(order, func(t *testing.T) {
			in := string(main) + "\n" + string(sec)
			if order == "SecurityFirst" {
				in = string(sec) + "\n" + string(main)
			}
			pkgs, err := debian.ReadPackages(t.Context(), strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range want {
				if p := pkgs[name]; p == nil || p.Version != v {
					t.Errorf("%s = %+v, want version %s", name, p, v)
				}
			}
		})
	}
}

func TestNewPackage(t *testing.T) {
	pkgs, err := debian.ReadPackages(t.Context(), bytes.NewReader(readFixture(t, "Packages_bookworm_subset")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                       string
		source, sourceVersion      string
		multiArch, preDependsStart string
		providesStart, tagStart    string
	}{
		{"python3", "python3-defaults", "3.11.2-1", "allowed", "python3-minimal (= 3.11.2-1+b1)", "python3-profiler, ", ""},
		{"vorbisgain", "vorbisgain", "0.37-2", "", "", "", ""},
		{"libgcc-s1", "gcc-12", "12.2.0-14+deb12u1", "same", "", "libgcc1 (= 1:12.2.0-14+deb12u1)", ""},
		{"dpkg", "dpkg", "1.21.23", "foreign", "libbz2-1.0, libc6 (>= 2.34)", "", "admin::package-management, devel::lang:perl, devel::library,\n implemented-in::c,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pkgs[tt.name]
			if p == nil {
				t.Fatalf("%s missing", tt.name)
			}
			if p.Source != tt.source || p.SourceVersion != tt.sourceVersion {
				t.Errorf("source = %q %q, want %q %q", p.Source, p.SourceVersion, tt.source, tt.sourceVersion)
			}
			if p.MultiArch != tt.multiArch {
				t.Errorf("Multi-Arch = %q, want %q", p.MultiArch, tt.multiArch)
			}
			if !strings.HasPrefix(p.PreDepends, tt.preDependsStart) || !strings.HasPrefix(p.Provides, tt.providesStart) {
				t.Errorf("Pre-Depends %q, Provides %q; want prefixes %q, %q", p.PreDepends, p.Provides, tt.preDependsStart, tt.providesStart)
			}
			if !strings.HasPrefix(p.Fields.Get("Tag"), tt.tagStart) {
				t.Errorf("Tag = %q, want prefix %q", p.Fields.Get("Tag"), tt.tagStart)
			}
			if p.Architecture == "" || p.Filename == "" || p.Maintainer == "" || p.Section == "" || p.Priority == "" {
				t.Errorf("missing basic fields: %+v", p)
			}
		})
	}
}

func TestNewPackage_Errors(t *testing.T) {
	tests := []struct{ name, in, wantMsg string }{
		{"NoPackage", "Version: 1\n", "no Package field"},
		{"NoVersion", "Package: aa\n", "no Version field"},
		{"BadSource", "Package: aa\nVersion: 1\nSource: bb 1.0\n", "malformed Source field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := debian.ReadPackages(t.Context(), strings.NewReader("Package: ok\nVersion: 1\n\n"+tt.in))
			var se *debian.SyntaxError
			if !errors.As(err, &se) || se.Line != 4 || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("ReadPackages error = %v, want a *SyntaxError at line 4 with %q", err, tt.wantMsg)
			}
		})
	}
}

func TestLoadSources(t *testing.T) {
	base := filepath.Join(t.TempDir(), "Sources")
	if err := os.WriteFile(base+".gz", compress(t, readFixture(t, "Sources_lenny_subset"), ".gz"), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := debian.LoadSources(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	b := srcs["binutils"]
	if b == nil || b.Version != "2.18.1~cvs20080103-6" || len(b.Binary) != 7 || b.Binary[6] != "binutils-source" ||
		b.Directory != "pool/main/b/binutils" || b.Uploaders != "Matthias Klose <doko@debian.org>" {
		t.Fatalf("binutils = %+v", b)
	}
	d, err := debian.ParseDepends(srcs["apache2-mpm-itk"].BuildDepends)
	if err != nil {
		t.Fatal(err)
	}
	if got := d[2][0].Archs; len(got) != 3 || got[0] != "!kfreebsd-i386" {
		t.Errorf("libcap-dev arch list = %q", got)
	}
	if files := b.Fields.Get("Files"); !strings.HasPrefix(files, "04c6dfcfa9d7e2057fea9561610b009a 1331 binutils_2.18.1~cvs20080103-6.dsc\n 23b4") {
		t.Errorf("Files = %q", files)
	}
}

func TestLoadPackages_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("loads all of bookworm main; skipped with -short")
	}
	pkgs, err := debian.LoadPackages(t.Context(), bookwormPackages(t))
	if err != nil {
		t.Fatal(err)
	}
	// 63,440 stanzas; linux-doc, linux-doc-6.1, linux-source and
	// linux-source-6.1 appear twice (point release and original).
	if len(pkgs) != 63436 {
		t.Errorf("loaded %d packages, want 63436", len(pkgs))
	}
	if v := pkgs["linux-doc"].Version; v != "6.1.176-1" {
		t.Errorf("linux-doc = %s, want the newer 6.1.176-1", v)
	}
	for name, p := range pkgs {
		if !debian.ValidPackageName(name) || !debian.ValidVersion(p.Version) || !debian.ValidVersion(p.SourceVersion) {
			t.Errorf("invalid name or version: %q %q (source %q)", name, p.Version, p.SourceVersion)
		}
	}
}

func TestNewPackage_FieldCase(t *testing.T) {
	para, err := debian.NewParser(strings.NewReader("package: aa\nVERSION: 1.0+b1\nsource: bb (1.0)\nPRE-DEPENDS: cc\nessential: yes\n")).Next()
	if err != nil {
		t.Fatal(err)
	}
	p, err := debian.NewPackage(para)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "aa" || p.Version != "1.0+b1" || p.Source != "bb" || p.SourceVersion != "1.0" || p.PreDepends != "cc" || !p.Essential {
		t.Errorf("NewPackage with odd field case = %+v", p)
	}
}

// TestLoadPackagesCompact checks that the compact load gives the packages
// LoadPackages does, field for field, without the paragraphs, and with
// their relations parsed when asked.
func TestLoadPackagesCompact(t *testing.T) {
	for _, fixture := range []string{"Packages_bookworm_subset", "Packages_bookworm-security_subset"} {
		t.Run(fixture, func(t *testing.T) {
			base := writeIndex(t, t.TempDir(), map[string][]byte{"": readFixture(t, fixture)})
			want, err := debian.LoadPackages(t.Context(), base)
			if err != nil {
				t.Fatalf("LoadPackages: %v", err)
			}
			got, err := debian.LoadPackagesCompact(t.Context(), base, true)
			if err != nil {
				t.Fatalf("LoadPackagesCompact: %v", err)
			}
			bare, err := debian.LoadPackagesCompact(t.Context(), base, false)
			if err != nil || len(bare) != len(want) {
				t.Fatalf("LoadPackagesCompact without relations: %d packages, %v; want %d", len(bare), err, len(want))
			}
			for name, p := range bare {
				if p.Parsed != nil {
					t.Errorf("LoadPackagesCompact without relations: %s has them parsed", name)
				}
			}
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("LoadPackagesCompact got %d packages, LoadPackages %d", len(got), len(want))
			}
			for name, w := range want {
				g := got[name]
				if g == nil {
					t.Errorf("LoadPackagesCompact lacks %q", name)
					continue
				}
				if len(g.Fields.Fields) != 0 {
					t.Errorf("%s: compact package keeps %d fields", name, len(g.Fields.Fields))
				}
				wc := *w
				wc.Fields = debian.Paragraph{Line: w.Fields.Line}
				wc.Parsed = w.ParseRelations()
				if !reflect.DeepEqual(*g, wc) {
					t.Errorf("LoadPackagesCompact[%s] = %+v, want %+v", name, *g, wc)
				}
			}
		})
	}
	_, err := debian.LoadPackagesCompact(t.Context(), filepath.Join(t.TempDir(), "Packages"), true)
	if !errors.Is(err, debian.ErrIndexNotFound) {
		t.Errorf("LoadPackagesCompact(missing) error = %v, want ErrIndexNotFound", err)
	}
}

// TestLoadPackages_Xz checks .xz indexes with each decoder
// $PIUPARTS_XZ_DECODER can choose (liblzma when the build has it, the xz
// command when the machine has it, the Go decoder): the same packages from
// a good file, also when xz wrote it in several blocks or streams, and an
// error from a corrupt or truncated one.
func TestLoadPackages_Xz(t *testing.T) {
	data := readFixture(t, "Packages_bookworm_subset")
	good := compress(t, data, ".xz")
	tests := []struct {
		name    string
		content []byte
		wantErr bool
	}{
		{"Good", good, false},
		{"TwoStreams", append(compress(t, data[:len(data)/2], ".xz"), compress(t, data[len(data)/2:], ".xz")...), false},
		{"NotXz", []byte("Package: a\nVersion: 1\n"), true},
		{"Truncated", good[:len(good)/2], true},
		{"CorruptBody", append(append([]byte{}, good[:12]...), bytes.Repeat([]byte{0x55}, 400)...), true},
		{"TrailingGarbage", append(append([]byte{}, good...), "garbage"...), true},
	}
	if _, err := exec.LookPath("xz"); err == nil {
		// Blocks of 4 KiB, which decoders may decode in parallel.
		cmd := exec.Command("xz", "-c", "-T2", "--block-size=4096")
		cmd.Stdin = bytes.NewReader(data)
		blocks, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz --block-size: %v", err)
		}
		tests = append(tests, struct {
			name    string
			content []byte
			wantErr bool
		}{"ManyBlocks", blocks, false})
	}
	for _, decoder := range []string{"liblzma", "command", "go"} {
		t.Run(decoder, func(t *testing.T) {
			t.Setenv(debian.XZDecoderEnv, decoder)
			switch _, err := exec.LookPath("xz"); {
			case decoder == "liblzma" && !debian.HaveLiblzma:
				t.Skip("SKIPPED: built without liblzma (make build with liblzma-dev installed)")
			case decoder == "command" && err != nil:
				t.Skip("SKIPPED: no xz command")
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					base := writeIndex(t, t.TempDir(), map[string][]byte{})
					if err := os.WriteFile(base+".xz", tt.content, 0o644); err != nil {
						t.Fatal(err)
					}
					pkgs, err := debian.LoadPackages(t.Context(), base)
					if tt.wantErr {
						if err == nil || errors.Is(err, debian.ErrIndexNotFound) {
							t.Errorf("LoadPackages(%s) = %d packages, error %v; want an xz error", tt.name, len(pkgs), err)
						}
						return
					}
					if err != nil {
						t.Fatalf("LoadPackages: %v", err)
					}
					if len(pkgs) != 42 || pkgs["dpkg"] == nil || pkgs["dpkg"].Version != "1.21.23" {
						t.Errorf("LoadPackages got %d packages, dpkg %+v; want 42 with dpkg 1.21.23", len(pkgs), pkgs["dpkg"])
					}
				})
			}
		})
	}
	t.Run("UnknownDecoder", func(t *testing.T) {
		t.Setenv(debian.XZDecoderEnv, "zstd")
		base := writeIndex(t, t.TempDir(), map[string][]byte{".xz": good})
		_, err := debian.LoadPackages(t.Context(), base)
		if err == nil || !strings.Contains(err.Error(), debian.XZDecoderEnv) {
			t.Errorf("LoadPackages with %s=zstd: error %v, want one naming the variable", debian.XZDecoderEnv, err)
		}
	})
}
