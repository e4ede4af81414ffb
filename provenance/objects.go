package provenance

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
)

// Caps on what one object read may cost. Git itself has no such limits, but
// the objects come from whoever can push, so every read is bounded.
const (
	// maxCommitSize: a commit object is a few hundred bytes plus its message
	// and signature; 1 MiB leaves room for any honest message.
	maxCommitSize = 1 << 20
	// maxTreeSize: one folder's listing; 16 MiB holds ~300,000 entries.
	maxTreeSize = 16 << 20
	// maxPolicySize: a trust policy with a few hundred keys stays far below
	// 1 MiB; YAML larger than that is refused before parsing.
	maxPolicySize = 1 << 20
)

var (
	// errObjectMissing marks an object the repository does not hold.
	errObjectMissing = errors.New("object not found")
	// errObjectTooLarge marks an object above the read limit.
	errObjectTooLarge = errors.New("object too large")
)

// readObject returns the content of object h, which must have type t and at
// most limit bytes. The bytes may be shared with the pack reader's cache:
// callers must not modify them (Snapshot.ReadFile hands out a copy).
//
// go-git's storage is not safe for concurrent use (packfile handles seek,
// caches are plain maps), so reads are serialized; the verifier parallelizes
// the signature checks, which cost far more.
func (r *Repository) readObject(t plumbing.ObjectType, h plumbing.Hash, limit int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.packs != nil {
		if data, found, err := r.packs.read(t, h, limit); found {
			return data, err
		}
	}
	obj, err := r.storage.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("%s %s: %w", t, h, errObjectMissing)
		}
		return nil, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	if obj.Type() != t {
		return nil, fmt.Errorf("object %s is a %s, not a %s", h, obj.Type(), t)
	}
	if obj.Size() > limit {
		return nil, fmt.Errorf("%w: %s %s is %d bytes, more than the limit of %d", errObjectTooLarge, t, h, obj.Size(), limit)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	defer func() { _ = rd.Close() }()
	// The size is known and within the limit: read exactly that much into
	// one buffer, then make sure nothing follows.
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(rd, data); err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	if n, _ := rd.Read(make([]byte, 1)); n != 0 {
		return nil, fmt.Errorf("read %s %s: more content than its declared size", t, h)
	}
	return data, nil
}

// hasCommit reports whether the repository holds commit h.
func (r *Repository) hasCommit(h plumbing.Hash) bool {
	_, err := r.readObject(plumbing.CommitObject, h, maxCommitSize)
	return err == nil
}

// parseSHA accepts a full 40-digit hex object name (upper or lower case).
// Abbreviations are refused: a trust root named out of band must not be
// ambiguous.
func parseSHA(s string) (plumbing.Hash, bool) {
	var h plumbing.Hash
	if len(s) != 2*len(h) {
		return plumbing.ZeroHash, false
	}
	// Decoded here rather than by plumbing.NewHash, which allocates: a
	// walk converts several names per commit.
	for i := range h {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return plumbing.ZeroHash, false
		}
		h[i] = hi<<4 | lo
	}
	return h, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
