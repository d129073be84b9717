package early

import "testing"

func TestRenders(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"render", "--all"}, true},
		{[]string{"generate"}, true},
		{[]string{"diff", "--base", "main"}, true},
		{[]string{"version"}, false},
		{[]string{"initdata", "render"}, false},
		{[]string{"--help", "render"}, false},
		{nil, false},
	} {
		if got := Renders(tc.args); got != tc.want {
			t.Errorf("Renders(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
