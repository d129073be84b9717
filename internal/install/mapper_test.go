package install

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// discoveryServer serves the discovery documents of core v1 (Namespace, ConfigMap with a status-like
// subresource) and of argoproj.io once served is true (a CRD installed later).
func discoveryServer(t *testing.T, served *atomic.Bool, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	docs := map[string]string{
		"/prefix/api/v1": `{"kind":"APIResourceList","groupVersion":"v1","resources":[
			{"name":"namespaces","namespaced":false,"kind":"Namespace"},
			{"name":"namespaces/status","namespaced":false,"kind":"Namespace"},
			{"name":"configmaps","namespaced":true,"kind":"ConfigMap"}]}`,
		"/prefix/apis/argoproj.io/v1alpha1": `{"kind":"APIResourceList","groupVersion":"argoproj.io/v1alpha1","resources":[
			{"name":"applications/status","namespaced":true,"kind":"Application"},
			{"name":"applications","namespaced":true,"kind":"Application"}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/prefix/apis" {
			if served.Load() {
				w.Write([]byte(`{"kind":"APIGroupList","groups":[{"name":"argoproj.io","versions":[{"groupVersion":"argoproj.io/v1alpha1","version":"v1alpha1"}],"preferredVersion":{"groupVersion":"argoproj.io/v1alpha1","version":"v1alpha1"}}]}`))
			} else {
				w.Write([]byte(`{"kind":"APIGroupList","groups":[]}`))
			}
			return
		}
		doc, ok := docs[r.URL.Path]
		if !ok || (r.URL.Path != "/prefix/api/v1" && !served.Load()) {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(doc))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscoveryMapper(t *testing.T) {
	var served atomic.Bool
	var hits atomic.Int32
	srv := discoveryServer(t, &served, &hits)
	m, err := NewDiscoveryMapper(context.Background(), srv.Client(), srv.URL+"/prefix")
	if err != nil {
		t.Fatal(err)
	}

	ns, err := m.RESTMapping(schema.GroupKind{Kind: "Namespace"}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if ns.Resource.Resource != "namespaces" || ns.Scope.Name() != meta.RESTScopeNameRoot {
		t.Errorf("Namespace maps to %v (%s), want namespaces, cluster-scoped", ns.Resource, ns.Scope.Name())
	}
	cm, err := m.RESTMapping(schema.GroupKind{Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Resource.Resource != "configmaps" || cm.Scope.Name() != meta.RESTScopeNameNamespace {
		t.Errorf("ConfigMap maps to %v (%s), want configmaps, namespaced", cm.Resource, cm.Scope.Name())
	}

	app := schema.GroupKind{Group: "argoproj.io", Kind: "Application"}
	if _, err := m.RESTMapping(app, "v1alpha1"); !meta.IsNoMatchError(err) {
		t.Fatalf("Application before its CRD: %v, want a no-match error", err)
	}
	served.Store(true)
	before := hits.Load()
	if _, err := m.RESTMapping(app, "v1alpha1"); !meta.IsNoMatchError(err) {
		t.Fatalf("Application before Reset: %v, want the remembered no-match", err)
	}
	if hits.Load() != before {
		t.Errorf("the mapper asked the server again before Reset")
	}
	m.Reset()
	got, err := m.RESTMapping(app, "v1alpha1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Resource != (schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}) {
		t.Errorf("Application maps to %v, want applications (not the status subresource)", got.Resource)
	}
	if _, err := m.RESTMapping(app, "v1beta1"); !meta.IsNoMatchError(err) {
		t.Errorf("a version the server does not serve: %v, want a no-match error", err)
	}
}
