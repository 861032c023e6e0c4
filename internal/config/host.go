package config

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// AptSourcesFiles returns the apt source files under aptDir (normally
// /etc/apt) in the order apt reads them: sources.list, then the *.list
// and *.sources files of sources.list.d in lexical order. Files that do not
// exist are left out; it returns an error only if the directory listing
// fails for another reason.
func AptSourcesFiles(aptDir string) ([]string, error) {
	var out []string
	main := filepath.Join(aptDir, "sources.list")
	if _, err := os.Stat(main); err == nil {
		out = append(out, main)
	}
	entries, err := os.ReadDir(filepath.Join(aptDir, "sources.list.d"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list apt sources: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources")) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		out = append(out, filepath.Join(aptDir, "sources.list.d", n))
	}
	return out, nil
}

// DefaultMirror returns the URI of the first Debian archive among the
// binary ("deb") entries of the given apt source files: one-line
// sources.list files and deb822 *.sources files, read in the order given.
// Entries for security updates (a suite ending in "-security" or
// "/updates") and disabled deb822 stanzas are skipped. Missing files are
// skipped. It returns an error wrapping ErrNoMirror if no entry fits, or
// the error of reading a file that exists.
func DefaultMirror(files ...string) (string, error) {
	for _, path := range files {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read apt sources: %w", err)
		}
		var uri string
		if strings.HasSuffix(path, ".sources") {
			uri = mirrorFromDeb822(data)
		} else {
			uri = mirrorFromList(data)
		}
		if uri != "" {
			return strings.TrimRight(uri, "/"), nil
		}
	}
	return "", fmt.Errorf("default mirror from %d apt source files: %w", len(files), ErrNoMirror)
}

func securitySuite(s string) bool {
	return strings.HasSuffix(s, "-security") || strings.HasSuffix(s, "/updates")
}

// mirrorFromList reads "deb [options] URI SUITE COMPONENT..." lines.
func mirrorFromList(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") { // options, possibly several words
			for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
				f = f[1:]
			}
			if len(f) == 0 {
				continue
			}
			f = f[1:]
		}
		if len(f) >= 2 && !securitySuite(f[1]) {
			return f[0]
		}
	}
	return ""
}

// mirrorFromDeb822 reads the stanzas of a *.sources file.
func mirrorFromDeb822(data []byte) string {
	for _, stanza := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n\n") {
		fields := map[string]string{}
		last := ""
		for _, line := range strings.Split(stanza, "\n") {
			switch {
			case strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t"):
				if last != "" {
					fields[last] += " " + strings.TrimSpace(line)
				}
			default:
				k, v, ok := strings.Cut(line, ":")
				if ok {
					last = strings.ToLower(strings.TrimSpace(k))
					fields[last] = strings.TrimSpace(v)
				}
			}
		}
		if !slices.Contains(strings.Fields(fields["types"]), "deb") || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		uris := strings.Fields(fields["uris"])
		if len(uris) == 0 {
			continue
		}
		suites := strings.Fields(fields["suites"])
		if len(suites) == 0 || !slices.ContainsFunc(suites, func(s string) bool { return !securitySuite(s) }) {
			continue
		}
		return uris[0]
	}
	return ""
}

// HostArch returns the output of `dpkg --print-architecture`, which is
// what the reference uses when arch is not set. It returns the command's
// error, wrapped, if dpkg is missing or fails.
func HostArch(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "dpkg", "--print-architecture").Output()
	if err != nil {
		return "", fmt.Errorf("dpkg --print-architecture: %w", err)
	}
	arch := strings.TrimSpace(string(out))
	if arch == "" {
		return "", errors.New("dpkg --print-architecture: empty output")
	}
	return arch, nil
}

// DetectHost returns this machine's architecture (dpkg) and default mirror
// (the apt sources under aptDir, normally /etc/apt), for
// [Config.ApplyHost]. It returns the first error of [HostArch],
// [AptSourcesFiles] or [DefaultMirror].
func DetectHost(ctx context.Context, aptDir string) (Host, error) {
	arch, err := HostArch(ctx)
	if err != nil {
		return Host{}, err
	}
	files, err := AptSourcesFiles(aptDir)
	if err != nil {
		return Host{}, err
	}
	mirror, err := DefaultMirror(files...)
	if err != nil {
		return Host{}, err
	}
	return Host{Arch: arch, Mirror: mirror}, nil
}

// LoadForHost loads the config at path and, where a section lacks arch or
// mirror, fills them from this machine (dpkg's architecture and the first
// Debian mirror of the apt sources under aptDir, usually /etc/apt), as the
// reference does with its builtins. It returns Load's errors, or one that
// says to set arch and mirror when they cannot be detected.
func LoadForHost(ctx context.Context, path, aptDir string) (*Config, error) {
	cfg, err := Load(path)
	if err != nil {
		return nil, err
	}
	if cfg.NeedsHost() {
		host, err := DetectHost(ctx, aptDir)
		if err != nil {
			return nil, fmt.Errorf("detect arch and mirror (set them in the config): %w", err)
		}
		cfg.ApplyHost(host)
	}
	return cfg, nil
}

// NeedsHost reports whether a section lacks arch or mirror, so that
// [Config.ApplyHost] has something to fill.
func (c *Config) NeedsHost() bool {
	for _, s := range c.sectionList() {
		if s.Arch == "" || s.Mirror == "" {
			return true
		}
	}
	return false
}
