package render

import (
	"errors"
	"fmt"
)

// Error is a rendering failure at a repository path.
type Error struct {
	// Path is the repository path of the file or folder at fault; for a
	// kustomize build, the kustomization file.
	Path string
	// Doc is the 1-based position of the YAML document in Path, or 0 when
	// the failure is not about one document.
	Doc int
	Err error
}

func (e *Error) Error() string {
	p := e.Path
	if p == "" {
		p = "(repository root)"
	}
	if e.Doc > 0 {
		return fmt.Sprintf("%s: document %d: %v", p, e.Doc, e.Err)
	}
	return fmt.Sprintf("%s: %v", p, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// The causes an *Error wraps; test them with errors.Is.
var (
	// ErrUnsafePath: an absolute path, a ".." segment, or a kustomization
	// entry that leads outside the repository.
	ErrUnsafePath = errors.New("path leaves the repository")
	// ErrNotRegular: a symlink or a submodule where a file is read.
	ErrNotRegular = errors.New("symlinks and submodules are not followed")
	// ErrNotFound: a configured path that the commit does not hold.
	ErrNotFound = errors.New("no such path in the commit")
	// ErrLimit: a file, the total, the object count, a document's depth or
	// alias expansion, or the number of kustomizations is over its limit.
	ErrLimit = errors.New("limit exceeded")
	// ErrSyntax: a document that is not valid YAML or JSON.
	ErrSyntax = errors.New("invalid YAML")
	// ErrInvalidObject: a document that is not an object with apiVersion,
	// kind and metadata.name, or that uses generateName.
	ErrInvalidObject = errors.New("invalid object")
	// ErrDuplicate: two documents declare the same object.
	ErrDuplicate = errors.New("object declared twice")
	// ErrDisabled: a kustomization asks for something gitgate does not
	// do, because the desired state must come from the verified commit
	// alone: remote resources and bases, helm charts, plugins and KRM
	// functions.
	ErrDisabled = errors.New("not allowed: gitgate builds only from the verified commit (no remote resources, helm charts or plugins)")
	// ErrKustomize: kustomize failed to build.
	ErrKustomize = errors.New("kustomize build failed")
)

func pathError(p string, err error) *Error { return &Error{Path: p, Err: err} }

func docError(p string, doc int, err error) *Error { return &Error{Path: p, Doc: doc, Err: err} }

func limitf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrLimit}, args...)...)
}
