// Package benchrepo generates large signed Git histories for benchmarks,
// fast: objects are built and signed in-process (SSH signatures with
// x/crypto/ssh and sshsig, OpenPGP with ProtonMail go-crypto) and written as
// one packfile, so a 10,000-commit history takes seconds instead of the
// minutes `git commit -S` would need. The result is an ordinary bare
// repository that git itself reads and verifies (see Repo.AllowedSigners and
// Repo.PublicKeys).
//
// The history: a root commit R holding .gitgate/trust.yaml (the trust root,
// unsigned like any trust root may be) and 100 application folders, then a
// first-parent chain of signed commits, each changing one application's
// config.yaml, the signers taking turns.
package benchrepo

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Format is the signature format of a generated history.
type Format string

// The formats Generate can sign with.
const (
	SSH     Format = "ssh"
	OpenPGP Format = "openpgp"
)

// apps is how many application folders the tree holds; each commit changes
// one of them, so tree diffs stay local as in a real configuration repo.
const apps = 100

// Options describe the history to generate.
type Options struct {
	Dir     string // becomes a bare repository; must not exist or be empty
	Commits int    // signed commits after the trust root
	Format  Format
	Signers int // distinct signers taking turns (default 3)
	// Repack runs `git repack -adf` afterwards, so the pack has the layout
	// (delta bases, chains, order) git itself writes; needs git.
	Repack bool
	// Forge lists signed commits (1 is the first after the trust root)
	// whose signature is made over other bytes than the commit's: a
	// well-formed signature by a trusted key that does not verify.
	Forge []int
}

// Repo is a generated history.
type Repo struct {
	Dir       string // the bare repository
	TrustRoot string
	Head      string
	Format    Format
	// AllowedSigners is the content of a gpg.ssh.allowedSignersFile for git
	// (SSH histories).
	AllowedSigners string
	// PublicKeys is the armored OpenPGP public keys, for a gpg keyring
	// (OpenPGP histories); OwnerTrust marks them trusted (gpg
	// --import-ownertrust).
	PublicKeys string
	OwnerTrust string

	signers []*signer
	now     time.Time
	count   int
	tree    *treeState
	forge   map[int]bool
}

type signer struct {
	name  string
	email string
	ssh   ssh.Signer
	pgp   *openpgp.Entity
}

// Generate writes the history to opts.Dir; ctx bounds the git repack.
func Generate(ctx context.Context, opts Options) (*Repo, error) {
	if opts.Signers <= 0 {
		opts.Signers = 3
	}
	if opts.Commits < 0 {
		return nil, errors.New("benchrepo: negative commit count")
	}
	r := &Repo{Dir: opts.Dir, Format: opts.Format, now: time.Unix(1_700_000_000, 0), forge: map[int]bool{}}
	for _, n := range opts.Forge {
		r.forge[n] = true
	}
	for i := range opts.Signers {
		s, err := newSigner(opts.Format, i)
		if err != nil {
			return nil, err
		}
		r.signers = append(r.signers, s)
	}
	policy, err := r.policy()
	if err != nil {
		return nil, err
	}
	mem := memory.NewStorage()
	r.tree = newTreeState(policy)
	rootTree, err := r.tree.write(mem)
	if err != nil {
		return nil, err
	}
	root, err := r.writeCommit(mem, rootTree, plumbing.ZeroHash, "trust root", nil, false)
	if err != nil {
		return nil, err
	}
	r.TrustRoot = root.String()
	head := root
	for i := range opts.Commits {
		if head, err = r.nextCommit(mem, head, i); err != nil {
			return nil, err
		}
	}
	r.Head = head.String()
	// When git repacks afterwards it computes its own deltas, so the
	// initial pack is written without a delta search (go-git's search
	// took most of the generation time).
	window := uint(10)
	if opts.Repack {
		window = 0
	}
	if err := writeRepository(opts.Dir, mem, head, window); err != nil {
		return nil, err
	}
	if opts.Repack {
		cmd := exec.CommandContext(ctx, "git", "-C", opts.Dir, "repack", "-adfq")
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("benchrepo: git repack: %w: %s", err, out)
		}
	}
	return r, nil
}

// Append adds one more signed commit on main, written as loose objects (as
// a fetch of one commit would add them), and returns its SHA.
func (r *Repo) Append() (string, error) {
	repo, err := git.PlainOpen(r.Dir)
	if err != nil {
		return "", fmt.Errorf("benchrepo: %w", err)
	}
	head, err := r.nextCommit(repo.Storer, plumbing.NewHash(r.Head), r.count)
	if err != nil {
		return "", err
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), head)
	if err := repo.Storer.SetReference(ref); err != nil {
		return "", fmt.Errorf("benchrepo: %w", err)
	}
	if st, ok := repo.Storer.(*filesystem.Storage); ok {
		_ = st.Close()
	}
	r.Head = head.String()
	return r.Head, nil
}

type objectWriter interface {
	NewEncodedObject() plumbing.EncodedObject
	SetEncodedObject(plumbing.EncodedObject) (plumbing.Hash, error)
}

func (r *Repo) nextCommit(w objectWriter, parent plumbing.Hash, i int) (plumbing.Hash, error) {
	app := i % apps
	r.tree.set(app, fmt.Sprintf("app: app-%03d\nrevision: %d\nreplicas: %d\n", app, i, 1+i%5))
	tree, err := r.tree.write(w)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	r.count++
	s := r.signers[i%len(r.signers)]
	return r.writeCommit(w, tree, parent, fmt.Sprintf("app-%03d: revision %d", app, i), s, r.forge[r.count])
}

func newSigner(format Format, i int) (*signer, error) {
	s := &signer{name: fmt.Sprintf("signer%d", i), email: fmt.Sprintf("signer%d@bench.invalid", i)}
	switch format {
	case SSH:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("benchrepo: %w", err)
		}
		if s.ssh, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("benchrepo: %w", err)
		}
	case OpenPGP:
		// Ed25519, gpg's default algorithm since 2.3.
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256}
		e, err := openpgp.NewEntity(s.name, "", s.email, cfg)
		if err != nil {
			return nil, fmt.Errorf("benchrepo: %w", err)
		}
		s.pgp = e
	default:
		return nil, fmt.Errorf("benchrepo: unknown format %q", format)
	}
	return s, nil
}

// policy returns the trust policy YAML and fills the git-side key files.
func (r *Repo) policy() (string, error) {
	var b, allowed, owner strings.Builder
	var pub bytes.Buffer
	names := make([]string, len(r.signers))
	b.WriteString("version: 1\nsigners:\n")
	for i, s := range r.signers {
		names[i] = s.name
		fmt.Fprintf(&b, "  %s:\n    keys:\n", s.name)
		switch r.Format {
		case SSH:
			line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.ssh.PublicKey())))
			fmt.Fprintf(&b, "      - ssh: %q\n", line)
			fmt.Fprintf(&allowed, "%s namespaces=\"git\" %s\n", s.email, line)
		case OpenPGP:
			var one bytes.Buffer
			if err := armorPublic(&one, s.pgp); err != nil {
				return "", err
			}
			pub.Write(one.Bytes())
			b.WriteString("      - openpgp: |\n")
			for _, l := range strings.Split(strings.TrimRight(one.String(), "\n"), "\n") {
				b.WriteString("          " + l + "\n")
			}
			fmt.Fprintf(&owner, "%X:6:\n", s.pgp.PrimaryKey.Fingerprint)
		}
	}
	fmt.Fprintf(&b, "rules:\n  - paths: [\".gitgate/**\"]\n    signers: [%s]\n", names[0])
	fmt.Fprintf(&b, "  - paths: [\"apps/**\"]\n    signers: [%s]\n", strings.Join(names, ", "))
	r.AllowedSigners, r.PublicKeys, r.OwnerTrust = allowed.String(), pub.String(), owner.String()
	return b.String(), nil
}

func armorPublic(w io.Writer, e *openpgp.Entity) error {
	aw, err := armorEncode(w, openpgp.PublicKeyType)
	if err != nil {
		return err
	}
	if err := e.Serialize(aw); err != nil {
		return fmt.Errorf("benchrepo: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("benchrepo: %w", err)
	}
	// The armor ends without a newline; blocks must start on their own line.
	_, err = io.WriteString(w, "\n")
	return err
}

// writeCommit builds a commit object exactly as git writes one and, with a
// signer, signs the unsigned object and inserts the gpgsig header after the
// committer line; forged, it signs other bytes instead.
func (r *Repo) writeCommit(w objectWriter, tree, parent plumbing.Hash, msg string, s *signer, forged bool) (plumbing.Hash, error) {
	r.now = r.now.Add(time.Minute)
	name, email := "bench", "bench@bench.invalid"
	if s != nil {
		name, email = s.name, s.email
	}
	var hdr bytes.Buffer
	fmt.Fprintf(&hdr, "tree %s\n", tree)
	if !parent.IsZero() {
		fmt.Fprintf(&hdr, "parent %s\n", parent)
	}
	ident := fmt.Sprintf("%s <%s> %d +0000", name, email, r.now.Unix())
	fmt.Fprintf(&hdr, "author %s\ncommitter %s\n", ident, ident)
	body := "\n" + msg + "\n"
	payload := append(slices.Clone(hdr.Bytes()), body...)
	raw := payload
	if s != nil {
		signed := payload
		if forged {
			signed = append(slices.Clone(payload), "forged"...)
		}
		sig, err := sign(s, signed)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		lines := strings.Split(strings.TrimRight(string(sig), "\n"), "\n")
		raw = append(hdr.Bytes(), "gpgsig "+strings.Join(lines, "\n ")+"\n"...)
		raw = append(raw, body...)
	}
	return writeObject(w, plumbing.CommitObject, raw)
}

func sign(s *signer, payload []byte) ([]byte, error) {
	if s.ssh != nil {
		sig, err := sshsig.Sign(bytes.NewReader(payload), s.ssh, sshsig.HashSHA512, "git")
		if err != nil {
			return nil, fmt.Errorf("benchrepo: ssh sign: %w", err)
		}
		return sshsig.Armor(sig), nil
	}
	var out bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&out, s.pgp, bytes.NewReader(payload), &packet.Config{DefaultHash: crypto.SHA256}); err != nil {
		return nil, fmt.Errorf("benchrepo: openpgp sign: %w", err)
	}
	return out.Bytes(), nil
}

func writeObject(w objectWriter, t plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	obj := w.NewEncodedObject()
	obj.SetType(t)
	obj.SetSize(int64(len(data)))
	ow, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("benchrepo: %w", err)
	}
	if _, err := ow.Write(data); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("benchrepo: %w", err)
	}
	if err := ow.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("benchrepo: %w", err)
	}
	h, err := w.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("benchrepo: %w", err)
	}
	return h, nil
}

// writeRepository initializes a bare repository at dir and stores every
// object of mem in one packfile, main at head; a delta window of 0 writes
// every object whole, otherwise deltas are searched as git gc would.
func writeRepository(dir string, mem *memory.Storage, head plumbing.Hash, window uint) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return fmt.Errorf("benchrepo: %w", err)
	}
	repo, err := git.PlainInit(dir, true)
	if err != nil {
		return fmt.Errorf("benchrepo: init %s: %w", dir, err)
	}
	st, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return errors.New("benchrepo: unexpected storage")
	}
	defer func() { _ = st.Close() }()
	var hashes []plumbing.Hash
	for h := range mem.Objects {
		hashes = append(hashes, h)
	}
	pw, err := st.PackfileWriter()
	if err != nil {
		return fmt.Errorf("benchrepo: %w", err)
	}
	if _, err := packfile.NewEncoder(pw, mem, false).Encode(hashes, window); err != nil {
		_ = pw.Close()
		return fmt.Errorf("benchrepo: pack: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("benchrepo: pack: %w", err)
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), head)
	if err := st.SetReference(ref); err != nil {
		return fmt.Errorf("benchrepo: %w", err)
	}
	return st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, ref.Name()))
}
