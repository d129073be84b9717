package pipeline

import (
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// At points the request at a repository found on disk (repo.Locate): its file system, how its root is shown,
// its values directory, and what locating it found (Notes). valuesDir is the values directory as the user
// named it, for the messages.
func (r *Request) At(loc *repo.Location, valuesDir string) {
	r.FS, r.RootName, r.RootDir = loc.Root.FS(), loc.Root.DisplayName(), loc.Root.Dir()
	r.ValuesDir = loc.ValuesDir
	if valuesDir == "" {
		valuesDir = "values"
	}
	if !loc.Found {
		r.Notes = append(r.Notes, diag.Diagnostic{Severity: diag.Warning, Pos: srcpos.Pos{File: "--values-dir"},
			Msg: "no .git at or above " + valuesDir + ": the repository root is the values directory itself, so files outside it cannot be read (pass --repo-root DIR to name the root)"})
	}
	if loc.Outside != nil {
		r.Notes = append(r.Notes, diag.Diagnostic{Severity: diag.Error, Pos: srcpos.Pos{File: "--values-dir"}, Msg: loc.Outside.Error()})
	}
}
