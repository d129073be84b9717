package plugin

import (
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
)

// Parameter names (spec.source.plugin.parameters[].name) that cocogen reads.
const (
	ParamClusterGroup = "cluster-group"
	ParamValuesDir    = "values-dir"
	ParamMetadata     = "metadata"
	ParamSet          = "set"
	ParamSetString    = "set-string"
)

// Announcement is one parameter the Argo CD UI offers, in the JSON form of Argo CD's ParameterAnnouncement
// (the dynamic command prints a JSON array of them; plugin.yaml lists the static ones).
type Announcement struct {
	Name           string            `json:"name"`
	Title          string            `json:"title,omitempty"`
	Tooltip        string            `json:"tooltip,omitempty"`
	Required       bool              `json:"required,omitempty"`
	ItemType       string            `json:"itemType,omitempty"`
	CollectionType string            `json:"collectionType,omitempty"`
	String         string            `json:"string,omitempty"`
	Array          []string          `json:"array,omitempty"`
	Map            map[string]string `json:"map,omitempty"`
}

// Static are the parameters plugin.yaml announces (spec.parameters.static); a test keeps the file equal to
// this list. Their defaults do not depend on the repository.
func Static() []Announcement {
	return []Announcement{
		{
			Name:    ParamValuesDir,
			Title:   "Values directory",
			Tooltip: "Repository path of the directory with values-global.yaml and values-<group>.yaml (. for a Validated Patterns repository).",
			String:  "values",
		},
		{
			Name:    ParamMetadata,
			Title:   "Cluster metadata file",
			Tooltip: "Repository path of the cluster metadata file (default cluster-metadata.yaml in the values directory, if present).",
		},
		{
			Name:           ParamSet,
			Title:          "Set values (--set)",
			Tooltip:        "One Helm --set argument per item (key=value[,key=value]); wins over the metadata file and the plugin env.",
			CollectionType: "array",
		},
		{
			Name:           ParamSetString,
			Title:          "Set string values (--set-string)",
			Tooltip:        "Like set, but every value is a string.",
			CollectionType: "array",
		},
	}
}

// clusterGroupAnnouncement is the dynamic parameter; its default is the group the repository renders.
func clusterGroupAnnouncement(current string) Announcement {
	return Announcement{
		Name:    ParamClusterGroup,
		Title:   "Cluster group",
		Tooltip: "The cluster group to render: values-<group>.yaml in the values directory. Default: main.clusterGroupName of values-global.yaml.",
		String:  current,
	}
}

// Announcements lists every parameter cocogen reads: the dynamic ones first, then the static ones, the order
// in which Argo CD shows them.
func Announcements() []Announcement {
	return append([]Announcement{clusterGroupAnnouncement("")}, Static()...)
}

// Dynamic returns what `cocogen parameters` prints: the parameters whose default depends on the repository.
// It never fails on the repository's content, because Argo CD would then show no parameters at all; what it
// could not read is returned as warnings.
func Dynamic(e *Env, root string) ([]Announcement, []string) {
	var warnings []string
	s, err := Resolve(e)
	if err != nil {
		warnings = append(warnings, err.Error())
	}
	group := ""
	if s != nil {
		group = s.ClusterGroup
	}
	if group == "" && root != "" {
		valuesDir := "values"
		if s != nil && s.ValuesDir != "" {
			valuesDir = s.ValuesDir
		}
		g, err := defaultGroup(root, valuesDir)
		if err != nil {
			warnings = append(warnings, err.Error())
		}
		group = g
	}
	return []Announcement{clusterGroupAnnouncement(group)}, warnings
}

// defaultGroup reads main.clusterGroupName (or main.variant) of values-global.yaml.
func defaultGroup(root, valuesDir string) (string, error) {
	r, err := repo.Open(root)
	if err != nil {
		return "", err
	}
	defer r.Close()
	rel := valuesDir + "/values-global.yaml"
	data, err := r.ReadFile(rel)
	if err != nil {
		return "", err
	}
	n, err := node.Parse(rel, data, node.DefaultLimits)
	if err != nil {
		return "", err
	}
	for _, key := range []string{"clusterGroupName", "variant"} {
		if v := n.Path("main", key); v != nil && v.IsScalar() && !v.IsNull() {
			return v.Scalar(), nil
		}
	}
	return "", nil
}
