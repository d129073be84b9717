package overlay

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// heapGrowth runs f and returns the bytes it allocated (runtime.MemStats.TotalAlloc), an upper bound of the
// heap it needed.
func heapGrowth(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bomb is a document whose aliases expand to 10^levels values from a few hundred bytes.
func bomb(levels int) string {
	var b strings.Builder
	b.WriteString("  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// TestAliasBombsFailBeforeKustomize: aliases that expand to 10^9 values (kustomize's YAML library would
// expand them: gigabytes) fail at the document that holds them, in a manifest, a kustomization or an inline
// patch, and the walk allocates little.
func TestAliasBombsFailBeforeKustomize(t *testing.T) {
	k := "overlays/app/kustomization.yaml"
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"manifest", map[string]string{k: "resources:\n  - cm.yaml\n", "overlays/app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n" + bomb(9)},
			"overlays/app/cm.yaml:"},
		{"kustomization", map[string]string{k: "commonAnnotations:\n  x: y\nmetadata:\n  annotations:\n" + strings.ReplaceAll(bomb(9), "  a", "    a")},
			k + ":"},
		{"inline patch", map[string]string{k: "resources: [cm.yaml]\npatches:\n  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: cm}\n      data:\n" + strings.ReplaceAll(bomb(9), "  a", "        a"), "overlays/app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"},
			k + ":3:12: error: patches[0].patch: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := sandbox(t)
			root, _ := writeRepo(t, c.files)
			var err error
			grew := heapGrowth(func() { _, err = buildErr(root, "overlays/app", Options{}) })
			if err == nil {
				t.Fatal("built an alias bomb")
			}
			msg := strings.ReplaceAll(err.Error(), root.Display(""), "")
			if !strings.HasPrefix(msg, c.want) || !strings.Contains(msg, BudgetValues) {
				t.Errorf("want an error at %s naming %s, got:\n%s", c.want, BudgetValues, msg)
			}
			t.Logf("allocated %d MiB: %s", grew>>20, msg)
			if grew > 64<<20 {
				t.Errorf("the walk allocated %d MiB for an alias bomb, want well under 64 MiB", grew>>20)
			}
			check()
		})
	}
}

// TestUnreferencedFilesAreNotRead: 100 files of 8 MiB beside the overlay (800 MiB) are not read: the build
// allocates a few MiB and reports only the files its kustomizations name.
func TestUnreferencedFilesAreNotRead(t *testing.T) {
	root, dir := writeRepo(t, map[string]string{
		"overlays/app/kustomization.yaml": "resources:\n  - cm.yaml\n",
		"overlays/app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
	})
	for i := range 100 {
		// Sparse files: 8 MiB each to a reader, no disk.
		p := filepath.Join(dir, "overlays", "junk", fmt.Sprintf("big-%03d.yaml", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(8 << 20); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	var res *Result
	var err error
	grew := heapGrowth(func() { res, err = buildErr(root, "overlays/app", Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("allocated %d MiB", grew>>20)
	if grew > 32<<20 {
		t.Errorf("the build allocated %d MiB: it read files its kustomization does not name", grew>>20)
	}
	if len(res.Files) != 2 || len(res.Resources) != 1 {
		t.Errorf("read %d files and built %d objects, want 2 and 1", len(res.Files), len(res.Resources))
	}
}

// TestBudgets: each budget stops a build that would exceed it, names itself and the file, and counts a
// file every time kustomize would read it.
func TestBudgets(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  key: " + strings.Repeat("x", 1000) + "\n"
	// A diamond: app lists 8 variants, each of which lists 8 sub-variants, each of which uses the base: 64
	// builds of the base from 10 kustomizations.
	diamond := map[string]string{"overlays/base/kustomization.yaml": "resources: [cm.yaml]\n", "overlays/base/cm.yaml": cm}
	var top, mid strings.Builder
	top.WriteString("resources:\n")
	mid.WriteString("resources:\n")
	for i := range 8 {
		fmt.Fprintf(&top, "  - ../v%d\n", i)
		fmt.Fprintf(&mid, "  - ../w%d\n", i)
		diamond[fmt.Sprintf("overlays/v%d/kustomization.yaml", i)] = fmt.Sprintf("nameSuffix: -v%d\n%s", i, mid.String())
		diamond[fmt.Sprintf("overlays/w%d/kustomization.yaml", i)] = fmt.Sprintf("nameSuffix: -w%d\nresources: [../base]\n", i)
	}
	diamond["overlays/app/kustomization.yaml"] = top.String()
	for i := range 8 {
		diamond[fmt.Sprintf("overlays/v%d/kustomization.yaml", i)] = fmt.Sprintf("nameSuffix: -v%d\n%s", i, mid.String())
	}
	// A JSON patch of 4,000 values for each of 100 ConfigMaps: 60 KB of input, 400,000 values written
	// (kustomize: 14 s, 4.4 GB of allocations).
	var objs, patch strings.Builder
	for i := range 100 {
		fmt.Fprintf(&objs, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%03d\n", i)
	}
	patch.WriteString("- op: add\n  path: /data\n  value:\n")
	for i := range 4000 {
		fmt.Fprintf(&patch, "    k%05d: v\n", i)
	}
	amplified := map[string]string{
		"overlays/app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n  - path: p.yaml\n    target: {kind: ConfigMap}\n",
		"overlays/app/cm.yaml":            objs.String(),
		"overlays/app/p.yaml":             patch.String(),
	}
	// A long list of resources is no transformation: 600 files build.
	long := map[string]string{}
	var list strings.Builder
	list.WriteString("commonLabels: {app: long}\nresources:\n")
	for i := range 600 {
		fmt.Fprintf(&list, "  - c%03d.yaml\n", i)
		long[fmt.Sprintf("overlays/app/c%03d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%03d\ndata: {a: b}\n", i)
	}
	long["overlays/app/kustomization.yaml"] = list.String()
	cases := []struct {
		name  string
		files map[string]string
		opt   Options
		want  []string
		// objects is what a build that passes gives.
		objects int
	}{
		{"output: a patch for every object", amplified, Options{},
			[]string{"overlays/app/kustomization.yaml:1:1: error: kustomize may apply this kustomization's patches and transformations (4011 values, with the files they name) to 100 objects", BudgetOutput}, 0},
		{"bytes", map[string]string{"overlays/app/kustomization.yaml": "resources: [cm.yaml]\n", "overlays/app/cm.yaml": cm},
			Options{MaxBytes: 500}, []string{"overlays/app/kustomization.yaml:1:13: error: resources[0]: reading overlays/app/cm.yaml", BudgetBytes}, 0},
		{"files, counted at every read", diamond, Options{MaxFiles: 100}, []string{"reading overlays/", "more than 100 files", BudgetFiles}, 0},
		{"objects, counted at every read", diamond, Options{}, nil, 64},
		{"many resources, one label", long, Options{}, nil, 600},
		{"objects over the budget", diamond, Options{MaxObjects: 50}, []string{"overlays/base/kustomization.yaml:1:13: error: resources[0]: overlays/base/cm.yaml makes this build read more than 50 objects", BudgetObjects}, 0},
		{"values", map[string]string{"overlays/app/kustomization.yaml": "resources: [cm.yaml]\n", "overlays/app/cm.yaml": cm}, Options{MaxValues: 5},
			[]string{"overlays/app/cm.yaml:", BudgetValues}, 0},
		{"a file larger than any input file", map[string]string{"overlays/app/kustomization.yaml": "resources: [big.yaml]\n", "overlays/app/big.yaml": strings.Repeat("#", 8<<20+1)}, Options{MaxBytes: 1 << 30},
			[]string{"overlays/app/kustomization.yaml:1:13: error: resources[0]: overlays/app/big.yaml: ", "budget file-bytes"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, _ := writeRepo(t, c.files)
			var res *Result
			var err error
			grew := heapGrowth(func() { res, err = buildErr(root, "overlays/app", c.opt) })
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Resources) != c.objects {
					t.Errorf("built %d objects, want %d", len(res.Resources), c.objects)
				}
				return
			}
			if grew > 64<<20 {
				t.Errorf("the walk allocated %d MiB before refusing", grew>>20)
			}
			if err == nil {
				t.Fatalf("built %d objects over the budget", len(res.Resources))
			}
			msg := strings.ReplaceAll(err.Error(), root.Display(""), "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, msg)
				}
			}
		})
	}
}
