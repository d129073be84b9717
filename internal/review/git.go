package review

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// maxArchiveBytes bounds what ExtractRevision writes: a pattern repository is a few MB.
const maxArchiveBytes = 512 << 20

// GitTopLevel returns the top-level directory of the git work tree that holds dir.
func GitTopLevel(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// ResolveRevision returns the full commit a revision names and a short name for people ("origin/main
// (1a2b3c4)").
func ResolveRevision(ctx context.Context, dir, rev string) (commit, name string, err error) {
	if strings.HasPrefix(rev, "-") {
		return "", "", fmt.Errorf("invalid revision %q", rev)
	}
	out, err := git(ctx, dir, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", "", fmt.Errorf("%q is not a commit of the repository at %s (git rev-parse: %v)", rev, dir, err)
	}
	commit = strings.TrimSpace(string(out))
	return commit, fmt.Sprintf("%s (%s)", rev, commit[:min(len(commit), 7)]), nil
}

// ExtractRevision writes the files of a commit into dst (which must exist and be empty) with git archive, so
// the working tree and the index are never touched. Paths that would leave dst are refused.
func ExtractRevision(ctx context.Context, dir, commit, dst string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "archive", "--format=tar", commit)
	cmd.Stdout = &limitedWriter{w: &out, n: maxArchiveBytes}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git archive %s: %v: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read git archive: %w", err)
		}
		name := path.Clean(h.Name)
		if name == "." || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("git archive: refusing path %q", h.Name)
		}
		p := filepath.Join(dst, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			// Kept as a link: reads through the repository root refuse links that leave it.
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		}
	}
}

func git(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return nil, err
	}
	return out, nil
}

// limitedWriter fails once more than n bytes are written.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, fmt.Errorf("the revision is larger than %d MB", maxArchiveBytes>>20)
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}
