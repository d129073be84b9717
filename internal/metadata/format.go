package metadata

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/cocogen/cocogen/internal/node"
)

// Format writes m as a commented metadata file meant to be committed: every known fact with a comment saying
// what it becomes or where it comes from, the unknown ones commented out with an example. header lines become
// comments at the top. Format(m) read back with Parse gives the same Facts.
func Format(m *Metadata, header ...string) []byte {
	var b bytes.Buffer
	for _, h := range header {
		b.WriteString(strings.TrimRight("# "+h, " "))
		b.WriteByte('\n')
	}
	b.WriteString("apiVersion: " + APIVersion + "\n")
	b.WriteString("kind: " + Kind + "\n")
	set := m.Facts()
	for _, s := range sections {
		writeMap(&b, s, 0, set)
	}
	return b.Bytes()
}

// writeMap writes the map at prefix (a section or a nested map) at the given depth, or comments it out whole
// when none of its facts is set.
func writeMap(b *bytes.Buffer, prefix string, depth int, set map[string]string) {
	indent := strings.Repeat("  ", depth)
	key := prefix[strings.LastIndexByte(prefix, '.')+1:]
	if !anySet(prefix, set) {
		for _, line := range commentedMap(prefix, depth) {
			b.WriteString(line + "\n")
		}
		return
	}
	b.WriteString(indent + key + ":\n")
	for _, child := range childKeys(prefix) {
		p := prefix + "." + child
		f, ok := lookupFact(p)
		if !ok {
			writeMap(b, p, depth+1, set)
			continue
		}
		v, isSet := set[p]
		switch {
		case !isSet:
			b.WriteString(indent + "  # " + child + ": " + f.example + "  # " + f.doc + "\n")
		case f.boolean:
			b.WriteString(indent + "  " + child + ": " + v + "  # " + f.doc + "\n")
		default:
			b.WriteString(indent + "  " + child + ": " + yamlString(v) + "  # " + f.doc + "\n")
		}
	}
}

func commentedMap(prefix string, depth int) []string {
	indent := strings.Repeat("  ", depth)
	var out []string
	for _, line := range exampleMap(prefix) {
		out = append(out, indent+"# "+line)
	}
	return out
}

// exampleMap returns the map at prefix as YAML lines filled with the examples.
func exampleMap(prefix string) []string {
	out := []string{prefix[strings.LastIndexByte(prefix, '.')+1:] + ":"}
	for _, child := range childKeys(prefix) {
		p := prefix + "." + child
		f, ok := lookupFact(p)
		if !ok {
			for _, line := range exampleMap(p) {
				out = append(out, "  "+line)
			}
			continue
		}
		out = append(out, "  "+child+": "+f.example+"  # "+f.doc)
	}
	return out
}

func anySet(prefix string, set map[string]string) bool {
	for p := range set {
		if strings.HasPrefix(p, prefix+".") {
			return true
		}
	}
	return false
}

// yamlString writes s plain when YAML reads it back as the same string, else double-quoted.
func yamlString(s string) string {
	if s != "" && !strings.ContainsAny(s, "\n\t\"'") && s == strings.TrimSpace(s) {
		if n, err := node.Parse("", []byte("k: "+s+"\n"), node.DefaultLimits); err == nil {
			if v := n.Get("k"); v != nil && v.Kind == node.String && v.Text == s {
				return s
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
