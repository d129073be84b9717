// Package secrets writes and reads the pattern's secrets file: what Vault must hold for the pattern (the KBS
// admin key pair, the KBS CA key, the KBS resources), in the Validated Patterns values-secret format version
// 2.0, and loads it into the pattern's Vault. Nothing here renders: the renderer never sees this file.
//
// Format facts (validatedpatterns/rhvp.cluster_utils, roles/vault_utils/values-secrets.v2.schema.json and
// plugins/module_utils/load_secrets_v2.py, main in 2026): version "2.0" is required; backingStore defaults to
// vault; every secret has a name, an optional vaultMount (default secret) and vaultPrefixes (default [hub],
// never empty) and at least one field; a field has a name and one of value, path (a local file, ~ expanded),
// ini_file, or onMissingValue generate/prompt; base64 encodes the value before it is stored. Each secret is
// stored with `vault kv put -mount=<mount> <prefix>/<name>`, so the ExternalSecrets read it at
// <mount>/data/<prefix>/<name>.
package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileBytes bounds the secrets file cocogen reads.
const MaxFileBytes = 4 << 20

// File is a values-secret file, version 2.0.
type File struct {
	Version      string   `yaml:"version"`
	BackingStore string   `yaml:"backingStore,omitempty"`
	Secrets      []Secret `yaml:"secrets"`
	// VaultPolicies, SecretStoreNamespace, DefaultLabels and DefaultAnnotations are kept as read.
	VaultPolicies        map[string]string `yaml:"vaultPolicies,omitempty"`
	SecretStoreNamespace string            `yaml:"secretStoreNamespace,omitempty"`
	DefaultLabels        map[string]string `yaml:"defaultLabels,omitempty"`
	DefaultAnnotations   map[string]string `yaml:"defaultAnnotations,omitempty"`
}

// Secret is one Vault secret: one entry of secrets.
type Secret struct {
	Name          string   `yaml:"name"`
	VaultMount    string   `yaml:"vaultMount,omitempty"`
	VaultPrefixes []string `yaml:"vaultPrefixes,omitempty"`
	// TargetNamespaces, Labels and Annotations serve the kubernetes and none backing stores; kept as read.
	TargetNamespaces []string          `yaml:"targetNamespaces,omitempty"`
	Labels           map[string]string `yaml:"labels,omitempty"`
	Annotations      map[string]string `yaml:"annotations,omitempty"`
	Fields           []Field           `yaml:"fields"`
}

// Field is one property of a secret.
type Field struct {
	Name           string  `yaml:"name"`
	Value          *string `yaml:"value,omitempty"`
	Path           string  `yaml:"path,omitempty"`
	IniFile        string  `yaml:"ini_file,omitempty"`
	IniSection     string  `yaml:"ini_section,omitempty"`
	IniKey         string  `yaml:"ini_key,omitempty"`
	OnMissingValue string  `yaml:"onMissingValue,omitempty"`
	VaultPolicy    string  `yaml:"vaultPolicy,omitempty"`
	Base64         bool    `yaml:"base64,omitempty"`
	Override       bool    `yaml:"override,omitempty"`
	Prompt         string  `yaml:"prompt,omitempty"`
	Description    string  `yaml:"description,omitempty"`
}

// Mount returns the secret's Vault mount (default secret).
func (s *Secret) Mount() string {
	if s.VaultMount == "" {
		return "secret"
	}
	return s.VaultMount
}

// Prefixes returns the secret's Vault prefixes (default hub).
func (s *Secret) Prefixes() []string {
	if s.VaultPrefixes == nil {
		return []string{"hub"}
	}
	return s.VaultPrefixes
}

// Find returns the secret called name.
func (f *File) Find(name string) *Secret {
	for i := range f.Secrets {
		if f.Secrets[i].Name == name {
			return &f.Secrets[i]
		}
	}
	return nil
}

// Field returns the field called name.
func (s *Secret) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Parse reads a secrets file. Errors name the file and line; no error message quotes a value.
func Parse(name string, data []byte) (*File, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxFileBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file", name)
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document: the file holds one", name, extra.Line)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &f, nil
}

// validate checks what the Validated Patterns loader checks for version 2.0.
func (f *File) validate() error {
	if f.Version != "2.0" {
		return fmt.Errorf("version: is %q, want \"2.0\" (the Validated Patterns values-secret format version 2)", f.Version)
	}
	if f.BackingStore != "" && f.BackingStore != "vault" {
		return fmt.Errorf("backingStore: is %q; cocogen loads only into vault", f.BackingStore)
	}
	seen := map[string]bool{}
	for i, s := range f.Secrets {
		switch {
		case s.Name == "":
			return fmt.Errorf("secrets[%d]: no name", i)
		case seen[s.Name]:
			return fmt.Errorf("secrets[%d]: a second secret called %q", i, s.Name)
		case s.VaultPrefixes != nil && len(s.VaultPrefixes) == 0:
			return fmt.Errorf("secret %s: vaultPrefixes is empty", s.Name)
		case len(s.Fields) == 0:
			return fmt.Errorf("secret %s: no fields", s.Name)
		}
		seen[s.Name] = true
		for _, p := range s.Prefixes() {
			if !validPathPart(p) {
				return fmt.Errorf("secret %s: vault prefix %q: use letters, digits, -, _, . and / only", s.Name, p)
			}
		}
		if !validPathPart(s.Name) || strings.Contains(s.Name, "/") {
			return fmt.Errorf("secret %q: use letters, digits, -, _ and . only in names", s.Name)
		}
		if !validPathPart(s.Mount()) {
			return fmt.Errorf("secret %s: vaultMount %q: use letters, digits, -, _, . and / only", s.Name, s.Mount())
		}
		fields := map[string]bool{}
		for j, fl := range s.Fields {
			switch {
			case fl.Name == "":
				return fmt.Errorf("secret %s: fields[%d]: no name", s.Name, j)
			case fields[fl.Name]:
				return fmt.Errorf("secret %s: a second field called %q", s.Name, fl.Name)
			case fl.Value != nil && fl.OnMissingValue == "generate":
				return fmt.Errorf("secret %s, field %s: has a value and onMissingValue: generate", s.Name, fl.Name)
			case fl.Value != nil && fl.Path != "":
				return fmt.Errorf("secret %s, field %s: has both value and path", s.Name, fl.Name)
			}
			switch fl.OnMissingValue {
			case "", "error", "generate", "prompt":
			default:
				return fmt.Errorf("secret %s, field %s: onMissingValue %q (valid: error, generate, prompt)", s.Name, fl.Name, fl.OnMissingValue)
			}
			fields[fl.Name] = true
		}
	}
	return nil
}

// validPathPart reports whether s is safe as part of a Vault path (and a shell argument, which it never is
// unquoted).
func validPathPart(s string) bool {
	if s == "" || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == '/':
		default:
			return false
		}
	}
	return true
}

// Encode writes the file after a header comment, in a fixed layout: the same file encodes to the same bytes.
func Encode(header string, f *File) ([]byte, error) {
	var buf bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		buf.WriteString("# " + line + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
