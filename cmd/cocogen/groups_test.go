package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRenderAllGroups: --all-groups renders every cluster group of the built-in pattern in one stream, each
// object under its cluster group (and the spoke's cluster), the same objects as one render per group; with
// --output-dir each group gets its own directory.
func TestRenderAllGroups(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", "render", "--all", "--all-groups")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	docs := regexp.MustCompile(`(?m)^---\n`).Split(out, -1)[1:]
	counts := map[string]int{}
	for _, d := range docs {
		if !strings.HasPrefix(d, "# Cluster group: ") {
			t.Fatalf("an object without its cluster group:\n%s", firstLine(d))
		}
		g := strings.TrimPrefix(strings.SplitN(d, "\n", 2)[0], "# Cluster group: ")
		counts[g]++
		if g == "spoke" && !strings.Contains(d, "\n# Cluster: spoke-1\n") {
			t.Fatalf("a spoke object without its cluster:\n%s", firstLine(d))
		}
	}
	for _, g := range []string{"azure", "trusted-hub", "spoke"} {
		code, one, errOut := cli(t, "", "render", "--all", "--cluster-group", g)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", g, code, errOut)
		}
		if n := len(regexp.MustCompile(`(?m)^---\n`).FindAllString(one, -1)); n != counts[g] || n == 0 {
			t.Errorf("cluster group %s: %d objects in --all-groups, %d rendered alone", g, counts[g], n)
		}
	}
	dir := t.TempDir()
	if code, _, errOut := cli(t, "", "render", "--all-groups", "--output-dir", dir); code != 0 {
		t.Fatalf("--output-dir: exit %d\n%s", code, errOut)
	}
	for _, p := range []string{"_groups/azure", "_groups/trusted-hub", "_groups/spoke/_clusters/spoke-1"} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || !st.IsDir() {
			t.Errorf("--output-dir has no %s", p)
		}
	}
	for _, args := range [][]string{{"--cluster-group", "spoke"}, {"--app", "trustee"}, {"-m", "values/cluster-metadata.yaml"}} {
		code, out, errOut := cli(t, "", append([]string{"render", "--all-groups"}, args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, "--all-groups renders every cluster group") {
			t.Errorf("--all-groups %v: exit %d, stderr %s", args, code, errOut)
		}
	}
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }
