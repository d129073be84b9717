package overlay

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// FuzzKustomizationWalk builds an overlay whose kustomization is the fuzzer's input, beside a few files it
// may name, and asserts what cocogen promises whatever the input: no panic, and nothing reaches beyond the
// repository: no program runs (git and ssh are stubs that leave a log), nothing appears in TMPDIR, and no HTTP
// request leaves (the proxy of the environment counts connections; kustomize's HTTP client uses it).
//
//	go test -fuzz FuzzKustomizationWalk -run '^$' ./internal/overlay/
func FuzzKustomizationWalk(f *testing.F) {
	bin, tmp := f.TempDir(), f.TempDir()
	log := filepath.Join(f.TempDir(), "exec.log")
	for _, name := range []string{"git", "ssh", "helm", "kustomize"} {
		script := fmt.Sprintf("#!/bin/sh\necho %s \"$@\" >> %s\nexit 1\n", name, log)
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	var conns atomic.Int32
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	proxy.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	proxy.Start()
	f.Cleanup(proxy.Close)
	f.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	f.Setenv("TMPDIR", tmp)
	f.Setenv("HTTP_PROXY", proxy.URL)
	f.Setenv("HTTPS_PROXY", proxy.URL)
	f.Setenv("NO_PROXY", "")
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
	root, dir := writeRepo(f, map[string]string{
		"overlays/app/cm.yaml":             cm,
		"overlays/app/patch.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {a: b}\n",
		"overlays/app/app.env":             "A=b\n",
		"overlays/app/fn.yaml":             "apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: fn\n  annotations:\n    config.kubernetes.io/function: |\n      exec: {path: ./fn}\n",
		"overlays/base/kustomization.yaml": "resources: [cm.yaml]\nnameSuffix: -base\n",
		"overlays/base/cm.yaml":            cm,
		"overlays/comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {c: d}\n",
		"values/kustomization.yaml":        "resources: [secret.yaml]\n",
		"values/secret.yaml":               "apiVersion: v1\nkind: Secret\nmetadata:\n  name: outside-the-tree\n",
	})
	kfile := filepath.Join(dir, "overlays/app/kustomization.yaml")
	opt := Options{MaxBytes: 1 << 20, MaxFiles: 100, MaxValues: 20_000, MaxObjects: 200, MaxOutputValues: 50_000}

	f.Add([]byte("resources:\n  - cm.yaml\n"))
	f.Add([]byte("resources: [../base]\ncomponents: [../comp]\npatches: [{path: patch.yaml}]\nconfigMapGenerator: [{name: g, envs: [app.env]}]\n"))
	f.Add([]byte("resources:\n  - github.com/org/repo//x?ref=v1\n"))
	f.Add([]byte("resources:\n  - https://example.com/x.yaml\n"))
	f.Add([]byte("transformers: [fn.yaml]\n"))
	f.Fuzz(func(t *testing.T, kustomization []byte) {
		if err := os.WriteFile(kfile, kustomization, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := buildErr(root, "overlays/app", opt)
		if data, rerr := os.ReadFile(log); rerr == nil {
			os.Remove(log)
			t.Fatalf("a program ran for kustomization %q:\n%s", kustomization, data)
		} else if !errors.Is(rerr, os.ErrNotExist) {
			t.Fatal(rerr)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
			for _, e := range entries {
				os.RemoveAll(filepath.Join(tmp, e.Name()))
			}
			t.Fatalf("kustomization %q left %s in TMPDIR", kustomization, entries[0].Name())
		}
		if n := conns.Swap(0); n > 0 {
			t.Fatalf("kustomization %q made %d HTTP connections", kustomization, n)
		}
		if err == nil {
			for _, r := range res.Resources {
				if r.Node.Path("metadata", "name").Scalar() == "outside-the-tree" {
					t.Fatalf("kustomization %q read a file outside overlays/", kustomization)
				}
			}
		}
	})
}
