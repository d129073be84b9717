package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/plugin"
)

func newGenerateCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "Render inside Argo CD: the config management plugin's generate command",
		Long: `Generate is what the cocogen sidecar of Argo CD's repo-server runs (plugin.yaml) for an Application
whose source is plugin "cocogen". It takes no flags: Argo CD describes the Application in environment
variables, and generate builds from them the same request that cocogen render builds from its flags, so
that both write the same bytes.

` + plugin.ContractText() + `
` + plugin.PrecedenceText() + `

The command runs in the Application's path inside the repository that Argo CD extracted; it finds the root
from ARGOCD_APP_SOURCE_PATH and reads nothing outside it. Stdout carries only the manifests. On any error
stdout is empty, the diagnostics (file:line:col) and the equivalent cocogen render command go to stderr, and
the exit code is non-zero: Argo CD shows the error instead of applying a partial or empty render. Argo CD
shows stderr in its UI and caches it: do not put secrets into the plugin env or parameters (they are stored
in the Application anyway).`,
		Example: `  # What Argo CD runs for the child application "trustee" of the built-in pattern
  ARGOCD_APP_SOURCE_PATH=. ARGOCD_ENV_COCOGEN_APP=trustee cocogen generate

  # The root application, for another cluster group, with a value set as the UI would
  ARGOCD_ENV_COCOGEN_CLUSTER_GROUP=azure \
    ARGOCD_APP_PARAMETERS='[{"name":"set","array":["global.clusterPlatform=Azure"]}]' cocogen generate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s.heapForRender()
			return runGenerate(s, os.Environ(), pipeline.Render)
		},
	}
}

// runGenerate is the plugin's generate command; render is pipeline.Render (tests pass others). A panic ends
// as an internal error with the equivalent render command, exit code 2 and nothing on stdout.
func runGenerate(s streams, environ []string, render func(pipeline.Request) (*pipeline.Result, error)) (err error) {
	input := "cocogen generate (the plugin env and parameters)"
	defer func() {
		if r := recover(); r != nil {
			err = &exitError{code: internalError(s.err, r, input)}
		}
	}()
	fail := func(code int, lines ...string) error {
		for _, l := range lines {
			fmt.Fprintln(s.err, l)
		}
		return &exitError{code: code}
	}
	env, envErr := plugin.ReadEnv(environ)
	settings, err := plugin.Resolve(env)
	if err := errors.Join(envErr, err); err != nil {
		return fail(exitInvalid, errorLines(err)...)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fail(exitUsage, "error: "+err.Error())
	}
	root, err := plugin.RepoRoot(wd, env.SourcePath)
	if err != nil {
		return fail(exitInvalid, "error: "+err.Error())
	}
	reproduce := "to reproduce at the repository root: cocogen " + shellJoin(settings.RenderArgs())
	input = "cocogen " + shellJoin(settings.RenderArgs()) + " at the repository root " + root
	if env.AppName != "" {
		input += " (Argo CD application " + env.AppName + ")"
	}
	// The request reads the repository at root and names its files by their repository paths, as
	// `cocogen render` run at the root does, so that the output is the same bytes.
	req, err := settings.Request(root)
	if err != nil {
		// A missing values directory is invalid input (exit 1), as a missing values file is.
		return fail(exitInvalid, "error: "+err.Error(), reproduce)
	}
	// Budgets come from the sidecar's own environment (the cluster admin's); an Application's plugin env
	// reaches the plugin only as ARGOCD_ENV_*, so a repository cannot raise them.
	if req.Budget, err = budget.FromEnv(os.LookupEnv, nil); err != nil {
		return fail(exitUsage, "error: "+err.Error())
	}
	res, err := render(req)
	if err != nil {
		if de, ok := err.(*diag.Diagnostics); ok {
			var b bytes.Buffer
			if werr := diag.Write(&b, "text", de.Items, false); werr != nil {
				return werr
			}
			return fail(exitInvalid, strings.TrimRight(b.String(), "\n"), reproduce)
		}
		return fail(exitUsage, "error: "+err.Error(), reproduce)
	}
	if err := diag.Write(s.err, "text", res.Diagnostics, false); err != nil {
		return err
	}
	if len(res.Objects) == 0 {
		// Argo CD takes an empty output for a render of zero objects and prunes everything.
		return fail(exitInvalid, "error: the render produced no objects", reproduce)
	}
	// Encoding YAML cannot fail (every check has passed): stream it, as render does.
	if err := manifest.WriteYAML(s.out, res.Objects); err != nil {
		return err
	}
	fmt.Fprintln(s.err, summary(env, res))
	return nil
}

// summary is the line Argo CD's cmp-server logs after a successful generate.
func summary(env *plugin.Env, res *pipeline.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cocogen: rendered %d objects of cluster group %s", len(res.Objects), res.Group)
	if env.AppName != "" {
		fmt.Fprintf(&b, " for application %s", env.AppName)
	}
	if env.Revision != "" {
		fmt.Fprintf(&b, " at revision %s", env.Revision)
	}
	if env.KubeVersion != "" {
		fmt.Fprintf(&b, " (destination Kubernetes %s)", env.KubeVersion)
	}
	return b.String()
}

// errorLines prints a (joined) error one problem per line.
func errorLines(err error) []string {
	var out []string
	for l := range strings.SplitSeq(err.Error(), "\n") {
		out = append(out, "error: "+l)
	}
	return out
}

var (
	shellSafe = lazyre.New(`^[A-Za-z0-9_./:=@%+,-]+$`)
	userInfo  = lazyre.New(`://[^/@\s]+@`)
)

// shellJoin quotes arguments for a POSIX shell, hiding the user information of URLs.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		a = userInfo.ReplaceAllString(a, "://***@")
		if shellSafe.MatchString(a) {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
