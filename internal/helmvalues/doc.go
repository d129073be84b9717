// Package helmvalues holds Helm's value semantics over cocogen's value tree (internal/node): how several values
// files layer (Merge), how they fill a chart's defaults (Coalesce), how a value is typed for templates (Plain:
// numbers read from files are float64, integers given with --set stay int64) and the --set grammar (ParseSet,
// ParsePath, SetPath and the typing of flag values).
//
// The rules follow Helm v3: pkg/strvals (the --set grammar and its typing), pkg/chartutil/coalesce.go
// (coalescing with chart defaults, where a null deletes a default key) and cmd/helm's values merge
// (mergeMaps: maps merge key by key, anything else replaces), all at helm.sh/helm/v3 v3.18.x.
package helmvalues
