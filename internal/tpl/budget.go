package tpl

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"text/template"
	tparse "text/template/parse"
	"time"

	"github.com/cocogen/cocogen/internal/budget"
)

// Budget is the template budget of one render, shared by every engine of the render (it is safe for
// concurrent use). Templates in values are user input: a loop, a function that multiplies its input (repeat,
// until, indent) or a string that doubles in a loop would otherwise take the machine. Three budgets bound
// them:
//   - template-steps: every range iteration, every template function call and every entry into a named
//     template or a nested tpl costs a step;
//   - template-bytes: every byte a template writes, and the size of every value a template function returns,
//     is spent; a function whose result would not fit is not called at all;
//   - template-time: the time since the first step.
type Budget struct {
	limits budget.Limits
	steps  atomic.Int64
	bytes  atomic.Int64
	start  atomic.Int64 // unix nanoseconds of the first step; 0 before it
	// spent records the first budget exceeded, so that every later call fails the same way.
	spent atomic.Pointer[budget.Exceeded]
}

// NewBudget returns a fresh template budget with the limits of l.
func NewBudget(l budget.Limits) *Budget { return &Budget{limits: l} }

// Limits are the budget's limits.
func (b *Budget) Limits() budget.Limits { return b.limits }

// Steps and Bytes report what was spent so far.
func (b *Budget) Steps() int64 { return b.steps.Load() }
func (b *Budget) Bytes() int64 { return b.bytes.Load() }

// Exceeded returns the budget that was exceeded, if any.
func (b *Budget) Exceeded() *budget.Exceeded { return b.spent.Load() }

func (b *Budget) fail(name, what string) error {
	e := b.limits.Exceed(name, what)
	b.spent.CompareAndSwap(nil, e)
	return b.spent.Load()
}

// step spends n steps and checks the clock every few hundred steps.
func (b *Budget) step(n int64) error {
	if e := b.spent.Load(); e != nil {
		return e
	}
	s := b.steps.Add(n)
	if b.limits.TemplateSteps > 0 && s > b.limits.TemplateSteps {
		return b.fail("template-steps", "a template loops or calls functions too often")
	}
	if s-n == 0 || s/256 != (s-n)/256 {
		now := time.Now().UnixNano()
		b.start.CompareAndSwap(0, now)
		if b.limits.TemplateTime > 0 && time.Duration(now-b.start.Load()) > b.limits.TemplateTime {
			return b.fail("template-time", "templates ran too long")
		}
	}
	return nil
}

// room reports whether n more bytes fit, without spending them.
func (b *Budget) room(n int64) error {
	if e := b.spent.Load(); e != nil {
		return e
	}
	if b.limits.TemplateBytes > 0 && b.bytes.Load()+n > b.limits.TemplateBytes {
		return b.fail("template-bytes", fmt.Sprintf("a template function would produce about %d bytes", n))
	}
	return nil
}

// spend spends n bytes.
func (b *Budget) spend(n int64) error {
	if e := b.spent.Load(); e != nil {
		return e
	}
	if total := b.bytes.Add(n); b.limits.TemplateBytes > 0 && total > b.limits.TemplateBytes {
		return b.fail("template-bytes", "templates produced too much text")
	}
	return nil
}

// writer is the output of one template execution; every byte written is spent.
type writer struct {
	b   *Budget
	buf strings.Builder
}

func (w *writer) Write(p []byte) (int, error) {
	if err := w.b.spend(int64(len(p))); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}

// Non-hermetic functions: a render must give the same bytes every time it runs, from Git and the cluster
// metadata alone. Helm's own list (env, expandenv removed; lookup empty under helm template) is not enough
// for that: these read the clock, randomness, the network, the environment or a cluster.
var nonHermetic = func() map[string]string {
	m := map[string]string{}
	add := func(reason string, names ...string) {
		for _, n := range names {
			m[n] = reason
		}
	}
	add("reads the clock", "now", "date", "dateInZone", "date_in_zone", "dateModify", "date_modify", "mustDateModify",
		"must_date_modify", "ago", "htmlDate", "htmlDateInZone", "unixEpoch", "durationRound")
	add("is random", "randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes", "randInt", "shuffle",
		"uuidv4", "genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
		"genSignedCert", "genSignedCertWithKey", "encryptAES", "htpasswd", "bcrypt")
	add("asks the DNS", "getHostByName")
	add("reads the environment", "env", "expandenv")
	add("reads a cluster", "lookup")
	return m
}()

// NonHermetic returns why a template function is not available in values ("" when it is).
func NonHermetic(name string) string { return nonHermetic[name] }

func nonHermeticError(name string) error {
	return fmt.Errorf("template function %s %s: values are evaluated without clock, randomness, network, environment or cluster, so that one commit always renders the same bytes", name, nonHermetic[name])
}

// checkHermetic refuses templates that name a non-hermetic function anywhere, executed or not.
func checkHermetic(parsed []*template.Template) error {
	var found string
	for _, tt := range parsed {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n tparse.Node) {
			if id, ok := n.(*tparse.IdentifierNode); ok && found == "" && nonHermetic[id.Ident] != "" {
				found = id.Ident
			}
		})
	}
	if found != "" {
		return nonHermeticError(found)
	}
	return nil
}

// instrument makes every range iteration and every entry into a named template spend a step: the only two
// ways a template repeats work without calling a function. tick is an action node that calls the step
// function and prints nothing.
func instrument(parsed []*template.Template, tick tparse.Node) {
	for _, t := range parsed {
		if t.Tree == nil || t.Tree.Root == nil {
			continue
		}
		root := t.Tree.Root
		root.Nodes = append([]tparse.Node{tick}, root.Nodes...)
		walk(root, func(n tparse.Node) {
			if r, ok := n.(*tparse.RangeNode); ok && r.List != nil {
				r.List.Nodes = append([]tparse.Node{tick}, r.List.Nodes...)
			}
		})
	}
}

// walk calls fn for n and every node below it.
func walk(n tparse.Node, fn func(tparse.Node)) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *tparse.ListNode:
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *tparse.ActionNode:
		walk(n.Pipe, fn)
	case *tparse.PipeNode:
		for _, c := range n.Cmds {
			walk(c, fn)
		}
		for _, v := range n.Decl {
			walk(v, fn)
		}
	case *tparse.CommandNode:
		for _, a := range n.Args {
			walk(a, fn)
		}
	case *tparse.ChainNode:
		walk(n.Node, fn)
	case *tparse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *tparse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *tparse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *tparse.TemplateNode:
		walk(n.Pipe, fn)
	}
}

func walkBranch(b *tparse.BranchNode, fn func(tparse.Node)) {
	walk(b.Pipe, fn)
	if b.List != nil {
		walk(b.List, fn)
	}
	if b.ElseList != nil {
		walk(b.ElseList, fn)
	}
}

var errorType = reflect.TypeFor[error]()

// budgeted wraps a template function so that each call spends a step, is refused when its result would not
// fit the byte budget (estimated from its arguments; estimate gives the function's own estimate when it
// multiplies its input), and spends the size of what it returns.
func budgeted(b func() *Budget, name string, fn any, estimate func(args []reflect.Value) int64) any {
	v := reflect.ValueOf(fn)
	t := v.Type()
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	hasErr := t.NumOut() == 2 && t.Out(1) == errorType
	out := []reflect.Type{t.Out(0), errorType}
	wrapped := reflect.FuncOf(in, out, t.IsVariadic())
	zero := reflect.Zero(t.Out(0))
	return reflect.MakeFunc(wrapped, func(args []reflect.Value) []reflect.Value {
		bud := b()
		fail := func(err error) []reflect.Value { return []reflect.Value{zero, reflect.ValueOf(&err).Elem()} }
		if err := bud.step(1); err != nil {
			return fail(err)
		}
		var want int64
		if estimate != nil {
			want = estimate(args)
		} else {
			// Output grows at most a few times the input for the functions without an estimate of their own
			// (serialisation, encoding, splitting into lists).
			want = 4*argsSize(args, bud.limits.TemplateBytes) + 64
		}
		if want < 0 || bud.room(want) != nil {
			return fail(bud.fail("template-bytes", fmt.Sprintf("%s would produce more than the template budget allows", name)))
		}
		var res []reflect.Value
		if t.IsVariadic() {
			res = v.CallSlice(args)
		} else {
			res = v.Call(args)
		}
		if hasErr && !res[1].IsNil() {
			return res
		}
		if err := bud.spend(size(res[0], bud.limits.TemplateBytes, 0)); err != nil {
			return fail(err)
		}
		return []reflect.Value{res[0], reflect.Zero(errorType)}
	}).Interface()
}

// argsSize is the sum of the sizes of args, at most limit+1.
func argsSize(args []reflect.Value, limit int64) int64 {
	var s int64
	for _, a := range args {
		if a.Kind() == reflect.Slice && a.Type().Elem().Kind() == reflect.Interface {
			// the variadic tail
			for i := range a.Len() {
				s += size(a.Index(i), limit-s, 0)
			}
		} else {
			s += size(a, limit-s, 0)
		}
		if s > limit {
			return limit + 1
		}
	}
	return s
}

// maxDepth bounds the walk of a value: deeper means cyclic (sprig's set can make a map contain itself) or
// hostile.
const maxValueDepth = 512

// size estimates the bytes of a value as text (strings, their indentation) and in memory (collections), and
// stops counting above limit. A cyclic or absurdly deep value counts as too large.
func size(v reflect.Value, limit int64, depth int) int64 {
	if depth > maxValueDepth {
		return limit + 1
	}
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return 4
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return 4
	}
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len()) + 2
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return int64(v.Len()) + 2
		}
		s := int64(16)
		for i := range v.Len() {
			s += int64(depth) + size(v.Index(i), limit-s, depth+1)
			if s > limit {
				return limit + 1
			}
		}
		return s
	case reflect.Map:
		s := int64(48)
		it := v.MapRange()
		for it.Next() {
			s += int64(depth) + size(it.Key(), limit-s, depth+1) + size(it.Value(), limit-s, depth+1)
			if s > limit {
				return limit + 1
			}
		}
		return s
	case reflect.Struct:
		return 64
	}
	return 24
}

// Estimates for the functions whose output can be much larger than their input.
func intArg(v reflect.Value) (int64, bool) {
	for v.Kind() == reflect.Interface {
		if v.IsNil() {
			return 0, false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > 1<<62 {
			return 1 << 62, true
		}
		return int64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f > 1<<62 || f < -(1<<62) || f != f {
			return 1 << 62, true
		}
		return int64(f), true
	case reflect.String:
		var n int64
		if _, err := fmt.Sscan(v.String(), &n); err == nil {
			return n, true
		}
	}
	return 0, false
}

func strArg(v reflect.Value) string {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		return v.String()
	}
	return fmt.Sprint(v)
}

// mulClamp multiplies without overflow: the result is -1 (too large) when it would exceed 1<<62.
func mulClamp(a, b int64) int64 {
	if a < 0 {
		a = 0
	}
	if b < 0 {
		b = 0
	}
	if a != 0 && b > (1<<62)/a {
		return -1
	}
	return a * b
}

func addClamp(vals ...int64) int64 {
	var s int64
	for _, v := range vals {
		if v < 0 || s > (1<<62)-v {
			return -1
		}
		s += v
	}
	return s
}

// rangeLen is the number of elements sprig's untilStep(start, stop, step) returns.
func rangeLen(start, stop, step int64) int64 {
	switch {
	case step > 0 && stop > start:
		return (stop-start-1)/step + 1
	case step < 0 && stop < start:
		return (start-stop-1)/(-step) + 1
	}
	return 0
}

var estimates = map[string]func(args []reflect.Value) int64{
	"repeat": func(a []reflect.Value) int64 {
		n, _ := intArg(a[0])
		return addClamp(mulClamp(n, int64(len(strArg(a[1])))), 16)
	},
	"until": func(a []reflect.Value) int64 {
		n, _ := intArg(a[0])
		if n < 0 {
			n = -n
		}
		return addClamp(mulClamp(n, 16), 16)
	},
	"untilStep": func(a []reflect.Value) int64 {
		start, _ := intArg(a[0])
		stop, _ := intArg(a[1])
		step, _ := intArg(a[2])
		return addClamp(mulClamp(rangeLen(start, stop, step), 16), 16)
	},
	"seq": func(a []reflect.Value) int64 {
		// seq prints the numbers of a range: at most as many as the span of its arguments, each at most 20 bytes.
		var nums []int64
		if len(a) == 1 && a[0].Kind() == reflect.Slice {
			for i := range a[0].Len() {
				n, _ := intArg(a[0].Index(i))
				nums = append(nums, n)
			}
		}
		var span int64
		for _, x := range nums {
			for _, y := range nums {
				if d := x - y; d > span {
					span = d
				}
				if d := y - x; d > span {
					span = d
				}
			}
		}
		return addClamp(mulClamp(span+1, 21), 16)
	},
	"indent":  indentEstimate,
	"nindent": indentEstimate,
	"replace": func(a []reflect.Value) int64 {
		old, repl, src := strArg(a[0]), strArg(a[1]), strArg(a[2])
		n := int64(len(src) + 1)
		if old != "" {
			n = int64(strings.Count(src, old))
		}
		return addClamp(mulClamp(n, int64(len(repl))), int64(len(src)), 16)
	},
	"wrapWith": func(a []reflect.Value) int64 {
		w, _ := intArg(a[0])
		sep, s := strArg(a[1]), strArg(a[2])
		return addClamp(mulClamp(int64(len(s))/max(w, 1)+1, int64(len(sep))), int64(len(s)), 16)
	},
	"wrap": func(a []reflect.Value) int64 {
		w, _ := intArg(a[0])
		s := strArg(a[1])
		return addClamp(int64(len(s))/max(w, 1)+1, int64(len(s)), 16)
	},
	"printf": func(a []reflect.Value) int64 {
		// Go's fmt caps widths and precisions at 1e6, but an argument can be printed by every verb (%[1]s).
		format := strArg(a[0])
		verbs := int64(strings.Count(format, "%"))
		rest := argsSize(a[1:], 1<<40)
		return addClamp(int64(len(format)), mulClamp(verbs, addClamp(1_000_000, rest)), 16)
	},
}

func indentEstimate(a []reflect.Value) int64 {
	n, _ := intArg(a[0])
	s := strArg(a[1])
	return addClamp(mulClamp(n, int64(strings.Count(s, "\n")+1)), int64(len(s)), 16)
}

// regexReplace estimates regexReplaceAll and friends: every match (at most one per byte, plus one) becomes
// the replacement, whose $n references can each repeat the whole input.
func regexReplace(a []reflect.Value) int64 {
	s, repl := strArg(a[1]), strArg(a[2])
	per := int64(len(repl))
	if strings.Contains(repl, "$") {
		per = mulClamp(per, int64(len(s))+1)
	}
	return addClamp(mulClamp(int64(len(s))+1, per), int64(len(s)), 16)
}

func init() {
	for _, n := range []string{"regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"} {
		estimates[n] = regexReplace
	}
}

// errIsBudget reports whether err comes from a spent budget.
func errIsBudget(err error) bool {
	var e *budget.Exceeded
	return errors.As(err, &e)
}
