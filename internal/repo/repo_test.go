package repo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/budget"
)

// realTempDir returns a fresh temporary directory with symbolic links resolved, so that paths compare equal
// to what os.Getwd reports after t.Chdir.
func realTempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links not supported here: %v", err)
	}
}

func openRoot(t *testing.T, dir string) *Root {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestClean(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{name: "relative", in: "values/values-global.yaml", want: "values/values-global.yaml"},
		{name: "absolute means the repository root", in: "/overrides/values-Azure.yaml", want: "overrides/values-Azure.yaml"},
		{name: "redundant separators and dots", in: "./a//b/./c/", want: "a/b/c"},
		{name: "root", in: "/", want: "."},
		{name: "dot", in: ".", want: "."},
		{name: "empty", in: "", err: "empty path"},
		{name: "leading dotdot", in: "../secrets.yaml", err: `path "../secrets.yaml" leaves the repository root`},
		{name: "dotdot after absolute", in: "/../etc/passwd", err: "leaves the repository root"},
		{name: "dotdot that stays inside", in: "a/../b.yaml", err: "leaves the repository root"},
		{name: "trailing dotdot", in: "a/..", err: "leaves the repository root"},
		{name: "NUL", in: "a\x00b.yaml", err: "contains a NUL or a backslash"},
		{name: "backslash", in: `..\secrets.yaml`, err: "contains a NUL or a backslash"},
		{name: "dotdot-like names are fine", in: "a/..b/c..", want: "a/..b/c.."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Clean(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Clean(%q) = %q, %v; want error containing %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Clean(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := realTempDir(t)
	outside := realTempDir(t)
	writeFile(t, filepath.Join(dir, "values", "values-global.yaml"), "global: {}\n")
	writeFile(t, filepath.Join(outside, "secret.yaml"), "password: hunter2\n")
	writeFile(t, filepath.Join(outside, "dir", "secret.yaml"), "password: hunter2\n")
	symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "escape.yaml"))
	symlink(t, "../../"+filepath.Base(outside)+"/secret.yaml", filepath.Join(dir, "values", "relescape.yaml"))
	symlink(t, filepath.Join(outside, "dir"), filepath.Join(dir, "outdir"))
	symlink(t, "values/values-global.yaml", filepath.Join(dir, "inside.yaml"))
	symlink(t, "../values/values-global.yaml", filepath.Join(dir, "links", "inside.yaml"))
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := openRoot(t, dir)

	cases := []struct {
		name, path, want string
		errIs            error
		errText          string
	}{
		{name: "plain file", path: "values/values-global.yaml", want: "global: {}\n"},
		{name: "leading slash", path: "/values/values-global.yaml", want: "global: {}\n"},
		{name: "symlink inside the root", path: "inside.yaml", want: "global: {}\n"},
		{name: "relative symlink inside the root", path: "links/inside.yaml", want: "global: {}\n"},
		{name: "absolute symlink to another directory", path: "escape.yaml", errIs: ErrOutside},
		{name: "relative symlink climbing out", path: "values/relescape.yaml", errIs: ErrOutside},
		{name: "symlinked directory outside", path: "outdir/secret.yaml", errIs: ErrOutside},
		{name: "dotdot", path: "../" + filepath.Base(outside) + "/secret.yaml", errText: "leaves the repository root"},
		{name: "missing", path: "values/values-hub.yaml", errIs: fs.ErrNotExist},
		{name: "directory", path: "empty", errText: "empty is a directory"},
		{name: "backslash", path: `values\values-global.yaml`, errText: "backslash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := r.ReadFile(c.path)
			switch {
			case c.errIs != nil:
				if !errors.Is(err, c.errIs) {
					t.Fatalf("ReadFile(%q) = %q, %v; want an error wrapping %v", c.path, data, err, c.errIs)
				}
			case c.errText != "":
				if err == nil || !strings.Contains(err.Error(), c.errText) {
					t.Fatalf("ReadFile(%q) = %q, %v; want error containing %q", c.path, data, err, c.errText)
				}
			default:
				if err != nil || string(data) != c.want {
					t.Fatalf("ReadFile(%q) = %q, %v; want %q", c.path, data, err, c.want)
				}
			}
			if (c.errIs != nil || c.errText != "") && strings.Contains(string(data), "hunter2") {
				t.Fatalf("ReadFile(%q) returned the outside file's content", c.path)
			}
		})
	}
}

func TestReadFileSize(t *testing.T) {
	dir := realTempDir(t)
	for name, size := range map[string]int64{"limit.yaml": MaxFileBytes, "big.yaml": MaxFileBytes + 1} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Truncate(filepath.Join(dir, name), size); err != nil { // sparse: no disk space used
			t.Fatal(err)
		}
	}
	r := openRoot(t, dir)
	cases := []struct {
		name, path string
		wantErr    bool
	}{
		{name: "exactly the limit", path: "limit.yaml"},
		{name: "one byte more", path: "big.yaml", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := r.ReadFile(c.path)
			if c.wantErr {
				want := "big.yaml: budget file-bytes (4MiB) exceeded: the file is 4194305 bytes"
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("ReadFile(%s) error = %v, want it to contain %q", c.path, err, want)
				}
				return
			}
			if err != nil || len(data) != MaxFileBytes {
				t.Fatalf("ReadFile(%s) = %d bytes, %v; want %d bytes", c.path, len(data), err, MaxFileBytes)
			}
		})
	}
}

// input-bytes spans every read of one root: each file fits file-bytes, together they do not, and the error
// names the file that crossed the line.
func TestReadFileInputBudget(t *testing.T) {
	dir := realTempDir(t)
	for _, name := range []string{"a.yaml", "b.yaml", "c.yaml"} {
		writeFile(t, filepath.Join(dir, name), strings.Repeat("x", 400))
	}
	r := openRoot(t, dir)
	r.SetBudget(budget.Limits{FileBytes: 500, InputBytes: 1000})
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if _, err := r.ReadFile(name); err != nil {
			t.Fatalf("ReadFile(%s): %v", name, err)
		}
	}
	_, err := r.ReadFile("c.yaml")
	var be *BudgetError
	if !errors.As(err, &be) || be.Err.Budget != "input-bytes" || !strings.HasSuffix(be.File, "c.yaml") {
		t.Fatalf("third read: err = %v, want the input-bytes budget at c.yaml", err)
	}
	if r.BytesRead() != 1200 {
		t.Fatalf("BytesRead = %d, want 1200", r.BytesRead())
	}
	r.SetBudget(budget.Limits{FileBytes: 300, InputBytes: 1 << 20})
	if _, err := r.ReadFile("a.yaml"); !errors.As(err, &be) || be.Err.Budget != "file-bytes" {
		t.Fatalf("file-bytes: err = %v", err)
	}
}

func TestStatAndExists(t *testing.T) {
	dir := realTempDir(t)
	outside := realTempDir(t)
	writeFile(t, filepath.Join(dir, "values-global.yaml"), "a: 1\n")
	writeFile(t, filepath.Join(dir, "sub", "x.yaml"), "a: 1\n")
	writeFile(t, filepath.Join(outside, "values-global.yaml"), "a: 1\n")
	symlink(t, filepath.Join(outside, "values-global.yaml"), filepath.Join(dir, "escape.yaml"))
	symlink(t, "sub/x.yaml", filepath.Join(dir, "inside.yaml"))
	r := openRoot(t, dir)

	cases := []struct {
		name, path string
		exists     bool
		statErrIs  error
		dir        bool
	}{
		{name: "file", path: "values-global.yaml", exists: true},
		{name: "absolute form", path: "/sub/x.yaml", exists: true},
		{name: "symlink inside", path: "inside.yaml", exists: true},
		{name: "directory is not a file", path: "sub", dir: true},
		{name: "root", path: "/", dir: true},
		{name: "missing", path: "nope.yaml", statErrIs: fs.ErrNotExist},
		{name: "symlink outside", path: "escape.yaml", statErrIs: ErrOutside},
		{name: "dotdot", path: "../" + filepath.Base(outside) + "/values-global.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Exists(c.path); got != c.exists {
				t.Errorf("Exists(%q) = %v, want %v", c.path, got, c.exists)
			}
			st, err := r.Stat(c.path)
			switch {
			case c.statErrIs != nil:
				if !errors.Is(err, c.statErrIs) {
					t.Errorf("Stat(%q) error = %v, want one wrapping %v", c.path, err, c.statErrIs)
				}
			case c.exists || c.dir:
				if err != nil || st.IsDir() != c.dir {
					t.Errorf("Stat(%q) = %v, %v; want IsDir %v", c.path, st, err, c.dir)
				}
			default:
				if err == nil {
					t.Errorf("Stat(%q) succeeded, want an error", c.path)
				}
			}
		})
	}
}

func TestDisplayAndRelDir(t *testing.T) {
	base := realTempDir(t)
	dir := filepath.Join(base, "repo")
	if err := os.MkdirAll(filepath.Join(dir, "values", "nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := realTempDir(t)

	cases := []struct {
		name    string
		wd      string
		display string // Display("values/x.yaml")
		relDirs map[string]string
		outside []string
	}{
		{
			name:    "working directory is the root",
			wd:      dir,
			display: "values/x.yaml",
			relDirs: map[string]string{".": ".", "values": "values", "values/nested/": "values/nested", filepath.Join(dir, "values"): "values"},
			outside: []string{"..", base, elsewhere},
		},
		{
			name:    "root below the working directory",
			wd:      base,
			display: "repo/values/x.yaml",
			relDirs: map[string]string{"repo": ".", "repo/values": "values"},
			outside: []string{".", elsewhere, "repo/../other"},
		},
		{
			name:    "root outside the working directory",
			wd:      elsewhere,
			display: filepath.ToSlash(dir) + "/values/x.yaml",
			relDirs: map[string]string{filepath.Join(dir, "values", "nested"): "values/nested"},
			outside: []string{"."},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(c.wd)
			r := openRoot(t, dir)
			if r.Dir() != dir {
				t.Errorf("Dir() = %q, want %q", r.Dir(), dir)
			}
			if got := r.Display("values/x.yaml"); got != c.display {
				t.Errorf("Display = %q, want %q", got, c.display)
			}
			for in, want := range c.relDirs {
				if got, err := r.RelDir(in); err != nil || got != want {
					t.Errorf("RelDir(%q) = %q, %v; want %q", in, got, err, want)
				}
			}
			for _, in := range c.outside {
				if got, err := r.RelDir(in); err == nil || !strings.Contains(err.Error(), "is outside the repository root") {
					t.Errorf("RelDir(%q) = %q, %v; want an 'outside the repository root' error", in, got, err)
				}
			}
		})
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "open repository root") {
		t.Fatalf("Open(missing) error = %v, want a wrapped not-exist error", err)
	}
}

// skipIfInsideGit skips FindRoot tests when the temporary directory itself lies inside a Git checkout: then
// every fallback would legitimately find that checkout instead.
func skipIfInsideGit(t *testing.T, dir string) {
	t.Helper()
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			t.Skipf("temporary directory %s is inside a Git checkout (%s)", dir, d)
		}
		if filepath.Dir(d) == d {
			return
		}
	}
}

func TestFindRoot(t *testing.T) {
	cases := []struct {
		name string
		// dirs and files to create under a fresh base directory; names ending in / are directories.
		layout []string
		wd     string // working directory, relative to base ("" = a different temporary directory)
		values string // values directory argument, relative to base unless rel is set
		rel    bool   // pass values relative to the working directory
		want   string // expected root, relative to base ("" = base itself)
	}{
		{
			name:   ".git directory above the values directory",
			layout: []string{"repo/.git/", "repo/values/"},
			values: "repo/values",
			want:   "repo",
		},
		{
			name:   ".git file (worktree) in the values directory",
			layout: []string{"repo/.git"},
			values: "repo",
			want:   "repo",
		},
		{
			name:   "nearest .git wins",
			layout: []string{".git/", "sub/.git/", "sub/deep/values/"},
			values: "sub/deep/values",
			want:   "sub",
		},
		{
			name:   ".git beats the working directory",
			layout: []string{"repo/.git/", "repo/values/"},
			wd:     ".",
			values: "repo/values",
			want:   "repo",
		},
		{
			// Never the working directory: run from $HOME, it would expose ~/.kube/config to extraValueFiles.
			name:   "no .git: the values directory, not the working directory containing it",
			layout: []string{"repo/values/"},
			wd:     "repo",
			values: "values",
			rel:    true,
			want:   "repo/values",
		},
		{
			name:   "no .git: values directory is the working directory",
			layout: []string{"repo/"},
			wd:     "repo",
			values: ".",
			rel:    true,
			want:   "repo",
		},
		{
			name:   "no .git: values directory outside the working directory",
			layout: []string{"repo/values/"},
			values: "repo/values",
			want:   "repo/values",
		},
		{
			name:   "no .git: values directory is a sibling of the working directory",
			layout: []string{"a/", "b/values/"},
			wd:     "a",
			values: "../b/values",
			rel:    true,
			want:   "b/values",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := realTempDir(t)
			skipIfInsideGit(t, base)
			for _, p := range c.layout {
				full := filepath.Join(base, filepath.FromSlash(p))
				if strings.HasSuffix(p, "/") {
					if err := os.MkdirAll(full, 0o755); err != nil {
						t.Fatal(err)
					}
				} else {
					writeFile(t, full, "gitdir: /elsewhere\n")
				}
			}
			if c.wd == "" {
				t.Chdir(realTempDir(t))
			} else {
				t.Chdir(filepath.Join(base, c.wd))
			}
			arg := filepath.Join(base, filepath.FromSlash(c.values))
			if c.rel {
				arg = filepath.FromSlash(c.values)
			}
			got, found, err := FindRoot(arg)
			want := filepath.Join(base, filepath.FromSlash(c.want))
			if err != nil || got != want {
				t.Fatalf("FindRoot(%q) = %q, %v; want %q", arg, got, err, want)
			}
			if wantFound := slices.ContainsFunc(c.layout, func(p string) bool { return strings.Contains(p, ".git") }); found != wantFound {
				t.Fatalf("FindRoot(%q) found .git = %v, want %v", arg, found, wantFound)
			}
		})
	}
}

func TestMaxFileBytesIsTheBudgetDefault(t *testing.T) {
	if MaxFileBytes != budget.Defaults().FileBytes {
		t.Fatalf("MaxFileBytes = %d, the file-bytes budget's default is %d", MaxFileBytes, budget.Defaults().FileBytes)
	}
}
