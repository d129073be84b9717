// Package crdschematest loads the CRD folder for tests, with the project's policy for when it is missing: the
// test is skipped, except under CI (CI=true), where a missing folder fails it.
package crdschematest

import (
	"os"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema"
)

// Load returns the CRDs of crdschema.Dir. When the folder does not exist it skips the test, or fails it when
// the environment variable CI is "true".
func Load(t testing.TB) *crdschema.Set {
	t.Helper()
	dir, ok := crdschema.Dir()
	if !ok {
		msg := "CRD folder " + dir + " not found; set " + crdschema.EnvDir + " to a folder of CustomResourceDefinitions"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: the CRD checks must run)")
		}
		t.Skip(msg)
	}
	s, err := crdschema.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
