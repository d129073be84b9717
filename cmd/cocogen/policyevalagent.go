package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/policyeval"
)

func newPolicyEvalAgentCommand(s streams) *cobra.Command {
	var f evalFlags
	var request, input string
	cmd := &cobra.Command{
		Use:   "agent --profile PROFILE --request NAME [--input FILE]",
		Short: "Decide one kata agent request with the agent policy of an init-data profile",
		Long: `Agent evaluates the agent policy of an init-data profile, exactly the policy.rego its rendered init-data
carries, for one request to the kata agent, and prints whether the agent allows it and which rule decided
(the first rule of the request whose body holds, or its default).

NAME is the protobuf message name the agent asks its policy about (` + strings.Join(agentpolicy.EntryPoints, ", ") + `).
FILE is the request as the agent hands it to its policy engine, as JSON: agent.proto fields in snake_case,
the OCI spec of a CreateContainerRequest under OCI in PascalCase (- reads stdin); without --input the request
is empty ({}). The evaluation is the agent's: the builtins of its regorus for the cluster's kata.version,
builtin errors making an expression undefined, AllowRequestsFailingPolicy honoured.`,
		Example: `  # The host tries to replace the default profile's policy, and to exec into its pods
  cocogen policy eval agent --profile default --request SetPolicyRequest
  cocogen policy eval agent --profile default --request ExecProcessRequest
  cocogen policy eval agent --profile debug --request ExecProcessRequest

  # A container the host asks for, as JSON
  cocogen policy eval agent --profile default --request CreateContainerRequest --input create.json -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if request == "" {
				return usageError{err: errors.New("--request is required: the message name of the request, e.g. ExecProcessRequest"), cmd: cmd}
			}
			if !slices.Contains(agentpolicy.EntryPoints, request) {
				return usageError{err: fmt.Errorf("invalid --request %q (valid: %s)", request, strings.Join(agentpolicy.EntryPoints, ", ")), cmd: cmd}
			}
			res, err := f.render(cmd, s)
			if err != nil {
				return err
			}
			var in any
			if input != "" {
				if in, err = readJSONFile(s, input); err != nil {
					return err
				}
			}
			r, err := policyeval.Agent(commandContext(cmd), res, f.profile, request, in)
			if err != nil {
				return err
			}
			return policyeval.WriteAgent(s.out, f.output, r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&request, "request", "", "the request's message name, e.g. ExecProcessRequest (required)")
	cmd.Flags().StringVar(&input, "input", "", "the request as JSON (- for stdin; default: an empty request {})")
	return cmd
}
