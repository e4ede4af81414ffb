package certs

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// StoredCA is the CA material a Store keeps: PEM certificates and their
// PKCS #8 PEM keys.
type StoredCA struct {
	Certs []byte
	Keys  []byte
}

// Store keeps the CAs where every replica finds them.
type Store interface {
	// Load returns what is stored (empty when nothing is) and a version
	// to pass to Save ("" when there is no record at all).
	Load(ctx context.Context) (StoredCA, string, error)
	// Save writes ca if the record is still at version ("" creates it)
	// and returns the new version; a record changed or created meanwhile
	// is an error wrapping ErrConflict.
	Save(ctx context.Context, ca StoredCA, version string) (string, error)
}

// ErrConflict is wrapped by Store.Save when another writer came first.
var ErrConflict = errors.New("stored CA changed concurrently")

// Keys of the CA Secret's data.
const (
	SecretCertsKey = "ca.crt"
	SecretKeysKey  = "ca.key"
)

// SecretStore keeps the CAs in a Secret, so that every replica of the
// webhook signs with the same CA. Only gitgate's service account should be
// able to read it: the keys in it can sign certificates the API server
// trusts for the webhook.
type SecretStore struct {
	Client    corev1client.SecretsGetter
	Namespace string
	Name      string
}

var _ Store = (*SecretStore)(nil)

// Load implements Store; the version is the Secret's resourceVersion.
func (s *SecretStore) Load(ctx context.Context) (StoredCA, string, error) {
	sec, err := s.Client.Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return StoredCA{}, "", nil
	}
	if err != nil {
		return StoredCA{}, "", fmt.Errorf("get secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return StoredCA{Certs: sec.Data[SecretCertsKey], Keys: sec.Data[SecretKeysKey]}, sec.ResourceVersion, nil
}

// Save implements Store, with the Secret's resourceVersion as the
// precondition.
func (s *SecretStore) Save(ctx context.Context, ca StoredCA, version string) (string, error) {
	secrets := s.Client.Secrets(s.Namespace)
	if version == "" {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name:      s.Name,
				Namespace: s.Namespace,
				Labels:    map[string]string{"app.kubernetes.io/name": "gitgate", "app.kubernetes.io/component": "webhook-ca"},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{SecretCertsKey: ca.Certs, SecretKeysKey: ca.Keys},
		}
		created, err := secrets.Create(ctx, sec, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("create secret %s/%s: %w", s.Namespace, s.Name, ErrConflict)
		}
		if err != nil {
			return "", fmt.Errorf("create secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		return created.ResourceVersion, nil
	}
	sec, err := secrets.Get(ctx, s.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("secret %s/%s was deleted: %w", s.Namespace, s.Name, ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("get secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	if sec.ResourceVersion != version {
		return "", fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, ErrConflict)
	}
	if sec.Data == nil {
		sec.Data = map[string][]byte{}
	}
	sec.Data[SecretCertsKey], sec.Data[SecretKeysKey] = ca.Certs, ca.Keys
	updated, err := secrets.Update(ctx, sec, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return "", fmt.Errorf("update secret %s/%s: %w", s.Namespace, s.Name, ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("update secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return updated.ResourceVersion, nil
}
