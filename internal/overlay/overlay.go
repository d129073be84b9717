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
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
)

// mount is where the repository appears in the in-memory file system.
const mount = "/repo"

// Resource is one object of a build and the repository file it came from.
type Resource struct {
	Node *node.Node
	// File is the repository path of the manifest the object was read from ("" for a generated object).
	File string
}

// kustomizationNames are the file names kustomize looks for, in its order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Build renders the kustomization in the root-relative directory dir and returns its objects in kustomize's
// order. The files available to the build are those under dir's top-level directory (overlays/ for
// overlays/hello-openshift).
func Build(root *repo.Root, dir string) ([]Resource, error) {
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
	// Ask kustomize to record which file each object comes from, so that problems name the manifest; the
	// record is removed again unless the kustomization asked for it.
	keepOrigin, err := trackOrigins(fs, path.Join(mount, clean))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root.Display(clean), err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	k := krusty.MakeKustomizer(opts)
	resMap, err := k.Run(fs, path.Join(mount, clean))
	if err != nil {
		return nil, explain(root, top, err)
	}
	var out []Resource
	for _, res := range resMap.Resources() {
		file := ""
		if o, err := res.GetOrigin(); err == nil && o != nil && o.Repo == "" && o.Path != "" {
			file = path.Join(clean, o.Path)
			if rel, err := repo.Clean(file); err == nil {
				file = rel
			}
		}
		if !keepOrigin {
			if err := res.SetOrigin(nil); err != nil {
				return nil, fmt.Errorf("kustomize %s: %w", root.Display(clean), err)
			}
		}
		y, err := res.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("kustomize %s: %w", root.Display(clean), err)
		}
		n, err := node.Parse("kustomize "+root.Display(clean), y, node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		out = append(out, Resource{Node: n, File: file})
	}
	return out, nil
}

// trackOrigins adds originAnnotations to the buildMetadata of the kustomization in dir (of the in-memory file
// system) and reports whether it was there already.
func trackOrigins(fs filesys.FileSystem, dir string) (present bool, err error) {
	for _, name := range kustomizationNames {
		p := path.Join(dir, name)
		if !fs.Exists(p) {
			continue
		}
		data, err := fs.ReadFile(p)
		if err != nil {
			return false, err
		}
		doc, err := kyaml.Parse(string(data))
		if err != nil {
			return false, nil // kustomize reports it, with its own words
		}
		meta, err := doc.Pipe(kyaml.Lookup("buildMetadata"))
		if err != nil {
			return false, nil
		}
		if meta != nil {
			if meta.YNode().Kind != kyaml.SequenceNode {
				return false, nil // kustomize reports it
			}
			for _, it := range meta.YNode().Content {
				if it.Value == types.OriginAnnotations {
					return true, nil
				}
			}
		}
		if err := doc.PipeE(kyaml.LookupCreate(kyaml.SequenceNode, "buildMetadata"), kyaml.Append(&kyaml.Node{Kind: kyaml.ScalarNode, Value: types.OriginAnnotations})); err != nil {
			return false, err
		}
		out, err := doc.String()
		if err != nil {
			return false, err
		}
		return false, fs.WriteFile(p, []byte(out))
	}
	return false, nil
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
