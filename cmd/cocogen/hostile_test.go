package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The hostile-input corpus (testdata/hostile/<case>/case.yaml at the repository root) holds inputs that a
// pushed branch or a pull request can give cocogen: each must end with the expected exit code and message,
// no stack trace, nothing on stdout when it fails, no child process and no network, within the Argo CD
// sidecar's memory. Each case runs the real command in a child process (this test binary, re-executed as
// cocogen), so that its peak RSS is the process's own; the figures are logged per case
// (go test ./cmd/cocogen -run Hostile -v).

// hostileCase is one case.yaml.
type hostileCase struct {
	Description string `yaml:"description"`
	// Base is what the case starts from: builtin (the repository's values/, policies/ and overlays/, with
	// .git) or empty.
	Base string `yaml:"base"`
	// NoGit leaves .git out of the case's repository.
	NoGit bool `yaml:"noGit"`
	// Files are written over the base (relative path → content); Append adds to files of the base;
	// Remove deletes them.
	Files  map[string]string `yaml:"files"`
	Append map[string]string `yaml:"append"`
	Remove []string          `yaml:"remove"`
	// Replace changes the first occurrence of old in a file of the base.
	Replace []struct {
		Path string `yaml:"path"`
		Old  string `yaml:"old"`
		New  string `yaml:"new"`
	} `yaml:"replace"`
	// Generate writes large files: line is a fmt format with the line number as its argument.
	Generate []struct {
		Path  string `yaml:"path"`
		Head  string `yaml:"head"`
		Line  string `yaml:"line"`
		Bytes int    `yaml:"bytes"`
		Count int    `yaml:"count"` // this many copies, path gets the copy number as %d
	} `yaml:"generate"`
	// Home is a directory made next to the repository, with these files, given to the command as HOME; Cwd
	// is the working directory relative to the case's temporary directory (repo/… or home/…).
	Home map[string]string `yaml:"home"`
	Cwd  string            `yaml:"cwd"`
	Args []string          `yaml:"args"`
	Env  map[string]string `yaml:"env"`
	// FakeTools are executables put first in PATH that record any call: the case fails if one is run.
	FakeTools []string `yaml:"fakeTools"`
	Exit      int      `yaml:"exit"`
	// Stderr and Stdout are regular expressions that must each match; NotOutput must match neither stream.
	Stderr    []string `yaml:"stderr"`
	Stdout    []string `yaml:"stdout"`
	NotOutput []string `yaml:"notOutput"`
	// MaxRSSMiB overrides the memory budget of the case (default 512, the sidecar's limit).
	MaxRSSMiB int `yaml:"maxRSSMiB"`
}

const hostileDir = "../../testdata/hostile"

func TestMain(m *testing.M) {
	if os.Getenv("COCOGEN_TEST_AS_CLI") == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

func loadHostileCase(t *testing.T, dir string) hostileCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c hostileCase
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s/case.yaml: %v", dir, err)
	}
	if len(c.Args) == 0 || c.Description == "" {
		t.Fatalf("%s/case.yaml: description and args are required", dir)
	}
	return c
}

// copyDir copies the regular files below src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFileAll(filepath.Join(dst, rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFileAll(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// setUp builds the case's directory: tmp/repo (the repository), tmp/home, tmp/tools and tmp/tmp (TMPDIR).
func (c hostileCase) setUp(t *testing.T, tmp string) (repo string) {
	t.Helper()
	repo = filepath.Join(tmp, "repo")
	switch c.Base {
	case "builtin", "":
		for _, d := range []string{"values", "policies", "overlays"} {
			copyDir(t, filepath.Join("../..", d), filepath.Join(repo, d))
		}
	case "empty":
		if err := os.MkdirAll(repo, 0o755); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown base %q", c.Base)
	}
	if !c.NoGit {
		if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range c.Remove {
		if err := os.RemoveAll(filepath.Join(repo, p)); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range c.Files {
		if err := writeFileAll(filepath.Join(repo, p), []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range c.Append {
		f, err := os.OpenFile(filepath.Join(repo, p), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(content); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	for _, r := range c.Replace {
		p := filepath.Join(repo, r.Path)
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte(r.Old)) {
			t.Fatalf("replace in %s: %q not found (%v)", r.Path, r.Old, err)
		}
		if err := os.WriteFile(p, bytes.Replace(data, []byte(r.Old), []byte(r.New), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range c.Generate {
		for i := range max(g.Count, 1) {
			p := g.Path
			if g.Count > 0 {
				p = fmt.Sprintf(g.Path, i)
			}
			var b bytes.Buffer
			b.WriteString(g.Head)
			for n := 0; b.Len() < g.Bytes; n++ {
				fmt.Fprintf(&b, g.Line, n)
			}
			if err := writeFileAll(filepath.Join(repo, p), b.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for p, content := range c.Home {
		if err := writeFileAll(filepath.Join(tmp, "home", p), []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"home", "tools", "tmp"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range c.FakeTools {
		script := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> %q\nexit 1\n", tool, filepath.Join(tmp, "tool-calls"))
		if err := os.WriteFile(filepath.Join(tmp, "tools", tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

type hostileResult struct {
	name           string
	exit           int
	rssMiB, cpuSec float64
}

func TestHostileInputCorpus(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(hostileDir, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under %s: %v", hostileDir, err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var results []hostileResult
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			c := loadHostileCase(t, dir)
			tmp := t.TempDir()
			repo := c.setUp(t, tmp)
			expand := func(s string) string {
				return strings.NewReplacer("$REPO", repo, "$HOME", filepath.Join(tmp, "home"), "$TMP", tmp).Replace(s)
			}
			args := make([]string, len(c.Args))
			for i, a := range c.Args {
				args[i] = expand(a)
			}
			// A guard against a hang, far above any budget: not a measurement.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe, args...)
			cmd.Dir = filepath.Join(tmp, c.Cwd)
			if c.Cwd == "" {
				cmd.Dir = repo
			}
			cmd.Env = []string{
				"COCOGEN_TEST_AS_CLI=1",
				"PATH=" + filepath.Join(tmp, "tools") + string(os.PathListSeparator) + os.Getenv("PATH"),
				"HOME=" + filepath.Join(tmp, "home"),
				"TMPDIR=" + filepath.Join(tmp, "tmp"),
				// The time budgets are raised so that a busy machine cannot change which budget a case meets
				// first: the step budgets bound the work, and a case may set the time budgets itself.
				"COCOGEN_BUDGET_TEMPLATE_TIME=10m",
				"COCOGEN_BUDGET_REGO_TIME=10m",
			}
			for k, v := range c.Env {
				cmd.Env = append(cmd.Env, k+"="+expand(v))
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("did not finish: %v", runErr)
			}
			code := cmd.ProcessState.ExitCode()
			ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			res := hostileResult{name: name, exit: code}
			if ru != nil {
				res.rssMiB = float64(ru.Maxrss) / 1024
				res.cpuSec = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
			}
			results = append(results, res)
			t.Logf("exit %d, peak RSS %.0f MiB, CPU %.2f s\nstderr:\n%s", code, res.rssMiB, res.cpuSec, firstLines(stderr.String(), 8))
			if code != c.Exit {
				t.Errorf("exit code %d, want %d", code, c.Exit)
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic:") {
				t.Errorf("stderr holds a stack trace")
			}
			if code != 0 && stdout.Len() > 0 {
				t.Errorf("stdout is not empty on failure (%d bytes)", stdout.Len())
			}
			for _, re := range c.Stderr {
				if !regexp.MustCompile(re).Match(stderr.Bytes()) {
					t.Errorf("stderr does not match %q", re)
				}
			}
			for _, re := range c.Stdout {
				if !regexp.MustCompile(re).Match(stdout.Bytes()) {
					t.Errorf("stdout does not match %q", re)
				}
			}
			for _, re := range c.NotOutput {
				r := regexp.MustCompile(re)
				if r.Match(stdout.Bytes()) || r.Match(stderr.Bytes()) {
					t.Errorf("the output matches %q", re)
				}
			}
			if calls, err := os.ReadFile(filepath.Join(tmp, "tool-calls")); err == nil {
				t.Errorf("a child process ran: %s", calls)
			}
			if left, _ := os.ReadDir(filepath.Join(tmp, "tmp")); len(left) > 0 {
				t.Errorf("left %d entries in TMPDIR, e.g. %s", len(left), left[0].Name())
			}
			limit := float64(c.MaxRSSMiB)
			if limit == 0 {
				limit = 512
			}
			if res.rssMiB > limit {
				t.Errorf("peak RSS %.0f MiB, more than %.0f MiB", res.rssMiB, limit)
			}
		})
	}
	sort.Slice(results, func(i, j int) bool { return results[i].name < results[j].name })
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "  %-40s exit %d  %5.0f MiB  %5.2f s CPU\n", r.name, r.exit, r.rssMiB, r.cpuSec)
	}
	t.Logf("hostile corpus, per case:\n%s", b.String())
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…\n")
	}
	return strings.Join(lines, "")
}
