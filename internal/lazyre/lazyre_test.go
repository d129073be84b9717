package lazyre

import (
	"strings"
	"testing"
)

func TestCompiledOnFirstUse(t *testing.T) {
	re := New(`^a(b+)c$`)
	if got := re.FindStringSubmatch("abbc"); len(got) != 2 || got[1] != "bb" {
		t.Errorf("FindStringSubmatch = %q", got)
	}
	if !re.MatchString("abc") || re.MatchString("ac") {
		t.Error("MatchString disagrees with the expression")
	}
	if re.String() != `^a(b+)c$` {
		t.Errorf("String = %q", re.String())
	}
}

func TestCompileAllFindsABadExpression(t *testing.T) {
	n := len(all)
	bad := New(`(unclosed`)
	t.Cleanup(func() {
		mu.Lock()
		all = all[:n]
		mu.Unlock()
	})
	err := CompileAll()
	if err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("CompileAll = %v, want the error of %s", err, bad)
	}
	defer func() {
		if recover() == nil {
			t.Error("the first use of a bad expression did not panic")
		}
	}()
	bad.MatchString("x")
}
