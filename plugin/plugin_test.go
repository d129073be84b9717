package plugin

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestReadEnvTreatsUnsetAndEmptyAlike(t *testing.T) {
	// Argo CD 2.x leaves out empty variables, 3.x passes them empty: the plugin must not see a difference.
	unset, err := ReadEnv([]string{"ARGOCD_APP_NAME=root"})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := ReadEnv([]string{"ARGOCD_APP_NAME=root", "ARGOCD_APP_NAMESPACE=", "ARGOCD_APP_SOURCE_PATH=", "ARGOCD_ENV_COCOGEN_APP=", "ARGOCD_APP_PARAMETERS=", "KUBE_VERSION="})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(unset, empty) {
		t.Errorf("unset and empty differ:\n%+v\n%+v", unset, empty)
	}
}

func TestReadEnv(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name    string
		environ []string
		want    *Env
		wantErr []string
	}{
		{
			name: "Argo CD's build variables and plugin env",
			environ: []string{"ARGOCD_APP_NAME=cocogen", "ARGOCD_APP_NAMESPACE=vp-gitops", "ARGOCD_APP_SOURCE_PATH=.",
				"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/me/cocogen.git", "ARGOCD_APP_SOURCE_TARGET_REVISION=main",
				"ARGOCD_APP_REVISION=0123456789abcdef", "KUBE_VERSION=1.32", "ARGOCD_ENV_COCOGEN_APP=trustee", "ARGOCD_APP_PARAMETERS=null",
				"ARGOCD_ENV_COCOGEN_SET=a=b=c"},
			want: &Env{AppName: "cocogen", AppNamespace: "vp-gitops", SourcePath: ".", SourceRepoURL: "https://git.example.com/me/cocogen.git",
				SourceTargetRevision: "main", Revision: "0123456789abcdef", KubeVersion: "1.32",
				Plugin: map[string]string{"COCOGEN_APP": "trustee", "COCOGEN_SET": "a=b=c"}},
		},
		{
			name:    "the later of two entries wins, as in os/exec",
			environ: []string{"ARGOCD_ENV_COCOGEN_APP=sidecar-default", "ARGOCD_ENV_COCOGEN_APP=trustee"},
			want:    &Env{Plugin: map[string]string{"COCOGEN_APP": "trustee"}},
		},
		{
			name:    "parameters from ARGOCD_APP_PARAMETERS, exact names and order",
			environ: []string{`ARGOCD_APP_PARAMETERS=[{"array":["a=1","b=2"],"name":"set"},{"name":"cluster-group","string":"hub"},{"map":{"k.x":"v"},"name":"m"}]`},
			want: &Env{Plugin: map[string]string{}, Params: []Param{
				{Name: "set", Array: []string{"a=1", "b=2"}, Kind: "array"},
				{Name: "cluster-group", String: str("hub"), Kind: "string"},
				{Name: "m", Map: map[string]string{"k.x": "v"}, Kind: "map"},
			}},
		},
		{
			name:    "PARAM_ variables are ignored when Argo CD sends ARGOCD_APP_PARAMETERS, even null",
			environ: []string{"ARGOCD_APP_PARAMETERS=null", "PARAM_CLUSTER_GROUP=stray", "PARAM_SET_0=x=1"},
			want:    &Env{Plugin: map[string]string{}},
		},
		{
			name:    "PARAM_ variables without ARGOCD_APP_PARAMETERS (a command run by hand)",
			environ: []string{"PARAM_CLUSTER_GROUP=hub", "PARAM_SET_1=b=2", "PARAM_SET_0=a=1", "PARAM_SET_STRING_0=c=3", "PARAM_VALUES_DIR=.", "PARAM_OTHER=x"},
			want: &Env{Plugin: map[string]string{}, Params: []Param{
				{Name: "cluster-group", String: str("hub"), Kind: "string"},
				{Name: "values-dir", String: str("."), Kind: "string"},
				{Name: "set", Array: []string{"a=1", "b=2"}, Kind: "array"},
				{Name: "set-string", Array: []string{"c=3"}, Kind: "array"},
			}},
		},
		{
			name:    "unknown plugin env entries are errors with a suggestion",
			environ: []string{"ARGOCD_ENV_cocogen_app=trustee", "ARGOCD_ENV_COCOGEN_CLUSTERGROUP=hub"},
			wantErr: []string{`ARGOCD_ENV_COCOGEN_CLUSTERGROUP: not a plugin env entry that cocogen reads`, `did you mean "COCOGEN_CLUSTER_GROUP"?`, `ARGOCD_ENV_cocogen_app`, `did you mean "COCOGEN_APP"?`},
		},
		{
			name:    "malformed ARGOCD_APP_PARAMETERS",
			environ: []string{`ARGOCD_APP_PARAMETERS={"name":"set"}`},
			wantErr: []string{"ARGOCD_APP_PARAMETERS is not the JSON array of parameters that Argo CD sends"},
		},
		{
			name:    "a parameter with two values",
			environ: []string{`ARGOCD_APP_PARAMETERS=[{"name":"set","string":"a=1","array":["b=2"]}]`},
			wantErr: []string{`parameter "set" must have exactly one of string, array and map`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadEnv(c.environ)
			if len(c.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", c.wantErr)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		want    Settings
		wantErr []string
	}{
		{
			name: "nothing set: the defaults of render",
			want: Settings{},
		},
		{
			name:    "the Application's source becomes global.repoURL and global.targetRevision",
			environ: []string{"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/me/coco,gen.git", "ARGOCD_APP_SOURCE_TARGET_REVISION=1234"},
			want:    Settings{SetStrings: []string{`global.repoURL=https://git.example.com/me/coco\,gen.git`, "global.targetRevision=1234"}},
		},
		{
			name: "a set that names the key wins over the Application's source",
			environ: []string{"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/me/cocogen.git", "ARGOCD_APP_SOURCE_TARGET_REVISION=main",
				"ARGOCD_ENV_COCOGEN_SET=global.repoURL=https://mirror.example.com/cocogen.git", `ARGOCD_APP_PARAMETERS=[{"name":"set-string","array":["global={}"]}]`},
			want: Settings{Sets: []string{"global.repoURL=https://mirror.example.com/cocogen.git"}, SetStrings: []string{"global={}"}},
		},
		{
			name: "parameters win over the plugin env",
			environ: []string{"ARGOCD_ENV_COCOGEN_APP=trustee", "ARGOCD_ENV_COCOGEN_CLUSTER_GROUP=hub", "ARGOCD_ENV_COCOGEN_VALUES_DIR=values",
				"ARGOCD_ENV_COCOGEN_METADATA=values/a.yaml", "ARGOCD_ENV_COCOGEN_SET=global.a=env\n\n  global.b=env  ",
				`ARGOCD_APP_PARAMETERS=[{"name":"cluster-group","string":"azure"},{"name":"metadata","string":"/clusters/prod.yaml"},{"name":"set","array":["global.a=param"]},{"name":"values-dir","string":""}]`},
			want: Settings{App: "trustee", ClusterGroup: "azure", ValuesDir: "values", Metadata: "clusters/prod.yaml",
				Sets: []string{"global.a=env", "global.b=env", "global.a=param"}},
		},
		{
			name:    "a parameter --set-string wins over an env --set by flag order",
			environ: []string{"ARGOCD_ENV_COCOGEN_SET=global.a=env", `ARGOCD_APP_PARAMETERS=[{"name":"set-string","array":["global.a=param"]}]`},
			want:    Settings{Sets: []string{"global.a=env"}, SetStrings: []string{"global.a=param"}},
		},
		{
			name:    "an env --set-string would beat a parameter --set: refused",
			environ: []string{"ARGOCD_ENV_COCOGEN_SET_STRING=global.x.y=env", `ARGOCD_APP_PARAMETERS=[{"name":"set","array":["global.x=1"]}]`},
			wantErr: []string{`parameter "set" sets global.x, and ARGOCD_ENV_COCOGEN_SET_STRING sets it too`, `set it with parameter "set-string" instead`},
		},
		{
			name:    "paths that leave the repository",
			environ: []string{"ARGOCD_ENV_COCOGEN_VALUES_DIR=../other", `ARGOCD_APP_PARAMETERS=[{"name":"metadata","string":"a/../../b"}]`},
			wantErr: []string{`ARGOCD_ENV_COCOGEN_VALUES_DIR: path "../other" leaves the repository root`, `parameter "metadata": path "a/../../b" leaves the repository root`},
		},
		{
			name:    "wrong parameter types and names",
			environ: []string{`ARGOCD_APP_PARAMETERS=[{"name":"set","string":"a=1"},{"name":"cluster-group","array":["a"]},{"name":"sets","array":["a=1"]}]`},
			wantErr: []string{`parameter "set" must be an array`, `parameter "cluster-group" must be a string`, `parameter "sets": cocogen has no such parameter`},
		},
		{
			name:    "malformed --set arguments name where they came from",
			environ: []string{"ARGOCD_ENV_COCOGEN_SET=global.a=1\nnovalue"},
			wantErr: []string{"ARGOCD_ENV_COCOGEN_SET, item 2:"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ReadEnv(c.environ)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Resolve(e)
			if len(c.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", c.wantErr)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("got  %#v\nwant %#v", *got, c.want)
			}
		})
	}
}

func TestRenderArgs(t *testing.T) {
	s := Settings{App: "trustee", ClusterGroup: "hub", ValuesDir: ".", Metadata: "clusters/prod.yaml", Sets: []string{"a=1"}, SetStrings: []string{"b=2", "c=3"}}
	want := []string{"render", "--repo-root", ".", "--app", "trustee", "--values-dir", ".", "--cluster-group", "hub", "--metadata", "clusters/prod.yaml",
		"--set", "a=1", "--set-string", "b=2", "--set-string", "c=3"}
	if got := s.RenderArgs(); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestRepoRoot(t *testing.T) {
	cases := []struct {
		wd, path, want, wantErr string
	}{
		{"/tmp/_cmp_server/uuid", "", "/tmp/_cmp_server/uuid", ""},
		{"/tmp/_cmp_server/uuid", ".", "/tmp/_cmp_server/uuid", ""},
		{"/tmp/_cmp_server/uuid/apps/coco", "apps/coco", "/tmp/_cmp_server/uuid", ""},
		{"/tmp/_cmp_server/uuid/apps/coco", "./apps/coco/", "/tmp/_cmp_server/uuid", ""},
		{"/tmp/_cmp_server/uuid/apps/coco", "/apps/coco", "/tmp/_cmp_server/uuid", ""},
		{"/tmp/_cmp_server/uuid/coco", "apps/coco", "", "does not end with ARGOCD_APP_SOURCE_PATH"},
		{"/tmp/_cmp_server/uuid/apps", "apps/../..", "", "leaves the repository root"},
		{"/a", "a/b/c", "", "does not end with"},
		{"relative/dir", ".", "", "not absolute"},
	}
	for _, c := range cases {
		got, err := RepoRoot(c.wd, c.path)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("RepoRoot(%q, %q) = %q, %v; want error %q", c.wd, c.path, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("RepoRoot(%q, %q) = %q, %v; want %q", c.wd, c.path, got, err, c.want)
		}
	}
}

func TestRequestConfinesTheMetadataFile(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(root, "meta.yaml")); err != nil {
		t.Fatal(err)
	}
	s := &Settings{Metadata: "meta.yaml"}
	if _, err := s.Request(root); err == nil || !strings.Contains(err.Error(), "escapes the repository root") {
		t.Errorf("a metadata file that links outside the repository was read: %v", err)
	}
}

// pluginConfig mirrors Argo CD's PluginConfig (cmpserver/plugin/config.go, v2.14 and v3): the test decodes
// plugin.yaml strictly into it, because the cmp-server itself ignores unknown keys and a typo would go unseen.
type pluginConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version  *string `json:"version"`
		Init     *command
		Generate command `json:"generate"`
		Discover *struct {
			FileName string `json:"fileName"`
			Find     struct {
				command
				Glob string `json:"glob"`
			} `json:"find"`
		} `json:"discover"`
		Parameters struct {
			Static  []Announcement `json:"static"`
			Dynamic command        `json:"dynamic"`
		} `json:"parameters"`
		PreserveFileMode bool `json:"preserveFileMode"`
		ProvideGitCreds  bool `json:"provideGitCreds"`
	} `json:"spec"`
}

type command struct {
	Command []string `json:"command"`
	Args    []string `json:"args"`
}

func TestPluginYAML(t *testing.T) {
	data, err := os.ReadFile("../plugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg pluginConfig
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatalf("plugin.yaml: %v", err)
	}
	if cfg.APIVersion != "argoproj.io/v1alpha1" || cfg.Kind != "ConfigManagementPlugin" {
		t.Errorf("plugin.yaml is a %s %s, want an argoproj.io/v1alpha1 ConfigManagementPlugin", cfg.APIVersion, cfg.Kind)
	}
	if cfg.Metadata.Name != "cocogen" {
		t.Errorf("metadata.name = %q: Applications and the built-in pattern name the plugin cocogen", cfg.Metadata.Name)
	}
	if cfg.Spec.Version == nil || *cfg.Spec.Version != "" {
		t.Errorf("spec.version must be present and empty: a version renames the socket to cocogen-<version>.sock and the plugin to cocogen-<version>")
	}
	if cfg.Spec.Discover != nil {
		t.Errorf("plugin.yaml has a discover section: Argo CD would stream every repository of the instance to the sidecar to ask whether it matches")
	}
	if cfg.Spec.Init != nil {
		t.Errorf("plugin.yaml has an init command: generate needs none")
	}
	if !slices.Equal(cfg.Spec.Generate.Command, []string{"cocogen", "generate"}) || len(cfg.Spec.Generate.Args) > 0 {
		t.Errorf("generate = %q %q, want cocogen generate run directly (a shell pipeline can hide the exit code and turn a failure into an empty, pruning render)",
			cfg.Spec.Generate.Command, cfg.Spec.Generate.Args)
	}
	if !slices.Equal(cfg.Spec.Parameters.Dynamic.Command, []string{"cocogen", "parameters"}) || len(cfg.Spec.Parameters.Dynamic.Args) > 0 {
		t.Errorf("parameters.dynamic = %q, want cocogen parameters", cfg.Spec.Parameters.Dynamic.Command)
	}
	if !reflect.DeepEqual(cfg.Spec.Parameters.Static, Static()) {
		t.Errorf("parameters.static differs from plugin.Static():\n%+v\n%+v", cfg.Spec.Parameters.Static, Static())
	}
	for _, a := range cfg.Spec.Parameters.Static {
		if a.Name == ParamClusterGroup {
			t.Errorf("cluster-group is announced statically: Argo CD lets a static announcement override the dynamic one with the repository's default")
		}
	}
	if cfg.Spec.PreserveFileMode || cfg.Spec.ProvideGitCreds {
		t.Errorf("preserveFileMode and provideGitCreds must stay off: cocogen executes nothing from the repository and needs no Git credentials")
	}
}

func TestEveryParameterIsInTheContract(t *testing.T) {
	table := ContractTable()
	for _, a := range Announcements() {
		if !strings.Contains(table, "`"+a.Name+"`") {
			t.Errorf("parameter %s is missing from the contract table", a.Name)
		}
	}
	for _, n := range envNames {
		if !strings.Contains(table, "`"+n+"`") {
			t.Errorf("plugin env %s is missing from the contract table", n)
		}
	}
}
