package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Where the Validated Patterns Vault keeps what secrets load needs (validatedpatterns/rhvp.cluster_utils
// roles/vault_utils/defaults/main.yml: vault_ns vault, vault_pod vault-0, unseal_namespace imperative,
// unseal_secret vaultkeys; tasks/vault_init.yaml stores the JSON of `vault operator init -format=json`,
// base64, in the Secret's key vault_data_json; its root_token is what tasks/vault_unseal.yaml logs in with).
const (
	VaultNamespace   = "vault"
	VaultPod         = "vault-0"
	UnsealNamespace  = "imperative"
	UnsealSecret     = "vaultkeys"
	UnsealSecretKey  = "vault_data_json"
	vaultInitRootKey = "root_token"
)

// Executor runs a command in a container of a pod, as `kubectl exec -i` does, with stdin, stdout and stderr.
type Executor interface {
	Exec(ctx context.Context, namespace, pod, container string, command []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// LoadOptions say where to load the file.
type LoadOptions struct {
	Dynamic dynamic.Interface
	Exec    Executor
	// Namespace and Pod are the Vault server's (defaults VaultNamespace, VaultPod); the container is the
	// pod's first.
	Namespace, Pod string
	// ReadFile reads a field's path (nil: os.ReadFile after ~ expansion).
	ReadFile func(path string) ([]byte, error)
	// Progress receives a line per secret; never a value.
	Progress io.Writer
}

// LoadResult counts what was stored.
type LoadResult struct {
	Secrets, Fields int
	Paths           []string // <mount>/data/<prefix>/<name>, in order
}

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// RootToken reads the Vault root token from where the pattern's unseal job keeps it.
func RootToken(ctx context.Context, c dynamic.Interface) (string, error) {
	where := UnsealNamespace + "/" + UnsealSecret
	u, err := c.Resource(secretsGVR).Namespace(UnsealNamespace).Get(ctx, UnsealSecret, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("secret %s not found: the pattern's unsealvault-cronjob has not initialised Vault yet (it runs every 5 minutes once the vault application is synced)", where)
		}
		return "", fmt.Errorf("read secret %s: %w", where, err)
	}
	data, _ := u.Object["data"].(map[string]any)
	enc, _ := data[UnsealSecretKey].(string)
	if enc == "" {
		return "", fmt.Errorf("secret %s has no %s", where, UnsealSecretKey)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("secret %s, key %s: not base64", where, UnsealSecretKey)
	}
	var init map[string]any
	if err := json.Unmarshal(raw, &init); err != nil {
		return "", fmt.Errorf("secret %s, key %s: not the JSON of vault operator init", where, UnsealSecretKey)
	}
	tok, _ := init[vaultInitRootKey].(string)
	if tok == "" {
		return "", fmt.Errorf("secret %s, key %s: no %s", where, UnsealSecretKey, vaultInitRootKey)
	}
	return tok, nil
}

// Values resolves the fields of one secret to their values: value as written, path read from the local
// file, base64 applied. Fields Vault would generate, prompts and ini files are not supported: secrets init
// writes every value.
func Values(s *Secret, readFile func(string) ([]byte, error)) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range s.Fields {
		var v string
		switch {
		case f.Value != nil:
			v = *f.Value
		case f.Path != "":
			data, err := readFile(f.Path)
			if err != nil {
				return nil, fmt.Errorf("secret %s, field %s: %w", s.Name, f.Name, err)
			}
			v = string(data)
		case f.OnMissingValue == "generate":
			return nil, fmt.Errorf("secret %s, field %s: onMissingValue generate is not supported; run cocogen secrets init, which writes a value", s.Name, f.Name)
		case f.IniFile != "":
			return nil, fmt.Errorf("secret %s, field %s: ini_file is not supported; give the value or a path", s.Name, f.Name)
		default:
			return nil, fmt.Errorf("secret %s, field %s: no value and no path (onMissingValue %s); run cocogen secrets init, or write the value", s.Name, f.Name, f.OnMissingValue)
		}
		if f.Base64 {
			v = base64.StdEncoding.EncodeToString([]byte(v))
		}
		out[f.Name] = v
	}
	return out, nil
}

// ReadLocalFile reads a field's path as the Validated Patterns loader does: ~ is the user's home.
func ReadLocalFile(p string) ([]byte, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, MaxFileBytes)
	}
	return data, nil
}

// putScript runs in the Vault pod: it reads the token from the first line of stdin and the secret as a JSON
// object from the rest (vault kv put PATH - reads the data from stdin), so neither appears in a command
// line, the pod's process list or the API server's audit log. $1 is the mount, $2 the path below it.
const putScript = `IFS= read -r VAULT_TOKEN && export VAULT_TOKEN && exec vault kv put -mount="$1" "$2" - >/dev/null`

// Load stores every secret of the file in Vault, one `vault kv put` per secret and prefix (replacing what the
// path held), through exec into the Vault pod with the root token. It prints the paths, never a value.
func Load(ctx context.Context, f *File, o LoadOptions) (*LoadResult, error) {
	if o.Namespace == "" {
		o.Namespace = VaultNamespace
	}
	if o.Pod == "" {
		o.Pod = VaultPod
	}
	if o.ReadFile == nil {
		o.ReadFile = ReadLocalFile
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	// Resolve everything first: a missing file stops the load before Vault is touched.
	type put struct {
		mount, path string
		data        map[string]string
	}
	var puts []put
	for i := range f.Secrets {
		s := &f.Secrets[i]
		vals, err := Values(s, o.ReadFile)
		if err != nil {
			return nil, err
		}
		for _, p := range s.Prefixes() {
			puts = append(puts, put{mount: s.Mount(), path: p + "/" + s.Name, data: vals})
		}
	}
	token, err := RootToken(ctx, o.Dynamic)
	if err != nil {
		return nil, err
	}
	r := &LoadResult{Secrets: len(puts)}
	for _, p := range puts {
		body, err := json.Marshal(p.data)
		if err != nil {
			return r, err
		}
		var stdin bytes.Buffer
		stdin.WriteString(token + "\n")
		stdin.Write(body)
		var stderr bytes.Buffer
		cmd := []string{"sh", "-c", putScript, "cocogen-secrets-load", p.mount, p.path}
		full := p.mount + "/data/" + p.path
		if err := o.Exec.Exec(ctx, o.Namespace, o.Pod, "", cmd, &stdin, io.Discard, &stderr); err != nil {
			msg := strings.TrimSpace(scrub(stderr.String(), token, p.data))
			if msg != "" {
				return r, fmt.Errorf("store %s: %w: %s", full, err, msg)
			}
			return r, fmt.Errorf("store %s: %w", full, err)
		}
		r.Fields += len(p.data)
		r.Paths = append(r.Paths, full)
		fmt.Fprintf(o.Progress, "stored %s (%d %s)\n", full, len(p.data), plural(len(p.data), "field", "fields"))
	}
	return r, nil
}

// scrub removes the token and the values from a message, should Vault ever echo them.
func scrub(msg, token string, data map[string]string) string {
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "<token>")
	}
	for _, v := range data {
		if len(v) >= 4 {
			msg = strings.ReplaceAll(msg, v, "<value>")
		}
	}
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return msg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
