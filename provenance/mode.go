package provenance

// Mode selects which commits are checked.
type Mode string

const (
	// ModeFull checks every commit on the first-parent chain from the trust
	// root (exclusive) to the head. The default.
	ModeFull Mode = "full"
	// ModeHead checks only the head commit, as Flux does; the trust root must
	// still be on the head's first-parent chain.
	ModeHead Mode = "head"
)

// ParseMode accepts "full", "head", or "" (full).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeFull, "":
		return ModeFull, nil
	case ModeHead:
		return ModeHead, nil
	}
	return "", inputErrorf(ErrUnknownMode, "mode %q: want full or head", s)
}
