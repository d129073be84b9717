package synthetic

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, 20); err != nil {
		t.Fatal(err)
	}
	hub, err := os.ReadFile(filepath.Join(dir, "values-hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(hub), "\n    app-"); got != 20 {
		t.Errorf("%d applications, want 20", got)
	}
	if got := strings.Count(string(hub), "\n    sub-"); got != 2 {
		t.Errorf("%d subscriptions, want 2", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "overrides", "values-AWS.yaml")); err != nil {
		t.Error(err)
	}
}
