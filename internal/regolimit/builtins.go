package regolimit

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/lazyre"
)

// Builtins that cocogen never lets a repository's policy or test call: they reach the network or the process
// environment, or run a template engine without bounds. The agent's and Trustee's regorus lack them anyway.
var Forbidden = []string{"http.send", "net.lookup_ip_addr", "opa.runtime", "strings.render_template"}

// estimate returns the size a builtin's result can reach for these operands, as bytes (strings) and items
// (collections), for the builtins whose result can be much larger than their operands. Sizes are clamped at
// 1<<62.
type estimate func(ops []*ast.Term) (bytes, items int64)

var digitRuns = lazyre.New(`[0-9]+`)

// maxDigits bounds the numbers arithmetic may take: repeated squaring doubles the digits at each step.
const maxDigits = 1000

// maxShift bounds bits.lsh: 1 << 1e9 is a 125 MB number.
const maxShift = 4096

var estimates = map[string]estimate{
	"numbers.range": func(ops []*ast.Term) (int64, int64) {
		a, b := intOf(ops[0]), intOf(ops[1])
		return 0, addClamp(absDiff(a, b), 1)
	},
	"numbers.range_step": func(ops []*ast.Term) (int64, int64) {
		a, b, s := intOf(ops[0]), intOf(ops[1]), intOf(ops[2])
		if s <= 0 {
			return 0, 0 // OPA refuses it
		}
		return 0, addClamp(absDiff(a, b)/s, 1)
	},
	"replace": func(ops []*ast.Term) (int64, int64) {
		s, old, repl := strOf(ops[0]), strOf(ops[1]), strOf(ops[2])
		n := int64(len(s) + 1)
		if old != "" {
			n = int64(strings.Count(s, old))
		}
		return addClamp(mulClamp(n, int64(len(repl))), int64(len(s))), 0
	},
	"strings.replace_n": func(ops []*ast.Term) (int64, int64) {
		s := strOf(ops[1])
		var longest int64
		if obj, ok := ops[0].Value.(ast.Object); ok {
			obj.Foreach(func(_, v *ast.Term) {
				longest = max(longest, int64(len(strOf(v))))
			})
		}
		return addClamp(mulClamp(int64(len(s))+1, longest), int64(len(s))), 0
	},
	"regex.replace": func(ops []*ast.Term) (int64, int64) {
		s, repl := strOf(ops[0]), strOf(ops[2])
		per := int64(len(repl))
		if strings.Contains(repl, "$") {
			per = mulClamp(per, int64(len(s))+1)
		}
		return addClamp(mulClamp(int64(len(s))+1, per), int64(len(s))), 0
	},
	"concat": func(ops []*ast.Term) (int64, int64) {
		delim := int64(len(strOf(ops[0])))
		var total, n int64
		forEach(ops[1], func(t *ast.Term) {
			total = addClamp(total, int64(len(strOf(t))))
			n++
		})
		return addClamp(total, mulClamp(n, delim)), 0
	},
	"sprintf": func(ops []*ast.Term) (int64, int64) {
		// Every verb can print any operand (%[1]v), padded to a width or precision written in the format (a
		// digit run) or taken from an operand (*, at most 1e6 in Go's fmt).
		format := strOf(ops[0])
		verbs := int64(strings.Count(format, "%"))
		pad := mulClamp(int64(strings.Count(format, "*")), 1_000_000)
		for _, run := range digitRuns.FindAllString(format, -1) {
			if len(run) > 7 {
				run = "1000000"
			}
			var n int64
			fmt.Sscan(run, &n)
			pad = addClamp(pad, min(n, 1_000_000))
		}
		return addClamp(int64(len(format)), mulClamp(verbs, size(ops[1], 0)), pad), 0
	},
	"array.concat": func(ops []*ast.Term) (int64, int64) { return 0, addClamp(items(ops[0]), items(ops[1])) },
	"union": func(ops []*ast.Term) (int64, int64) {
		var n int64
		forEach(ops[0], func(t *ast.Term) { n = addClamp(n, items(t)) })
		return 0, n
	},
	"object.union": func(ops []*ast.Term) (int64, int64) { return 0, addClamp(items(ops[0]), items(ops[1])) },
	"object.union_n": func(ops []*ast.Term) (int64, int64) {
		var n int64
		forEach(ops[0], func(t *ast.Term) { n = addClamp(n, items(t)) })
		return 0, n
	},
	"split": func(ops []*ast.Term) (int64, int64) {
		s, d := strOf(ops[0]), strOf(ops[1])
		if d == "" {
			return int64(len(s)), int64(len(s)) + 1
		}
		return int64(len(s)), int64(strings.Count(s, d)) + 1
	},
	"walk": func(ops []*ast.Term) (int64, int64) {
		// every path to every value: at most values × depth items
		return 0, size(ops[0], 0)
	},
}

func init() {
	for _, name := range []string{"json.marshal", "json.marshal_with_options", "yaml.marshal", "base64.encode", "base64url.encode", "base64url.encode_no_pad", "hex.encode", "urlquery.encode_object"} {
		estimates[name] = func(ops []*ast.Term) (int64, int64) {
			// The serialised form of the operand, indentation included (size weighs depth), base64's 4/3.
			return mulClamp(size(ops[0], 0), 2), 0
		}
	}
	for _, name := range []string{"regex.split", "regex.find_n", "regex.find_all_string_submatch_n", "indexof_n"} {
		estimates[name] = func(ops []*ast.Term) (int64, int64) {
			var s string
			for _, op := range ops {
				if v, ok := op.Value.(ast.String); ok && len(v) > len(s) {
					s = string(v)
				}
			}
			return int64(len(s)), int64(len(s)) + 1
		}
	}
	wrapAll()
}

// numeric builtins whose operands must stay within maxDigits digits.
var numeric = map[string]bool{"plus": true, "minus": true, "mul": true, "div": true, "rem": true, "abs": true,
	"round": true, "ceil": true, "floor": true, "sum": true, "product": true, "max": true, "min": true,
	"bits.and": true, "bits.or": true, "bits.xor": true, "bits.negate": true, "bits.lsh": true, "bits.rsh": true,
	"format_int": true, "to_number": true, "units.parse": true, "units.parse_bytes": true}

// wrapAll replaces every builtin OPA implements with one that checks its operands and its result against the
// value budgets. OPA's builtins live in one process-wide table, so this is done once, at start.
func wrapAll() {
	for _, b := range ast.Builtins {
		orig := topdown.GetBuiltin(b.Name)
		if orig == nil {
			continue
		}
		name := b.Name
		est := estimates[name]
		isNumeric := numeric[name]
		topdown.RegisterBuiltinFunc(name, func(bctx topdown.BuiltinContext, ops []*ast.Term, iter func(*ast.Term) error) error {
			l := limitsOf(bctx.Context)
			if isNumeric {
				if err := checkNumbers(bctx.Context, name, ops); err != nil {
					return err
				}
			}
			if est != nil {
				bytes, n := est(ops)
				if l.RegoValueBytes > 0 && bytes > l.RegoValueBytes {
					return valueError(bctx.Context, "rego-value-bytes", fmt.Sprintf("%s would return about %d bytes", name, bytes))
				}
				if l.RegoValueItems > 0 && n > l.RegoValueItems {
					return valueError(bctx.Context, "rego-value-items", fmt.Sprintf("%s would return about %d values", name, n))
				}
			}
			return orig(bctx, ops, func(t *ast.Term) error {
				if err := checkResult(bctx.Context, name, t, l); err != nil {
					return err
				}
				return iter(t)
			})
		})
	}
}

// checkResult refuses a result larger than the value budgets (its top level: deeper values were checked when
// they were built).
func checkResult(ctx context.Context, name string, t *ast.Term, lim budget.Limits) error {
	if t == nil { // print and other builtins without a result
		return nil
	}
	switch v := t.Value.(type) {
	case ast.String:
		if lim.RegoValueBytes > 0 && int64(len(v)) > lim.RegoValueBytes {
			return valueError(ctx, "rego-value-bytes", fmt.Sprintf("%s returned %d bytes", name, len(v)))
		}
	case ast.Number:
		if len(v) > maxDigits*2+16 {
			return valueError(ctx, "rego-value-bytes", fmt.Sprintf("%s returned a number of %d digits", name, len(v)))
		}
	case *ast.Array, ast.Set, ast.Object:
		if n := items(t); lim.RegoValueItems > 0 && n > lim.RegoValueItems {
			return valueError(ctx, "rego-value-items", fmt.Sprintf("%s returned %d values", name, n))
		}
	}
	return nil
}

// checkNumbers refuses arithmetic on numbers with more than maxDigits digits and shifts beyond maxShift.
func checkNumbers(ctx context.Context, name string, ops []*ast.Term) error {
	var bad bool
	var visit func(t *ast.Term)
	visit = func(t *ast.Term) {
		switch v := t.Value.(type) {
		case ast.Number:
			if len(v) > maxDigits {
				bad = true
			}
		case *ast.Array, ast.Set:
			forEach(t, visit)
		}
	}
	for _, op := range ops {
		visit(op)
	}
	if bad {
		return valueError(ctx, "rego-value-bytes", fmt.Sprintf("%s on a number of more than %d digits", name, maxDigits))
	}
	if name == "bits.lsh" && len(ops) > 1 {
		if n, ok := ops[1].Value.(ast.Number); ok {
			if i, ok := new(big.Int).SetString(string(n), 10); !ok || i.Cmp(big.NewInt(maxShift)) > 0 {
				return valueError(ctx, "rego-value-bytes", fmt.Sprintf("bits.lsh by %s bits", n))
			}
		}
	}
	return nil
}

func strOf(t *ast.Term) string {
	if s, ok := t.Value.(ast.String); ok {
		return string(s)
	}
	return ""
}

// intOf reads an integer operand, clamped to ±1<<62 (0 when it is not an integer).
func intOf(t *ast.Term) int64 {
	n, ok := t.Value.(ast.Number)
	if !ok {
		return 0
	}
	if i, ok := n.Int64(); ok {
		return max(min(i, 1<<62), -(1 << 62))
	}
	f, ok := new(big.Float).SetString(string(n))
	if !ok {
		return 0
	}
	if f.Sign() < 0 {
		return -(1 << 62)
	}
	return 1 << 62
}

func absDiff(a, b int64) int64 {
	if a > b {
		a, b = b, a
	}
	if b-a < 0 { // overflow
		return 1 << 62
	}
	return b - a
}

func items(t *ast.Term) int64 {
	switch v := t.Value.(type) {
	case *ast.Array:
		return int64(v.Len())
	case ast.Set:
		return int64(v.Len())
	case ast.Object:
		return int64(v.Len())
	}
	return 0
}

func forEach(t *ast.Term, fn func(*ast.Term)) {
	switch v := t.Value.(type) {
	case *ast.Array:
		v.Foreach(fn)
	case ast.Set:
		v.Foreach(fn)
	case ast.Object:
		v.Foreach(func(_, val *ast.Term) { fn(val) })
	}
}

// size estimates the serialised size of a value, indentation included (depth counts for every value).
func size(t *ast.Term, depth int64) int64 {
	switch v := t.Value.(type) {
	case ast.String:
		return int64(len(v)) + 2 + depth
	case ast.Number:
		return int64(len(v)) + depth
	case *ast.Array, ast.Set:
		s := int64(2)
		forEach(t, func(e *ast.Term) { s = addClamp(s, size(e, depth+1), 2) })
		return s
	case ast.Object:
		s := int64(2)
		v.Foreach(func(k, val *ast.Term) { s = addClamp(s, size(k, depth+1), size(val, depth+1), 2) })
		return s
	}
	return 5 + depth
}

func mulClamp(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > (1<<62)/b {
		return 1 << 62
	}
	return a * b
}

func addClamp(vals ...int64) int64 {
	var s int64
	for _, v := range vals {
		if v > (1<<62)-s {
			return 1 << 62
		}
		s += v
	}
	return s
}
