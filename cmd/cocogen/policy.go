package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/policytest"
	"github.com/cocogen/cocogen/internal/regolimit"
)

// newPolicyCommand groups the commands that work on the readable policies in policies/.
func newPolicyCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test, check and evaluate the policies in policies/",
		Long: `The policies are readable Rego in Git. The kata agent policies (policies/agent/*.rego) are loaded by
the agent inside each Confidential Containers pod VM, whose Rego engine is regorus, not OPA: it accepts
fewer builtins, and before kata 3.30 it parses Rego v0. These commands check the policies for that engine
and run their Rego unit tests (<policy>_test.rego beside each policy) with OPA's test runner.

The Trustee policies (policies/trustee/resource.rego, KBS's resource policy, and attestation.rego, the
attestation service's policy) are loaded by Trustee 0.21, also with regorus; the attestation policy calls
Trustee's query_reference_value, which these commands declare (and the tests mock with 'with').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newPolicyTestCommand(s), newPolicyCheckCommand(s), newPolicyEvalCommand(s))
	return cmd
}

// policyFlags are the flags the policy commands share.
type policyFlags struct {
	kataVersion string
	diagFormat  string
	verbose     bool
	budgets     []string
}

func (f *policyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.kataVersion, "kata-version", "", "Kata Containers release whose agent loads the policies, e.g. 3.21.0 (default: check for every release from 3.5.0 on)")
	diagFormatFlag(fl, &f.diagFormat)
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also list what passed")
	fl.StringArrayVar(&f.budgets, "budget", nil, budgetFlagHelp)
}

func (f *policyFlags) options(cmd *cobra.Command) (agentpolicy.Options, error) {
	v, err := agentpolicy.ParseKataVersion(f.kataVersion)
	if err != nil {
		return agentpolicy.Options{}, usageError{err: fmt.Errorf("--kata-version: %w", err), cmd: cmd}
	}
	limits, err := budget.FromEnv(os.LookupEnv, f.budgets)
	if err != nil {
		return agentpolicy.Options{}, usageError{err: err, cmd: cmd}
	}
	return agentpolicy.Options{Kata: v, Meter: regolimit.NewMeter(limits)}, nil
}

// loadPolicies reads the Rego files named by paths; a path that does not exist is a usage error.
func loadPolicies(cmd *cobra.Command, paths []string) ([]policytest.File, error) {
	files, err := policytest.LoadFiles(paths)
	if err != nil {
		return nil, usageError{err: err, cmd: cmd}
	}
	if len(files) == 0 {
		return nil, usageError{err: fmt.Errorf("no %s files in %s", ".rego", strings.Join(paths, ", ")), cmd: cmd}
	}
	return files, nil
}

func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
