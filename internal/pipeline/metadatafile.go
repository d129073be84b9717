package pipeline

import (
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/repo"
)

// MetadataFile reads the metadata file a render of req would read when req carries none: the cluster's file
// under clusters/<group>/, cluster-metadata-<group>.yaml or cluster-metadata.yaml. data is nil when there is
// none; problems are in d. cocogen secrets init reads the trust anchor's path from it.
func MetadataFile(root *repo.Root, relDir string, req Request, d *diag.List) (data []byte, name string, ok bool) {
	rel, _, ok := metadataFile(root, relDir, req, d)
	if !ok {
		return nil, "", false
	}
	data, ok = readMetadataFile(root, rel, d)
	if !ok || data == nil {
		return nil, "", ok
	}
	return data, root.Display(rel), true
}
