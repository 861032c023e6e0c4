package debian_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"piuparts-server/internal/debian"
)

func ExampleParser() {
	const packages = `Package: vorbisgain
Source: vorbisgain (0.37-2)
Version: 0.37-2+b1
Depends: libc6 (>= 2.14), libogg0 (>= 1.0rc3), libvorbis0a (>= 1.1.2), libvorbisfile3 (>= 1.1.2)
Tag: interface::commandline, role::program, scope::utility,
 works-with::audio

# comments are skipped
Package: python3-six
Version: 1.16.0-4
`
	p := debian.NewParser(strings.NewReader(packages))
	for {
		para, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("line %d: %s %s\n", para.Line, para.Get("package"), para.Get("Version"))
		if tag, ok := para.Lookup("Tag"); ok {
			fmt.Printf("%q\n", tag)
		}
	}
	// Output:
	// line 1: vorbisgain 0.37-2+b1
	// "interface::commandline, role::program, scope::utility,\n works-with::audio"
	// line 9: python3-six 1.16.0-4
}

func ExampleParser_syntaxError() {
	_, err := debian.NewParser(strings.NewReader("Package: a\nVersion 1\n")).Next()
	fmt.Println(err)
	// Output:
	// line 2: missing colon in "Version 1"
}

func ExampleNewPackage() {
	para, _ := debian.NewParser(strings.NewReader(
		"Package: vorbisgain\nSource: vorbisgain (0.37-2)\nVersion: 0.37-2+b1\n")).Next()
	pkg, err := debian.NewPackage(para)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pkg.Name, pkg.Version, pkg.Source, pkg.SourceVersion)
	// Output:
	// vorbisgain 0.37-2+b1 vorbisgain 0.37-2
}

// ExampleReadPackages shows the higher version winning and Order keeping
// the file order of the names, as piupartslib lists them.
func ExampleReadPackages() {
	const packages = "Package: python3-six\nVersion: 1.16.0-4\n\n" +
		"Package: apt\nVersion: 2.6.1\n\n" +
		"Package: python3-six\nVersion: 1.16.0-3\n\n" +
		"Package: apt\nVersion: 2.6.2\n"
	pkgs, err := debian.ReadPackages(context.Background(), strings.NewReader(packages))
	if err != nil {
		fmt.Println(err)
		return
	}
	inOrder := make([]*debian.Package, len(pkgs))
	for _, p := range pkgs {
		inOrder[p.Order] = p
	}
	for _, p := range inOrder {
		fmt.Printf("%s %s (line %d)\n", p.Name, p.Version, p.Fields.Line)
	}
	// Output:
	// python3-six 1.16.0-4 (line 1)
	// apt 2.6.2 (line 10)
}

func ExampleCompareVersions() {
	versions := [][2]string{
		{"1.0~rc1", "1.0"},
		{"2.36-9+deb12u7", "2.36-9+deb12u14"},
		{"1:0.9", "2.0"},
		{"1.0", "1.00"},
	}
	for _, v := range versions {
		fmt.Println(v[0], v[1], debian.CompareVersions(v[0], v[1]))
	}
	// Output:
	// 1.0~rc1 1.0 -1
	// 2.36-9+deb12u7 2.36-9+deb12u14 -1
	// 1:0.9 2.0 1
	// 1.0 1.00 0
}

func ExampleParseVersion() {
	v, err := debian.ParseVersion("1:2.30-2-3")
	fmt.Printf("%d %q %q %v\n", v.Epoch, v.Upstream, v.Revision, err)
	_, err = debian.ParseVersion("1.0-")
	fmt.Println(err)
	// Output:
	// 1 "2.30-2" "3" <nil>
	// debian: version "1.0-": revision number is empty
}

func ExampleParseDepends() {
	d, err := debian.ParseDepends("gcc-x86-64-linux-gnu (>= 4:10.2) | gcc:amd64,\n python3:any (> 3.11), libcap-dev [!hurd-i386] <!nocheck>")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, alt := range d {
		for _, r := range alt {
			fmt.Printf("%s arch=%q op=%q version=%q\n", r.Name, r.Arch, r.Op, r.Version)
		}
	}
	fmt.Println(d)
	fmt.Println(d[0][0].SatisfiedBy("4:12.2.0-3"))
	// Output:
	// gcc-x86-64-linux-gnu arch="" op=">=" version="4:10.2"
	// gcc arch="amd64" op="" version=""
	// python3 arch="any" op=">=" version="3.11"
	// libcap-dev arch="" op="" version=""
	// gcc-x86-64-linux-gnu (>= 4:10.2) | gcc:amd64, python3:any (>= 3.11), libcap-dev [!hurd-i386] <!nocheck>
	// true
}

func ExampleParseProvides() {
	p, err := debian.ParseProvides("python3-profiler, python3-supported-max (= 3.11)")
	fmt.Println(p, err)
	// Output:
	// [python3-profiler python3-supported-max (= 3.11)] <nil>
}

func ExamplePathSafe() {
	for _, s := range []string{"libc6", "1:2.36-9+deb12u7", "1..2", "..", "a/b"} {
		fmt.Println(s, debian.ValidPackageName(s), debian.ValidVersion(s), debian.PathSafe(s))
	}
	// Output:
	// libc6 true false true
	// 1:2.36-9+deb12u7 false true true
	// 1..2 true true true
	// .. false false false
	// a/b false false false
}
