package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/renderheap/early"
)

// TestEarlyHeapCommandsRender checks package early's list of commands that render against the commands: each
// one it lists is a top-level command that prepares its heap when it runs, and no other command does (the
// sources call heapForRender once per listed command).
func TestEarlyHeapCommandsRender(t *testing.T) {
	src, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, f := range src {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		calls += strings.Count(string(data), "s.heapForRender()")
	}
	if calls != len(early.Commands) {
		t.Errorf("the commands call heapForRender in %d places; early.Commands lists %d, %q: list every command that renders", calls, len(early.Commands), early.Commands)
	}

	t.Chdir(t.TempDir()) // no values here: each render fails at once, after preparing its heap
	for _, name := range early.Commands {
		prepared := 0
		root := newRootCommand(streams{in: strings.NewReader(""), out: &strings.Builder{}, err: &strings.Builder{}, prepareHeap: func() { prepared++ }})
		if c, _, err := root.Find([]string{name}); err != nil || c == root || c.Name() != name {
			t.Fatalf("early.Commands lists %q, which is not a command of cocogen", name)
		}
		run(root, []string{name})
		if prepared != 1 {
			t.Errorf("cocogen %s prepared its heap %d times; want once (early.Commands lists it)", name, prepared)
		}
	}
}
