package pipeline

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzRenderValues runs the real render (Render, what `cocogen render` and the plugin call) on mutated copies
// of the built-in pattern, of a small Validated Patterns repository and of golden cases. The input picks a
// tree and up to six mutations, three bytes each (see mutState.applyOps): replace any value, at any path of
// any values file or of the metadata, with null, an empty map, list or string, a number, a bool, a string, a
// list instead of a map (and back); drop a key or a whole file; add --set arguments with nulls. Every
// failure therefore reproduces from its input alone (go test -run FuzzRenderValues/<file>), and its message
// lists the mutations.
//
// Render must never panic and never fail with anything but diagnostics that name a file; a render that
// succeeds must give the same bytes twice.
//
//	go test -run '^$' -fuzz FuzzRenderValues -fuzztime 10m -parallel 1 ./internal/pipeline/
//
// A crasher that the fuzzer writes to testdata/fuzz/FuzzRenderValues/<hash> becomes a named seed: add it to
// fuzzSeeds with the tree and the mutations its message lists, delete the hash file and run
// go test ./internal/pipeline -run TestFuzzSeeds -write-fuzz-seeds.
func FuzzRenderValues(f *testing.F) {
	f.Fuzz(func(t *testing.T, tree uint8, ops []byte) {
		tr := loadMutTree(t, mutTreeNames[int(tree)%len(mutTreeNames)])
		s := newMutState(t, tr)
		s.applyOps(ops)
		req := s.write(t, t.TempDir())
		checkRender(t, req, tr.name+": "+strings.Join(s.ops, "; "), true)
	})
}

// fuzzSeed is a named input of testdata/fuzz/FuzzRenderValues: a tree and the mutations, by target name.
type fuzzSeed struct {
	name string
	tree string
	muts []any // target name (or chart default key, for mutSetDefault), kind, …
}

// fuzzSeeds are the committed seeds: the three crashers of issue 11 and what the fuzzer found since.
var fuzzSeeds = []fuzzSeed{
	{name: "builtin-unchanged", tree: "builtin"},
	{name: "issue11-empty-values-global", tree: "vp-small", muts: []any{"values-global.yaml:<root>", mutNull}},
	{name: "issue11-null-imperative", tree: "vp-small", muts: []any{"values-hub.yaml:clusterGroup.imperative", mutNull}},
	{name: "issue11-global-null", tree: "vp-small", muts: []any{"values-hub.yaml:global", mutNull}},
	{name: "null-argocd", tree: "vp-small", muts: []any{"values-hub.yaml:clusterGroup.argoCD", mutNull}},
	{name: "set-default-imperative-null", tree: "vp-small", muts: []any{"clusterGroup.imperative", mutSetDefault}},
	{name: "builtin-set-global-null", tree: "builtin", muts: []any{"values/values-global.yaml:global", mutSetNull}},
	{name: "builtin-set-coco-null", tree: "builtin", muts: []any{"values/values-global.yaml:global.coco", mutSetNull}},
	{name: "builtin-set-sandbox-null", tree: "builtin", muts: []any{"values/values-azure.yaml:clusterGroup.applications.sandbox", mutSetNull}},
	{name: "builtin-metadata-azure-list", tree: "builtin", muts: []any{"values/cluster-metadata.yaml:azure", mutSwap}},
	// Found by the fuzzer: a plugin without a name was also reported as an invalid name, without a position.
	{name: "argocd-plugin-empty", tree: "argocd-instance", muts: []any{"values-hub.yaml:clusterGroup.argoCD.configManagementPlugins[0]", mutEmptyMap}},
}

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzRenderValues from fuzzSeeds")

// TestFuzzSeeds checks that every named seed file still encodes the mutations it is named for (the trees or
// the encoding may change), and that the seed corpus holds nothing else unnamed. -write-fuzz-seeds rewrites
// the files.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRenderValues")
	var names []string
	for _, s := range fuzzSeeds {
		names = append(names, s.name)
		tree := slices.Index(mutTreeNames, s.tree)
		if tree < 0 {
			t.Fatalf("%s: no tree %s", s.name, s.tree)
		}
		content := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", rune(tree), opsFor(t, loadMutTree(t, s.tree), s.muts...))
		p := filepath.Join(dir, s.name)
		if *writeSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%v (go test ./internal/pipeline -run TestFuzzSeeds -write-fuzz-seeds writes it)", err)
			continue
		}
		if string(got) != content {
			t.Errorf("%s no longer encodes its mutations %v: rewrite it with -write-fuzz-seeds", p, s.muts)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if !slices.Contains(names, filepath.Base(f)) {
			t.Errorf("%s is not among fuzzSeeds: name it there (a crasher the fuzzer found, with the mutations it makes)", f)
		}
	}
}

// FuzzRenderYAML renders a Validated Patterns repository of two files whose bytes the fuzzer writes:
// values-global.yaml and values-hub.yaml, with optional --set arguments (one per line). Where FuzzRenderValues
// changes whole values of real trees, this one reaches the YAML itself (anchors, tags, odd scalars, duplicate
// keys, documents that are not maps) and renders in milliseconds. The assertions are the same.
//
//	go test -run '^$' -fuzz FuzzRenderYAML -fuzztime 10m -parallel 1 ./internal/pipeline/
func FuzzRenderYAML(f *testing.F) {
	f.Add([]byte(smallVPGlobal), []byte(smallVPHub), "")
	f.Add([]byte(""), []byte(smallVPHub), "")
	f.Add([]byte(smallVPGlobal), []byte(smallVPHub+"  imperative:\n    # jobs: []\n"), "")
	f.Add([]byte(smallVPGlobal), []byte(smallVPHub), "global=null\nclusterGroup.argoCD=null")
	f.Add([]byte(smallVPGlobal+"global:\n  options: &o\n    useCSV: false\n  coco: *o\n"), []byte(smallVPHub+"  subscriptions:\n    - name: x\n      namespaces: ~\n"), "clusterGroup.applications.a.name=a,clusterGroup.applications.a.path=p")
	f.Fuzz(func(t *testing.T, global, hub []byte, sets string) {
		// The repository is a file system in memory: Render reads nothing else.
		repo := fstest.MapFS{"values-global.yaml": {Data: global}, "values-hub.yaml": {Data: hub}}
		req := Request{FS: repo, ValuesDir: "."}
		for _, l := range strings.Split(sets, "\n") {
			if l != "" {
				req.Sets = append(req.Sets, l)
			}
		}
		checkRender(t, req, fmt.Sprintf("values-global.yaml %q, values-hub.yaml %q, --set %q", global, hub, req.Sets), true)
	})
}

// FuzzPlainNames checks the fast paths of checkNames against the apimachinery checks they stand in front of:
// a name they pass must be one the API server takes.
func FuzzPlainNames(f *testing.F) {
	for _, s := range []string{"a", "app-0001", "-a", "a-", "a.b", "a..b", ".a", "a.", "A", "a_b", "", "é",
		"ns-" + strings.Repeat("x", 60), strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a.", 126) + "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainLabel(s) {
			if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
				t.Errorf("plainLabel(%q) passes what IsDNS1123Label refuses: %v", s, errs)
			}
		}
		if plainSubdomain(s) {
			if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
				t.Errorf("plainSubdomain(%q) passes what IsDNS1123Subdomain refuses: %v", s, errs)
			}
		}
		// The usual names must take the fast path, or it saves nothing.
		if len(validation.IsDNS1123Label(s)) == 0 && !plainLabel(s) {
			t.Errorf("plainLabel(%q) refuses a DNS-1123 label", s)
		}
		if len(validation.IsDNS1123Subdomain(s)) == 0 && !plainSubdomain(s) {
			t.Errorf("plainSubdomain(%q) refuses a DNS-1123 subdomain", s)
		}
	})
}
