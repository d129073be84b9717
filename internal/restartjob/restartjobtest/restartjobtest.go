// Package restartjobtest runs the script of a restart job (package restartjob) against a fake oc, for the
// tests of the generators that write such scripts.
package restartjobtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Result is what one run of a script did.
type Result struct {
	Code int
	Out  string
	// Patches are the patches the fake oc received, one per line of $STATE/patches.
	Patches []string
	// Calls is $STATE/calls, where fakes may record what ran.
	Calls string
}

// Run runs script with bash, a fake oc (fakeOC, a bash script reading $STATE) and any other fake tools first
// in PATH, the files of state in $STATE, and env. It skips the test when bash is missing.
func Run(t *testing.T, script, fakeOC string, tools, state map[string]string, env ...string) Result {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	bin, stateDir := filepath.Join(dir, "bin"), filepath.Join(dir, "state")
	for _, d := range []string{bin, stateDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tools = mapWith(tools, "oc", fakeOC)
	for name, body := range tools {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for f, v := range state {
		if err := os.WriteFile(filepath.Join(stateDir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A guard against a hang of the script under test, not a measurement.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script)
	cmd.Env = append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "STATE=" + stateDir, "HOME=" + dir, "TMPDIR=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	res := Result{Out: string(out)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	patches, _ := os.ReadFile(filepath.Join(stateDir, "patches"))
	for l := range strings.SplitSeq(strings.TrimSpace(string(patches)), "\n") {
		if l != "" {
			res.Patches = append(res.Patches, l)
		}
	}
	calls, _ := os.ReadFile(filepath.Join(stateDir, "calls"))
	res.Calls = string(calls)
	return res
}

func mapWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range m {
		out[key] = val
	}
	return out
}
