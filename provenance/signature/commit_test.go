package signature_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/signature"
)

const (
	tree1   = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	parent1 = "1111111111111111111111111111111111111111"
	parent2 = "2222222222222222222222222222222222222222"
	ident   = "Alice <alice@example.com> 1700000000 +0100"
	sshSig  = "-----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----"
)

// obj joins header lines and a message into a commit object.
func obj(headers []string, msg string) string {
	return strings.Join(headers, "\n") + "\n\n" + msg
}

var validHeaders = []string{"tree " + tree1, "parent " + parent1, "author " + ident, "committer " + ident}

func with(extra ...string) []string {
	return append(append([]string(nil), validHeaders...), extra...)
}

func TestParseCommitMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		raw  string
		why  string
	}{
		{"empty", "", "not terminated"},
		{"only a newline", "\n", "missing tree"},
		{"missing tree", obj([]string{"parent " + parent1, "author " + ident, "committer " + ident}, "m"), "out of order"},
		{"tree after parent", obj([]string{"parent " + parent1, "tree " + tree1, "author " + ident, "committer " + ident}, "m"), "out of order"},
		{"duplicate tree", obj([]string{"tree " + tree1, "tree " + tree1, "author " + ident, "committer " + ident}, "m"), "duplicate"},
		{"tree again at the end", obj(with("tree "+tree1), "m"), "duplicate"},
		{"tree not hex", obj([]string{"tree " + strings.Repeat("g", 40), "author " + ident, "committer " + ident}, "m"), "hex"},
		{"tree upper-case hex", obj([]string{"tree " + strings.ToUpper(tree1[:2]) + tree1[2:], "author " + ident, "committer " + ident}, "m"), "hex"},
		{"tree short", obj([]string{"tree " + tree1[:39], "author " + ident, "committer " + ident}, "m"), "hex"},
		{"tree with trailing space", obj([]string{"tree " + tree1 + " ", "author " + ident, "committer " + ident}, "m"), "hex"},
		{"parent not hex", obj([]string{"tree " + tree1, "parent xyz", "author " + ident, "committer " + ident}, "m"), "hex"},
		{"parent of another hash length", obj([]string{"tree " + tree1, "parent " + strings.Repeat("a", 64), "author " + ident, "committer " + ident}, "m"), "like the tree"},
		{"parent after author", obj([]string{"tree " + tree1, "author " + ident, "parent " + parent1, "committer " + ident}, "m"), "out of order"},
		{"parent after committer", obj(with("parent "+parent2), "m"), "out of order"},
		{"missing author", obj([]string{"tree " + tree1, "committer " + ident}, "m"), "out of order"},
		{"missing author and committer", obj([]string{"tree " + tree1}, "m"), "missing author"},
		{"duplicate author", obj([]string{"tree " + tree1, "author " + ident, "author " + ident, "committer " + ident}, "m"), "duplicate author"},
		{"author after committer", obj(with("author "+ident), "m"), "duplicate author"},
		{"missing committer", obj([]string{"tree " + tree1, "author " + ident}, "m"), "missing committer"},
		{"duplicate committer", obj(with("committer "+ident), "m"), "duplicate committer"},
		{"bad ident no email", obj([]string{"tree " + tree1, "author Alice 1700000000 +0000", "committer " + ident}, "m"), "author"},
		{"bad ident no time", obj([]string{"tree " + tree1, "author Alice <a@x>", "committer " + ident}, "m"), "no time"},
		{"bad ident time", obj([]string{"tree " + tree1, "author Alice <a@x> 17x +0000", "committer " + ident}, "m"), "malformed time"},
		{"bad ident zone", obj([]string{"tree " + tree1, "author Alice <a@x> 1700000000 0100", "committer " + ident}, "m"), "time zone"},
		{"bad ident two emails", obj([]string{"tree " + tree1, "author A <a@x> <b@x> 1 +0000", "committer " + ident}, "m"), "author"},
		{"duplicate encoding", obj(with("encoding UTF-8", "encoding ISO-8859-1"), "m"), "duplicate encoding"},
		{"unknown header before committer", obj([]string{"tree " + tree1, "author " + ident, "x-extra y", "committer " + ident}, "m"), "before the committer"},
		{"header without value", obj(with("nonsense"), "m"), "<key> <value>"},
		{"header with empty key", obj(with(" x"), "m"), "cannot have one"},
		{"continuation after tree", obj([]string{"tree " + tree1, " more", "author " + ident, "committer " + ident}, "m"), "cannot have one"},
		{"continuation first", obj(append([]string{" x"}, validHeaders...), "m"), "cannot have one"},
		{"NUL in header", obj(with("x-extra a\x00b"), "m"), "NUL"},
		{"NUL in tree", obj([]string{"tree " + tree1 + "\x00", "author " + ident, "committer " + ident}, "m"), "NUL"},
		{"no blank line", strings.Join(validHeaders, "\n") + "\n", "not terminated"},
		{"last header without newline", strings.Join(validHeaders, "\n"), "does not end with a newline"},
		{"two gpgsig headers", obj(with("gpgsig "+sshSig, "gpgsig "+sshSig), "m"), "more than one signature header"},
		{"gpgsig and gpgsig-sha256", obj(with("gpgsig "+sshSig, "gpgsig-sha256 "+sshSig), "m"), "more than one signature header"},
		{"two blocks in one gpgsig", obj(with("gpgsig "+sshSig+"\n "+sshSig), "m"), "more than one armored block"},
		{"empty gpgsig", obj(with("gpgsig "), "m"), "empty gpgsig"},
		{"gpgsig not armored", obj(with("gpgsig hello", " world"), "m"), "armor header"},
		{"gpgsig without footer", obj(with("gpgsig -----BEGIN SSH SIGNATURE-----", " U1NIU0lH"), "m"), "footer"},
		{"gpgsig footer of another type", obj(with("gpgsig -----BEGIN SSH SIGNATURE-----", " U1NIU0lH", " -----END PGP SIGNATURE-----"), "m"), "footer"},
		{"gpgsig footer inside a line", obj(with("gpgsig -----BEGIN SSH SIGNATURE-----", " U1NIU0lH-----END SSH SIGNATURE-----"), "m"), "start a line"},
		{"gpgsig before committer", obj([]string{"tree " + tree1, "author " + ident, "gpgsig " + sshSig, "committer " + ident}, "m"), "before the committer"},
		{"too many parents", obj(append(append([]string{"tree " + tree1}, strings.Split(strings.Repeat("parent "+parent1+"\n", 65), "\n")[:65]...), "author "+ident, "committer "+ident), "m"), "more than 64 parents"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := signature.ParseCommit([]byte(tc.raw))
			if !errors.Is(err, signature.ErrMalformed) {
				t.Fatalf("ParseCommit = %+v, %v; want ErrMalformed", c, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("error %q does not say %q", err, tc.why)
			}
		})
	}
}

func TestParseCommitValid(t *testing.T) {
	t.Parallel()
	sha256Tree := strings.Repeat("ab", 32)
	mergetag := []string{
		"mergetag object " + parent2, " type commit", " tag v1", " tagger " + ident, " ", " release", " -----BEGIN PGP SIGNATURE-----", " ", " abc", " -----END PGP SIGNATURE-----",
	}
	cases := []struct {
		name     string
		raw      string
		parents  []string
		msg      string
		sig      string // "" for unsigned
		payload  string // "" means the raw object
		tree     string
		encoding bool
	}{
		{name: "unsigned", raw: obj(validHeaders, "hello\n\nbody\n"), parents: []string{parent1}, msg: "hello\n\nbody\n"},
		{name: "root commit, empty message", raw: obj([]string{"tree " + tree1, "author " + ident, "committer " + ident}, ""), msg: ""},
		{name: "octopus", raw: obj([]string{"tree " + tree1, "parent " + parent1, "parent " + parent2, "parent " + parent1, "author " + ident, "committer " + ident}, "m"), parents: []string{parent1, parent2, parent1}, msg: "m"},
		{
			name: "signed", raw: obj(with("gpgsig "+sshSig), "m\n"), parents: []string{parent1}, msg: "m\n",
			sig: "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n", payload: obj(validHeaders, "m\n"),
		},
		{
			name: "gpgsig-sha256 in a sha256 repository", tree: sha256Tree,
			raw:     obj([]string{"tree " + sha256Tree, "author " + ident, "committer " + ident, "gpgsig-sha256 " + sshSig}, "m"),
			msg:     "m",
			sig:     "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
			payload: obj([]string{"tree " + sha256Tree, "author " + ident, "committer " + ident}, "m"),
		},
		{
			name: "signature between other headers keeps them in the payload",
			raw:  obj(with(append(append([]string{"encoding UTF-8"}, mergetag...), "gpgsig "+sshSig, "x-after y")...), "m"), parents: []string{parent1}, msg: "m",
			sig:     "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
			payload: obj(with(append(append([]string{"encoding UTF-8"}, mergetag...), "x-after y")...), "m"),
		},
		{
			name: "blank armor line is a lone space", parents: []string{parent1}, msg: "m",
			raw:     obj(with("gpgsig -----BEGIN PGP SIGNATURE-----", " ", " iQ==", " -----END PGP SIGNATURE-----"), "m"),
			sig:     "-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n",
			payload: obj(validHeaders, "m"),
		},
		{name: "header-like lines in the message are message", raw: obj(validHeaders, "m\n\ngpgsig "+sshSig+"\ntree "+tree1+"\n"), parents: []string{parent1}, msg: "m\n\ngpgsig " + sshSig + "\ntree " + tree1 + "\n"},
		{name: "NUL in the message", raw: obj(validHeaders, "a\x00b"), parents: []string{parent1}, msg: "a\x00b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := signature.ParseCommit([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			wantTree := tc.tree
			if wantTree == "" {
				wantTree = tree1
			}
			if c.Tree != wantTree || strings.Join(c.Parents, ",") != strings.Join(tc.parents, ",") ||
				c.Author != ident || c.Committer != ident || c.Message != tc.msg {
				t.Fatalf("parsed %+v", c)
			}
			if string(c.Signature) != tc.sig {
				t.Fatalf("Signature = %q, want %q", c.Signature, tc.sig)
			}
			if tc.sig == "" && c.Signature != nil {
				t.Fatal("unsigned commit has a non-nil Signature")
			}
			wantPayload := tc.payload
			if wantPayload == "" {
				wantPayload = tc.raw
			}
			if string(c.Payload) != wantPayload {
				t.Fatalf("Payload = %q, want %q", c.Payload, wantPayload)
			}
		})
	}
}

// TestParseCommitFromGit parses what git itself writes, including signed
// merges, and checks the payload against the object git stores for the
// same commit without its signature.
func TestParseCommitFromGit(t *testing.T) {
	t.Parallel()
	s := gittest.NewSSHSigner(t, "alice")
	r := gittest.NewRepo(t)
	r.WriteFile("a", "a\n")
	base := r.Commit("base\n\nwith a body", nil)
	r.CheckoutNew("side")
	r.WriteFile("b", "b\n")
	side := r.Commit("side", s)
	r.Checkout("main")
	r.WriteFile("c", "c\n")
	r.Commit("main", s)
	merge := r.Merge("side", "merge side", s)

	c, err := signature.ParseCommit(r.CatCommit(merge))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Parents) != 2 || c.Parents[1] != side || !strings.HasPrefix(c.Author, "alice <alice@example.com> ") || c.Message != "merge side\n" {
		t.Fatalf("parsed merge %+v", c)
	}
	if !bytes.HasPrefix(c.Signature, []byte("-----BEGIN SSH SIGNATURE-----\n")) {
		t.Fatalf("signature %q", c.Signature)
	}
	// The payload, stored as an object, is a valid unsigned commit.
	unsigned, err := signature.ParseCommit(r.CatCommit(r.HashObject(c.Payload)))
	if err != nil || unsigned.Signature != nil || unsigned.Tree != c.Tree || unsigned.Message != c.Message {
		t.Fatalf("payload does not round-trip: %+v, %v", unsigned, err)
	}
	b, err := signature.ParseCommit(r.CatCommit(base))
	if err != nil || b.Signature != nil || b.Parents != nil || b.Message != "base\n\nwith a body\n" {
		t.Fatalf("parsed base %+v, %v", b, err)
	}
}
