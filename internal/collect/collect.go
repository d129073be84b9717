package collect

import (
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Sources are the inputs of a collected metadata file, from the weakest to the strongest.
type Sources struct {
	// Base is an existing metadata file whose facts are kept unless a source below knows better (nil: none).
	Base     []byte
	BaseName string
	// Cluster is what a live cluster said (nil: no cluster was asked).
	Cluster *Cluster
	// CloudConf is a cloud.conf file; when set, the live cluster's cloud.conf is not used.
	CloudConf     []byte
	CloudConfName string
	// Facts are explicit overrides (--fact), applied last.
	Facts []metadata.Override
}

// Metadata merges the sources into validated metadata. Problems point at the source that holds them
// (cloud.conf:line:col, the cluster object, --fact). Missing Azure facts on an Azure cluster are warnings: the
// file may be completed by hand.
func Metadata(s Sources) (*metadata.Metadata, *diag.List) {
	d := &diag.List{}
	var overrides []metadata.Override
	if s.Cluster != nil {
		if s.Cluster.CloudConf != nil && s.CloudConf == nil {
			o, cd := CloudConf(SourceCloudConf, s.Cluster.CloudConf)
			d.Append(cd)
			overrides = append(overrides, o...)
		}
		overrides = append(overrides, s.Cluster.Facts...)
	}
	if s.CloudConf != nil {
		o, cd := CloudConf(s.CloudConfName, s.CloudConf)
		d.Append(cd)
		overrides = append(overrides, o...)
	}
	overrides = append(overrides, s.Facts...)
	if d.HasErrors() {
		return nil, d
	}
	m, md := metadata.Load(s.BaseName, s.Base, overrides)
	d.Append(md)
	if m == nil {
		return nil, d
	}
	if m.Cluster.Platform.Value == "Azure" || m.Azure.Pos != (srcpos.Pos{}) {
		var missing diag.List
		if _, ok := m.PeerPods(&missing); !ok {
			for _, x := range missing.Sorted() {
				x.Severity = diag.Warning
				d.Add(x)
			}
		}
	}
	return m, d
}
