package provenance

import (
	"errors"
	"fmt"
)

// Sentinel errors for problems with the input of a verification, as opposed
// to a negative verdict. They are wrapped in an *InputError.
var (
	// ErrBadURL reports a repository URL with a scheme or form gitgate refuses.
	ErrBadURL = errors.New("unsupported repository URL")
	// ErrRepository reports a repository that cannot be opened, cloned or read.
	ErrRepository = errors.New("repository unavailable")
	// ErrFetchTooLarge reports a fetch that brought more than
	// FetchOptions.MaxBytes.
	ErrFetchTooLarge = errors.New("fetch too large")
	// ErrUnknownCommit reports a commit (the trust root, a --commit) that the
	// repository does not hold, or a malformed commit name.
	ErrUnknownCommit = errors.New("unknown commit")
	// ErrUnknownBranch reports a branch the repository does not hold.
	ErrUnknownBranch = errors.New("unknown branch")
	// ErrShallow reports a shallow clone where the full history is needed.
	ErrShallow = errors.New("shallow repository")
	// ErrUnknownMode reports a verification mode other than full or head.
	ErrUnknownMode = errors.New("unknown mode")
	// ErrLedger reports a ledger that cannot be read or written.
	ErrLedger = errors.New("ledger unavailable")
)

// InputError is a problem with what the verification was asked to do: an
// unreadable repository, an unknown trust root, a bad URL, a malformed flag
// value. A caller maps it to a usage error (exit 2 in the CLI); a negative
// verdict is never an InputError but a Snapshot with Verified false.
type InputError struct {
	Err error
}

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// inputErrorf wraps a sentinel with detail into an *InputError.
func inputErrorf(sentinel error, format string, args ...any) error {
	return &InputError{Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

// IsInputError reports whether err (or an error it wraps) is an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
