// Package repo confines file access to the repository being rendered. A Root is a view of an fs.FS rooted at
// the repository (os.Root's file system for a directory on disk, an fstest.MapFS in tests): paths are
// relative to the repository root, neither ".." nor absolute paths can reach outside it, symbolic links
// cannot either (os.Root enforces this for every path component on disk), and every read spends the
// file-bytes and input-bytes budgets. The render reads its inputs only through a Root (pipeline's load
// phase); Open and Locate are the only functions here that look at the operating system's file system, and
// only the commands call them.
package repo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/cocogen/cocogen/internal/budget"
)

// MaxFileBytes is the largest input file cocogen reads unless a budget says otherwise: the default of the
// file-bytes budget. Values files, policies and metadata are a few KB; anything near this size is a mistake
// or an attack.
const MaxFileBytes = 4 << 20

// Root is an opened repository root.
type Root struct {
	dir     string // absolute; "" when the file system is not a directory on disk
	display string // how the root is shown in messages: "" for the working directory, else a path
	fsys    fs.FS
	closer  io.Closer
	// maxFile and maxTotal are the file-bytes and input-bytes budgets; read counts what was read so far.
	maxFile, maxTotal int64
	read              atomic.Int64
}

// Open opens dir as a repository root.
func Open(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open repository root: %w", err)
	}
	return &Root{dir: abs, display: displayDir(abs), fsys: r.FS(), closer: r, maxFile: MaxFileBytes}, nil
}

// New returns a view of fsys, which holds the repository at its root. display is how the root is shown in
// messages (file names read display/path; "" shows repository paths alone), and dir the root's directory on
// disk for messages ("" when fsys is not one).
func New(fsys fs.FS, display, dir string) *Root {
	return &Root{dir: dir, display: display, fsys: fsys, maxFile: MaxFileBytes}
}

// FS returns the file system r reads (without r's budgets).
func (r *Root) FS() fs.FS { return r.fsys }

// DisplayName returns how the root is shown in messages ("" when file names are repository paths).
func (r *Root) DisplayName() string { return r.display }

// SetBudget makes reads through r spend the file-bytes and input-bytes budgets of l.
func (r *Root) SetBudget(l budget.Limits) {
	r.maxFile, r.maxTotal = l.FileBytes, l.InputBytes
}

// BytesRead is how many bytes were read through r.
func (r *Root) BytesRead() int64 { return r.read.Load() }

// BudgetError is a read refused because a budget is spent; it names the file and the budget.
type BudgetError struct {
	File string
	Err  *budget.Exceeded
}

func (e *BudgetError) Error() string { return e.File + ": " + e.Err.Error() }

// displayDir shows a root relative to the working directory when it is inside it.
func displayDir(abs string) string {
	wd, err := os.Getwd()
	if err != nil {
		return abs
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	if rel == "." {
		return ""
	}
	return filepath.ToSlash(rel)
}

// Close releases the root.
func (r *Root) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Dir returns the absolute path of the root ("" when it is not a directory on disk).
func (r *Root) Dir() string { return r.dir }

// Display returns how a root-relative path is shown in diagnostics (relative to the working directory when
// the root is inside it).
func (r *Root) Display(rel string) string {
	if r.display == "" {
		return rel
	}
	return r.display + "/" + rel
}

// Clean turns a repository path (slash-separated; a leading "/" means the repository root, as in Argo CD
// value files) into a root-relative path, refusing anything that would leave the root.
func Clean(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.ContainsRune(p, 0) || strings.Contains(p, "\\") {
		return "", fmt.Errorf("path %q contains a NUL or a backslash", p)
	}
	c := path.Clean("/" + p)
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("path %q leaves the repository root", p)
		}
	}
	if c == "/" {
		return ".", nil
	}
	return c[1:], nil
}

// ReadFile reads a root-relative file, within the file-bytes and input-bytes budgets (*BudgetError).
func (r *Root) ReadFile(rel string) ([]byte, error) {
	clean, err := Clean(rel)
	if err != nil {
		return nil, err
	}
	f, err := r.fsys.Open(clean)
	if err != nil {
		return nil, cleanErr(clean, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", r.Display(clean))
	}
	limits := budget.Limits{FileBytes: r.maxFile, InputBytes: r.maxTotal}
	if st.Size() > r.maxFile {
		return nil, &BudgetError{File: r.Display(clean), Err: limits.Exceed("file-bytes", fmt.Sprintf("the file is %d bytes", st.Size()))}
	}
	// Room for the size the file has now (and the read that sees its end): one allocation, where ReadAll
	// would double its way up to it. A file that grows meanwhile still stops at the limit.
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(f, r.maxFile+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.Display(clean), err)
	}
	if int64(len(data)) > r.maxFile {
		return nil, &BudgetError{File: r.Display(clean), Err: limits.Exceed("file-bytes", "the file grew while it was read")}
	}
	if total := r.read.Add(int64(len(data))); r.maxTotal > 0 && total > r.maxTotal {
		return nil, &BudgetError{File: r.Display(clean), Err: limits.Exceed("input-bytes", fmt.Sprintf("this render has read %d bytes from the repository with this file", total))}
	}
	return data, nil
}

// Stat describes a root-relative path.
func (r *Root) Stat(rel string) (fs.FileInfo, error) {
	clean, err := Clean(rel)
	if err != nil {
		return nil, err
	}
	st, err := fs.Stat(r.fsys, clean)
	if err != nil {
		return nil, cleanErr(clean, err)
	}
	return st, nil
}

// Exists reports whether a root-relative regular file exists (inside the root).
func (r *Root) Exists(rel string) bool {
	st, err := r.Stat(rel)
	return err == nil && st.Mode().IsRegular()
}

// ErrOutside marks paths that escape the root through a symbolic link.
var ErrOutside = errors.New("path escapes the repository root")

func cleanErr(rel string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "path escapes") {
		return fmt.Errorf("%s: %w", rel, ErrOutside)
	}
	return err
}

// RelDir returns dir (absolute or relative to the working directory) relative to the root, or an error when
// it lies outside (or the root is not a directory on disk).
func (r *Root) RelDir(dir string) (string, error) {
	if r.dir == "" {
		return "", fmt.Errorf("%s: the repository is not a directory on disk", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(r.dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s is outside the repository root %s", dir, r.dir)
	}
	return filepath.ToSlash(rel), nil
}

// FindRoot picks the repository root for a values directory: the nearest directory at or above it that holds
// .git, else the values directory itself — never the working directory, which may be a home directory full of
// credentials (extraValueFiles: ["/.kube/config"] would then be read). found is false in the second case.
func FindRoot(valuesDir string) (root string, found bool, err error) {
	abs, err := filepath.Abs(valuesDir)
	if err != nil {
		return "", false, err
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d, true, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return abs, false, nil
}

// WalkFiles calls fn for every regular file below the root-relative directory dir, in lexical order, with its
// root-relative path and content. Symbolic links are not followed out of the root (os.Root refuses them), and
// every read spends the budgets (ReadFile).
func (r *Root) WalkFiles(dir string, fn func(rel string, data []byte) error) error {
	clean, err := Clean(dir)
	if err != nil {
		return err
	}
	return fs.WalkDir(r.fsys, clean, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return cleanErr(p, err)
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		data, err := r.ReadFile(p)
		if err != nil {
			return err
		}
		return fn(p, data)
	})
}

// ReadDir returns the names of the regular files directly in the root-relative directory dir, sorted; a
// directory that does not exist has none.
func (r *Root) ReadDir(dir string) ([]string, error) {
	clean, err := Clean(dir)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(r.fsys, clean)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, cleanErr(clean, err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
