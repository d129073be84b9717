package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/initdata"
)

const (
	howtoBlob   = "testdata/initdata/kata-howto-initdata.b64"
	howtoSHA256 = "2385c5da0959d063638b2ab4ac252ae18e825f6ecb69815e4206b38077d0bcdd"
	workloads   = "testdata/initdata/workloads.yaml"
)

// TestInitDataDecodeVector is the acceptance check: the Kata how-to blob decodes to its TOML and its sha256.
func TestInitDataDecodeVector(t *testing.T) {
	code, out, errOut := cli(t, "", "initdata", "decode", howtoBlob)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"==> " + howtoBlob + " <==\n",
		"encoding        gzip+base64 (660 bytes)\n",
		"content         init-data 0.1.0, 1518 bytes of TOML\n",
		"data            policy.rego (1447 bytes)\n",
		"sha256          " + howtoSHA256 + "\n",
		"snp-host-data   " + howtoSHA256 + "\n",
		"tdx-mrconfigid  " + howtoSHA256 + strings.Repeat("0", 32) + "\n",
		"azure-pcr8      5969a150dc60c85c0cd9744e296cfc81a3e622413c0359f199099b7a3bcef135\n",
		"\n\nversion = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n\"policy.rego\" = '''\n# Copyright (c) 2023 Microsoft Corporation\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "default ExecProcessRequest := false\n'''\n") {
		t.Errorf("output does not end with the TOML's last line:\n%s", out)
	}
	// The same from stdin, with - or without an argument.
	blob, err := os.ReadFile(howtoBlob)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"initdata", "decode"}, {"initdata", "decode", "-"}} {
		_, fromStdin, _ := cli(t, string(blob), args...)
		if fromStdin != strings.Replace(out, howtoBlob, "<stdin>", 1) {
			t.Errorf("%v: stdin gives other output:\n%s", args, fromStdin)
		}
	}
}

// TestInitDataDecodeObjects decodes a stream of objects: every encoded field, under what it came from. The
// golden files show reviewers exactly what the command prints.
func TestInitDataDecodeObjects(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := cli(t, "", "initdata", "decode", "-o", format, workloads)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			_, again, _ := cli(t, "", "initdata", "decode", "-o", format, workloads)
			if again != out {
				t.Errorf("two runs differ")
			}
			golden := filepath.Join("testdata", "initdata", "decode-workloads."+format)
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != out {
				t.Errorf("output differs from %s (go test ./cmd/cocogen -update rewrites it):\n%s", golden, out)
			}
		})
	}
	_, out, _ := cli(t, "", "initdata", "decode", "-o", "json", workloads)
	var items []struct {
		Source, Kind, Name, Field, Content, Encoding, TOML, Rego string
		Digests                                                  struct{ Digest, AzurePCR8 string }
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Content+" "+it.Kind+"/"+it.Name+" "+it.Field+" "+it.Digests.Digest)
	}
	want := []string{
		"init-data ConfigMap/peer-pods-cm data.INITDATA 4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac5b7fed3ca94b2da609906f1e94924b17",
		`init-data Deployment/hello-coco spec.template.metadata.annotations["io.katacontainers.config.hypervisor.cc_init_data"] ` + howtoSHA256,
		`agent-policy Pod/no-exec metadata.annotations["io.katacontainers.config.agent.policy"] `,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(items[2].Rego, "package agent_policy\n") {
		t.Errorf("the policy is not decoded: %q", items[2].Rego)
	}
}

// TestInitDataDigestMatchesDecode: the TOML that decode prints, saved to a file, has the digests decode
// printed; digest hashes the file's bytes as they are.
func TestInitDataDigestMatchesDecode(t *testing.T) {
	_, out, _ := cli(t, "", "initdata", "decode", "-o", "json", howtoBlob)
	var items []struct {
		TOML    string
		Digests initdata.Digests
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	file := filepath.Join(t.TempDir(), "initdata.toml")
	if err := os.WriteFile(file, []byte(items[0].TOML), 0o644); err != nil {
		t.Fatal(err)
	}
	code, digests, errOut := cli(t, "", "initdata", "digest", "-o", "json", file)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got initdata.Digests
	if err := json.Unmarshal([]byte(digests), &got); err != nil {
		t.Fatal(err)
	}
	if got != items[0].Digests || got.Digest != howtoSHA256 {
		t.Errorf("digest of the decoded TOML %+v, decode printed %+v", got, items[0].Digests)
	}
	code, text, _ := cli(t, "", "initdata", "digest", file)
	wantText := "algorithm       sha256\n" +
		"sha256          " + howtoSHA256 + "\n" +
		"snp-host-data   " + howtoSHA256 + "\n" +
		"tdx-mrconfigid  " + howtoSHA256 + strings.Repeat("0", 32) + "\n" +
		"azure-pcr8      5969a150dc60c85c0cd9744e296cfc81a3e622413c0359f199099b7a3bcef135\n"
	if code != 0 || text != wantText {
		t.Errorf("digest text: exit %d\n%s\nwant\n%s", code, text, wantText)
	}
	// One more newline is another document.
	if err := os.WriteFile(file, []byte(items[0].TOML+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, other, _ := cli(t, "", "initdata", "digest", file); other == text {
		t.Errorf("a trailing newline did not change the digest")
	}
}

func TestInitDataDigestSHA384(t *testing.T) {
	code, out, errOut := cli(t, "", "initdata", "digest", "testdata/initdata/caa-doc-initdata.toml")
	want := "algorithm       sha384\n" +
		"sha384          4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac5b7fed3ca94b2da609906f1e94924b17\n" +
		"snp-host-data   4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac\n" +
		"tdx-mrconfigid  4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac5b7fed3ca94b2da609906f1e94924b17\n" +
		"azure-pcr8      5a3bf79fe9977bb2b2ec75431437bc40a75378dc5e7c09daad31d8849df71ece\n"
	if code != 0 || errOut != "" || out != want {
		t.Errorf("exit %d, stderr %q\n%s\nwant\n%s", code, errOut, out, want)
	}
}

// TestInitDataInvalidInput: a value that does not decode is an error with its position, exit 1, and nothing
// on stdout, even when other values of the same input are fine.
func TestInitDataInvalidInput(t *testing.T) {
	good, err := os.ReadFile(workloads)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badObjects := write("bad.yaml", strings.Replace(string(good), "io.katacontainers.config.agent.policy: ", "io.katacontainers.config.agent.policy: H4sI!", 1))
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string // stderr, with DIR for the temporary directory
	}{
		{"bad base64", "H4sI!AAA\n", []string{"initdata", "decode"},
			"<stdin>: error: not valid base64: '!' at byte 4 is not in the standard base64 alphabet (A-Z a-z 0-9 + / =)\n"},
		{"wrong version", "version = \"0.2.0\"\nalgorithm = \"sha256\"\n[data]\n", []string{"initdata", "digest"},
			"<stdin>: error: unsupported version \"0.2.0\": the guest accepts only \"0.1.0\"\n"},
		{"TOML error", "version = \"0.1.0\"\nalgorithm = sha256\n[data]\n", []string{"initdata", "digest", "-"},
			"<stdin>: error: not valid TOML: line 2, column 13: expected value but found \"sha\" instead\n"},
		{"one bad field among good ones", "", []string{"initdata", "decode", badObjects},
			"DIR/bad.yaml:40:44: error: Pod hello-openshift/no-exec metadata.annotations[\"io.katacontainers.config.agent.policy\"]: not valid base64: '!' at byte 4 is not in the standard base64 alphabet (A-Z a-z 0-9 + / =)\n"},
		{"nothing to decode", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\n", []string{"initdata", "decode"},
			"<stdin>: error: found no encoded value: looked for INITDATA in ConfigMaps and the annotations io.katacontainers.config.hypervisor.cc_init_data, io.katacontainers.config.runtime.cc_init_data and io.katacontainers.config.agent.policy\n"},
		{"objects given to digest", "apiVersion: v1\nkind: ConfigMap\n", []string{"initdata", "digest"},
			"<stdin>: error: this is Kubernetes YAML, not init-data: use cocogen initdata decode to read the init-data inside objects\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli(t, c.stdin, c.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if out != "" {
				t.Errorf("stdout must stay empty, got %q", out)
			}
			if want := strings.ReplaceAll(c.want, "DIR", dir); errOut != want {
				t.Errorf("stderr\n%s\nwant\n%s", errOut, want)
			}
		})
	}
}

func TestInitDataWarnings(t *testing.T) {
	blob, err := os.ReadFile(howtoBlob)
	if err != nil {
		t.Fatal(err)
	}
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: old\n  annotations:\n    io.katacontainers.config.runtime.cc_init_data: " + strings.TrimSpace(string(blob)) + "\n"
	code, out, errOut := cli(t, pod, "initdata", "decode")
	if code != 0 || !strings.Contains(out, "sha256          "+howtoSHA256) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `<stdin>:6:5: warning: Pod old metadata.annotations["io.katacontainers.config.runtime.cc_init_data"]: only Kata 3.16 to 3.19 (OpenShift sandboxed containers 1.9 and 1.10) read this name; Kata 3.20 and later read io.katacontainers.config.hypervisor.cc_init_data` + "\n"
	if errOut != want {
		t.Errorf("stderr\n%s\nwant\n%s", errOut, want)
	}
	// Plain base64 (old cloud-api-adaptor) decodes, with a warning.
	toml, _ := os.ReadFile("testdata/initdata/caa-doc-initdata.toml")
	code, _, errOut = cli(t, base64.StdEncoding.EncodeToString(toml), "initdata", "digest")
	if code != 0 || !strings.Contains(errOut, "<stdin>: warning: plain base64 without gzip: only cloud-api-adaptor v0.10.0 to v0.13.x reads this") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestInitDataUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"bad output":      {"initdata", "decode", "-o", "yaml", howtoBlob},
		"bad digest -o":   {"initdata", "digest", "-o", "xml", howtoBlob},
		"bad diag format": {"initdata", "digest", "--diagnostics-format", "sarif", howtoBlob},
		"two files":       {"initdata", "decode", howtoBlob, howtoBlob},
		"unknown action":  {"initdata", "encode"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := cli(t, "", args...)
			if code != 2 || out != "" || errOut == "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
	_, _, errOut := cli(t, "", "initdata", "decode", "-o", "yaml", howtoBlob)
	if !strings.Contains(errOut, `invalid --output "yaml" (valid: text, json)`) {
		t.Errorf("an invalid format must list the valid ones: %s", errOut)
	}
}
