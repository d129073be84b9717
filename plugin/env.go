// Package plugin is cocogen's Argo CD config management plugin adapter. It reads what Argo CD passes to a
// sidecar plugin command (ARGOCD_APP_*, the Application's plugin env as ARGOCD_ENV_*, its parameters as
// ARGOCD_APP_PARAMETERS or PARAM_*, KUBE_VERSION), finds the repository root in the directory the
// cmp-server extracted, and turns them into the same pipeline.Request that `cocogen render` builds from its
// flags. It also announces the parameters that the Argo CD UI offers.
//
// Nothing here writes output: the command prints, so that stdout carries only manifests.
package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/schema"
)

// Variables Argo CD sets for every plugin command.
const (
	VarAppName              = "ARGOCD_APP_NAME"
	VarAppNamespace         = "ARGOCD_APP_NAMESPACE"
	VarSourcePath           = "ARGOCD_APP_SOURCE_PATH"
	VarSourceRepoURL        = "ARGOCD_APP_SOURCE_REPO_URL"
	VarSourceTargetRevision = "ARGOCD_APP_SOURCE_TARGET_REVISION"
	VarRevision             = "ARGOCD_APP_REVISION"
	VarKubeVersion          = "KUBE_VERSION"
	VarParameters           = "ARGOCD_APP_PARAMETERS"

	// EnvPrefix is what Argo CD puts before the name of every spec.source.plugin.env entry.
	EnvPrefix = "ARGOCD_ENV_"
	// ParamPrefix is what Argo CD puts before the upper-cased name of every parameter.
	ParamPrefix = "PARAM_"
)

// Names of the spec.source.plugin.env entries cocogen reads (Argo CD passes them as ARGOCD_ENV_<name>).
const (
	EnvApp          = "COCOGEN_APP"
	EnvClusterGroup = "COCOGEN_CLUSTER_GROUP"
	EnvCluster      = "COCOGEN_CLUSTER"
	EnvValuesDir    = "COCOGEN_VALUES_DIR"
	EnvMetadata     = "COCOGEN_METADATA"
	EnvSet          = "COCOGEN_SET"
	EnvSetString    = "COCOGEN_SET_STRING"
)

// envNames are the plugin env entries cocogen knows; any other ARGOCD_ENV_ variable is an error, so that a
// typo is reported instead of silently ignored.
var envNames = []string{EnvApp, EnvClusterGroup, EnvCluster, EnvValuesDir, EnvMetadata, EnvSet, EnvSetString}

// Env is what Argo CD tells a plugin command about the application it renders. Argo CD 2.x leaves out
// variables whose value is empty and 3.x passes them empty: both read as "".
type Env struct {
	AppName              string
	AppNamespace         string
	SourcePath           string
	SourceRepoURL        string
	SourceTargetRevision string
	Revision             string
	KubeVersion          string
	// Plugin holds the Application's spec.source.plugin.env entries, by name (without ARGOCD_ENV_).
	Plugin map[string]string
	// Params are the Application's spec.source.plugin.parameters, in the order Argo CD sent them.
	Params []Param
	// Facts are the COCOGEN_FACT_* plugin env entries: cluster facts over the metadata file, sorted by name.
	Facts []metadata.Override
}

// Param is one parameter value set on the Application. Exactly one of String, Array and Map is set.
type Param struct {
	Name   string
	String *string
	Array  []string
	Map    map[string]string
	// Kind is "string", "array" or "map".
	Kind string
}

// ReadEnv reads the plugin contract from an environment in os.Environ form (later entries win, as in
// os/exec). Every problem is reported, each naming the variable; values are never echoed.
func ReadEnv(environ []string) (*Env, error) {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		vars[k] = v
	}
	e := &Env{
		AppName:              vars[VarAppName],
		AppNamespace:         vars[VarAppNamespace],
		SourcePath:           vars[VarSourcePath],
		SourceRepoURL:        vars[VarSourceRepoURL],
		SourceTargetRevision: vars[VarSourceTargetRevision],
		Revision:             vars[VarRevision],
		KubeVersion:          vars[VarKubeVersion],
		Plugin:               map[string]string{},
	}
	var errs []error
	var unknown []string
	for k, v := range vars {
		name, ok := strings.CutPrefix(k, EnvPrefix)
		if !ok || v == "" {
			continue
		}
		if o, isFact, err := metadata.OverrideFromEnv(name, v); isFact {
			if err != nil {
				errs = append(errs, err)
			} else {
				e.Facts = append(e.Facts, o)
			}
			continue
		}
		if !slices.Contains(envNames, name) {
			unknown = append(unknown, name)
			continue
		}
		e.Plugin[name] = v
	}
	sort.Strings(unknown)
	sort.Slice(e.Facts, func(i, j int) bool { return e.Facts[i].Path < e.Facts[j].Path })
	for _, name := range unknown {
		msg := fmt.Sprintf("%s%s: not a plugin env entry that cocogen reads (known: %s, and %s<FACT> for a cluster fact)", EnvPrefix, name, strings.Join(envNames, ", "), metadata.EnvPrefix)
		if s := schema.Suggest(name, envNames); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		errs = append(errs, errors.New(msg))
	}
	params, err := readParams(vars)
	if err != nil {
		errs = append(errs, err)
	}
	e.Params = params
	return e, errors.Join(errs...)
}

// readParams reads the Application's parameters. ARGOCD_APP_PARAMETERS (JSON, exact names and values) is
// the source whenever Argo CD sends it, including the literal null it sends for a plugin block without
// parameters. PARAM_* variables are read only when it is absent (a command run by hand): they are Argo CD's
// lossy projection of the same values (upper-cased names, map keys rewritten), and in the sidecar any stray
// PARAM_ variable of the container's own environment would otherwise be taken for a parameter.
func readParams(vars map[string]string) ([]Param, error) {
	if raw := vars[VarParameters]; raw != "" {
		return parseParametersJSON(raw)
	}
	return paramsFromPARAM(vars)
}

// jsonParam is one element of ARGOCD_APP_PARAMETERS.
type jsonParam struct {
	Name   string             `json:"name"`
	String *string            `json:"string,omitempty"`
	Array  *[]string          `json:"array,omitempty"`
	Map    *map[string]string `json:"map,omitempty"`
}

func parseParametersJSON(raw string) ([]Param, error) {
	var list []jsonParam
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, fmt.Errorf("%s is not the JSON array of parameters that Argo CD sends: %w", VarParameters, err)
	}
	var out []Param
	var errs []error
	for i, jp := range list {
		p := Param{Name: jp.Name}
		n := 0
		if jp.String != nil {
			p.String, p.Kind = jp.String, "string"
			n++
		}
		if jp.Array != nil {
			p.Array, p.Kind = *jp.Array, "array"
			n++
		}
		if jp.Map != nil {
			p.Map, p.Kind = *jp.Map, "map"
			n++
		}
		switch {
		case jp.Name == "":
			errs = append(errs, fmt.Errorf("%s: parameter %d has no name", VarParameters, i))
			continue
		case n != 1:
			errs = append(errs, fmt.Errorf("%s: parameter %q must have exactly one of string, array and map", VarParameters, jp.Name))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// paramIndexRe splits PARAM_<NAME>_<index>, the variables of an array parameter's items.
var paramIndexRe = regexp.MustCompile(`^(.*)_([0-9]+)$`)

// paramsFromPARAM rebuilds the announced parameters from PARAM_* variables. Only cocogen's own parameter
// names are recognised, which Argo CD's projection keeps unambiguous: strings as PARAM_<NAME>, arrays as
// PARAM_<NAME>_<index>.
func paramsFromPARAM(vars map[string]string) ([]Param, error) {
	byEnv := map[string]Announcement{}
	for _, a := range Announcements() {
		byEnv[ParamPrefix+paramEnvName(a.Name)] = a
	}
	strs := map[string]string{}
	arrays := map[string]map[int]string{}
	var errs []error
	for k, v := range vars {
		if !strings.HasPrefix(k, ParamPrefix) || v == "" {
			continue
		}
		if a, ok := byEnv[k]; ok && a.CollectionType == "" {
			strs[a.Name] = v
			continue
		}
		if m := paramIndexRe.FindStringSubmatch(k); m != nil {
			if a, ok := byEnv[m[1]]; ok && a.CollectionType == "array" {
				i, err := strconv.Atoi(m[2])
				if err != nil || i > 10_000 {
					errs = append(errs, fmt.Errorf("%s: index out of range", k))
					continue
				}
				if arrays[a.Name] == nil {
					arrays[a.Name] = map[int]string{}
				}
				arrays[a.Name][i] = v
				continue
			}
		}
		// Anything else is not one of cocogen's parameters; left to whoever set it.
	}
	var out []Param
	for _, a := range Announcements() {
		if v, ok := strs[a.Name]; ok {
			out = append(out, Param{Name: a.Name, String: &v, Kind: "string"})
		}
		if items, ok := arrays[a.Name]; ok {
			idx := make([]int, 0, len(items))
			for i := range items {
				idx = append(idx, i)
			}
			sort.Ints(idx)
			p := Param{Name: a.Name, Kind: "array"}
			for _, i := range idx {
				p.Array = append(p.Array, items[i])
			}
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

// paramEnvName is Argo CD's projection of a parameter name into a variable name: upper case, every character
// outside [A-Z0-9_] replaced by "_".
func paramEnvName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			b[i] = '_'
		}
	}
	return string(b)
}
