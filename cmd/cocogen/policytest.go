package main

import (
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/policytest"
)

type policyTestOptions struct {
	policyFlags
	output string
	run    string
}

func newPolicyTestCommand(s streams) *cobra.Command {
	o := &policyTestOptions{}
	cmd := &cobra.Command{
		Use:   "test [PATH...]",
		Short: "Run the Rego unit tests of the policies and check the policies",
		Long: `Test runs the Rego unit tests (test_* rules in <policy>_test.rego files) with OPA's test runner and
checks every kata agent policy as 'cocogen policy check' does. PATH is a directory (searched for .rego
files) or a file; the default is policies/.

Each policy is tested on its own, with the test file that carries its name (default.rego with
default_test.rego): the agent loads one policy file, and two agent policies share the package
agent_policy, so they cannot be compiled together. The same suite runs upstream as
'opa test policies/agent/default.rego policies/agent/default_test.rego'.

A file is checked as an agent policy when it is not a test, and it declares package agent_policy or lies in
a directory named agent; as a Trustee policy when it declares package policy (or policy.<name>) or lies in
a directory named trustee.

With -o text, failed tests (all tests with -v) and a summary go to stdout, diagnostics to stderr. With -o
json and -o junit, one document on stdout holds tests, checks and diagnostics. The exit code is 1 when a
test fails or errs, or a policy has an error, 0 when everything passes, 2 on a usage error.`,
		Example: `  # Run every suite under policies/ and check the agent policies
  cocogen policy test

  # One policy and its tests, listing every test
  cocogen policy test policies/agent/default.rego -v

  # For CI: a JUnit report, checked for the agent of the cluster's kata release
  cocogen policy test -o junit --kata-version 3.21.0 > policy-tests.xml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runTests(cmd, s, args)
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	outputFlag(f, &o.output, "text", policytest.ReportFormats)
	f.StringVar(&o.run, "run", "", "run only the tests whose package path and name match this regular expression")
	return cmd
}

func (o *policyTestOptions) runTests(cmd *cobra.Command, s streams, paths []string) error {
	if _, err := regexp.Compile(o.run); err != nil {
		return usageError{err: fmt.Errorf("invalid --run: %w", err), cmd: cmd}
	}
	opts, err := o.options(cmd)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		paths = []string{"policies"}
	}
	files, err := loadPolicies(cmd, paths)
	if err != nil {
		return err
	}
	rep := policytest.RunTests(commandContext(cmd), files, policytest.TestOptions{Options: opts, Run: o.run})
	if err := policytest.WriteReport(s.out, o.output, rep, o.verbose); err != nil {
		return err
	}
	if o.output == "text" {
		if err := diag.Write(s.err, o.diagFormat, rep.Diagnostics, o.verbose); err != nil {
			return err
		}
	}
	if !rep.OK() {
		return &exitError{code: exitInvalid}
	}
	return nil
}
