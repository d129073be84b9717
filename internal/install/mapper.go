package install

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxDiscoveryBytes bounds one discovery document (a resource list of one group version is a few KiB; the
// group list of a large OpenShift cluster well under a MiB).
const maxDiscoveryBytes = 8 << 20

// DiscoveryMapper maps kinds to resources by reading the API server's discovery documents (GET /api/v1, /apis,
// /apis/<group>/<version>), as kubectl does, and remembers what it read until Reset.
//
// It stands in for client-go's discovery client and DeferredDiscoveryRESTMapper, which would link
// client-go's typed scheme (every built-in API group, registered when the program starts) into every cocogen
// command: about 35 MiB more resident memory for a render that never talks to a cluster.
type DiscoveryMapper struct {
	client *http.Client
	host   *url.URL
	ctx    context.Context

	mu        sync.Mutex
	groups    *metav1.APIGroupList
	resources map[string]*metav1.APIResourceList // by group version ("v1", "apps/v1")
}

// NewDiscoveryMapper reads discovery from the API server at host (a URL, possibly with a path prefix) through
// client, which carries the credentials.
func NewDiscoveryMapper(ctx context.Context, client *http.Client, host string) (*DiscoveryMapper, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("API server URL %q: %w", host, err)
	}
	return &DiscoveryMapper{client: client, host: u, ctx: ctx, resources: map[string]*metav1.APIResourceList{}}, nil
}

// Reset forgets what the mapper read, so that kinds a CRD added since are found.
func (m *DiscoveryMapper) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groups = nil
	m.resources = map[string]*metav1.APIResourceList{}
}

// RESTMapping returns the resource of a kind in the first of versions the server serves (in the group's
// preferred version when versions is empty), or a meta.NoKindMatchError when the server serves none.
func (m *DiscoveryMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	candidates, err := m.versions(gk.Group, versions)
	if err != nil {
		return nil, err
	}
	for _, v := range candidates {
		gv := schema.GroupVersion{Group: gk.Group, Version: v}
		list, err := m.resourceList(gv)
		if err != nil {
			return nil, err
		}
		if list == nil {
			continue
		}
		for _, r := range list.APIResources {
			if r.Kind != gk.Kind || strings.Contains(r.Name, "/") {
				continue // subresources (status, scale) share the kind
			}
			scope := meta.RESTScopeRoot
			if r.Namespaced {
				scope = meta.RESTScopeNamespace
			}
			return &meta.RESTMapping{Resource: gv.WithResource(r.Name), GroupVersionKind: gv.WithKind(gk.Kind), Scope: scope}, nil
		}
	}
	return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: candidates}
}

// versions are the versions of group to look in: the requested ones the server serves, or its preferred one.
func (m *DiscoveryMapper) versions(group string, want []string) ([]string, error) {
	if group == "" {
		if len(want) == 0 {
			return []string{"v1"}, nil
		}
		return want, nil
	}
	if m.groups == nil {
		var gl metav1.APIGroupList
		found, err := m.get("/apis", &gl)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("the API server at %s serves no /apis", m.host.Redacted())
		}
		m.groups = &gl
	}
	for _, g := range m.groups.Groups {
		if g.Name != group {
			continue
		}
		if len(want) == 0 {
			return []string{g.PreferredVersion.Version}, nil
		}
		var served []string
		for _, v := range want {
			for _, gv := range g.Versions {
				if gv.Version == v {
					served = append(served, v)
				}
			}
		}
		return served, nil
	}
	return nil, nil
}

// resourceList is the discovery document of one group version; nil when the server does not serve it.
func (m *DiscoveryMapper) resourceList(gv schema.GroupVersion) (*metav1.APIResourceList, error) {
	key := gv.String()
	if l, ok := m.resources[key]; ok {
		return l, nil
	}
	p := "/apis/" + gv.Group + "/" + gv.Version
	if gv.Group == "" {
		p = "/api/" + gv.Version
	}
	var l metav1.APIResourceList
	found, err := m.get(p, &l)
	if err != nil {
		return nil, err
	}
	var res *metav1.APIResourceList
	if found {
		res = &l
	}
	m.resources[key] = res
	return res, nil
}

// get decodes the JSON document at path p of the API server into v; found is false on 404.
func (m *DiscoveryMapper) get(p string, v any) (found bool, err error) {
	u := *m.host
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	req, err := http.NewRequestWithContext(m.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := m.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("discovery %s: %w", p, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("discovery %s: the API server answered %s", p, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return false, fmt.Errorf("discovery %s: %w", p, err)
	}
	if len(body) > maxDiscoveryBytes {
		return false, fmt.Errorf("discovery %s: the document is larger than %d bytes", p, maxDiscoveryBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return false, fmt.Errorf("discovery %s: %w", p, err)
	}
	return true, nil
}
