package overlay

import (
	"path"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
)

// buildErr is Build with its diagnostics as an error (nil when there are no errors), as the tests compare them.
func buildErr(root *repo.Root, dir string, opt Options) (*Result, error) {
	res, d := Build(root, dir, opt)
	return res, d.Err()
}

// kustomizeOutput builds the loaded overlay again and parses kustomize's own YAML output of every object
// (the text `kustomize build` prints), for comparison with the converted objects.
func kustomizeOutput(t *testing.T, s *Sources) []*node.Node {
	t.Helper()
	out, err := kustomizeOutputErr(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func kustomizeOutputErr(s *Sources) ([]*node.Node, error) {
	fs := filesys.MakeFsInMemory()
	for _, rel := range s.w.order {
		if err := fs.WriteFile(path.Join(mount, rel), s.w.files[rel].data); err != nil {
			return nil, err
		}
	}
	m, err := run(fs, path.Join(mount, s.dir))
	if err != nil {
		return nil, err
	}
	var out []*node.Node
	for _, r := range m.Resources() {
		if err := r.SetOrigin(nil); err != nil {
			return nil, err
		}
		y, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		n, err := node.Parse("kustomize", y, node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
