package podvm

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/node"
)

var (
	sha384A = strings.Repeat("a1", 48)
	sha384B = strings.Repeat("b2", 48)
)

func TestReadLaunch(t *testing.T) {
	tests := []struct {
		name, tee, doc string
		want           string // Key=values;… or the error
	}{
		{"snp list with 0x", "snp", `{"snp_launch_measurement": ["0x` + strings.ToUpper(sha384A) + `", "` + sha384A + `"]}`, "snpLaunchMeasurements=" + sha384A},
		{"tdx all", "tdx", `{"mr_td": "` + sha384A + `", "rtmr_1": ["` + sha384B + `", "` + sha384A + `"], "rtmr_2": "` + sha384B + `", "xfam": "e7"}`,
			"tdxMRTD=" + sha384A + ";tdxRTMR1=" + sha384A + "," + sha384B + ";tdxRTMR2=" + sha384B},
		{"tdx without rtmrs", "tdx", `{"mr_td": ["` + sha384A + `"]}`, "tdxMRTD=" + sha384A},
		{"snp field missing", "snp", `{"mr_td": "` + sha384A + `"}`, "error: no snp_launch_measurement field"},
		{"sha256 is too short", "tdx", `{"mr_td": "` + strings.Repeat("0", 64) + `"}`, "error: mr_td holds"},
		{"empty list", "snp", `{"snp_launch_measurement": []}`, "error: snp_launch_measurement is not a hex value"},
		{"number", "snp", `{"snp_launch_measurement": [12]}`, "error: snp_launch_measurement holds 12"},
		{"not an object", "snp", `[]`, "error: not a firmware reference values JSON object"},
		{"unknown TEE", "sev", `{}`, `error: unknown TEE "sev"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pins, err := ReadLaunch([]byte(tc.doc), tc.tee)
			got := ""
			if err != nil {
				got = "error: " + err.Error()
			} else {
				var parts []string
				for _, p := range pins {
					parts = append(parts, p.Key+"="+strings.Join(p.Values, ","))
				}
				got = strings.Join(parts, ";")
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

const launchValues = `global:
  coco:
    trustee:
      referenceValues:
        expiration: "2027-12-31T00:00:00Z"
        # kept
        acceptUnpinnedPodVM: true
        tdxMRTD: ["` + "%s" + `"]
`

func TestPinLaunch(t *testing.T) {
	src := []byte(strings.Replace(launchValues, "%s", sha384B, 1))
	for _, add := range []bool{false, true} {
		out, err := PinLaunch("values-global.yaml", src, "tdx", []LaunchPin{{Key: "tdxMRTD", Values: []string{sha384A}}}, "OpenShift 4.19", add)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := node.Parse("out", out, node.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		rv := tree.Path("global", "coco", "trustee", "referenceValues")
		want := 1
		if add {
			want = 2
		}
		if rv.Get("tdxMRTD").Len() != want || rv.Get("acceptUnpinnedPodVM").Scalar() != "true" || !strings.Contains(string(out), "# kept\n") {
			t.Errorf("add %v:\n%s", add, out)
		}
	}
	if _, err := PinLaunch("values-global.yaml", []byte("global: {}\n"), "snp", []LaunchPin{{Key: "snpLaunchMeasurements", Values: []string{sha384A}}}, "x", false); err == nil {
		t.Error("a values file without referenceValues was edited")
	}
}

// FuzzReadLaunch: any input is read or refused with an error, and what is read pins only sha384 values
// that a values file takes back unchanged.
func FuzzReadLaunch(f *testing.F) {
	f.Add([]byte(`{"snp_launch_measurement": ["0x`+sha384A+`"], "mr_td": "`+sha384B+`", "rtmr_1": ["`+sha384A+`"]}`), "tdx")
	f.Add([]byte(`{"snp_launch_measurement": "`+sha384A+`"}`), "snp")
	f.Add([]byte(`{"mr_td": [null, 1, {}]}`), "tdx")
	f.Fuzz(func(t *testing.T, data []byte, tee string) {
		pins, err := ReadLaunch(data, tee)
		if err != nil {
			return
		}
		src := []byte(strings.Replace(launchValues, "%s", sha384B, 1))
		for _, p := range pins {
			for _, v := range p.Values {
				if !sha384Re.MatchString(v) {
					t.Fatalf("%s pins %q", p.Key, v)
				}
			}
		}
		if _, err := PinLaunch("values-global.yaml", src, tee, pins, "fuzz", true); err != nil {
			t.Fatalf("pins read from %q do not write: %v", data, err)
		}
	})
}
