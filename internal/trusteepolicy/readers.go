package trusteepolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The resource_readers contract.
//
// The KBS resource policy receives only the token claims and the request, so which init-data profiles may
// fetch which resource has to be written into the policy itself. The source keeps it in one rule, written as
//
//	resource_readers := {
//	  ...JSON...
//	}
//
// as the last thing in the file: an object from every served resource (repository/type/tag) to the sorted
// names of the profiles that may fetch it, or, for a resource that also needs the evidence of other devices
// than the CPU, to {"profiles": [...], "requires": [...]} with the device classes (gpu) whose affirming
// submods the token must carry. RenderResource replaces that object with the one the values give; the
// source's own (usually {}) is for its unit tests.
const (
	// ReadersRule is the rule of the resource policy that RenderResource fills.
	ReadersRule  = "resource_readers"
	readersStart = ReadersRule + " := {"
)

// RenderResource returns the resource policy Trustee receives for the source src (as Render does) with its
// resource_readers object set to readers, written as canonical JSON (keys sorted, two-space indentation,
// each list sorted), then a newline. A resource that requires has device classes for is written as
// {"profiles": [...], "requires": [...]}; every other one as its list of profiles. A policy without a
// resource_readers rule is returned as Render returns it, and hasReaders is false: it does not gate resources
// by profile.
func RenderResource(src []byte, readers, requires map[string][]string) (out []byte, hasReaders bool, err error) {
	rendered, err := Render(src)
	if err != nil {
		return nil, false, err
	}
	start, _, err := readersBlock(rendered)
	if err != nil {
		return nil, false, err
	}
	if start < 0 {
		return rendered, false, nil
	}
	sorted := func(l []string) []string {
		l = slices.Clone(l)
		slices.Sort(l)
		return slices.Compact(l)
	}
	table := map[string]any{}
	for path, profiles := range readers {
		if len(requires[path]) == 0 {
			table[path] = sorted(profiles)
			continue
		}
		table[path] = struct {
			Profiles []string `json:"profiles"`
			Requires []string `json:"requires"`
		}{sorted(profiles), sorted(requires[path])}
	}
	var buf bytes.Buffer
	buf.Write(rendered[:start])
	buf.WriteString(ReadersRule + " := ")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(table); err != nil {
		return nil, false, err
	}
	return buf.Bytes(), true, nil
}

// Readers reads the resource_readers object of a resource policy (as RenderResource writes it). ok is false
// when the policy has none.
func Readers(policy []byte) (readers map[string][]string, ok bool, err error) {
	start, table, err := readersBlock(policy)
	if err != nil || start < 0 {
		return nil, false, err
	}
	return table, true, nil
}

// readersBlock finds the resource_readers rule of src: the offset of its first byte (-1 when there is none)
// and its object, which must be JSON from the brace to the end of the file.
func readersBlock(src []byte) (int, map[string][]string, error) {
	start := bytes.Index(src, []byte(readersStart))
	if start < 0 {
		return -1, nil, nil
	}
	if start > 0 && !bytes.HasSuffix(src[:start], []byte("\n")) {
		return 0, nil, fmt.Errorf("line %d: the first `%s` of the file must start the %s rule, at the start of a line (cocogen finds the rule by that text; a comment may not repeat it)", lineOf(src, start), readersStart, ReadersRule)
	}
	brace := start + len(readersStart) - 1
	dec := json.NewDecoder(bytes.NewReader(src[brace:]))
	var raw map[string]json.RawMessage
	shapeErr := func(err error) error {
		return fmt.Errorf("line %d: %s must be plain JSON, an object from repository/type/tag to a list of profile names (or {\"profiles\": [...], \"requires\": [...]}): %v", lineOf(src, start), ReadersRule, err)
	}
	if err := dec.Decode(&raw); err != nil {
		return 0, nil, shapeErr(err)
	}
	table := make(map[string][]string, len(raw))
	for path, entry := range raw {
		var profiles []string
		if err := json.Unmarshal(entry, &profiles); err == nil {
			table[path] = profiles
			continue
		}
		var long struct {
			Profiles []string `json:"profiles"`
			Requires []string `json:"requires"`
		}
		d := json.NewDecoder(bytes.NewReader(entry))
		d.DisallowUnknownFields()
		if err := d.Decode(&long); err != nil {
			return 0, nil, shapeErr(fmt.Errorf("%s: %v", path, err))
		}
		table[path] = long.Profiles
	}
	if rest := strings.TrimSpace(string(src[brace+int(dec.InputOffset()):])); rest != "" {
		return 0, nil, fmt.Errorf("line %d: %s must be the last rule of the policy (cocogen rewrites it to the end of the file), but %q follows", lineOf(src, start), ReadersRule, firstLine(rest))
	}
	return start, table, nil
}

func lineOf(src []byte, off int) int { return 1 + bytes.Count(src[:off], []byte("\n")) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}
