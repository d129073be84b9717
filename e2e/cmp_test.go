// Package e2e drives cocogen through the real Argo CD config management plugin server (argocd-cmp-server of
// github.com/argoproj/argo-cd/v2, pinned in this module's go.mod) with Argo CD's own client code, the way the
// repo-server calls a sidecar: the repository streamed as tar.gz, the environment built from the Application,
// a deadline on every call. It lives in its own module so that cocogen's module does not depend on Argo CD.
//
// TestMain builds the cmp-server and cocogen (with the normal Go build cache: the first build of the
// cmp-server takes minutes, later ones seconds), starts the server with the repository's plugin.yaml, runs
// the tests and kills the server (SIGTERM does not stop it).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v2/util/app/discovery"
	"github.com/argoproj/argo-cd/v2/util/cmp"
	argoio "github.com/argoproj/argo-cd/v2/util/io"
	"github.com/argoproj/argo-cd/v2/util/text"
	"github.com/argoproj/gitops-engine/pkg/utils/kube"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	"google.golang.org/protobuf/types/known/emptypb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// argoCDVersion is the version of github.com/argoproj/argo-cd/v2 in go.mod.
const argoCDVersion = "2.14.21"

// pluginName is plugin.yaml's metadata.name; without spec.version it is also the socket's name.
const pluginName = "cocogen"

// callTimeout is the deadline of one call, as the application controller's repo-server timeout (60 s).
const callTimeout = 60 * time.Second

// The harness, set up by TestMain.
var (
	work     string // temporary directory of the run
	bin      string // built binaries
	repoRoot string // cocogen's repository (the parent of this module)
	repoCopy string // the repository as the repo-server checks it out (no .git)
)

// sidecarUID is the user the cmp-server and cocogen run as when the tests run as root: the uid the image and
// Argo CD's documentation use for plugin sidecars. It can write only its socket and work directories.
const sidecarUID = 999

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The server gets SIGKILL when the thread that started it ends (Pdeathsig), even if the test binary dies
	// without running its deferred functions (a -timeout panic); keep that thread for the whole run.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	repoRoot = filepath.Dir(wd)
	// A short path: the socket path must fit the 108 bytes of sun_path.
	work, err = os.MkdirTemp("", "cmp")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(work)
	server, err := setUp()
	if server != nil {
		// SIGTERM only removes the socket; the server keeps running. Kill its process group.
		defer func() {
			_ = syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			_, _ = server.Process.Wait()
		}()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		if log, rerr := os.ReadFile(filepath.Join(work, "server.log")); rerr == nil {
			fmt.Fprintf(os.Stderr, "argocd-cmp-server log:\n%s\n", log)
		}
		return 2
	}
	code := m.Run()
	log, err := os.ReadFile(filepath.Join(work, "server.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// "zero output" is the cmp-server's warning for a generate that succeeded with nothing, which Argo CD
	// would apply as a prune of everything. No call may ever do that.
	if strings.Contains(string(log), "zero output") {
		fmt.Fprintf(os.Stderr, "FAIL: the cmp-server logged a generate with zero output:\n%s\n", tail(string(log), 20))
		code = 1
	}
	if code != 0 || testing.Verbose() {
		fmt.Fprintf(os.Stderr, "argocd-cmp-server log (%d bytes), last lines:\n%s\n", len(log), tail(string(log), 6))
	}
	return code
}

func setUp() (*exec.Cmd, error) {
	bin = filepath.Join(work, "bin")
	for _, d := range []string{bin, filepath.Join(work, "config"), filepath.Join(work, "plugins"), filepath.Join(work, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(work, 0o755); err != nil {
		return nil, err
	}
	// Both builds use the normal Go caches, so a second run takes seconds.
	builds := []struct {
		name, dir, pkg string
		env, flags     []string
	}{
		{"argocd-cmp-server", ".", "./cmd/argocd-cmp-server", nil,
			[]string{"-ldflags", "-s -w -X github.com/argoproj/argo-cd/v2/common.version=" + argoCDVersion}},
		// As the Containerfile builds it: static.
		{"cocogen", repoRoot, "./cmd/cocogen", []string{"CGO_ENABLED=0"}, []string{"-trimpath"}},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, b := range builds {
		wg.Go(func() {
			start := time.Now()
			args := append([]string{"build", "-o", filepath.Join(bin, b.name)}, b.flags...)
			cmd := exec.Command(goTool(), append(args, b.pkg)...)
			cmd.Dir = b.dir
			cmd.Env = append(os.Environ(), b.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
			fmt.Fprintf(os.Stderr, "e2e: built %s in %.1f s\n", b.name, time.Since(start).Seconds())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	plugin, err := os.ReadFile(filepath.Join(repoRoot, "plugin.yaml"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "config", "plugin.yaml"), plugin, 0o644); err != nil {
		return nil, err
	}
	repoCopy = filepath.Join(work, "repo")
	if err := copyRepo(repoRoot, repoCopy); err != nil {
		return nil, err
	}

	logf, err := os.Create(filepath.Join(work, "server.log"))
	if err != nil {
		return nil, err
	}
	sockDir := filepath.Join(work, "plugins")
	server := exec.Command(filepath.Join(bin, "argocd-cmp-server"), "--config-dir-path", filepath.Join(work, "config"), "--loglevel", "info")
	// The sidecar's environment: its own PATH, socket dir and work dir (its /tmp), nothing of the test's.
	server.Env = []string{
		"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin",
		"ARGOCD_PLUGINSOCKFILEPATH=" + sockDir,
		"ARGOCD_CMP_WORKDIR=" + filepath.Join(work, "tmp"),
		"TMPDIR=" + filepath.Join(work, "tmp"),
	}
	server.Stdout, server.Stderr = logf, logf
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Getuid() == 0 {
		for _, d := range []string{sockDir, filepath.Join(work, "tmp")} {
			if err := os.Chown(d, sidecarUID, sidecarUID); err != nil {
				return nil, err
			}
		}
		server.SysProcAttr.Credential = &syscall.Credential{Uid: sidecarUID, Gid: sidecarUID}
		fmt.Fprintf(os.Stderr, "e2e: the cmp-server and cocogen run as uid %d, with write access to their socket and work directories only\n", sidecarUID)
	}
	if err := server.Start(); err != nil {
		return nil, err
	}
	// The repo-server finds the socket through the same variable.
	if err := os.Setenv("ARGOCD_PLUGINSOCKFILEPATH", sockDir); err != nil {
		return server, err
	}
	sock := filepath.Join(sockDir, pluginName+".sock")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st, err := os.Stat(sock); err == nil && st.Mode()&os.ModeSocket != 0 {
			break
		}
		if time.Now().After(deadline) {
			return server, fmt.Errorf("no socket %s after 60 s", sock)
		}
	}
	return server, nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// copyRepo copies the repository as Argo CD checks it out: every file but .git, this module and build output.
func copyRepo(src, dst string) error {
	skip := map[string]bool{".git": true, "e2e": true, "out": true, "cocogen": true}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && !strings.Contains(rel, string(filepath.Separator)) && skip[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			if strings.HasSuffix(rel, ".test") || strings.HasSuffix(rel, ".prof") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
		return nil // symbolic links and other files are not part of a checkout worth testing
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// revision stands for the commit the repo-server resolved.
const revision = "0123456789abcdef0123456789abcdef01234567"

// pluginEnv builds the environment of a generate call as the repo-server does (newEnv and getPluginEnvs in
// reposerver/repository): the build variables (empty ones dropped), KUBE_VERSION and KUBE_API_VERSIONS, the
// Application's plugin env as ARGOCD_ENV_* with $VAR expanded against the build variables, and its
// parameters as ARGOCD_APP_PARAMETERS and PARAM_*.
func pluginEnv(t testing.TB, app *v1alpha1.Application) []string {
	t.Helper()
	src := app.Spec.GetSource()
	build := v1alpha1.Env{
		{Name: "ARGOCD_APP_NAME", Value: app.Name},
		{Name: "ARGOCD_APP_NAMESPACE", Value: app.Spec.Destination.Namespace},
		{Name: "ARGOCD_APP_REVISION", Value: revision},
		{Name: "ARGOCD_APP_REVISION_SHORT", Value: revision[:7]},
		{Name: "ARGOCD_APP_REVISION_SHORT_8", Value: revision[:8]},
		{Name: "ARGOCD_APP_SOURCE_REPO_URL", Value: src.RepoURL},
		{Name: "ARGOCD_APP_SOURCE_PATH", Value: src.Path},
		{Name: "ARGOCD_APP_SOURCE_TARGET_REVISION", Value: src.TargetRevision},
	}
	env := build.Environ()
	env = append(env, "KUBE_VERSION="+text.SemVer("1.32.5+k3s1"), "KUBE_API_VERSIONS=v1,apps/v1,argoproj.io/v1alpha1,operators.coreos.com/v1alpha1")
	if src.Plugin != nil {
		for _, e := range src.Plugin.Env {
			env = append(env, "ARGOCD_ENV_"+e.Name+"="+build.Envsubst(e.Value))
		}
		params, err := src.Plugin.Parameters.Environ()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, params...)
	}
	return env
}

// generate renders an Application through the cmp-server, as the repo-server's runConfigManagementPluginSidecars
// does: find the named plugin, check its configuration, stream the repository and split the manifests.
func generate(ctx context.Context, t testing.TB, repo string, app *v1alpha1.Application) ([]*unstructured.Unstructured, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	src := app.Spec.GetSource()
	env := pluginEnv(t, app)
	appPath := filepath.Join(repo, filepath.FromSlash(src.Path))
	excluded := []string{".git/*"}
	conn, client, err := discovery.DetectConfigManagementPlugin(ctx, appPath, repo, src.Plugin.Name, env, excluded)
	if err != nil {
		return nil, err
	}
	defer argoio.Close(conn)
	if _, err := client.CheckPluginConfiguration(ctx, &emptypb.Empty{}); err != nil {
		return nil, fmt.Errorf("checkPluginConfiguration: %w", err)
	}
	stream, err := client.GenerateManifest(ctx, grpc_retry.Disable())
	if err != nil {
		return nil, err
	}
	if err := cmp.SendRepoStream(stream.Context(), appPath, repo, stream, env, excluded); err != nil {
		return nil, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, m := range resp.Manifests {
		o, err := kube.SplitYAML([]byte(m))
		if err != nil {
			return nil, fmt.Errorf("failed to convert CMP manifests to unstructured objects: %w", err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
}

// cocogen runs the built binary in dir; it returns stdout, stderr and the exit code.
func cocogen(t testing.TB, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "cocogen"), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// render is `cocogen render --repo-root .` at the repository root with flags equivalent to the plugin inputs
// of app, per the contract in the README (restated here, not taken from cocogen's code): the checkout has no
// .git, as Argo CD's has none, so the root is named. ok is false when the render fails; then diags holds its
// diagnostic lines.
func render(t testing.TB, repo string, app *v1alpha1.Application) (objs []*unstructured.Unstructured, diags []string, ok bool) {
	t.Helper()
	args := []string{"render", "--repo-root", "."}
	src := app.Spec.GetSource()
	flags := map[string]string{"COCOGEN_APP": "--app", "COCOGEN_CLUSTER_GROUP": "--cluster-group", "COCOGEN_CLUSTER": "--cluster", "COCOGEN_VALUES_DIR": "--values-dir",
		"COCOGEN_METADATA": "--metadata", "COCOGEN_SET": "--set", "COCOGEN_SET_STRING": "--set-string"}
	named := map[string]bool{}
	var sets []string
	for _, e := range src.Plugin.Env {
		flag, known := flags[e.Name]
		if !known {
			t.Fatalf("application %s: plugin env %s is not in the contract this test knows", app.Name, e.Name)
		}
		if flag == "--set" || flag == "--set-string" {
			for l := range strings.SplitSeq(e.Value, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					sets = append(sets, flag, l)
					key, _, _ := strings.Cut(l, "=")
					named[key] = true
				}
			}
			continue
		}
		args = append(args, flag, e.Value)
	}
	if len(src.Plugin.Parameters) > 0 {
		t.Fatalf("application %s has plugin parameters; extend the test", app.Name)
	}
	// The Application's source, unless a set names the key.
	if !named["global.repoURL"] {
		args = append(args, "--set-string", "global.repoURL="+src.RepoURL)
	}
	if !named["global.targetRevision"] {
		args = append(args, "--set-string", "global.targetRevision="+src.TargetRevision)
	}
	args = append(args, sets...)
	stdout, stderr, code := cocogen(t, repo, args...)
	switch code {
	case 0:
		objs, err := kube.SplitYAML([]byte(stdout))
		if err != nil {
			t.Fatalf("cocogen %s: %v", strings.Join(args, " "), err)
		}
		return objs, nil, true
	case 1:
		// The error lines: "file:line:col: error: ..." diagnostics and cocogen's own "error: ..." messages.
		for l := range strings.SplitSeq(stderr, "\n") {
			if strings.Contains(l, ": error: ") || strings.HasPrefix(l, "error: ") {
				diags = append(diags, l)
			}
		}
		if len(diags) == 0 {
			t.Fatalf("cocogen %s failed without a diagnostic:\n%s", strings.Join(args, " "), stderr)
		}
		return nil, diags, false
	}
	t.Fatalf("cocogen %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	return nil, nil, false
}

// rootApplication is the root Application that `cocogen bootstrap` creates, for the repository's own pattern
// (the repository and branch its metadata names).
func rootApplication(t testing.TB) *v1alpha1.Application {
	t.Helper()
	out, stderr, code := cocogen(t, repoCopy, "bootstrap", "--repo-url", "https://github.com/cocogen/cocogen.git", "--revision", "main", "--image", "cocogen:e2e")
	if code != 0 {
		t.Fatalf("cocogen bootstrap: exit %d\n%s", code, stderr)
	}
	objs, err := kube.SplitYAML([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == "Application" {
			var app v1alpha1.Application
			decodeStrict(t, o, &app)
			return &app
		}
	}
	t.Fatal("cocogen bootstrap rendered no Application")
	return nil
}

// decodeStrict decodes an object into an Argo CD type; a field the type does not have is an error.
func decodeStrict(t testing.TB, o *unstructured.Unstructured, into any) {
	t.Helper()
	data, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Errorf("%s %s/%s does not decode strictly into Argo CD's %T: %v", o.GetKind(), o.GetNamespace(), o.GetName(), into, err)
	}
}

func id(o *unstructured.Unstructured) string {
	return o.GetAPIVersion() + " " + o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// sameObjects compares two manifest lists object for object, in order.
func sameObjects(t testing.TB, what string, got, want []*unstructured.Unstructured) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d objects through the cmp-server, %d from cocogen render", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if id(got[i]) != id(want[i]) {
			t.Errorf("%s: object %d is %s through the cmp-server, %s from cocogen render", what, i, id(got[i]), id(want[i]))
			continue
		}
		if !reflect.DeepEqual(got[i].Object, want[i].Object) {
			g, _ := json.Marshal(got[i].Object)
			w, _ := json.Marshal(want[i].Object)
			t.Errorf("%s: %s differs:\ncmp-server: %s\nrender:     %s", what, id(got[i]), g, w)
		}
	}
}

// TestRootApplication renders the built-in pattern's app-of-apps tree through the cmp-server and checks it
// against `cocogen render`, object for object, and against Argo CD's own types.
func TestRootApplication(t *testing.T) {
	root := rootApplication(t)
	got, err := generate(t.Context(), t, repoCopy, root)
	if err != nil {
		t.Fatalf("generate through argocd-cmp-server: %v", err)
	}
	want, _, ok := render(t, repoCopy, root)
	if !ok {
		t.Fatal("cocogen render of the built-in pattern fails")
	}
	if len(got) == 0 {
		t.Fatal("the cmp-server returned no objects")
	}
	sameObjects(t, "root application", got, want)

	counts := map[string]int{}
	for _, o := range got {
		switch o.GetKind() {
		case "Application":
			decodeStrict(t, o, &v1alpha1.Application{})
		case "AppProject":
			decodeStrict(t, o, &v1alpha1.AppProject{})
		default:
			continue
		}
		counts[o.GetKind()]++
	}
	if counts["Application"] == 0 || counts["AppProject"] == 0 {
		t.Errorf("decoded %v: the tree must hold Applications and AppProjects", counts)
	}
	t.Logf("root application: %d objects equal to cocogen render; %d Applications and %d AppProjects decode strictly into v1alpha1",
		len(got), counts["Application"], counts["AppProject"])
}

// TestChildApplications renders every child Application whose source is the cocogen plugin. Where `cocogen
// render --app` renders it, the cmp-server must return the same objects; where it fails, the plugin call must
// fail with the same diagnostics, never succeed with nothing.
func TestChildApplications(t *testing.T) {
	tree, err := generate(t.Context(), t, repoCopy, rootApplication(t))
	if err != nil {
		t.Fatalf("root application: %v", err)
	}
	var children []*v1alpha1.Application
	for _, o := range tree {
		if o.GetKind() != "Application" {
			continue
		}
		var app v1alpha1.Application
		decodeStrict(t, o, &app)
		if src := app.Spec.GetSource(); src.Plugin != nil && src.Plugin.Name == pluginName {
			children = append(children, &app)
		}
	}
	if len(children) == 0 {
		t.Fatal("the built-in pattern has no Application rendered by the cocogen plugin")
	}
	rendered, failing := 0, 0
	for _, app := range children {
		t.Run(app.Name, func(t *testing.T) {
			got, err := generate(t.Context(), t, repoCopy, app)
			want, diags, ok := render(t, repoCopy, app)
			if ok {
				rendered++
				if err != nil {
					t.Fatalf("cocogen render --app renders it, the cmp-server fails: %v", err)
				}
				sameObjects(t, app.Name, got, want)
				for _, o := range got {
					switch o.GetKind() {
					case "Application":
						decodeStrict(t, o, &v1alpha1.Application{})
					case "AppProject":
						decodeStrict(t, o, &v1alpha1.AppProject{})
					}
				}
				return
			}
			failing++
			if err == nil {
				t.Fatalf("cocogen render --app fails, but the plugin call succeeded with %d objects", len(got))
			}
			for _, d := range diags {
				if !strings.Contains(err.Error(), d) {
					t.Errorf("the plugin error lacks the diagnostic %q:\n%v", d, err)
				}
			}
		})
	}
	t.Logf("%d child applications through the plugin: %d rendered and equal to cocogen render --app, %d failing with render's diagnostics",
		len(children), rendered, failing)
}

// TestConcurrentGenerate runs 20 generate calls at once: the cmp-server runs them in parallel, each in its own
// copy of the repository.
func TestConcurrentGenerate(t *testing.T) {
	root := rootApplication(t)
	want, _, ok := render(t, repoCopy, root)
	if !ok {
		t.Fatal("cocogen render of the built-in pattern fails")
	}
	const n = 20
	results := make([][]*unstructured.Unstructured, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() { results[i], errs[i] = generate(t.Context(), t, repoCopy, root) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
			continue
		}
		sameObjects(t, fmt.Sprintf("concurrent call %d", i), results[i], want)
	}
	t.Logf("%d concurrent generate calls: each equal to cocogen render, %.0f ms in all", n, float64(time.Since(start).Microseconds())/1000)
}

// TestBrokenValues breaks a values file: the call must fail with the file:line:col diagnostic in the error that
// Argo CD shows, not succeed with an empty or partial render.
func TestBrokenValues(t *testing.T) {
	broken := filepath.Join(work, "broken")
	if err := copyRepo(repoCopy, broken); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(broken, "values", "values-azure.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "\nclusterGroup:\n"
	i := bytes.Index(data, []byte(anchor))
	if i < 0 {
		t.Fatal("values-azure.yaml has no top-level clusterGroup")
	}
	line := bytes.Count(data[:i+len(anchor)], []byte("\n")) + 1
	data = slices.Concat(data[:i+len(anchor)], []byte("  nmespaces: {}\n"), data[i+len(anchor):])
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	root := rootApplication(t)
	got, err := generate(t.Context(), t, broken, root)
	if err == nil {
		t.Fatalf("a broken values file rendered %d objects through the plugin", len(got))
	}
	_, diags, ok := render(t, broken, root)
	if ok {
		t.Fatal("cocogen render accepts the broken values file")
	}
	pos := fmt.Sprintf("values/values-azure.yaml:%d:3: error: ", line)
	if !strings.Contains(err.Error(), pos) {
		t.Errorf("the plugin error lacks %q:\n%v", pos, err)
	}
	for _, d := range diags {
		if !strings.Contains(err.Error(), d) {
			t.Errorf("the plugin error lacks render's diagnostic %q:\n%v", d, err)
		}
	}
	t.Logf("Argo CD would show: %s", firstLines(err.Error(), 3))
}

// TestParameterAnnouncements asks the cmp-server for the UI's parameters: the dynamic cluster group, with the
// repository's default, then the static ones of plugin.yaml.
func TestParameterAnnouncements(t *testing.T) {
	root := rootApplication(t)
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	src := root.Spec.GetSource()
	appPath := filepath.Join(repoCopy, src.Path)
	conn, client, err := discovery.DetectConfigManagementPlugin(ctx, appPath, repoCopy, pluginName, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer argoio.Close(conn)
	stream, err := client.GetParametersAnnouncement(ctx, grpc_retry.Disable())
	if err != nil {
		t.Fatal(err)
	}
	// The env of GetAppDetails: the build variables of newEnvRepoQuery and the plugin's.
	env := []string{"ARGOCD_APP_NAME=" + root.Name, "ARGOCD_APP_REVISION=" + revision, "ARGOCD_APP_SOURCE_REPO_URL=" + src.RepoURL,
		"ARGOCD_APP_SOURCE_PATH=" + src.Path, "ARGOCD_APP_SOURCE_TARGET_REVISION=" + src.TargetRevision}
	params, err := src.Plugin.Parameters.Environ()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmp.SendRepoStream(stream.Context(), appPath, repoCopy, stream, append(env, params...), []string{".git/*"}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range resp.ParameterAnnouncements {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, " "); got != "cluster-group values-dir metadata set set-string" {
		t.Errorf("announced %s", got)
	}
	if a := resp.ParameterAnnouncements[0]; a.String_ != "azure" {
		t.Errorf("cluster-group defaults to %q, want the built-in pattern's azure", a.String_)
	}
}

// TestParametersReachThePlugin sets parameters on the Application as the UI does; Argo CD's own encoding
// (ARGOCD_APP_PARAMETERS and PARAM_*) must reach cocogen with the meaning of the equivalent flags.
func TestParametersReachThePlugin(t *testing.T) {
	app := rootApplication(t).DeepCopy()
	str := func(s string) *string { return &s }
	app.Spec.Source.Plugin.Parameters = v1alpha1.ApplicationSourcePluginParameters{
		{Name: "set", OptionalArray: &v1alpha1.OptionalArray{Array: []string{"clusterGroup.subscriptions.trustee.channel=stable-v2,global.options.installPlanApproval=Automatic"}}},
		{Name: "set-string", OptionalArray: &v1alpha1.OptionalArray{Array: []string{"global.clusterVersion=4.20"}}},
		{Name: "metadata", String_: str("values/cluster-metadata.yaml")},
	}
	got, err := generate(t.Context(), t, repoCopy, app)
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := cocogen(t, repoCopy, "render", "--repo-root", ".", "--metadata", "values/cluster-metadata.yaml",
		"--set", "clusterGroup.subscriptions.trustee.channel=stable-v2,global.options.installPlanApproval=Automatic",
		"--set-string", "global.repoURL="+app.Spec.Source.RepoURL, "--set-string", "global.targetRevision="+app.Spec.Source.TargetRevision,
		"--set-string", "global.clusterVersion=4.20")
	if code != 0 {
		t.Fatalf("render: exit %d\n%s", code, stderr)
	}
	want, err := kube.SplitYAML([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	sameObjects(t, "root application with parameters", got, want)
	changed := false
	for _, o := range got {
		if o.GetKind() == "Subscription" && o.GetName() == "trustee-operator" {
			ch, _, _ := unstructured.NestedString(o.Object, "spec", "channel")
			changed = ch == "stable-v2"
		}
	}
	if !changed {
		t.Error("the set parameter did not reach the render")
	}
}

// BenchmarkGenerate times one generate of the built-in pattern's root Application through the real cmp-server
// (the whole repo-server path: dial, configuration check, tar.gz stream, untar, cocogen generate, response)
// and, as a sub-benchmark, the same `cocogen generate` run directly, without the cmp-server: what the plugin
// itself costs. Every call must return the same objects. README, Latency:
//
//	cd e2e && go test -run '^$' -bench Generate -benchtime 20x .
func BenchmarkGenerate(b *testing.B) {
	root := rootApplication(b)
	files := 0
	_ = filepath.WalkDir(repoCopy, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			files++
		}
		return nil
	})
	b.Run("cmp-server", func(b *testing.B) {
		want := -1
		for b.Loop() {
			objs, err := generate(b.Context(), b, repoCopy, root)
			if err != nil {
				b.Fatal(err)
			}
			if want >= 0 && len(objs) != want {
				b.Fatalf("%d objects, %d the call before", len(objs), want)
			}
			want = len(objs)
		}
		b.ReportMetric(float64(want), "objects")
		b.ReportMetric(float64(files), "files-streamed")
		b.Logf("argocd-cmp-server %s, %s/%s, %d CPUs", argoCDVersion, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	})
	b.Run("direct", func(b *testing.B) {
		env := append(pluginEnv(b, root), "PATH=/usr/bin:/bin")
		var first []byte
		for b.Loop() {
			cmd := exec.Command(filepath.Join(bin, "cocogen"), "generate")
			cmd.Dir, cmd.Env = repoCopy, env
			out, err := cmd.Output()
			if err != nil || len(out) == 0 {
				b.Fatalf("cocogen generate: %v", err)
			}
			if first == nil {
				first = out
			} else if !bytes.Equal(out, first) {
				b.Fatal("cocogen generate wrote different bytes than the call before")
			}
		}
	})
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
