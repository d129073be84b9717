package main

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/policytest"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

func newPolicyCheckCommand(s streams) *cobra.Command {
	o := &policyFlags{}
	cmd := &cobra.Command{
		Use:   "check [PATH...]",
		Short: "Check kata agent policies and Trustee policies against the engines that load them",
		Long: `Check reads each policy (every .rego file that is not a _test.rego file; by default those under
policies/) and reports, with file:line:col, what would stop the engine that loads it.

Trustee policies (package policy or policy.<name>, or files under a directory named trustee) are checked
as Trustee 0.21 evaluates them: the resource policy must define allow as a boolean that is false for a
token that is not affirming; the attestation policy must give trust_claims as an object of the eight AR4SI
claims with integer values, for representative evidence; both may call only builtins that regorus has, plus
Trustee's query_reference_value.

Every other file is a kata agent policy, checked for what would stop the agent in the pod VM from loading
or using it:

  - the package is not agent_policy;
  - it does not parse as Rego v1, or (for kata before 3.30, and when no --kata-version is given) as Rego v0;
  - it imports rego.v1 together with future.keywords, or one future keyword twice;
  - it calls a builtin the agent's Rego engine (regorus) lacks, such as time.now_ns, crypto.*, http.send;
  - an entry point the agent queries is undefined, or is not a boolean or an {"allowed", "ops"} object, for
    an empty request;
  - policy_data is not the last rule, written 'policy_data := {' and followed by plain JSON only (Trustee
    reads it from there to the end of the file).

The OPA capabilities file that describes the agent's builtins is
internal/regocheck/regorus.json; 'opa check --capabilities' accepts it too.
Exit code 1 when a policy has an error.`,
		Example: `  # Check the policies in policies/ (agent policies for every supported kata release)
  cocogen policy check

  # Check one policy for the agent of kata 3.21.0, with GitHub annotations
  cocogen policy check policies/agent/default.rego --kata-version 3.21.0 --diagnostics-format github`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := o.options(cmd)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{"policies"}
			}
			files, err := loadPolicies(cmd, args)
			if err != nil {
				return err
			}
			d := &diag.List{}
			checked, failed, trustee := 0, 0, 0
			for _, f := range files {
				if policytest.IsTest(f.Name) {
					continue
				}
				checked++
				var l *diag.List
				if kind, ok := trusteeKind(f); ok {
					trustee++
					l = trusteepolicy.Validate(f.Name, f.Data, kind)
				} else {
					l = agentpolicy.Validate(f.Name, f.Data, opts)
				}
				if l.HasErrors() {
					failed++
				}
				if o.verbose && !l.HasErrors() {
					fmt.Fprintf(s.out, "%s: ok\n", f.Name)
				}
				d.Append(l)
			}
			if checked == 0 {
				return usageError{err: fmt.Errorf("no policies in %s (only _test.rego files)", strings.Join(args, ", ")), cmd: cmd}
			}
			if err := diag.Write(s.err, o.diagFormat, d.Sorted(), o.verbose); err != nil {
				return err
			}
			target := "every kata release from 3.5.0 on"
			if !opts.Kata.IsZero() {
				target = "kata " + opts.Kata.String()
			}
			what := fmt.Sprintf("%d agent %s checked for %s", checked-trustee, policies(checked-trustee), target)
			switch {
			case trustee > 0 && checked == trustee:
				what = fmt.Sprintf("%d Trustee %s checked", trustee, policies(trustee))
			case trustee > 0:
				what += fmt.Sprintf(", %d Trustee %s", trustee, policies(trustee))
			}
			if failed > 0 {
				fmt.Fprintf(s.out, "FAILED: %d of %s %s errors\n", failed, what, map[bool]string{true: "has", false: "have"}[failed == 1])
				return &exitError{code: exitInvalid}
			}
			fmt.Fprintf(s.out, "ok: %s\n", what)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

// trusteeKind tells whether a policy file is one of Trustee's (package policy, or a file under a trustee
// directory) and which.
func trusteeKind(f policytest.File) (trusteepolicy.Kind, bool) {
	mod, _ := ast.ParseModuleWithOpts(f.Name, string(f.Data), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if !trusteepolicy.IsPolicy(f.Name, mod) {
		return 0, false
	}
	k, err := trusteepolicy.KindOf(f.Name, mod)
	if err != nil {
		return trusteepolicy.Attestation, true // Validate reports what is missing
	}
	return k, true
}

func policies(n int) string {
	if n == 1 {
		return "policy"
	}
	return "policies"
}
