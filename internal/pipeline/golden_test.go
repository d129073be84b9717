package pipeline

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

var update = flag.Bool("update", false, "rewrite the golden files (want.yaml, want.stderr) from the current output")

// goldenCase is testdata/render/<case>/case.yaml: how to call the pipeline on the case's repo/ directory.
type goldenCase struct {
	ValuesDir    string   // relative to repo/, default "."
	ClusterGroup string   // --cluster-group
	Metadata     string   // metadata file relative to repo/, optional
	Sets         []string // --set
	SetStrings   []string // --set-string
	App          string   // --app
	All          bool     // --all
}

func readCase(t *testing.T, dir string) (Request, goldenCase) {
	t.Helper()
	var c goldenCase
	data, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Parse("case.yaml", data, node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	c.ValuesDir = n.Get("valuesDir").Scalar()
	c.ClusterGroup = n.Get("clusterGroup").Scalar()
	c.Metadata = n.Get("metadata").Scalar()
	for _, it := range n.Get("sets").Items() {
		c.Sets = append(c.Sets, it.Text)
	}
	for _, it := range n.Get("setStrings").Items() {
		c.SetStrings = append(c.SetStrings, it.Text)
	}
	c.App = n.Get("app").Scalar()
	c.All = n.Get("all").Scalar() == "true"
	repoDir := filepath.Join(dir, "repo")
	req := disk(t, repoDir, filepath.Join(repoDir, cmpOr(c.ValuesDir, ".")), Request{
		ClusterGroup: c.ClusterGroup,
		Sets:         c.Sets,
		SetStrings:   c.SetStrings,
		App:          c.App,
		All:          c.All,
	})
	if c.Metadata != "" {
		md, err := os.ReadFile(filepath.Join(repoDir, c.Metadata))
		if err != nil {
			t.Fatal(err)
		}
		req.Metadata, req.MetadataName, req.MetadataFile = md, c.Metadata, c.Metadata
	}
	return req, c
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// renderText runs the pipeline and returns stdout and stderr as the CLI would print them.
func renderText(t *testing.T, req Request) (stdout, stderr string) {
	t.Helper()
	res, err := Render(req)
	var out, errb bytes.Buffer
	if err != nil {
		if !IsUserError(err) {
			t.Fatalf("internal error: %v", err)
		}
		_ = diag.Write(&errb, "text", err.(*diag.Diagnostics).Items, false)
		return "", errb.String()
	}
	_ = diag.Write(&errb, "text", res.Diagnostics, false)
	manifest.EncodeYAML(&out, res.Objects)
	return out.String(), errb.String()
}

// TestGolden renders every case under testdata/render and compares stdout with want.yaml and the diagnostics
// with want.stderr (one line each; a line starting with "re:" is a regular expression). Each case is rendered
// twice to check that output does not change between runs.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/render/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases found")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			req, _ := readCase(t, dir)
			stdout, stderr := renderText(t, req)
			again, againErr := renderText(t, req)
			if again != stdout || againErr != stderr {
				t.Fatalf("two renders of the same input differ")
			}
			wantOut := filepath.Join(dir, "want.yaml")
			wantErr := filepath.Join(dir, "want.stderr")
			if *update {
				writeOrRemove(t, wantOut, stdout)
				writeOrRemove(t, wantErr, stderr)
				return
			}
			if want := readOptional(t, wantOut); stdout != want {
				t.Errorf("stdout differs from %s (run go test ./internal/pipeline -run TestGolden -update to accept):\n%s", wantOut, lineDiff(want, stdout))
			}
			matchLines(t, wantErr, readOptional(t, wantErr), stderr)
		})
	}
}

func readOptional(t *testing.T, p string) string {
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeOrRemove(t *testing.T, p, content string) {
	t.Helper()
	if content == "" {
		_ = os.Remove(p)
		return
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// matchLines compares diagnostics line by line; "re:" lines are regular expressions.
func matchLines(t *testing.T, file, want, got string) {
	t.Helper()
	wl := splitLines(want)
	gl := splitLines(got)
	if len(wl) != len(gl) {
		t.Errorf("%s: want %d diagnostic lines, got %d:\n%s", file, len(wl), len(gl), got)
		return
	}
	for i := range wl {
		if re, ok := strings.CutPrefix(wl[i], "re:"); ok {
			if !regexp.MustCompile(re).MatchString(gl[i]) {
				t.Errorf("%s line %d: %q does not match %q", file, i+1, gl[i], re)
			}
			continue
		}
		if wl[i] != gl[i] {
			t.Errorf("%s line %d:\nwant %s\ngot  %s", file, i+1, wl[i], gl[i])
		}
	}
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			from := max(0, i-3)
			return "first difference at line " + strconv.Itoa(i+1) + ":\n--- want\n" + strings.Join(clip(wl, from, i+4), "\n") + "\n+++ got\n" + strings.Join(clip(gl, from, i+4), "\n")
		}
	}
	return ""
}

func clip(s []string, from, to int) []string { return s[min(from, len(s)):min(to, len(s))] }

// TestShuffledInputsRenderTheSame writes every golden case's values files with the entries of every map in a
// random order and checks that the output is byte-for-byte the same: nothing in the output may depend on the
// order keys are written in (except list order, which is kept).
func TestShuffledInputsRenderTheSame(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/render/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			req, _ := readCase(t, dir)
			want, wantErr := renderText(t, req)
			if want == "" {
				t.Skip("error case")
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(dir))))
			for round := range 3 {
				tmp := t.TempDir()
				copyShuffled(t, filepath.Join(dir, "repo"), tmp, rng)
				r2 := req
				r2.Notes = nil
				r2 = disk(t, tmp, filepath.Join(tmp, req.ValuesDir), r2)
				got, gotErr := renderText(t, r2)
				// Source comments name lines, which move when keys are reordered; everything else must not.
				if got, want := stripSources(got), stripSources(want); got != want {
					t.Fatalf("round %d: output changed when map keys were reordered:\n%s", round, lineDiff(want, got))
				}
				if strings.Count(gotErr, "\n") != strings.Count(wantErr, "\n") {
					t.Fatalf("round %d: diagnostics changed:\n%s\nvs\n%s", round, wantErr, gotErr)
				}
			}
		})
	}
}

var sourceLine = regexp.MustCompile(`(?m)^# Source: .*\n`)

func stripSources(s string) string { return sourceLine.ReplaceAllString(s, "") }

func copyShuffled(t *testing.T, from, to string, rng *rand.Rand) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".yaml") {
			if n, err := node.Parse(p, data, node.DefaultLimits); err == nil && !n.IsNull() {
				var buf bytes.Buffer
				node.EncodeYAML(&buf, shuffle(n, rng))
				data = buf.Bytes()
			}
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func shuffle(n *node.Node, rng *rand.Rand) *node.Node {
	switch n.Kind {
	case node.Map:
		entries := slices.Clone(n.Entries())
		rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
		out := node.NewMap()
		for _, e := range entries {
			out.Set(e.Key, shuffle(e.Value, rng))
		}
		return out
	case node.List:
		out := node.NewList()
		for _, it := range n.Items() {
			out.Append(shuffle(it, rng))
		}
		return out
	}
	return n
}
