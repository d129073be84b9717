package overlay

import (
	"strings"

	"github.com/cocogen/cocogen/internal/lazyre"
)

// A string in a kustomization that names something is either a path in the repository or a remote: kustomize
// fetches a string as a URL when it parses as an http or https URL, and clones it with git when it reads as a
// repository (see kustomize's internal/git and internal/loader). remote over-approximates both, so that
// nothing kustomize would fetch or clone reaches it.

var (
	// userAtHost is kustomize's test for an scp-style repository (git@github.com:org/repo).
	userAtHost = lazyre.New(`^[a-zA-Z][a-zA-Z0-9-]*@`)
	// urlScheme is any URL scheme (RFC 3986), which also catches "github.com:org/repo".
	urlScheme = lazyre.New(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// remote says what kind of remote s names, or "" when s is not one.
func remote(s string) string {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "git::") {
		return "a git:: repository reference"
	}
	for _, p := range []struct{ prefix, what string }{
		{"https://", "an https URL"},
		{"http://", "an http URL"},
		{"ssh://", "an ssh URL (git would connect with your keys)"},
		{"file://", "a file:// URL (a git repository elsewhere on the machine)"},
	} {
		if strings.HasPrefix(lower, p.prefix) {
			return p.what
		}
	}
	if strings.HasPrefix(lower, "github.com") {
		return "a GitHub repository (kustomize would clone it with git)"
	}
	if userAtHost.MatchString(t) {
		return "a git repository over ssh (user@host; git would connect with your keys)"
	}
	// A string of several lines is never fetched as a URL (kustomize reads it as an inline document), and its
	// first line may well look like "apiVersion: builtin".
	if strings.ContainsAny(t, "\n\r") {
		return ""
	}
	if strings.Contains(t, "://") || urlScheme.MatchString(t) {
		return "a URL"
	}
	return ""
}
