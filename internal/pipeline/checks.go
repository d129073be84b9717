package pipeline

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/overlay"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// checkRepoURL refuses a tree whose Applications would name no repository: the clustergroup chart renders
// repoURL: null, which Argo CD rejects only when it syncs.
func checkRepoURL(v *model.Values, d *diag.List) {
	if v.Global.RepoURL != "" {
		return
	}
	for _, a := range v.ClusterGroup.Applications {
		if a.Disabled || a.RepoURL != "" && !a.MultiSource() {
			continue
		}
		d.Errorf(a.Pos, "global.repoURL", "global.repoURL is not set, so the Application of %s would have repoURL: null: set git.repoURL in the cluster metadata (cluster-metadata.yaml, or --fact git.repoURL=URL), or pass --set global.repoURL=URL", a.Key)
		return
	}
}

// rbacKinds take any name that is a valid path segment (system:openshift:… names are common); every other
// kind cocogen renders needs a DNS-1123 subdomain, which the API server asks of most kinds.
var rbacKinds = []string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}

// checkNames refuses objects whose name or namespace the API server would refuse, or that would escape a
// directory when written with --output-dir (../../x): such names come from values or manifests.
func checkNames(objs []manifest.Object, d *diag.List) {
	for _, o := range objs {
		name, ns := o.Name(), o.Namespace()
		var problems []string
		switch {
		case name == "":
			problems = append(problems, "metadata.name is empty")
		case slices.Contains(rbacKinds, o.Kind()):
			problems = append(problems, path.IsValidPathSegmentName(name)...)
			if len(name) > 253 {
				problems = append(problems, "longer than 253 characters")
			}
		case o.Kind() == "Namespace":
			if !plainLabel(name) {
				problems = append(problems, validation.IsDNS1123Label(name)...)
			}
		default:
			if !plainSubdomain(name) {
				problems = append(problems, validation.IsDNS1123Subdomain(name)...)
			}
		}
		if len(problems) > 0 {
			d.Errorf(objectPos(o), "", "%s %q is not a valid Kubernetes name: %s", o.Kind(), name, strings.Join(problems, "; "))
		}
		if ns != "" && !plainLabel(ns) {
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				d.Errorf(objectPos(o, "namespace"), "", "%s %s: namespace %q is not a valid Kubernetes namespace: %s", o.Kind(), name, ns, strings.Join(errs, "; "))
			}
		}
	}
}

// plainLabel reports whether s is plainly a DNS-1123 label: 1 to 63 characters of a-z, 0-9 and '-', starting and
// ending with a letter or digit. It spares the regular expressions of the apimachinery check for the thousands
// of names of a large cluster group; when it says no, that check decides and words the problem.
func plainLabel(s string) bool { return len(s) <= 63 && plainLabelChars(s) }

// plainSubdomain reports whether s is plainly a DNS-1123 subdomain: at most 253 characters of labels joined by
// dots, each label of a-z, 0-9 and '-' that starts and ends with a letter or digit (a subdomain's labels have
// no length limit of their own). Like plainLabel, a fast path in front of the apimachinery check.
func plainSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		if !plainLabelChars(s[start:i]) {
			return false
		}
		start = i + 1
	}
	return true
}

// plainLabelChars is plainLabel without the length limit.
func plainLabelChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// objectPos is where an object's name (or another metadata field) came from: the field's own position when
// it has one, else the values named in the object's Source.
func objectPos(o manifest.Object, field ...string) srcpos.Pos {
	f := "name"
	if len(field) > 0 {
		f = field[0]
	}
	if p := o.Node.Path("metadata", f).Pos; p.File != "" {
		return p
	}
	src, _, _ := strings.Cut(o.Source, " ")
	parts := strings.Split(src, ":")
	if len(parts) >= 3 {
		line, err1 := strconv.Atoi(parts[len(parts)-2])
		col, err2 := strconv.Atoi(parts[len(parts)-1])
		if err1 == nil && err2 == nil {
			return srcpos.Pos{File: strings.Join(parts[:len(parts)-2], ":"), Line: line, Col: col}
		}
	}
	return srcpos.Pos{File: fmt.Sprint(src)}
}

// kustomizeOptions are the kustomize budgets of l.
func kustomizeOptions(l budget.Limits) overlay.Options {
	return overlay.Options{MaxBytes: l.KustomizeBytes, MaxFiles: l.KustomizeFiles, MaxValues: l.KustomizeValues,
		MaxObjects: l.KustomizeObjects, MaxOutputValues: l.KustomizeOutputValues, Node: node.FromBudget(l, nil)}
}

// dedupe writes an object that two sources render identically once, with a warning that names both (Argo CD
// applies such an object once and warns about the repeated resource), and refuses objects that share an ID but
// differ: only one of them could reach the cluster.
func dedupe(objs []manifest.Object, d *diag.List) []manifest.Object {
	out, reps := manifest.Dedupe(objs)
	for _, r := range reps {
		first, second := sourceOf(r.First), sourceOf(r.Second)
		if r.Same {
			d.Warnf(objectPos(r.First), "", "%s is rendered twice, identically, by %s and by %s: it is written once (Argo CD would apply it once and warn about a repeated resource)", r.ID, first, second)
			continue
		}
		d.Errorf(objectPos(r.First), "", "%s is rendered twice with different content (first difference: %s), by %s and by %s: only one of them could reach the cluster; rename one or remove one of the two sources", r.ID, cmp.Or(r.Diff, "the whole object"), first, second)
	}
	return out
}

// sourceOf names where an object comes from: the position of its name when the values give it, else its
// Source (file:line:col and the values path).
func sourceOf(o manifest.Object) string {
	if p := o.Node.Path("metadata", "name").Pos; p.File != "" {
		return p.String()
	}
	if o.Source == "" {
		return "cocogen"
	}
	return o.Source
}
