package metadata

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Override sets one fact over what the metadata file says: a later source (Argo CD plugin env, a --fact
// flag, a collected value) wins over an earlier one. Pos names the source in diagnostics, for instance
// srcpos.Pos{File: "ARGOCD_ENV_COCOGEN_FACT_AZURE_LOCATION"} or srcpos.Pos{File: "--fact"}.
type Override struct {
	Path  string // a metadata key: azure.location, kbs.trustAnchor.mode
	Value string // the fact as text; "" unsets it
	Pos   srcpos.Pos
}

// ParseOverride reads "path=value" (the value may contain "=" and ","; everything after the first "=" is
// the value).
func ParseOverride(s string, pos srcpos.Pos) (Override, error) {
	path, value, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return Override{}, fmt.Errorf("%q is not KEY=VALUE (e.g. azure.location=eastus)", s)
	}
	return Override{Path: strings.TrimSpace(path), Value: value, Pos: pos}, nil
}

// EnvPrefix starts the name of the Argo CD plugin env entry that overrides a fact: azure.location is
// COCOGEN_FACT_AZURE_LOCATION, which Argo CD passes to the plugin as ARGOCD_ENV_COCOGEN_FACT_AZURE_LOCATION.
const EnvPrefix = "COCOGEN_FACT_"

// EnvName returns the plugin env name (without Argo CD's ARGOCD_ENV_ prefix) that overrides the fact at path:
// the path in upper snake case after EnvPrefix (azure.vnetResourceGroup → COCOGEN_FACT_AZURE_VNET_RESOURCE_GROUP,
// git.repoURL → COCOGEN_FACT_GIT_REPO_URL).
func EnvName(path string) string {
	var b strings.Builder
	b.WriteString(EnvPrefix)
	for i, seg := range strings.Split(path, ".") {
		if i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(upperSnake(seg))
	}
	return b.String()
}

// upperSnake turns a camelCase key into UPPER_SNAKE: vnetResourceGroup → VNET_RESOURCE_GROUP,
// helmRepoURL → HELM_REPO_URL, subscriptionId → SUBSCRIPTION_ID.
func upperSnake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}

// OverrideFromEnv turns one plugin env entry (name without ARGOCD_ENV_) into an override. ok is false for a
// name outside EnvPrefix; a name inside it that names no fact is an error that suggests the closest name.
func OverrideFromEnv(name, value string) (o Override, ok bool, err error) {
	if !strings.HasPrefix(name, EnvPrefix) {
		return Override{}, false, nil
	}
	names := make([]string, 0, len(facts))
	for _, f := range facts {
		env := EnvName(f.path)
		if env == name {
			return Override{Path: f.path, Value: value, Pos: srcpos.Pos{File: "ARGOCD_ENV_" + name}}, true, nil
		}
		names = append(names, env)
	}
	msg := fmt.Sprintf("ARGOCD_ENV_%s names no cluster fact", name)
	if s := schema.Suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else {
		msg += fmt.Sprintf(" (valid: %s)", strings.Join(names, ", "))
	}
	return Override{}, true, fmt.Errorf("%s", msg)
}

// apply sets the overrides into a parsed metadata tree, reporting unknown paths. root must be a map.
func apply(root *node.Node, overrides []Override, c schema.Checker) *node.Node {
	for _, o := range overrides {
		f, ok := lookupFact(o.Path)
		if !ok {
			msg := fmt.Sprintf("unknown cluster fact %q", o.Path)
			if s := schema.Suggest(o.Path, Keys()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += fmt.Sprintf(" (valid: %s)", strings.Join(Keys(), ", "))
			}
			c.Diags.Errorf(o.Pos, "", "%s", msg)
			continue
		}
		p, err := helmvalues.ParsePath(f.path)
		if err != nil {
			panic(err) // the table holds valid paths
		}
		v := helmvalues.StringFromFlag(o.Value, o.Pos)
		switch {
		case o.Value == "":
			v = &node.Node{Kind: node.Null, Pos: o.Pos, Origin: node.FromFlag} // unsets the fact
		case f.boolean && (strings.EqualFold(o.Value, "true") || strings.EqualFold(o.Value, "false")):
			v = helmvalues.ScalarFromFlag(o.Value, o.Pos)
		}
		root = helmvalues.SetPath(root, p, v)
	}
	return root
}
