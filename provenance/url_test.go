package provenance

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw    string
		scheme string // "" = refused
		host   string
		want   string // substring of the error
	}{
		{"https://example.com/org/repo.git", "https", "example.com", ""},
		{"HTTPS://example.com/org/repo", "https", "example.com", ""},
		{"https://git@example.com:8443/org/repo", "https", "example.com", ""},
		{"ssh://git@example.com/org/repo.git", "ssh", "example.com", ""},
		{"ssh://git@example.com:2222/org/repo.git", "ssh", "example.com", ""},
		{"ssh://git@[::1]:22/repo", "ssh", "::1", ""},
		{"git@example.com:org/repo.git", "ssh", "example.com", ""},
		{"example.com:org/repo.git", "ssh", "example.com", ""},
		{"git@[::1]:repo.git", "ssh", "::1", ""},
		{"file:///srv/git/repo.git", "file", "", ""},
		{"file://localhost/srv/git/repo.git", "file", "localhost", ""},

		{"", "", "", "empty"},
		{"http://example.com/repo", "", "", "no transport security"},
		{"git://example.com/repo", "", "", "no transport security"},
		{"ftp://example.com/repo", "", "", "not allowed"},
		{"ext::sh -c touch% /tmp/pwned", "", "", "remote helper"},
		{"fd::3", "", "", "remote helper"},
		{"ext::ssh://example.com/repo", "", "", "not allowed"},
		{"--upload-pack=touch /tmp/x", "", "", "option"},
		{"-oProxyCommand=x:repo", "", "", "option"},
		{"https://user:secret@example.com/repo", "", "", "password"},
		{"https://example.com/repo?x=1", "", "", "query"},
		{"https://example.com/repo#frag", "", "", "fragment"},
		{"https:///repo", "", "", "no host"},
		{"https://example.com", "", "", "no repository path"},
		{"https://-oProxy/repo", "", "", "starts with"},
		{"ssh://-oProxyCommand=x/repo", "", "", "starts with"},
		{"git@example.com:-repo", "", "", "path starts with"},
		{"file://relative/path", "", "", "cannot name a host"},
		{"file:///srv/git/../../etc", "", "", `".." segments`},
		{"file:///srv/git/%2e%2e/etc", "", "", `".." segments`},
		{"file:///srv/./git", "", "", `"." segments`},
		{"file:///srv//git", "", "", "empty segments"},
		{"file://user@localhost/srv/git", "", "", "user"},
		{"https://example.com/re\npo", "", "", "control character"},
		{"/srv/git/repo", "", "", "not a URL"},
		{"../repo", "", "", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			ep, err := ParseURL(tt.raw)
			if tt.scheme == "" {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want an error", tt.raw, ep)
				}
				if !errors.Is(err, ErrBadURL) || !IsInputError(err) {
					t.Errorf("error %v is not an input ErrBadURL", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not mention %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q leaks the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.raw, err)
			}
			if ep.Scheme != tt.scheme || ep.Host != tt.host || ep.URL != tt.raw {
				t.Errorf("ParseURL(%q) = %+v, want scheme %s host %s", tt.raw, ep, tt.scheme, tt.host)
			}
		})
	}
}

func TestIsRemote(t *testing.T) {
	tests := map[string]bool{
		"https://example.com/r": true,
		"git@example.com:r":     true,
		"example.com:r":         true,
		"ext::sh":               true,
		"file:///srv/r":         true,
		"/srv/git/repo":         false,
		"./repo":                false,
		"repo":                  false,
		"../a/b":                false,
		"./a:b":                 false,
	}
	for in, want := range tests {
		if got := IsRemote(in); got != want {
			t.Errorf("IsRemote(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"https://example.com/r", "git@h:r", "file:///a/b", "ext::x", "ssh://[::1]/r", "http://x/y", "file:///a/%2e%2e/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ep, err := ParseURL(raw)
		if err != nil {
			if !IsInputError(err) || !errors.Is(err, ErrBadURL) {
				t.Fatalf("error %v is not an input ErrBadURL", err)
			}
			return
		}
		switch ep.Scheme {
		case "https", "ssh", "file":
		default:
			t.Fatalf("accepted scheme %q for %q", ep.Scheme, raw)
		}
		if strings.HasPrefix(raw, "-") || strings.Contains(raw, "\n") {
			t.Fatalf("accepted %q", raw)
		}
		if ep.Scheme == "file" && strings.Contains(raw, "/../") {
			t.Fatalf("accepted a climbing file URL %q", raw)
		}
	})
}
