package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies the parts of the repository a render reads (values, policies, overlays) into a new
// directory and returns it.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"values", "policies", "overlays"} {
		copyDir(t, filepath.Join("../..", dir), filepath.Join(dst, dir))
	}
	return dst
}

const podVMMeasurements = `{"measurements": {"sha256": {
  "pcr03": "0x3d458cfe55cc03ea1f443f1562bee8df30100ab2e1c4b6e5fe4568e7b0e6745a",
  "pcr08": "0x0000000000000000000000000000000000000000000000000000000000000000",
  "pcr09": "0x96a18e5c5e3e9aec7fe5b8a1c6a02e8d6a4e8c6b3e9a7f5b2d4c8e1a3f6b9d21",
  "pcr11": "0x1111111111111111111111111111111111111111111111111111111111111111",
  "pcr12": "0x1212121212121212121212121212121212121212121212121212121212121212"}}}`

// TestPodVMPinThenEval: pinning the pod VM measurements into the built-in values ends the unpinned warning,
// registers the PCRs, and a guest booted from that image gets its secret while one booted from another
// image does not.
func TestPodVMPinThenEval(t *testing.T) {
	root := copyTree(t)
	m := filepath.Join(root, "measurements.json")
	if err := os.WriteFile(m, []byte(podVMMeasurements), 0o644); err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(root, "values", "values-global.yaml")
	code, out, errOut := cli(t, "", "podvm", "pin", "--measurements", m, "--values", values)
	if code != 0 || out != values+": pinned pcr03, pcr09, pcr11, pcr12\n" {
		t.Fatalf("pin: exit %d\n%s%s", code, out, errOut)
	}
	src, _ := os.ReadFile(values)
	if strings.Contains(string(src), "acceptUnpinnedPodVM") || !strings.Contains(string(src), "          pcr09: [\"96a18e5c5e3e9aec7fe5b8a1c6a02e8d6a4e8c6b3e9a7f5b2d4c8e1a3f6b9d21\"]\n") {
		t.Errorf("values after pin:\n%s", src)
	}
	source := []string{"--repo-root", root, "--values-dir", filepath.Join(root, "values")}
	code, _, errOut = cli(t, "", append([]string{"render", "--all"}, source...)...)
	if code != 0 || strings.Contains(errOut, "acceptUnpinnedPodVM") || strings.Contains(errOut, "podVMPCRs") {
		t.Errorf("render after pin: exit %d\n%s", code, errOut)
	}
	eval := append([]string{"policy", "eval", "trustee", "--profile", "default", "--resource", "default/kbsres1/key1"}, source...)
	code, out, errOut = cli(t, "", eval...)
	if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: released\n") || !strings.Contains(out, "executables 3 (affirming)") {
		t.Errorf("eval after pin: exit %d\n%s%s", code, out, errOut)
	}
	other := `{"az-snp-vtpm": {"tpm": {"pcr11": "2222222222222222222222222222222222222222222222222222222222222222"}}}`
	code, out, _ = cli(t, other, append(eval, "--claims", "-")...)
	if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: denied\n") || !strings.Contains(out, "executables 33 (warning)") {
		t.Errorf("another pod VM image: exit %d\n%s", code, out)
	}
}

func TestPodVMPinErrors(t *testing.T) {
	root := copyTree(t)
	values := filepath.Join(root, "values", "values-global.yaml")
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"podvm", "pin"}, 2, "--measurements is required"},
		{"{}", []string{"podvm", "pin", "--measurements", "-", "--values", values}, 1, "<stdin>: error: no measurements.sha256 object"},
		{podVMMeasurements, []string{"podvm", "pin", "--measurements", "-", "--values", values, "--pcr", "8"}, 2, "PCR 8 binds the init-data"},
		{podVMMeasurements, []string{"podvm", "pin", "--measurements", "-", "--values", filepath.Join(root, "nope.yaml")}, 1, "nope.yaml"},
	} {
		code, out, errOut := cli(t, tc.stdin, tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d)\nstdout %q\n%s", tc.args, code, tc.code, out, errOut)
		}
	}
	code, out, _ := cli(t, podVMMeasurements, "podvm", "pin", "--measurements", "-", "--values", values, "--print", "--pcr", "3")
	if src, _ := os.ReadFile(values); code != 0 || !strings.Contains(out, "podVMPCRs:\n          pcr03: [") || strings.Contains(string(src), "        podVMPCRs:\n") {
		t.Errorf("--print: exit %d, or the file was written\n%s", code, out)
	}
}

// firmwareRefValues are firmware reference values of a bare-metal pod VM (sha384), in the fields veritas
// writes; rtmr_1 has two kernel command line variants.
var firmwareRefValues = `{"snp_launch_measurement": ["0x` + strings.Repeat("a1", 48) + `"], "mr_td": "` + strings.Repeat("b2", 48) +
	`", "rtmr_1": ["` + strings.Repeat("c3", 48) + `", "` + strings.Repeat("c4", 48) + `"], "rtmr_2": ["` + strings.Repeat("d5", 48) + `"], "xfam": "e702060000000000"}`

// TestPodVMPinBareMetalThenEval: pinning the launch measurements of both TEEs binds the pod VM on bare
// metal: a guest that launched with them gets its secret with executables affirming, one with another kernel
// (RTMR 1) or firmware does not.
func TestPodVMPinBareMetalThenEval(t *testing.T) {
	root := copyTree(t)
	m := filepath.Join(root, "firmware-reference-values.json")
	if err := os.WriteFile(m, []byte(firmwareRefValues), 0o644); err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(root, "values", "values-global.yaml")
	for tee, want := range map[string]string{"snp": "snpLaunchMeasurements", "tdx": "tdxMRTD, tdxRTMR1, tdxRTMR2"} {
		code, out, errOut := cli(t, "", "podvm", "pin", "--tee", tee, "--measurements", m, "--values", values)
		if code != 0 || out != values+": pinned "+want+"\n" {
			t.Fatalf("pin --tee %s: exit %d\n%s%s", tee, code, out, errOut)
		}
	}
	source := []string{"--repo-root", root, "--values-dir", filepath.Join(root, "values"), "--cluster-group", "baremetal"}
	code, _, errOut := cli(t, "", append([]string{"render", "--all"}, source...)...)
	if code != 0 || strings.Contains(errOut, "launch measurements") {
		t.Errorf("render after pin: exit %d\n%s", code, errOut)
	}
	for tee, other := range map[string]string{
		"snp": `{"snp": {"measurement": "` + strings.Repeat("00", 48) + `"}}`,
		"tdx": `{"tdx": {"quote": {"body": {"rtmr_1": "` + strings.Repeat("00", 48) + `"}}}}`,
	} {
		eval := append([]string{"policy", "eval", "trustee", "--tee", tee, "--profile", "default", "--resource", "default/kbsres1/key1"}, source...)
		code, out, errOut := cli(t, "", eval...)
		if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: released\n") || !strings.Contains(out, "executables 3 (affirming)") {
			t.Errorf("%s after pin: exit %d\n%s%s", tee, code, out, errOut)
		}
		code, out, _ = cli(t, other, append(eval, "--claims", "-")...)
		if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: denied\n") || !strings.Contains(out, "executables 33 (warning)") {
			t.Errorf("%s, another pod VM: exit %d\n%s", tee, code, out)
		}
	}
	code, _, errOut = cli(t, "", "podvm", "pin", "--tee", "tdx", "--measurements", filepath.Join(root, "values", "kbs-ca.crt"), "--values", values)
	if code != 1 || !strings.Contains(errOut, "not a firmware reference values JSON object") {
		t.Errorf("pin of a file that is not JSON: exit %d\n%s", code, errOut)
	}
	code, _, errOut = cli(t, `{"mr_td": "12"}`, "podvm", "pin", "--tee", "tdx", "--measurements", "-", "--values", values)
	if code != 1 || !strings.Contains(errOut, "not a sha384 value") {
		t.Errorf("pin of a short MR_TD: exit %d\n%s", code, errOut)
	}
	code, _, errOut = cli(t, "", "podvm", "pin", "--tee", "sgx", "--measurements", m, "--values", values)
	if code != 2 || !strings.Contains(errOut, `invalid --tee "sgx"`) {
		t.Errorf("--tee sgx: exit %d\n%s", code, errOut)
	}
}
