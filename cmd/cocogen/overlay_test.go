package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoteOverlayFailsWithoutRunningAnything: a workloads overlay that names a remote repository fails the
// render with exit 1, nothing on stdout and the kustomization's line on stderr, and neither git nor ssh runs
// nor anything appears in TMPDIR (kustomize itself would clone into TMPDIR with git).
func TestRemoteOverlayFailsWithoutRunningAnything(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"values", "policies", "overlays"} {
		err := filepath.WalkDir(filepath.Join("../..", sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel("../..", p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil { // the repository root
		t.Fatal(err)
	}
	k := filepath.Join(dir, "overlays/kbs-access/kustomization.yaml")
	data, err := os.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "  - route.yaml\n", "  - route.yaml\n  - git@github.com:example/evil.git//deploy?ref=main\n", 1))
	if err := os.WriteFile(k, data, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, tmp := t.TempDir(), t.TempDir()
	log := filepath.Join(t.TempDir(), "exec.log")
	for _, name := range []string{"git", "ssh"} {
		if err := os.WriteFile(filepath.Join(bin, name), fmt.Appendf(nil, "#!/bin/sh\necho %s \"$@\" >> %s\nexit 1\n", name, log), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TMPDIR", tmp)
	t.Chdir(dir)
	code, out, errOut := cli(t, "", "render", "--all")
	if code != 1 || out != "" {
		t.Errorf("exit %d with %d bytes on stdout, want exit 1 and nothing", code, len(out))
	}
	want := `overlays/kbs-access/kustomization.yaml:11:5: error: resources[3]: "git@github.com:example/evil.git//deploy?ref=main" is a git repository over ssh`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if data, err := os.ReadFile(log); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a program ran: %s", data)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("left in TMPDIR: %v", entries)
	}
}
