package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/policyeval"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// newPolicyEvalCommand groups the commands that answer what the guest or Trustee would decide.
func newPolicyEvalCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate the rendered policies: what the kata agent or Trustee would decide",
		Long: `Eval renders the pattern and evaluates the policies it renders, byte for byte, with the Rego engine and the
builtin limits the render checks them with:

  agent    the agent policy of an init-data profile (the policy.rego its init-data carries) for one request
           the host sends to the kata agent in the pod VM;
  trustee  the attestation policy and the KBS resource policy of the trustee application, with its reference
           values, for a guest started with a profile's init-data that asks for one KBS resource.

The decision goes to stdout (exit code 0 whether allowed or denied); diagnostics of the render to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newPolicyEvalAgentCommand(s), newPolicyEvalTrusteeCommand(s))
	return cmd
}

// evalFlags are the flags both eval commands share.
type evalFlags struct {
	source     sourceFlags
	profile    string
	output     string
	diagFormat string
}

func (f *evalFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	f.source.register(fl)
	fl.StringVar(&f.profile, "profile", "", "init-data profile of global.coco.initdata.profiles (required)")
	outputFlag(fl, &f.output, "text", policyeval.Formats)
	diagFormatFlag(fl, &f.diagFormat)
}

// render checks the flags and renders the pattern (every application, for the trustee's bytes).
func (f *evalFlags) render(cmd *cobra.Command, s streams) (*pipeline.Result, error) {
	if f.profile == "" {
		return nil, usageError{err: errors.New("--profile is required: the init-data profile whose policy decides"), cmd: cmd}
	}
	req, err := f.source.request(s.in)
	if err != nil {
		return nil, err
	}
	req.All = true
	res, err := renderFor(s, req, f.diagFormat, false)
	if err != nil {
		return nil, err
	}
	if _, err := res.Profile(f.profile); err != nil {
		fmt.Fprintf(s.err, "error: --profile: %v\n", err)
		return nil, &exitError{code: exitInvalid}
	}
	return res, nil
}

// readJSONFile reads a JSON document from name (- for stdin). A file that does not parse is a user error
// with its line and column, printed to stderr.
func readJSONFile(s streams, name string) (any, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(io.LimitReader(s.in, 8<<20))
		name = "<stdin>"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintf(s.err, "error: %v\n", err)
		return nil, &exitError{code: exitInvalid}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err = dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err != nil {
		off := int(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset) - 1 // the offset is past the offending byte
		}
		off = min(max(off, 0), len(data))
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		col := off - bytes.LastIndexByte(data[:off], '\n')
		d := diag.Diagnostic{Severity: diag.Error, Pos: srcpos.Pos{File: name, Line: line, Col: col}, Msg: fmt.Sprintf("not JSON: %v", err)}
		fmt.Fprintln(s.err, d.String())
		return nil, &exitError{code: exitInvalid}
	}
	return v, nil
}
