package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cocogen/cocogen/internal/diag"
)

// enumFlag is a string flag whose value must be one of a fixed list. A value outside it is a usage error (exit
// code 2) that names the flag and lists the valid values, raised while the flags are parsed: no command needs
// to check it again. Every flag with a fixed set of values is one (--output, --diagnostics-format, --color).
type enumFlag struct {
	value *string
	valid []string
}

func (e *enumFlag) String() string { return *e.value }
func (e *enumFlag) Type() string   { return "string" }

func (e *enumFlag) Set(s string) error {
	if !slices.Contains(e.valid, s) {
		return fmt.Errorf("valid: %s", strings.Join(e.valid, ", "))
	}
	*e.value = s
	return nil
}

// enumVarP registers an enumFlag: p is set to def, which must be one of valid; usage is followed by the list.
func enumVarP(f *pflag.FlagSet, p *string, name, short, def string, valid []string, usage string) {
	if !slices.Contains(valid, def) {
		panic(fmt.Sprintf("flag --%s: default %q is not among %v", name, def, valid))
	}
	*p = def
	f.VarP(&enumFlag{value: p, valid: valid}, name, short, usage+": "+strings.Join(valid, ", "))
}

// outputFlag registers -o/--output, which is a format in every command (files have flags of their own, such
// as --output-dir and --output-file).
func outputFlag(f *pflag.FlagSet, p *string, def string, valid []string) {
	enumVarP(f, p, "output", "o", def, valid, "output format")
}

// diagFormatFlag registers --diagnostics-format, the format of the diagnostics on stderr.
func diagFormatFlag(f *pflag.FlagSet, p *string) {
	enumVarP(f, p, "diagnostics-format", "", "text", diag.Formats, "diagnostics format on stderr")
}

// deprecatedFlag is a flag kept for an old spelling: it sets what the new flag sets, and the command warns on
// stderr when it is used (warnDeprecated).
type deprecatedFlag struct {
	value   *string
	newName string
	used    bool
}

func (d *deprecatedFlag) String() string { return *d.value }
func (d *deprecatedFlag) Type() string   { return "string" }
func (d *deprecatedFlag) Set(s string) error {
	*d.value, d.used = s, true
	return nil
}

// deprecatedFileFlag registers oldName as a hidden old spelling of newName, a file flag (-o/--output names a
// format everywhere; a file has a flag of its own).
func deprecatedFileFlag(f *pflag.FlagSet, p *string, oldName, newName string) {
	f.Var(&deprecatedFlag{value: p, newName: newName}, oldName, "deprecated: use --"+newName)
	_ = f.MarkHidden(oldName)
}

// warnDeprecated prints a warning on stderr for every deprecated spelling the command line used.
func warnDeprecated(cmd *cobra.Command, s streams) {
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if d, ok := fl.Value.(*deprecatedFlag); ok && d.used {
			fmt.Fprintf(s.err, "warning: --%s FILE is deprecated and will be removed: use --%s FILE (-o/--output names an output format in every command)\n", fl.Name, d.newName)
		}
	})
}
