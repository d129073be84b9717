package install

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/cocogen/cocogen/internal/bootstrap"
)

// kinds are the kinds of the bootstrap objects: resource, scope, and whether an operator's CRD serves it.
var kinds = []struct {
	gvk        schema.GroupVersionKind
	resource   string
	namespaced bool
	operator   bool
}{
	{schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, "namespaces", false, false},
	{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "configmaps", true, false},
	{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}, "clusterrolebindings", false, false},
	{schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1", Kind: "OperatorGroup"}, "operatorgroups", true, false},
	{schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "Subscription"}, "subscriptions", true, false},
	{schema.GroupVersionKind{Group: "argoproj.io", Version: "v1beta1", Kind: "ArgoCD"}, "argocds", true, true},
	{schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}, "applications", true, true},
}

// fakeMapper serves the operator's kinds only after operatorAfter resets (negative: never).
type fakeMapper struct {
	mu            sync.Mutex
	resets        int
	operatorAfter int
}

func (m *fakeMapper) Reset() { m.mu.Lock(); m.resets++; m.mu.Unlock() }

func (m *fakeMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range kinds {
		if k.gvk.GroupKind() != gk {
			continue
		}
		if k.operator && (m.operatorAfter < 0 || m.resets < m.operatorAfter) {
			break
		}
		scope := meta.RESTScopeRoot
		if k.namespaced {
			scope = meta.RESTScopeNamespace
		}
		return &meta.RESTMapping{Resource: k.gvk.GroupVersion().WithResource(k.resource), GroupVersionKind: k.gvk, Scope: scope}, nil
	}
	return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
}

// fakeCluster is a dynamic fake whose server-side apply creates or replaces the object, keeps the
// resourceVersion when nothing changes and persists nothing in a dry run. With argoRunning, an applied
// Application comes back synced and healthy, as if Argo CD had reconciled it.
type fakeCluster struct {
	client      *dynamicfake.FakeDynamicClient
	argoRunning bool
	writes      int // applies that were not dry runs
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	list := map[schema.GroupVersionResource]string{}
	for _, k := range kinds {
		list[k.gvk.GroupVersion().WithResource(k.resource)] = k.gvk.Kind + "List"
	}
	fc := &fakeCluster{client: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), list)}
	tracker := fc.client.Tracker()
	fc.client.PrependReactor("patch", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		p := action.(k8stesting.PatchActionImpl)
		if p.GetPatchType() != types.ApplyPatchType {
			return false, nil, nil
		}
		if p.PatchOptions.FieldManager != FieldManager || p.PatchOptions.Force == nil || !*p.PatchOptions.Force {
			t.Errorf("apply of %s without field manager %s and force", p.GetName(), FieldManager)
		}
		applied := &unstructured.Unstructured{}
		if err := json.Unmarshal(p.GetPatch(), &applied.Object); err != nil {
			return true, nil, err
		}
		if fc.argoRunning && applied.GetKind() == "Application" {
			applied.Object["status"] = map[string]any{"sync": map[string]any{"status": "Synced"}, "health": map[string]any{"status": "Healthy"}}
		}
		gvr, ns, name := p.GetResource(), p.GetNamespace(), p.GetName()
		existing, err := tracker.Get(gvr, ns, name)
		var old *unstructured.Unstructured
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return true, nil, err
		default:
			old = existing.(*unstructured.Unstructured)
			bare := old.DeepCopy()
			bare.SetResourceVersion("")
			if reflect.DeepEqual(bare.Object, applied.Object) {
				return true, old, nil
			}
		}
		rv := 1
		if old != nil {
			rv, _ = strconv.Atoi(old.GetResourceVersion())
			rv++
		}
		applied.SetResourceVersion(strconv.Itoa(rv))
		if len(p.PatchOptions.DryRun) > 0 {
			return true, applied, nil
		}
		fc.writes++
		if old == nil {
			return true, applied, tracker.Create(gvr, applied, ns)
		}
		return true, applied, tracker.Update(gvr, applied, ns)
	})
	return fc
}

func bootstrapObjects(t *testing.T, image string) Options {
	t.Helper()
	objs, err := bootstrap.Objects(bootstrap.Options{RepoURL: "https://github.com/me/cocogen.git", Image: image, PluginYAML: []byte("kind: ConfigManagementPlugin\n")})
	if err != nil {
		t.Fatal(err)
	}
	return Options{Objects: objs, Interval: time.Millisecond}
}

func TestInstallCreatesThenChangesNothing(t *testing.T) {
	fc := newFakeCluster(t)
	c := Cluster{Dynamic: fc.client, Mapper: &fakeMapper{}}
	var progress bytes.Buffer
	o := bootstrapObjects(t, "quay.io/me/cocogen:v1")
	o.Progress = &progress
	r, err := Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Summary(false); got != "8 created" {
		t.Errorf("first install: %q, want 8 created\n%s", got, progress.String())
	}
	if fc.writes != 8 {
		t.Errorf("first install wrote %d objects, want 8", fc.writes)
	}
	if !strings.Contains(progress.String(), "Application vp-gitops/cocogen created\n") {
		t.Errorf("progress does not name the root Application:\n%s", progress.String())
	}

	fc.writes = 0
	r, err = Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Summary(false); got != "8 unchanged: nothing changed" || r.Changed() {
		t.Errorf("second install: %q", got)
	}
	if fc.writes != 0 {
		t.Errorf("second install wrote %d objects, want none", fc.writes)
	}

	// A new image changes the ArgoCD instance only.
	o2 := bootstrapObjects(t, "quay.io/me/cocogen:v2")
	progress.Reset()
	o2.Progress = &progress
	r, err = Run(context.Background(), c, o2)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Summary(false); got != "1 configured, 7 unchanged" || fc.writes != 1 {
		t.Errorf("install with a new image: %q, %d writes", got, fc.writes)
	}
	if !strings.Contains(progress.String(), "ArgoCD vp-gitops/vp-gitops configured\n") {
		t.Errorf("progress does not name the changed object:\n%s", progress.String())
	}
}

func TestInstallDryRunPersistsNothing(t *testing.T) {
	fc := newFakeCluster(t)
	o := bootstrapObjects(t, "quay.io/me/cocogen:v1")
	o.DryRun = true
	r, err := Run(context.Background(), Cluster{Dynamic: fc.client, Mapper: &fakeMapper{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Summary(true); got != "8 would be created" {
		t.Errorf("dry run: %q", got)
	}
	if fc.writes != 0 {
		t.Errorf("a dry run wrote %d objects", fc.writes)
	}
}

func TestInstallWithoutTheOperatorsKinds(t *testing.T) {
	t.Run("without waiting, what needs the operator is pending", func(t *testing.T) {
		fc := newFakeCluster(t)
		o := bootstrapObjects(t, "quay.io/me/cocogen:v1")
		r, err := Run(context.Background(), Cluster{Dynamic: fc.client, Mapper: &fakeMapper{operatorAfter: -1}}, o)
		var pe *PendingError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v, want a PendingError", err)
		}
		if want := "Application (argoproj.io/v1alpha1), ArgoCD (argoproj.io/v1beta1)"; strings.Join(pe.Kinds, ", ") != want {
			t.Errorf("pending kinds %v, want %s", pe.Kinds, want)
		}
		if got := r.Summary(false); got != "6 created, 2 pending" || fc.writes != 6 {
			t.Errorf("%q, %d writes", got, fc.writes)
		}
	})
	t.Run("a dry run reports them as not checked", func(t *testing.T) {
		fc := newFakeCluster(t)
		o := bootstrapObjects(t, "quay.io/me/cocogen:v1")
		o.DryRun = true
		r, err := Run(context.Background(), Cluster{Dynamic: fc.client, Mapper: &fakeMapper{operatorAfter: -1}}, o)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Summary(true); got != "6 would be created, 2 not checked" {
			t.Errorf("%q", got)
		}
	})
	t.Run("waiting applies them once they are served, then waits for the root Application", func(t *testing.T) {
		fc := newFakeCluster(t)
		fc.argoRunning = true
		var progress bytes.Buffer
		o := bootstrapObjects(t, "quay.io/me/cocogen:v1")
		o.Wait, o.Progress = true, &progress
		tries := 0
		o.Secrets = func(context.Context) (bool, string) {
			tries++
			if tries < 3 {
				return false, "secret imperative/vaultkeys not found"
			}
			return true, "stored 8 secrets"
		}
		r, err := Run(context.Background(), Cluster{Dynamic: fc.client, Mapper: &fakeMapper{operatorAfter: 3}}, o)
		if err != nil {
			t.Fatalf("%v\n%s", err, progress.String())
		}
		if got := r.Summary(false); got != "8 created" {
			t.Errorf("%q", got)
		}
		for _, want := range []string{
			"waiting for the kinds Application (argoproj.io/v1alpha1), ArgoCD (argoproj.io/v1beta1) (on OpenShift, OLM serves OperatorGroup and Subscription, and the OpenShift GitOps operator, once it runs, ArgoCD and Application)\n",
			"  Subscription openshift-gitops-operator/openshift-gitops-operator: no status yet (is OLM running?)\n",
			"Application vp-gitops/cocogen created\n",
			"  Application vp-gitops/cocogen: Synced, Healthy\n",
			"  secrets: secret imperative/vaultkeys not found\n",
			"  secrets: stored 8 secrets\n",
			"Application vp-gitops/cocogen synced and healthy\n",
		} {
			if !strings.Contains(progress.String(), want) {
				t.Errorf("progress does not say %q:\n%s", want, progress.String())
			}
		}
		if tries != 3 {
			t.Errorf("the secrets were tried %d times, want until they are loaded (3)", tries)
		}
		for _, line := range []string{"no status yet (is OLM running?)", "waiting for the kinds", "vaultkeys not found"} {
			if n := strings.Count(progress.String(), line); n != 1 {
				t.Errorf("%q is printed %d times, want once while nothing changes", line, n)
			}
		}
	})
	t.Run("waiting stops at the timeout and says for what", func(t *testing.T) {
		fc := newFakeCluster(t)
		o := bootstrapObjects(t, "quay.io/me/cocogen:v1")
		o.Wait, o.Timeout = true, 20*time.Millisecond
		_, err := Run(context.Background(), Cluster{Dynamic: fc.client, Mapper: &fakeMapper{}}, o)
		var te *TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("err = %v, want a TimeoutError", err)
		}
		if want := "Application vp-gitops/cocogen to be synced and healthy (now unknown, unknown: no status yet (is the Argo CD application controller running?))"; te.Waiting != want {
			t.Errorf("waiting for %q, want %q", te.Waiting, want)
		}
	})
}

// TestSameObjectIgnoresBeforeFirstApply: the API server attributes a Namespace's server-set label and finalizers
// to before-first-apply at the next apply (seen on kube-apiserver v1.37.2), which changes nothing a user sees;
// a second install must not write for it. Any other difference counts.
func TestSameObjectIgnoresBeforeFirstApply(t *testing.T) {
	mf := func(managers ...string) []any {
		var out []any
		for i, m := range managers {
			out = append(out, map[string]any{"manager": m, "operation": "Apply", "time": "2026-12-07T15:12:0" + strconv.Itoa(i) + "Z"})
		}
		return out
	}
	obj := func(rv string, managers []any, label string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": "vp-gitops", "resourceVersion": rv, "managedFields": managers, "labels": map[string]any{"a": label}}}}
	}
	live := obj("210", mf("cocogen"), "x")
	if !sameObject(live, obj("210", mf("before-first-apply", "cocogen"), "x")) {
		t.Error("a before-first-apply entry counts as a change")
	}
	if sameObject(live, obj("210", mf("kubectl", "cocogen"), "x")) {
		t.Error("a new field manager does not count as a change")
	}
	if sameObject(live, obj("210", mf("cocogen"), "y")) {
		t.Error("a changed label does not count as a change")
	}
}
