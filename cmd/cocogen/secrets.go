package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/dynamic"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/secrets"
)

// secretsDeps are what the secrets commands reach outside the process through; tests replace them.
type secretsDeps struct {
	now     func() time.Time
	home    func() (string, error)
	cluster func(kubeconfig, context string) (dynamic.Interface, secrets.Executor, string, error)
}

func newSecretsCommand(s streams) *cobra.Command {
	return newSecretsCommandWith(s, secretsDeps{now: time.Now, home: os.UserHomeDir, cluster: kubeExecCluster})
}

func newSecretsCommandWith(s streams, deps secretsDeps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Create the pattern's secrets file and load it into the pattern's Vault",
		Long: `The pattern's secrets never enter Git or a render. cocogen secrets init writes them into a file outside
the repository, in the Validated Patterns values-secret format (version 2.0); cocogen secrets load puts that
file into the pattern's Vault, where the ExternalSecrets of the trustee application read them.`,
	}
	cmd.AddCommand(newSecretsInitCommand(s, deps), newSecretsLoadCommand(s, deps))
	return cmd
}

// secretSpec is what the repository at hand says about its secrets.
type secretSpec struct {
	spec secrets.Spec
	root string // absolute repository root
}

// loadSecretSpec reads the values and the metadata the way a render does (the same flags, files and budgets)
// and returns what the secrets file must hold. It reads neither policies nor the trust anchor: the
// certificate may not exist yet.
func loadSecretSpec(s streams, f *sourceFlags) (*secretSpec, error) {
	if f.repoRoot == "" {
		// The certificate goes into the repository: refuse a values directory that is not in a clone.
		if st, err := os.Stat(f.valuesDir); err == nil && st.IsDir() {
			if _, found, err := repo.FindRoot(f.valuesDir); err != nil {
				return nil, err
			} else if !found {
				return nil, usageError{err: fmt.Errorf("no .git at or above %s: run cocogen secrets init in a clone of your fork (or pass --repo-root)", f.valuesDir)}
			}
		}
	}
	req, err := f.request(s.in)
	if err != nil {
		return nil, err
	}
	// The load phase of a render of this cluster group: the same files, value-file order, --set and budgets.
	// It reports a trust anchor that does not exist yet to no one: only the generators that embed it do.
	m, err := pipeline.LoadModel(req)
	var de *diag.Diagnostics
	if errors.As(err, &de) {
		if werr := diag.Write(s.err, "text", de.Items, false); werr != nil {
			return nil, werr
		}
		return nil, &exitError{code: exitInvalid}
	}
	if err != nil {
		return nil, err
	}
	if err := diag.Write(s.err, "text", m.Diagnostics, false); err != nil {
		return nil, err
	}
	v, meta := m.Values, m.Meta
	if meta == nil {
		return nil, usageError{err: fmt.Errorf("no cluster metadata for %s (pass -m FILE): the KBS trust anchor is a metadata fact", f.valuesDir)}
	}
	t := v.CoCo.Trustee
	mount, prefix, ok := strings.Cut(t.VaultPrefix, "/data/")
	if !ok || mount == "" || prefix == "" {
		return nil, usageError{err: fmt.Errorf("global.coco.trustee.vaultPrefix %q is not a Vault KV version 2 path (<mount>/data/<prefix>)", t.VaultPrefix)}
	}
	spec := secrets.Spec{Pattern: v.Global.Pattern, VaultMount: mount, VaultPrefix: prefix, TrustAnchorMode: meta.TrustAnchorMode()}
	if spec.Pattern == "" {
		spec.Pattern = "cocogen"
	}
	switch spec.TrustAnchorMode {
	case "ca":
		p, err := repo.Clean(meta.KBS.TrustAnchor.Certificate.Value)
		if err != nil {
			return nil, usageError{err: fmt.Errorf("kbs.trustAnchor.certificate: %w", err)}
		}
		spec.CertificatePath = p
	case "leaf":
		return nil, usageError{err: errors.New("kbs.trustAnchor.mode is leaf: the pinned KBS certificate and its key (Vault kbsTLS) are yours to provide; secrets init writes the CA of mode ca, and nothing in mode public")}
	}
	for _, r := range t.Resources {
		spec.Resources = append(spec.Resources, secrets.Resource{Name: r.Name, Keys: r.Keys})
	}
	// The registry credentials that profiles name (kbs:///default/<secret>/<field>) are registry auth files.
	for _, p := range v.CoCo.InitData.Profiles {
		if rest, ok := strings.CutPrefix(p.RegistryCredentials, "kbs:///default/"); ok && !slices.Contains(spec.RegistryCredentials, rest) {
			spec.RegistryCredentials = append(spec.RegistryCredentials, rest)
		}
	}
	slices.Sort(spec.RegistryCredentials)
	return &secretSpec{spec: spec, root: req.RootDir}, nil
}

// defaultSecretsFile is where upstream's tooling looks for a pattern's secrets (validatedpatterns/
// rhvp.cluster_utils roles/find_vp_secrets: ~/values-secret-<pattern>.yaml among others).
func defaultSecretsFile(home func() (string, error), pattern string) (string, error) {
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("no home directory for the default secrets file (give --output-file): %w", err)
	}
	return filepath.Join(h, "values-secret-"+pattern+".yaml"), nil
}

// insideDir reports whether p is dir or below it, after resolving symbolic links of what exists.
func insideDir(p, dir string) bool {
	resolve := func(x string) string {
		x, _ = filepath.Abs(x)
		// Resolve the longest existing prefix: the file itself may not exist yet.
		rest := ""
		for {
			if r, err := filepath.EvalSymlinks(x); err == nil {
				return filepath.Join(r, rest)
			}
			parent := filepath.Dir(x)
			if parent == x {
				return filepath.Join(x, rest)
			}
			rest = filepath.Join(filepath.Base(x), rest)
			x = parent
		}
	}
	rp, rd := resolve(p), resolve(dir)
	rel, err := filepath.Rel(rd, rp)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// invalid prints an input problem and ends with exit code 1.
func invalid(s streams, format string, args ...any) error {
	fmt.Fprintf(s.err, "error: "+format+"\n", args...)
	return &exitError{code: exitInvalid}
}

func newSecretsInitCommand(s streams, deps secretsDeps) *cobra.Command {
	var (
		src    sourceFlags
		output string
		rotate []string
		vals   []string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write the pattern's secrets (KBS admin key pair, KBS CA, KBS resources) into a file outside the repository",
		Long: `Init writes everything secret the pattern needs, for the repository at hand, into one file in the
Validated Patterns values-secret format (version 2.0), with mode 0600:

  - kbsPublicKey and kbsPrivateKey: the KBS admin key pair (ed25519). The KBS accepts only admin tokens
    signed with the private key. The private key goes to its own Vault prefix (kbs-admin), which no
    ExternalSecret reads.
  - kbsCA: the private key of the KBS CA (ECDSA P-256), in trust anchor mode ca. Its certificate is written
    into the repository at the metadata's kbs.trustAnchor.certificate: commit it, init-data embeds it.
  - one secret per KBS resource of global.coco.trustee.resources: random values (32 random bytes,
    URL-safe base64), except where a user must choose: attestation-status/status and
    security-policy/signed are asked for on a terminal (else their defaults: "attested", and a policy that
    rejects every image until you give yours), security-policy/insecure and reject are the fixed
    containers-policy.json documents, and the registry credentials a profile names (registryCredentials,
    e.g. credential/regcred) are asked for too (else {"auths":{}}, which names no registry).
    --value SECRET/FIELD=VALUE (or =@FILE) sets any of them.

The file defaults to ~/values-secret-<pattern>.yaml, where the Validated Patterns tooling also looks; a path
inside the repository is refused (exit 1). Running init again keeps what the file and the certificate hold
(both byte-identical) and adds only what the values list newly. --rotate NAME replaces one secret and says
what that means for attestation. cocogen render never reads this file.`,
		Example: `  # In a clone of your fork: ~/values-secret-cocogen.yaml and values/kbs-ca.crt
  cocogen secrets init
  git add values/kbs-ca.crt && git commit -m "KBS CA of my cluster"

  # Somewhere else, with your image signature policy
  cocogen secrets init --output-file ~/secrets/values-secret.yaml --value security-policy/signed=@policy.json

  # Bare metal: the cluster's pull secret as the pod VMs' registry credentials
  oc get secret/pull-secret -n openshift-config -o jsonpath='{.data.\.dockerconfigjson}' | base64 -d > ~/.cocogen/regcred.json
  cocogen secrets init --cluster-group baremetal --value credential/regcred=@$HOME/.cocogen/regcred.json

  # A new value for one KBS resource
  cocogen secrets init --rotate kbsres1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warnDeprecated(cmd, s)
			chosen := map[string]string{}
			for _, a := range vals {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return usageError{err: fmt.Errorf("--value %q: want SECRET/FIELD=VALUE or SECRET/FIELD=@FILE", a), cmd: cmd}
				}
				if strings.HasPrefix(v, "@") {
					data, err := secrets.ReadLocalFile(v[1:])
					if err != nil {
						return usageError{err: fmt.Errorf("--value %s: %w", k, err), cmd: cmd}
					}
					v = string(data)
				}
				chosen[k] = v
			}
			sp, err := loadSecretSpec(s, &src)
			if err != nil {
				return err
			}
			if output == "" {
				if output, err = defaultSecretsFile(deps.home, sp.spec.Pattern); err != nil {
					return err
				}
			}
			if insideDir(output, sp.root) {
				return invalid(s, "--output-file %s is inside the repository %s: the secrets file must never be committed; write it outside (default ~/values-secret-%s.yaml)", output, sp.root, sp.spec.Pattern)
			}
			var existing *secrets.File
			var before []byte
			switch data, err := os.ReadFile(output); {
			case err == nil:
				if existing, err = secrets.Parse(output, data); err != nil {
					return invalid(s, "%v", err)
				}
				before = data
			case !errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("read %s: %w", output, err)
			}
			var cert []byte
			certFile := ""
			if sp.spec.CertificatePath != "" {
				certFile = filepath.Join(sp.root, filepath.FromSlash(sp.spec.CertificatePath))
				switch data, err := os.ReadFile(certFile); {
				case err == nil:
					cert = data
				case !errors.Is(err, fs.ErrNotExist):
					return fmt.Errorf("read %s: %w", certFile, err)
				}
				// A file from before this secrets file (the repository's placeholder) is replaced: nobody holds
				// its key.
				if existing == nil || existing.Find(secrets.CA) == nil {
					cert = nil
				}
			}
			o := secrets.InitOptions{Spec: sp.spec, Existing: existing, ExistingCert: cert, Rotate: rotate, Values: chosen, Now: deps.now()}
			if f, ok := s.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				o.Ask = prompter(s)
			}
			res, err := secrets.Init(o)
			if err != nil {
				return invalid(s, "%v", err)
			}
			for _, n := range res.Notes {
				fmt.Fprintln(s.err, n)
			}
			if res.Changed {
				header := fmt.Sprintf("The secrets of the %s pattern, written by cocogen secrets init. Never commit this file.\nLoad it into the pattern's Vault with: cocogen secrets load --file %s", sp.spec.Pattern, output)
				data, err := secrets.Encode(header, res.File)
				if err != nil {
					return err
				}
				if before != nil && string(before) == string(data) {
					res.Changed = false
				} else if err := writePrivate(output, data); err != nil {
					return err
				}
			}
			if err := os.Chmod(output, 0o600); err != nil {
				return fmt.Errorf("chmod %s: %w", output, err)
			}
			if res.Cert != nil {
				if err := os.MkdirAll(filepath.Dir(certFile), 0o755); err != nil {
					return err
				}
				if err := writeFileMode(certFile, res.Cert, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(s.err, "wrote %s (the KBS CA certificate: commit it)\n", sp.spec.CertificatePath)
			}
			if res.Changed {
				fmt.Fprintf(s.err, "wrote %s (mode 0600): next, cocogen install ... --secrets-file %s (or cocogen secrets load --file %s once Vault runs)\n", output, output, output)
			} else {
				fmt.Fprintf(s.err, "%s is up to date: nothing changed\n", output)
			}
			return nil
		},
	}
	f := cmd.Flags()
	src.register(f)
	f.StringVar(&output, "output-file", "", "the secrets file (default ~/values-secret-<pattern>.yaml); never inside the repository")
	deprecatedFileFlag(f, &output, "output", "output-file")
	f.StringArrayVar(&rotate, "rotate", nil, "replace this secret (kbsPublicKey, kbsCA or a KBS resource; repeatable)")
	f.StringArrayVar(&vals, "value", nil, "a KBS resource field's value, SECRET/FIELD=VALUE or SECRET/FIELD=@FILE (repeatable)")
	return cmd
}

// prompter asks on the terminal for a value a user must choose; an empty answer takes the default.
func prompter(s streams) func(secret, field, description, def string) (string, error) {
	r := bufio.NewReader(s.in)
	return func(secret, field, description, def string) (string, error) {
		shown := def
		if len(shown) > 40 {
			shown = shown[:37] + "..."
		}
		fmt.Fprintf(s.err, "%s/%s: %s [%s]: ", secret, field, description, shown)
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimSpace(line), nil
	}
}

// writePrivate writes a file readable by its owner only, replacing it whole.
func writePrivate(name string, data []byte) error {
	return writeFileMode(name, data, 0o600)
}

// writeFileMode replaces a file whole, created with mode (the secret is never readable by others, not even
// for an instant).
func writeFileMode(name string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func newSecretsLoadCommand(s streams, deps secretsDeps) *cobra.Command {
	var (
		src                     sourceFlags
		file                    string
		kubeconfig, kubeContext string
		namespace, pod          string
	)
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Put the secrets file into the pattern's Vault, where the ExternalSecrets read it",
		Long: `Load stores every secret of the secrets file in the pattern's Vault, at <mount>/data/<prefix>/<name>
(secret/data/hub/<name> for what the trustee application's ExternalSecrets read), through the Kubernetes API:
it reads the Vault root token from the Secret imperative/vaultkeys, where the pattern's unseal job keeps it,
and runs vault kv put in the Vault pod (vault/vault-0) with exec, passing the token and the values on stdin,
never on a command line. Each secret replaces what its path held. It prints the paths it stored, never a
value. Fields with a value or a path (a local file, ~ expanded) are supported; fields Vault would generate
are not (secrets init writes every value).`,
		Example: `  # The file secrets init wrote, on the cluster of the current kubeconfig context
  cocogen secrets load

  cocogen secrets load --file ~/secrets/values-secret.yaml --kubeconfig ~/clusters/coco/kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				sp, err := loadSecretSpec(s, &src)
				if err != nil {
					return err
				}
				if file, err = defaultSecretsFile(deps.home, sp.spec.Pattern); err != nil {
					return err
				}
			}
			data, err := os.ReadFile(file)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return usageError{err: fmt.Errorf("%s does not exist: write it with cocogen secrets init (or give --file)", file), cmd: cmd}
				}
				return err
			}
			f, err := secrets.Parse(file, data)
			if err != nil {
				return invalid(s, "%v", err)
			}
			dyn, ex, server, err := deps.cluster(kubeconfig, kubeContext)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			fmt.Fprintf(s.err, "loading %s into Vault (%s/%s) on %s\n", file, namespace, pod, server)
			r, err := secrets.Load(ctx, f, secrets.LoadOptions{Dynamic: dyn, Exec: ex, Namespace: namespace, Pod: pod, Progress: s.err})
			if r != nil && r.Secrets > 0 {
				fmt.Fprintf(s.err, "stored %d of %d secrets (%d fields)\n", len(r.Paths), r.Secrets, r.Fields)
			}
			return err
		},
	}
	f := cmd.Flags()
	src.register(f)
	f.StringVar(&file, "file", "", "the secrets file (default ~/values-secret-<pattern>.yaml)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&kubeContext, "context", "", "kubeconfig context (default: the current context)")
	f.StringVar(&namespace, "vault-namespace", secrets.VaultNamespace, "namespace of the Vault server")
	f.StringVar(&pod, "vault-pod", secrets.VaultPod, "the Vault server pod to exec into")
	return cmd
}
