package bootstrap

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen"
	"github.com/cocogen/cocogen/internal/crdschema"
	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

var update = flag.Bool("update", false, "rewrite the files in deploy/")

func options() Options {
	return Options{RepoURL: "https://github.com/me/cocogen.git", Revision: "coco-test", ClusterGroup: "azure",
		Image: "quay.io/me/cocogen:v0.1.0", PluginYAML: cocogen.PluginYAML}
}

func TestObjectsValidateAgainstCRDs(t *testing.T) {
	s := crdschematest.Load(t)
	objs, err := Objects(options())
	if err != nil {
		t.Fatal(err)
	}
	validated := map[string]bool{}
	for _, o := range objs {
		if !s.Has(o.APIVersion(), o.Kind()) {
			continue
		}
		if err := s.Validate(o.Node); err != nil {
			var verr *crdschema.Error
			if errors.As(err, &verr) {
				t.Errorf("%v", err)
			} else {
				t.Errorf("%s: %v", o.ID(), err)
			}
		}
		validated[o.Kind()] = true
	}
	for _, kind := range []string{"ArgoCD", "Application", "Subscription", "OperatorGroup"} {
		if !validated[kind] {
			t.Errorf("no %s was validated against its CRD", kind)
		}
	}
}

func TestObjects(t *testing.T) {
	objs, err := Objects(options())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*node.Node{}
	for _, o := range objs {
		byID[o.Kind()+" "+o.Namespace()+"/"+o.Name()] = o.Node
	}
	app := byID["Application vp-gitops/cocogen"]
	if app == nil {
		t.Fatalf("no root Application in %v", keys(byID))
	}
	if got := app.Path("spec", "source", "repoURL").Scalar(); got != "https://github.com/me/cocogen.git" {
		t.Errorf("root Application renders %s, want the fork", got)
	}
	if got := app.Path("spec", "source", "targetRevision").Scalar(); got != "coco-test" {
		t.Errorf("root Application follows %s, want the branch", got)
	}
	if got := app.Path("spec", "source", "plugin", "name").Scalar(); got != PluginName {
		t.Errorf("root Application uses plugin %q", got)
	}
	if app.Path("spec", "syncPolicy", "automated", "prune").Truthy() {
		t.Errorf("the root Application must not prune")
	}
	cm := byID["ConfigMap vp-gitops/"+ConfigMapName]
	if cm == nil || cm.Path("data", "plugin.yaml").Scalar() != string(cocogen.PluginYAML) {
		t.Errorf("the ConfigMap does not carry plugin.yaml byte for byte")
	}
	argo := byID["ArgoCD vp-gitops/vp-gitops"]
	if argo == nil {
		t.Fatalf("no ArgoCD vp-gitops in %v", keys(byID))
	}
	sidecars := argo.Path("spec", "repo", "sidecarContainers").Items()
	if len(sidecars) != 1 || !node.Equal(sidecars[0], Sidecar("quay.io/me/cocogen:v0.1.0")) {
		t.Errorf("the ArgoCD's sidecar is not Sidecar(image)")
	}
	sub := byID["Subscription openshift-gitops-operator/openshift-gitops-operator"]
	var env []string
	for _, e := range sub.Path("spec", "config", "env").Items() {
		env = append(env, e.Get("name").Scalar()+"="+e.Get("value").Scalar())
	}
	if strings.Join(env, " ") != "ARGOCD_CLUSTER_CONFIG_NAMESPACES=vp-gitops DISABLE_DEFAULT_ARGOCD_INSTANCE=true" {
		t.Errorf("the GitOps Subscription's env is %v: the instance must be cluster-scoped", env)
	}
	if byID["ClusterRoleBinding /vp-gitops-cluster-admin-rolebinding"] == nil {
		t.Errorf("no ClusterRoleBinding for the application controller")
	}
}

// TestSidecar checks the container contract of the notes on Argo CD's sidecar plugins: the cmp-server from
// the shared var-files volume, the sockets in plugins, an own /tmp, plugin.yaml at the fixed path.
func TestSidecar(t *testing.T) {
	c := Sidecar("img")
	if got := c.Get("command").Items(); len(got) != 1 || got[0].Scalar() != "/var/run/argocd/argocd-cmp-server" {
		t.Errorf("command %v", c.Get("command"))
	}
	mounts := map[string]string{}
	for _, m := range c.Get("volumeMounts").Items() {
		mounts[m.Get("mountPath").Scalar()] = m.Get("name").Scalar() + " " + m.Get("subPath").Scalar()
	}
	want := map[string]string{
		"/var/run/argocd":                 "var-files ",
		"/home/argocd/cmp-server/plugins": "plugins ",
		"/tmp":                            "cmp-tmp ",
		"/home/argocd/cmp-server/config/plugin.yaml": ConfigMapName + " plugin.yaml",
	}
	for p, w := range want {
		if mounts[p] != w {
			t.Errorf("mount %s = %q, want %q", p, mounts[p], w)
		}
	}
	sc := c.Get("securityContext")
	if !sc.Get("runAsNonRoot").Truthy() || !sc.Get("readOnlyRootFilesystem").Truthy() || sc.Get("allowPrivilegeEscalation").Truthy() {
		t.Errorf("securityContext %v", sc)
	}
	vols := map[string]bool{}
	for _, v := range Volumes().Items() {
		vols[v.Get("name").Scalar()] = true
	}
	for _, m := range c.Get("volumeMounts").Items() {
		name := m.Get("name").Scalar()
		if name != "var-files" && name != "plugins" && !vols[name] {
			t.Errorf("volume %s is mounted but not added", name)
		}
		if (name == "var-files" || name == "plugins") && vols[name] {
			t.Errorf("volume %s is added, but the repo-server Deployment already has it: the pod would be invalid", name)
		}
	}
}

func TestRequiredOptions(t *testing.T) {
	_, err := Objects(Options{PluginYAML: cocogen.PluginYAML})
	if err == nil || !strings.Contains(err.Error(), "--repo-url") || !strings.Contains(err.Error(), "--image") {
		t.Errorf("missing repository and image: %v", err)
	}
}

func TestPluginYAMLSurvivesTheClustergroupChart(t *testing.T) {
	if err := CheckPluginYAML(cocogen.PluginYAML); err != nil {
		t.Error(err)
	}
	if err := CheckPluginYAML([]byte("a: {{ .Values.x }}")); err == nil {
		t.Error("a template in plugin.yaml was not reported")
	}
}

// placeholderImage stands for the user's image in deploy/.
const placeholderImage = "quay.io/your-org/cocogen:latest"

// deployFiles are the files of deploy/ and how they are built. They are what an existing Argo CD needs; the
// test keeps them equal to what bootstrap renders (go test ./internal/bootstrap -update rewrites them).
var deployFiles = []struct {
	path, header string
	obj          func() *node.Node
}{
	{
		path: "openshift-gitops/configmap.yaml",
		header: `# The cocogen plugin's plugin.yaml for the sidecar, in the namespace of the Argo CD instance:
#   oc apply -n openshift-gitops -f deploy/openshift-gitops/configmap.yaml
# Generated from plugin.yaml by: go test ./internal/bootstrap -update (do not edit).
`,
		obj: func() *node.Node { return ConfigMap("", cocogen.PluginYAML) },
	},
	{
		path: "openshift-gitops/argocd-patch.yaml",
		header: `# Adds the cocogen sidecar to the repo-server of an OpenShift GitOps ArgoCD instance (argoproj.io/v1beta1).
# The operator already gives the repo-server the copyutil init container (it copies argocd-cmp-server into
# var-files) and the var-files and plugins volumes; this adds the sidecar, its /tmp and the ConfigMap volume.
# Replace the image, then:
#   oc patch argocd openshift-gitops -n openshift-gitops --type merge --patch-file deploy/openshift-gitops/argocd-patch.yaml
# A merge patch replaces lists: if spec.repo.sidecarContainers or spec.repo.volumes already hold entries,
# add these to them with oc edit instead.
# Generated by: go test ./internal/bootstrap -update (do not edit).
`,
		obj: func() *node.Node { return ArgoCDPatch(placeholderImage) },
	},
	{
		path: "validated-patterns/values-cocogen-plugin.yaml",
		header: `# Values for a Validated Patterns pattern whose clustergroup chart renders the cluster group's Argo CD
# (global.singleArgoCD false): merge into values-<group>.yaml. The chart adds the sidecar, its /tmp and the
# ConfigMap argocd-cmp-cocogen with pluginConfig. Replace the image.
# Generated from plugin.yaml by: go test ./internal/bootstrap -update (do not edit).
`,
		obj: func() *node.Node { return ValidatedPatternsValues(placeholderImage, cocogen.PluginYAML) },
	},
}

func TestDeployFiles(t *testing.T) {
	for _, f := range deployFiles {
		t.Run(f.path, func(t *testing.T) {
			var buf bytes.Buffer
			buf.WriteString(f.header)
			node.EncodeYAML(&buf, f.obj())
			path := filepath.Join("..", "..", "deploy", filepath.FromSlash(f.path))
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, buf.Bytes()) {
				t.Errorf("deploy/%s is stale (go test ./internal/bootstrap -update rewrites it)", f.path)
			}
		})
	}
}

func TestArgoCDPatchValidates(t *testing.T) {
	s := crdschematest.Load(t)
	obj := ArgoCDPatch(placeholderImage)
	full := node.NewMap().Set("apiVersion", node.NewString("argoproj.io/v1beta1")).Set("kind", node.NewString("ArgoCD")).
		Set("metadata", node.NewMap().Set("name", node.NewString("openshift-gitops")).Set("namespace", node.NewString("openshift-gitops"))).
		Set("spec", obj.Get("spec"))
	if err := s.Validate(full); err != nil {
		t.Errorf("the ArgoCD patch, applied to an empty ArgoCD: %v", err)
	}
}

func TestEncodingIsStable(t *testing.T) {
	render := func() string {
		objs, err := Objects(options())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		manifest.EncodeYAML(&buf, objs)
		return buf.String()
	}
	if a, b := render(), render(); a != b {
		t.Error("two bootstraps differ")
	}
}

func keys(m map[string]*node.Node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestContainerfile checks the image against the sidecar contract: a static cocogen, plugin.yaml where the
// cmp-server reads it, a non-root user, and no writes outside /tmp.
func TestContainerfile(t *testing.T) {
	data, err := os.ReadFile("../../Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	cf := string(data)
	for _, want := range []string{
		"CGO_ENABLED=0",
		"COPY --from=build /out/cocogen /usr/local/bin/cocogen",
		"COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml",
		"\nUSER 999:999\n",
		"ENV HOME=/tmp",
	} {
		if !strings.Contains(cf, want) {
			t.Errorf("Containerfile lacks %q", want)
		}
	}
	// The final stage must not switch back to root or write into the image at run time.
	final := cf[strings.LastIndex(cf, "\nFROM "):]
	if strings.Contains(final, "\nRUN ") || strings.Contains(final, "VOLUME") {
		t.Errorf("the runtime stage runs commands or declares volumes; it must stay read-only:\n%s", final)
	}
	if !strings.Contains(string(cocogen.PluginYAML), "command: [cocogen, generate]") {
		t.Errorf("plugin.yaml does not run cocogen from PATH, where the image puts it")
	}
}
