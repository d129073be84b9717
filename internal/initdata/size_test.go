package initdata

import (
	"strings"
	"testing"
)

func TestCheckAnnotationsSize(t *testing.T) {
	key := AnnotationInitData
	cases := []struct {
		name  string
		annos map[string]string
		want  string
	}{
		{"none", nil, ""},
		{"exactly the limit", map[string]string{key: strings.Repeat("A", MaxAnnotationsSize-len(key))}, ""},
		{"one byte over", map[string]string{key: strings.Repeat("A", MaxAnnotationsSize-len(key)), "a": ""},
			"the annotations total 262145 bytes (keys and values), more than Kubernetes' limit of 262144 bytes (256 KiB): shrink the agent policy or move shared configuration to the default init-data"},
		{"counted over all annotations", map[string]string{key: strings.Repeat("A", 200<<10), AnnotationAgentPolicy: strings.Repeat("B", 60<<10)},
			"the annotations total 266325 bytes (keys and values), more than Kubernetes' limit of 262144 bytes (256 KiB): shrink the agent policy or move shared configuration to the default init-data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAnnotationsSize(c.annos)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestCheckAzureUserData(t *testing.T) {
	cases := []struct {
		size          int
		warning, fail string
	}{
		{0, "", ""},
		{AzureInitDataWarnSize, "", ""},
		{AzureInitDataWarnSize + 1, "the encoded init-data is 32769 bytes, more than 32768: on Azure, peer pod VMs may fail to start because the user data that carries it is limited to 65536 bytes in total", ""},
		{AzureInitDataLimit, "the encoded init-data is 49152 bytes, more than 32768: on Azure, peer pod VMs may fail to start because the user data that carries it is limited to 65536 bytes in total", ""},
		{AzureInitDataLimit + 1, "", "the encoded init-data is 49153 bytes: an Azure peer pod VM cannot start with it, because its user data (the base64 cloud-config that carries it) is limited to 65536 bytes, which leaves at most 49152 bytes for init-data"},
	}
	for _, c := range cases {
		warning, err := CheckAzureUserData(strings.Repeat("A", c.size))
		fail := ""
		if err != nil {
			fail = err.Error()
		}
		if warning != c.warning || fail != c.fail {
			t.Errorf("%d bytes: got (%q, %q), want (%q, %q)", c.size, warning, fail, c.warning, c.fail)
		}
	}
	// The hard limit is exact: 4/3 of it is the user-data limit.
	if (AzureInitDataLimit+2)/3*4 != AzureUserDataLimit {
		t.Errorf("AzureInitDataLimit %d does not fill the user data exactly", AzureInitDataLimit)
	}
}
