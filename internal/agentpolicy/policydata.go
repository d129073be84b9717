package agentpolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/regocheck"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// The policy_data contract.
//
// A policy keeps the data its rules consult in one rule, written exactly as
//
//	policy_data := {
//	  ...JSON...
//	}
//
// as the last thing in the file: Trustee's attestation service finds the first "policy_data := {" in the
// init-data policy.rego and parses everything from that brace to the end of the file as JSON
// (attestation-service extract_policy_data); if that works, the attestation token carries it as
// init_data_claims.agent_policy_claims. So the block must be plain JSON (no trailing commas, no comments, no Rego
// terms), and only whitespace may follow it. Validate enforces this.
//
// The exec allow-list lives where genpolicy keeps it:
//
//	policy_data.request_defaults.ExecProcessRequest.allowed_commands = [[argv...], ...]
//
// Each entry is compared with input.process.Args as a whole (same program, same arguments, same order).
// Finalize appends the entries the values add to that list and writes the block back in one canonical form:
// JSON with keys sorted and two-space indentation, then a newline. Sources are kept in that form, so that
// Finalize without extra entries returns them byte for byte.
const policyDataStart = "policy_data := {"

const policyDataRule = "policy_data"

// allowListPath is where Finalize adds exec entries inside policy_data.
var allowListPath = []string{"request_defaults", "ExecProcessRequest", "allowed_commands"}

// ExecCommand is one argv the values allow a policy to exec, with the place it was written (for diagnostics).
type ExecCommand struct {
	Args []string
	Pos  srcpos.Pos
}

// PolicyData is what the render adds to a policy's policy_data block.
type PolicyData struct {
	// Exec are appended to the exec allow-list (policy_data.request_defaults.ExecProcessRequest.allowed_commands).
	Exec []ExecCommand
	// Containers replace policy_data.containers, when the block has that key: the containers the workloads
	// that use the policy declare. A policy whose policy_data has no containers key does not check
	// containers, and gets none.
	Containers []Container
}

// Finalize returns the policy text the guest receives: src with data.Exec appended to the exec allow-list of
// its policy_data block (entries already in the list are dropped, with a warning), data.Containers as
// policy_data.containers (sorted by workload and name), the block rewritten in canonical form, and the result
// checked with Validate. The same inputs always give the same bytes. A policy without a policy_data block is
// returned unchanged when data.Exec is empty. Adding exec entries to a policy whose policy_data has no
// allow-list key is an error: the key (an empty list will do) is how a policy says that its rules honour the
// list. The text is nil when the list has errors.
func Finalize(name string, src []byte, data PolicyData, o Options) ([]byte, *diag.List) {
	d := &diag.List{}
	for _, c := range data.Exec {
		checkArgv(c, d)
	}
	if d.HasErrors() {
		return nil, d
	}
	out, ok := extend(name, guestPackage(src), data, d)
	if !ok {
		return nil, d
	}
	d.Append(Validate(name, out, o))
	if d.HasErrors() {
		return nil, d
	}
	return out, d
}

// ChecksContainers reports whether the policy src keeps a policy_data.containers list, that is, whether its
// rules admit only the containers Finalize writes there.
func ChecksContainers(src []byte) bool {
	start := bytes.Index(src, []byte(policyDataStart))
	if start < 0 {
		return false
	}
	data, err := decodePolicyData(src[start+len(policyDataStart)-1:])
	if err != nil {
		return false
	}
	_, ok := data[policyDataContainers]
	return ok
}

func checkArgv(c ExecCommand, d *diag.List) {
	if len(c.Args) == 0 {
		d.Errorf(c.Pos, "", "an exec allow-list entry needs at least the program to run")
		return
	}
	for i, a := range c.Args {
		if !utf8.ValidString(a) {
			d.Errorf(c.Pos, "", "argument %d of the exec allow-list entry is not valid UTF-8", i)
		}
		if strings.ContainsRune(a, 0) {
			d.Errorf(c.Pos, "", "argument %d of the exec allow-list entry contains a NUL character, which no process argument can hold", i)
		}
	}
}

// extend rewrites the policy_data block with pd added. It reports problems with the block itself through d
// and returns false when the text cannot be produced.
func extend(name string, src []byte, pd PolicyData, d *diag.List) ([]byte, bool) {
	exec := pd.Exec
	start := bytes.Index(src, []byte(policyDataStart))
	if start < 0 {
		if len(exec) > 0 {
			d.Errorf(exec[0].Pos, "", "policy %s has no `%s` block with an exec allow-list (policy_data.%s) to add this entry to", name, policyDataStart, strings.Join(allowListPath, "."))
			return nil, false
		}
		return src, true
	}
	brace := start + len(policyDataStart) - 1
	data, err := decodePolicyData(src[brace:])
	if err != nil {
		d.Errorf(offsetPos(name, src, brace+jsonErrorOffset(err)), "", "policy_data is not plain JSON: %v", err)
		return nil, false
	}
	if len(exec) > 0 && !hasAllowList(data) {
		d.Errorf(exec[0].Pos, "", "policy %s has no exec allow-list (policy_data.%s) to add this entry to", name, strings.Join(allowListPath, "."))
		return nil, false
	}
	if len(exec) > 0 {
		list, err := allowList(data)
		if err != nil {
			d.Errorf(offsetPos(name, src, start), "", "%v", err)
			return nil, false
		}
		for _, c := range exec {
			if slices.ContainsFunc(list, func(have []string) bool { return slices.Equal(have, c.Args) }) {
				d.Warnf(c.Pos, "", "%q is already in the exec allow-list of %s", strings.Join(c.Args, " "), name)
				continue
			}
			list = append(list, c.Args)
		}
		setAllowList(data, list)
	}
	if _, ok := data[policyDataContainers]; ok {
		list := make([]any, 0, len(pd.Containers))
		for _, c := range sortContainers(pd.Containers) {
			list = append(list, c.value())
		}
		data[policyDataContainers] = list
	}
	var out bytes.Buffer
	out.Write(src[:start])
	out.WriteString("policy_data := ")
	enc := newJSONEncoder(&out, "  ")
	if err := enc.Encode(data); err != nil {
		d.Errorf(offsetPos(name, src, start), "", "write policy_data: %v", err)
		return nil, false
	}
	return out.Bytes(), true
}

// decodePolicyData reads the JSON object that starts at b[0] and must run to the end of b (whitespace aside),
// as serde_json::from_str does in Trustee.
func decodePolicyData(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	rest := b[dec.InputOffset():]
	if i := bytes.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 {
		return nil, &trailingError{offset: dec.InputOffset() + int64(i), text: firstLine(rest[i:])}
	}
	return data, nil
}

// trailingError is text after the policy_data object.
type trailingError struct {
	offset int64
	text   string
}

func (e *trailingError) Error() string {
	return fmt.Sprintf("only whitespace may follow the policy_data object (Trustee reads JSON from its brace to the end of the file), found %q", e.text)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// jsonErrorOffset is the byte offset (from the opening brace) where a JSON error was found.
func jsonErrorOffset(err error) int {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var tr *trailingError
	switch {
	case errors.As(err, &se):
		return max(int(se.Offset)-1, 0)
	case errors.As(err, &te):
		return max(int(te.Offset)-1, 0)
	case errors.As(err, &tr):
		return int(tr.offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return 0
	}
	return 0
}

// offsetPos converts a byte offset in src into a position (columns count characters).
func offsetPos(name string, src []byte, off int) srcpos.Pos {
	off = min(max(off, 0), len(src))
	before := src[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return srcpos.Pos{File: name, Line: line, Col: utf8.RuneCount(before[lineStart:]) + 1}
}

func hasAllowList(data map[string]any) bool {
	var cur any = data
	for _, k := range allowListPath {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

// allowList reads policy_data.request_defaults.ExecProcessRequest.allowed_commands.
func allowList(data map[string]any) ([][]string, error) {
	var cur any = data
	for i, k := range allowListPath {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy_data.%s is not an object", strings.Join(allowListPath[:i], "."))
		}
		cur = m[k]
	}
	raw, ok := cur.([]any)
	if !ok {
		return nil, fmt.Errorf("policy_data.%s must be an array of argv arrays", strings.Join(allowListPath, "."))
	}
	list := make([][]string, 0, len(raw))
	for i, e := range raw {
		args, ok := e.([]any)
		if !ok {
			return nil, fmt.Errorf("policy_data.%s[%d] must be an array of strings (one argv)", strings.Join(allowListPath, "."), i)
		}
		argv := make([]string, len(args))
		for j, a := range args {
			if argv[j], ok = a.(string); !ok {
				return nil, fmt.Errorf("policy_data.%s[%d][%d] must be a string", strings.Join(allowListPath, "."), i, j)
			}
		}
		list = append(list, argv)
	}
	return list, nil
}

// setAllowList replaces the allow-list, which allowList has found.
func setAllowList(data map[string]any, list [][]string) {
	m := data
	for _, k := range allowListPath[:len(allowListPath)-1] {
		m = m[k].(map[string]any)
	}
	m[allowListPath[len(allowListPath)-1]] = list
}

// checkPolicyData enforces the policy_data contract above on a parsed policy.
func (v *validator) checkPolicyData(mod *ast.Module) {
	var rules []*ast.Rule
	for _, r := range mod.Rules {
		if regocheck.RuleName(r) == policyDataRule {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return
	}
	pd := rules[0]
	if len(rules) > 1 {
		for _, r := range rules[1:] {
			v.Errorf(r.Location, "policy_data is already defined at line %d: keep it in one `%s` block at the end of the policy", pd.Location.Row, policyDataStart)
		}
		return
	}
	for _, r := range mod.Rules {
		if after(r.Location, pd.Location) && regocheck.RuleName(r) != policyDataRule {
			v.Errorf(pd.Location, "policy_data must be the last rule of the policy (Trustee reads it as JSON to the end of the file), but %s follows at line %d", regocheck.RuleName(r), r.Location.Row)
			return
		}
	}
	start := bytes.Index(v.src, []byte(policyDataStart))
	if start < 0 {
		v.Errorf(pd.Location, "write policy_data as `%s` (one space on each side of :=, the brace on the same line): Trustee finds it by that text", policyDataStart)
		return
	}
	if p := offsetPos(v.Name, v.src, start); p.Line != pd.Location.Row || p.Col != pd.Location.Col {
		v.D.Errorf(p, "", "this is the first `%s` in the file, so Trustee takes it for the policy_data rule (line %d): reword it", policyDataStart, pd.Location.Row)
		return
	}
	brace := start + len(policyDataStart) - 1
	if _, err := decodePolicyData(v.src[brace:]); err != nil {
		v.D.Errorf(offsetPos(v.Name, v.src, brace+jsonErrorOffset(err)), "", "policy_data is not plain JSON, so Trustee cannot read it: %v", err)
	}
}

func after(a, b *ast.Location) bool {
	if a == nil || b == nil {
		return false
	}
	return a.Row > b.Row || a.Row == b.Row && a.Col > b.Col
}

// newJSONEncoder writes JSON without HTML escaping (policies hold URLs and shell text, and must read as written).
func newJSONEncoder(w io.Writer, indent string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc
}
