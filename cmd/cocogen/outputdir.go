package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

// markerFile marks a directory that cocogen wrote, so that a later run may replace it.
const markerFile = ".cocogen-output"

// writeOutputDir writes one file per object. The tree is written next to dir and swapped in only when complete,
// so a failure leaves the previous output untouched. An existing dir is replaced only if it is empty or was
// written by cocogen.
func writeOutputDir(dir, format string, objs []manifest.Object) (int, error) {
	if err := checkReplaceable(dir); err != nil {
		return 0, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	ext := "yaml"
	if format == "json" {
		ext = "json"
	}
	seen := map[string]bool{}
	for _, o := range objs {
		name := manifest.FileName(o, ext)
		if seen[name] {
			return 0, fmt.Errorf("two objects map to the file %s", name)
		}
		seen[name] = true
		var buf bytes.Buffer
		if format == "json" {
			if err := node.EncodeJSON(&buf, o.Node, 0); err != nil {
				return 0, err
			}
			buf.WriteByte('\n')
		} else {
			manifest.EncodeOneYAML(&buf, o)
		}
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return 0, err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, markerFile), []byte("written by cocogen render --output-dir; the directory is replaced on every run\n"), 0o644); err != nil {
		return 0, err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return 0, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return 0, err
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return len(objs), nil
}

func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, markerFile)); err == nil {
		return nil
	}
	return fmt.Errorf("--output-dir %s is not empty and was not written by cocogen; refusing to replace it", dir)
}
