package provenance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"

	"gitgate.dev/gitgate/provenance/signature"
)

// CommitTree is read access to the files of one commit that a Repository
// holds, with the methods provenance/render reads (its Tree interface). It
// verifies nothing: it is for a commit that was verified earlier and is
// named by a record the caller trusts, such as the reconciler rebuilding,
// after a restart, the desired state of the commit its GitSource status
// says it applied last while the branch head no longer verifies. Anything
// else reads a verified Snapshot. Paths, limits and errors are those of
// Snapshot.ReadFile and Snapshot.Walk. It works while the Repository is
// open and is safe for concurrent use.
type CommitTree struct {
	repo *Repository
	sha  string
	root plumbing.Hash

	mu    sync.Mutex
	trees map[plumbing.Hash]tree
}

// Tree returns the files of commit sha, a full 40-digit SHA. A malformed
// name, or one the repository does not hold, is an *InputError wrapping
// ErrUnknownCommit; a name of another kind of object, or a commit whose
// root tree is missing, is an error too.
func (r *Repository) Tree(sha string) (*CommitTree, error) {
	h, ok := parseSHA(sha)
	if !ok {
		return nil, inputErrorf(ErrUnknownCommit, "%q is not a full 40-digit commit SHA", sha)
	}
	raw, err := r.readObject(plumbing.CommitObject, h, maxCommitSize)
	if errors.Is(err, errObjectMissing) {
		return nil, inputErrorf(ErrUnknownCommit, "commit %s is not in %s", sha, r.Location())
	}
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", sha, err)
	}
	c, err := signature.ParseCommit(raw)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", sha, err)
	}
	root, ok := parseSHA(c.Tree)
	if !ok {
		return nil, fmt.Errorf("commit %s: tree %q is not a SHA-1", sha, c.Tree)
	}
	t := &CommitTree{repo: r, sha: h.String(), root: root, trees: map[plumbing.Hash]tree{}}
	// Read the root now, so a commit without its tree (a cut-off clone)
	// fails here rather than at the first file.
	if _, err := t.tree(root); err != nil {
		return nil, fmt.Errorf("commit %s: %w", sha, err)
	}
	return t, nil
}

// Commit returns the commit's SHA (lower case).
func (t *CommitTree) Commit() string { return t.sha }

// ReadFile returns the content of the regular file at p (repo-relative,
// forward slashes), at most maxSize bytes (DefaultMaxFileSize when
// maxSize <= 0). Symlinks and submodules are ErrNotRegular, missing paths
// ErrNotExist, as with Snapshot.ReadFile.
func (t *CommitTree) ReadFile(p string, maxSize int64) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	e, ok, err := lookupPath(t, t.root, p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	if e.kind != kindFile && e.kind != kindExecutable {
		return nil, fmt.Errorf("%s: %w (%s)", p, ErrNotRegular, e.kind)
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	data, err := t.repo.readObject(plumbing.BlobObject, e.hash, maxSize)
	if err != nil {
		if errors.Is(err, errObjectTooLarge) {
			return nil, fmt.Errorf("%s: %w: more than %d bytes", p, ErrFileTooLarge, maxSize)
		}
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	// readObject's bytes may be shared with the pack cache.
	return bytes.Clone(data), nil
}

// Walk calls fn for every file, symlink and submodule under prefix (a
// folder path, or "" for the whole tree), in Git's order, as Snapshot.Walk
// does.
func (t *CommitTree) Walk(prefix string, fn func(File) error) error {
	start, base := t.root, ""
	if prefix != "" {
		if err := checkPath(prefix); err != nil {
			return err
		}
		e, ok, err := lookupPath(t, t.root, prefix)
		if err != nil {
			return err
		}
		if !ok || e.kind != kindTree {
			return fmt.Errorf("%s: %w", prefix, ErrNotExist)
		}
		start, base = e.hash, prefix+"/"
	}
	return t.walk(start, base, fn)
}

func (t *CommitTree) walk(h plumbing.Hash, base string, fn func(File) error) error {
	tr, err := t.tree(h)
	if err != nil {
		return err
	}
	it := tr.iter()
	for e, ok := it.next(); ok; e, ok = it.next() {
		if e.kind == kindTree {
			if err := t.walk(e.hash, base+e.name+"/", fn); err != nil {
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

// tree reads and validates tree h once; render looks a path up for every
// file it reads, and each lookup passes the same folders.
func (t *CommitTree) tree(h plumbing.Hash) (tree, error) {
	t.mu.Lock()
	cached, ok := t.trees[h]
	t.mu.Unlock()
	if ok {
		return cached, nil
	}
	raw, err := t.repo.readObject(plumbing.TreeObject, h, maxTreeSize)
	if err != nil {
		return tree{}, err
	}
	parsed, err := parseTree(raw)
	if err != nil {
		return tree{}, fmt.Errorf("tree %s: %w", h, err)
	}
	t.mu.Lock()
	t.trees[h] = parsed
	t.mu.Unlock()
	return parsed, nil
}

// OpenCached opens the clone that Fetch keeps for opts.URL in
// opts.CacheDir, without contacting the remote; only URL and CacheDir are
// read. It serves a caller whose fetch failed (the remote is down) and that
// needs a commit an earlier fetch brought in, through Repository.Tree.
// Without such a clone the error is an *InputError wrapping ErrRepository.
func OpenCached(ctx context.Context, opts FetchOptions) (*Repository, error) {
	if _, err := ParseURL(opts.URL); err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		return nil, inputErrorf(ErrRepository, "no cache folder for clones")
	}
	dir := cloneDir(opts.CacheDir, opts.URL)
	if _, err := os.Stat(dir); err != nil {
		return nil, inputErrorf(ErrRepository, "no cached clone of %s: %v", opts.URL, err)
	}
	// Opened under the fetch lock, as Fetch opens it, so a concurrent
	// fetch is not seen half-way.
	unlock, err := lockDir(ctx, dir+".lock")
	if err != nil {
		return nil, inputErrorf(ErrRepository, "lock cache folder: %v", err)
	}
	defer unlock()
	return open(dir, opts.URL, plumbing.ReferenceName("refs/remotes/"+remoteName+"/"))
}

// cloneDir is where Fetch keeps the clone of url: a folder named by a hash
// of the URL, so different URLs never share objects or refs. It must match
// Fetch; TestOpenCached proves it does.
func cloneDir(cacheDir, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(cacheDir, hex.EncodeToString(sum[:16]))
}
