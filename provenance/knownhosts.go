package provenance

import (
	"os"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// knownHostsCallback builds a host key check from the content of a
// known_hosts file. The parser wants files, so the content goes through a
// private temporary file that is removed once parsed.
func knownHostsCallback(content []byte) (ssh.HostKeyCallback, error) {
	f, err := os.CreateTemp("", "gitgate-known-hosts-")
	if err != nil {
		return nil, inputErrorf(ErrRepository, "known_hosts: %v", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	_, werr := f.Write(content)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		return nil, inputErrorf(ErrRepository, "known_hosts: write temporary copy failed")
	}
	if _, err := parseKnownHosts(content); err != nil {
		return nil, err
	}
	cb, err := gitssh.NewKnownHostsCallback(f.Name())
	if err != nil {
		return nil, inputErrorf(ErrRepository, "known_hosts: %v", err)
	}
	return cb, nil
}

// parseKnownHosts checks every non-comment line so a corrupt entry is
// reported instead of silently narrowing which hosts are known; it returns
// the number of host keys.
func parseKnownHosts(content []byte) (int, error) {
	n := 0
	rest := content
	for len(rest) > 0 {
		_, _, _, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			if n == 0 && len(trimSpace(rest)) == 0 {
				break
			}
			return 0, inputErrorf(ErrRepository, "known_hosts: %v", err)
		}
		n++
		rest = next
	}
	if n == 0 {
		return 0, inputErrorf(ErrRepository, "known_hosts holds no host key")
	}
	return n, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}
