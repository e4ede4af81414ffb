package receiver

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// TokenKey is the key of the shared secret in a receiver's Secret.
const TokenKey = "token"

// lookupTTL is how long SecretLookup keeps a source's receiver config.
// Without it, every request for an existing source, authenticated or not,
// would cost API calls, and a flood of forged pushes would turn into load
// on the API server; with it, a flood costs one lookup per source per TTL.
// The price: a rotated secret or a removed receiver takes effect up to
// this long after the change.
const lookupTTL = 10 * time.Second

// SecretLookup returns an Options.Lookup that reads the receiver of
// GitSource name from the cluster: its spec.receiver, and the key "token"
// of the Secret spec.receiver.secretRef names in namespace (gitgate's
// own). A GitSource that does not exist or has no receiver is ErrNotFound;
// a missing Secret or an empty token is an error (answered 500, as the
// source is misconfigured). One trailing newline of the token is dropped:
// `kubectl create secret --from-file` of a file written by echo keeps it,
// and no sender sends it.
//
// Successful lookups are kept for 10 seconds, so r may be an uncached
// reader such as the manager's APIReader (which needs only get on
// gitsources and on Secrets in namespace). The manager's cached client
// would do too, but reading a Secret through it starts a cluster-wide
// Secret informer unless its cache is limited to namespace.
func SecretLookup(r client.Reader, namespace string) func(ctx context.Context, name string) (Config, error) {
	l := &secretLookup{reader: r, namespace: namespace, ttl: lookupTTL, now: time.Now, cache: map[string]cached{}}
	return l.lookup
}

type secretLookup struct {
	reader    client.Reader
	namespace string
	ttl       time.Duration
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	cfg     Config
	expires time.Time
}

func (l *secretLookup) lookup(ctx context.Context, name string) (Config, error) {
	now := l.now()
	l.mu.Lock()
	c, ok := l.cache[name]
	if ok && now.After(c.expires) {
		delete(l.cache, name)
		ok = false
	}
	l.mu.Unlock()
	if ok {
		return c.cfg, nil
	}
	cfg, err := l.read(ctx, name)
	if err != nil {
		return Config{}, err
	}
	l.mu.Lock()
	// Only sources with a working receiver are kept, so the map is bounded
	// by the number of GitSources, not by the names senders make up.
	l.cache[name] = cached{cfg: cfg, expires: now.Add(l.ttl)}
	l.mu.Unlock()
	return cfg, nil
}

// read fetches the GitSource and its Secret.
func (l *secretLookup) read(ctx context.Context, name string) (Config, error) {
	var src v1alpha1.GitSource
	if err := l.reader.Get(ctx, types.NamespacedName{Name: name}, &src); err != nil {
		if apierrors.IsNotFound(err) {
			return Config{}, fmt.Errorf("%w: gitsource %s does not exist", ErrNotFound, name)
		}
		return Config{}, fmt.Errorf("get gitsource %s: %w", name, err)
	}
	spec := src.Spec.Receiver
	if spec == nil {
		return Config{}, fmt.Errorf("%w: gitsource %s has no receiver", ErrNotFound, name)
	}
	kind := Kind(spec.Type)
	switch kind {
	case GitHub, GitLab, Generic:
	default:
		return Config{}, fmt.Errorf("gitsource %s: unknown receiver type %q", name, spec.Type)
	}
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: l.namespace, Name: spec.SecretRef.Name}
	if err := l.reader.Get(ctx, key, &secret); err != nil {
		return Config{}, fmt.Errorf("gitsource %s: receiver secret %s: %w", name, key, err)
	}
	token := secret.Data[TokenKey]
	token = bytes.TrimSuffix(token, []byte("\n"))
	token = bytes.TrimSuffix(token, []byte("\r"))
	if len(token) == 0 {
		return Config{}, fmt.Errorf("gitsource %s: receiver secret %s has no %q or an empty one", name, key, TokenKey)
	}
	return Config{Kind: kind, Secret: bytes.Clone(token)}, nil
}
