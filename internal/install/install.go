// Package install puts the objects that start the pattern on a cluster: server-side apply through the
// Kubernetes API (no oc or kubectl), in the order the objects come, deferring those whose kinds the cluster
// does not serve yet (the GitOps operator's ArgoCD and Application) until it does, and then waiting for the
// root Application to be synced and healthy.
package install

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

// FieldManager is the server-side apply field manager of everything cocogen applies.
const FieldManager = "cocogen"

// Mapper maps kinds to resources from what the cluster serves. Reset forgets what it learnt, so that kinds a
// CRD added since are found. client-go's DeferredDiscoveryRESTMapper is one.
type Mapper interface {
	RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error)
	Reset()
}

// Cluster is the API server cocogen talks to.
type Cluster struct {
	Dynamic dynamic.Interface
	Mapper  Mapper
}

// Options say what to apply and how.
type Options struct {
	// Objects are applied in this order (cocogen's sort: Namespaces first).
	Objects []manifest.Object
	// DryRun asks the server to check every object without persisting it (--dry-run=server).
	DryRun bool
	// Wait waits for the kinds that are not served yet and then for the root Applications to be synced and
	// healthy; without it, Run applies what it can and returns.
	Wait bool
	// Timeout bounds all waiting (0: no bound but the context's).
	Timeout time.Duration
	// Interval is the time between two polls while waiting (default 5s).
	Interval time.Duration
	// Progress receives one line per step; never a Secret's data (the bootstrap objects hold none).
	Progress io.Writer
	// Secrets, when set, is tried at every poll while waiting for the root Applications, until it reports
	// done: it loads the pattern's secrets into Vault once Vault runs. status says what it did or waits for.
	Secrets func(ctx context.Context) (done bool, status string)
}

// Outcome is what happened to one object.
type Outcome string

// Outcomes.
const (
	Created   Outcome = "created"
	Changed   Outcome = "configured"
	Unchanged Outcome = "unchanged"
	// NotChecked is a dry-run object whose kind or namespace the cluster does not have yet.
	NotChecked Outcome = "not checked"
	// Pending is an object not applied because its kind is not served yet (without Wait).
	Pending Outcome = "pending"
)

// Result is the outcome of every object, in the order of Options.Objects.
type Result struct {
	IDs      []string
	Outcomes []Outcome
	Reasons  []string // why an object is NotChecked or Pending
}

// Count returns how many objects had outcome o.
func (r *Result) Count(o Outcome) int {
	n := 0
	for _, x := range r.Outcomes {
		if x == o {
			n++
		}
	}
	return n
}

// Changed reports whether anything was (or, in a dry run, would be) created or changed.
func (r *Result) Changed() bool { return r.Count(Created)+r.Count(Changed) > 0 }

// Summary is one line: what happened to how many objects.
func (r *Result) Summary(dryRun bool) string {
	var parts []string
	for _, o := range []Outcome{Created, Changed, Unchanged, NotChecked, Pending} {
		if n := r.Count(o); n > 0 {
			word := string(o)
			if dryRun && (o == Created || o == Changed) {
				word = "would be " + word
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, word))
		}
	}
	s := strings.Join(parts, ", ")
	if !r.Changed() && r.Count(Pending)+r.Count(NotChecked) == 0 {
		s += ": nothing changed"
	}
	return s
}

// TimeoutError is returned when waiting did not finish in time; it says what was still awaited.
type TimeoutError struct {
	After   time.Duration
	Waiting string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for %s", e.After, e.Waiting)
}

// PendingError is returned without Wait when objects could not be applied because their kinds are not served.
type PendingError struct{ Kinds []string }

func (e *PendingError) Error() string {
	return fmt.Sprintf("not applied yet, the cluster does not serve %s %s: run cocogen install again once it does, or with --wait", strings.Join(e.Kinds, ", "), whoServes)
}

// whoServes says where the kinds that install may wait for come from.
const whoServes = "(on OpenShift, OLM serves OperatorGroup and Subscription, and the OpenShift GitOps operator, once it runs, ArgoCD and Application)"

type item struct {
	id  string
	obj *unstructured.Unstructured
	gvk schema.GroupVersionKind
}

// Run applies the objects and, with Wait, waits for them to take effect.
func Run(ctx context.Context, c Cluster, o Options) (*Result, error) {
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	start := time.Now()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	items := make([]item, len(o.Objects))
	for i, obj := range o.Objects {
		u, err := toUnstructured(obj.Node)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", obj.ID(), err)
		}
		id := obj.Kind() + " " + obj.Name()
		if obj.Namespace() != "" {
			id = obj.Kind() + " " + obj.Namespace() + "/" + obj.Name()
		}
		items[i] = item{id: id, obj: u, gvk: u.GroupVersionKind()}
	}
	r := &Result{IDs: make([]string, len(items)), Outcomes: make([]Outcome, len(items)), Reasons: make([]string, len(items))}
	for i, it := range items {
		r.IDs[i] = it.id
	}
	a := &applier{c: c, o: o}
	creating := map[string]bool{} // namespaces this run creates (dry run: would create)

	lastWait := ""
	todo := make([]int, len(items))
	for i := range items {
		todo[i] = i
	}
	for {
		var left []int
		for _, i := range todo {
			it := items[i]
			out, reason, err := a.apply(ctx, it, creating)
			if err != nil {
				return r, err
			}
			r.Outcomes[i], r.Reasons[i] = out, reason
			if out == Pending {
				left = append(left, i)
				continue
			}
			if it.gvk.Kind == "Namespace" && it.gvk.Group == "" && out == Created {
				creating[it.obj.GetName()] = true
			}
			verb := string(out)
			if o.DryRun && (out == Created || out == Changed) {
				verb = "would be " + verb
			}
			line := fmt.Sprintf("%s %s", it.id, verb)
			if reason != "" {
				line += ": " + reason
			}
			fmt.Fprintln(o.Progress, line)
		}
		todo = left
		if len(todo) == 0 {
			break
		}
		kinds := pendingKinds(items, todo)
		if o.DryRun {
			for _, i := range todo {
				r.Outcomes[i] = NotChecked
				r.Reasons[i] = "the cluster does not serve its kind yet; the GitOps operator installs it"
				fmt.Fprintf(o.Progress, "%s not checked: %s\n", items[i].id, r.Reasons[i])
			}
			break
		}
		if !o.Wait {
			for _, i := range todo {
				fmt.Fprintf(o.Progress, "%s pending: the cluster does not serve its kind yet\n", items[i].id)
			}
			return r, &PendingError{Kinds: kinds}
		}
		what := "the kinds " + strings.Join(kinds, ", ") + " " + whoServes
		if what != lastWait {
			fmt.Fprintf(o.Progress, "waiting for %s\n", what)
			lastWait = what
		}
		if err := a.sleep(ctx, start, what, items); err != nil {
			return r, err
		}
		c.Mapper.Reset()
	}
	if o.DryRun || !o.Wait {
		return r, nil
	}
	return r, a.waitForApplications(ctx, start, items)
}

// pendingKinds names the kinds of the items at idx, once each, in order.
func pendingKinds(items []item, idx []int) []string {
	var kinds []string
	for _, i := range idx {
		k := items[i].gvk.Kind + " (" + items[i].gvk.GroupVersion().String() + ")"
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

type applier struct {
	c Cluster
	o Options
	// last progress line of each watched object, so that a line is printed only when it changes
	seen map[string]string
}

// resource returns the client of the item's resource, or nil when the cluster does not serve its kind.
func (a *applier) resource(it item) (dynamic.ResourceInterface, error) {
	m, err := a.c.Mapper.RESTMapping(it.gvk.GroupKind(), it.gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: find its resource: %w", it.id, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.c.Dynamic.Resource(m.Resource).Namespace(it.obj.GetNamespace()), nil
	}
	return a.c.Dynamic.Resource(m.Resource), nil
}

// apply applies one object: first as a dry run, to tell whether it would change anything; then, unless this
// is a dry run and only when something changes, for real. A second install therefore writes nothing.
func (a *applier) apply(ctx context.Context, it item, creating map[string]bool) (Outcome, string, error) {
	res, err := a.resource(it)
	if err != nil {
		return "", "", err
	}
	if res == nil {
		return Pending, "", nil
	}
	live, err := res.Get(ctx, it.obj.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return "", "", fmt.Errorf("%s: read: %w", it.id, err)
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: []string{metav1.DryRunAll}}
	got, err := res.Apply(ctx, it.obj.GetName(), it.obj, opts)
	if err != nil {
		if a.o.DryRun && creating[it.obj.GetNamespace()] && apierrors.IsNotFound(err) {
			return NotChecked, "its namespace is created by this install (a dry run persists nothing)", nil
		}
		return "", "", fmt.Errorf("%s: server-side apply (dry run): %w", it.id, err)
	}
	if live != nil && sameObject(live, got) {
		return Unchanged, "", nil
	}
	out := Changed
	if live == nil {
		out = Created
	}
	if a.o.DryRun {
		return out, "", nil
	}
	opts.DryRun = nil
	if _, err := res.Apply(ctx, it.obj.GetName(), it.obj, opts); err != nil {
		return "", "", fmt.Errorf("%s: server-side apply: %w", it.id, err)
	}
	return out, "", nil
}

// beforeFirstApply is the manager the API server gives, at the next apply, the fields it set itself when the
// object was created (a Namespace's kubernetes.io/metadata.name label and finalizers): k8s.io/apimachinery
// v0.37.2 pkg/util/managedfields/internal/skipnonapplied.go.
const beforeFirstApply = "before-first-apply"

// sameObject compares two states of an object without what every write changes (resourceVersion, generation,
// the managed fields' timestamps) and without the before-first-apply entry, which a dry run of every apply
// would add and which changes nothing in the object.
func sameObject(live, got *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy().Object
		if m, ok := c["metadata"].(map[string]any); ok {
			delete(m, "resourceVersion")
			delete(m, "generation")
			if mf, ok := m["managedFields"].([]any); ok {
				var kept []any
				for _, e := range mf {
					if em, ok := e.(map[string]any); ok {
						if em["manager"] == beforeFirstApply {
							continue
						}
						delete(em, "time")
					}
					kept = append(kept, e)
				}
				if len(kept) == 0 {
					delete(m, "managedFields")
				} else {
					m["managedFields"] = kept
				}
			}
		}
		return c
	}
	return reflect.DeepEqual(strip(live), strip(got))
}

// sleep waits one interval, or returns a TimeoutError naming what was awaited.
func (a *applier) sleep(ctx context.Context, start time.Time, what string, items []item) error {
	a.reportSubscriptions(ctx, items)
	t := time.NewTimer(a.o.Interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{After: time.Since(start).Round(time.Second), Waiting: what}
		}
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var (
	subscriptions = schema.GroupVersionResource{Group: "operators.coreos.com", Version: "v1alpha1", Resource: "subscriptions"}
	applications  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
)

// reportSubscriptions prints the state of the OLM Subscriptions among the items when it changes: while the
// kinds are missing, that is where the operator's installation shows.
func (a *applier) reportSubscriptions(ctx context.Context, items []item) {
	for _, it := range items {
		if it.gvk.Group != subscriptions.Group || it.gvk.Kind != "Subscription" {
			continue
		}
		s, err := a.c.Dynamic.Resource(subscriptions).Namespace(it.obj.GetNamespace()).Get(ctx, it.obj.GetName(), metav1.GetOptions{})
		var line string
		switch {
		case err != nil:
			line = "cannot read it: " + err.Error()
		default:
			state, _, _ := unstructured.NestedString(s.Object, "status", "state")
			csv, _, _ := unstructured.NestedString(s.Object, "status", "installedCSV")
			switch {
			case state == "" && csv == "":
				line = "no status yet (is OLM running?)"
			case csv != "":
				line = "state " + state + ", installed " + csv
			default:
				line = "state " + state
			}
		}
		a.report(it.id, line)
	}
}

// report prints id: line when it differs from what was printed for id last.
func (a *applier) report(id, line string) {
	if a.seen == nil {
		a.seen = map[string]string{}
	}
	if a.seen[id] == line {
		return
	}
	a.seen[id] = line
	fmt.Fprintf(a.o.Progress, "  %s: %s\n", id, line)
}

// appStatus is an Application's sync and health status, "unknown" where it has none.
func appStatus(u *unstructured.Unstructured) (sync, health string) {
	sync, _, _ = unstructured.NestedString(u.Object, "status", "sync", "status")
	health, _, _ = unstructured.NestedString(u.Object, "status", "health", "status")
	if sync == "" {
		sync = "unknown"
	}
	if health == "" {
		health = "unknown"
	}
	return sync, health
}

// waitForApplications waits until every Application among the items is Synced and Healthy, printing the
// status of every Application in their namespaces (the children the root renders) as it changes.
func (a *applier) waitForApplications(ctx context.Context, start time.Time, items []item) error {
	var roots []item
	for _, it := range items {
		if it.gvk.Group == applications.Group && it.gvk.Kind == "Application" {
			roots = append(roots, it)
		}
	}
	if len(roots) == 0 {
		return nil
	}
	var names []string
	for _, it := range roots {
		names = append(names, "Application "+it.obj.GetNamespace()+"/"+it.obj.GetName())
	}
	fmt.Fprintf(a.o.Progress, "waiting for %s to be synced and healthy\n", strings.Join(names, ", "))
	secretsDone := a.o.Secrets == nil
	for {
		var waiting []string
		if !secretsDone {
			var status string
			secretsDone, status = a.o.Secrets(ctx)
			a.report("secrets", status)
			if !secretsDone {
				waiting = append(waiting, "the secrets to be loaded into Vault ("+status+")")
			}
		}
		namespaces := map[string]bool{}
		for _, it := range roots {
			namespaces[it.obj.GetNamespace()] = true
			u, err := a.c.Dynamic.Resource(applications).Namespace(it.obj.GetNamespace()).Get(ctx, it.obj.GetName(), metav1.GetOptions{})
			if err != nil {
				if ctx.Err() == nil {
					waiting = append(waiting, fmt.Sprintf("Application %s/%s (cannot read it: %v)", it.obj.GetNamespace(), it.obj.GetName(), err))
					continue
				}
			} else {
				sync, health := appStatus(u)
				if sync != "Synced" || health != "Healthy" {
					hint := ""
					if _, ok := u.Object["status"]; !ok {
						hint = ": no status yet (is the Argo CD application controller running?)"
					}
					waiting = append(waiting, fmt.Sprintf("Application %s/%s to be synced and healthy (now %s, %s%s)", it.obj.GetNamespace(), it.obj.GetName(), sync, health, hint))
				}
			}
		}
		for _, ns := range sortedKeys(namespaces) {
			list, err := a.c.Dynamic.Resource(applications).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for _, u := range list.Items {
				sync, health := appStatus(&u)
				a.report("Application "+ns+"/"+u.GetName(), sync+", "+health)
			}
		}
		if len(waiting) == 0 && ctx.Err() == nil {
			fmt.Fprintf(a.o.Progress, "%s synced and healthy\n", strings.Join(names, ", "))
			return nil
		}
		what := strings.Join(waiting, "; ")
		if what == "" {
			what = strings.Join(names, ", ")
		}
		t := time.NewTimer(a.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &TimeoutError{After: time.Since(start).Round(time.Second), Waiting: what}
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// toUnstructured converts a rendered object through its JSON encoding, as the API server would read it.
func toUnstructured(n *node.Node) (*unstructured.Unstructured, error) {
	var buf bytes.Buffer
	if err := node.EncodeJSON(&buf, n, 0); err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
