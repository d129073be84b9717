// Package overlay builds kustomize overlays of the repository in-process with the kustomize library, reading
// files only through the repository root: the overlay's top-level directory is copied into an in-memory file
// system, so nothing outside the repository (or outside that directory) can be read, and a reference that
// tries is refused with an error that names it.
package overlay

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
)

// mount is where the repository appears in the in-memory file system.
const mount = "/repo"

// Build renders the kustomization in the root-relative directory dir and returns its objects in kustomize's
// order. The files available to the build are those under dir's top-level directory (overlays/ for
// overlays/hello-openshift).
func Build(root *repo.Root, dir string) ([]*node.Node, error) {
	clean, err := repo.Clean(dir)
	if err != nil {
		return nil, err
	}
	top := strings.SplitN(clean, "/", 2)[0]
	fs := filesys.MakeFsInMemory()
	err = root.WalkFiles(top, func(rel string, data []byte) error {
		return fs.WriteFile(path.Join(mount, rel), data)
	})
	if err != nil {
		return nil, fmt.Errorf("read overlay files under %s: %w", root.Display(top), err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	k := krusty.MakeKustomizer(opts)
	resMap, err := k.Run(fs, path.Join(mount, clean))
	if err != nil {
		return nil, explain(root, top, err)
	}
	var out []*node.Node
	for _, res := range resMap.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("kustomize %s: %w", root.Display(clean), err)
		}
		n, err := node.Parse("kustomize "+root.Display(clean), y, node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

var absPath = regexp.MustCompile(`/[^\s'":]+`)

// explain turns a kustomize error into one that says which reference left the files a build may read, and
// shows paths relative to the repository.
func explain(root *repo.Root, top string, err error) error {
	msg := err.Error()
	// Every file a build may read is under the mount point; a path elsewhere is a reference that left it.
	for _, p := range absPath.FindAllString(msg, -1) {
		if p != mount && !strings.HasPrefix(p, mount+"/") {
			return fmt.Errorf("kustomize refers to %s, outside %s: overlays may only use files of the repository under %s/", p, root.Display(top), top)
		}
	}
	msg = strings.ReplaceAll(msg, mount+"/", "")
	return fmt.Errorf("kustomize: %s", msg)
}
