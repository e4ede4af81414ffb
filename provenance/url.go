package provenance

import (
	"net/url"
	"regexp"
	"strings"
)

// Endpoint is a repository URL that passed ParseURL.
type Endpoint struct {
	// Scheme is "https", "ssh" or "file"; scp-like addresses
	// (git@host:org/repo.git) have scheme "ssh".
	Scheme string
	// Host is the server's host name (empty for file URLs).
	Host string
	// User is the user name the URL carries (ssh), if any.
	User string
	// URL is the address as given, which go-git understands.
	URL string
}

// scpLike matches Git's scp-like syntax [user@]host:path, where the part
// before the first colon holds no slash. The host may be a bracketed IPv6
// address.
var scpLike = regexp.MustCompile(`^(?:([^@/:\s]+)@)?([^@/:\s\[\]]+|\[[0-9a-fA-F:.]+\]):([^\s]+)$`)

// IsRemote reports whether location is meant as a URL (scheme://...,
// user@host:path, or a remote-helper address such as ext::...) rather than a
// local path. Callers use it to choose between Open and Fetch; ParseURL then
// decides whether the URL is acceptable.
func IsRemote(location string) bool {
	if strings.Contains(location, "://") || strings.Contains(location, "::") {
		return true
	}
	return scpLike.MatchString(location)
}

// ParseURL accepts only the transports gitgate trusts to fetch over:
// https://, ssh:// (and scp-like user@host:path) and file:// with an absolute,
// clean path. Everything else is refused with ErrBadURL: plain http:// and
// git:// (no transport security), remote helpers such as ext:: (they run
// commands), credentials in the URL, option-like values starting with "-",
// control characters, and file URLs whose path is relative or climbs with "..".
func ParseURL(raw string) (Endpoint, error) {
	if raw == "" {
		return Endpoint{}, inputErrorf(ErrBadURL, "empty repository URL")
	}
	if strings.HasPrefix(raw, "-") {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q looks like an option, not a URL", raw)
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return Endpoint{}, inputErrorf(ErrBadURL, "%q contains a control character", raw)
		}
	}
	if scheme, _, ok := strings.Cut(raw, "://"); ok {
		return parseSchemeURL(raw, strings.ToLower(scheme))
	}
	m := scpLike.FindStringSubmatch(raw)
	if strings.Contains(raw, "::") && (m == nil || !strings.HasPrefix(m[2], "[")) {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q uses a remote helper (<transport>::<address>); only https, ssh and file URLs are allowed", raw)
	}
	if m != nil {
		user, host, path := m[1], m[2], m[3]
		if strings.HasPrefix(user, "-") || strings.HasPrefix(host, "-") {
			return Endpoint{}, inputErrorf(ErrBadURL, "%q: user or host starts with \"-\"", raw)
		}
		if strings.HasPrefix(path, "-") {
			return Endpoint{}, inputErrorf(ErrBadURL, "%q: path starts with \"-\"", raw)
		}
		return Endpoint{Scheme: "ssh", Host: strings.Trim(host, "[]"), User: user, URL: raw}, nil
	}
	return Endpoint{}, inputErrorf(ErrBadURL, "%q is not a URL; use https://, ssh://, user@host:path or file:///absolute/path", raw)
}

func parseSchemeURL(raw, scheme string) (Endpoint, error) {
	switch scheme {
	case "https", "ssh", "file":
	case "http", "git":
		return Endpoint{}, inputErrorf(ErrBadURL, "%q: scheme %s has no transport security; use https or ssh", raw, scheme)
	default:
		return Endpoint{}, inputErrorf(ErrBadURL, "%q: scheme %q is not allowed; use https, ssh or file", raw, scheme)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q: %v", raw, err)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q carries a password; pass credentials as authentication options, not in the URL", redact(u))
	}
	if u.Fragment != "" || u.RawQuery != "" {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q: a query or fragment is not allowed", raw)
	}
	ep := Endpoint{Scheme: scheme, Host: u.Hostname(), User: u.User.Username(), URL: raw}
	if scheme == "file" {
		return ep, checkFilePath(raw, u)
	}
	if ep.Host == "" {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q has no host", raw)
	}
	if strings.HasPrefix(ep.Host, "-") || strings.HasPrefix(ep.User, "-") {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q: user or host starts with \"-\"", raw)
	}
	if u.Path == "" || u.Path == "/" {
		return Endpoint{}, inputErrorf(ErrBadURL, "%q names no repository path", raw)
	}
	return ep, nil
}

// checkFilePath allows file URLs only with an absolute path free of "." and
// ".." segments, so that a URL cannot reach outside the folder it names.
func checkFilePath(raw string, u *url.URL) error {
	if u.Host != "" && u.Host != "localhost" {
		return inputErrorf(ErrBadURL, "%q: a file URL cannot name a host", raw)
	}
	if u.User != nil {
		return inputErrorf(ErrBadURL, "%q: a file URL cannot carry a user", raw)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return inputErrorf(ErrBadURL, "%q: a file URL needs an absolute path", raw)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == ".." || seg == "." {
			return inputErrorf(ErrBadURL, "%q: the path may not contain %q segments", raw, seg)
		}
	}
	if strings.Contains(u.Path, "//") {
		return inputErrorf(ErrBadURL, "%q: the path may not contain empty segments", raw)
	}
	return nil
}

// redact drops the password from a URL for messages.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}
