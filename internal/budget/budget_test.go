package budget

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSetParsesEachKind(t *testing.T) {
	cases := []struct {
		arg  string
		get  func(Limits) int64
		want int64
		err  string
	}{
		{arg: "file-bytes=512KiB", get: func(l Limits) int64 { return l.FileBytes }, want: 512 << 10},
		{arg: "input-bytes = 2MiB", get: func(l Limits) int64 { return l.InputBytes }, want: 2 << 20},
		{arg: "input-bytes=1GiB", get: func(l Limits) int64 { return l.InputBytes }, want: 1 << 30},
		{arg: "file-bytes=1000", get: func(l Limits) int64 { return l.FileBytes }, want: 1000},
		{arg: "file-bytes=1000B", get: func(l Limits) int64 { return l.FileBytes }, want: 1000},
		{arg: "yaml-nodes=5", get: func(l Limits) int64 { return int64(l.YAMLNodes) }, want: 5},
		{arg: "template-time=500ms", get: func(l Limits) int64 { return int64(l.TemplateTime) }, want: int64(500 * time.Millisecond)},
		{arg: "rego-steps=7", get: func(l Limits) int64 { return l.RegoSteps }, want: 7},
		{arg: "yaml-nodes=0", err: "not a positive whole number"},
		{arg: "yaml-nodes=-3", err: "not a positive whole number"},
		{arg: "file-bytes=lots", err: "not a positive size"},
		{arg: "file-bytes=9999999999999GiB", err: "not a positive size"},
		{arg: "rego-time=3", err: "not a positive duration"},
		{arg: "rego-time=-1s", err: "not a positive duration"},
		{arg: "nodes=3", err: `unknown budget "nodes"`},
		{arg: "yaml-nodes", err: "expected NAME=VALUE"},
	}
	for _, c := range cases {
		t.Run(c.arg, func(t *testing.T) {
			l := Defaults()
			err := l.Set(c.arg)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Set(%q) = %v, want an error containing %q", c.arg, err, c.err)
				}
				if l != Defaults() {
					t.Fatalf("a refused override changed the limits")
				}
				return
			}
			if err != nil || c.get(l) != c.want {
				t.Fatalf("Set(%q): %v, value %d, want %d", c.arg, err, c.get(l), c.want)
			}
		})
	}
}

// Every budget has a unique name, an environment variable derived from it, a default that Format prints in
// a form Set reads back, and help.
func TestEveryBudgetRoundTrips(t *testing.T) {
	seen := map[string]bool{}
	d := Defaults()
	for _, b := range All {
		if seen[b.Name] || b.Help == "" {
			t.Fatalf("budget %q repeated or without help", b.Name)
		}
		seen[b.Name] = true
		if want := "COCOGEN_BUDGET_" + strings.ToUpper(strings.ReplaceAll(b.Name, "-", "_")); b.Env() != want {
			t.Errorf("%s: env %s, want %s", b.Name, b.Env(), want)
		}
		if b.get(&d) <= 0 {
			t.Errorf("%s: default %d is not positive", b.Name, b.get(&d))
		}
		var l Limits
		if err := l.Set(b.Name + "=" + b.Format(d)); err != nil || b.get(&l) != b.get(&d) {
			t.Errorf("%s: Format %q does not read back (%v)", b.Name, b.Format(d), err)
		}
	}
}

// The flag wins over the environment, which wins over the default; an empty variable is no override.
func TestFromEnvPrecedence(t *testing.T) {
	env := map[string]string{"COCOGEN_BUDGET_REGO_STEPS": "42", "COCOGEN_BUDGET_YAML_NODES": "9", "COCOGEN_BUDGET_FILE_BYTES": " "}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	l, err := FromEnv(lookup, []string{"yaml-nodes=11"})
	if err != nil {
		t.Fatal(err)
	}
	if l.RegoSteps != 42 || l.YAMLNodes != 11 || l.FileBytes != Defaults().FileBytes {
		t.Fatalf("limits = %+v", l)
	}
	env["COCOGEN_BUDGET_REGO_TIME"] = "soon"
	if _, err := FromEnv(lookup, nil); err == nil || !strings.Contains(err.Error(), "COCOGEN_BUDGET_REGO_TIME") {
		t.Fatalf("a bad variable: err = %v, want one naming it", err)
	}
	delete(env, "COCOGEN_BUDGET_REGO_TIME")
	if _, err := FromEnv(lookup, []string{"nope=1"}); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "--budget") {
		t.Fatalf("a bad flag: err = %v", err)
	}
}

func TestExceededNamesTheBudgetAndTheOverride(t *testing.T) {
	msg := Defaults().Exceed("template-steps", "a loop").Error()
	for _, want := range []string{"budget template-steps (1000000) exceeded: a loop", "--budget template-steps=VALUE", "COCOGEN_BUDGET_TEMPLATE_STEPS"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}
