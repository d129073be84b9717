// Package budget holds the resource budgets of one render. cocogen runs on untrusted input (any pushed branch
// reaches the Argo CD plugin, any pull request reaches `cocogen diff` in CI), so every kind of work whose cost
// the input decides has a budget with a name, a documented default and an override: input bytes, YAML values
// after alias expansion, template steps and bytes, Rego evaluation, kustomize input and --set arguments.
// Exceeding one is an input error (exit 1) that names the budget and the place in the input that spent it.
//
// Defaults keep the largest legitimate inputs measured (the 2,000-application benchmark pattern, the built-in
// pattern) well inside, and a render of anything within the budgets inside the Argo CD sidecar's 512 MiB.
// Overrides: the --budget NAME=VALUE flag of the commands that render, or the environment variable
// COCOGEN_BUDGET_<NAME> (upper case, - as _) of the process; the flag wins. In Argo CD the variables belong to
// the sidecar's container spec (set by the cluster admin): Applications cannot change them, because Argo CD
// passes an Application's plugin env only with the ARGOCD_ENV_ prefix.
package budget

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits are the budgets of one render.
type Limits struct {
	// FileBytes is the largest input file (values, metadata, policy, template, manifest).
	FileBytes int64
	// InputBytes is the sum of all files one render reads from the repository.
	InputBytes int64
	// YAMLNodes is the number of values one YAML document may expand to, counting every value an alias or a
	// merge key (<<) copies; YAMLTotalNodes is the sum over every YAML document a render reads.
	YAMLNodes      int
	YAMLTotalNodes int
	// YAMLDepth is the deepest nesting of maps and lists.
	YAMLDepth int
	// TemplateSteps counts the template work of one render: range iterations, function calls and nested tpl
	// calls of every templated value.
	TemplateSteps int64
	// TemplateBytes counts the bytes that templates write and that template functions return.
	TemplateBytes int64
	// TemplateTime bounds the time spent evaluating templates in one render.
	TemplateTime time.Duration
	// RegoSteps counts the Rego expressions one render (or one policy command) evaluates.
	RegoSteps int64
	// RegoValueBytes bounds any string a Rego builtin may produce, and RegoValueItems any collection.
	RegoValueBytes int64
	RegoValueItems int64
	// RegoTime bounds the time spent evaluating Rego in one render or policy command.
	RegoTime time.Duration
	// KustomizeBytes and KustomizeFiles bound the reads of one kustomize build (each read counts, so a base
	// used by three variants counts three times); KustomizeValues the YAML values it reads, after alias
	// expansion; KustomizeObjects the objects of its manifests (kustomize's time grows with their square);
	// KustomizeOutputValues an estimate, made before kustomize runs, of the values its transformations write.
	KustomizeBytes        int64
	KustomizeFiles        int
	KustomizeValues       int
	KustomizeObjects      int
	KustomizeOutputValues int
	// SetCount bounds the number of values --set, --set-string, COCOGEN_SET and the plugin's set parameter
	// give; SetDepth the number of keys and indexes in one of their paths.
	SetCount int
	SetDepth int
}

// Defaults are the budgets when nothing overrides them.
func Defaults() Limits {
	return Limits{
		FileBytes:             4 << 20,
		InputBytes:            16 << 20,
		YAMLNodes:             100_000,
		YAMLTotalNodes:        150_000,
		YAMLDepth:             128,
		TemplateSteps:         1_000_000,
		TemplateBytes:         64 << 20,
		TemplateTime:          3 * time.Second,
		RegoSteps:             1_000_000,
		RegoValueBytes:        1 << 20,
		RegoValueItems:        100_000,
		RegoTime:              3 * time.Second,
		KustomizeBytes:        16 << 20,
		KustomizeFiles:        1_000,
		KustomizeValues:       50_000,
		KustomizeObjects:      1_000,
		KustomizeOutputValues: 250_000,
		SetCount:              1_000,
		SetDepth:              64,
	}
}

// kind says how a budget's value is written.
type kind int

const (
	count    kind = iota // a plain number
	bytes                // a number with an optional KiB, MiB or GiB suffix
	duration             // a Go duration: 500ms, 3s, 1m
)

// units are the size suffixes a bytes budget may be written with, largest first.
var units = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// Budget describes one budget.
type Budget struct {
	Name string
	Help string
	kind kind
	get  func(*Limits) int64
	set  func(*Limits, int64)
}

// Env is the environment variable that overrides the budget.
func (b Budget) Env() string {
	return "COCOGEN_BUDGET_" + strings.ToUpper(strings.ReplaceAll(b.Name, "-", "_"))
}

// Format prints the budget's value in l the way it is written in an override.
func (b Budget) Format(l Limits) string {
	v := b.get(&l)
	switch b.kind {
	case bytes:
		for _, u := range units[:3] {
			if v != 0 && v%(1<<u.shift) == 0 {
				return strconv.FormatInt(v>>u.shift, 10) + u.suffix
			}
		}
	case duration:
		return time.Duration(v).String()
	}
	return strconv.FormatInt(v, 10)
}

func intField(f func(*Limits) *int) (func(*Limits) int64, func(*Limits, int64)) {
	return func(l *Limits) int64 { return int64(*f(l)) }, func(l *Limits, v int64) { *f(l) = int(min(v, math.MaxInt32)) }
}

func int64Field(f func(*Limits) *int64) (func(*Limits) int64, func(*Limits, int64)) {
	return func(l *Limits) int64 { return *f(l) }, func(l *Limits, v int64) { *f(l) = v }
}

func durationField(f func(*Limits) *time.Duration) (func(*Limits) int64, func(*Limits, int64)) {
	return func(l *Limits) int64 { return int64(*f(l)) }, func(l *Limits, v int64) { *f(l) = time.Duration(v) }
}

func newBudget(name, help string, k kind, get func(*Limits) int64, set func(*Limits, int64)) Budget {
	return Budget{Name: name, Help: help, kind: k, get: get, set: set}
}

// All are the budgets, in the order the documentation lists them.
var All = func() []Budget {
	var out []Budget
	add := func(name, help string, k kind, get func(*Limits) int64, set func(*Limits, int64)) {
		out = append(out, newBudget(name, help, k, get, set))
	}
	g, s := int64Field(func(l *Limits) *int64 { return &l.FileBytes })
	add("file-bytes", "largest input file", bytes, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.InputBytes })
	add("input-bytes", "all files one render reads from the repository", bytes, g, s)
	g, s = intField(func(l *Limits) *int { return &l.YAMLNodes })
	add("yaml-nodes", "values one YAML document expands to (aliases and << merge keys count every value they copy)", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.YAMLTotalNodes })
	add("yaml-total-nodes", "values of all YAML documents of one render", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.YAMLDepth })
	add("yaml-depth", "nesting of maps and lists", count, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.TemplateSteps })
	add("template-steps", "range iterations, function calls and tpl calls of the templates in values", count, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.TemplateBytes })
	add("template-bytes", "bytes templates write and template functions return", bytes, g, s)
	g, s = durationField(func(l *Limits) *time.Duration { return &l.TemplateTime })
	add("template-time", "time spent evaluating templates", duration, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.RegoSteps })
	add("rego-steps", "Rego expressions evaluated (OPA's evaluation steps)", count, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.RegoValueBytes })
	add("rego-value-bytes", "longest string a Rego builtin may return", bytes, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.RegoValueItems })
	add("rego-value-items", "largest array, set or object a Rego builtin may return", count, g, s)
	g, s = durationField(func(l *Limits) *time.Duration { return &l.RegoTime })
	add("rego-time", "time spent evaluating Rego", duration, g, s)
	g, s = int64Field(func(l *Limits) *int64 { return &l.KustomizeBytes })
	add("kustomize-input-bytes", "bytes one kustomize build reads (every read counts)", bytes, g, s)
	g, s = intField(func(l *Limits) *int { return &l.KustomizeFiles })
	add("kustomize-input-files", "file reads of one kustomize build", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.KustomizeValues })
	add("kustomize-input-values", "YAML values one kustomize build reads, after alias expansion", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.KustomizeObjects })
	add("kustomize-input-objects", "objects of the manifests one kustomize build reads", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.KustomizeOutputValues })
	add("kustomize-output-values", "estimate of the values kustomize's transformations write", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.SetCount })
	add("set-count", "values given by --set, --set-string, COCOGEN_SET and the plugin's set parameter", count, g, s)
	g, s = intField(func(l *Limits) *int { return &l.SetDepth })
	add("set-depth", "keys and indexes in one --set path", count, g, s)
	return out
}()

// Lookup returns the budget with the given name.
func Lookup(name string) (Budget, bool) {
	i := slices.IndexFunc(All, func(b Budget) bool { return b.Name == name })
	if i < 0 {
		return Budget{}, false
	}
	return All[i], true
}

// Names lists the budget names.
func Names() []string {
	out := make([]string, len(All))
	for i, b := range All {
		out[i] = b.Name
	}
	return out
}

// ErrUnknown is returned for an override that names no budget.
var ErrUnknown = errors.New("unknown budget")

// Set applies one override, NAME=VALUE.
func (l *Limits) Set(arg string) error {
	name, value, ok := strings.Cut(arg, "=")
	if !ok {
		return fmt.Errorf("%q: expected NAME=VALUE", arg)
	}
	b, ok := Lookup(strings.TrimSpace(name))
	if !ok {
		return fmt.Errorf("%w %q (budgets: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	v, err := parse(b.kind, strings.TrimSpace(value))
	if err != nil {
		return fmt.Errorf("budget %s: %w", b.Name, err)
	}
	b.set(l, v)
	return nil
}

func parse(k kind, s string) (int64, error) {
	switch k {
	case duration:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%q is not a positive duration such as 500ms or 5s", s)
		}
		return int64(d), nil
	case bytes:
		shift := uint(0)
		for _, u := range units {
			if strings.HasSuffix(s, u.suffix) {
				s, shift = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.shift
				break
			}
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 || v > math.MaxInt64>>shift {
			return 0, fmt.Errorf("%q is not a positive size such as 4194304, 512KiB or 4MiB", s)
		}
		return v << shift, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a positive whole number", s)
	}
	return v, nil
}

// FromEnv returns the defaults with the overrides of the COCOGEN_BUDGET_* variables that lookup finds (pass
// os.LookupEnv), then the flag overrides.
func FromEnv(lookup func(string) (string, bool), flags []string) (Limits, error) {
	l := Defaults()
	if lookup == nil {
		lookup = os.LookupEnv
	}
	for _, b := range All {
		if v, ok := lookup(b.Env()); ok && strings.TrimSpace(v) != "" {
			if err := l.Set(b.Name + "=" + v); err != nil {
				return l, fmt.Errorf("%s: %w", b.Env(), err)
			}
		}
	}
	for _, f := range flags {
		if err := l.Set(f); err != nil {
			return l, fmt.Errorf("--budget %w", err)
		}
	}
	return l, nil
}

// Exceeded is the error of a spent budget.
type Exceeded struct {
	Budget string // the budget's name
	Limit  string // its value, as written in an override
	What   string // what spent it
}

func (e *Exceeded) Error() string {
	msg := fmt.Sprintf("budget %s (%s) exceeded", e.Budget, e.Limit)
	if e.What != "" {
		msg += ": " + e.What
	}
	return msg + fmt.Sprintf("; raise it with --budget %s=VALUE or COCOGEN_BUDGET_%s if the input is legitimate", e.Budget, strings.ToUpper(strings.ReplaceAll(e.Budget, "-", "_")))
}

// Exceed returns the error for the named budget of l.
func (l Limits) Exceed(name, what string) *Exceeded {
	b, ok := Lookup(name)
	if !ok {
		return &Exceeded{Budget: name, What: what}
	}
	return &Exceeded{Budget: name, Limit: b.Format(l), What: what}
}
