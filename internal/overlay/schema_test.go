package overlay

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
)

// TestEveryKustomizationFieldIsKnown: the walk classifies every field of kustomize's Kustomization. After a
// kustomize upgrade adds one, this fails until someone decides whether it names files or remotes.
func TestEveryKustomizationFieldIsKnown(t *testing.T) {
	var got []string
	for _, f := range jsonFields(kustomizationType) {
		got = append(got, f.name)
		if !kustomizationFields[f.name] {
			t.Errorf("kustomization field %q is not classified in kustomizationFields", f.name)
		}
	}
	for name := range kustomizationFields {
		if !slices.Contains(got, name) {
			t.Errorf("kustomizationFields lists %q, which Kustomization does not have", name)
		}
	}
}

// TestEveryBuiltinIsClassified: every builtin plugin of the kustomize cocogen is built with is either known
// to read no files or has its file fields checked.
func TestEveryBuiltinIsClassified(t *testing.T) {
	want := krusty.GetBuiltinPluginNames()
	sort.Strings(want)
	if got := allBuiltins(); !slices.Equal(got, want) {
		t.Errorf("classified builtins %v, kustomize has %v", got, want)
	}
}

// fill sets every field reachable from v to a non-zero value, so that encoding/json writes every key.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, depth+1)
		m.SetMapIndex(reflect.ValueOf("k").Convert(v.Type().Key()), e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	}
}

// TestJSONFieldsAgreeWithEncodingJSON: the schema walk names exactly the keys that encoding/json writes (and
// so reads) for every struct it walks.
func TestJSONFieldsAgreeWithEncodingJSON(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var check func(t reflect.Type)
	check = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		v := reflect.New(typ)
		fill(v.Elem(), 0)
		data, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(data, &keys); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var want, got []string
		for k := range keys {
			want = append(want, k)
		}
		for _, f := range jsonFields(typ) {
			got = append(got, f.name)
			check(f.typ)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema walk knows %v, encoding/json writes %v", typ, got, want)
		}
	}
	for _, v := range []any{types.Kustomization{}, builtins.ConfigMapGeneratorPlugin{}, builtins.SecretGeneratorPlugin{},
		builtins.PatchTransformerPlugin{}, builtins.PatchJson6902TransformerPlugin{}, builtins.PatchStrategicMergeTransformerPlugin{},
		builtins.ReplacementTransformerPlugin{}, builtins.ValueAddTransformerPlugin{}} {
		check(reflect.TypeOf(v))
	}
	if len(seen) < 20 {
		t.Errorf("checked only %d struct types", len(seen))
	}
}

// TestRemote: every form of remote reference kustomize accepts is recognised; repository paths are not.
func TestRemote(t *testing.T) {
	for _, s := range []string{
		"https://example.com/x.yaml", "HTTPS://EXAMPLE.COM/x.yaml", "http://127.0.0.1:8080/x", "https:x.yaml",
		"ssh://git@example.com/org/repo", "git@github.com:org/repo.git", "deploy@host:repo", "file:///srv/repo",
		"FILE:///srv/repo", "github.com/org/repo//deploy?ref=v1", "GitHub.com:org/repo", "git::https://example.com/r",
		"git::ssh://example.com/r", "  https://example.com/leading-space", "gitlab.example.com:org/repo.git",
		"example.com://x", "s3://bucket/key", "https://example.com/a\nb: c",
		"github.com/org/repo\nkind: x",
	} {
		if remote(s) == "" {
			t.Errorf("%q is not recognised as remote", s)
		}
	}
	for _, s := range []string{
		"deployment.yaml", "../base", "./base/", "sub/dir/file.yml", "key=file.conf", "a..b/c",
		"apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: x\n  annotations: {docs: 'https://example.com'}\n",
		"- op: add\n  path: /metadata/labels/a\n  value: b\n",
	} {
		if what := remote(s); what != "" {
			t.Errorf("%q is taken for %s", s, what)
		}
	}
	if !strings.Contains(remote("git@example.com:x"), "keys") {
		t.Error("an ssh remote should say git would use the user's keys")
	}
}
