package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cocogen/cocogen/internal/repo"
)

// streams are the standard streams a command uses; tests pass buffers.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// prepareHeap readies the process's heap for a large render; the commands that render call it first.
	// main passes prepareHeap (renderheap.PrepareOnce: package early has usually done it already); tests leave
	// it nil.
	prepareHeap func()
}

// heapForRender calls s.prepareHeap, if set.
func (s streams) heapForRender() {
	if s.prepareHeap != nil {
		s.prepareHeap()
	}
}

// Exit codes, the same for the same kind of problem in every command (exitCodesHelp documents them).
const (
	exitOK      = 0 // done; for checks: nothing failed
	exitInvalid = 1 // invalid input (a value, a file named on the command line that is missing or unreadable) or a failed check
	exitUsage   = 2 // usage (unknown flag, invalid flag value, wrong arguments), environment (git, a cluster, Azure) or internal error
)

// exitCodesHelp is the part of the root command's help (and so of docs/cli) that documents the exit codes.
const exitCodesHelp = `Exit codes (every command):
  0  success; for checks and tests: nothing failed
  1  invalid input or a failed check: invalid values, metadata or policies (diagnostics with file:line:col
     on stderr), an input file named on the command line that does not exist or cannot be read, a policy
     test that fails, diff --exit-code with differences
  2  usage error (unknown command or flag, an invalid flag value, wrong arguments; the message ends with a
     hint to --help), a problem with the environment (git, a cluster, Azure) or an internal error
-o/--output names an output format in every command; files have flags of their own (--output-dir,
--output-file).`

// inputError is an input file named on the command line that cannot be read: exit code 1, as for any other
// invalid input.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// exitError carries an exit code for an error whose message the command has already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCommand(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cocogen",
		Short: "Render Confidential Containers GitOps patterns for Argo CD",
		Long: `cocogen renders a Confidential Containers pattern: it expands Validated Patterns values into the
Argo CD app-of-apps tree (Namespaces, OperatorGroups, Subscriptions, AppProjects, Applications), using
cluster metadata for the facts the Validated Patterns operator would inject.

The same render runs locally (cocogen render) and inside Argo CD as a config management plugin, so what
you review is what the cluster gets.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		var ive *pflag.InvalidValueError
		if errors.As(err, &ive) {
			err = fmt.Errorf("invalid --%s %q (%w)", ive.GetFlag().Name, ive.GetValue(), ive.Unwrap())
		}
		return usageError{err: err, cmd: c}
	})
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(newRenderCommand(s), newVersionCommand(s),
		newGenerateCommand(s), newParametersCommand(s), newBootstrapCommand(s), newInstallCommand(s), newSecretsCommand(s), newInitDataCommand(s), newPolicyCommand(s), newPodVMCommand(s), newMetadataCommand(s), newDiffCommand(s), newDecodeCommand(s),
		newDocsCommand(s, func() *cobra.Command { return newRootCommand(s) }))
	return root
}

// usageError is a command-line mistake: exit code 2, with a hint to --help.
type usageError struct {
	err error
	cmd *cobra.Command
}

func (e usageError) Error() string { return e.err.Error() }

// run executes the command and maps its error to an exit code, printing the message when the command has not.
// A panic ends as an internal error (exit code 2) without a stack trace; see internalError.
func run(cmd *cobra.Command, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			code = internalError(cmd.ErrOrStderr(), r, shellJoin(append([]string{"cocogen"}, args...)))
		}
	}()
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	w := cmd.ErrOrStderr()
	var ie inputError
	var missing *repo.MissingDirError
	if errors.As(err, &ie) || errors.As(err, &missing) {
		fmt.Fprintf(w, "error: %v\n", err)
		return exitInvalid
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintf(w, "error: %v\n", err)
		name := "cocogen"
		if ue.cmd != nil {
			name = ue.cmd.CommandPath()
		}
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", name)
		return exitUsage
	}
	fmt.Fprintf(w, "error: %v\n", err)
	return exitUsage
}

// isCobraUsageError recognises the errors cobra returns for unknown commands and wrong argument counts.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
