package overlay

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/repo"
)

// writeRepo writes files (root-relative path → content) into a new directory and opens it as a repository.
func writeRepo(t testing.TB, files map[string]string) (*repo.Root, string) {
	t.Helper()
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
	root, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, dir
}

// sandbox puts executables named git and ssh first in PATH, each appending its arguments to a log, and points
// TMPDIR (where kustomize clones) at an empty directory. The returned function fails the test when either
// program ran or anything appeared in TMPDIR.
func sandbox(t *testing.T) (check func()) {
	t.Helper()
	bin, tmp := t.TempDir(), t.TempDir()
	log := filepath.Join(t.TempDir(), "exec.log")
	for _, name := range []string{"git", "ssh"} {
		script := fmt.Sprintf("#!/bin/sh\necho %s \"$@\" >> %s\nexit 1\n", name, log)
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TMPDIR", tmp)
	return func() {
		t.Helper()
		if data, err := os.ReadFile(log); err == nil {
			t.Errorf("a program ran:\n%s", data)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("left in TMPDIR: %s", e.Name())
		}
	}
}

// listener counts the connections made to a local HTTP (or HTTPS) server.
func listener(t *testing.T, tls bool) (url string, conns *atomic.Int32) {
	t.Helper()
	conns = &atomic.Int32{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL, conns
}

// TestKustomizeReachesOutByItself shows what the walk prevents, and that the sandbox sees it: given a remote
// resource, kustomize's own loader (with every restriction its options offer, on an in-memory file system)
// runs git and leaves a clone directory in TMPDIR.
func TestKustomizeReachesOutByItself(t *testing.T) {
	bin, tmp := t.TempDir(), t.TempDir()
	log := filepath.Join(t.TempDir(), "exec.log")
	script := fmt.Sprintf("#!/bin/sh\necho git \"$@\" >> %s\nexit 1\n", log)
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TMPDIR", tmp)
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile("/repo/kustomization.yaml", []byte("resources:\n  - github.com/example/repo//deploy?ref=v1\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := run(fs, "/repo"); err == nil {
		t.Fatal("kustomize built a remote resource from a stub git")
	}
	if _, err := os.Stat(log); err != nil {
		t.Errorf("kustomize did not run git (the walk's reason to exist is gone?): %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) == 0 {
		t.Errorf("kustomize left nothing in TMPDIR; the sandbox check would not notice a clone")
	}
}

// TestRemoteReferencesAreRefusedBeforeKustomizeRuns: every way a kustomization can name something outside
// the repository is an error at the line that writes it, and nothing is fetched, run or left behind.
func TestRemoteReferencesAreRefusedBeforeKustomizeRuns(t *testing.T) {
	httpURL, httpConns := listener(t, false)
	httpsURL, httpsConns := listener(t, true)
	host := strings.TrimPrefix(httpsURL, "https://")
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
	k := "overlays/app/kustomization.yaml"
	cases := []struct {
		name  string
		files map[string]string
		link  string // overlays/app/link.yaml → outside/secret.yaml
		want  []string
	}{
		{"https resource", map[string]string{k: "resources:\n  - " + httpsURL + "/cm.yaml\n"}, "",
			[]string{k + ":2:5: error: resources[0]: ", "is an https URL", "never fetches"}},
		{"http resource", map[string]string{k: "resources:\n  - cm.yaml\n  - " + httpURL + "/cm.yaml\n", "overlays/app/cm.yaml": cm}, "",
			[]string{k + ":3:5: error: resources[1]: ", "is an http URL"}},
		{"https git repository", map[string]string{k: "resources:\n  - " + httpsURL + "/org/repo.git//deploy?ref=v1\n"}, "",
			[]string{k + ":2:5: ", "is an https URL"}},
		{"ssh URL", map[string]string{k: "resources:\n  - ssh://git@" + host + "/org/repo//deploy\n"}, "",
			[]string{k + ":2:5: ", "is an ssh URL"}},
		{"git@ (scp style)", map[string]string{k: "resources:\n  - git@" + strings.Split(host, ":")[0] + ":org/repo.git//deploy\n"}, "",
			[]string{k + ":2:5: ", "user@host"}},
		{"github.com shorthand", map[string]string{k: "resources:\n  - github.com/org/repo//deploy?ref=v1.2.3\n"}, "",
			[]string{k + ":2:5: ", "GitHub repository"}},
		{"git:: prefix", map[string]string{k: "resources:\n  - git::https://example.com/org/repo\n"}, "",
			[]string{k + ":2:5: ", "git:: repository reference"}},
		{"file:// repository", map[string]string{k: "resources:\n  - file://" + outside + "/repo\n"}, "",
			[]string{k + ":2:5: ", "file:// URL"}},
		{"remote base in bases", map[string]string{k: "bases:\n- github.com/org/repo/base\n"}, "",
			[]string{k + ":2:3: error: bases[0]: "}},
		{"remote component", map[string]string{k: "components:\n  - " + httpsURL + "/org/repo.git//comp\n"}, "",
			[]string{k + ":2:5: error: components[0]: ", "https URL"}},
		{"remote patch", map[string]string{k: "resources: [cm.yaml]\npatches:\n  - path: " + httpURL + "/p.yaml\n", "overlays/app/cm.yaml": cm}, "",
			[]string{k + ":3:11: error: patches[0].path: ", "http URL"}},
		{"remote JSON 6902 patch", map[string]string{k: "resources: [cm.yaml]\npatchesJson6902:\n  - target: {kind: ConfigMap, name: cm, version: v1}\n    path: " + httpURL + "/p.yaml\n", "overlays/app/cm.yaml": cm}, "",
			[]string{k + ":4:11: error: patchesJson6902[0].path: "}},
		{"remote strategic merge patch", map[string]string{k: "resources: [cm.yaml]\npatchesStrategicMerge:\n  - " + httpURL + "/p.yaml\n", "overlays/app/cm.yaml": cm}, "",
			[]string{k + ":3:5: error: patchesStrategicMerge[0]: "}},
		{"remote CRD", map[string]string{k: "crds:\n  - " + httpURL + "/crd.yaml\n"}, "",
			[]string{k + ":2:5: error: crds[0]: "}},
		{"remote configuration", map[string]string{k: "configurations:\n  - " + httpURL + "/c.yaml\n"}, "",
			[]string{k + ":2:5: error: configurations[0]: "}},
		{"remote openapi schema", map[string]string{k: "openapi:\n  path: " + httpURL + "/schema.json\n"}, "",
			[]string{k + ":2:9: error: openapi.path: "}},
		{"remote replacement", map[string]string{k: "replacements:\n  - path: " + httpURL + "/r.yaml\n"}, "",
			[]string{k + ":2:11: error: replacements[0].path: "}},
		{"remote ConfigMap file", map[string]string{k: "configMapGenerator:\n  - name: x\n    files:\n      - key=" + httpURL + "/data\n"}, "",
			[]string{k + ":4:9: error: configMapGenerator[0].files[0]: "}},
		{"remote Secret env file", map[string]string{k: "secretGenerator:\n  - name: x\n    envs: [" + httpURL + "/env]\n"}, "",
			[]string{k + ":3:12: error: secretGenerator[0].envs[0]: "}},
		{"helmCharts", map[string]string{k: "helmCharts:\n  - name: minecraft\n    repo: " + httpsURL + "\n    version: 3.1.3\n"}, "",
			[]string{k + ":1:1: error: helmCharts: ", "helm program"}},
		{"helmChartInflationGenerator", map[string]string{k: "helmChartInflationGenerator:\n  - chartName: minecraft\n    chartRepoUrl: " + httpsURL + "\n"}, "",
			[]string{k + ":1:1: error: helmChartInflationGenerator: ", "helm program"}},
		{"Helm as a builtin generator", map[string]string{k: "generators:\n  - |-\n    apiVersion: builtin\n    kind: HelmChartInflationGenerator\n    metadata:\n      name: x\n    chartName: minecraft\n"}, "",
			[]string{k + ":2:5: error: generators[0]: line 2 of the inline configuration: ", "helm program"}},
		{"exec function, inline", map[string]string{k: "resources: [cm.yaml]\ntransformers:\n  - |-\n    apiVersion: example.com/v1\n    kind: Evil\n    metadata:\n      name: x\n      annotations:\n        config.kubernetes.io/function: |\n          exec:\n            path: ./evil.sh\n", "overlays/app/cm.yaml": cm}, "",
			[]string{k + ":3:5: error: transformers[0]: line 6 of the inline configuration: config.kubernetes.io/function asks kustomize to run a KRM function"}},
		{"container function, in a file", map[string]string{k: "resources: [cm.yaml]\ngenerators:\n  - fn.yaml\n", "overlays/app/cm.yaml": cm,
			"overlays/app/fn.yaml": "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: x\n  annotations:\n    config.k8s.io/function: |\n      container:\n        image: ghcr.io/evil/fn:latest\n        network: true\n"}, "",
			[]string{"overlays/app/fn.yaml:6:29: error: generators[0]: config.k8s.io/function asks kustomize to run a KRM function"}},
		{"exec plugin (not builtin)", map[string]string{k: "transformers:\n  - t.yaml\n", "overlays/app/t.yaml": "apiVersion: someteam.example.com/v1\nkind: ChartInflator\nmetadata:\n  name: x\n"}, "",
			[]string{"overlays/app/t.yaml:1:13: error: transformers[0]: ", "not one of kustomize's builtin plugins"}},
		{"builtin patch transformer with a remote path", map[string]string{k: "resources: [cm.yaml]\ntransformers:\n  - t.yaml\n", "overlays/app/cm.yaml": cm,
			"overlays/app/t.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: x\nPath: " + httpURL + "/p.yaml\n"}, "",
			[]string{"overlays/app/t.yaml:5:7: error: transformers[0] path: ", "http URL"}},
		{"plugin configurations from a kustomization directory", map[string]string{k: "transformers:\n  - gen\n", "overlays/app/gen/kustomization.yaml": "resources: []\n"}, "",
			[]string{k + ":2:5: error: transformers[0]: ", "is a directory"}},
		{"path out of the repository", map[string]string{k: "resources:\n  - ../../../../../../../../" + strings.TrimPrefix(filepath.ToSlash(outside), "/") + "/secret.yaml\n"}, "",
			[]string{k + ":2:5: error: resources[0]: ", "leaves the repository root"}},
		{"directory out of the overlay's tree", map[string]string{k: "resources:\n  - ../../values\n", "values/kustomization.yaml": "resources: []\n"}, "",
			[]string{k + ":2:5: error: resources[0]: ", "leaves overlays/", "resolves to values"}},
		{"absolute path", map[string]string{k: "resources:\n  - /etc/passwd\n"}, "",
			[]string{k + ":2:5: error: resources[0]: ", "absolute path"}},
		{"file of another kustomization's directory", map[string]string{k: "resources:\n  - ../base/cm.yaml\n", "overlays/base/cm.yaml": cm}, "",
			[]string{k + ":2:5: error: resources[0]: ", "kustomization's own directory"}},
		{"symbolic link out of the repository", map[string]string{k: "resources:\n  - link.yaml\n"}, "overlays/app/link.yaml",
			[]string{k + ":2:5: error: resources[0]: ", "symbolic link that leaves the repository root"}},
		// The walk refuses what kustomize would fetch even when a file of that name exists: kustomize tries
		// URLs and repositories first.
		{"a repository named like a directory of the overlay", map[string]string{k: "resources:\n  - github.com/org/repo\n", "overlays/app/github.com/org/repo/kustomization.yaml": "resources: [cm.yaml]\n", "overlays/app/github.com/org/repo/cm.yaml": cm}, "",
			[]string{k + ":2:5: error: resources[0]: ", "GitHub repository"}},
		{"a URL named like a file of the overlay", map[string]string{k: "resources:\n  - " + httpURL + "/cm.yaml\n", "overlays/app/" + strings.Replace(httpURL, "//", "/", 1) + "/cm.yaml": cm}, "",
			[]string{k + ":2:5: error: resources[0]: ", "http URL"}},
		{"remote in a base", map[string]string{k: "resources:\n  - ../base\n", "overlays/base/kustomization.yaml": "resources:\n  - cm.yaml\n  - github.com/org/repo\n", "overlays/base/cm.yaml": cm}, "",
			[]string{"overlays/base/kustomization.yaml:3:5: error: resources[1]: "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer sandbox(t)()
			root, dir := writeRepo(t, c.files)
			if c.link != "" {
				if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, c.link)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := buildErr(root, "overlays/app", Options{})
			if err == nil {
				t.Fatalf("built %d objects", len(res.Resources))
			}
			var ds *diag.Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("not a diagnostic: %v", err)
			}
			msg := strings.ReplaceAll(err.Error(), root.Display(""), "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, msg)
				}
			}
		})
	}
	if n := httpConns.Load() + httpsConns.Load(); n != 0 {
		t.Errorf("%d connections to the test servers", n)
	}
}

// TestEveryFeatureThatNamesFilesStillBuilds: the walk refuses remotes, not kustomize's ways of naming files
// of the overlay; an overlay that uses each of them builds, and reads only what it names.
func TestEveryFeatureThatNamesFilesStillBuilds(t *testing.T) {
	check := sandbox(t)
	root, _ := writeRepo(t, map[string]string{
		"overlays/app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: app
nameSuffix: -x
resources:
  - ../base
  - list.yaml
components:
  - ../comp
crds:
  - crd.yaml
configurations:
  - config.yaml
configMapGenerator:
  - name: files
    files: [app.conf, other=app.conf]
    envs: [app.env]
    literals: [a=b]
secretGenerator:
  - name: secret
    env: app.env
generatorOptions:
  disableNameSuffixHash: true
patches:
  - path: patch.yaml
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /metadata/annotations/patched
        value: inline
patchesStrategicMerge:
  - smp.yaml
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {smp-inline: "yes"}
patchesJson6902:
  - target: {group: apps, version: v1, kind: Deployment, name: web}
    path: json6902.yaml
replacements:
  - path: replacement.yaml
generators:
  - generator.yaml
  - |-
    apiVersion: builtin
    kind: ConfigMapGenerator
    metadata:
      name: inline-generated
    literals: [c=d]
transformers:
  - transformer.yaml
`,
		"overlays/app/list.yaml":              "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: listed\n",
		"overlays/app/crd.yaml":               "{}\n",
		"overlays/app/config.yaml":            "nameReference:\n  - kind: Service\n    fieldSpecs:\n      - kind: Route\n        path: spec/to/name\n",
		"overlays/app/app.conf":               "key = value\n",
		"overlays/app/app.env":                "FOO=bar\n",
		"overlays/app/patch.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
		"overlays/app/smp.yaml":               "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {smp: file}\n",
		"overlays/app/json6902.yaml":          "- op: add\n  path: /metadata/labels/json6902\n  value: file\n",
		"overlays/app/replacement.yaml":       "source: {kind: ConfigMap, name: listed, fieldPath: metadata.name}\ntargets:\n  - select: {kind: Deployment}\n    fieldPaths: [metadata.annotations.from-replacement]\n    options: {create: true}\n",
		"overlays/app/generator.yaml":         "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: generated\nenvs: [app.env]\n",
		"overlays/app/transformer.yaml":       "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: t\npath: transformer-patch.yaml\n",
		"overlays/app/transformer-patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {from-transformer: file}\n",
		"overlays/base/kustomization.yaml":    "resources: [web.yaml]\n",
		"overlays/base/web.yaml":              "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: web}]\n",
		"overlays/comp/kustomization.yaml":    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {component: \"yes\"}\n",
		"overlays/unrelated/big.yaml":         strings.Repeat("# not read\n", 1000),
	})
	res, err := buildErr(root, "overlays/app", Options{})
	if err != nil {
		t.Fatal(err)
	}
	check()
	names := map[string]bool{}
	for _, r := range res.Resources {
		names[r.Node.Get("kind").Scalar()+"/"+r.Node.Path("metadata", "name").Scalar()] = true
	}
	// Plugins configured by hand get the name hash (generatorOptions apply to the kustomization's own).
	for _, want := range []string{"Deployment/web-x", "ConfigMap/listed-x", "ConfigMap/files-x", "Secret/secret-x", "Secret/generated-x-fck7mbk8d4", "ConfigMap/inline-generated-x-gbdtcf54mt"} {
		if !names[want] {
			t.Errorf("no %s among %v", want, names)
		}
	}
	var web *Resource
	for i := range res.Resources {
		if res.Resources[i].Node.Get("kind").Scalar() == "Deployment" {
			web = &res.Resources[i]
		}
	}
	if web == nil {
		t.Fatal("no Deployment")
	}
	if web.File != "overlays/base/web.yaml" {
		t.Errorf("the Deployment's origin is %q, want overlays/base/web.yaml", web.File)
	}
	for path, want := range map[string]string{
		"spec.replicas": "2", "metadata.labels.smp": "file", "metadata.labels.smp-inline": "yes", "metadata.labels.json6902": "file",
		"metadata.annotations.patched": "inline", "metadata.annotations.from-transformer": "file",
		"metadata.annotations.from-replacement": "listed-x", "metadata.annotations.component": "yes",
	} {
		if got := web.Node.Path(strings.Split(path, ".")...).Scalar(); got != want {
			t.Errorf("Deployment %s = %q, want %q", path, got, want)
		}
	}
	read := map[string]bool{}
	for _, f := range res.Files {
		read[f.Path] = true
	}
	if read["overlays/unrelated/big.yaml"] || len(res.Files) != 16 {
		t.Errorf("read %d files: %v", len(res.Files), read)
	}
}
