package pipeline

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cocogen/cocogen/internal/manifest"
)

// builtinFS returns the built-in pattern (values, policies, overlays) as a file system in memory.
func builtinFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, dir := range []string{"values", "policies", "overlays"} {
		err := fs.WalkDir(os.DirFS("../.."), dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(os.DirFS("../.."), p)
			m[p] = &fstest.MapFile{Data: data}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestRenderReadsOnlyItsFileSystem renders the built-in pattern from a file system in memory: the bytes are
// those of the render from disk, so Render reads nothing but Request.FS (no working directory, no os calls),
// and a file taken out of the file system is missed where the render needs it.
func TestRenderReadsOnlyItsFileSystem(t *testing.T) {
	clock := func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }
	fromDisk := disk(t, "../..", "../../values", Request{All: true, Now: clock})
	want := renderBytes(t, fromDisk)

	mem := builtinFS(t)
	got := renderBytes(t, Request{FS: mem, RootName: fromDisk.RootName, ValuesDir: "values", All: true, Now: clock})
	if !bytes.Equal(got, want) {
		t.Fatalf("the render from memory differs from the render from disk:\n%s", lineDiff(string(want), string(got)))
	}

	// Without the KBS resource policy, the trustee application cannot render: the error names the file.
	delete(mem, resourcePolicyPath)
	_, errOut := renderText(t, Request{FS: mem, ValuesDir: "values", All: true, Now: clock})
	if !strings.Contains(errOut, resourcePolicyPath+": error: the trustee application needs this policy") {
		t.Errorf("diagnostics without %s:\n%s", resourcePolicyPath, errOut)
	}
	// Names are repository paths when the request shows the root as "".
	if strings.Contains(errOut, "../") {
		t.Errorf("a file is named outside the repository:\n%s", errOut)
	}
}

// TestRenderSmallRepositoryInMemory renders a Validated Patterns repository that exists only in memory, with
// an application that names a value file the repository lacks.
func TestRenderSmallRepositoryInMemory(t *testing.T) {
	mem := fstest.MapFS{
		"values-global.yaml": {Data: []byte(smallVPGlobal)},
		"values-hub.yaml":    {Data: []byte(smallVPHub)},
	}
	res, err := Render(Request{FS: mem, ValuesDir: ".", Sets: []string{"global.repoURL=https://example.com/p.git"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) == 0 || res.Group != "hub" {
		t.Fatalf("rendered %d objects of group %q", len(res.Objects), res.Group)
	}
	for _, f := range res.Files {
		if f.Found && path.IsAbs(f.Path) {
			t.Errorf("value file %s is not a repository path", f.Path)
		}
	}
	if _, err := Render(Request{ValuesDir: "."}); err == nil || IsUserError(err) {
		t.Errorf("a request without a file system: %v", err)
	}
}

// TestOneClock: every date check of a render uses Request.Now — the reference values' expiration (in the
// values), the trust anchor's validity (in the metadata) and the previous init-data windows — so a render at
// a given time fails or passes the same way on any day.
func TestOneClock(t *testing.T) {
	mem := builtinFS(t)
	at := func(s string) func() time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return func() time.Time { return tm }
	}
	for _, c := range []struct{ now, want string }{
		{"2028-01-01T00:00:00Z", "global.coco.trustee.referenceValues.expiration: 2027-12-31T00:00:00Z has passed"},
		{"2027-12-15T00:00:00Z", "global.coco.trustee.referenceValues.expiration: 2027-12-31T00:00:00Z is less than 30 days away"},
		{"2026-01-01T00:00:00Z", "kbs.trustAnchor.certificate"},
	} {
		_, errOut := renderText(t, Request{FS: mem, ValuesDir: "values", All: true, Now: at(c.now)})
		if !strings.Contains(errOut, c.want) {
			t.Errorf("at %s, diagnostics lack %q:\n%s", c.now, c.want, errOut)
		}
	}
}

// sealableFS is a file system that fails every use once sealed, and counts the uses it refused.
type sealableFS struct {
	fs.FS
	sealed  atomic.Bool
	refused atomic.Int64
}

func (s *sealableFS) Open(name string) (fs.File, error) {
	if s.sealed.Load() {
		s.refused.Add(1)
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return s.FS.Open(name)
}

// TestGenerateReadsNothing: after the load phase, the repository is closed to the render, and the render of
// every built-in cluster group (a hub's render of its spoke's cluster included) gives the same bytes as a
// render that could read: the generators and checks see only what the load phase read.
func TestGenerateReadsNothing(t *testing.T) {
	clock := func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }
	for _, g := range []string{"azure", "trusted-hub", "spoke", "baremetal", "baremetal-gpu"} {
		t.Run(g, func(t *testing.T) {
			req := Request{FS: builtinFS(t), ValuesDir: "values", ClusterGroup: g, All: true, Now: clock}
			if g == "spoke" {
				req.Cluster = "spoke-1"
			}
			want := renderBytes(t, req)
			sealable := &sealableFS{FS: req.FS}
			req.FS = sealable
			src, now, d, err := loadRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			sealable.sealed.Store(true)
			res, err := generate(req, src, now, d)
			if err != nil {
				t.Fatal(err)
			}
			if n := sealable.refused.Load(); n > 0 {
				t.Fatalf("the generators tried to read the repository %d times", n)
			}
			var buf bytes.Buffer
			manifest.EncodeYAML(&buf, res.Objects)
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("the render differs:\n%s", lineDiff(string(want), buf.String()))
			}
		})
	}
}

// wantSmallRenderError renders a repository in memory with smallVPGlobal and the given group file, and fails
// the test unless the render fails with an error that contains want.
func wantSmallRenderError(t *testing.T, hub, want string) {
	t.Helper()
	mem := fstest.MapFS{"values-global.yaml": {Data: []byte(smallVPGlobal)}, "values-hub.yaml": {Data: []byte(hub)}}
	_, err := Render(Request{FS: mem, ValuesDir: ".", Sets: []string{"global.repoURL=https://example.com/p.git"}})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("render: %v\nwant an error with %q", err, want)
	}
}

// TestChartOrderNamesTheFirstObject: of two objects with one ID, the one the chart renders first is named
// first. The imperative objects are built after the Applications (they wait for the values text) and then put
// back before the core objects, as in the chart: an extra object that clashes with the imperative namespace
// comes second.
func TestChartOrderNamesTheFirstObject(t *testing.T) {
	wantSmallRenderError(t, "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications: {}\n  imperative:\n    jobs: []\n"+
		"  extraObjects:\n    clash:\n      apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: imperative\n        labels:\n          x: y\n"+
		"global:\n  pattern: small\n",
		"v1 Namespace /imperative is rendered twice with different content (first difference: metadata.labels.name), by clusterGroup.imperative.namespace and by values-hub.yaml:12:15")
}

// TestTreeNamesAreChecked: an object of the app-of-apps tree whose name the API server would refuse fails the
// render, with the position of the name (the check runs beside the sort of the tree's objects).
func TestTreeNamesAreChecked(t *testing.T) {
	wantSmallRenderError(t, "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications: {}\n"+
		"  extraObjects:\n    bad:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata:\n        name: Not_A_Name\n        namespace: a\n"+
		"global:\n  pattern: small\n",
		`values-hub.yaml:10:15: error: ConfigMap "Not_A_Name" is not a valid Kubernetes name`)
}
