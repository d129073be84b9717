package podvm

import (
	"strings"
	"testing"
)

func hex(b string) string { return strings.Repeat(b, 32) }

const measurements = `{
  "measurements": {
    "sha256": {
      "pcr03": "0x` + "3d458cfe55cc03ea1f443f1562bee8df30100ab2e1c4b6e5fe4568e7b0e6745a" + `",
      "pcr08": "0x0000000000000000000000000000000000000000000000000000000000000000",
      "pcr09": "0X96A18E5C5E3E9AEC7FE5B8A1C6A02E8D6A4E8C6B3E9A7F5B2D4C8E1A3F6B9D21",
      "pcr11": "1111111111111111111111111111111111111111111111111111111111111111",
      "pcr12": "1212121212121212121212121212121212121212121212121212121212121212"
    }
  }
}`

func TestReadMeasurements(t *testing.T) {
	m, err := ReadMeasurements([]byte(measurements))
	if err != nil {
		t.Fatal(err)
	}
	pcrs, err := m.Select(DefaultPCRs)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, p := range pcrs {
		got += p.Name + "=" + p.Values[0][:8] + " "
	}
	if got != "pcr03=3d458cfe pcr09=96a18e5c pcr11=11111111 pcr12=12121212 " {
		t.Errorf("selected %s", got)
	}
	for _, bad := range []struct{ data, want string }{
		{`[]`, "not the measurements JSON"},
		{`{"measurements": {}}`, "no measurements.sha256"},
		{`{"measurements": {"sha256": {"pcr03": "0x12"}}}`, `measurements.sha256.pcr03 is "0x12", not a sha256 value`},
		{`{"measurements": {"sha256": {"pcr03": 3}}}`, "measurements.sha256.pcr03 is not a string"},
	} {
		if _, err := ReadMeasurements([]byte(bad.data)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.data, err, bad.want)
		}
	}
	for _, tc := range []struct {
		pcrs []int
		want string
	}{
		{[]int{8}, "PCR 8 binds the init-data"},
		{[]int{24}, "PCR 24 does not exist"},
		{[]int{4}, "the measurements have no pcr04 (they have pcr03, pcr08, pcr09, pcr11, pcr12)"},
	} {
		if _, err := m.Select(tc.pcrs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Select(%v): %v, want %q", tc.pcrs, err, tc.want)
		}
	}
}

const values = `global:
  coco:
    trustee:
      version: "0.21"
      referenceValues:
        expiration: "2027-12-31T00:00:00Z"
        # Until the pod VM is pinned, any image is accepted.
        acceptUnpinnedPodVM: true
        # SNP minimum.
        snpMinimumTCB: {bootloader: 3, tee: 0, snp: 8, microcode: 115}
        tdxTCBStatuses:
        - UpToDate
      resources:
        kbsres1: [key1]
main:
  clusterGroupName: azure
`

func TestPin(t *testing.T) {
	pcrs := []PCR{{Name: "pcr03", Values: []string{hex("a3")}}, {Name: "pcr11", Values: []string{hex("bb")}}, {Name: "pcr12", Values: []string{hex("00")}}}
	out, err := Pin("values-global.yaml", []byte(values), pcrs, "osc-dm-verity-image 1.13.0", false)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(values, `        # Until the pod VM is pinned, any image is accepted.
        acceptUnpinnedPodVM: true
`, `        # The boot measurements of the pod VM image (osc-dm-verity-image 1.13.0), written by cocogen podvm pin:
        # Trustee affirms only pod VMs whose vTPM holds one of these values in each PCR.
        podVMPCRs:
          pcr03: ["`+hex("a3")+`"]
          pcr11: ["`+hex("bb")+`"]
          pcr12: ["`+hex("00")+`"]
`, 1)
	if string(out) != want {
		t.Errorf("Pin:\n%s\nwant\n%s", out, want)
	}
	// Pinning again replaces the block; with add, the values pinned before stay beside the new ones.
	again, err := Pin("values-global.yaml", out, pcrs, "osc-dm-verity-image 1.13.0", false)
	if err != nil || string(again) != want {
		t.Errorf("pinning twice:\n%s (%v)", again, err)
	}
	upgrade, err := Pin("values-global.yaml", out, []PCR{{Name: "pcr03", Values: []string{hex("c3")}}, {Name: "pcr11", Values: []string{hex("bb")}}, {Name: "pcr12", Values: []string{hex("00")}}}, "osc-dm-verity-image 1.14.0", true)
	if err != nil || !strings.Contains(string(upgrade), "pcr03: [\""+hex("a3")+"\", \""+hex("c3")+"\"]\n") || strings.Count(string(upgrade), "podVMPCRs:") != 1 {
		t.Errorf("add:\n%s (%v)", upgrade, err)
	}
	// Without anything to replace, the block ends the map, after a sequence written at the key's indentation.
	plain := strings.Replace(values, "        # Until the pod VM is pinned, any image is accepted.\n        acceptUnpinnedPodVM: true\n", "", 1)
	out, err = Pin("values-global.yaml", []byte(plain), pcrs, "m.json", false)
	if err != nil || !strings.Contains(string(out), "        - UpToDate\n        # The boot measurements") || !strings.HasSuffix(string(out), "      resources:\n        kbsres1: [key1]\nmain:\n  clusterGroupName: azure\n") {
		t.Errorf("appended:\n%s (%v)", out, err)
	}
}

func TestPinErrors(t *testing.T) {
	pcrs := []PCR{{Name: "pcr03", Values: []string{hex("a3")}}}
	for name, tc := range map[string]struct{ src, want string }{
		"no referenceValues": {"global:\n  coco: {}\n", "has no global.coco.trustee.referenceValues map"},
		"flow style":         {"global:\n  coco:\n    trustee:\n      referenceValues: {expiration: \"2027-12-31T00:00:00Z\", acceptUnpinnedPodVM: true}\n", "write global.coco.trustee.referenceValues in block style"},
		"not YAML":           {"global: [\n", "values.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Pin("values.yaml", []byte(tc.src), pcrs, "m.json", false); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
}
