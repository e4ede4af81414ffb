package provenance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// DefaultFetchTimeout bounds one clone or fetch when FetchOptions.Timeout is
// zero. Two minutes fits a first clone of a large configuration repository
// over a slow link; a hung server cannot stall a reconciler for longer.
const DefaultFetchTimeout = 2 * time.Minute

// largeObjectThreshold is the size above which go-git hands out objects as
// lazy readers instead of loading them whole, so that the size caps applied
// when reading (maxCommitSize, maxTreeSize, Snapshot limits) actually bound
// memory.
const largeObjectThreshold = 1 << 20

// remoteName is the remote a cached clone fetches from; its branches are kept
// under refs/remotes/origin/ as in any clone.
const remoteName = "origin"

// Repository is a Git repository opened for reading objects and refs.
type Repository struct {
	mu       sync.Mutex // guards storage reads; see readObject
	git      *git.Repository
	storage  *filesystem.Storage
	location string
	// branchPrefix is where branches live: refs/heads/ for a local
	// repository, refs/remotes/origin/ for a cached clone.
	branchPrefix string
	shallow      map[plumbing.Hash]bool
	// packs reads packed objects fast; nil when unavailable (go-git then
	// reads everything).
	packs *packSet
}

// Open opens the local repository at path: a work tree's top folder or a bare
// repository. Parent folders are not searched, so a mistyped path inside some
// other repository is not silently accepted.
func Open(path string) (*Repository, error) {
	return open(path, path, plumbing.ReferenceName("refs/heads/"))
}

func open(path, location string, branchPrefix plumbing.ReferenceName) (*Repository, error) {
	if path == "" {
		return nil, inputErrorf(ErrRepository, "no repository path given")
	}
	located, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, inputErrorf(ErrRepository, "open %s: %v", location, err)
	}
	fsStorage, ok := located.Storer.(*filesystem.Storage)
	if !ok {
		return nil, inputErrorf(ErrRepository, "open %s: unexpected storage %T", location, located.Storer)
	}
	// Reopen the same folder with descriptors kept open: the default storage
	// reopens the packfile for every object read, which dominates the cost of
	// walking thousands of commits.
	storage := filesystem.NewStorageWithOptions(fsStorage.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{
		KeepDescriptors:      true,
		LargeObjectThreshold: largeObjectThreshold,
	})
	repo, err := git.Open(storage, nil)
	if err != nil {
		_ = storage.Close()
		return nil, inputErrorf(ErrRepository, "open %s: %v", location, err)
	}
	shallowList, err := storage.Shallow()
	if err != nil {
		_ = storage.Close()
		return nil, inputErrorf(ErrRepository, "open %s: read shallow list: %v", location, err)
	}
	r := &Repository{git: repo, storage: storage, location: location, branchPrefix: string(branchPrefix)}
	r.packs = openPacks(fsStorage.Filesystem())
	if len(shallowList) > 0 {
		r.shallow = make(map[plumbing.Hash]bool, len(shallowList))
		for _, h := range shallowList {
			r.shallow[h] = true
		}
	}
	return r, nil
}

// Close releases the open packfiles.
func (r *Repository) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.packs.close()
	return r.storage.Close()
}

// Location is the path or URL the repository was opened from.
func (r *Repository) Location() string { return r.location }

// Shallow reports whether the repository's history is cut off (a shallow
// clone); full verification refuses such a repository.
func (r *Repository) Shallow() bool { return len(r.shallow) > 0 }

// BranchHead returns the commit SHA that branch points to.
func (r *Repository) BranchHead(branch string) (string, error) {
	if err := checkBranchName(branch); err != nil {
		return "", err
	}
	name := plumbing.ReferenceName(r.branchPrefix + branch)
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := r.git.Reference(name, true)
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return "", inputErrorf(ErrUnknownBranch, "branch %q not found in %s", branch, r.location)
		}
		return "", inputErrorf(ErrRepository, "resolve branch %q in %s: %v", branch, r.location, err)
	}
	return ref.Hash().String(), nil
}

// checkBranchName applies the parts of git check-ref-format that matter for
// a name we put into a ref and a refspec.
func checkBranchName(b string) error {
	bad := b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".") || strings.HasSuffix(b, ".lock") || strings.Contains(b, "..") ||
		strings.Contains(b, "//") || strings.Contains(b, "@{") || b == "@"
	for _, c := range b {
		if c <= ' ' || c == 0x7f || strings.ContainsRune(`~^:?*[\`, c) {
			bad = true
		}
	}
	for _, seg := range strings.Split(b, "/") {
		if strings.HasPrefix(seg, ".") {
			bad = true
		}
	}
	if bad {
		return inputErrorf(ErrUnknownBranch, "%q is not a valid branch name", b)
	}
	return nil
}

// HTTPSAuth authenticates to an https remote with basic auth; for a token,
// put the token in Password and any non-empty user name (e.g. "git") in
// Username.
type HTTPSAuth struct {
	Username string
	Password string
}

// SSHAuth authenticates to an ssh remote with a private key. KnownHosts (the
// content of a known_hosts file) is required: gitgate never accepts an
// unknown host key.
type SSHAuth struct {
	User       string // default: the URL's user, else "git"
	PrivateKey []byte // PEM or OpenSSH format
	Passphrase string
	KnownHosts []byte
}

// FetchOptions says what to fetch and how.
type FetchOptions struct {
	URL    string
	Branch string
	// CacheDir holds one bare clone per URL (see DefaultCacheDir).
	CacheDir string
	HTTPS    *HTTPSAuth
	SSH      *SSHAuth
	// CABundle adds PEM CA certificates for https servers.
	CABundle []byte
	// Timeout bounds the network operation; DefaultFetchTimeout when zero.
	Timeout time.Duration
	// MaxBytes caps what one fetch may add to the clone (the packfile it
	// receives); DefaultMaxFetchBytes when zero, no cap when negative.
	MaxBytes int64
}

// DefaultMaxFetchBytes caps one fetch at 1 GiB: far above any repository of
// manifests, and low enough that a hostile or broken remote cannot fill the
// disk of the node the controller runs on.
const DefaultMaxFetchBytes int64 = 1 << 30

// DefaultCacheDir is where clones go when no cache folder is configured:
// <user cache dir>/gitgate/repos.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the user cache folder: %w", err)
	}
	return filepath.Join(base, "gitgate", "repos"), nil
}

// Fetch brings the cached bare clone of opts.URL up to date with the remote's
// branch opts.Branch (cloning it on first use) and opens it. Only the branch
// is fetched, without tags, with a forced refspec so that a rewound remote
// branch is seen as rewound (the ledger then refuses it). The clone is keyed
// by a hash of the URL, so different URLs never share objects or refs.
func Fetch(ctx context.Context, opts FetchOptions) (*Repository, error) {
	ep, err := ParseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if err := checkBranchName(opts.Branch); err != nil {
		return nil, err
	}
	auth, err := transportAuth(ep, opts)
	if err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		return nil, inputErrorf(ErrRepository, "no cache folder for clones")
	}
	if err := os.MkdirAll(opts.CacheDir, 0o700); err != nil {
		return nil, inputErrorf(ErrRepository, "create cache folder: %v", err)
	}
	sum := sha256.Sum256([]byte(opts.URL))
	dir := filepath.Join(opts.CacheDir, hex.EncodeToString(sum[:16]))
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	unlock, err := lockDir(ctx, dir+".lock")
	if err != nil {
		return nil, inputErrorf(ErrRepository, "lock cache folder: %v", err)
	}
	defer unlock()
	if err := fetchInto(ctx, dir, ep, opts, auth); err != nil {
		return nil, err
	}
	return open(dir, opts.URL, plumbing.ReferenceName("refs/remotes/"+remoteName+"/"))
}

// fetchInto fetches into the clone at dir, creating it first in a temporary
// folder that is renamed into place only after the first fetch succeeded, so
// an interrupted clone never leaves a half-filled cache entry behind.
func fetchInto(ctx context.Context, dir string, ep Endpoint, opts FetchOptions, auth transport.AuthMethod) error {
	target := dir
	fresh := false
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
		if err != nil {
			return inputErrorf(ErrRepository, "create clone folder: %v", err)
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		if _, err := git.PlainInit(tmp, true); err != nil {
			return inputErrorf(ErrRepository, "init clone of %s: %v", ep.URL, err)
		}
		target, fresh = tmp, true
	}
	repo, err := git.PlainOpen(target)
	if err != nil {
		return inputErrorf(ErrRepository, "open clone of %s: %v", ep.URL, err)
	}
	if err := ensureRemote(repo, ep.URL); err != nil {
		return err
	}
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/%s/%s", opts.Branch, remoteName, opts.Branch))
	fetchCtx, finishCap := capFetch(ctx, target, opts.MaxBytes)
	err = repo.FetchContext(fetchCtx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{spec},
		Auth:       auth,
		Tags:       git.NoTags,
		Force:      true,
		CABundle:   opts.CABundle,
	})
	if fsStorage, ok := repo.Storer.(*filesystem.Storage); ok {
		_ = fsStorage.Close()
	}
	if capErr := finishCap(); capErr != nil {
		// The refs may already point at the oversized pack's objects, so the
		// whole clone goes; the next fetch starts from scratch.
		_ = os.RemoveAll(target)
		return &InputError{Err: fmt.Errorf("fetch %s: %w", ep.URL, capErr)}
	}
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return inputErrorf(ErrRepository, "fetch %s: %v (%v)", ep.URL, err, ctxErr)
		}
		return inputErrorf(ErrRepository, "fetch %s branch %s: %v", ep.URL, opts.Branch, err)
	}
	if fresh {
		if err := os.Rename(target, dir); err != nil {
			return inputErrorf(ErrRepository, "move clone into the cache: %v", err)
		}
	}
	return nil
}

// ensureRemote points the clone's origin at url; the cache key is a hash of
// the URL, so a mismatch means the folder was tampered with or collided.
func ensureRemote(repo *git.Repository, url string) error {
	remote, err := repo.Remote(remoteName)
	if errors.Is(err, git.ErrRemoteNotFound) {
		_, err = repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{url}})
		if err != nil {
			return inputErrorf(ErrRepository, "configure clone of %s: %v", url, err)
		}
		return nil
	}
	if err != nil {
		return inputErrorf(ErrRepository, "read clone configuration: %v", err)
	}
	if urls := remote.Config().URLs; len(urls) != 1 || urls[0] != url {
		return inputErrorf(ErrRepository, "cached clone fetches from %v, not %s; remove it from the cache folder", urls, url)
	}
	return nil
}

// transportAuth turns the plain option structs into go-git auth methods,
// refusing combinations that do not fit the URL's transport.
func transportAuth(ep Endpoint, opts FetchOptions) (transport.AuthMethod, error) {
	switch ep.Scheme {
	case "https":
		if opts.SSH != nil {
			return nil, inputErrorf(ErrBadURL, "ssh credentials given for https URL %s", ep.URL)
		}
		if opts.HTTPS == nil {
			return nil, nil
		}
		return &githttp.BasicAuth{Username: opts.HTTPS.Username, Password: opts.HTTPS.Password}, nil
	case "ssh":
		if opts.HTTPS != nil {
			return nil, inputErrorf(ErrBadURL, "https credentials given for ssh URL %s", ep.URL)
		}
		if opts.SSH == nil {
			// go-git's default: the ssh agent and the user's known_hosts.
			return nil, nil
		}
		return sshAuth(ep, opts.SSH)
	default:
		if opts.SSH != nil || opts.HTTPS != nil {
			return nil, inputErrorf(ErrBadURL, "credentials given for %s URL %s", ep.Scheme, ep.URL)
		}
		return nil, nil
	}
}

func sshAuth(ep Endpoint, a *SSHAuth) (transport.AuthMethod, error) {
	if len(a.KnownHosts) == 0 {
		return nil, inputErrorf(ErrRepository, "ssh authentication needs known_hosts entries for %s", ep.Host)
	}
	user := a.User
	if user == "" {
		user = ep.User
	}
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, a.PrivateKey, a.Passphrase)
	if err != nil {
		return nil, inputErrorf(ErrRepository, "ssh private key: %v", err)
	}
	callback, err := knownHostsCallback(a.KnownHosts)
	if err != nil {
		return nil, err
	}
	keys.HostKeyCallback = callback
	return keys, nil
}
