package values

import (
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
)

// A null in the values deletes the key from the chart defaults when Helm coalesces them (helmvalues.Coalesce). For
// most keys that is all there is to it: the chart then sees the key as unset. Two kinds of key need more,
// because Helm's answer there is a failure that names neither the file nor the line:
//
//   - keys that the clustergroup chart's values.schema.json requires (clusterGroup.applications, global.options,
//     …): Helm rejects the deleted key ("applications is required"); cocogen reports it at the null, with
//     what to write instead;
//   - blocks of settings that the chart's templates read key by key (clusterGroup.imperative,
//     clusterGroup.argoCD, …), typically written with all their children commented out: Helm deletes the
//     block with its defaults and the templates then fail on a nil pointer ("nil pointer evaluating
//     interface {}.namespace"). cocogen reads such a null as an empty block, so that the chart's defaults
//     apply, as if the key were absent, and warns.
//
// Any other null over a default (a scalar, a list, a block of entries such as clusterGroup.subscriptions)
// is left to Helm's rule: the key is deleted and the chart sees it unset.

// blocksReadByTemplates are the default blocks that the clustergroup chart's templates dereference without
// a guard (templates/imperative/*, templates/plumbing/argocd*.yaml, templates/_helpers.tpl).
var blocksReadByTemplates = map[string]bool{
	"global":                                 true,
	"global.secretStore":                     true,
	"clusterGroup.argoCD":                    true,
	"clusterGroup.imperative":                true,
	"clusterGroup.imperative.ansibleDevMode": true,
}

// requiredByChart are the keys with chart defaults that the chart's schema requires, with what to write
// instead of a null.
var requiredByChart = map[string]string{
	"clusterGroup":                                   "define the cluster group in values-<group>.yaml (clusterGroup: {name, namespaces, applications})",
	"clusterGroup.name":                              "set the cluster group's name",
	"clusterGroup.namespaces":                        "write namespaces: [] for none",
	"clusterGroup.applications":                      "write applications: {} for none",
	"clusterGroup.imperative.jobs":                   "write jobs: [] for none",
	"clusterGroup.imperative.ansibleDevMode.enabled": "write enabled: false, or remove the key for the default (false)",
	"global.options":                                 "remove the key for the chart's defaults, or set useCSV, syncPolicy and installPlanApproval",
	"global.options.useCSV":                          "write true or false, or remove the key for the default (true)",
	"global.options.syncPolicy":                      "write Automatic or Manual, or remove the key for the default (Automatic)",
	"global.options.installPlanApproval":             "write Automatic or Manual, or remove the key for the default (Automatic)",
	"secretStore.name":                               "write the name of the secret store, or remove the key for the default (vault-backend)",
	"secretStore.kind":                               "write the kind of the secret store, or remove the key for the default (ClusterSecretStore)",
}

// resolveNulls applies the rules above to the user values (before they are coalesced with the chart
// defaults) and returns the values to coalesce. A null that the chart requires is an error (reported to d
// when d is not nil); a null block of settings becomes an empty map at the null's position.
func resolveNulls(user *node.Node, d *diag.List) *node.Node {
	return resolveNullsAt(defaults(), user, "", d)
}

func resolveNullsAt(def, user *node.Node, path string, d *diag.List) *node.Node {
	if def == nil || def.Kind != node.Map || user == nil || user.Kind != node.Map {
		return user
	}
	out := user
	for _, e := range def.Entries() {
		cur, ok := user.Lookup(e.Key)
		if !ok {
			continue
		}
		p := schema.Join(path, e.Key)
		var next *node.Node
		switch {
		case cur.IsNull():
			pos := user.KeyPos(e.Key)
			if cur != nil && !cur.Pos.IsZero() {
				pos = cur.Pos
			}
			if hint, req := requiredByChart[p]; req {
				if d != nil {
					d.Errorf(pos, p, "is null, which deletes it, but the clustergroup chart requires it: %s", hint)
				}
				continue
			}
			if !blocksReadByTemplates[p] {
				continue // Helm deletes the key: the chart sees it unset
			}
			if d != nil {
				d.Warnf(pos, p, "is null: read as an empty block, so that the chart's defaults apply (Helm would delete them and fail); remove the key or write %s: {}", e.Key)
			}
			next = node.NewMap().At(pos)
		case cur.Kind == node.Map:
			next = resolveNullsAt(e.Value, cur, p, d)
			if next == cur {
				continue
			}
		default:
			continue
		}
		out = withValue(out, e.Key, next)
	}
	return out
}

// withValue returns a copy of map m with the value of key replaced, keeping every position.
func withValue(m *node.Node, key string, v *node.Node) *node.Node {
	out := node.NewMapCap(m.Len()).At(m.Pos)
	out.Origin = m.Origin
	for _, e := range m.Entries() {
		if e.Key == key {
			e.Value = v
		}
		out.SetAt(e.Key, e.KeyPos, e.Value)
	}
	return out
}
