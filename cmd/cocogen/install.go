package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cocogen/cocogen"
	"github.com/cocogen/cocogen/internal/bootstrap"
	"github.com/cocogen/cocogen/internal/install"
	"github.com/cocogen/cocogen/internal/secrets"
)

// installDeps are what install reaches outside the process through; tests replace them.
type installDeps struct {
	cluster func(kubeconfig, context string) (install.Cluster, secrets.Executor, string, error)
}

// kubeCluster connects to the cluster of a kubeconfig (--kubeconfig, else $KUBECONFIG or ~/.kube/config) and
// context (--context, else the current one).
func kubeCluster(kubeconfig, kubeContext string) (install.Cluster, secrets.Executor, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return install.Cluster{}, nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "cocogen-install"
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return install.Cluster{}, nil, "", fmt.Errorf("build a client for %s: %w", cfg.Host, err)
	}
	mapper, err := install.NewDiscoveryMapper(context.Background(), hc, cfg.Host)
	if err != nil {
		return install.Cluster{}, nil, "", err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return install.Cluster{}, nil, "", fmt.Errorf("build a client for %s: %w", cfg.Host, err)
	}
	ex, err := newKubeExec(cfg)
	if err != nil {
		return install.Cluster{}, nil, "", err
	}
	return install.Cluster{Dynamic: dyn, Mapper: mapper}, ex, cfg.Host, nil
}

func newInstallCommand(s streams) *cobra.Command {
	return newInstallCommandWith(s, installDeps{cluster: kubeCluster})
}

func newInstallCommandWith(s streams, deps installDeps) *cobra.Command {
	o := bootstrap.Options{PluginYAML: cocogen.PluginYAML}
	var (
		kubeconfig, kubeContext, dryRun string
		secretsFile                     string
		wait                            bool
		timeout, interval               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Apply what bootstrap prints to a cluster and wait until the pattern's root Application is synced and healthy",
		Long: `Install puts the objects of cocogen bootstrap on the cluster of your kubeconfig with server-side apply
(field manager "cocogen", taking over fields another manager set), without oc or kubectl:

  1. the OpenShift GitOps operator's Namespace, OperatorGroup and Subscription, the Argo CD namespace, the
     ConfigMap with plugin.yaml and the ClusterRoleBinding;
  2. once the operator serves them (install waits, printing the Subscription's state), the ArgoCD instance
     and the root Application;
  3. then it waits for the root Application to be synced and healthy, printing every Application of its
     namespace (the children it renders) as their status changes.

Every object is applied as a server-side dry run first and for real only when that changes something, so
a second install writes nothing and says so. --dry-run=server sends everything as a dry run and persists
nothing (objects whose kinds or namespaces do not exist yet are reported as not checked). --wait=false
applies what the cluster can take and returns; it exits 2 when objects wait for the operator's kinds.
--timeout bounds all waiting; at the timeout install says what it was waiting for and exits 2. Run it
again at any time: it continues where the cluster is.

--secrets-file loads the file of cocogen secrets init into the pattern's Vault while install waits, as
soon as the pattern's unseal job has initialised Vault (what cocogen secrets load does), and install waits
for that too. Its values are checked before anything is applied.`,
		Example: `  # The pattern from your fork, on the cluster of the current kubeconfig context, with its secrets
  cocogen install --repo-url https://github.com/me/cocogen.git --image quay.io/me/cocogen:v0.1.0 \
    --secrets-file ~/values-secret-cocogen.yaml

  # What would change, checked by the API server, nothing persisted
  cocogen install --repo-url https://github.com/me/cocogen.git --image quay.io/me/cocogen:v0.1.0 --dry-run=server

  # Another cluster; apply and return without waiting
  cocogen install --kubeconfig ~/clusters/coco/kubeconfig --context admin --wait=false \
    --repo-url https://github.com/me/cocogen.git --image quay.io/me/cocogen:v0.1.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch dryRun {
			case "none", "server":
			default:
				return usageError{err: fmt.Errorf("invalid --dry-run %q (valid: none, server)", dryRun), cmd: cmd}
			}
			if timeout < 0 || interval <= 0 {
				return usageError{err: errors.New("--timeout must not be negative and --poll-interval must be positive"), cmd: cmd}
			}
			objs, err := bootstrap.Objects(o)
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			var file *secrets.File
			if secretsFile != "" {
				data, err := os.ReadFile(secretsFile)
				if err != nil {
					return usageError{err: fmt.Errorf("--secrets-file: %w", err), cmd: cmd}
				}
				if file, err = secrets.Parse(secretsFile, data); err != nil {
					return invalid(s, "%v", err)
				}
				// Every value must resolve now, not after half an hour of waiting.
				for i := range file.Secrets {
					if _, err := secrets.Values(&file.Secrets[i], secrets.ReadLocalFile); err != nil {
						return invalid(s, "%s: %v", secretsFile, err)
					}
				}
				if !wait || dryRun == "server" {
					return usageError{err: errors.New("--secrets-file needs --wait and no --dry-run: the secrets are loaded once Vault runs"), cmd: cmd}
				}
			}
			c, ex, server, err := deps.cluster(kubeconfig, kubeContext)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			mode := ""
			if dryRun == "server" {
				mode = " (server-side dry run: nothing is persisted)"
			}
			fmt.Fprintf(s.err, "installing %d objects on %s%s\n", len(objs), server, mode)
			opts := install.Options{Objects: objs, DryRun: dryRun == "server", Wait: wait, Timeout: timeout, Interval: interval, Progress: s.err}
			if file != nil {
				opts.Secrets = secretsLoader(file, c, ex)
			}
			r, err := install.Run(ctx, c, opts)
			if r != nil {
				fmt.Fprintf(s.err, "%s\n", r.Summary(dryRun == "server"))
			}
			if err != nil {
				var te *install.TimeoutError
				if errors.As(err, &te) {
					return fmt.Errorf("%w; what is applied stays: run cocogen install again to continue", err)
				}
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	bootstrapFlags(f, &o)
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&kubeContext, "context", "", "kubeconfig context (default: the current context)")
	f.StringVar(&dryRun, "dry-run", "none", "server: the API server checks every object and persists nothing; none: apply")
	f.Lookup("dry-run").NoOptDefVal = "server"
	f.BoolVar(&wait, "wait", true, "wait for the operator's kinds and for the root Application to be synced and healthy")
	f.DurationVar(&timeout, "timeout", 30*time.Minute, "bound on all waiting (0: none)")
	f.DurationVar(&interval, "poll-interval", 5*time.Second, "time between two looks at the cluster while waiting")
	f.StringVar(&secretsFile, "secrets-file", "", "the file of cocogen secrets init: loaded into the pattern's Vault as soon as Vault runs (as cocogen secrets load does)")
	return cmd
}

// secretsLoader loads the secrets file into Vault once the pattern's unseal job has initialised it; until
// then, and while the Vault pod cannot take them, it says what it waits for.
func secretsLoader(f *secrets.File, c install.Cluster, ex secrets.Executor) func(context.Context) (bool, string) {
	return func(ctx context.Context) (bool, string) {
		if _, err := secrets.RootToken(ctx, c.Dynamic); err != nil {
			return false, err.Error()
		}
		r, err := secrets.Load(ctx, f, secrets.LoadOptions{Dynamic: c.Dynamic, Exec: ex})
		if err != nil {
			return false, "vault is not ready: " + err.Error()
		}
		return true, fmt.Sprintf("stored %d secrets (%d fields) in Vault", len(r.Paths), r.Fields)
	}
}
