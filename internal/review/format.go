package review

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the report formats of Write.
var Formats = []string{"text", "markdown", "json"}

// Write prints the report in one of Formats. color applies to text only (ANSI colours, for terminals).
func Write(w io.Writer, format string, r *Report, color bool) error {
	switch format {
	case "text":
		return writeText(w, r, color)
	case "markdown":
		return writeMarkdown(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(Formats, ", "))
}

func summary(r *Report) string {
	return fmt.Sprintf("%d changed, %d added, %d removed", r.Count(Changed), r.Count(Added), r.Count(Removed))
}

// appTitle names the group of an application's changes; code formats the name.
func appTitle(app string, code func(string) string) string {
	if app == "" {
		return "app-of-apps tree"
	}
	return "application " + code(app)
}

// digestLines describes the attestation-relevant changes, one line each.
func digestLines(r *Report, code func(string) string) []string {
	var lines []string
	for _, p := range r.Digests {
		switch {
		case p.Base == nil:
			lines = append(lines, fmt.Sprintf("init-data profile %s: new, %s %s, PCR8 %s", code(p.Name), p.Head.Algorithm, code(p.Head.Digest), code(p.Head.AzurePCR8)))
		case p.Head == nil:
			lines = append(lines, fmt.Sprintf("init-data profile %s: removed (was %s %s, PCR8 %s)", code(p.Name), p.Base.Algorithm, code(p.Base.Digest), code(p.Base.AzurePCR8)))
		default:
			alg := p.Head.Algorithm
			if p.Base.Algorithm != p.Head.Algorithm {
				alg = p.Base.Algorithm + " → " + p.Head.Algorithm
			}
			lines = append(lines, fmt.Sprintf("init-data profile %s: %s %s → %s; PCR8 %s → %s", code(p.Name), alg, code(p.Base.Digest), code(p.Head.Digest), code(p.Base.AzurePCR8), code(p.Head.AzurePCR8)))
		}
	}
	if len(r.Digests) > 0 || r.ReferenceValues == "yes" {
		rv := r.ReferenceValues
		if rv == "none" {
			rv = "no (no trustee application renders them here: update the KBS that serves these pods)"
		}
		lines = append(lines, "reference values updated: "+rv)
	}
	for _, p := range r.Previous {
		switch p.Status {
		case KeptDropped:
			lines = append(lines, fmt.Sprintf("previous init-data of profile %s no longer kept: %s (was until %s)", code(p.Profile), code(p.Digest), p.Until))
		default:
			lines = append(lines, fmt.Sprintf("previous init-data of profile %s kept until %s: %s (%s)", code(p.Profile), p.Until, code(p.Digest), p.Status))
		}
	}
	for _, u := range r.Unkept {
		line := fmt.Sprintf("not kept: pods of profile %s started before this change (init-data %s) get nothing from the KBS once its reference values change, until they restart", code(u.Profile), code(u.Digest))
		if r.Keep != "" {
			line += "; to keep them attesting for a while: " + code(r.Keep)
		}
		lines = append(lines, line)
	}
	return lines
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

func writeText(w io.Writer, r *Report, color bool) error {
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + ansiReset
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s → %s\n", paint(ansiBold, "cocogen diff:"), r.Base, r.Head)
	textBody(&b, r, color)
	_, err := io.WriteString(w, b.String())
	return err
}

// textBody writes the text report after its title line.
func textBody(b *strings.Builder, r *Report, color bool) {
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + ansiReset
	}
	if r.Empty() {
		b.WriteString("no differences\n")
		return
	}
	b.WriteString(summary(r) + "\n")
	if lines := digestLines(r, func(s string) string { return s }); len(lines) > 0 {
		b.WriteString("\n" + paint(ansiBold, "Attestation:") + "\n")
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	app := "\x00"
	for _, c := range r.Changes {
		if c.App != app {
			app = c.App
			fmt.Fprintf(b, "\n%s\n", paint(ansiBold, "== "+appTitle(app, func(s string) string { return s })+" =="))
		}
		mark := map[string]string{Added: "+", Removed: "-", Changed: "~"}[c.Kind]
		fmt.Fprintf(b, "%s %s (%s)\n", mark, c.ID, c.Kind)
		for _, line := range strings.SplitAfter(c.Diff, "\n") {
			if line == "" {
				continue
			}
			switch {
			case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "+++"):
				b.WriteString(paint(ansiBold, strings.TrimSuffix(line, "\n")) + "\n")
			case strings.HasPrefix(line, "@@"):
				b.WriteString(paint(ansiCyan, strings.TrimSuffix(line, "\n")) + "\n")
			case strings.HasPrefix(line, "-"):
				b.WriteString(paint(ansiRed, strings.TrimSuffix(line, "\n")) + "\n")
			case strings.HasPrefix(line, "+"):
				b.WriteString(paint(ansiGreen, strings.TrimSuffix(line, "\n")) + "\n")
			default:
				b.WriteString(line)
			}
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(b, "\nnot decoded: %s\n", p)
	}
}

// fence returns a code fence longer than any run of backticks in s.
func fence(s string) string {
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	return f
}

func writeMarkdown(w io.Writer, r *Report) error {
	code := func(s string) string { return "`" + s + "`" }
	var b strings.Builder
	fmt.Fprintf(&b, "### cocogen diff: %s → %s\n\n", code(r.Base), code(r.Head))
	markdownBody(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownBody writes the markdown report after its title.
func markdownBody(b *strings.Builder, r *Report) {
	code := func(s string) string { return "`" + s + "`" }
	if r.Empty() {
		b.WriteString("No differences: this change renders the same objects.\n")
		return
	}
	fmt.Fprintf(b, "**%s**\n\n", summary(r))
	if lines := digestLines(r, code); len(lines) > 0 {
		b.WriteString("#### Attestation\n\n")
		for _, l := range lines {
			b.WriteString("- " + l + "\n")
		}
		b.WriteString("\n")
	}
	for i := 0; i < len(r.Changes); {
		app := r.Changes[i].App
		j := i
		for j < len(r.Changes) && r.Changes[j].App == app {
			j++
		}
		group := r.Changes[i:j]
		counts := map[string]int{}
		for _, c := range group {
			counts[c.Kind]++
		}
		var parts []string
		for _, k := range []string{Changed, Added, Removed} {
			if counts[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		title := appTitle(app, func(s string) string { return "<code>" + s + "</code>" })
		fmt.Fprintf(b, "<details><summary>%s: %s</summary>\n\n", title, strings.Join(parts, ", "))
		for _, c := range group {
			f := fence(c.Diff)
			fmt.Fprintf(b, "**%s** %s\n\n%sdiff\n%s%s\n\n", c.Kind, code(c.ID), f, c.Diff, f)
		}
		b.WriteString("</details>\n\n")
		i = j
	}
	for _, p := range r.Problems {
		fmt.Fprintf(b, "- not decoded: %s\n", p)
	}
}
