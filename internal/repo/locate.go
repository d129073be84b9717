package repo

import (
	"fmt"
	"os"
)

// Location is a repository found on disk for a render: the opened root, the values directory relative to
// it, and what was found on the way.
type Location struct {
	Root *Root
	// ValuesDir is the values directory relative to the root.
	ValuesDir string
	// Found is false when no .git was found at or above the values directory, so the root is the values
	// directory itself (FindRoot).
	Found bool
	// Outside is set when the values directory lies outside the root that --repo-root names: the reason,
	// which the render reports as an error of the request.
	Outside error
}

// Locate opens the repository root for a values directory given on the command line (absolute or relative
// to the working directory): repoRoot when it is set, else FindRoot's. A values directory that does not
// exist is an error (a usage error of the command).
func Locate(repoRoot, valuesDir string) (*Location, error) {
	if valuesDir == "" {
		valuesDir = "values"
	}
	if st, err := os.Stat(valuesDir); err != nil || !st.IsDir() {
		return nil, &MissingDirError{Dir: valuesDir}
	}
	loc := &Location{Found: true}
	dir := repoRoot
	if dir == "" {
		var err error
		if dir, loc.Found, err = FindRoot(valuesDir); err != nil {
			return nil, err
		}
	}
	root, err := Open(dir)
	if err != nil {
		return nil, err
	}
	loc.Root = root
	if loc.ValuesDir, err = root.RelDir(valuesDir); err != nil {
		loc.Outside = err
	}
	return loc, nil
}

// MissingDirError is a values directory that does not exist: invalid input (exit code 1), as a missing values
// file is.
type MissingDirError struct{ Dir string }

func (e *MissingDirError) Error() string {
	return fmt.Sprintf("values directory %s does not exist (--values-dir; a Validated Patterns repository keeps its values at its root: --values-dir .)", e.Dir)
}
