// Package kubeapi sends cocogen's output to a real Kubernetes API server: kube-apiserver and etcd started on
// loopback (the binaries come from .ci/kube-apiserver, which builds kube-apiserver v1.37.2 from the Go module
// proxy and installs Debian's etcd), with the upstream CRDs of ../shared/crds installed for real. Every object
// that `cocogen render --all` writes for every cluster group of values/ must pass a server-side apply dry run,
// and `cocogen install` must apply the bootstrap objects, change nothing on a second run and stop at its
// timeout with a clear message (no operator or Argo CD runs here).
//
// The module has no dependencies: kubectl (in the base image) does the dry runs, the cocogen binary the rest.
// It is a module of its own so that the e2e module's Argo CD pins do not meet cocogen's client-go.
//
// Environment: KUBE_ASSETS is the directory with kube-apiserver and etcd (.ci/kube-apiserver prints it);
// COCOGEN_CRDS the CRD folder (default ../shared/crds beside the repository). Without them the tests skip,
// unless CI=true, where they fail.
package kubeapi

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The harness, set up by TestMain.
var (
	repoRoot   string
	work       string
	cocogen    string // the built binary
	kubeconfig string
	kubectl    string
	setupErr   error // why the harness could not start (the tests skip or, under CI, fail with it)
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The servers get SIGKILL when the thread that started them ends (Pdeathsig), even if the test binary
	// dies without running deferred functions; keep that thread for the whole run.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	repoRoot = filepath.Dir(filepath.Dir(wd))
	work, err = os.MkdirTemp("", "kubeapi")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(work)
	stop, err := setup()
	if stop != nil {
		defer stop()
	}
	if err != nil {
		setupErr = err
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "kube-apiserver harness: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// need skips the test (or fails it under CI=true) when the harness is not running.
func need(t *testing.T) {
	t.Helper()
	if setupErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kube-apiserver harness: %v", setupErr)
		}
		t.Skipf("skipping: no kube-apiserver: %v (run .ci/kube-apiserver and set KUBE_ASSETS to the directory it prints)", setupErr)
	}
}

func crdDir() string {
	if d := os.Getenv("COCOGEN_CRDS"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(repoRoot), "shared", "crds")
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// setup builds cocogen, starts etcd and kube-apiserver and installs the CRDs; stop ends the servers.
func setup() (stop func(), err error) {
	assets := os.Getenv("KUBE_ASSETS")
	if assets == "" {
		return nil, fmt.Errorf("KUBE_ASSETS is not set")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			return nil, fmt.Errorf("KUBE_ASSETS: %w", err)
		}
	}
	if kubectl, err = exec.LookPath("kubectl"); err != nil {
		return nil, fmt.Errorf("kubectl: %w", err)
	}
	if st, err := os.Stat(crdDir()); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("no CRD folder %s (COCOGEN_CRDS)", crdDir())
	}
	start := time.Now()
	cocogen = filepath.Join(work, "cocogen")
	build := exec.Command("go", "build", "-o", cocogen, "./cmd/cocogen")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/cocogen: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "built cocogen in %s\n", time.Since(start).Round(time.Millisecond))

	var procs []*exec.Cmd
	stop = func() {
		for i := len(procs) - 1; i >= 0; i-- {
			_ = procs[i].Process.Kill()
			_, _ = procs[i].Process.Wait()
		}
	}
	startProc := func(name string, args ...string) (*exec.Cmd, error) {
		log, err := os.Create(filepath.Join(work, filepath.Base(name)+".log"))
		if err != nil {
			return nil, err
		}
		c := exec.Command(name, args...)
		c.Stdout, c.Stderr = log, log
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, c)
		return c, nil
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return stop, err
		}
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	t0 := time.Now()
	if _, err := startProc(filepath.Join(assets, "etcd"), "--name", "kubeapi", "--data-dir", filepath.Join(work, "etcd"),
		"--listen-client-urls", etcdClient, "--advertise-client-urls", etcdClient,
		"--listen-peer-urls", etcdPeer, "--initial-advertise-peer-urls", etcdPeer,
		"--initial-cluster", "kubeapi="+etcdPeer, "--unsafe-no-fsync", "--quota-backend-bytes=1073741824"); err != nil {
		return stop, fmt.Errorf("start etcd: %w", err)
	}
	// The service account signing key, and a static token for the tests' admin.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return stop, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return stop, err
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte("kubeapi-test-token,admin,admin,system:masters\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(work, name), data, 0o600); err != nil {
			return stop, err
		}
	}
	// Flags: ../shared/research/kube-apiserver.md section 4. A loopback advertise address needs
	// --endpoint-reconciler-type=none; NamespaceLifecycle is off so that namespaced objects can be dry-run
	// without their Namespace existing (a dry run persists none); nothing reconciles, so no ServiceAccount
	// admission either.
	kas, err := startProc(filepath.Join(assets, "kube-apiserver"),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports[2]),
		"--etcd-servers="+etcdClient, "--cert-dir="+filepath.Join(work, "certs"),
		"--token-auth-file="+filepath.Join(work, "tokens.csv"), "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(work, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(work, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/24", "--allow-privileged=true", "--endpoint-reconciler-type=none",
		"--disable-admission-plugins=NamespaceLifecycle,ServiceAccount")
	if err != nil {
		return stop, fmt.Errorf("start kube-apiserver: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- kas.Wait() }()
	server := fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(work, "kube-apiserver.log"))
			return stop, fmt.Errorf("kube-apiserver exited: %v\n%s", err, tail(log, 30))
		default:
		}
		req, _ := http.NewRequest("GET", server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer kubeapi-test-token")
		if resp, err := client.Do(req); err == nil {
			body := make([]byte, 16)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body[:n])) == "ok" {
				break
			}
		}
		if time.Now().After(deadline) {
			return stop, fmt.Errorf("kube-apiserver not ready after 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "etcd and kube-apiserver ready in %s\n", time.Since(t0).Round(time.Millisecond))
	kubeconfig = filepath.Join(work, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: kubeapi-test-token}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
`, server)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		return stop, err
	}
	t1 := time.Now()
	if out, err := kubectlRun("apply", "--server-side", "--recursive", "-f", crdDir()); err != nil {
		return stop, fmt.Errorf("install the CRDs: %v\n%s", err, out)
	}
	if out, err := kubectlRun("wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"); err != nil {
		return stop, fmt.Errorf("wait for the CRDs: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "CRDs of %s installed and established in %s\n", crdDir(), time.Since(t1).Round(time.Millisecond))
	return stop, nil
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kubectlRun runs kubectl against the test server; the output is stdout and stderr.
func kubectlRun(args ...string) (string, error) {
	c := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := c.CombinedOutput()
	return string(out), err
}

// cocogenRun runs the built cocogen in the repository root; it returns stdout, stderr and the exit code.
func cocogenRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	c := exec.Command(cocogen, args...)
	c.Dir = repoRoot
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("cocogen %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

var clusterGroupLine = regexp.MustCompile(`(?m)^clusterGroup:`)

// clusterGroups are the cluster groups of values/: every values-<group>.yaml that declares clusterGroup.
func clusterGroups(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "values", "values-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, p := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "values-"), ".yaml")
		if name == "global" || strings.HasPrefix(name, "secret") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if clusterGroupLine.Match(data) {
			groups = append(groups, name)
		}
	}
	slices.Sort(groups)
	if len(groups) == 0 {
		t.Fatal("no cluster group in values/")
	}
	return groups
}

// TestRenderAllIsAcceptedByTheAPIServer dry-runs every object of `cocogen render --all` of every cluster group
// with server-side apply, as Argo CD's ServerSideApply=true sync option sends them.
func TestRenderAllIsAcceptedByTheAPIServer(t *testing.T) {
	need(t)
	for _, g := range clusterGroups(t) {
		t.Run(g, func(t *testing.T) {
			args := []string{"render", "--all", "--cluster-group", g}
			if md := filepath.Join("values", "cluster-metadata-"+g+".yaml"); fileExists(filepath.Join(repoRoot, md)) {
				args = append(args, "-m", md)
			}
			out, stderr, code := cocogenRun(t, args...)
			if code != 0 {
				t.Fatalf("cocogen %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
			}
			n := strings.Count("\n"+out, "\n---\n")
			file := filepath.Join(t.TempDir(), "render.yaml")
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := kubectlRun("apply", "--server-side", "--dry-run=server", "--field-manager=argocd-controller", "-f", file)
			if err != nil {
				t.Fatalf("the API server refused objects of cocogen %s: %v\n%s", strings.Join(args, " "), err, res)
			}
			accepted := strings.Count(res, "(server dry run)")
			if accepted != n || n == 0 {
				t.Fatalf("%d objects rendered, %d accepted:\n%s", n, accepted, res)
			}
			t.Logf("cluster group %s: all %d objects accepted by a server-side apply dry run in %s", g, n, time.Since(start).Round(time.Millisecond))
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// installArgs are the flags of every install below.
func installArgs(extra ...string) []string {
	return append([]string{"install", "--kubeconfig", kubeconfig, "--repo-url", "https://github.com/me/cocogen.git",
		"--image", "quay.io/me/cocogen:v0.1.0"}, extra...)
}

// bootstrapIDs are the objects cocogen bootstrap prints, as kubectl names them.
var bootstrapIDs = []string{
	"namespace/openshift-gitops-operator", "namespace/vp-gitops",
	"operatorgroup.operators.coreos.com/openshift-gitops-operator -n openshift-gitops-operator",
	"subscription.operators.coreos.com/openshift-gitops-operator -n openshift-gitops-operator",
	"configmap/argocd-cmp-cocogen -n vp-gitops",
	"argocd.argoproj.io/vp-gitops -n vp-gitops",
	"clusterrolebinding.rbac.authorization.k8s.io/vp-gitops-cluster-admin-rolebinding",
	"application.argoproj.io/cocogen -n vp-gitops",
}

// TestInstall runs cocogen install against the API server: a dry run, a real install that returns without
// waiting, a second install that changes nothing, and an install that waits for an Argo CD that never comes.
// The subtests run in order and share the cluster.
func TestInstall(t *testing.T) {
	need(t)
	exists := func(t *testing.T) int {
		n := 0
		for _, id := range bootstrapIDs {
			f := strings.Fields(id)
			args := append([]string{"get", f[0]}, f[1:]...)
			if _, err := kubectlRun(args...); err == nil {
				n++
			}
		}
		return n
	}
	t.Run("dry run", func(t *testing.T) {
		_, stderr, code := cocogenRun(t, installArgs("--dry-run=server")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "8 would be created") {
			t.Errorf("stderr does not say that 8 objects would be created:\n%s", stderr)
		}
		if n := exists(t); n != 0 {
			t.Errorf("a dry run persisted %d objects", n)
		}
		t.Logf("%s", stderr)
	})
	t.Run("apply without waiting", func(t *testing.T) {
		_, stderr, code := cocogenRun(t, installArgs("--wait=false")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "8 created") {
			t.Errorf("stderr does not say that 8 objects were created:\n%s", stderr)
		}
		if n := exists(t); n != len(bootstrapIDs) {
			t.Errorf("%d of %d bootstrap objects exist", n, len(bootstrapIDs))
		}
		out, err := kubectlRun("get", "application.argoproj.io/cocogen", "-n", "vp-gitops", "-o", "jsonpath={.metadata.managedFields[*].manager}")
		if err != nil || strings.TrimSpace(out) != "cocogen" {
			t.Errorf("the root Application's field managers are %q (%v), want cocogen", out, err)
		}
		t.Logf("%s", stderr)
	})
	t.Run("second install changes nothing", func(t *testing.T) {
		before, err := kubectlRun("get", "application.argoproj.io/cocogen", "-n", "vp-gitops", "-o", "jsonpath={.metadata.resourceVersion}")
		if err != nil {
			t.Fatal(before, err)
		}
		_, stderr, code := cocogenRun(t, installArgs("--wait=false")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "8 unchanged: nothing changed") {
			t.Errorf("stderr does not say that nothing changed:\n%s", stderr)
		}
		after, err := kubectlRun("get", "application.argoproj.io/cocogen", "-n", "vp-gitops", "-o", "jsonpath={.metadata.resourceVersion}")
		if err != nil || after != before {
			t.Errorf("the root Application's resourceVersion went from %s to %s (%v)", before, after, err)
		}
		_, stderr, code = cocogenRun(t, installArgs("--dry-run=server")...)
		if code != 0 || !strings.Contains(stderr, "8 unchanged: nothing changed") {
			t.Errorf("a dry run after the install: exit %d\n%s", code, stderr)
		}
		t.Logf("%s", stderr)
	})
	t.Run("a changed flag changes one object", func(t *testing.T) {
		args := installArgs("--wait=false")
		args[slices.Index(args, "quay.io/me/cocogen:v0.1.0")] = "quay.io/me/cocogen:v0.1.1"
		_, stderr, code := cocogenRun(t, args...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "ArgoCD vp-gitops/vp-gitops configured") || !strings.Contains(stderr, "1 configured, 7 unchanged") {
			t.Errorf("stderr does not say that the ArgoCD instance alone changed:\n%s", stderr)
		}
	})
	t.Run("waiting stops at the timeout", func(t *testing.T) {
		start := time.Now()
		_, stderr, code := cocogenRun(t, installArgs("--timeout", "4s", "--poll-interval", "1s")...)
		if code != 2 {
			t.Fatalf("exit %d, want 2\n%s", code, stderr)
		}
		for _, want := range []string{
			"waiting for Application vp-gitops/cocogen to be synced and healthy",
			"error: timed out after 4s waiting for Application vp-gitops/cocogen to be synced and healthy (now unknown, unknown: no status yet (is the Argo CD application controller running?))",
			"run cocogen install again to continue",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
		if d := time.Since(start); d > 60*time.Second {
			t.Errorf("install took %s with --timeout 4s", d)
		}
	})
}

// TestSecretsLoadReadsTheRootToken runs cocogen secrets load against the API server: it finds the root token
// where the pattern's unseal job keeps it and asks the API server to exec into the Vault pod, which does not
// exist here (no kubelet runs): the error must say so and print no value.
func TestSecretsLoadReadsTheRootToken(t *testing.T) {
	need(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "values-secret.yaml")
	if err := os.WriteFile(file, []byte("version: \"2.0\"\nsecrets:\n- name: kbsres1\n  vaultPrefixes: [hub]\n  fields:\n  - name: key1\n    value: s3cr3t-value-never-printed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cocogenRun(t, "secrets", "load", "--file", file, "--kubeconfig", kubeconfig)
	if code == 0 || !strings.Contains(stderr, "secret imperative/vaultkeys not found") {
		t.Fatalf("without the unseal job's secret: exit %d\n%s", code, stderr)
	}
	// vault operator init -format=json, as the unseal job stores it.
	manifest := `apiVersion: v1
kind: Secret
metadata: {name: vaultkeys, namespace: imperative}
stringData:
  vault_data_json: '{"root_token": "hvs.root-token-never-printed", "unseal_keys_hex": ["00"]}'
`
	mf := filepath.Join(dir, "vaultkeys.yaml")
	if err := os.WriteFile(mf, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectlRun("create", "namespace", "imperative"); err != nil {
		t.Fatal(out, err)
	}
	if out, err := kubectlRun("apply", "--server-side", "-f", mf); err != nil {
		t.Fatal(out, err)
	}
	_, stderr, code = cocogenRun(t, "secrets", "load", "--file", file, "--kubeconfig", kubeconfig)
	if code == 0 || !strings.Contains(stderr, "store secret/data/hub/kbsres1") || !strings.Contains(stderr, `"vault-0" not found`) {
		t.Fatalf("with the root token but no Vault pod: exit %d\n%s", code, stderr)
	}
	for _, secret := range []string{"s3cr3t-value-never-printed", "hvs.root-token-never-printed"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("stderr shows a secret:\n%s", stderr)
		}
	}
	t.Logf("%s", stderr)
}
