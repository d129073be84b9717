package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// newDocsCommand writes the CLI reference (one Markdown file per command) from the commands themselves, so
// the reference cannot drift from the code; --check fails when the files on disk are stale (CI runs it).
func newDocsCommand(s streams, root func() *cobra.Command) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:    "docs DIR",
		Short:  "Write the CLI reference as Markdown into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files := map[string][]byte{}
			collectDocs(root(), files)
			dir := args[0]
			if check {
				var stale []string
				for name, want := range files {
					got, err := os.ReadFile(filepath.Join(dir, name))
					if err != nil || !bytes.Equal(got, want) {
						stale = append(stale, name)
					}
				}
				sort.Strings(stale)
				if len(stale) > 0 {
					fmt.Fprintf(s.err, "the CLI reference in %s is stale: %s\nrun: go run ./cmd/cocogen docs %s\n", dir, strings.Join(stale, ", "), dir)
					return &exitError{code: exitInvalid}
				}
				return nil
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "fail when the files in DIR differ from what the commands generate")
	return cmd
}

func collectDocs(c *cobra.Command, files map[string][]byte) {
	if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
		return
	}
	var b strings.Builder
	path := c.CommandPath()
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", path, c.Short)
	if c.Long != "" {
		fmt.Fprintf(&b, "%s\n\n", c.Long)
	}
	if c.Runnable() {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", c.UseLine())
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "## Examples\n\n```\n%s\n```\n\n", c.Example)
	}
	if f := c.NonInheritedFlags().FlagUsages(); f != "" {
		fmt.Fprintf(&b, "## Flags\n\n```\n%s```\n\n", f)
	}
	var subs []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "help" && sub.Name() != "completion" {
			subs = append(subs, fmt.Sprintf("- [%s](%s) — %s", sub.CommandPath(), docName(sub), sub.Short))
		}
	}
	if len(subs) > 0 {
		fmt.Fprintf(&b, "## Commands\n\n%s\n\n", strings.Join(subs, "\n"))
	}
	if c.HasParent() {
		fmt.Fprintf(&b, "See also: [%s](%s)\n", c.Parent().CommandPath(), docName(c.Parent()))
	}
	files[docName(c)] = []byte(strings.TrimRight(b.String(), "\n") + "\n")
	for _, sub := range c.Commands() {
		collectDocs(sub, files)
	}
}

func docName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}
