package provenance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"gitgate.dev/gitgate/provenance/signature"
)

// Signer is a trusted signer as the trust policy names it, with the format
// of the signature that proved it.
type Signer struct {
	Name   string           `json:"name"`
	Format signature.Format `json:"format"`
}

// CommitResult is the verdict on one commit. For a merge, Signers lists the
// merge's signer first, then the distinct signers of the commits it brings
// in: the approvers.
type CommitResult struct {
	SHA      string   `json:"sha"`
	Signers  []Signer `json:"signers"`
	Verified bool     `json:"verified"`
	Reason   string   `json:"reason"`
}

// Snapshot is the outcome of a verification: the verdict, the commits that
// were checked (newest first), and read access to the files of the head.
// The file accessors work while the Repository it came from is open.
type Snapshot struct {
	Source    string
	Branch    string
	Head      string
	TrustRoot string
	Mode      Mode
	// Verified is true when the head is a verified commit.
	Verified bool
	// Commits are the commits checked in this verification, newest first.
	// With a ledger or a warm Verifier only commits new since the last
	// verified head are checked (the head itself always is). A failure that
	// is not about one commit's content (a rewound branch, a trust root off
	// the chain) is reported as a failing entry for the head.
	Commits []CommitResult

	repo     *Repository
	verifier *Verifier
}

// fail records a failure that ends the verification at commit sha.
func (s *Snapshot) fail(sha, reason string) {
	s.Verified = false
	s.Commits = append(s.Commits, CommitResult{SHA: sha, Signers: []Signer{}, Reason: reason})
}

// Failures returns the commits that did not pass.
func (s *Snapshot) Failures() []CommitResult {
	var out []CommitResult
	for _, c := range s.Commits {
		if !c.Verified {
			out = append(out, c)
		}
	}
	return out
}

// Signers returns the distinct signers of the checked commits, sorted by
// name then format.
func (s *Snapshot) Signers() []Signer {
	seen := map[Signer]bool{}
	var out []Signer
	for _, c := range s.Commits {
		for _, sg := range c.Signers {
			if !seen[sg] {
				seen[sg] = true
				out = append(out, sg)
			}
		}
	}
	slices.SortFunc(out, func(a, b Signer) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(string(a.Format), string(b.Format))
	})
	return out
}

// HeadSigners returns the signers of the head commit (its approvers, for a
// merge), or nil when the head was not among the checked commits.
func (s *Snapshot) HeadSigners() []Signer {
	for _, c := range s.Commits {
		if c.SHA == s.Head && c.Verified {
			return slices.Clone(c.Signers)
		}
	}
	return nil
}

// Merged reports whether commit sha (a full SHA) is reachable from the head:
// merged into the branch. A commit only on a feature branch is not. An
// unknown or malformed SHA is an *InputError.
func (s *Snapshot) Merged(ctx context.Context, sha string) (bool, error) {
	h, ok := parseSHA(sha)
	if !ok {
		return false, inputErrorf(ErrUnknownCommit, "%q is not a full 40-digit commit SHA", sha)
	}
	if !s.repo.hasCommit(h) {
		return false, inputErrorf(ErrUnknownCommit, "commit %s is not in %s", sha, s.repo.Location())
	}
	return s.verifier.isAncestor(ctx, s.repo, h, plumbing.NewHash(s.Head))
}

// Errors of the file accessors.
var (
	ErrNotVerified  = errors.New("snapshot is not verified")
	ErrNotExist     = errors.New("no such file in the verified commit")
	ErrNotRegular   = errors.New("not a regular file")
	ErrFileTooLarge = errors.New("file too large")
	ErrBadPath      = errors.New("invalid path")
)

// DefaultMaxFileSize caps ReadFile: Kubernetes objects are limited to about
// 1.5 MiB by etcd, so a manifest file of more than 16 MiB is not
// configuration but an attack or a mistake.
const DefaultMaxFileSize = 16 << 20

// FileKind is what a path in the head's tree is.
type FileKind string

// The kinds of files a tree holds.
const (
	KindFile       FileKind = "file"
	KindExecutable FileKind = "executable"
	KindSymlink    FileKind = "symlink"
	KindSubmodule  FileKind = "submodule"
)

// File is a non-folder entry in the head's tree.
type File struct {
	Path string // repo-relative, forward slashes
	Kind FileKind
}

func fileKind(k entryKind) FileKind {
	switch k {
	case kindExecutable:
		return KindExecutable
	case kindSymlink:
		return KindSymlink
	case kindSubmodule:
		return KindSubmodule
	}
	return KindFile
}

// ReadFile returns the content of the regular file at path (repo-relative,
// forward slashes) in the verified head, at most maxSize bytes
// (DefaultMaxFileSize when maxSize <= 0). Symlinks and submodules are not
// followed: they are reported with ErrNotRegular.
func (s *Snapshot) ReadFile(p string, maxSize int64) ([]byte, error) {
	e, err := s.lookup(p)
	if err != nil {
		return nil, err
	}
	if e.kind != kindFile && e.kind != kindExecutable {
		return nil, fmt.Errorf("%s: %w (%s)", p, ErrNotRegular, e.kind)
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	data, err := s.repo.readObject(plumbing.BlobObject, e.hash, maxSize)
	if err != nil {
		if errors.Is(err, errObjectTooLarge) {
			return nil, fmt.Errorf("%s: %w: more than %d bytes", p, ErrFileTooLarge, maxSize)
		}
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return bytes.Clone(data), nil
}

// Walk calls fn for every file, symlink and submodule under prefix (a folder
// path, or "" for the whole tree) in the head, in Git's order.
func (s *Snapshot) Walk(prefix string, fn func(File) error) error {
	if !s.Verified {
		return ErrNotVerified
	}
	root, err := s.headTree()
	if err != nil {
		return err
	}
	start := root
	base := ""
	if prefix != "" {
		if err := checkPath(prefix); err != nil {
			return err
		}
		e, ok, err := lookupPath(s.verifier.treeReader(s.repo), root, prefix)
		if err != nil {
			return err
		}
		if !ok || e.kind != kindTree {
			return fmt.Errorf("%s: %w", prefix, ErrNotExist)
		}
		start, base = e.hash, prefix+"/"
	}
	return s.walkTree(start, base, fn)
}

func (s *Snapshot) walkTree(h plumbing.Hash, base string, fn func(File) error) error {
	t, err := s.verifier.treeReader(s.repo).tree(h)
	if err != nil {
		return err
	}
	it := t.iter()
	for e, ok := it.next(); ok; e, ok = it.next() {
		if e.kind == kindTree {
			if err := s.walkTree(e.hash, base+e.name+"/", fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(File{Path: base + e.name, Kind: fileKind(e.kind)}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Snapshot) lookup(p string) (treeEntry, error) {
	if !s.Verified {
		return treeEntry{}, ErrNotVerified
	}
	if err := checkPath(p); err != nil {
		return treeEntry{}, err
	}
	root, err := s.headTree()
	if err != nil {
		return treeEntry{}, err
	}
	e, ok, err := lookupPath(s.verifier.treeReader(s.repo), root, p)
	if err != nil {
		return treeEntry{}, err
	}
	if !ok {
		return treeEntry{}, fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	return e, nil
}

func (s *Snapshot) headTree() (plumbing.Hash, error) {
	c, err := s.verifier.commit(s.repo, plumbing.NewHash(s.Head))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return mustHash(c.Tree), nil
}

// checkPath accepts clean repo-relative paths only: no leading "/", no "."
// or ".." segments, no empty segments.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "\x00") {
		return fmt.Errorf("%q: %w", p, ErrBadPath)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("%q: %w", p, ErrBadPath)
		}
	}
	return nil
}
