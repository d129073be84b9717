package crdschema_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema"
	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/node"
)

func parse(t *testing.T, src string) *node.Node {
	t.Helper()
	n, err := node.Parse("object.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// validationCase is one object and what Validate must say about it: nothing (want empty), violations that
// each name a path and part of the message, or an error wrapping ErrNoCRD.
type validationCase struct {
	name   string
	object string
	want   []violation
	noCRD  bool
}

type violation struct{ path, msg string }

func runValidationCases(t *testing.T, s *crdschema.Set, cases []validationCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(parse(t, c.object))
			if c.noCRD {
				if !errors.Is(err, crdschema.ErrNoCRD) {
					t.Fatalf("want an error wrapping ErrNoCRD, got %v", err)
				}
				for _, w := range c.want {
					if !strings.Contains(err.Error(), w.msg) {
						t.Errorf("error %q does not mention %q", err, w.msg)
					}
				}
				return
			}
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got: %v", err)
				}
				return
			}
			var verr *crdschema.Error
			if !errors.As(err, &verr) {
				t.Fatalf("want *crdschema.Error, got %v", err)
			}
			if len(verr.Violations) != len(c.want) {
				t.Errorf("want %d violations, got %d:\n%v", len(c.want), len(verr.Violations), err)
			}
			for _, w := range c.want {
				found := false
				for _, v := range verr.Violations {
					if v.Path.String() == w.path && strings.Contains(v.Msg, w.msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no violation at %s containing %q in:\n%v", w.path, w.msg, err)
				}
			}
		})
	}
}

const application = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: from-git
  namespace: vp-gitops
  labels:
    validatedpatterns.io/pattern: demo
  finalizers:
  - resources-finalizer.argocd.argoproj.io/foreground
spec:
  destination:
    name: in-cluster
    namespace: from-git
  project: default
  source:
    repoURL: https://git.example.com/charts.git
    path: charts/from-git
    targetRevision: v2.0.0
    helm:
      ignoreMissingValueFiles: true
      valueFiles:
      - $patternref/values-global.yaml
      parameters:
      - name: global.originURL
        value: null
  syncPolicy:
    automated: {}
    retry:
      limit: 20
`

const subscription = `apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata:
  name: configured-operator
  namespace: configured
  annotations:
    argocd.argoproj.io/sync-wave: '5'
spec:
  name: configured-operator
  source: redhat-operators
  sourceNamespace: openshift-marketplace
  channel: fast
  installPlanApproval: Manual
  config:
    env:
    - name: LOG_LEVEL
      value: debug
    nodeSelector:
      node-role.kubernetes.io/infra: ''
  startingCSV: null
`

const operatorGroup = `apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata:
  name: configured-operator-group
  namespace: configured
spec:
  targetNamespaces:
  - configured
  upgradeStrategy: Default
`

func TestValidateUpstreamCRDs(t *testing.T) {
	s := crdschematest.Load(t)
	runValidationCases(t, s, []validationCase{
		{name: "valid Application", object: application},
		{name: "valid Subscription", object: subscription},
		{
			name:   "unknown field",
			object: strings.Replace(application, "  source:\n", "  sourc:\n", 1),
			want:   []violation{{"spec.sourc", `unknown field "sourc" (did you mean "source"?)`}},
		},
		{
			name:   "wrong type",
			object: strings.Replace(application, "project: default", "project: 5", 1),
			want:   []violation{{"spec.project", "want string"}},
		},
		{name: "valid OperatorGroup", object: operatorGroup},
		{
			// The Subscription CRD declares installPlanApproval as a plain string (upstream documents
			// "Automatic" or "Manual" but sets no enum), so the enum case uses OperatorGroup's upgrade strategy.
			name:   "bad enum",
			object: strings.Replace(operatorGroup, "upgradeStrategy: Default", "upgradeStrategy: Sometimes", 1),
			want:   []violation{{"spec.upgradeStrategy", "'Default', 'TechPreviewUnsafeFailForward'"}},
		},
		{
			name:   "wrong type in a Subscription",
			object: strings.Replace(subscription, "channel: fast", "channel: {name: fast}", 1),
			want:   []violation{{"spec.channel", "want string"}},
		},
		{
			name:   "wrong type in a list item",
			object: strings.Replace(application, "- name: global.originURL", "- name: 7", 1),
			want:   []violation{{"spec.source.helm.parameters[0].name", "want string"}},
		},
		{
			name:   "missing required field",
			object: strings.Replace(application, "    repoURL: https://git.example.com/charts.git\n", "", 1),
			want:   []violation{{"spec.source.repoURL", "required field is missing"}},
		},
		{
			name:   "label value must be a string",
			object: strings.Replace(application, "validatedpatterns.io/pattern: demo", "validatedpatterns.io/pattern: 5", 1),
			want:   []violation{{`metadata.labels.validatedpatterns\.io/pattern`, "want string"}},
		},
		{
			name: "every violation is listed",
			object: strings.NewReplacer("project: default", "project: [a]", "limit: 20", "limit: twenty",
				"  syncPolicy:", "  syncPolicyy: {}\n  syncPolicy:").Replace(application),
			want: []violation{
				{"spec.project", "want string"},
				{"spec.syncPolicy.retry.limit", "want integer"},
				{"spec.syncPolicyy", `did you mean "syncPolicy"?`},
			},
		},
		{
			name:   "unknown kind",
			object: strings.Replace(application, "kind: Application", "kind: Applicaton", 1),
			noCRD:  true,
			want:   []violation{{msg: "argoproj.io/v1alpha1 Applicaton"}},
		},
		{
			name:   "unknown version names the served ones",
			object: strings.Replace(application, "argoproj.io/v1alpha1", "argoproj.io/v1", 1),
			noCRD:  true,
			want:   []violation{{msg: "served versions of Application: argoproj.io/v1alpha1"}},
		},
	})
}

// TestEveryServedKindCompiles compiles the schema of every kind in the folder, concurrently, by validating an
// object that has only apiVersion, kind and metadata: the answer must be valid or a list of violations, never a
// schema that fails to compile.
func TestEveryServedKindCompiles(t *testing.T) {
	s := crdschematest.Load(t)
	kinds := s.Kinds()
	if len(kinds) == 0 {
		t.Fatal("no CRDs found")
	}
	for _, k := range kinds {
		t.Run(k.APIVersion+"/"+k.Kind, func(t *testing.T) {
			t.Parallel()
			if !s.Has(k.APIVersion, k.Kind) {
				t.Fatal("Has is false for a kind that Kinds lists")
			}
			obj := node.NewMap().Set("apiVersion", node.NewString(k.APIVersion)).Set("kind", node.NewString(k.Kind)).
				Set("metadata", node.NewMap().Set("name", node.NewString("x")))
			err := s.Validate(obj)
			var verr *crdschema.Error
			if err != nil && !errors.As(err, &verr) {
				t.Fatal(err)
			}
		})
	}
}

// TestValidateConcurrently validates from many goroutines while the schema is being compiled for the first
// time (run with -race).
func TestValidateConcurrently(t *testing.T) {
	s := crdschematest.Load(t)
	good, bad := parse(t, subscription), parse(t, strings.Replace(subscription, "channel: fast", "channel: 1", 1))
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			if i%2 == 0 {
				errs[i] = s.Validate(good)
			} else if s.Validate(bad) == nil {
				errs[i] = errors.New("an invalid Subscription passed")
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestDir(t *testing.T) {
	tmp := t.TempDir()
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv(crdschema.EnvDir, tmp)
		if dir, ok := crdschema.Dir(); dir != tmp || !ok {
			t.Errorf("Dir() = %q, %v; want %q, true", dir, ok, tmp)
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		missing := filepath.Join(tmp, "nope")
		t.Setenv(crdschema.EnvDir, missing)
		if dir, ok := crdschema.Dir(); dir != missing || ok {
			t.Errorf("Dir() = %q, %v; want %q, false", dir, ok, missing)
		}
	})
	t.Run("default beside the repository", func(t *testing.T) {
		t.Setenv(crdschema.EnvDir, "")
		// The test runs in internal/crdschema, two levels below go.mod.
		want, err := filepath.Abs("../../../shared/crds")
		if err != nil {
			t.Fatal(err)
		}
		if dir, _ := crdschema.Dir(); dir != want {
			t.Errorf("Dir() = %q, want %q", dir, want)
		}
	})
}
