package crdschematest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema"
)

// recorder is a testing.TB that records how Load ends the test instead of ending it.
type recorder struct {
	testing.TB
	how, msg string
}

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.how, r.msg = "fatal", fmt.Sprint(args...)
	panic(stop{})
}
func (r *recorder) Skip(args ...any) {
	r.how, r.msg = "skip", fmt.Sprint(args...)
	panic(stop{})
}

func load(r *recorder) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stop); !ok {
				panic(p)
			}
		}
	}()
	Load(r)
}

// TestMissingFolder checks the policy for a missing CRD folder: a skip that names the folder and the variable
// to set (printed by go test -v), and a failure under CI=true.
func TestMissingFolder(t *testing.T) {
	missing := t.TempDir() + "/no-crds"
	t.Setenv(crdschema.EnvDir, missing)
	for _, tt := range []struct{ ci, how string }{{"", "skip"}, {"false", "skip"}, {"true", "fatal"}} {
		t.Setenv("CI", tt.ci)
		r := &recorder{TB: t}
		load(r)
		if r.how != tt.how {
			t.Errorf("CI=%q: the test ended with %q, want %q", tt.ci, r.how, tt.how)
		}
		if !strings.Contains(r.msg, missing) || !strings.Contains(r.msg, crdschema.EnvDir) {
			t.Errorf("CI=%q: the message %q does not name the folder and %s", tt.ci, r.msg, crdschema.EnvDir)
		}
	}
}
