// Package cocogen holds the files at the repository root that the cocogen binary ships with.
package cocogen

import _ "embed"

// PluginYAML is plugin.yaml: the ConfigManagementPlugin that Argo CD's cocogen sidecar loads. `cocogen
// bootstrap` puts these bytes into the sidecar's ConfigMap, so the cluster runs the file that is reviewed here.
//
//go:embed plugin.yaml
var PluginYAML []byte
