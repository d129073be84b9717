package workloads

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/podtemplate"
)

func parse(t *testing.T, src string) *node.Node {
	t.Helper()
	n, err := node.Parse("test.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  template:
    metadata:
      annotations:
        coco.io/initdata-profile: %s
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1
          env:
            - name: SECRET_URL
              value: http://127.0.0.1:8006/cdh/resource/default/kbsres1/key3
`

var profiles = map[string]Profile{
	"default": {Encoded: "H4sIAAAAdefault", Algorithm: "sha256", Digest: "aa11"},
	"debug":   {Encoded: "H4sIAAAAdebug", Algorithm: "sha384", Digest: "bb22"},
}

func opts() Options {
	return Options{InitDataAnnotation: initdata.AnnotationInitData, RuntimeClass: RuntimeClassFor("Azure"), Platform: "Azure", App: "demo", Dir: "overlays/demo"}
}

func errorsOf(d *diag.List) []string {
	var out []string
	for _, x := range d.Sorted() {
		if x.Severity == diag.Error {
			out = append(out, x.String())
		}
	}
	return out
}

func TestInjectSetsInitDataAndRuntimeClass(t *testing.T) {
	n := parse(t, strings.Replace(deployment, "%s", "default", 1))
	res, d := Inject([]Object{{Node: n, File: "overlays/demo/deployment.yaml"}}, profiles, opts())
	if errs := errorsOf(d); len(errs) > 0 {
		t.Fatal(errs)
	}
	tmpl := res.Objects[0].Node.Path("spec", "template")
	if got := tmpl.Path("metadata", "annotations", initdata.AnnotationInitData).Scalar(); got != "H4sIAAAAdefault" {
		t.Errorf("init-data annotation = %q", got)
	}
	if tmpl.Path("metadata", "annotations", initdata.AnnotationInitDataRuntime) != nil {
		t.Error("both annotation names set")
	}
	if got := tmpl.Path("metadata", "annotations", AnnotationDigest).Scalar(); got != "sha256:aa11" {
		t.Errorf("digest annotation = %q", got)
	}
	if got := tmpl.Path("spec", "runtimeClassName").Scalar(); got != "kata-remote" {
		t.Errorf("runtimeClassName = %q", got)
	}
	if len(res.Uses) != 1 || res.Uses[0].Profile != "default" || res.Uses[0].Object != "Deployment demo/web" {
		t.Errorf("uses = %+v", res.Uses)
	}
	if len(res.Refs) != 1 || res.Refs[0].Path != "default/kbsres1/key3" {
		t.Errorf("refs = %+v", res.Refs)
	}
	if src := res.Objects[0].Source; !strings.Contains(src, "overlays/demo/deployment.yaml") {
		t.Errorf("source = %q", src)
	}
}

func TestInjectRuntimeAnnotationForOlderKata(t *testing.T) {
	n := parse(t, strings.Replace(deployment, "%s", "debug", 1))
	o := opts()
	o.InitDataAnnotation = initdata.AnnotationInitDataRuntime
	res, d := Inject([]Object{{Node: n}}, profiles, o)
	if errs := errorsOf(d); len(errs) > 0 {
		t.Fatal(errs)
	}
	ann := res.Objects[0].Node.Path("spec", "template", "metadata", "annotations")
	if ann.Get(initdata.AnnotationInitDataRuntime).Scalar() != "H4sIAAAAdebug" || ann.Get(initdata.AnnotationInitData) != nil {
		t.Errorf("annotations = %v", ann)
	}
}

func TestInjectUserValueWins(t *testing.T) {
	src := strings.Replace(deployment, "%s", "default\n        io.katacontainers.config.hypervisor.cc_init_data: mine", 1)
	src = strings.Replace(src, "    spec:\n      containers:", "    spec:\n      runtimeClassName: kata-cc\n      containers:", 1)
	n := parse(t, src)
	res, d := Inject([]Object{{Node: n}}, profiles, opts())
	if errs := errorsOf(d); len(errs) > 0 {
		t.Fatal(errs)
	}
	tmpl := res.Objects[0].Node.Path("spec", "template")
	if got := tmpl.Path("metadata", "annotations", initdata.AnnotationInitData).Scalar(); got != "mine" {
		t.Errorf("user value replaced: %q", got)
	}
	if got := tmpl.Path("spec", "runtimeClassName").Scalar(); got != "kata-cc" {
		t.Errorf("user runtime class replaced: %q", got)
	}
	var warnings []string
	for _, x := range d.Sorted() {
		if x.Severity == diag.Warning {
			warnings = append(warnings, x.Msg)
		}
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0]+warnings[1], "set by hand") {
		t.Errorf("want two warnings about values set by hand, got %q", warnings)
	}
}

// TestInjectUnknownProfileNamesTheManifest: the error is at the annotation's value, whose position the
// object carries (overlay.Sources.Build converts kustomize's nodes with their positions).
func TestInjectUnknownProfileNamesTheManifest(t *testing.T) {
	n, err := node.Parse("overlays/demo/deployment.yaml", []byte(strings.Replace(deployment, "%s", "defualt", 1)), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	_, d := Inject([]Object{{Node: n, File: "overlays/demo/deployment.yaml"}}, profiles, opts())
	errs := errorsOf(d)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "overlays/demo/deployment.yaml:10:35: error:") || !strings.Contains(errs[0], `unknown init-data profile "defualt" (profiles in global.coco.initdata.profiles: debug, default)`) {
		t.Errorf("errors = %q", errs)
	}
}

func TestInjectLeavesOrdinaryPodsAlone(t *testing.T) {
	n := parse(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: plain
spec:
  template:
    spec:
      containers: [{name: c, image: i}]
`)
	res, d := Inject([]Object{{Node: n}}, profiles, opts())
	if d.HasErrors() || len(res.Uses) != 0 {
		t.Fatalf("diags %v uses %v", d.Sorted(), res.Uses)
	}
	if res.Objects[0].Node.Path("spec", "template", "spec", "runtimeClassName") != nil {
		t.Error("runtime class set on a pod that asked for no profile")
	}
}

func TestInjectPodKinds(t *testing.T) {
	cases := map[string]string{
		"Pod": `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {coco.io/initdata-profile: default}
spec:
  containers: [{name: c, image: i}]
`,
		"CronJob": `apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {coco.io/initdata-profile: default}
        spec:
          containers: [{name: c, image: i}]
`,
	}
	for kind, src := range cases {
		t.Run(kind, func(t *testing.T) {
			res, d := Inject([]Object{{Node: parse(t, src)}}, profiles, opts())
			if d.HasErrors() || len(res.Uses) != 1 {
				t.Fatalf("diags %v uses %v", d.Sorted(), res.Uses)
			}
		})
	}
}

func TestInjectMisplacedAnnotation(t *testing.T) {
	n := parse(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  annotations: {coco.io/initdata-profile: default}
spec:
  template:
    spec:
      containers: [{name: c, image: i}]
`)
	_, d := Inject([]Object{{Node: n, File: "x.yaml"}}, profiles, opts())
	if errs := errorsOf(d); len(errs) != 1 || !strings.Contains(errs[0], "put it on the pod template") {
		t.Errorf("errors = %q", errs)
	}
}

func TestInjectUnknownPlatformNeedsRuntimeClass(t *testing.T) {
	n := parse(t, strings.Replace(deployment, "%s", "default", 1))
	o := opts()
	o.RuntimeClass, o.Platform = RuntimeClassFor("VSphere"), "VSphere"
	_, d := Inject([]Object{{Node: n}}, profiles, o)
	if errs := errorsOf(d); len(errs) != 1 || !strings.Contains(errs[0], "spec.runtimeClassName") {
		t.Errorf("errors = %q", errs)
	}
}

func TestResourceRefs(t *testing.T) {
	got := ResourceRefs(`curl http://127.0.0.1:8006/cdh/resource/default/attestation-status/status; image_security_policy_uri = "kbs:///default/security-policy/signed"`)
	want := []string{"default/attestation-status/status", "default/security-policy/signed"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRuntimeClassFor(t *testing.T) {
	for platform, want := range map[string]string{"Azure": "kata-remote", "AWS": "kata-remote", "BareMetal": "kata-cc", "None": "kata-cc", "VSphere": ""} {
		if got := RuntimeClassFor(platform); got != want {
			t.Errorf("%s: %q, want %q", platform, got, want)
		}
	}
}

const podTemplates = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  template:
    metadata:
      annotations:
        coco.io/initdata-profile: secure
    spec:
      shareProcessNamespace: true
      securityContext:
        runAsUser: 1000
        runAsNonRoot: true
      initContainers:
        - name: init
          image: busybox:1.36
          command: [sh, -c]
          args: [echo hi]
      containers:
        - name: web
          image: quay.io/example/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          args: [--port, "8080"]
          securityContext:
            runAsUser: 1001
            privileged: true
            capabilities:
              add: [NET_ADMIN]
              drop: [ALL]
          volumeMounts:
            - {name: data, mountPath: /data}
            - {name: logs, mountPath: /var/log/host}
      volumes:
        - {name: data, emptyDir: {}}
        - {name: logs, hostPath: {path: /var/log}}
---
apiVersion: v1
kind: Pod
metadata:
  name: peer
spec:
  runtimeClassName: kata-remote
  containers:
    - name: c
      image: nginx
      securityContext:
        privileged: "true"
        runAsNonRoot: false
---
apiVersion: batch/v1
kind: Job
metadata:
  name: plain
spec:
  template:
    spec:
      containers:
        - name: c
          image: nginx
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-pod
`

// TestPods reads the pod templates as the manifests declare them: the profile (by annotation, or the peer
// pods' default), the command line, the privileges, the user (container over pod) and the mounts.
func TestPods(t *testing.T) {
	docs, err := node.ParseStream("test.yaml", []byte(podTemplates), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var objs []Object
	for _, d := range docs {
		objs = append(objs, Object{Node: d, File: "overlays/demo/all.yaml"})
	}
	pods := Pods(objs, Defaults{PeerPods: "default", Local: "default"})
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3: %+v", len(pods), pods)
	}
	web, peer, plain := pods[0], pods[1], pods[2]
	if web.Object != "Deployment demo/web" || web.Profile != "secure" || !web.ByAnnotation || !web.ShareProcessNamespace || len(web.Containers) != 2 {
		t.Errorf("web: %+v", web)
	}
	init, c := web.Containers[0], web.Containers[1]
	if !init.Init || !init.HasCommand || strings.Join(init.Command, " ") != "sh -c" || strings.Join(init.Args, " ") != "echo hi" ||
		init.RunAsUser == nil || *init.RunAsUser != 1000 || !init.RunAsNonRoot || init.Privileged {
		t.Errorf("init container: %+v", init)
	}
	if c.Init || c.HasCommand || strings.Join(c.Args, " ") != "--port 8080" || c.RunAsUser == nil || *c.RunAsUser != 1001 ||
		!c.Privileged || strings.Join(c.CapAdd, ",") != "NET_ADMIN" || strings.Join(c.CapDrop, ",") != "ALL" ||
		strings.Join(c.MountPaths, ",") != "/data,/var/log/host" || strings.Join(c.HostPathMounts, ",") != "/var/log/host" {
		t.Errorf("web container: %+v", c)
	}
	if peer.Profile != "default" || peer.ByAnnotation || peer.Containers[0].Privileged || peer.Containers[0].RunAsNonRoot {
		t.Errorf("a peer pod without the annotation runs the default profile; a quoted \"true\" is not a boolean: %+v", peer)
	}
	if plain.Profile != "" {
		t.Errorf("an ordinary pod has no profile: %+v", plain)
	}
	if none := Pods(objs, Defaults{Local: "default"}); none[1].Profile != "" {
		t.Errorf("without peer pods there is no default profile: %+v", none[1])
	}
}

const unannotated = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      runtimeClassName: %s
      containers: [{name: c, image: i}]
`

func annotationsOf(res Result) *node.Node {
	return res.Objects[0].Node.Path("spec", "template", "metadata", "annotations")
}

// TestConfidentialPodsWithoutAProfileCarryTheirDigest: every confidential pod template says which init-data
// it runs, so that a change of that init-data changes the template and rolls the pod. A peer pod gets the
// digest of peer-pods-cm INITDATA and no init-data of its own (the cloud-api-adaptor supplies it); a kata-cc
// pod gets the default profile injected, since Kata on bare metal has no cluster default.
func TestConfidentialPodsWithoutAProfileCarryTheirDigest(t *testing.T) {
	defaults := Defaults{PeerPods: "default", Local: "default"}
	t.Run("peer pod", func(t *testing.T) {
		o := opts()
		o.Defaults = defaults
		res, d := Inject([]Object{{Node: parse(t, strings.Replace(unannotated, "%s", "kata-remote", 1))}}, profiles, o)
		if len(d.Sorted()) > 0 {
			t.Fatal(d.Sorted())
		}
		ann := annotationsOf(res)
		if got := ann.Get(AnnotationDigest).Scalar(); got != "sha256:aa11" {
			t.Errorf("digest = %q, want the default profile's", got)
		}
		if ann.Get(initdata.AnnotationInitData) != nil || ann.Get(initdata.AnnotationInitDataRuntime) != nil {
			t.Errorf("a peer pod without a profile keeps the cluster default; annotations = %v", ann)
		}
		if len(res.Uses) != 0 {
			t.Errorf("uses = %+v", res.Uses)
		}
		// The digest follows the default profile: another default, another digest.
		o.Defaults.PeerPods = "debug"
		res, _ = Inject([]Object{{Node: parse(t, strings.Replace(unannotated, "%s", "kata-remote", 1))}}, profiles, o)
		if got := annotationsOf(res).Get(AnnotationDigest).Scalar(); got != "sha384:bb22" {
			t.Errorf("digest = %q, want the debug profile's", got)
		}
	})
	t.Run("kata-cc", func(t *testing.T) {
		o := opts()
		o.RuntimeClass, o.Platform, o.Defaults = RuntimeClassFor("BareMetal"), "BareMetal", defaults
		res, d := Inject([]Object{{Node: parse(t, strings.Replace(unannotated, "%s", "kata-cc", 1))}}, profiles, o)
		if len(d.Sorted()) > 0 {
			t.Fatal(d.Sorted())
		}
		ann := annotationsOf(res)
		if ann.Get(AnnotationDigest).Scalar() != "sha256:aa11" || ann.Get(initdata.AnnotationInitData).Scalar() != "H4sIAAAAdefault" {
			t.Errorf("annotations = %v", ann)
		}
		if len(res.Uses) != 1 || res.Uses[0].Profile != "default" {
			t.Errorf("uses = %+v", res.Uses)
		}
	})
	t.Run("init-data set by hand", func(t *testing.T) {
		toml := "version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n\"aa.toml\" = \"\"\n"
		enc := initdata.Encode([]byte(toml))
		want, err := initdata.ComputeDigests(initdata.SHA256, []byte(toml))
		if err != nil {
			t.Fatal(err)
		}
		src := strings.Replace(unannotated, "      labels: {app: web}", "      annotations: {io.katacontainers.config.hypervisor.cc_init_data: \""+enc+"\"}", 1)
		o := opts()
		o.Defaults = defaults
		res, d := Inject([]Object{{Node: parse(t, strings.Replace(src, "%s", "kata-remote", 1))}}, profiles, o)
		if len(d.Sorted()) > 0 {
			t.Fatal(d.Sorted())
		}
		if got := annotationsOf(res).Get(AnnotationDigest).Scalar(); got != "sha256:"+want.Digest {
			t.Errorf("digest = %q, want the digest of the value set by hand", got)
		}
	})
	t.Run("digest set by hand is replaced", func(t *testing.T) {
		src := strings.Replace(unannotated, "      labels: {app: web}", "      annotations: {cocogen.io/initdata-digest: \"sha256:0000\"}", 1)
		o := opts()
		o.Defaults = defaults
		res, d := Inject([]Object{{Node: parse(t, strings.Replace(src, "%s", "kata-remote", 1))}}, profiles, o)
		if got := annotationsOf(res).Get(AnnotationDigest).Scalar(); got != "sha256:aa11" {
			t.Errorf("digest = %q", got)
		}
		if w := d.Sorted(); len(w) != 1 || !strings.Contains(w[0].Msg, "set by hand") {
			t.Errorf("diagnostics = %v", w)
		}
	})
	t.Run("unknown default", func(t *testing.T) {
		for _, rc := range []string{"kata-remote", "kata-cc"} {
			res, d := Inject([]Object{{Node: parse(t, strings.Replace(unannotated, "%s", rc, 1))}}, profiles, opts())
			if annotationsOf(res).Get(AnnotationDigest) != nil {
				t.Errorf("%s: a digest without a known default", rc)
			}
			if w := d.Sorted(); len(w) != 1 || w[0].Severity != diag.Warning || !strings.Contains(w[0].Msg, AnnotationProfile) {
				t.Errorf("%s: diagnostics = %v", rc, w)
			}
		}
	})
	t.Run("not confidential", func(t *testing.T) {
		o := opts()
		o.Defaults = defaults
		res, d := Inject([]Object{{Node: parse(t, strings.Replace(unannotated, "%s", "kata", 1))}}, profiles, o)
		if len(d.Sorted()) > 0 || annotationsOf(res) != nil {
			t.Errorf("a kata (not confidential) pod is left alone: %v %v", d.Sorted(), annotationsOf(res))
		}
	})
}

// TestPodsDefaults: the profile a confidential pod without the annotation runs with, as the agent policy's
// container list sees it.
func TestPodsDefaults(t *testing.T) {
	defaults := Defaults{PeerPods: "default", Local: "secure"}
	cases := []struct{ rc, annotations, want string }{
		{"kata-remote", "", "default"},
		{"kata-cc", "", "secure"},
		{"kata", "", ""},
		{"kata-remote", "io.katacontainers.config.hypervisor.cc_init_data: x", ""},
		{"kata-cc", "io.katacontainers.config.runtime.cc_init_data: x", ""},
	}
	for _, c := range cases {
		src := strings.Replace(unannotated, "%s", c.rc, 1)
		if c.annotations != "" {
			src = strings.Replace(src, "      labels: {app: web}", "      annotations: {"+c.annotations+"}", 1)
		}
		pods := Pods([]Object{{Node: parse(t, src)}}, defaults)
		if len(pods) != 1 || pods[0].Profile != c.want || pods[0].ByAnnotation {
			t.Errorf("%s %q: %+v, want profile %q", c.rc, c.annotations, pods, c.want)
		}
	}
}

// TestInjectEveryKindWithAPodTemplate: init-data goes wherever package podtemplate says a kind keeps its pod
// template (the rule review and initdata.Find read it back by), OpenShift's DeploymentConfig and Argo
// Rollouts included.
func TestInjectEveryKindWithAPodTemplate(t *testing.T) {
	for _, kind := range podtemplate.Kinds() {
		path, _ := podtemplate.Path(kind)
		tmpl := node.NewMap().Set("metadata", node.NewMap().Set("annotations", node.NewMap().Set(AnnotationProfile, node.NewString("debug")))).
			Set("spec", node.NewMap().Set("containers", node.NewList(node.NewMap().Set("name", node.NewString("c")).Set("image", node.NewString("i")))))
		obj := tmpl
		for i := len(path) - 1; i >= 0; i-- {
			obj = node.NewMap().Set(path[i], obj)
		}
		obj.Set("kind", node.NewString(kind))
		obj.Set("metadata", node.NewMap().Set("name", node.NewString("w")))
		if len(path) == 0 { // a Pod is its own template
			obj.Get("metadata").Set("annotations", node.NewMap().Set(AnnotationProfile, node.NewString("debug")))
		}
		res, d := Inject([]Object{{Node: obj}}, profiles, opts())
		if d.HasErrors() || len(res.Uses) != 1 {
			t.Errorf("%s: uses %v, diagnostics %v", kind, res.Uses, d.Sorted())
			continue
		}
		got, _ := podtemplate.Of(res.Objects[0].Node)
		if got.Path("metadata", "annotations", initdata.AnnotationInitData).Scalar() != "H4sIAAAAdebug" {
			t.Errorf("%s: no init-data injected", kind)
		}
	}
}
