package crdschema_test

import (
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/node"
)

// TestDefaultsApplyBeforeValidation: the API server defaults a Route's wildcardPolicy to None before it
// checks the CRD's anyOf (host or no Subdomain wildcard), so a Route without host is valid, and one that asks
// for a Subdomain wildcard without a host is not.
func TestDefaultsApplyBeforeValidation(t *testing.T) {
	s := crdschematest.Load(t)
	parse := func(src string) *node.Node {
		n, err := node.Parse("route.yaml", []byte(src), node.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const route = "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r}\nspec:\n  to: {kind: Service, name: s}\n"
	if err := s.Validate(parse(route)); err != nil {
		t.Errorf("a Route without host: %v", err)
	}
	if err := s.Validate(parse(route + "  wildcardPolicy: Subdomain\n")); err == nil {
		t.Error("a Subdomain wildcard without host passed")
	}
}
