// Command argocd-cmp-server is Argo CD's config management plugin server (the sidecar's entry point), built
// from the pinned upstream module so that the end-to-end tests drive the real server code. It is a test tool:
// nothing in cocogen's product module imports Argo CD.
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v2/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
