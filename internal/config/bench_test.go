package config_test

import (
	"bytes"
	"os"
	"testing"

	"piuparts-server/internal/config"
)

func BenchmarkParse_Example(b *testing.B) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := config.Parse(bytes.NewReader(data), "piuparts.toml"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportINI_MultiSection(b *testing.B) {
	data, err := os.ReadFile("testdata/multi_section.conf")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := config.ImportINI(bytes.NewReader(data), "multi_section.conf", &out); err != nil {
			b.Fatal(err)
		}
	}
}
