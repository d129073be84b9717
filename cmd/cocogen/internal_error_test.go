package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/pipeline"
)

// hasStack reports whether stderr holds a Go stack trace.
func hasStack(s string) bool {
	return strings.Contains(s, "goroutine ") || strings.Contains(s, ".go:")
}

// TestPanicIsAnInternalError injects a panic into a command: the user sees one line with the panic value and
// the command line, exit code 2, nothing on stdout and no stack trace, unless COCOGEN_DEBUG=1 asks for it.
func TestPanicIsAnInternalError(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "COCOGEN_DEBUG=1"}[debug], func(t *testing.T) {
			t.Setenv(debugEnv, map[bool]string{false: "", true: "1"}[debug])
			var out, errb bytes.Buffer
			root := newRootCommand(streams{in: strings.NewReader(""), out: &out, err: &errb})
			root.AddCommand(&cobra.Command{Use: "boom", Hidden: true, Args: cobra.ArbitraryArgs, RunE: func(*cobra.Command, []string) error {
				var m map[string]int
				m["x"]++ // a nil map: a runtime panic, as a nil dereference would be
				return nil
			}})
			code := run(root, []string{"boom", "https://user:secret@git.example.com/x"})
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out.Len() != 0 {
				t.Errorf("stdout must be empty, got %q", out.String())
			}
			stderr := errb.String()
			if !strings.HasPrefix(stderr, "error: internal error: assignment to entry in nil map\n") {
				t.Errorf("stderr does not start with the internal error:\n%s", stderr)
			}
			if !strings.Contains(stderr, "while processing: cocogen boom 'https://***@git.example.com/x'") {
				t.Errorf("stderr does not name the input (with the credentials hidden):\n%s", stderr)
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("stderr shows a credential:\n%s", stderr)
			}
			if hasStack(stderr) != debug {
				t.Errorf("stack trace shown = %v, want %v:\n%s", hasStack(stderr), debug, stderr)
			}
			if debug && !strings.Contains(stderr, "internal_error_test.go") {
				t.Errorf("the stack trace does not show where the panic happened:\n%s", stderr)
			}
		})
	}
}

// TestGeneratePanicIsAnInternalError injects a panic into the plugin's render: Argo CD gets exit code 2,
// nothing on stdout, and a message that names the application and the equivalent render command instead of
// a stack trace.
func TestGeneratePanicIsAnInternalError(t *testing.T) {
	atRoot(t)
	t.Setenv(debugEnv, "")
	argoEnv(t, rootApp(map[string]string{"ARGOCD_ENV_COCOGEN_APP": "trustee"}))
	var out, errb bytes.Buffer
	err := runGenerate(streams{out: &out, err: &errb}, os.Environ(), func(pipeline.Request) (*pipeline.Result, error) {
		panic("injected")
	})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("err = %v, want exit code %d", err, exitUsage)
	}
	if out.Len() != 0 {
		t.Errorf("stdout must be empty, got %q", out.String())
	}
	stderr := errb.String()
	for _, want := range []string{"error: internal error: injected\n", "while processing: cocogen render --repo-root . --app trustee", "(Argo CD application cocogen)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if hasStack(stderr) {
		t.Errorf("stderr shows a stack trace:\n%s", stderr)
	}
}
