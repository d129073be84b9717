package pipeline

import (
	"testing"

	"github.com/cocogen/cocogen/internal/repo"
)

// disk points req at a repository on disk, as the commands do (repo.Locate): root ("" to find it from the
// values directory) and valuesDir are directories relative to the working directory.
func disk(t testing.TB, root, valuesDir string, req Request) Request {
	t.Helper()
	loc, err := repo.Locate(root, valuesDir)
	if err != nil {
		t.Fatal(err)
	}
	req.At(loc, valuesDir)
	return req
}
