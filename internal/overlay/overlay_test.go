package overlay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/repo"
)

func TestBuildRepositoryOverlays(t *testing.T) {
	root, err := repo.Open("../..")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	cases := []struct {
		dir   string
		kinds map[string]int
	}{
		{"overlays/hello-openshift", map[string]int{"Deployment": 3, "Service": 3, "Route": 3}},
		{"overlays/kbs-access", map[string]int{"Deployment": 1, "Service": 1, "Route": 1}},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			objs, err := Build(root, c.dir)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, o := range objs {
				got[o.Node.Get("kind").Text]++
				if o.File == "" || !strings.HasPrefix(o.File, c.dir+"/") {
					t.Errorf("%s: origin file %q is not under %s", o.Node.Path("metadata", "name").Text, o.File, c.dir)
				}
				if o.Node.Path("metadata", "annotations", "config.kubernetes.io/origin") != nil {
					t.Errorf("origin annotation left in the output")
				}
				if o.Node.Path("kind").Text == "Route" {
					// The Route must point at the Service of its own variant.
					if to, name := o.Node.Path("spec", "to", "name").Text, o.Node.Path("metadata", "name").Text; to != name {
						t.Errorf("Route %s points at Service %s", name, to)
					}
				}
			}
			for k, n := range c.kinds {
				if got[k] != n {
					t.Errorf("%s: got %d, want %d (all: %v)", k, got[k], n, got)
				}
			}
		})
	}
}

func TestBuildRefusesFilesOutsideTheRepository(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newRepo := func(files map[string]string, link string) *repo.Root {
		dir := t.TempDir()
		for rel, content := range files {
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if link != "" {
			if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, link)); err != nil {
				t.Fatal(err)
			}
		}
		root, err := repo.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { root.Close() })
		return root
	}
	cases := []struct {
		name string
		root *repo.Root
		want string
	}{
		{"relative path out of the repository",
			newRepo(map[string]string{"overlays/evil/kustomization.yaml": "resources:\n  - ../../../../../../../../" + strings.TrimPrefix(filepath.ToSlash(outside), "/") + "/secret.yaml\n"}, ""),
			"outside"},
		{"symbolic link out of the repository",
			newRepo(map[string]string{"overlays/evil/kustomization.yaml": "resources:\n  - ../link.yaml\n"}, "overlays/link.yaml"),
			"escapes the repository root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := Build(c.root, "overlays/evil")
			if err == nil {
				t.Fatalf("built %d objects from outside the repository", len(objs))
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("the error should say the reference leaves the repository (%q): %v", c.want, err)
			}
		})
	}
}
